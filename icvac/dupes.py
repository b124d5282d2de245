"""Exact duplicate ids across the batches of a file, in memory that grows with the ids' variety more than
with their number.

Registers number their cases: the ids of rows one after another mostly count up one by one
(``INC-00000041``, ``INC-00000042``; ``AU-000001.3``, ``AU-000002.3``). Such a stretch is kept as a range:
the id read as a text, a number of a fixed width and a text (its longest group of digits, the last of
equally long ones: one reading per id, so an id is kept and looked up under one key only), and the interval
of numbers with the row of its first id. A stretch's ends are found from single ids, and the ids between
are checked by Arrow at once (their shape, and each above the one before).

The other ids are kept as Arrow text, made distinct by Arrow first (``dictionary_encode``). Those above
every id kept (ids in order) are kept sorted, in chunks; the few others are looked up by bisection among
those, and in a dict. When many come so (ids in no order, such as UUIDs), every text id moves to an
open-addressing table of hashes, and an id whose hash is found there is compared, as text, with the id
kept: two different ids sharing a hash are never taken for one. The hash is injectable, so that a test can
make ids collide all the time.
"""
from __future__ import annotations

import os
from array import array
from bisect import bisect_left, bisect_right
from typing import Callable, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from .id_shapes import reading_of, shaped_like

__all__ = ["DuplicateIds", "Repeats"]

_EMPTY = -1
_NO_TEXT = pa.scalar("", pa.string())
_TRUE = pa.array([True], pa.bool_())


class Repeats(NamedTuple):
    """The repeats among a batch's ids: their positions in the batch, and the rows the ids first appear at."""

    positions: list[int]
    first_rows: list[int]


class _Run(NamedTuple):
    """``length`` distinct ids from position ``at``, read as ``key`` with numbers and rows counting up from
    ``number`` and ``row``."""

    at: int
    length: int
    key: tuple[str, int, str]
    number: int
    row: int


