"""Duplicate ids in files of millions of rows, in little time and memory.

Most registers number their cases in order and export them in that order, so an id is usually above
every id before it, and such an id is new: it needs no look-up. While ids come so, ``IdIndex`` keeps
them as text, in runs in increasing order, and looks up by bisection only the few that are not above
all before them (a repeated id, a case entered late). When many ids come out of order, or their text
would take too much memory, it keeps every id from then on as a 64-bit digest in an ``IdTable``.

There, two different ids share a digest with a probability of about 1 in 4 million for 3 million
ids; then the later one is reported as a duplicate. The digest is stable, so that such a rare false
duplicate is the same in every run: the same input gives the same report.
"""
from __future__ import annotations

import hashlib
import operator
import sys
from array import array
from bisect import bisect_left
from itertools import accumulate, compress, count, islice, repeat
from typing import Sequence

__all__ = ["IdIndex", "IdTable", "NotedIds", "WorkerIds", "id_digests", "late_positions"]


def late_positions(ids: Sequence[str]) -> list[int]:
    """The positions in ``ids`` of those not above every id before them."""
    # maps of C functions: no Python call per id
    peaks = accumulate(ids, max)
    return list(compress(count(1), map(operator.le, islice(ids, 1, None), peaks)))


class NotedIds:
    """A block's ids in file order, and their row numbers, as a worker notes them and sends them on: the ids
    as one string, a line each (a list of strings costs more to send), or with their lengths where an id
    holds a line feed; with what ``WorkerIds.prepare`` worked out."""

    def __init__(self):
        self.rows = array("q")
        self.late: list[int] | None = None
        self.digests: bytes | None = None
        self._ids: list[str] | None = []
        self._sent: tuple[str, array | None] | None = None

    def note(self, numbers: Sequence[int], ids: list[str]) -> None:
        self.rows.extend(numbers)
        self._ids += ids

    def values(self) -> list[str]:
        """The ids noted, in order."""
        if self._ids is None:
            text, lengths = self._sent
            if not self.rows:
                self._ids = []
            elif lengths is None:
                self._ids = text.split("\n")
            else:
                ends = list(accumulate(lengths))
                self._ids = list(map(text.__getitem__, map(slice, map(operator.sub, ends, lengths), ends)))
        return self._ids

    def __getstate__(self) -> tuple:
        ids = self.values()
        text, lengths = "\n".join(ids), None
        if text.count("\n") != len(ids) - 1:
            text, lengths = "".join(ids), array("Q", map(len, ids))
        return self.rows, self.late, self.digests, text, lengths

    def __setstate__(self, state: tuple) -> None:
        self.rows, self.late, self.digests, *sent = state
        self._ids, self._sent = None, tuple(sent)


class WorkerIds:
    """In a worker process: what ``IdIndex.add`` will need of each block's ids, worked out beside the other
    workers. Digests, for a block whose ids are out of order (below the greatest of the worker's earlier
    blocks, or of their own block), as a file that has them is likely to be looked up by digest."""

    def __init__(self):
        self.peak: str | None = None

    def prepare(self, noted: NotedIds) -> None:
        """Set ``noted.late`` to ``late_positions`` of its ids or, for ids out of order, ``noted.digests``
        to their digests."""
        ids = noted.values()
        if not ids:
            noted.late = []
            return
        peak, self.peak = self.peak, max(ids) if self.peak is None else max(self.peak, max(ids))
        if peak is not None and ids[0] <= peak and sum(map(peak.__ge__, ids)) * IdIndex.LOOKUP_SHARE > len(ids):
            noted.digests = id_digests(ids)
            return
        late = late_positions(ids)
        if len(late) * IdIndex.LOOKUP_SHARE > len(ids):
            noted.digests = id_digests(ids)
        else:
            noted.late = late


