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
``_SharedColumns``). A CSV file is read and recoded a batch of rows at a time through Arrow
(``icvac.engine``), with the output of the row-by-row path byte for byte; stdin, other inputs, an output
written through (stdout, a FIFO) and the files Arrow would read otherwise (``icvac.arrowio``) go row by
row. Provenance goes to a sidecar ``OUT.meta.json`` (no timestamp, so the
same input and mapping give byte-identical files); with output on stdout it is only in the
summary.
"""
from __future__ import annotations

import json
import operator
import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .ages import BAD, age_group, parse_age, record_age
from .data_writers import EXTRA_CELLS_KEY, data_writer
from .errors import UsageError
from .formats import output_format_of, output_names
from .layout import Layout, category_layout
from .mapping import Mapping
from .matching import DEFAULT_MARGIN, DEFAULT_THRESHOLD, UNCLASSIFIED, Match, Matcher, resolve_conditions
from .parallel import chunked
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy
from .text import fold
from .writers import atomic_output, escaped_count, refuse_overwrite, staged_outputs, writes_through

__all__ = ["RecodeOptions", "RecodeSummary", "ReviewItem", "recode_file", "OUTPUT_FORMATS", "JOIN",
           "sidecar_path", "EXTRA_CELLS_KEY"]

OUTPUT_FORMATS = output_names()
JOIN = "|"
ADDED = ("icvac_code", "icvac_level1", "icvac_title", "icvac_match", "icvac_score")
RAGGED_SHOWN = 20                      # ragged row numbers listed in the summary
CACHE_LIMIT = 10_000                   # distinct age cells remembered
CODING_LIMIT = 10_000                  # distinct category cells (with condition inputs) remembered
REVIEW_LIMIT = 10_000                  # distinct values listed for review, the most frequent first
REVIEW_TRACKED = 10_000                # distinct values to review counted at once, at least (see _note_review)


@dataclass(frozen=True)
class RecodeOptions:
    format: str | None = None          # csv, xlsx or jsonl; from the output's extension when None
    columns: dict[str, str] = field(default_factory=dict)  # --column ROLE=NAME
    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    fuzzy: bool = True
    long: bool = False
    excel_safe: bool = False
    read: ReadOptions = ReadOptions()
    jobs: int | None = None            # kept for the CLI's --jobs, which only validate uses now
    review_limit: int = REVIEW_LIMIT   # distinct values listed for review; the rest are counted


@dataclass
class ReviewItem:
    """One distinct national value that a person should look at."""

    source_code: str
    source_label: str
    match: Match
    count: int = 0


@dataclass
class RecodeSummary:
    rows_in: int = 0
    rows_out: int = 0
    acts: int = 0
    by_method: Counter = field(default_factory=Counter)
    unclassified_records: int = 0
    ragged_rows: int = 0
    ragged_row_numbers: list[int] = field(default_factory=list)  # the first RAGGED_SHOWN of them
    rows_with_extra_cells: int = 0  # ragged rows whose cells beyond the header were kept
    unmapped_values: Counter = field(default_factory=Counter)  # role -> records whose value did not map
    missing_columns: tuple[str, ...] = ()  # columns the mapping declares that the input lacks
    escaped_characters: int = 0  # lone surrogates written backslash-escaped (writers.ENCODING_ERRORS)
    review: list[ReviewItem] = field(default_factory=list)
    # beyond RecodeOptions.review_limit: the limit, the distinct values and the records not listed
    review_not_listed: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "rows_in": self.rows_in, "rows_out": self.rows_out, "acts": self.acts,
            "by_method": {m: self.by_method[m] for m in sorted(self.by_method)},
            "unclassified_records": self.unclassified_records, "review_items": len(self.review),
            "ragged_rows": self.ragged_rows, "ragged_row_numbers": list(self.ragged_row_numbers),
            "rows_with_extra_cells": self.rows_with_extra_cells, "missing_columns": list(self.missing_columns),
            "unmapped_values": dict(sorted(self.unmapped_values.items())),
            "escaped_characters": self.escaped_characters,
            **({"review_not_listed": self.review_not_listed} if self.review_not_listed else {}),
            "provenance": self.provenance,
        }


def sidecar_path(output: str | os.PathLike | None) -> Path | None:
    """Where the provenance of ``output`` goes: ``OUT.meta.json`` beside it (beside the link, for a symlink);
    None for an output written through (stdout, /dev/null, a FIFO), which has no folder of its own."""
    if writes_through(output):
        return None
    return Path(f"{output}.meta.json")


def recode_file(data: str | os.PathLike, mapping: Mapping, taxonomy: Taxonomy, output: str | os.PathLike | None,
                options: RecodeOptions = RecodeOptions(), review: str | os.PathLike | None = None,
                progress: Callable[[int], None] | None = None) -> RecodeSummary:
    """Recode ``data`` into ``output`` (``-`` for stdout) and write the review file if asked."""
    from .arrowio import ArrowRefused

    fmt = options.format or output_format_of(output)
    _refuse_overwrites(data, mapping, taxonomy, output, review)
    matcher = Matcher(mapping, taxonomy, threshold=options.threshold, margin=options.margin, fuzzy=options.fuzzy)
    try:
        return _recode_file(data, mapping, taxonomy, output, fmt, matcher, options, review, progress, arrow=True)
    except ArrowRefused:
        pass
    # a row Arrow refuses (ragged, a bad byte): nothing was written; the Python reader pads the row or reports
    # the error at its row. Outside the handler, so that the refusal (its frames, Arrow's reader) is gone.
    return _recode_file(data, mapping, taxonomy, output, fmt, matcher, options, review, progress, arrow=False)


def _recode_file(data, mapping: Mapping, taxonomy: Taxonomy, output, fmt: str, matcher: Matcher,
                 options: RecodeOptions, review, progress, arrow: bool) -> RecodeSummary:
    """CSV files through the Arrow engine (``icvac.engine``) where ``arrow`` and the file allows it, else row
    by row, a chunk of rows at a time."""
    from .review import write_review

    summary = RecodeSummary()
    # data, sidecar and review file appear together at the end, or not at all (Ctrl-C, disk full)
    with staged_outputs() as stage:
        with open_table(data, options.read) as table:
            layout = category_layout(table.header, mapping, options.columns, variables=taxonomy.variable_roles)
            summary.missing_columns = layout.missing
            recoder = _Recoder(matcher, mapping, taxonomy, layout, summary)
            recoder.review_tracked = max(REVIEW_TRACKED, 2 * options.review_limit)
            shared = _SharedColumns(table, recoder.added_columns(options.long))
            escaped = escaped_count()
            # an output written through (stdout, a FIFO) cannot be taken back if Arrow refuses a row late
            batches = _arrow_batches(table, str(data), options.read) if arrow and not writes_through(output) else None
            with data_writer(output, fmt, options.excel_safe, stage, shared.header) as (write, handle):
                if batches is not None:
                    from .engine import BatchRecoder, write_recoded

                    coder = BatchRecoder(recoder, shared, options.long, options.read.header_row)
                    write_recoded(batches, coder, fmt, options.excel_safe, handle, write, progress)
                else:
                    _recode_chunks(chunked(table.rows()), recoder, shared, write, options.long, progress)
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


def _arrow_batches(table, path: str, options: ReadOptions):
    from .arrowio import csv_batches

    return csv_batches(table, path, options)


def _refuse_overwrites(data, mapping: Mapping, taxonomy: Taxonomy, output, review) -> None:
    inputs = (data, mapping.path, taxonomy.path)
    refuse_overwrite(output, *inputs)
    if sidecar_path(output) is not None:
        refuse_overwrite(sidecar_path(output), *inputs, review)
    if review is not None:
        refuse_overwrite(review, *inputs, output)


def _recode_chunks(chunks: Iterator[tuple[Sequence[int], Sequence[list[str]]]], recoder: "_Recoder",
                   shared: "_SharedColumns", write, long: bool, progress) -> None:
    """Recode chunks of rows ``(numbers, rows)``, the same whether one process reads the whole file or a
    worker a block of it: a column at a time (``_Recoder.chunk``) where every row has the header's width and
    the records are coded wide, with no condition and no column of the file to write into; else row by row."""
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
            _recode_rows(zip(numbers, rows), recoder, shared, write, long, progress)


def _recode_rows(rows: Iterator[tuple[int, list[str]]], recoder: "_Recoder", shared: "_SharedColumns", write,
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


class _SharedColumns:
    """Input columns named like a column recode adds (a file recoded before, or one carrying its own
    ``icvac_code``). A record holds one value per name, so such a column is not added twice: recode writes
    into it where it is blank or already holds the same value, and refuses to overwrite anything else."""

    def __init__(self, table, added: list[str]):
        width = len(table.header)
        position = {name: i for i, name in enumerate(table.header)}
        self.source = Path(table.name).name
        self.width = width
        self.columns = [(position[name], width + k, name) for k, name in enumerate(added) if name in position]
        dropped = {j for _, j, _ in self.columns}
        self.keep = [i for i in range(width + len(added)) if i not in dropped]
        self.header = list(table.header) + [name for name in added if name not in position]

    def merge(self, row: list[str], number: int) -> list[str]:
        for i, j, _ in self.columns:
            if row[i] and row[i] != row[j]:
                names = ", ".join(name for _, _, name in self.columns)
                raise UsageError(f"{self.source}: row {number}: this file already has {names}, holding values "
                                 "other than this recode's: it looks recoded already; rename or drop those columns")
            row[i] = row[j]
        return [row[i] for i in self.keep]


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


@dataclass(eq=False)  # hashed by identity: the tally's key
class _Coding:
    """What one record's category cells become: its acts, the cells added for them, the values to review."""

    acts: tuple[tuple[str, str, str, str, str], ...]
    wide: list[str]                       # one cell per added column, the acts joined with JOIN
    long: tuple[list[str], ...]           # per act: its number and cells
    reviews: tuple[tuple[str, str, Match], ...]


