"""Reading several codings of the same records and joining them on an id, in flat memory.

Files coded from the same export usually list the records in the same order, so rows are read
in step, one from each file: while the ids agree, a record is complete and nothing is kept. Where
they differ, rows wait in a table by id until every file has given its row; the table holds only
the records out of step, so memory stays flat for files in the same order and grows with the
disorder otherwise. Records still waiting at the end are in some files only: they are counted and
returned with ``None`` for the files that lack them, never dropped.

A code cell is read as in :mod:`icvac.codes` (several acts joined by ``|`` or ``;``), then rolled
up to each level of the taxonomy. A value that is not a code of the taxonomy becomes ``invalid``:
it may be anything a person typed, so it is never shown.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, islice, zip_longest
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .codes import UNCLASSIFIED, is_unclassified, split_codes
from .errors import UsageError
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy

__all__ = ["INVALID", "JOIN", "Coding", "CodeLevels", "JoinStats", "Tally", "join_codings", "source_name"]

INVALID = "invalid"
JOIN = "|"
CHUNK_LINES = 512  # records picked at a time


@dataclass(frozen=True)
class Coding:
    """Where one coding sits: a file and the column of its codes (and, optionally, of its match method)."""

    path: str | os.PathLike
    code_column: str
    method_column: str | None = None


@dataclass
class JoinStats:
    """Per file: rows read, rows without an id, rows whose id was already waiting from that file."""

    files: list[str]
    rows: list[int] = field(default_factory=list)
    blank_ids: list[int] = field(default_factory=list)
    repeated_ids: list[int] = field(default_factory=list)
    missing_from: list[int] = field(default_factory=list)   # joined records that this file lacks
    records: int = 0                                        # joined records (distinct ids, in order)
    in_every_file: int = 0
    max_waiting: int = 0                                    # most records held at once, waiting for a match


@dataclass
class Tally:
    """Counts the joined records by ``(cells, method)`` as they are read; only the records whose cells
    ``flag`` picks (asked once per distinct cells) are yielded. Counting in the join's own loop, rather
    than in the caller's over every record, is most of the speed of a million records."""

    flag: Callable[[tuple], bool]
    counts: Counter = field(default_factory=Counter)
    flags: dict = field(default_factory=dict)

    def wanted(self, cells: tuple, method) -> bool:
        self.counts[cells, method] += 1
        flag = self.flags.get(cells)
        if flag is None:
            flag = self.flags[cells] = self.flag(cells)
        return flag


def source_name(path: str | os.PathLike) -> str:
    return "<stdin>" if str(path) == "-" else Path(path).name


class CodeLevels:
    """A code cell -> its value at each level: the acts' categories, sorted, joined by ``|``.

    ``None`` for a blank cell (no coding). ``unclassified`` and ``invalid`` are values of their own.
    Computed once per distinct cell.
    """

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.depth = max((c.level for c in taxonomy.categories.values()), default=1)
        self._order = {code: i for i, code in enumerate(taxonomy.categories)}
        self._cache: dict[str, tuple[str | None, ...]] = {}
        self.acts: dict[str, int] = {}

    def values(self, cell: str | None) -> tuple[str | None, ...]:
        """The cell's value at levels 1..depth (index 0 is level 1)."""
        if cell is None:
            return (None,) * self.depth
        found = self._cache.get(cell)
        if found is None:
            found = self._cache[cell] = self._values(cell)
        return found

    def act_count(self, cell: str | None) -> int:
        values = self.values(cell)
        return 0 if values[-1] is None else values[-1].count(JOIN) + 1

    def _values(self, cell: str) -> tuple[str | None, ...]:
        codes = split_codes(cell)
        if not codes:
            return (None,) * self.depth
        known = [c for c in codes if c in self.taxonomy]
        others = [c for c in codes if c not in self.taxonomy]
        extra = []
        if any(not is_unclassified(c) for c in others):
            extra.append(INVALID)
        if not known and not extra:
            extra.append(UNCLASSIFIED)  # "unclassified" beside a code adds nothing: the code is the coding
        out = []
        for level in range(1, self.depth + 1):
            rolled = {self.taxonomy.ancestor_at(c, level).code for c in known}
            out.append(JOIN.join(sorted(rolled, key=self._order.__getitem__) + extra))
        return tuple(out)

    def title(self, value: str, lang: str = "en") -> str:
        if value in self.taxonomy:
            return self.taxonomy.get(value).title_in(lang)
        if value == UNCLASSIFIED:
            return "unclassified"
        if value == INVALID:
            return "not a code of the taxonomy"
        return "several acts" if JOIN in value else ""

    def sort_key(self, value: str) -> tuple:
        first = value.split(JOIN)[0]
        return (self._order.get(first, len(self._order) + (first == INVALID)), value.count(JOIN), value)


class _Picker:
    """A record's ``(id, code cell, method cell)`` from its row; blank rows are not records. Used in
    worker processes too, so it holds only what it needs."""

    def __init__(self, id_at: int, code_at: int, method_at: int | None):
        self.id_at, self.code_at, self.method_at = id_at, code_at, method_at
        self.width = max(id_at, code_at, -1 if method_at is None else method_at) + 1
        self.get = itemgetter(id_at, code_at, method_at) if method_at is not None else itemgetter(id_at, code_at)

    def __call__(self, rows: list[list[str]]) -> list[tuple]:
        out: list[tuple] = []
        append, get, width, at = out.append, self.get, self.width, self.id_at
        for values in rows:
            key = values[at] if len(values) >= width else None
            if not key or key[0] == " " or key[-1] == " ":
                picked = self._slowly(values)
                if picked is not None:
                    append(picked)
            else:
                append(get(values))
        return out if self.method_at is not None else [(a, b, None) for a, b in out]

    def _slowly(self, values: list[str]) -> tuple | None:
        if not "".join(values).strip():
            return None  # a blank line is not a record
        if len(values) < self.width:
            values = values + [""] * (self.width - len(values))
        key = values[self.id_at].strip()
        if self.method_at is None:
            return key, values[self.code_at]
        return key, values[self.code_at], values[self.method_at]