class IdIndex:
    """The ids of a file, added a block at a time in file order, to find those seen before.

    The runs of ids kept in order hold text, a run per block; the ids out of order that were new are
    kept in a set. Digests (``IdTable``) take over once more than one id in LOOKUP_SHARE (and over
    MIN_LOOKUPS) had to be looked up, or once the runs would pass TEXT_LIMIT bytes."""

    LOOKUP_SHARE = 32
    MIN_LOOKUPS = 4096
    TEXT_LIMIT = 48 << 20

    def __init__(self):
        self.seen = self.looked_up = 0
        self._top: str | None = None     # the greatest id so far
        self._lasts: list[str] = []      # the last (greatest) id of each run
        self._runs: list[tuple[str, int | array, int]] = []  # (text, width or ends of the ids, count)
        self._late: set[str] = set()
        self._size = 0                   # bytes the runs take
        self._expected = 0
        self._table: IdTable | None = None

    def reserve(self, expected: int) -> None:
        """About ``expected`` ids are coming in all (for the digests' table, if there is one)."""
        self._expected = expected
        if self._table is not None:
            self._table.reserve(expected)

    @property
    def by_digest(self) -> bool:
        """Whether ids are looked up by digest now."""
        return self._table is not None

    def add_noted(self, noted: NotedIds) -> list[int]:
        """``add`` for the ids of a block, with what a worker worked out of them."""
        if self._table is not None and noted.digests is not None:
            self.seen += len(noted.rows)
            return self._table.add_many(array("Q", noted.digests))
        return self.add(noted.values(), noted.late, noted.digests)

    def add(self, ids: Sequence[str], late: Sequence[int] | None = None, digests: bytes | None = None) -> list[int]:
        """Add ``ids``, the next in file order; return the positions in ``ids`` of those seen before
        (earlier in ``ids`` or in an earlier call). ``late``: ``late_positions(ids)``, and ``digests``:
        ``id_digests(ids)``, if at hand."""
        if self._table is None:
            found = self._add_in_order(ids, late_positions(ids) if late is None else late)
            if found is not None:
                return found
            self._to_table()
        self.seen += len(ids)
        return self._table.add_many(array("Q", id_digests(ids) if digests is None else digests))

    def _add_in_order(self, ids: Sequence[str], late: Sequence[int]) -> list[int] | None:
        """``add`` with the runs; None (and nothing added) where digests should take over."""
        head = 0  # the ids at the start not above the greatest so far
        if self._top is not None:
            while head < len(ids) and ids[head] <= self._top:
                head += 1
        lookups = sorted({*range(head), *late}) if head else late
        if self.looked_up + len(lookups) > max(self.MIN_LOOKUPS, (self.seen + len(ids)) // self.LOOKUP_SHARE):
            return None
        in_order = ids
        if lookups:
            keep = bytearray(b"\1") * len(ids)
            for n in lookups:
                keep[n] = 0
            in_order = list(compress(ids, keep))
        run = _run(in_order) if in_order else None
        if run is not None and self._size + run[3] > self.TEXT_LIMIT:
            return None
        found = []
        for n in lookups:
            if ids[n] in self._late or self._in_runs(ids[n]) or _in_sorted(in_order, ids[n]):
                found.append(n)
            else:
                self._late.add(ids[n])
        if run is not None:
            self._runs.append(run[:3])
            self._size += run[3]
            self._top = in_order[-1]
            self._lasts.append(self._top)
        self.seen += len(ids)
        self.looked_up += len(lookups)
        return found

    def _in_runs(self, value: str) -> bool:
        r = bisect_left(self._lasts, value)  # the runs are in increasing order, one after the other
        if r == len(self._lasts):
            return False
        ids = _RunIds(*self._runs[r])
        n = bisect_left(ids, value)
        return n < len(ids) and ids[n] == value

    def _to_table(self) -> None:
        table = IdTable()
        table.reserve(max(self._expected, self.seen))
        for text, shape, size in self._runs:
            table.add_many(array("Q", id_digests(list(_RunIds(text, shape, size)))))
        table.add_many(array("Q", id_digests(sorted(self._late))))
        self._table, self._runs, self._lasts, self._late = table, [], [], set()


def _run(ids: Sequence[str]) -> tuple[str, int | array, int, int]:
    """(text, width or ends, count, size) for ids in increasing order: one string and, for ids not all of
    the same length, where each ends."""
    lengths = list(map(len, ids))
    text = "".join(ids)
    if lengths.count(lengths[0]) == len(lengths):
        return text, lengths[0], len(ids), sys.getsizeof(text)
    ends = array("I", accumulate(lengths))
    return text, ends, len(ids), sys.getsizeof(text) + sys.getsizeof(ends)


class _RunIds:
    """The ids of a run, as a sequence for ``bisect``."""

    def __init__(self, text: str, shape: int | array, size: int):
        self.text, self.shape, self.size = text, shape, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, n: int) -> str:
        if n < 0 or n >= self.size:
            raise IndexError(n)
        if isinstance(self.shape, int):
            return self.text[n * self.shape:(n + 1) * self.shape]
        return self.text[self.shape[n - 1] if n else 0:self.shape[n]]


