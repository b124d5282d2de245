"""The Arrow engine of ``icvac recode``: a function from record batch to record batch.

Per distinct value the work is recode's own (``icvac.coder.Recoder``: the matcher, the variables'
value maps, the ages); per row it is Arrow kernels: each column is dictionary-encoded, each distinct
value (or distinct combination of the category cells and condition inputs) coded once in Python, and
the results spread over the rows with ``take``. So the rows are those the row-by-row path writes, cell
for cell; ``tests/test_engine.py`` checks it.

``recode_batches`` is the library's entry for engines that exchange Arrow batches (DuckDB, Polars,
Spark's ``mapInArrow``): batches in, recoded batches out, in order, one output row per input row (one
per act with ``long``).
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from itertools import chain
from typing import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from .arrowio import _EMPTY, Coded, as_text_batch, csv_bytes, decoded, jsonl_bytes
from .coder import RecodeOptions, Recoder, RecodeSummary, SharedColumns
from .errors import UsageError
from .layout import category_layout
from .mapping import Mapping
from .matching import UNCLASSIFIED, Matcher
from .taxonomy import Taxonomy

__all__ = ["recode_batches", "BatchRecoder", "write_recoded"]

_AHEAD = 1  # recoded batches waiting to be written: one keeps the writer busy; a second held memory, not time


def recode_batches(batches: Iterable[pa.RecordBatch], mapping: Mapping, taxonomy: Taxonomy,
                   options: RecodeOptions = RecodeOptions(), summary: RecodeSummary | None = None
                   ) -> Iterator[pa.RecordBatch]:
    """Recode record batches whose columns are a national export's (names as its header; any type, read as
    text, a null as a blank cell): each batch out holds its rows, in order, with the ICVAC columns added
    as ``icvac recode`` adds them. ``summary``, when given, is filled as the batches go (its review list
    and counts once they are all done). ``options.read`` and ``options.format`` play no part here."""
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return
    header = list(first.schema.names)
    summary = summary if summary is not None else RecodeSummary()
    matcher = Matcher(mapping, taxonomy, threshold=options.threshold, margin=options.margin, fuzzy=options.fuzzy)
    layout = category_layout(header, mapping, options.columns, variables=taxonomy.variable_roles)
    summary.missing_columns = layout.missing
    recoder = Recoder(matcher, mapping, taxonomy, layout, summary)
    recoder.review_tracked = max(recoder.review_tracked, 2 * options.review_limit)
    shared = SharedColumns(_Header(header), recoder.added_columns(options.long))
    coder = BatchRecoder(recoder, shared, options.long)
    for batch in chain([first], batches):
        yield pa.RecordBatch.from_arrays([decoded(c) for c in coder(as_text_batch(batch))], names=coder.names)
    recoder.flush()
    recoder.list_review(options.review_limit)


@dataclass
class _Header:
    header: list[str]
    name: str = "<batches>"


class BatchRecoder:
    """Recode one batch after another: ``coder(batch)`` is the batch recoded; rows are numbered on from
    ``number`` (the row before the first, as a person counts them in the file) for error messages."""

    def __init__(self, recoder: Recoder, shared: SharedColumns, long: bool, number: int = 1):
        self.recoder, self.shared, self.long, self.number = recoder, shared, long, number
        self.names = shared.header
        layout = recoder.layout
        self.category_columns = sorted({c for slot in layout.slots for c in slot if c is not None})

    def __call__(self, batch: pa.RecordBatch) -> list:
        """The columns of ``batch`` recoded (named ``self.names``); the added ones ``Coded`` (their values are
        few)."""
        recoder, summary = self.recoder, self.recoder.summary
        if batch.num_columns != self.shared.width:
            raise UsageError(f"a batch has {batch.num_columns} columns, not the {self.shared.width} of the first")
        cells = list(batch.columns)
        tails = [self._variable(cells[column], values, role)
                 for (column, values), role in zip(recoder.variables, recoder.roles, strict=False)]
        ages = None
        if recoder.ages:
            groups, ages = self._ages(cells, batch.num_rows)
            if recoder.age_group_column:
                tails.append(groups)
        ids, codings = self._codings(cells, tails, ages)
        counts = pc.value_counts(ids)
        for value, n in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=False):
            recoder.tally[codings[value]] += n
        if self.long:
            columns, rows = self._long(cells, tails, ids, codings)
        else:
            rows = None
            added = [_dictionary(ids, [coding.wide[k] for coding in codings]) for k in range(5)]
            columns = cells + added + tails
        if self.shared.columns:
            columns = self._merge(columns, rows)
        summary.rows_in += batch.num_rows
        summary.rows_out += len(columns[0]) if columns else 0
        self.number += batch.num_rows
        return columns

    def _variable(self, column: pa.Array, values, role: str) -> pa.Array:
        encoded = pc.dictionary_encode(column)
        codes = [values[v] for v in encoded.dictionary.to_pylist()]
        unmapped = [i for i, code in enumerate(codes) if code == UNCLASSIFIED]
        if unmapped:
            n = pc.sum(pc.is_in(encoded.indices, value_set=pa.array(unmapped, encoded.indices.type))).as_py()
            self.recoder.summary.unmapped_values[role] += n or 0
        return _dictionary(encoded.indices, codes)

    def _ages(self, cells: list[pa.Array], n: int) -> tuple[pa.Array, pa.Array]:
        """Each row's age group and age (a number, for conditions): per distinct age cell, and per row from
        the dates where the cell says nothing."""
        ages = self.recoder.ages
        if ages is None:  # the caller asks only of a recoder that codes ages
            raise RuntimeError("no ages to code")
        if ages.age is not None:
            encoded = pc.dictionary_encode(cells[ages.age])
            found = [ages.cell(raw) for raw in encoded.dictionary.to_pylist()]
            group = _dictionary(encoded.indices, [f[1] if f else "" for f in found])
            age = pa.array([f[0] if f else None for f in found], pa.float64()).take(encoded.indices)
            if all(found):
                return group, age
            need = pa.array([f is None for f in found], pa.bool_()).take(encoded.indices)
            group = group.decode()
        else:
            group, age = pa.array([""] * n, pa.string()), pa.nulls(n, pa.float64())
            need = pa.array([True] * n, pa.bool_())
        where = pc.indices_nonzero(need)
        if ages.birth is None or ages.incident is None:  # both, or neither (layout)
            results = [(None, "unknown")] * len(where)
        else:
            pairs = zip(cells[ages.birth].take(where).to_pylist(), cells[ages.incident].take(where).to_pylist(), strict=False)
            seen: dict = {}
            results = [seen.get(p) or seen.setdefault(p, ages.dates(*p)) for p in pairs]
        group = pc.replace_with_mask(group, need, pa.array([r[1] for r in results], pa.string()))
        age = pc.replace_with_mask(age, need, pa.array([r[0] for r in results], pa.float64()))
        encoded = pc.dictionary_encode(group)
        return Coded(encoded.indices, encoded.dictionary), age

    def _codings(self, cells: list[pa.Array], tails: list[pa.Array], ages: pa.Array | None):
        """Each row's number among the distinct combinations of its category cells (and condition inputs) in
        this batch, and the coding of each combination, coded once."""
        recoder = self.recoder
        parts = [cells[c] for c in self.category_columns]
        for role in recoder.condition_roles:
            if role in recoder.roles:
                parts.append(tails[recoder.roles.index(role)])
            elif role == "victim_age" and ages is not None:
                parts.append(ages)
        ids = None
        for part in parts:
            encoded = part if isinstance(part, Coded) else pc.dictionary_encode(part, null_encoding="encode")
            if ids is None:
                ids = encoded.indices
            else:
                # the pair (combination so far, this part) as one number, renumbered densely so it stays small
                pair = pc.add(pc.multiply(pc.cast(ids, pa.int64()), len(encoded.dictionary)),
                              pc.cast(encoded.indices, pa.int64()))
                ids = pc.dictionary_encode(pair).indices
        if ids is None:  # a layout has one category column at least
            raise RuntimeError("no category column to code")
        distinct = pc.max(ids).as_py()
        count = 0 if distinct is None else distinct + 1
        first = pc.index_in(pa.array(range(count), ids.type), value_set=ids)  # the row each first appears at
        values = [decoded(part.take(first)).to_pylist() for part in parts]
        width = self.shared.width
        ncat = len(self.category_columns)
        codings = []
        for combination in zip(*values, strict=False) if values else ():
            row = [""] * width
            for column, value in zip(self.category_columns, combination, strict=False):
                row[column] = value
            key = recoder.category_cells(row)
            inputs: dict = {}
            if recoder.condition_roles:
                inputs = self._inputs(combination[ncat:])
                key = (key, tuple(inputs.get(role) for role in recoder.condition_roles))
            codings.append(recoder.codings.get(key) or recoder._coding(key, row, inputs))
        return ids, codings

    def _inputs(self, values) -> dict:
        """The condition inputs of a combination, as ``Recoder.rows`` gives them."""
        recoder, it = self.recoder, iter(values)
        inputs = {role: None for role in recoder.roles}
        inputs["victim_age"] = None
        for role in recoder.condition_roles:
            if role in recoder.roles or (role == "victim_age" and recoder.ages):
                inputs[role] = next(it)
        return inputs

    def _long(self, cells, tails, ids, codings):
        """One row per act: the record's cells and variables repeated, the act's cells beside them."""
        offsets, acts = [0], []
        for coding in codings:
            acts.extend(coding.long)
            offsets.append(len(acts))
        per_row = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(range(len(acts)), pa.int32()))
        per_row = per_row.take(ids)
        act = pc.list_flatten(per_row)
        rows = pc.list_parent_indices(per_row)
        added = [_dictionary(act, [a[k] for a in acts]) for k in range(6)]
        return [c.take(rows) for c in cells] + added + [t.take(rows) for t in tails], rows

    def _merge(self, columns: list[pa.Array], rows: pa.Array | None) -> list[pa.Array]:
        """``SharedColumns.merge`` a column at a time."""
        columns = [decoded(c) for c in columns]
        for i, j, _ in self.shared.columns:
            clash = pc.and_(pc.not_equal(columns[i], _EMPTY), pc.not_equal(columns[i], columns[j]))
            if pc.any(clash).as_py():
                at = pc.indices_nonzero(clash)[0].as_py()
                row = at if rows is None else rows[at].as_py()
                names = ", ".join(name for _, _, name in self.shared.columns)
                raise UsageError(f"{self.shared.source}: row {self.number + 1 + row}: this file already has "
                                 f"{names}, holding values other than this recode's: it looks recoded already; "
                                 "rename or drop those columns")
            columns[i] = columns[j]
        return [columns[k] for k in self.shared.keep]


def _dictionary(indices: pa.Array, values: list[str]) -> Coded:
    return Coded(indices, pa.array(values, pa.string()))


def write_recoded(batches: Iterator[pa.RecordBatch], coder: BatchRecoder, fmt: str, safe: bool, handle,
                  write: Callable, progress: Callable[[int], None] | None) -> None:
    """Recode ``batches`` and write them: CSV and JSON Lines formatted by Arrow into the UTF-8 text
    ``handle``, xlsx (or a handle of another encoding) row by row through ``write(rows)``."""
    names = coder.names
    as_bytes = handle is not None and hasattr(handle, "buffer") and (handle.encoding or "").lower().replace(
        "_", "-") in ("utf-8", "utf8") and (fmt == "csv" or len(set(names)) == len(names))
    if not as_bytes:
        for columns in _recoded(batches, coder, progress):
            write([list(row) for row in zip(*[decoded(c).to_pylist() for c in columns], strict=False)])
        return
    if fmt == "csv":
        # with excel_safe, csv_bytes makes the cells safe; JSON Lines are not made safe
        def formatted(columns):
            return csv_bytes(columns, safe)
    else:
        def formatted(columns):
            return jsonl_bytes(names, columns)
    with _Formatter(handle, formatted) as formatter:
        for columns in _recoded(batches, coder, progress):
            formatter.put(columns)


def _recoded(batches: Iterator[pa.RecordBatch], coder: BatchRecoder, progress) -> Iterator[list]:
    """The columns of each batch recoded (batches that recode to no row left out), progress told."""
    for batch in batches:
        number = coder.number
        columns = coder(batch)
        if len(columns[0]):
            yield columns
        if progress:
            for n in range(number + 1, coder.number + 1):
                progress(n)


class _Formatter(threading.Thread):
    """Formats recoded batches as bytes and writes them, in order, in a thread of its own: Arrow's kernels and
    the writes leave the GIL, so a batch is formatted and written while the next is read and coded (the
    two take about as long). At most ``_AHEAD`` batches wait. Leaving the ``with`` block waits for the
    last write; an error in the thread is raised there, in the caller's; an error in the caller (Ctrl-C, a
    refused row) stops the thread before it goes on."""

    def __init__(self, handle, formatted: Callable[[list], Iterable[memoryview]]):
        super().__init__(daemon=True)
        self.handle, self.formatted = handle, formatted
        self.queue: queue.Queue = queue.Queue(_AHEAD)
        self.error: BaseException | None = None
        self.stopped = False

    def __enter__(self) -> "_Formatter":
        self.handle.flush()  # the header, written as text, goes first
        self.start()
        return self

    def put(self, columns: list) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(columns)

    def run(self) -> None:
        buffer = self.handle.buffer
        while (columns := self.queue.get()) is not None:
            if self.stopped or self.error is not None:
                continue  # drain, so that the caller never waits on a full queue
            try:
                for piece in self.formatted(columns):
                    if self.stopped:
                        break  # the caller failed: the rest of the batch is not wanted
                    buffer.write(piece)
            except BaseException as exc:  # noqa: BLE001  (raised in the caller's thread)
                self.error = exc

    def __exit__(self, kind, value, trace) -> None:
        self.stopped = kind is not None
        self.queue.put(None)
        self.join()
        if kind is None and self.error is not None:
            raise self.error
