"""Exact duplicate ids across the batches of a file, in memory bounded by the ids themselves.

Each batch's ids are first made distinct by Arrow (``dictionary_encode``, exact: repeats inside the batch
are found there). The distinct ids that are new are kept, as Arrow text arrays (their bytes and offsets),
with the row each was first seen at. While every batch's ids come in increasing order and above all
before them (as registers number their cases), an id is new without a look-up. Otherwise the ids are
looked up in an open-addressing table of their hashes, and an id whose hash is found is compared, as
text, with the id kept there: two different ids sharing a hash are never taken for one, whatever the
hash. The hash function is injectable, so that a test can make every id collide.
"""
from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Callable, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DuplicateIds", "Repeats"]

_EMPTY = -1


class Repeats(NamedTuple):
    """The repeats among a batch's ids: their positions in the batch, and the rows the ids first appear at."""

    positions: list[int]
    first_rows: list[int]


class DuplicateIds:
    """The ids of a file, added a batch at a time in file order; ``add`` tells the repeats."""

    def __init__(self, hash_id: Callable[[str], int] = hash):
        self.hash_id = hash_id
        self._chunks: list[pa.Array] = []   # the distinct ids kept, batch after batch
        self._starts: list[int] = []        # the serial number of each chunk's first id
        self._rows = array("q")              # serial -> the row the id was first seen at
        self._hashes: array | None = None   # serial -> hash, once looked up by hash
        self._slots: array | None = None    # open addressing: serial, or _EMPTY
        self._top: str | None = None        # the greatest id, while they all come in order
        self.size = 0

    def add(self, ids: pa.Array, rows: pa.Array) -> Repeats:
        """``ids`` (text, none blank) at ``rows`` (increasing): the positions of those seen before."""
        if len(ids) == 0:
            return Repeats([], [])
        encoded = pc.dictionary_encode(ids)
        indices, values = encoded.indices, encoded.dictionary
        # distinct ids are numbered in the order they first appear: a row is a first appearance when its
        # number is above every number before it
        before = pc.cumulative_max(indices)
        firsts = pc.greater(indices.slice(1), before.slice(0, len(indices) - 1))
        repeated = not pc.all(firsts).as_py() if len(indices) > 1 else False
        first_at = pc.indices_nonzero(pa.concat_arrays([pa.array([True]), firsts])) if repeated else None
        first_rows = rows if first_at is None else rows.take(first_at)
        if self._slots is None and self._in_order(values):
            self._keep(values, first_rows)
            if not repeated:
                return Repeats([], [])
            earlier = [None] * len(values)
        else:
            earlier = self._look_up(values, first_rows)
        return _repeats(indices, rows, first_rows, earlier, repeated)

    def _in_order(self, values: pa.Array) -> bool:
        """Whether ``values`` rise and start above every id kept (then none of them is kept yet)."""
        if self._top is not None and values[0].as_py() <= self._top:
            return False
        return len(values) < 2 or pc.all(pc.greater(values.slice(1), values.slice(0, len(values) - 1))).as_py()

    def _keep(self, values: pa.Array, first_rows: pa.Array) -> None:
        self._starts.append(self.size)
        self._chunks.append(values)
        self._rows.extend(first_rows.to_pylist())
        self.size += len(values)
        if self._slots is None:
            self._top = values[len(values) - 1].as_py()

    def _look_up(self, values: pa.Array, first_rows: pa.Array) -> list[int | None]:
        """For each distinct id, the row it was first seen at in an earlier batch, or None (then it is kept)."""
        if self._slots is None:
            self._build()
        texts = values.to_pylist()
        hashes = list(map(self.hash_id, texts))
        earlier: list[int | None] = []
        new = []
        slots, kept_hashes = self._slots, self._hashes
        mask = len(slots) - 1
        for n, (text, h) in enumerate(zip(texts, hashes)):
            i = h & mask
            while True:
                serial = slots[i]
                if serial == _EMPTY:
                    earlier.append(None)
                    new.append(n)
                    break
                if kept_hashes[serial] == h and self._text(serial) == text:
                    earlier.append(self._rows[serial])
                    break
                i = (i + 1) & mask
        if new:
            rows = first_rows.to_pylist()
            start = self.size
            self._keep(values.take(pa.array(new, pa.int64())) if len(new) < len(texts) else values,
                       pa.array([rows[n] for n in new], pa.int64()))
            for k, n in enumerate(new):
                self._hashes.append(hashes[n])
                self._insert(start + k, hashes[n])
        return earlier

    def _text(self, serial: int) -> str:
        k = bisect_right(self._starts, serial) - 1
        return self._chunks[k][serial - self._starts[k]].as_py()

    def _build(self) -> None:
        """The table of hashes, for the ids kept in order so far (and every id from now on)."""
        self._hashes = array("q")
        for chunk in self._chunks:
            self._hashes.extend(map(self.hash_id, chunk.to_pylist()))
        self._slots = array("q", [_EMPTY]) * _capacity(self.size)
        for serial, h in enumerate(self._hashes):
            self._place(serial, h)

    def _insert(self, serial: int, h: int) -> None:
        if (serial + 1) * 2 > len(self._slots):
            self._slots = array("q", [_EMPTY]) * (len(self._slots) * 2)
            for s, kept in enumerate(self._hashes):
                if s != serial:
                    self._place(s, kept)
        self._place(serial, h)

    def _place(self, serial: int, h: int) -> None:
        slots = self._slots
        mask = len(slots) - 1
        i = h & mask
        while slots[i] != _EMPTY:
            i = (i + 1) & mask
        slots[i] = serial


def _capacity(size: int) -> int:
    capacity = 1 << 10
    while capacity < size * 2 + 2:
        capacity <<= 1
    return capacity


def _repeats(indices: pa.Array, rows: pa.Array, first_rows: pa.Array, earlier: list[int | None],
             repeated: bool) -> Repeats:
    """The rows whose id was seen in an earlier batch, or earlier in this one."""
    if not repeated and all(e is None for e in earlier):
        return Repeats([], [])
    firsts = first_rows.to_pylist()
    # each distinct id's first row, in an earlier batch if there, else in this one
    first = [e if e is not None else f for e, f in zip(earlier, firsts)]
    row_list, index_list = rows.to_pylist(), indices.to_pylist()
    positions, first_rows_out = [], []
    for position, (row, index) in enumerate(zip(row_list, index_list)):
        if first[index] != row:
            positions.append(position)
            first_rows_out.append(first[index])
    return Repeats(positions, first_rows_out)
