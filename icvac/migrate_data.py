"""``icvac migrate``: re-code a file written by ``icvac recode`` to a new taxonomy version.

The file is streamed (a CSV file a batch of rows at a time through Arrow, as recode reads it; anything
else row by row, with the same bytes out): every input row reaches the output, in order, with its
columns unchanged except the ICVAC ones. Each act's ``icvac_code`` goes through the correspondence;
``icvac_level1`` and ``icvac_title`` follow from the new taxonomy, ``icvac_match`` and ``icvac_score``
(how the act was coded) stay. An act whose code was split or removed becomes ``unclassified``, its
``icvac_match`` saying why (``migrate-split``, ``migrate-removed``): a person decides, in the mapping,
which new code the national value takes, and recodes. ``icvac_previous_code`` keeps the codes before
the migration. The work is done once per distinct set of ICVAC cells.
The sidecar ``OUT.meta.json`` records both taxonomy versions and the correspondence.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .codes import UNCLASSIFIED
from .correspondence import Correspondence
from .data_writers import data_writer
from .digest import sha256_hex
from .errors import UsageError
from .formats import output_format_of
from .readers import ReadOptions, open_table
from .recode import JOIN, sidecar_path
from .taxonomy import Taxonomy
from .writers import atomic_output, refuse_overwrite, staged_outputs, writes_through

__all__ = ["DataMigration", "migrate_file", "CODE_COLUMNS", "PREVIOUS", "OUTCOMES"]

CODE_COLUMNS = ("icvac_code", "icvac_level1", "icvac_title", "icvac_match", "icvac_score")
PREVIOUS = "icvac_previous_code"
OUTCOMES = ("kept", "rewritten", "split", "removed", "unknown", "unclassified")
_CACHE_LIMIT = 100_000  # distinct sets of ICVAC cells remembered


@dataclass
class DataMigration:
    rows_in: int = 0
    rows_out: int = 0
    acts: Counter = field(default_factory=Counter)  # outcome -> acts
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out,
                "acts": {k: self.acts[k] for k in OUTCOMES if self.acts[k]}, "provenance": self.provenance}


def migrate_file(data: str | os.PathLike, corr: Correspondence, new: Taxonomy, output: str | os.PathLike | None,
                 fmt: str | None = None, read: ReadOptions = ReadOptions()) -> DataMigration:
    """Migrate the recoded file ``data`` into ``output`` (``-`` for stdout), with its sidecar beside it."""
    problems = corr.check_against(new)
    if problems:
        raise UsageError(f"{corr.path}: " + "; ".join(problems))
    refuse_overwrite(output, data, corr.path, new.path)
    if sidecar_path(output) is not None:
        refuse_overwrite(sidecar_path(output), data, corr.path, new.path)
    before = _input_provenance(data, corr)
    fmt = fmt or output_format_of(output)
    from .arrowio import ArrowRefused

    try:
        return _migrate(data, corr, new, output, fmt, read, before, arrow=not writes_through(output))
    except ArrowRefused:
        # a row Arrow refuses (ragged, a bad byte): nothing was written; the Python reader pads the row or
        # reports the error at its row
        return _migrate(data, corr, new, output, fmt, read, before, arrow=False)


def _migrate(data, corr: Correspondence, new: Taxonomy, output, fmt: str, read: ReadOptions, before: dict | None,
             arrow: bool) -> DataMigration:
    """A CSV file a batch of rows at a time through Arrow where ``arrow`` and the file allow it (as recode
    does; the output is byte for byte the same), else row by row."""
    summary = DataMigration()
    with staged_outputs() as stage:
        with open_table(data, read) as table:
            columns = _Columns(table.header, table.name, _Acts(corr, new))
            batches = _arrow_batches(table, str(data), read) if arrow else None
            with data_writer(output, fmt, False, stage, columns.header) as (write, handle):
                if batches is not None and _takes_bytes(handle, fmt, columns.header):
                    for batch in batches:
                        _write_batch(batch, columns, fmt, handle)
                        summary.rows_in += batch.num_rows
                        summary.rows_out += batch.num_rows
                else:
                    for chunk in _chunks(table.rows()):
                        write([columns.row(cells) for cells in chunk])
                        summary.rows_in += len(chunk)
                        summary.rows_out += len(chunk)
            columns.counted(summary.acts)
            name = Path(table.name).name
        summary.provenance = _provenance(corr, new, name, before)
        if sidecar_path(output) is not None:
            with atomic_output(sidecar_path(output), stage=stage) as handle:
                handle.write(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return summary


def _takes_bytes(handle, fmt: str, header: list[str]) -> bool:
    """Whether Arrow's formatted bytes can go to ``handle``: UTF-8 text, CSV or JSON Lines of distinct keys."""
    return handle is not None and hasattr(handle, "buffer") and \
        (handle.encoding or "").lower().replace("_", "-") in ("utf-8", "utf8") and \
        (fmt == "csv" or (fmt == "jsonl" and len(set(header)) == len(header)))