_WIDE = operator.attrgetter("wide")


def _REVIEW_ORDER(item: ReviewItem) -> tuple:  # noqa: N802  (a sort key, as a constant)
    return -item.count, item.source_label, item.source_code


class _Recoder:
    """The work on each record, all of it dictionary look-ups on caches keyed by distinct values: a record's
    category cells are coded once per distinct cells (and condition inputs), and counted into the summary in
    bulk. ``chunk`` does a chunk of records a column at a time, ``rows`` one record."""

    def __init__(self, matcher: Matcher, mapping: Mapping, taxonomy: Taxonomy, layout: Layout,
                 summary: RecodeSummary):
        self.matcher = matcher
        self.taxonomy = taxonomy
        self.layout = layout
        self.summary = summary
        self.review: dict[tuple[str, str], ReviewItem] = {}
        self.roles = list(layout.variables)
        self.variables = [(column, _ValueMap(taxonomy, role, mapping.values.get(role, {})))
                          for role, column in layout.variables.items()]
        has_age = layout.age is not None or layout.birth is not None
        self.ages = _Ages(taxonomy, layout) if has_age else None
        self.category_cells = operator.itemgetter(*[c for slot in layout.slots for c in slot if c is not None])
        # the inputs any condition of the mapping tests: part of the key a coding is cached under
        self.condition_roles = tuple(sorted({t.role for entry in mapping.entries for c in entry.conditions
                                             for t in c.tests}))
        self.codings: dict = {}
        self.tally: Counter[_Coding] = Counter()  # records per coding, not yet in the summary
        self.review_tracked = REVIEW_TRACKED
        self.review_values = self.review_records = 0  # distinct values and records noted for review
        self.review_forgot = False  # whether rare values were forgotten (_forget_rare_reviews)

    def added_columns(self, long: bool) -> list[str]:
        extra = [f"icvac_{role}" for role in self.layout.variables]
        if self.ages:
            extra.append("icvac_victim_age_group")
        return (["icvac_act"] if long else []) + list(ADDED) + extra

    def start(self, summary: RecodeSummary) -> None:
        """Count from here on into ``summary``, with a review list of its own (a worker's block)."""
        self.summary = summary
        self.review = {}
        self.review_values = self.review_records = 0
        self.review_forgot = False

    def rows(self, cells: list[str], long: bool) -> list[list[str]]:
        tail = [values[cells[column]] for column, values in self.variables]
        if UNCLASSIFIED in tail:
            for role, code in zip(self.roles, tail):
                if code == UNCLASSIFIED:
                    self.summary.unmapped_values[role] += 1
        age = None
        if self.ages:
            age, group = self.ages.get(cells)
            tail.append(group)
        key = self.category_cells(cells)
        inputs: dict = {}
        if self.condition_roles:
            inputs = dict(zip(self.roles, tail))
            inputs["victim_age"] = age
            key = (key, tuple(inputs.get(role) for role in self.condition_roles))
        coding = self.codings.get(key)
        if coding is None:
            coding = self._coding(key, cells, inputs)
        self.tally[coding] += 1
        if long:
            return [cells + act + tail for act in coding.long]
        return [cells + coding.wide + tail]

    def chunk(self, rows: Sequence[list[str]]) -> list[list[str]]:
        """What ``rows`` gives each of ``rows`` (wide, no condition), a column at a time: look-ups mapped over
        each column, the records counted per coding in one go."""
        tails = [list(map(values.__getitem__, map(itemgetter(column), rows))) for column, values in self.variables]
        for role, tail in zip(self.roles, tails):
            unmapped = tail.count(UNCLASSIFIED)
            if unmapped:
                self.summary.unmapped_values[role] += unmapped
        if self.ages:
            tails.append(self.ages.age_groups(rows))
        keys = list(map(self.category_cells, rows))
        codings = list(map(self.codings.get, keys))
        for i in compress(count(), map(operator.is_, codings, repeat(None))):
            codings[i] = self.codings.get(keys[i]) or self._coding(keys[i], rows[i], {})
        self.tally.update(codings)
        wide = map(_WIDE, codings)
        if tails:
            wide = map(operator.add, wide, map(list, zip(*tails)))
        return list(map(operator.add, rows, wide))

    def flush(self) -> None:
        """Count the tallied records into the summary."""
        summary = self.summary
        for coding, n in self.tally.items():
            summary.acts += n * len(coding.acts)
            for act in coding.acts:
                summary.by_method[act[3]] += n
            if any(act[0] == UNCLASSIFIED for act in coding.acts):
                summary.unclassified_records += n
            for code, label, match in coding.reviews:
                self._note_review(code, label, match, n)
        self.tally.clear()

    def add_review(self, review: dict[tuple[str, str], ReviewItem]) -> None:
        for (code, label), item in review.items():
            self._note_review(code, label, item.match, item.count)

    def _coding(self, key, cells: list[str], inputs: dict) -> _Coding:
        if len(self.codings) >= CODING_LIMIT:
            self.flush()  # the tally holds cached codings only: count them before forgetting them
            self.codings.clear()
        acts: dict[str, tuple[str, str, str, str, str]] = {}
        reviews = []
        for n, code, label in self.layout.category_values(cells):
            match = self.matcher.match(code, label)
            if match.needs_review:
                code_col, label_col = self.layout.slots[n]
                reviews.append((code if code_col != label_col else "", label or code, match))
            method, targets = resolve_conditions(match, inputs)
            score = "" if match.score is None else f"{match.score:.1f}"
            for target in targets or (UNCLASSIFIED,):
                acts.setdefault(target, self._act(target, method, score))
        if not acts:
            acts[UNCLASSIFIED] = self._act(UNCLASSIFIED, UNCLASSIFIED, "")
        found = tuple(acts.values())
        coding = self.codings[key] = _Coding(found, [JOIN.join(column) for column in zip(*found)],
                                             tuple([str(n), *act] for n, act in enumerate(found, 1)),
                                             tuple(reviews))
        return coding

    def _act(self, code: str, method: str, score: str) -> tuple[str, str, str, str, str]:
        if code == UNCLASSIFIED:
            return (UNCLASSIFIED, UNCLASSIFIED, "", method, score)
        category = self.taxonomy.get(code)
        return (code, category.level1, category.title_in("en"), method, score)

    def _note_review(self, code: str, label: str, match: Match, count: int) -> None:
        key = (code, label)
        item = self.review.get(key)
        if item is None:
            if len(self.review) >= self.review_tracked:
                self._forget_rare_reviews()
            item = self.review[key] = ReviewItem(code, label, match)
            self.review_values += 1
        item.count += count
        self.review_records += count

    def _forget_rare_reviews(self) -> None:
        """Keep the more frequent half of the values to review (a file of a million distinct labels would
        hold them all): a value forgotten and seen again is counted afresh, so the values listed at the end
        are the most frequent, their counts exact unless more than ``review_tracked`` distinct values came;
        the records not listed are counted exactly, the distinct values not listed no longer."""
        kept = sorted(self.review.values(), key=_REVIEW_ORDER)[:self.review_tracked // 2]
        self.review = {(item.source_code, item.source_label): item for item in kept}
        self.review_forgot = True

    def list_review(self, limit: int) -> None:
        """The summary's review list: the ``limit`` most frequent values; the rest counted."""
        ordered = sorted(self.review.values(), key=_REVIEW_ORDER)
        summary = self.summary
        summary.review = ordered[:limit]
        if self.review_values > limit:
            # the distinct values are known only while none was forgotten (null then); the records always
            summary.review_not_listed = {
                "limit": limit, "values": None if self.review_forgot else self.review_values - limit,
                "records": self.review_records - sum(item.count for item in summary.review)}


class _ValueMap(dict):
    """National values of one variable -> ICVAC variable codes: the mapping's ``values:`` first, then the
    taxonomy's codes, titles and synonyms (``Variable.lookup``); ``values[raw]``, cached per distinct value."""

    def __init__(self, taxonomy: Taxonomy, role: str, declared: dict[str, str]):
        super().__init__()
        self.variable = taxonomy.variables[role]
        self.exact = {k.strip(): v for k, v in declared.items()}
        self.folded = {fold(k): v for k, v in declared.items()}

    def __missing__(self, raw: str) -> str:
        text = raw.strip()
        if not text:
            code = "unknown"
        else:
            code = self.exact.get(text) or self.folded.get(fold(text)) or self.variable.lookup(text) or UNCLASSIFIED
        self[raw] = code
        return code


class _Ages:
    """A record's age (a number for conditions) and ICVAC age group: from its age cell, else from its birth
    and incident dates (``icvac.ages.record_age``), as ``icvac tabulate`` derives it."""

    def __init__(self, taxonomy: Taxonomy, layout: Layout):
        self.groups = taxonomy.variables.get("victim_age_group")
        self.age, self.birth, self.incident = layout.age, layout.birth, layout.incident
        # age cell -> its result; None when the cell says nothing and the dates decide
        self.cache: dict[str, tuple[float | None, str] | None] = {}

    def age_groups(self, rows: Sequence[list[str]]) -> list[str]:
        """The age group of each of ``rows``: looked up by age cell, the cells that say nothing (or are not yet
        cached) one by one."""
        if self.age is None:
            return [self.get(cells)[1] for cells in rows]
        found = list(map(self.cache.get, map(itemgetter(self.age), rows)))
        for i in compress(count(), map(operator.not_, found)):
            found[i] = self.get(rows[i])
        return list(map(itemgetter(1), found))

    def get(self, cells: list[str]) -> tuple[float | None, str]:
        found = self.cell("" if self.age is None else cells[self.age])
        if found is not None:
            return found
        if self.birth is None:
            return None, "unknown"
        return self.dates(cells[self.birth], cells[self.incident])

    def cell(self, raw: str) -> tuple[float | None, str] | None:
        """What the age cell ``raw`` says: None when it says nothing and the dates decide."""
        if raw in self.cache:
            return self.cache[raw]
        age = parse_age(raw)
        found = None if age is None else self._result(age)
        if len(self.cache) < CACHE_LIMIT:
            self.cache[raw] = found
        return found

    def dates(self, birth: str, incident: str) -> tuple[float | None, str]:
        return self._result(record_age("", birth, incident))

    def _result(self, age) -> tuple[float | None, str]:
        if age is None:
            return None, "unknown"
        if age is BAD:
            return None, UNCLASSIFIED
        # conditions compare numbers as floats (mapping.Test)
        return float(age), (age_group(self.groups, age) if self.groups else None) or UNCLASSIFIED