def _in_sorted(ids: Sequence[str], value: str) -> bool:
    n = bisect_left(ids, value)
    return n < len(ids) and ids[n] == value


def id_digests(ids: list[str]) -> bytes:
    """A stable 64-bit digest of each id, end to end, for an ``array("Q")``."""
    # Not Python's hash(), which is salted per interpreter: with it, the rare false duplicate-id (two ids
    # sharing 64 bits, about 1 in 4 million for 3 million ids) would come and go between runs, and the
    # same input must give the same report. Maps of C functions: no Python call per id.
    encoded = map(str.encode, ids, repeat("utf-8"), repeat("surrogatepass"))
    # the first 8 bytes of each 32-byte BLAKE2s digest: BLAKE2s without a digest_size argument is the
    # quickest of hashlib's hashes on short input
    digests = array("Q", b"".join(map(_DIGEST, map(hashlib.blake2s, encoded))))
    return digests[::4].tobytes()


_DIGEST = operator.methodcaller("digest")


class IdTable:
    """64-bit id hashes in open-addressing tables: 11 to 21 bytes per id, where a Python set of ints takes
    about 70, which is what keeps a file of millions of rows well under the memory budget. The ids are
    spread by the hash's top byte over 256 tables, so growing one (old and new array held at once,
    at 3/4 load) costs little memory."""

    RESERVE_LIMIT = 1 << 14  # slots per table reserved on an estimate: 32 MB in all

    def __init__(self, size: int = 1 << 8):
        self._tables = [array("Q", bytes(8 * size)) for _ in range(256)]
        self._counts = [0] * 256

    def reserve(self, expected: int) -> None:
        """Make room for about ``expected`` ids at once, rather than growing the tables as they fill (up to
        RESERVE_LIMIT slots a table: beyond that, an estimate off by much would cost too much memory)."""
        for shard, slots in enumerate(self._tables):
            while len(slots) < self.RESERVE_LIMIT and len(slots) * 3 < expected // 256 * 4:
                self._grow(shard)
                slots = self._tables[shard]

    def add(self, key: int) -> bool:
        """Add ``key``; False when it was already there."""
        return not self.add_many((key,))

    def add_many(self, keys) -> list[int]:
        """Add ``keys`` in order; the positions in ``keys`` of those already there."""
        # one loop with locals, no call per key: the caller adds every id of the file, one process for all
        tables, counts = self._tables, self._counts
        found = []
        for n, key in enumerate(keys):
            key = key or 1  # 0 marks an empty slot
            shard = key >> 56
            slots = tables[shard]
            mask = len(slots) - 1
            i = key & mask
            while True:
                slot = slots[i]
                if not slot:
                    slots[i] = key
                    counts[shard] += 1
                    if counts[shard] * 4 > (mask + 1) * 3:
                        self._grow(shard)
                    break
                if slot == key:
                    found.append(n)
                    break
                i = (i + 1) & mask
        return found

    def _grow(self, shard: int) -> None:
        old = self._tables[shard]
        slots = self._tables[shard] = array("Q", bytes(16 * len(old)))
        mask = len(slots) - 1
        for key in old:
            if key:
                i = key & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = key