_KEY_SEPARATOR = "\x1f"  # joins a row's ICVAC cells into one key; a file holding it goes row by row


def _write_batch(batch, columns: "_Columns", fmt: str, handle) -> None:
    """One batch: its ICVAC cells migrated once per distinct combination, the other columns untouched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .arrowio import ArrowRefused, csv_bytes, jsonl_bytes, write_bytes

    n = batch.num_rows
    blank = pa.array([""] * n, pa.string()) if None in columns.where else None
    cells = [batch.column(i) if i is not None else blank for i in columns.where]
    # a Python string as an argument costs pyarrow an import attempt on every call: a scalar does not
    encoded = pc.dictionary_encode(pc.binary_join_element_wise(*cells, pa.scalar(_KEY_SEPARATOR)))
    keys = [tuple(key.split(_KEY_SEPARATOR)) for key in encoded.dictionary.to_pylist()]
    # a cell holding the separator splits its key into more parts: seen on the distinct keys, not every row
    if any(len(key) != len(cells) for key in keys):
        raise ArrowRefused("a cell holds the key separator")
    found = [columns.migrated(key) for key in keys]
    for count in pc.value_counts(encoded.indices).to_pylist():
        columns.tally[found[count["values"]][1]] += count["counts"]
    data = _csv_fast(batch, columns, keys, found, encoded.indices) if fmt == "csv" else None
    if data is None:
        out = list(batch.columns)
        for k, i in enumerate(columns.where):
            if i is not None:
                out[i] = pa.array([new[k] for new, _ in found], pa.string()).take(encoded.indices)
        if columns.previous is None:
            out.append(cells[0])
        else:
            out[columns.previous] = cells[0]
        data = csv_bytes(out) if fmt == "csv" else jsonl_bytes(columns.header, out)
    write_bytes(handle, data)


def _csv_fast(batch, columns: "_Columns", keys: list[tuple], found: list[tuple], indices):
    """The batch as CSV where the ICVAC columns sit side by side (as recode writes them) and the previous code
    is added at the end: those cells formatted once per distinct key, as csv_bytes formats recode's added
    columns; None otherwise (or where a cell holds a carriage return), for csv_bytes to do it all."""
    import pyarrow as pa

    from .arrowio import _held, _quote_needed, lines

    if None in columns.where or columns.previous is not None:
        return None
    where = [i for i in columns.where if i is not None]
    if where != list(range(where[0], where[0] + len(where))):
        return None
    plain = batch.columns
    held = [_held(c) for c in plain]  # one look a column: the carriage return, then the quoting
    if any(b"\r" in h for h in held):
        return None

    def text(value: str) -> str:  # csv_writer's minimal quoting
        return '"' + value.replace('"', '""') + '"' if '"' in value or "," in value or "\n" in value else value

    icvac_cells = pa.array([",".join(map(text, new)) for new, _ in found], pa.string()).take(indices)
    previous = pa.array([text(key[0]) + "\n" for key in keys], pa.string()).take(indices)
    before, after = range(where[0]), range(where[-1] + 1, len(plain))
    cells = [_quote_needed(plain[i], held[i]) for i in before] + [icvac_cells] + \
        [_quote_needed(plain[i], held[i]) for i in after] + [previous]
    return lines(cells, pa.scalar(","))


# Arrow's read block. On the 1M-row recoded benchmark file (in one process with jemalloc named, as icvac
# migrate names it since 63ae642) 128 KB peaked at 111-113 MB against 120-127 MB with 256 KB, as fast; 64 KB
# at 107-110 MB, 20% slower.
BLOCK_BYTES = 128 << 10
# The blocks are joined into batches of this many rows. Through the CLI on that file, once the read-ahead
# thread held no batch waiting for room and the raw look read 128 KB at a time (2026-12-06, three runs
# alternated): 8,192 rows peaked at 98-101 MB in 1.90-2.08 s, 6,144 at 96-98 MB in 1.88-2.10 s, 4,096 at
# 94-96 MB in 1.98-2.17 s; then 3,072 at 90-92 MB and 2,048 at 88-89 MB, slower by up to a fifth
BATCH_ROWS = 4096


def _arrow_batches(table, path: str, read: ReadOptions):
    from .arrowio import table_batches

    return table_batches(table, path, read, rows=BATCH_ROWS, ahead=1, block=BLOCK_BYTES)


def _chunks(rows, size: int = 4096):
    chunk = []
    for _, cells in rows:
        chunk.append(cells)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Columns:
    """Where the ICVAC cells are in a row, and the output's header (``icvac_previous_code`` added once)."""

    def __init__(self, header: list[str], name: str, act: "_Acts"):
        self.act = act
        if "icvac_code" not in header:
            raise UsageError(f"{name}: no icvac_code column; migrate reads a file written by icvac recode")
        self.width = len(header)
        self.where = [header.index(c) if c in header else None for c in CODE_COLUMNS]
        self.previous = header.index(PREVIOUS) if PREVIOUS in header else None
        self.header = list(header) + ([PREVIOUS] if self.previous is None else [])
        self.cache: dict[tuple, tuple] = {}
        self.tally: Counter = Counter()  # records per tuple of act outcomes

    def row(self, cells: list[str]) -> list[str]:
        width = self.width
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        key = tuple(cells[i] if i is not None else "" for i in self.where)
        new, outcomes = self.migrated(key)
        self.tally[outcomes] += 1
        out = cells[:width]
        for i, value in zip(self.where, new, strict=True):
            if i is not None:
                out[i] = value
        if self.previous is None:
            out.append(key[0])
        else:
            out[self.previous] = key[0]
        return out + cells[width:]  # cells beyond the header stay, after the ICVAC columns

    def migrated(self, key: tuple) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(new ICVAC cells, outcome of each act) for a row's ICVAC cells, cached per distinct cells."""
        found = self.cache.get(key)
        if found is None:
            found = self.act.cells(key)
            if len(self.cache) < _CACHE_LIMIT:
                self.cache[key] = found
        return found

    def counted(self, counts: Counter) -> None:
        for outcomes, records in self.tally.items():
            for outcome in outcomes:
                counts[outcome] += records


