"""Exact duplicate ids across the batches of a file, in memory bounded by the ids themselves.

Each batch's ids are first made distinct by Arrow (``dictionary_encode``, exact: repeats inside the batch
are found there). Most registers number their cases in order, so most ids are above every id before
them, and such an id is new: it needs no look-up. Those are kept sorted, as Arrow text arrays (their
bytes and offsets) with the row each was first seen at, one array a batch, each above the one before.
The few ids that are not above all before them are looked up by bisection among those, and in a dict of
the ones that were new. When many come so (ids in no order, such as UUIDs), every id kept moves to an
open-addressing table of hashes, and an id whose hash is found there is compared, as text, with the id
kept: two different ids sharing a hash are never taken for one, whatever the hash. The hash function is
injectable, so that a test can make ids collide all the time.
"""
from __future__ import annotations

import os
from array import array
from bisect import bisect_right
from typing import Callable, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DuplicateIds", "Repeats"]

_EMPTY = -1
_TOO_LATE = object()


class Repeats(NamedTuple):
    """The repeats among a batch's ids: their positions in the batch, and the rows the ids first appear at."""

    positions: list[int]
    first_rows: list[int]


class DuplicateIds:
    """The ids of a file, added a batch at a time in file order; ``add`` tells the repeats."""

    LATE_SHARE = 32     # ids not above all before them, at most one in this many, else the table of hashes
    MIN_LATE = 4096     # ... once past this many

    def __init__(self, hash_id: Callable[[str], int] = hash):
        self.hash_id = hash_id
        self._chunks: list[pa.Array] = []   # the distinct ids kept, in the order kept (after their prefix)
        self._prefixes: list[str] = []      # the prefix each chunk's ids share
        self._rows: list[pa.Array | int] = []  # the row each was first seen at, chunk for chunk (or the first)
        self._starts: list[int] = []        # the serial number of each chunk's first id
        self._firsts: list[str] = []        # each chunk's first (least) id, while they are sorted
        self._top: str | None = None        # the greatest id kept in order
        self._late: dict[str, int] = {}     # id -> row, for the ids kept out of order
        self._hashes: array | None = None   # serial -> hash, once looked up by hash
        self._slots: array | None = None    # open addressing: serial, or _EMPTY
        self.size = self.seen = self.late = 0

    def add(self, ids: pa.Array, rows: pa.Array) -> Repeats:
        """``ids`` (text, none blank) at ``rows`` (increasing): the positions of those seen before."""
        if len(ids) == 0:
            return Repeats([], [])
        if self._slots is None and self._rising(ids):
            # the common case, ids in order: all distinct and all new, nothing to hash or look up
            self.seen += len(ids)
            self._keep_sorted(ids, rows)
            return Repeats([], [])
        encoded = pc.dictionary_encode(ids)
        indices, values = encoded.indices, encoded.dictionary
        # distinct ids are numbered in the order they first appear: a row is a first appearance when its
        # number is above every number before it
        firsts = pc.greater(indices.slice(1), pc.cumulative_max(indices).slice(0, len(indices) - 1))
        repeated = len(indices) > 1 and not pc.all(firsts).as_py()
        first_rows = rows.take(pc.indices_nonzero(pa.concat_arrays([pa.array([True]), firsts]))) if repeated else rows
        self.seen += len(values)
        if self._slots is not None:
            earlier = self._look_up(values, first_rows)
        else:
            earlier = self._in_order(values, first_rows)
            if earlier is _TOO_LATE:
                self._build()
                earlier = self._look_up(values, first_rows)
        if not repeated and earlier is None:
            return Repeats([], [])
        # each distinct id's first row: in an earlier batch if there, else in this one
        first = first_rows if earlier is None else pc.coalesce(pa.array(earlier, pa.int64()), first_rows)
        first = pc.cast(first, pa.int64()).take(indices)
        again = pc.not_equal(first, pc.cast(rows, pa.int64()))
        return Repeats(pc.indices_nonzero(again).to_pylist(), first.filter(again).to_pylist())

    def _in_order(self, values: pa.Array, first_rows: pa.Array):
        """``add`` while ids are kept sorted: each distinct id's earlier row (None if new; None for all when
        none is found), or _TOO_LATE when too many ids come out of order."""
        above = None if self._top is None else pc.greater(values, self._top)
        late = [] if above is None or pc.all(above).as_py() else pc.indices_nonzero(pc.invert(above)).to_pylist()
        self.late += len(late)
        if self.late > max(self.MIN_LATE, self.seen // self.LATE_SHARE):
            return _TOO_LATE
        earlier: list | None = None
        if late:
            earlier = [None] * len(values)
            texts, rows = values.take(pa.array(late, pa.int64())).to_pylist(), first_rows.take(late).to_pylist()
            for position, text, row in zip(late, texts, rows):
                found = self._late.get(text)
                if found is None:
                    found = self._in_sorted(text)
                if found is None:
                    self._late[text] = row
                earlier[position] = found
            if not any(e is not None for e in earlier):
                earlier = None
            values, first_rows = values.filter(above), first_rows.filter(above)
        if len(values):
            order = pc.sort_indices(values)
            self._keep_sorted(values.take(order), first_rows.take(order))
        return earlier

    def _rising(self, ids: pa.Array) -> bool:
        """Whether ``ids`` rise, from above every id kept."""
        if self._top is not None and not ids[0].as_py() > self._top:
            return False
        return len(ids) < 2 or pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py()

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
        self._keep(values, first_rows)

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

    def _keep(self, values: pa.Array, first_rows: pa.Array) -> None:
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
        """The table of hashes, for every id kept so far (and every id from now on)."""
        if self._late:
            self._keep(pa.array(list(self._late), pa.string()), pa.array(list(self._late.values()), pa.int64()))
            self._late = {}
        self._hashes = array("q")
        for k in range(len(self._chunks)):
            self._hashes.extend(map(self.hash_id, self._texts(k)))
        self._slots = array("q", [_EMPTY]) * _capacity(self.size)
        self._place(range(self.size))

    def _look_up(self, values: pa.Array, first_rows: pa.Array) -> list | None:
        """For each distinct id, the row it was first seen at (None if new: then it is kept); None for all
        when none is found."""
        texts = values.to_pylist()
        hashes = list(map(self.hash_id, texts))
        earlier: list = [None] * len(texts)
        new, found = [], False
        slots, kept, text_of = self._slots, self._hashes, self._text
        mask = len(slots) - 1
        for n, h in enumerate(hashes):
            i = h & mask
            while True:
                serial = slots[i]
                if serial == _EMPTY:
                    new.append(n)
                    break
                if kept[serial] == h and text_of(serial) == texts[n]:
                    earlier[n] = self._row(serial)
                    found = True
                    break
                i = (i + 1) & mask
        if new:
            start = self.size
            every = len(new) == len(texts)
            at = None if every else pa.array(new, pa.int64())
            self._keep(values if every else values.take(at), first_rows if every else first_rows.take(at))
            self._hashes.extend(hashes if every else [hashes[n] for n in new])
            if self.size * 2 > len(self._slots):
                self._slots = array("q", [_EMPTY]) * _capacity(self.size * 2)
                self._place(range(self.size))
            else:
                self._place(range(start, self.size))
        return earlier if found else None

    def _place(self, serials) -> None:
        slots, hashes = self._slots, self._hashes
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


def _capacity(size: int) -> int:
    capacity = 1 << 10
    while capacity < size * 2 + 2:
        capacity <<= 1
    return capacity
