"""``icvac recode``: code every record of a national export into ICVAC, streaming.

Every input row reaches the output, in order, with its columns unchanged; the ICVAC
columns are added at the right. Matching runs once per distinct value (``Matcher``);
per row there are only dictionary look-ups.

Output: CSV (comma-separated, UTF-8, ``\\n`` line ends, whatever the input's delimiter),
.xlsx or JSON Lines. Several acts in one record are joined with ``|`` in each ICVAC
cell, or written one row per act with ``long`` (an ``icvac_act`` column numbers them).
A blank category cell is skipped; a record with no category value at all is one
``unclassified`` act. A row shorter than the header is padded with blank cells; the cells of a
row longer than the header are kept after the ICVAC columns (in JSON Lines, as a list under
``icvac_extra_cells``), so nothing is lost, and the rows are listed in the summary. Empty
cells beyond the header (a trailing delimiter) hold nothing and are dropped. An input column
named like an added one (a file recoded before) is filled, never overwritten (see
``icvac.coder.SharedColumns``). A CSV file is read and recoded a batch of rows at a time through Arrow
(``icvac.engine``), with the output of the row-by-row path byte for byte; stdin, other inputs, an output
written through (stdout, a FIFO) and the files Arrow would read otherwise (``icvac.arrowio``) go row by
row. Provenance goes to a sidecar ``OUT.meta.json`` (no timestamp, so the
same input and mapping give byte-identical files); with output on stdout it is only in the
summary.
"""
from __future__ import annotations

import json
import os
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .coder import JOIN, RecodeOptions, Recoder, RecodeSummary, ReviewItem, SharedColumns
from .data_writers import EXTRA_CELLS_KEY, data_writer
from .formats import output_format_of, output_names
from .layout import category_layout
from .mapping import Mapping
from .matching import Matcher
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy
from .writers import (
    atomic_output,
    escaped_count,
    refuse_overwrite,
    staged_outputs,
    writes_through,
)

__all__ = ["RecodeOptions", "RecodeSummary", "ReviewItem", "recode_file", "OUTPUT_FORMATS", "JOIN",
           "sidecar_path", "EXTRA_CELLS_KEY"]

OUTPUT_FORMATS = output_names()
RAGGED_SHOWN = 20                      # ragged row numbers listed in the summary
CHUNK_ROWS = 512                       # rows coded together by the row-by-row path


def sidecar_path(output: str | os.PathLike | None) -> Path | None:
    """Where the provenance of ``output`` goes: ``OUT.meta.json`` beside it (beside the link, for a symlink);
    None for an output written through (stdout, /dev/null, a FIFO), which has no folder of its own."""
    if writes_through(output):
        return None
    return Path(f"{output}.meta.json")


def recode_file(data: str | os.PathLike, mapping: Mapping, taxonomy: Taxonomy, output: str | os.PathLike | None,
                options: RecodeOptions = RecodeOptions(), review: str | os.PathLike | None = None,
                progress: Callable[[int], None] | None = None, matcher: Matcher | None = None) -> RecodeSummary:
    """Recode ``data`` into ``output`` (``-`` for stdout) and write the review file if asked. ``progress`` is told
    each row's number as it is done. A ``matcher`` built by the caller (with ``mapping``, ``taxonomy`` and the
    options' threshold, margin and fuzzy) is used as it is: its ``matched`` count can be shown with the
    progress, and a value it matched for one file is not matched again for the next."""
    from .arrowio import ArrowRefused

    fmt = options.format or output_format_of(output)
    _refuse_overwrites(data, mapping, taxonomy, output, review)
    if matcher is None:
        matcher = Matcher(mapping, taxonomy, threshold=options.threshold, margin=options.margin,
                          fuzzy=options.fuzzy)
    try:
        return _recode_file(data, mapping, taxonomy, output, fmt, matcher, options, review, progress, arrow=True)
    except ArrowRefused:
        pass
    # a row Arrow refuses (ragged, a bad byte): nothing was written; the Python reader pads the row or reports
    # the error at its row. Outside the handler, so that the refusal (its frames, Arrow's reader) is gone.
    return _recode_file(data, mapping, taxonomy, output, fmt, matcher, options, review, progress, arrow=False)


