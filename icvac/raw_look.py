"""The look over a CSV file's raw bytes that keeps it on Arrow only where Arrow reads it as Python's ``csv``
(strict mode) does (``icvac.arrowio``): Arrow's parser is more lenient on malformed quoting (``"a"b``,
``a"b``, a field left open), and reads a blank line as a row of empty cells where Python's reads a row of no
cells. ``plain`` runs beside the parsing, on a thread (``Check``); ``blank_lines_in`` only for a file in
which Arrow found a row of empty cells.
"""
from __future__ import annotations

import threading
from array import array

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Check", "plain", "blank_lines_in", "SCAN_BYTES"]

# a piece at a time, read into one buffer that Arrow cuts where it lies (each piece was copied three times
# before: read, joined to the carry, into Arrow). On the 1M-row recoded benchmark file (2026-12-06): the
# look took 0.21 s at 512 KB against 0.24 s with 1 MB and the copies (0.37 s with 128 KB and the copies);
# icvac migrate of it peaked at 93-95 MB, against 96-97 MB with 1 MB and 92-94 MB with 128 KB
SCAN_BYTES = 512 << 10


class Check(threading.Thread):
    """``plain`` in a thread of its own; ``verdict()`` waits for it."""

    def __init__(self, path: str, delimiter: str):
        super().__init__(daemon=True)
        self.path, self.delimiter, self.passed = path, delimiter, False
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.start()

    def run(self) -> None:
        try:
            self.passed = plain(self.path, self.delimiter, self.stop)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the reading thread)
            self.error = exc

    def verdict(self) -> bool:
        self.join()
        if self.error is not None:
            raise self.error
        return self.passed


def plain(path: str, delimiter: str, stop: threading.Event | None = None) -> bool:
    """No quote that Python's csv (strict) and Arrow read differently.

    The file is cut at its quotes (Arrow's ``split_pattern``, a piece at a time): counted from the start of
    the file, the text between an even-numbered quote and the next lies outside any quoted field. There, a
    quote may close a field only before a delimiter, a line break, the end or another quote (a doubled
    quote), and open one only after a delimiter, a line break, the start or a quote; anything else (``"a"b``,
    ``a"b``, ``"a,"b``, ``""x``) is read otherwise by the two readers, and so is an odd number of quotes.
    Only the first and last byte of each outside stretch are looked at, so the cost is the cut, not a
    pattern run over every byte."""
    edges = pa.array([b"", delimiter.encode(), b"\r", b"\n"], pa.binary())
    quotes, carry = 0, b""  # quotes so far; the first and last byte of the stretch still open
    # one buffer for every piece, read into after the carry: Arrow cuts it where it lies, no copy made
    buffer = bytearray(2 + SCAN_BYTES)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        while True:
            if stop is not None and stop.is_set():
                return False
            start = len(carry)
            buffer[:start] = carry
            read = handle.readinto(view[start:])
            if not read:
                break
            end = start + read
            last = buffer.rfind(b'"', start, end)
            if last >= 0:
                found = _cut(view[:end], quotes, edges)
                if found is None:
                    return False
                quotes += found
                start = last + 1  # the stretch after the last quote is the one still open
            else:
                start = 0
            carry = bytes(view[start:start + 1]) + bytes(view[end - 1:end]) if start < end else b""
    # the last stretch, after the last quote: if outside, it follows a closing quote
    return quotes % 2 == 0 and (not quotes or carry[:1] in (b"", delimiter.encode(), b"\r", b"\n"))


def _cut(data: memoryview, quotes: int, edges: pa.Array) -> int | None:
    """The quotes in ``data`` (the carry, then a piece holding a quote; ``quotes`` before it in the file),
    or None where an outside stretch between them begins or ends where a quote may not close or open a
    field."""
    offsets = pa.py_buffer(array("i", [0, len(data)]))  # Arrow's 32-bit offsets, in the machine's order
    cut = pc.split_pattern(pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)]), '"')
    stretches = cut.flatten()
    ended = len(stretches) - 1  # each followed by a quote
    outside = pc.list_slice(cut, quotes % 2, ended, 2).flatten()
    closed = outside if quotes else outside.slice(1)  # the file's first stretch follows no quote
    ends = pa.chunked_array([pc.binary_slice(closed, 0, 1), pc.binary_slice(outside, -1)], pa.binary())
    return None if len(ends) and not pc.all(pc.is_in(ends, value_set=edges)).as_py() else ended


def blank_lines_in(path: str) -> bool:
    """Whether the file has a blank line somewhere, quoted fields included (a look of its own, apart from
    ``plain``: a search for two line breaks in a row takes longer than the cut at the quotes, and only a
    file with a row of empty cells needs it)."""
    last = b""
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(SCAN_BYTES), b""):
            if _blank_line(last + piece[:1]) or _blank_line(piece):
                return True
            last = piece[-1:]
    return False


def _blank_line(data: bytes) -> bool:
    """Two line breaks in a row (Python's csv: a row of no cells; Arrow's: a row of empty cells)."""
    return b"\n\n" in data or (b"\r" in data and (b"\n\r" in data or b"\r\r" in data))