class _Acts:
    """The new ICVAC cells of a record from its old ones, each act (``|``-joined) on its own."""

    def __init__(self, corr: Correspondence, new: Taxonomy):
        self.corr = corr
        self.new = new

    def cells(self, key: tuple) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the new ICVAC cells, the outcome of each act)."""
        codes = key[0].split(JOIN)
        parts = [cell.split(JOIN) if len(cell.split(JOIN)) == len(codes) else [cell] * len(codes)
                 for cell in key[1:]]
        acts, outcomes, seen = [], [], set()
        for n, code in enumerate(codes):
            new_code, outcome = self._code(code.strip())
            outcomes.append(outcome)
            if new_code in seen and new_code != UNCLASSIFIED:
                continue  # two acts merged into one category are one act
            seen.add(new_code)
            acts.append(self._act(new_code, outcome, [p[n] for p in parts]))
        return tuple(JOIN.join(column) for column in zip(*acts, strict=True)), tuple(outcomes)

    def _code(self, code: str) -> tuple[str, str]:
        if code in ("", UNCLASSIFIED):
            return code, "unclassified"
        link = self.corr.get(code)
        if link is None:
            return (code, "kept") if code in self.new else (UNCLASSIFIED, "unknown")
        if link.split:
            return UNCLASSIFIED, "split"
        if link.removed:
            return UNCLASSIFIED, "removed"
        return link.new[0], "kept" if link.new[0] == code else "rewritten"

    def _act(self, code: str, outcome: str, old: list[str]) -> tuple[str, str, str, str, str]:
        level1, title, match, score = old
        if outcome in ("kept", "rewritten"):
            cat = self.new.get(code)
            return code, self.new.ancestor_at(code, 1).code, cat.title_in("en"), match, score
        if outcome == "unclassified":
            return code, level1, title, match, score
        return UNCLASSIFIED, UNCLASSIFIED, "", f"migrate-{outcome}", ""


def _input_provenance(data, corr: Correspondence) -> dict | None:
    """The input's own sidecar, when it has one; refuses a file recoded with another taxonomy version."""
    side = sidecar_path(data) if str(data) != "-" else None
    if side is None or not side.is_file():
        return None
    try:
        before = json.loads(side.read_text("utf-8")).get("provenance") or {}
    except (OSError, ValueError, AttributeError):
        return None
    version = (before.get("taxonomy") or {}).get("version") if isinstance(before, dict) else None
    if version is not None and version != corr.from_version:
        raise UsageError(f"{data}: recoded with taxonomy version {version!r} (says {side.name}); the "
                         f"correspondence starts from {corr.from_version!r}")
    return before


def _provenance(corr: Correspondence, new: Taxonomy, input_name: str, before: dict | None) -> dict:
    from . import __version__

    digest = sha256_hex(Path(corr.path).read_bytes()) if corr.path else None
    return {"icvac_version": __version__, "input": input_name,
            "taxonomy": {"id": new.id, "version": new.version, "status": new.status},
            "migrated_from": {"taxonomy_version": corr.from_version, "recode": before},
            "correspondence": corr.provenance() | {"sha256": digest}}