class DuplicateIds:
    """The ids of a file, added a batch at a time in file order; ``add`` tells the repeats."""

    LATE_SHARE = 32     # text ids not above all before them, at most one in this many, else the table of hashes
    MIN_LATE = 4096     # ... once past this many
    MIN_RUN = 16        # ids counting up one by one, in rows one after another, kept as a range from this many
    MISSES = 8          # stretches too short in a row, after which a batch's other ids are taken as text
    FEW = 1 << 16       # text ids looked up all at once by Arrow up to this many (else one by one)

    def __init__(self, hash_id: Callable[[str], int] = hash):
        self.hash_id = hash_id
        self._ranges: dict[tuple[str, int, str], tuple[list[int], list[int], list[int]]] = {}
        self._chunks: list[pa.Array] = []   # the distinct text ids kept, in the order kept (after their prefix)
        self._prefixes: list[str] = []      # the prefix each chunk's ids share
        self._rows: list[pa.Array | int] = []  # the row each was first seen at, chunk for chunk (or the first)
        self._starts: list[int] = []        # the serial number of each chunk's first id
        self._firsts: list[str] = []        # each chunk's first (least) id, while they are sorted
        self._top: str | None = None        # the greatest text id kept in order
        self._late: dict[str, int] = {}     # id -> row, for the text ids kept out of order
        self._hashes: array | None = None   # serial -> hash, once looked up by hash
        self._slots: array | None = None    # open addressing: serial, or _EMPTY
        self._count = pa.array([], pa.int64())  # 0, 1, 2, ... (grown as needed)
        self._few: list[pa.Array] | None = []   # every text id, while they are few
        self.size = self.seen = self.late = 0

    def add(self, ids: pa.Array, rows: pa.Array) -> Repeats:
        """``ids`` (text, none blank) at ``rows`` (increasing): the positions of those seen before."""
        if len(ids) == 0:
            return Repeats([], [])
        rows = rows.cast(pa.int64())
        if len(ids) < 2 or pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
            values, first_rows, indices = ids, rows, None  # rising: distinct, each its own first appearance
        else:
            encoded = pc.dictionary_encode(ids)
            indices, values = encoded.indices, encoded.dictionary
            # distinct ids are numbered in the order they first appear: a row is a first appearance when its
            # number is above every number before it
            firsts = pc.greater(indices.slice(1), pc.cumulative_max(indices).slice(0, len(indices) - 1))
            first_rows = rows.filter(pa.concat_arrays([_TRUE, firsts]))
        runs = self._runs(values, first_rows)
        earlier = self._find(values, runs)
        self._keep(values, first_rows, runs, earlier)
        if indices is None and not earlier:
            return Repeats([], [])
        # each distinct id's first row: in an earlier batch if there, else in this one
        first = first_rows
        if earlier:
            before: list = [None] * len(values)
            for at, row in earlier.items():
                before[at] = row
            first = pc.coalesce(pa.array(before, pa.int64()), first_rows)
        first = first if indices is None else first.take(indices)
        again = pc.not_equal(first, rows)
        return Repeats(pc.indices_nonzero(again).to_pylist(), first.filter(again).to_pylist())

    # -- ranges

    def _runs(self, values: pa.Array, rows: pa.Array) -> list[_Run]:
        """The stretches of ``values`` (distinct, rows ``rows``) long enough to keep as ranges."""
        runs, at, misses = [], 0, 0
        shapes: dict = {}  # whether each id is above the one before; per key, which ids have its shape
        while at < len(values) and misses < self.MISSES:
            reading = reading_of(values[at].as_py())
            if reading is None:
                at, misses = at + 1, misses + 1
                continue
            key, number = reading
            row = rows[at].as_py()
            length = self._stretch(values, rows, at, key, number, row, shapes)
            # a short stretch is a range still where a batch cut it: at the end, or going on from a range kept
            if length >= self.MIN_RUN or (length > 1 and at + length == len(values)) or \
                    self._continues(key, number, row):
                runs.append(_Run(at, length, key, number, row))
                misses = 0
            else:
                misses += 1
            at += length
        return runs

    def _stretch(self, values: pa.Array, rows: pa.Array, at: int, key: tuple[str, int, str], number: int,
                 row: int, shapes: dict) -> int:
        """How many ids from ``at`` are ``key``'s with numbers and rows counting up from ``number``, ``row``."""
        head, width, tail = key

        def fits(i: int) -> bool:
            return rows[at + i].as_py() == row + i and values[at + i].as_py() == f"{head}{number + i:0{width}d}{tail}"

        # the end, from single ids: galloping, then bisection; the ids between are checked all at once after
        # (rows increase, so the rows between are those of the ends)
        good, step, n = 0, 1, len(values) - at
        while good + step < n and fits(good + step):
            good, step = good + step, step * 2
        bad = min(good + step, n)
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (middle, bad) if fits(middle) else (good, middle)
        if not good:
            return 1
        # the ends fit; the ids between do if each has the key's shape (its text before and after, and digits
        # between) and is above the one before: then their numbers are those between the ends, one by one
        # (an id out of line between ends that fit, such as a repeat in a number's place, cuts the stretch).
        # Where the ids fall or leave the shape is worked out once, as positions, and bisected for each
        # stretch: Arrow's ``index`` over each stretch's slice took 0.11 s of a 1M-row validate
        if "falls" not in shapes:  # i where values[i + 1] is not above values[i]
            shapes["falls"] = _where_not(pc.greater(values.slice(1), values.slice(0, len(values) - 1)))
        length = good + 1
        start, size, misfits = shapes.get(key, (0, 0, None))
        if misfits is None or at < start or at + good >= start + size:
            start, size, misfits = shapes[key] = at, good + 1, _where_not(shaped_like(values.slice(at, good + 1), key))
        misfit, fall = _first_in(misfits, at - start, at - start + good + 1), _first_in(shapes["falls"], at, at + good)
        for cut in (misfit - (at - start) if misfit >= 0 else -1, fall - at + 1 if fall >= 0 else 0):
            length = cut if 0 < cut < length else length
        return length if fits(length - 1) else self._fitting(values.slice(at, length), key, number)

    def _fitting(self, values: pa.Array, key: tuple[str, int, str], number: int) -> int:
        """How many of ``values`` (the first fits) are ``key``'s, with numbers counting up from ``number``."""
        fit = shaped_like(values, key, whole=True)
        cut = pc.index(fit, False).as_py()
        values = values.slice(0, cut) if cut >= 0 else values
        start = len(key[0].encode())
        digits = pc.binary_slice(values.view(pa.binary()), start, start + key[1]).view(pa.string())
        counted = pc.equal(pc.cast(digits, pa.int64()), pc.add(self._counting(len(digits)), pa.scalar(number, pa.int64())))
        stop = pc.index(counted, False).as_py()
        return stop if stop >= 0 else len(digits)

    def _counting(self, n: int) -> pa.Array:
        if len(self._count) < n:
            self._count = pa.array(range(max(n, 2 * len(self._count))), pa.int64())
        return self._count.slice(0, n)

    def _continues(self, key: tuple[str, int, str], number: int, row: int) -> bool:
        starts, ends, rows = self._ranges.get(key, ((), (), ()))
        k = bisect_right(starts, number) - 1
        return k >= 0 and ends[k] + 1 == number and rows[k] + number - starts[k] == row

    def _in_range(self, key: tuple[str, int, str], low: int, high: int) -> list[tuple[int, int]]:
        """The numbers from ``low`` to ``high`` kept under ``key``, each with the row it was first seen at."""
        starts, ends, rows = self._ranges.get(key, ((), (), ()))
        found = []
        k = bisect_right(starts, high) - 1
        while k >= 0 and ends[k] >= low:
            found += [(n, rows[k] + n - starts[k]) for n in range(max(low, starts[k]), min(high, ends[k]) + 1)]
            k -= 1
        return found

    def _keep_range(self, run: _Run) -> None:
        starts, ends, rows = self._ranges.setdefault(run.key, ([], [], []))
        low, high = run.number, run.number + run.length - 1
        k = bisect_right(starts, low)
        if k and ends[k - 1] + 1 == low and rows[k - 1] + low - starts[k - 1] == run.row:
            ends[k - 1] = high  # continues the range before it (a stretch cut by the end of a batch)
        else:
            starts.insert(k, low)
            ends.insert(k, high)
            rows.insert(k, run.row)

    # -- looking up and keeping

    def _find(self, values: pa.Array, runs: list[_Run]) -> dict[int, int]:
        """The distinct ids seen before: position -> the row first seen at."""
        earlier: dict[int, int] = {}
        covered = 0
        for run in runs:
            for n, row in self._in_range(run.key, run.number, run.number + run.length - 1):
                earlier[run.at + n - run.number] = row
            covered += run.length
        texts = self._text_ids(values, runs) if covered < len(values) else None
        if texts is not None and self._ranges:
            for at in texts.to_pylist():
                reading = reading_of(values[at].as_py())
                if reading is not None:
                    key, number = reading
                    for _, row in self._in_range(key, number, number):
                        earlier[at] = row
        if self.seen:
            # the ids in ranges may have been kept as text before, and the others are looked up there
            for at, row in self._find_text(values).items():
                earlier.setdefault(at, row)
        return earlier

    def _keep(self, values: pa.Array, rows: pa.Array, runs: list[_Run], earlier: dict[int, int]) -> None:
        """Keep the ids not seen before: the runs as ranges (but a run holding one seen before), the rest as text."""
        seen = sorted(earlier)
        whole = [run for run in runs if not _any_between(seen, run.at, run.at + run.length)]
        for run in whole:
            self._keep_range(run)
        rest = self._text_ids(values, whole)
        if rest is None:
            return
        if earlier:
            rest = pa.array([p for p in rest.to_pylist() if p not in earlier], pa.int64())
        if len(rest):
            self._keep_text(values.take(rest), rows.take(rest))

    def _text_ids(self, values: pa.Array, runs: list[_Run]) -> pa.Array | None:
        """The positions of the ids outside ``runs`` (None when there are none)."""
        if sum(run.length for run in runs) == len(values):
            return None
        if not runs:
            return self._counting(len(values))
        inside = [p for run in runs for p in (run.at, run.at + run.length)]
        return pa.array([p for a, b in zip([0, *inside[1::2]], [*inside[0::2], len(values)], strict=True) for p in range(a, b)],
                        pa.int64())

    def _find_text(self, values: pa.Array) -> dict[int, int]:
        """Among ``values``, those kept as text: position -> row."""
        if self._few is not None:
            # few text ids (strays among ranges): Arrow tells which of ``values`` are among them
            if len(self._few) > 1:
                self._few = [pa.concat_arrays(self._few)]
            hits = pc.is_in(values, value_set=self._few[0])
            if not pc.any(hits).as_py():
                return {}
            candidates = pc.indices_nonzero(hits)
        elif self._slots is not None:
            return self._look_up(values.to_pylist())
        else:
            above = None if self._top is None else pc.greater(values, pa.scalar(self._top, pa.string()))
            if above is not None and pc.all(above).as_py():
                return {}
            candidates = pc.indices_nonzero(pc.invert(above)) if above is not None else self._counting(len(values))
        found = {}
        for at, text in zip(candidates.to_pylist(), values.take(candidates).to_pylist(), strict=True):
            row = self._look_up([text]).get(0) if self._slots is not None else self._late.get(text)
            if row is None and self._slots is None:
                row = self._in_sorted(text)
            if row is not None:
                found[at] = row
        return found

    def _keep_text(self, values: pa.Array, rows: pa.Array) -> None:
        """Keep ``values`` (new, distinct) as text ids."""
        self.seen += len(values)
        if self._few is not None:
            self._few = self._few + [values] if self.seen <= self.FEW else None
        if self._slots is None:
            above = None if self._top is None else pc.greater(values, pa.scalar(self._top, pa.string()))
            late = [] if above is None or pc.all(above).as_py() else pc.indices_nonzero(pc.invert(above)).to_pylist()
            self.late += len(late)
            if self.late <= max(self.MIN_LATE, self.seen // self.LATE_SHARE):
                if late:
                    at = pa.array(late, pa.int64())
                    self._late.update(zip(values.take(at).to_pylist(), rows.take(at).to_pylist(), strict=True))
                    values, rows = values.filter(above), rows.filter(above)
                if len(values):
                    order = pc.sort_indices(values)
                    self._keep_sorted(values.take(order), rows.take(order))
                return
            self._build()
        self._hash_in(values, rows)

    def _keep_sorted(self, values: pa.Array, first_rows: pa.Array) -> None:
        """Keep ``values``, sorted and above every id kept: without the prefix they all share (ids in order
        often differ only at the end), and their rows as the first alone where they follow one another."""
        first, last = values[0].as_py(), values[len(values) - 1].as_py()
        self._firsts.append(first)
        self._top = last
        prefix = os.path.commonprefix([first, last])
        self._prefixes.append(prefix)
        if prefix:
            values = pc.utf8_slice_codeunits(values, len(prefix))
        self._keep_chunk(values, first_rows)

    def _in_sorted(self, text: str) -> int | None:
        """The row ``text`` was first seen at, if it is among the ids kept in order (by bisection)."""
        k = bisect_right(self._firsts, text) - 1
        if k < 0:
            return None
        chunk, prefix = self._chunks[k], self._prefixes[k]
        if not text.startswith(prefix):
            return None
        text = text[len(prefix):]
        lo, hi = 0, len(chunk)
        while lo < hi:
            mid = (lo + hi) // 2
            if chunk[mid].as_py() < text:
                lo = mid + 1
            else:
                hi = mid
        return self._row_in(k, lo) if lo < len(chunk) and chunk[lo].as_py() == text else None

    def _keep_chunk(self, values: pa.Array, first_rows: pa.Array) -> None:
        self._starts.append(self.size)
        self._chunks.append(values)
        if len(self._prefixes) < len(self._chunks):
            self._prefixes.append("")
        n, start = len(first_rows), first_rows[0].as_py()
        if first_rows[n - 1].as_py() - start == n - 1 and \
                (n < 2 or pc.all(pc.greater(first_rows.slice(1), first_rows.slice(0, n - 1))).as_py()):
            self._rows.append(start)  # rows increase: they follow one another
        else:
            self._rows.append(pc.cast(first_rows, pa.uint32()))  # rows up to 4 billion: 4 bytes an id
        self.size += len(values)

    def _texts(self, k: int) -> list[str]:
        """The ids of the ``k``th chunk kept."""
        prefix = self._prefixes[k]
        texts = self._chunks[k].to_pylist()
        return list(map(prefix.__add__, texts)) if prefix else texts

    def _row_in(self, k: int, n: int) -> int:
        rows = self._rows[k]
        return rows + n if isinstance(rows, int) else rows[n].as_py()

    def _build(self) -> None:
        """The table of hashes, for every text id kept so far (and every one from now on)."""
        if self._late:
            self._keep_chunk(pa.array(list(self._late), pa.string()), pa.array(list(self._late.values()), pa.int64()))
            self._late = {}
        self._hashes = array("q")
        for k in range(len(self._chunks)):
            self._hashes.extend(map(self.hash_id, self._texts(k)))
        self._slots = array("q", [_EMPTY]) * _capacity(self.size)
        self._place(range(self.size))

    def _hashed(self) -> tuple[array, array, Callable[[int], str]]:
        """The hash table's slots and hashes, once the ids are looked up by hash."""
        if self._slots is None or self._hashes is None:
            raise RuntimeError("ids are not kept by hash yet")  # a caller's bug: only hashed paths call this
        return self._slots, self._hashes, self._text

    def _look_up(self, texts: list[str]) -> dict[int, int]:
        """By hash: position -> the row each of ``texts`` was first seen at, for those kept."""
        found = {}
        slots, kept, text_of = self._hashed()
        mask = len(slots) - 1
        for n, text in enumerate(texts):
            h = self.hash_id(text)
            i = h & mask
            while (serial := slots[i]) != _EMPTY:
                if kept[serial] == h and text_of(serial) == text:
                    found[n] = self._row(serial)
                    break
                i = (i + 1) & mask
        return found

    def _hash_in(self, values: pa.Array, rows: pa.Array) -> None:
        start = self.size
        self._keep_chunk(values, rows)
        slots, hashes, _ = self._hashed()
        hashes.extend(map(self.hash_id, values.to_pylist()))
        if self.size * 2 > len(slots):
            self._slots = array("q", [_EMPTY]) * _capacity(self.size * 2)
            self._place(range(self.size))
        else:
            self._place(range(start, self.size))

    def _place(self, serials) -> None:
        slots, hashes, _ = self._hashed()
        mask = len(slots) - 1
        for serial in serials:
            i = hashes[serial] & mask
            while slots[i] != _EMPTY:
                i = (i + 1) & mask
            slots[i] = serial

    def _chunk_of(self, serial: int) -> int:
        return bisect_right(self._starts, serial) - 1

    def _text(self, serial: int) -> str:
        k = self._chunk_of(serial)
        return self._prefixes[k] + self._chunks[k][serial - self._starts[k]].as_py()

    def _row(self, serial: int) -> int:
        k = self._chunk_of(serial)
        return self._row_in(k, serial - self._starts[k])


def _any_between(positions: list[int], low: int, high: int) -> bool:
    """Whether one of ``positions`` (sorted) is from ``low`` to before ``high``."""
    k = bisect_left(positions, low)
    return k < len(positions) and positions[k] < high


def _capacity(size: int) -> int:
    capacity = 1 << 10
    while capacity < size * 2 + 2:
        capacity <<= 1
    return capacity


def _where_not(flags: pa.Array) -> list[int]:
    """The positions of the false flags."""
    return pc.indices_nonzero(pc.invert(flags)).to_pylist()


def _first_in(positions: list[int], low: int, high: int) -> int:
    """The first of the sorted ``positions`` from ``low`` up to ``high`` (excluded), or -1."""
    k = bisect_left(positions, low)
    return positions[k] if k < len(positions) and positions[k] < high else -1
