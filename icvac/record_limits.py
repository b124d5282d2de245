"""Limits on one record of a CSV file, checked while the record is read, not after.

Python's ``csv`` module asks its source for whole lines, and a file object gives a line whole, however long:
a 300 MB line (or a 2 GB file of zeros) would be in memory, several times over, before the field limit of
``csv`` could refuse it. ``BoundedLines`` gives ``csv.reader`` the lines of a text stream read a block at a
time (``BLOCK_CHARS``), split as the stream would split them: a line is refused once it passes the record
limit, and a record of several lines (quoted cells holding line breaks) once the blocks it spans do, so no
more than the limit and two blocks are in memory. A record of many small cells costs more than its bytes
(about 60 bytes a cell as Python objects): its cells are counted too, as the delimiters of the blocks it
spans (a quoted one included: an upper bound), and as the cells of the row read. Each limit is raised with
an environment variable, named in the message. Lengths are counted in characters, and a character is at
least one byte: no record within the limit in bytes is refused.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from itertools import chain
from typing import Mapping

from .errors import UsageError
from .xlsx_limits import MB, _megabytes

__all__ = ["CsvLimits", "BoundedLines", "RecordTooLong", "FIELD_ENV", "RECORD_ENV", "CELLS_ENV"]

FIELD_ENV = "ICVAC_CSV_FIELD_MB"
RECORD_ENV = "ICVAC_CSV_RECORD_MB"
CELLS_ENV = "ICVAC_CSV_CELLS"
BLOCK_CHARS = 1 << 16
# where str.splitlines breaks a line and a stream read with newline="" does not; a CR alone (not before a
# LF) both break at, but a block is left to StringIO then, which follows the stream where a CR ends a block
_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass(frozen=True)
class CsvLimits:
    field: int = 1 * MB     # one cell: above it, an incident record is not what the file holds
    record: int = 16 * MB   # one line, or the lines of one record (a quoted cell may hold line breaks)
    cells: int = 1 << 20    # the cells of a record (Excel's columns are 16,384): about 60 MB as Python objects

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "CsvLimits":
        environ = os.environ if environ is None else environ
        default = cls()
        return cls(_megabytes(environ, FIELD_ENV, default.field), _megabytes(environ, RECORD_ENV, default.record),
                   _cells(environ, default.cells))

    def field_message(self) -> str:
        return (f"a field is larger than {self.field // MB:,} MB (unbalanced quotes?); "
                f"set {FIELD_ENV} (in MB) to raise the limit")

    def record_message(self) -> str:
        return (f"a record is longer than {self.record // MB:,} MB (a line without its end, or unbalanced "
                f"quotes?); set {RECORD_ENV} (in MB) to raise the limit")

    def cells_message(self) -> str:
        return f"a record has more than {self.cells:,} cells; set {CELLS_ENV} to raise the limit"


def _cells(environ: Mapping[str, str], default: int) -> int:
    text = environ.get(CELLS_ENV, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= 10 ** 9):
        raise UsageError(f"{CELLS_ENV}={text[:20]!r}: give a number of cells from 1 to 1000000000")
    return int(text)


class RecordTooLong(Exception):
    """A record above the limit of its reader (``BoundedLines.limit``)."""


class BoundedLines:
    """The lines of the text stream ``text`` (opened with ``newline=""``), for ``csv.reader``; the reader sets
    ``fresh`` at the start of each record, and ``RecordTooLong`` is raised past a limit (see the module)."""

    def __init__(self, text, limits: CsvLimits, delimiter: str):
        self._read = text.read
        self._limits = limits
        self._delimiter = delimiter
        self.fresh = True
        self._spanned = self._spanned_cells = 0
        self._last = ""
        self._lines = chain.from_iterable(self._blocks())

    def __iter__(self):
        return self._lines  # csv.reader steps through it without a Python call a line

    def __next__(self) -> str:
        return next(self._lines)

    def _blocks(self):
        head: list[str] = []  # a line not ended by the blocks read so far, in pieces
        length = 0
        while True:
            block = self._read(BLOCK_CHARS)
            if not block:
                if head:
                    yield ["".join(head)]
                return
            self._account(block)
            if head and head[-1].endswith("\r") and not block.startswith("\n"):
                yield ["".join(head)]  # a line ended by a lone carriage return
                head, length = [], 0
            if any(c in block for c in _OTHER_BREAKS) or ("\r" in block and
                                                          block.count("\r") != block.count("\r\n")):
                lines = io.StringIO(block, newline="").readlines()
            else:  # the same lines, faster (a StringIO copies the block in 4 bytes a character)
                lines = block.splitlines(True)
            if head:
                if len(lines) == 1 and not block.endswith("\n"):
                    head.append(block)
                    length += len(block)
                    if length > self._limits.record:
                        raise RecordTooLong(self._limits.record_message())
                    continue
                lines[0] = "".join(head) + lines[0]
                head, length = [], 0
            if not lines[-1].endswith("\n"):  # unfinished, or a carriage return that a line feed may follow
                last = lines.pop()
                head, length = [last], len(last)
            if lines:
                yield lines

    def _account(self, block: str) -> None:
        """Before ``block`` is given: where no record began in the blocks given since the last check, the
        record being read spans them all."""
        if self.fresh:
            self.fresh = False
            self._spanned = self._spanned_cells = 0
        else:
            self._spanned += len(self._last)
            self._spanned_cells += self._last.count(self._delimiter)
            if self._spanned > self._limits.record:
                raise RecordTooLong(self._limits.record_message())
            if self._spanned_cells >= self._limits.cells:
                raise RecordTooLong(self._limits.cells_message())
        self._last = block
