"""Limits on what an .xlsx workbook may unpack to, checked while it is read, not after.

An .xlsx file is a zip of XML parts, and a 1 MB file can unpack to gigabytes. openpyxl reads some parts
whole (the shared strings, the styles, the workbook) and holds each run of text between two tags whole (a
cell, a shared string, and the whitespace between elements alike). So every part is checked twice for its
size -- as the zip's directory states it, before anything is unpacked, and as its bytes are unpacked (the
directory can lie) -- and no run of bytes between two ``<`` may be longer than the cell limit. XML
declarations of entities, comments and CDATA sections, which Excel never writes and which would carry text
past that check, are refused. Each limit is raised with an environment variable, named in the message.

A worksheet is parsed an element at a time (``icvac.xlsx_reader``), and what the parser holds is bounded as
it goes (``SheetBudget``): the elements of one row until the row ends (at most ``row`` bytes of XML and one
element per 64 of them), and nothing outside the rows, where whitespace and unknown elements are counted
and dropped (at most ``row`` bytes of text, and one element per 256 bytes of ``part``), nested no deeper than
``MAX_DEPTH``.
Before its rows, where openpyxl reads the sheet's dimensions and keeps every element it passes, at most
``HEAD_ELEMENTS`` elements and ``row`` bytes are allowed.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import Mapping

from .errors import InputError, UsageError

__all__ = ["XlsxLimits", "XlsxLimitError", "GuardedZip", "SheetBudget", "PART_ENV", "SHEET_ENV", "CELL_ENV", "ROW_ENV",
           "MAX_ROWS", "MAX_DEPTH"]

PART_ENV = "ICVAC_XLSX_PART_MB"
SHEET_ENV = "ICVAC_XLSX_SHEET_MB"
CELL_ENV = "ICVAC_XLSX_CELL_MB"
ROW_ENV = "ICVAC_XLSX_ROW_MB"
MAX_ROWS = 1_048_576  # the rows of an Excel sheet
MB = 1 << 20
MAX_DEPTH = 64            # elements nested in a worksheet; Excel's go 8 deep
HEAD_ELEMENTS = 100_000   # elements before a worksheet's rows: Excel writes a few, and one per column format
ELEMENT_BYTES = 64        # what an element of a row counts for against the row limit
DROPPED_BYTES = 256       # what an element outside the rows counts for against the part limit: Excel writes few
_SCAN = 1 << 16  # bytes scanned at a time, at most: no more than the cell limit, so a run inside one is never too long


class XlsxLimitError(InputError):
    """A workbook that would unpack beyond a limit."""


@dataclass(frozen=True)
class XlsxLimits:
    part: int = 100 * MB     # a part read whole: shared strings, styles, workbook, relations
    sheet: int = 4096 * MB   # a worksheet, read a row at a time
    cell: int = 1 * MB       # a cell, a shared string, or any text between two tags
    row: int = 16 * MB       # a worksheet row, held whole while it is parsed; the part before the rows

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "XlsxLimits":
        environ = os.environ if environ is None else environ
        default = cls()
        return cls(*(_megabytes(environ, var, getattr(default, name))
                     for var, name in ((PART_ENV, "part"), (SHEET_ENV, "sheet"), (CELL_ENV, "cell"),
                                       (ROW_ENV, "row"))))


def _megabytes(environ: Mapping[str, str], var: str, default: int) -> int:
    text = environ.get(var, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and 1 <= int(text) <= 10 ** 6):
        raise UsageError(f"{var}={text[:20]!r}: give a number of megabytes from 1 to 1000000")
    return int(text) * MB


def _is_sheet(member: str) -> bool:
    return member.startswith("xl/worksheets/") and member.endswith(".xml")


class GuardedZip(zipfile.ZipFile):
    """A read-only ZipFile whose members are checked against ``limits`` (see the module's docstring);
    ``label`` names the workbook in messages."""

    def __init__(self, file, label: str, limits: XlsxLimits):
        super().__init__(file)
        self.label = label
        self.limits = limits
        for info in self.infolist():  # before anything is unpacked
            if info.file_size > self._limit(info.filename)[0]:
                self.close()
                raise self._too_large(info.filename, info.file_size)

    def _limit(self, member: str) -> tuple[int, str]:
        if _is_sheet(member):
            return self.limits.sheet, SHEET_ENV
        return self.limits.part, PART_ENV

    def _too_large(self, member: str, size: int | None) -> XlsxLimitError:
        """``size`` as the directory states it, or None when the bytes unpacked pass the limit."""
        limit, var = self._limit(member)
        what = "a worksheet" if _is_sheet(member) else "one part of a workbook"
        stated = f"to {size / MB:,.1f} MB, above" if size is not None else "to more than"
        return XlsxLimitError(f"{self.label}: {member[:200]} unpacks {stated} the {limit // MB:,} MB limit for {what}; "
                              f"set {var} (in MB) to raise it")

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return stream
        member = name.filename if isinstance(name, zipfile.ZipInfo) else name
        return _GuardedPart(stream, self, member)


class _GuardedPart:
    """One member being unpacked: counts its bytes and the longest run between two ``<``."""

    def __init__(self, raw, archive: GuardedZip, member: str):
        self._raw = raw
        self._archive = archive
        self._member = member
        self._limit = archive._limit(member)[0]
        self._cell = archive.limits.cell
        self._seen = 0
        self._run = 0      # bytes since the last "<"
        self._tail = b""   # the last byte of the previous read, for a "<!" split between two reads
        self._xml = member.lower().endswith((".xml", ".rels", ".vml"))
        self._head: bytes | None = b"" if _is_sheet(member) else None  # before the rows: the last bytes read
        self._head_elements = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(_SCAN), b""))
        data = self._raw.read(size)
        self._seen += len(data)
        if self._seen > self._limit:
            raise self._archive._too_large(self._member, None)
        if self._xml:  # images and other binary parts are counted, not scanned
            self._scan(data)
        if self._head is not None:
            self._before_rows(data)
        return data

    def _before_rows(self, data: bytes) -> None:
        carried = self._head or b""
        text = carried + data
        at = text.find(b"sheetData")
        self._head_elements += text.count(b"<", len(carried), len(text) if at < 0 else max(at, len(carried)))
        self._head = data[-8:] if at < 0 else None
        limits = self._archive.limits
        if self._head_elements > HEAD_ELEMENTS or (at < 0 and self._seen > limits.row):
            raise XlsxLimitError(f"{self._archive.label}: {self._member[:200]} holds more than {HEAD_ELEMENTS:,} "
                                 f"elements or {limits.row // MB:,} MB before its rows, which Excel never writes; "
                                 f"set {ROW_ENV} (in MB) to raise the limit on bytes")

    def _scan(self, data: bytes) -> None:
        run, cell = self._run, self._cell
        step = min(_SCAN, cell)
        for start in range(0, len(data), step):
            end = min(start + step, len(data))
            first = data.find(b"<", start, end)
            if first < 0:
                run += end - start
            elif run + first - start > cell:
                break
            else:
                run = end - data.rfind(b"<", start, end) - 1
            if run > cell:
                break
        else:
            self._run = run
            if b"<!" in data or b"<?" in data or (self._tail == b"<" and data[:1] in (b"!", b"?")):
                self._declarations(data)
            self._tail = data[-1:]
            return
        raise XlsxLimitError(f"{self._archive.label}: {self._member[:200]} holds a cell or a run of text above the "
                             f"{cell // MB:,} MB limit; set {CELL_ENV} (in MB) to raise it")

    def _declarations(self, data: bytes) -> None:
        # the XML declaration at the very start of the part (after a byte-order mark) is the one "<?" allowed
        text = self._tail + data
        first = self._seen - len(text) + text.find(b"<?")
        if b"<!" in text or text.count(b"<?") > 1 or (b"<?" in text and first > 3):
            raise XlsxLimitError(f"{self._archive.label}: {self._member[:200]} holds an XML comment, DOCTYPE, CDATA "
                                 "section or processing instruction, which Excel never writes; open and save it "
                                 "again in Excel, or export it as CSV")

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "_GuardedPart":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SheetBudget:
    """What the parser of one worksheet holds, checked as it goes (see the module): ``part`` is the sheet being
    read (a ``GuardedZip`` member), the parser says when an element ends in a row, a row ends, or an element
    outside the rows ends (and is dropped)."""

    def __init__(self, part: _GuardedPart):
        self._part = part
        self._limits = part._archive.limits
        self._row_start = 0       # bytes unpacked when the row being parsed began
        self._in_row = 0          # elements of the row being parsed
        self._outside_text = 0    # characters of text and whitespace outside the rows
        self._outside = 0         # elements outside the rows

    def row_started(self) -> None:
        self._row_start = self._part._seen
        self._in_row = 0

    def in_row(self) -> None:
        self._in_row += 1
        if self._in_row * ELEMENT_BYTES > self._limits.row or self._part._seen - self._row_start > self._limits.row:
            raise self._too_much("a row", self._limits.row, ROW_ENV, ELEMENT_BYTES)

    def dropped(self, text: str | None) -> None:
        """An element outside the rows ended (and is dropped), holding ``text``."""
        self._outside += 1
        if self._outside * DROPPED_BYTES > self._limits.part:
            raise self._too_much("elements outside its rows", self._limits.part, PART_ENV, DROPPED_BYTES)
        self.between(text)

    def between(self, text: str | None) -> None:
        """Text outside the rows: whitespace after a row or a dropped element, or a dropped element's own.
        Bounded by the row limit: Excel writes none, and whitespace of many short lines is slow to parse."""
        if text:
            self._outside_text += len(text)
            if self._outside_text > self._limits.row:
                raise XlsxLimitError(f"{self._part._archive.label}: {self._part._member[:200]} holds whitespace or "
                                     f"text outside its rows above the {self._limits.row // MB:,} MB limit; "
                                     f"set {ROW_ENV} (in MB) to raise it")

    def nested(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise XlsxLimitError(f"{self._part._archive.label}: {self._part._member[:200]} nests elements more than "
                                 f"{MAX_DEPTH} deep, which Excel never writes; open and save it again in Excel, "
                                 "or export it as CSV")

    def _too_much(self, what: str, limit: int, var: str, element: int) -> XlsxLimitError:
        return XlsxLimitError(f"{self._part._archive.label}: {self._part._member[:200]} holds {what} above the "
                              f"{limit // MB:,} MB limit (an element counted as {element} bytes); "
                              f"set {var} (in MB) to raise it")