def _batches(table, pick: _Picker, counts: list, i: int) -> Iterator[list]:
    """The records of ``table`` as picked, in lists (flattened by the caller in C, not here one by one)."""
    yield from _picked(table.rows(), pick, counts, i)


def _picked(numbered_rows, pick: _Picker, counts: list, i: int) -> Iterator[list]:
    rows = map(itemgetter(1), numbered_rows)
    while chunk := list(islice(rows, CHUNK_LINES)):
        picked = pick(chunk)
        counts[i] += len(picked)
        yield picked


def _column(table, name: str, what: str) -> int:
    try:
        return table.header.index(name)
    except ValueError:
        raise UsageError(f"{table.name}: no {what} column {name!r}; the columns are "
                         f"{', '.join(map(repr, table.header))}") from None


def join_codings(codings: Sequence[Coding], id_column: str, read_options: ReadOptions = ReadOptions(),
                 jobs: int | None = None, tally: Tally | None = None) -> tuple[JoinStats, Iterator[tuple[str, tuple[str | None, ...], str | None]]]:
    """Open the files, check their columns, and return the stats (filled as the iterator runs) and an
    iterator of ``(id, cells, method)``: one cell per file, None where the file lacks the record; the
    method comes from the first coding's ``method_column``. With a ``tally``, every record is counted there
    and only the flagged ones are yielded. ``jobs`` is kept for compatibility and changes nothing: worker
    processes splitting a large file (``icvac.parallel``, gone) made the join slower on two cores."""
    if len(codings) < 2:
        raise UsageError("give two codings or more to compare")
    names = [str(c.path) for c in codings]
    if names.count("-") > 1:
        raise UsageError("only one of the files can be read from stdin (-)")
    tables = []
    try:
        for coding in codings:
            tables.append(open_table(coding.path, read_options))
        ats = []
        for coding, table in zip(codings, tables, strict=False):
            method_at = None
            if coding.method_column is not None and coding.method_column in table.header:
                method_at = table.header.index(coding.method_column)
            ats.append((_column(table, id_column, "id"), _column(table, coding.code_column, "code"), method_at))
    except BaseException:
        for table in tables:
            table.close()
        raise
    k = len(codings)
    stats = JoinStats([source_name(c.path) for c in codings], [0] * k, [0] * k, [0] * k, [0] * k)
    return stats, _joined(tables, ats, stats, tally or Tally(lambda cells: True))


def _joined(tables, ats, stats: JoinStats, tally: Tally):
    k = len(tables)
    in_step = 0  # counted here, not on ``stats``, in the loop that runs once per record
    counts, flags, wanted = tally.counts, tally.flags, tally.wanted
    try:
        streams = [chain.from_iterable(_batches(t, _Picker(*at), stats.rows, i))
                   for i, (t, at) in enumerate(zip(tables, ats, strict=False))]
        pending: dict[str, list] = {}
        for group in zip_longest(*streams):
            first = group[0]
            if not pending and first is not None and first[0]:
                key = first[0]
                if k == 2:
                    second = group[1]
                    if second is not None and second[0] == key:
                        in_step += 1
                        cells = (first[1], second[1])
                        # wanted(), inlined: this runs once per record
                        counts[cells, first[2]] += 1
                        flag = flags.get(cells)
                        if flag is None:
                            flag = flags[cells] = tally.flag(cells)
                        if flag:
                            yield key, cells, first[2]
                        continue
                elif all(g is not None and g[0] == key for g in group[1:]):
                    in_step += 1
                    cells = tuple(g[1] for g in group)
                    if wanted(cells, first[2]):
                        yield key, cells, first[2]
                    continue
            for key, cells, method in _wait(group, pending, stats):
                if wanted(cells, method):
                    yield key, cells, method
        for key, slot in pending.items():
            stats.records += 1
            for i in range(k):
                if slot[i] is _ABSENT:
                    stats.missing_from[i] += 1
            present = tuple(None if v is _ABSENT else v for v in slot[:k])
            if wanted(present, slot[k]):
                yield key, present, slot[k]
    finally:
        stats.records += in_step
        stats.in_every_file += in_step
        for table in tables:
            table.close()


_ABSENT = object()


def _wait(group, pending: dict, stats: JoinStats):
    """Rows out of step wait by id; yield the records whose last row has come."""
    k = len(group)
    for i, row in enumerate(group):
        if row is None:
            continue
        key, cell, method = row
        if not key:
            stats.blank_ids[i] += 1
            continue
        slot = pending.get(key)
        if slot is None:
            slot = pending[key] = [_ABSENT] * k + [None]
            stats.max_waiting = max(stats.max_waiting, len(pending))
        if slot[i] is not _ABSENT:
            stats.repeated_ids[i] += 1
            continue
        slot[i] = cell
        if i == 0:
            slot[k] = method
        if _ABSENT not in slot[:k]:
            del pending[key]
            stats.records += 1
            stats.in_every_file += 1
            yield key, tuple(slot[:k]), slot[k]
