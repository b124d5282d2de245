"""Duplicate ids in files of millions of rows, in little time and memory.

Most registers number their cases in order and export them in that order, so an id is usually above
every id before it, and such an id is new: it needs no look-up. While ids come so, ``IdIndex`` keeps
them as text, in runs in increasing order, and looks up by bisection only the few that are not above
all before them (a repeated id, a case entered late). When many ids come out of order, or their text
would take too much memory, it moves every id to an ``IdTable`` of 64-bit digests, and looks up every id
after it there.

Each id is kept with the row it was first seen at (4 bytes more an id), so that a repeat can name the
earlier row: ``IdIndex.earlier`` after each ``add``.

There, two different ids share a digest with a probability of about 1 in 4 million for 3 million
ids; then the later one is reported as a duplicate. The digest is stable, so that such a rare false
duplicate is the same in every run: the same input gives the same report.
"""
from __future__ import annotations

import hashlib
import operator
import os
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
    blocks, or of their own block) or in order but sharing a short prefix, as a file that has them is
    likely to be looked up by digest."""

    def __init__(self):
        self.peak: str | None = None

    def prepare(self, noted: NotedIds) -> None:
        """Set ``noted.late`` to ``late_positions`` of its ids or ``noted.digests`` to their digests."""
        ids = noted.values()
        if not ids:
            noted.late = []
            return
        peak, self.peak = self.peak, max(ids) if self.peak is None else max(self.peak, max(ids))
        if peak is not None and ids[0] <= peak and sum(map(peak.__ge__, ids)) * IdIndex.LOOKUP_SHARE > len(ids):
            noted.digests = id_digests(ids)
            return
        if len(ids[-1]) - len(os.path.commonprefix([ids[0], ids[-1]])) > IdIndex.SHORT_REST:
            # ids that share a short prefix (out of order, or such as sorted UUIDs): digests would take over
            noted.digests = id_digests(ids)
            return
        late = late_positions(ids)
        if len(late) * IdIndex.LOOKUP_SHARE > len(ids):
            noted.digests = id_digests(ids)
        else:
            noted.late = late


class IdIndex:
    """The ids of a file, added a block at a time in file order, to find those seen before.

    The ids kept in order are held as text, in runs of RUN_SIZE ids (the prefix they share, then the
    rest of each); the ids out of order that were new, in a set. Digests (``IdTable``) take over, for
    every id from there on and for those before it too, at the first id past one look-up in
    LOOKUP_SHARE (once over MIN_LOOKUPS), or after a run that takes the runs past TEXT_LIMIT bytes or
    that takes more than SHORT_REST + 4 bytes an id. Both are counted in the ids of the file, not of a
    block, so that the place is the same however the file is cut into blocks: one process or several,
    the same ids are compared as text, the same by digest, and the report is the same."""

    LOOKUP_SHARE = 32
    MIN_LOOKUPS = 4096
    TEXT_LIMIT = 16 << 20
    RUN_SIZE = 4096  # ids kept in order, a run: counted in the ids of the file, not of a block
    SHORT_REST = 8   # characters after the shared prefix, beyond which a worker sends digests all the same

    def __init__(self):
        self.seen = self.looked_up = 0
        self.size = 0                    # bytes the runs take
        self.switched_at: int | None = None  # the ids before the first one looked up by digest
        self._top: str | None = None     # the greatest id so far
        self._lasts: list[str] = []      # the last (greatest) id of each run
        self._runs: list[_Run] = []
        self._pending: list[str] = []    # ids kept in order, not yet RUN_SIZE of them for a run
        self._full = False               # a run has closed past a limit: digests take over
        self._late: dict[str, int] = {}  # -> row
        self._expected = 0
        self._table: IdTable | None = None
        self._run_rows = array("I")      # the row of each id in the runs, run after run
        self._pending_rows: list[int] = []
        self.earlier: list[int] = []     # after ``add``: the row each id found was first seen at

    def reserve(self, expected: int) -> None:
        """About ``expected`` ids are coming in all (for the digests' table, if there is one)."""
        self._expected = expected
        if self._table is not None:
            self._table.reserve(expected)

    @property
    def by_digest(self) -> bool:
        """Whether ids are looked up by digest now."""
        return self._table is not None

    def add_noted(self, noted: NotedIds, before: int = 0) -> list[int]:
        """``add`` for the ids of a block, with what a worker worked out of them; its rows follow row ``before``."""
        rows = array("I", map(before.__add__, noted.rows)) if before else array("I", noted.rows)
        if self._table is not None and noted.digests is not None:
            self.seen += len(noted.rows)
            found, self.earlier = self._table.add_many(array("Q", noted.digests), rows)
            return found
        return self.add(noted.values(), noted.late, noted.digests, rows)

    def add(self, ids: Sequence[str], late: Sequence[int] | None = None, digests: bytes | None = None,
            rows: Sequence[int] | None = None) -> list[int]:
        """Add ``ids``, the next in file order, at ``rows`` (by default numbered on from the ids before, from
        1); return the positions in ``ids`` of those seen before (earlier in ``ids`` or in an earlier call),
        and set ``earlier`` to the rows they were first seen at. ``late``: ``late_positions(ids)``, and
        ``digests``: ``id_digests(ids)``, if at hand."""
        if rows is None:
            rows = range(self.seen + 1, self.seen + 1 + len(ids))
        found, done, self.earlier = [], 0, []
        if self._table is None:
            found, done = self._add_in_order(ids, late_positions(ids) if late is None else late, rows)
            if done == len(ids) and not self._full:
                return found
            self._to_table()
        rest = id_digests(ids[done:]) if digests is None else digests[8 * done:]
        self.seen += len(ids) - done
        more, earlier = self._table.add_many(array("Q", rest), array("I", rows[done:]))
        self.earlier += earlier
        return found + [done + n for n in more]

    def _add_in_order(self, ids: Sequence[str], late: Sequence[int], rows: Sequence[int]) -> tuple[list[int], int]:
        """``add`` with the runs, for the ids before the first past a limit: (found, how many ids done)."""
        head = 0  # the ids at the start not above the greatest so far
        if self._top is not None:
            while head < len(ids) and ids[head] <= self._top:
                head += 1
        lookups = sorted({*range(head), *late}) if head else list(late)
        done = len(ids)
        for k, n in enumerate(lookups):
            if self.looked_up + k + 1 > max(self.MIN_LOOKUPS, (self.seen + n + 1) // self.LOOKUP_SHARE):
                done, lookups = n, lookups[:k]
                break
        keep = bytearray(b"\1") * done
        for n in lookups:
            keep[n] = 0
        in_order = ids if done == len(ids) and not lookups else list(compress(ids, keep))
        in_order_rows = list(compress(rows, keep))
        runs, size, pending = [], self.size, self._pending + in_order
        step = self.RUN_SIZE
        for start in range(0, len(pending) - step + 1, step):
            runs.append(_Run.of(pending[start:start + step]))
            size += runs[-1].size
            # digests from the id after the one that closed this run, if the runs take too much memory or
            # this one takes more than digests would (ids that share a short prefix, such as sorted UUIDs)
            if size > self.TEXT_LIMIT or runs[-1].size > (self.SHORT_REST + 4) * step:
                ended = start + step - len(self._pending)
                done = list(compress(count(), keep))[ended - 1] + 1
                in_order, lookups, pending = in_order[:ended], [n for n in lookups if n < done], []
                in_order_rows = in_order_rows[:ended]
                self._full = True
                break
        found, earlier = [], []
        for n in lookups:
            row = self._late.get(ids[n])
            if row is None:
                row = self._in_runs(ids[n])
            if row is None:
                at = _position(in_order, ids[n])
                row = None if at is None else in_order_rows[at]
            if row is None:
                self._late[ids[n]] = rows[n]
            else:
                found.append(n)
                earlier.append(row)
        self.earlier = earlier
        pending_rows = self._pending_rows + in_order_rows
        self._run_rows.extend(pending_rows[:len(runs) * step])
        self._runs += runs
        self._lasts += [run.last for run in runs]
        self._pending = pending[len(runs) * step:]
        self._pending_rows = [] if self._full else pending_rows[len(runs) * step:]
        if in_order:
            self._top = in_order[-1]
        self.seen += done
        self.looked_up += len(lookups)
        self.size = size
        return found, done

    def _in_runs(self, value: str) -> int | None:
        """The row ``value`` was seen at, if it is in the runs or the ids pending for one."""
        r = bisect_left(self._lasts, value)  # the runs are in increasing order, one after the other
        if r < len(self._lasts):
            at = self._runs[r].position(value)
            return None if at is None else self._run_rows[r * self.RUN_SIZE + at]
        at = _position(self._pending, value)
        return None if at is None else self._pending_rows[at]

    def _to_table(self) -> None:
        self.switched_at = self.seen
        table = IdTable()
        table.reserve(max(self._expected, self.seen))
        step = self.RUN_SIZE
        while self._runs:  # a run at a time, each let go once in the table
            r = len(self._runs) - 1
            table.add_many(array("Q", id_digests(self._runs.pop().values())), self._run_rows[r * step:(r + 1) * step])
            del self._run_rows[r * step:]
        late = sorted(self._late)
        table.add_many(array("Q", id_digests(self._pending + late)),
                       array("I", self._pending_rows[:len(self._pending)] + [self._late[i] for i in late]))
        self._table, self._lasts, self._late, self._pending, self._pending_rows = table, [], {}, [], []


class _Run:
    """Ids in increasing order, in little memory: the prefix they share (ids in order often differ only
    at the end), then the rest of each id in one string, with where each ends unless all are as long."""

    def __init__(self, prefix: str, text: str, ends: int | array, count: int, last: str):
        self.prefix, self.text, self.ends, self.count, self.last = prefix, text, ends, count, last
        # what it takes in memory, from its content alone (so the same however the file was cut)
        self.size = sys.getsizeof(text) + (0 if isinstance(ends, int) else sys.getsizeof(ends))

    @classmethod
    def of(cls, ids: Sequence[str]) -> _Run:
        prefix = os.path.commonprefix([ids[0], ids[-1]])  # of them all, as they are in order
        rests = list(map(operator.getitem, ids, repeat(slice(len(prefix), None)))) if prefix else ids
        lengths = list(map(len, rests))
        text = "".join(rests)
        if lengths.count(lengths[0]) == len(lengths):
            return cls(prefix, text, lengths[0], len(ids), ids[-1])
        ends = array("H" if len(text) < 1 << 16 else "I", accumulate(lengths))
        return cls(prefix, text, ends, len(ids), ids[-1])

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, n: int) -> str:
        """The rest of the ``n``th id, after the prefix (a sequence for ``bisect``)."""
        if n < 0 or n >= self.count:
            raise IndexError(n)
        if isinstance(self.ends, int):
            return self.text[n * self.ends:(n + 1) * self.ends]
        return self.text[self.ends[n - 1] if n else 0:self.ends[n]]

    def __contains__(self, value: str) -> bool:
        return self.position(value) is not None

    def position(self, value: str) -> int | None:
        """Where ``value`` is in the run, if it is."""
        return _position(self, value[len(self.prefix):]) if value.startswith(self.prefix) else None

    def values(self) -> list[str]:
        if isinstance(self.ends, int):
            width = self.ends
            starts = range(0, width * self.count, width) if width else [0] * self.count
            rests = map(self.text.__getitem__, map(slice, starts, map(width.__add__, starts)))
        else:
            ends = list(self.ends)
            rests = map(self.text.__getitem__, map(slice, [0] + ends[:-1], ends))
        return list(map(self.prefix.__add__, rests))


def _in_sorted(ids: Sequence[str], value: str) -> bool:
    return _position(ids, value) is not None


def _position(ids: Sequence[str], value: str) -> int | None:
    n = bisect_left(ids, value)
    return n if n < len(ids) and ids[n] == value else None


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
    """64-bit id hashes in open-addressing tables, each with the row it was first seen at: 16 to 32 bytes per
    id, where a Python dict of ints takes over 100, which is what keeps a file of millions of rows well under
    the memory budget. The ids are
    spread by the hash's top byte over 256 tables, so growing one (old and new array held at once,
    at 3/4 load) costs little memory."""

    RESERVE_LIMIT = 1 << 14  # slots per table reserved on an estimate: 48 MB in all

    def __init__(self, size: int = 1 << 8):
        self._tables = [array("Q", bytes(8 * size)) for _ in range(256)]
        self._rows = [array("I", bytes(4 * size)) for _ in range(256)]  # the row of each key, slot for slot
        self._counts = [0] * 256

    def reserve(self, expected: int) -> None:
        """Make room for about ``expected`` ids at once, rather than growing the tables as they fill (up to
        RESERVE_LIMIT slots a table: beyond that, an estimate off by much would cost too much memory)."""
        for shard, slots in enumerate(self._tables):
            while len(slots) < self.RESERVE_LIMIT and len(slots) * 3 < expected // 256 * 4:
                self._grow(shard)
                slots = self._tables[shard]

    def add(self, key: int, row: int = 0) -> bool:
        """Add ``key``; False when it was already there."""
        return not self.add_many((key,), (row,))[0]

    def add_many(self, keys, rows) -> tuple[list[int], list[int]]:
        """Add ``keys`` in order, seen at ``rows``; the positions in ``keys`` of those already there, and the
        rows they were first seen at."""
        # one loop with locals, no call per key: the caller adds every id of the file, one process for all
        tables, all_rows, counts = self._tables, self._rows, self._counts
        found, earlier = [], []
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
                    all_rows[shard][i] = rows[n]
                    counts[shard] += 1
                    if counts[shard] * 4 > (mask + 1) * 3:
                        self._grow(shard)
                    break
                if slot == key:
                    found.append(n)
                    earlier.append(all_rows[shard][i])
                    break
                i = (i + 1) & mask
        return found, earlier

    def _grow(self, shard: int) -> None:
        old, old_rows = self._tables[shard], self._rows[shard]
        slots = self._tables[shard] = array("Q", bytes(16 * len(old)))
        rows = self._rows[shard] = array("I", bytes(8 * len(old)))
        mask = len(slots) - 1
        for key, row in zip(old, old_rows):
            if key:
                i = key & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = key
                rows[i] = row