def _recode_file(data, mapping: Mapping, taxonomy: Taxonomy, output, fmt: str, matcher: Matcher,
                 options: RecodeOptions, review, progress, arrow: bool) -> RecodeSummary:
    """CSV and Parquet files through the Arrow engine (``icvac.engine``) where ``arrow`` and the file allows
    it, else row by row, a chunk of rows at a time."""
    from .review import write_review

    summary = RecodeSummary()
    # data, sidecar and review file appear together at the end, or not at all (Ctrl-C, disk full)
    with staged_outputs() as stage:
        with open_table(data, options.read) as table:
            layout = category_layout(table.header, mapping, options.columns, variables=taxonomy.variable_roles)
            summary.missing_columns = layout.missing
            recoder = Recoder(matcher, mapping, taxonomy, layout, summary)
            recoder.review_tracked = max(recoder.review_tracked, 2 * options.review_limit)
            shared = SharedColumns(table, recoder.added_columns(options.long))
            escaped = escaped_count()
            # an output written through (stdout, a FIFO) cannot be taken back if Arrow refuses a row late
            batches = _arrow_batches(table, str(data), options.read) if arrow and not writes_through(output) else None
            with data_writer(output, fmt, options.excel_safe, stage, shared.header) as (write, handle):
                if batches is not None:
                    from .engine import BatchRecoder, write_recoded

                    coder = BatchRecoder(recoder, shared, options.long, options.read.header_row)
                    write_recoded(batches, coder, fmt, options.excel_safe, handle, write, progress)
                else:
                    _recode_chunks(_chunked(table.rows()), recoder, shared, write, options.long, progress)
            recoder.flush()
            summary.escaped_characters = escaped_count() - escaped
            input_name = Path(table.name).name
        recoder.list_review(options.review_limit)
        summary.provenance = _provenance(taxonomy, mapping, input_name, options)
        summary.provenance["columns"] = layout.recorded_columns()
        if sidecar_path(output) is not None:
            with atomic_output(sidecar_path(output), stage=stage) as handle:
                handle.write(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n")
        if review is not None:
            write_review(review, summary.review, taxonomy, stage=stage)
    return summary


# Arrow's read block: the blocks are joined into batches of 8192 rows whatever their size. On the 1M-row
# benchmark files (national / synthetic, medians of 6 alternated runs) 64 KB peaked at 110 / 112 MB against
# 113 / 116 MB with 128 KB, at 2.20 / 2.44 s against 2.11 / 2.47 s
BLOCK_BYTES = 64 << 10


def _arrow_batches(table, path: str, options: ReadOptions):
    from . import arrowio

    return arrowio.table_batches(table, path, options, rows=arrowio.BATCH_ROWS, block=BLOCK_BYTES)


def _refuse_overwrites(data, mapping: Mapping, taxonomy: Taxonomy, output, review) -> None:
    inputs = (data, mapping.path, taxonomy.path)
    refuse_overwrite(output, *inputs)
    if sidecar_path(output) is not None:
        refuse_overwrite(sidecar_path(output), *inputs, review)
    if review is not None:
        refuse_overwrite(review, *inputs, output)


def _chunked(rows: Iterator[tuple[int, list[str]]], size: int = CHUNK_ROWS
            ) -> Iterator[tuple[tuple[int, ...], tuple[list[str], ...]]]:
    """A reader's numbered rows ``(number, cells)`` as chunks ``(numbers, rows)``."""
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        numbers, cells = zip(*chunk, strict=True)  # each item is (number, cells)
        yield numbers, cells


def _recode_chunks(chunks: Iterator[tuple[Sequence[int], Sequence[list[str]]]], recoder: "Recoder",
                   shared: "SharedColumns", write, long: bool, progress) -> None:
    """Recode chunks of rows ``(numbers, rows)``: a column at a time (``Recoder.chunk``) where every row has
    the header's width and the records are coded wide, with no condition and no column of the file to write
    into; else row by row."""
    width, summary = shared.width, recoder.summary
    whole = not long and not shared.columns and not recoder.condition_roles
    for numbers, rows in chunks:
        if whole and all(map(width.__eq__, map(len, rows))):
            write(recoder.chunk(rows))
            summary.rows_in += len(rows)
            summary.rows_out += len(rows)
            if progress:
                for number in numbers:
                    progress(number)
        else:
            _recode_rows(zip(numbers, rows, strict=False), recoder, shared, write, long, progress)


def _recode_rows(rows: Iterator[tuple[int, list[str]]], recoder: "Recoder", shared: "SharedColumns", write,
                 long: bool, progress) -> None:
    """Row by row: ragged rows, long output, conditions, columns of the file written into."""
    width, summary, coded = shared.width, recoder.summary, recoder.rows
    merge = shared.merge if shared.columns else None
    for number, cells in rows:
        summary.rows_in += 1
        extra: list[str] = []
        if len(cells) != width:
            _note_ragged(summary, number)
            extra = cells[width:]
            while extra and not extra[-1]:
                extra.pop()
            summary.rows_with_extra_cells += bool(extra)
            cells = (cells + [""] * width)[:width]
        for row in coded(cells, long):
            if merge:
                row = merge(row, number)
            write([row + extra if extra else row])
            summary.rows_out += 1
        if progress:
            progress(number)


def _note_ragged(summary: RecodeSummary, number: int) -> None:
    summary.ragged_rows += 1
    if len(summary.ragged_row_numbers) < RAGGED_SHOWN:
        summary.ragged_row_numbers.append(number)


def _provenance(taxonomy: Taxonomy, mapping: Mapping, input_name: str, options: RecodeOptions) -> dict:
    from . import __version__

    return {
        "icvac_version": __version__,
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "status": taxonomy.status},
        "mapping": mapping.provenance(), "input": input_name,
        "options": {"threshold": options.threshold, "margin": options.margin, "fuzzy": options.fuzzy,
                    "long": options.long},
    }
