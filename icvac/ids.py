"""Duplicate ids in files of millions of rows, in little memory: each id is kept as a 64-bit digest
in a compact table, not as text.

Two different ids share a digest with a probability of about 1 in 4 million for 3 million ids; then the
later one is reported as a duplicate. The digest is stable, so that such a rare false duplicate is the
same in every run: the same input gives the same report.
"""
from __future__ import annotations

import hashlib
import operator
from array import array
from itertools import repeat

__all__ = ["IdTable", "id_digests"]


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
