"""How a case id reads as a text before, a number of a fixed width and a text after (``INC-00000042``,
``AU-000001.3``): the key under which icvac.dupes keeps a stretch of ids counting up one by one as a range."""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["reading_of", "shaped_like", "LONGEST"]

_DIGITS = re.compile("[0-9]+")
LONGEST = 18  # digits of a number kept in a range (int64)


def reading_of(text: str) -> tuple[tuple[str, int, str], int] | None:
    """``text`` as (text before, width, text after) and a number: its longest group of digits, the last of
    equally long ones (None without digits, or with more than a number holds)."""
    best = None
    for match in _DIGITS.finditer(text):
        if best is None or len(match.group()) >= len(best.group()):
            best = match
    if best is None or len(best.group()) > LONGEST:
        return None
    return (text[:best.start()], len(best.group()), text[best.end():]), int(best.group())


def shaped_like(values: pa.Array, key: tuple[str, int, str], whole: bool = False) -> pa.Array:
    """Which of ``values`` are as long as ``key``'s ids, end with its text after, hold digits where its number
    is, and (``whole``) start with its text before."""
    head, width, tail = key
    start = len(head.encode())
    raw = values.view(pa.binary())
    shaped = pc.and_(pc.equal(pc.binary_length(raw), pa.scalar(start + width + len(tail.encode()), pa.int32())),
                     pc.ascii_is_decimal(pc.binary_slice(raw, start, start + width).view(pa.string())))
    for text, test in ((tail, pc.ends_with), (head if whole else "", pc.starts_with)):
        shaped = pc.and_(shaped, test(raw, text)) if text else shaped
    return shaped
