"""Streaming readers for incident data: CSV (any common encoding and delimiter), Excel, JSON Lines.

Every reader yields ``(row_number, values)`` one row at a time, values as strings,
so a file of millions of rows is read in constant memory. Row numbers are those a
person sees when opening the file: the header is row ``header_row``, the first
data row the one after it.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from .errors import IcvacError, InputError, UsageError, shown, shown_list
from .record_limits import BoundedLines, CsvLimits, RecordTooLong

__all__ = ["ReadOptions", "Table", "open_table", "csv_rows_from", "DELIMITERS", "FORMATS"]

DELIMITERS = (",", ";", "\t", "|")
FORMATS = ("csv", "xlsx", "jsonl")
SAMPLE_BYTES = 1 << 20
FIELD_LIMIT = CsvLimits().field  # the default; icvac.record_limits reads the one set in the environment
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class ReadOptions:
    format: str | None = None      # csv, xlsx or jsonl; from the extension when None
    encoding: str | None = None    # detected when None
    delimiter: str | None = None   # sniffed when None
    sheet: str | None = None       # Excel sheet name or 1-based number
    header_row: int = 1            # Excel and CSV: the row holding the column names


@dataclass
class Table:
    """An open data source: its columns and a one-pass iterator of rows."""

    path: str
    format: str
    header: list[str]
    _rows: Iterator[tuple[int, list[str]]] = field(repr=False)
    encoding: str | None = None
    delimiter: str | None = None
    _closers: list = field(default_factory=list, repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows

    def close(self) -> None:
        for close in self._closers:
            close()
        self._closers.clear()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == "-" else self.path


def open_table(path: str | os.PathLike, options: ReadOptions = ReadOptions()) -> Table:
    """Open a data file (``-`` is CSV on stdin) and read its header. Raises InputError."""
    name = str(path)
    if options.header_row < 1:
        raise InputError(f"{name}: --header-row must be 1 or more")
    if options.format is not None and options.format not in FORMATS:
        raise UsageError(f"unknown input format {options.format!r}; use one of {', '.join(FORMATS)}")
    if name == "-":
        if options.format not in (None, "csv"):
            raise UsageError(f"stdin (-) is read as CSV only; save the {options.format} data to a file")
        stream = _Prefixed(sys.stdin.buffer)
        _check_format("<stdin>", "csv", stream.peek(), options.encoding)
        return _open_csv(name, stream, stream.peek(), options)
    p = Path(name)
    if p.is_dir():
        raise InputError(f"{name}: is a directory; give a data file")
    try:
        handle = open(p, "rb")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file; check the path") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be opened ({exc.strerror or exc})") from None
    try:
        sample = handle.read(SAMPLE_BYTES)
        fmt = options.format or _format_from_name(p)
        _check_format(name, fmt, sample, options.encoding)
        if fmt == "xlsx":
            handle.close()
            return _open_xlsx(name, options)
        handle.seek(0)
        if fmt == "jsonl":
            return _open_jsonl(name, handle, sample, options)
        return _open_csv(name, handle, sample, options)
    except BaseException:
        handle.close()
        raise


def _format_from_name(p: Path) -> str:
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "csv"


def _check_format(name: str, fmt: str, sample: bytes, encoding: str | None = None) -> None:
    if not sample:
        raise InputError(f"{name}: the file is empty")
    if sample.startswith(_OLE_MAGIC):
        raise InputError(f"{name}: is a password-protected workbook or an old .xls file; "
                         "save it as an unprotected .xlsx or as CSV")
    if fmt == "xlsx" and not sample.startswith(_ZIP_MAGIC):
        raise InputError(f"{name}: is not an Excel .xlsx workbook (it looks like text); "
                         "if it is CSV, rename it to .csv or pass --input-format csv")
    if fmt != "xlsx" and sample.startswith(_ZIP_MAGIC):
        raise InputError(f"{name}: is a zip or Excel workbook, not {fmt.upper()} text; "
                         "rename it to .xlsx or export it as CSV")
    if fmt != "xlsx" and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and not _wide_encoding(encoding):
        _check_text(name, fmt, sample[:65536])


def _wide_encoding(encoding: str | None) -> bool:
    try:
        return encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False  # reported when the file is decoded


# C0 controls other than tab, line feed, vertical tab, form feed and carriage return, and DEL:
# text exports hold a stray one at most (a vertical tab for a line break in a cell), binary files many.
_CONTROL = bytes([*range(0, 9), *range(14, 32), 127])


def _check_text(name: str, fmt: str, head: bytes) -> None:
    nul = head.count(0)
    odd = head[1::2].count(0)
    # UTF-16 of mostly-ASCII text: every other byte is zero, and only those
    if len(head) >= 4 and nul * 5 >= len(head) * 2 and odd in (0, nul):
        order = "le" if odd else "be"
        raise InputError(f"{name}: looks like UTF-16 text without a byte-order mark; "
                         f"pass --encoding utf-16-{order}")
    controls = len(head) - len(head.translate(None, _CONTROL))
    if nul or (controls > max(8, len(head) // 100) and not _utf8(head)):
        raise InputError(f"{name}: looks like a binary file, not {fmt.upper()} text")


def _utf8(sample: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        return False


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the sample decodes as such, else Windows-1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _utf8(sample):
        return "utf-8"
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # decodes any byte; cp1252 leaves five undefined


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier, more common delimiter
    return best if counts[best] else ","


class _Prefixed(io.RawIOBase):
    """Stdin with its first megabyte read ahead, so the encoding can be sniffed before parsing."""

    def __init__(self, raw):
        self._raw = raw
        self._head = raw.read(SAMPLE_BYTES) or b""
        self._pos = 0

    def peek(self) -> bytes:
        return self._head

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._pos < len(self._head):
            chunk = self._head[self._pos:self._pos + len(buf)]
            self._pos += len(chunk)
        else:
            chunk = self._raw.read(len(buf)) or b""
        buf[:len(chunk)] = chunk
        return len(chunk)


def _text_encoding(name: str, options: ReadOptions, sample: bytes) -> tuple[str, str]:
    """The encoding to read with, and the sample decoded with it: a codec that is not a text encoding
    (base64, rot13), or that cannot decode the start of the file, is refused here, before parsing."""
    encoding = options.encoding or detect_encoding(sample)
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"{name}: unknown encoding {encoding!r}; try utf-8, cp1252 or latin-1") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{name}: {encoding!r} is not a text encoding; try utf-8, cp1252 or latin-1")
    try:
        head = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        raise _decode_error(name, encoding) from None
    except UnicodeError as exc:  # utf-16 without a byte-order mark, idna, …: not a decoding of bytes
        raise InputError(f"{name}: cannot be read as {encoding} ({exc}); "
                         "pass --encoding (for example utf-8, cp1252 or latin-1)") from None
    return encoding, head.lstrip("\ufeff")


def _open_csv(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    if not sample:
        raise InputError(f"{name}: the file is empty")
    encoding, head = _text_encoding(name, options, sample)
    text = io.TextIOWrapper(handle if isinstance(handle, io.BufferedIOBase) else io.BufferedReader(handle),
                            encoding=encoding, newline="")
    lines = head.splitlines()
    first = lines[options.header_row - 1] if len(lines) >= options.header_row else (lines[-1] if lines else "")
    delimiter = options.delimiter or sniff_delimiter(first)
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise InputError(f"{name}: the delimiter must be one character, got {delimiter!r}")
    if delimiter in '"\r\n':
        raise InputError(f"{name}: the delimiter cannot be a quote or a line break, got {delimiter!r}")
    reader = _CsvReader(text, delimiter)
    header = _read_header(name, reader, options.header_row, encoding)
    table = Table(name, "csv", header, iter(()), encoding, delimiter, [text.close])
    table._rows = _csv_rows(name, reader, options.header_row, encoding)
    return table


class _CsvReader:
    """``csv.reader`` (strict) over the lines of ``text``, each record bounded while it is read
    (``icvac.record_limits``): ``next`` raises ``RecordTooLong`` or ``csv.Error`` (a field too large)."""

    def __init__(self, text, delimiter: str):
        self.limits = CsvLimits.from_env()
        csv.field_size_limit(self.limits.field)
        self.lines = BoundedLines(text, self.limits, delimiter)
        self.csv = csv.reader(self.lines, delimiter=delimiter, strict=True)

    def __iter__(self) -> "_CsvReader":
        return self

    def __next__(self) -> list[str]:
        self.lines.fresh = True
        row = next(self.csv)
        if len(row) > self.limits.cells:
            raise RecordTooLong(self.limits.cells_message())
        return row


def _decode_error(name: str, encoding: str) -> InputError:
    """Decoding runs a chunk ahead of parsing, so the row being parsed is not where the bad byte is:
    find its line by decoding the file again (only on this error path; not possible for stdin)."""
    where = ""
    if name != "-":
        decoder = codecs.getincrementaldecoder(encoding)()
        line = 1
        with open(name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                try:
                    decoder.decode(chunk)
                except UnicodeError as exc:
                    line += chunk.count(b"\n", 0, max(getattr(exc, "start", 0), 0))
                    where = f" line {line}:"
                    break
                line += chunk.count(b"\n")
    return InputError(f"{name}:{where} not valid {encoding} text; pass --encoding (for example cp1252 or latin-1)")


def _read_header(name: str, reader, header_row: int, encoding: str) -> list[str]:
    header = None
    try:
        for _ in range(header_row):
            header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: has no header row {header_row}" if header_row > 1
                         else f"{name}: the file is empty") from None
    except UnicodeError:
        raise _decode_error(name, encoding) from None
    except RecordTooLong as exc:
        raise InputError(f"{name}: row {header_row}: {exc}") from None
    except csv.Error as exc:
        text = reader.limits.field_message() if "field larger" in str(exc) else exc
        raise InputError(f"{name}: row {header_row}: cannot parse the header ({text})") from None
    # A BOM survives when --encoding utf-8 is given for a UTF-8-with-BOM file; it is never part of a name.
    header = [h.strip() for h in header]
    if header:
        header[0] = header[0].lstrip("\ufeff").strip()
    return check_header(name, header)


def check_header(name: str, header: list[str]) -> list[str]:
    if not any(header):
        raise InputError(f"{name}: the header row is blank; the first row must name the columns")
    seen: dict[str, int] = {}
    for i, col in enumerate(header, 1):
        if col and col in seen:
            raise InputError(f"{name}: columns {seen[col]} and {i} are both named {col!r}; rename one")
        seen[col] = i
    return header


def _csv_rows(name: str, reader: _CsvReader, header_row: int, encoding: str) -> Iterator[tuple[int, list[str]]]:
    number = header_row
    rows, lines, cells = reader.csv, reader.lines, reader.limits.cells  # _CsvReader.__next__, inline
    while True:
        number += 1
        lines.fresh = True
        try:
            row = next(rows)
            if len(row) > cells:
                raise RecordTooLong(reader.limits.cells_message())
        except StopIteration:
            return
        except UnicodeError:
            raise _decode_error(name, encoding) from None
        except RecordTooLong as exc:
            raise InputError(f"{name}: row {number}: {exc}") from None
        except csv.Error as exc:
            text = reader.limits.field_message() if "field larger" in str(exc) else exc
            raise InputError(f"{name}: row {number}: cannot parse CSV ({text})") from None
        yield number, row


def csv_rows_from(name: str, offset: int, number: int, encoding: str,
                  delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The records of CSV file ``name`` from byte ``offset`` on (a record boundary after the header), the first
    numbered ``number + 1``; errors read as those of ``open_table``'s rows. For ``icvac.parallel``: where the
    worker processes stop, the caller reads on with this, so an error is reported at its true row."""
    # a byte-order mark is stripped at the start of the file only
    data_encoding = "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
    with open(name, "rb") as handle:
        handle.seek(offset)
        text = io.TextIOWrapper(handle, encoding=data_encoding, newline="")
        yield from _csv_rows(name, _CsvReader(text, delimiter), number, encoding)


def _open_jsonl(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    encoding, _ = _text_encoding(name, options, sample)
    text = io.TextIOWrapper(handle, encoding=encoding, newline=None)
    lines = _jsonl_objects(name, text)
    try:
        first_number, first = next(lines)
    except StopIteration:
        raise InputError(f"{name}: the file has no records") from None
    header = check_header(name, [str(k) for k in first])

    def rows() -> Iterator[tuple[int, list[str]]]:
        index = {k: i for i, k in enumerate(header)}
        yield first_number, [cell_text(first.get(k)) for k in header]
        for number, obj in lines:
            values = [""] * len(header)
            extra = []
            for key, value in obj.items():
                i = index.get(str(key))
                if i is None:
                    extra.append(cell_text(value))
                else:
                    values[i] = cell_text(value)
            yield number, values + extra

    return Table(name, "jsonl", header, rows(), encoding, None, [text.close])


def _jsonl_objects(name: str, text) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(_lines(name, text), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise InputError(f"{name}: line {number}: not a JSON object; each line must be one record") from None
        if not isinstance(obj, dict):
            raise InputError(f"{name}: line {number}: not a JSON object; each line must be one record")
        yield number, obj


def _lines(name: str, text) -> Iterator[str]:
    while True:
        try:
            line = text.readline(FIELD_LIMIT * 4)
        except UnicodeError:
            raise _decode_error(name, text.encoding) from None
        if not line:
            return
        if len(line) >= FIELD_LIMIT * 4 and not line.endswith("\n"):
            raise InputError(f"{name}: a line is longer than {FIELD_LIMIT * 4 // (1 << 20)} MB")
        yield line


def cell_text(value) -> str:
    """One cell as text, the way a person reads it: 12 not 12.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _open_xlsx(name: str, options: ReadOptions) -> Table:
    from .xlsx_limits import MAX_ROWS

    if options.header_row > MAX_ROWS:
        raise InputError(f"{name}: --header-row {options.header_row}: an Excel sheet has {MAX_ROWS:,} rows at most")
    workbook = _load_workbook(name)
    try:
        sheet = _pick_sheet(name, workbook, options.sheet)
        rows = _sheet_rows(name, sheet.iter_rows(values_only=True), options.header_row)
        header = next((values for number, values in rows if number == options.header_row), None)
        if header is None:
            raise InputError(f"{name}: sheet {sheet.title!r} has no row {options.header_row} to use as header")
        header = check_header(name, [cell_text(h).strip() for h in header])
    except BaseException:
        workbook.close()
        raise
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # trailing empty header cells are formatting, not columns
    return Table(name, "xlsx", header[:width], _xlsx_data(rows, width), None, None, [workbook.close])


def _load_workbook(name: str):
    """The workbook, read-only, through a zip whose parts are checked against the limits of xlsx_limits."""
    from openpyxl.reader.excel import ExcelReader

    from .xlsx_limits import GuardedZip, XlsxLimits

    class Reader(ExcelReader):
        # ExcelReader opens the zip itself: this one is given the guarded one (the attributes it sets)
        def __init__(self, archive):
            self.archive, self.valid_files = archive, archive.namelist()
            self.read_only = self.data_only = self.keep_links = True
            self.keep_vba = self.rich_text = False
            self.shared_strings = []

    limits = XlsxLimits.from_env()
    archive = None
    try:
        archive = GuardedZip(name, name, limits)
        reader = Reader(archive)
        reader.read()
        return reader.wb
    except BaseException as exc:
        if archive is not None:
            archive.close()
        if isinstance(exc, (IcvacError, MemoryError)) or not isinstance(exc, Exception):
            raise
        # openpyxl raises a wide range of errors on corrupt files
        raise InputError(f"{name}: is not a readable .xlsx workbook ({type(exc).__name__}); "
                         "open and save it again in Excel, or export it as CSV") from None


def _sheet_rows(name: str, rows, header_row: int) -> Iterator[tuple[int, tuple]]:
    """Rows numbered from 1; openpyxl parses the sheet lazily, so a corrupt sheet fails here, mid-way."""
    from .xlsx_limits import MAX_ROWS

    number = 0
    while True:
        number += 1
        try:
            values = next(rows)
        except StopIteration:
            return
        except (InputError, MemoryError):
            raise
        except Exception as exc:  # zip, XML and value errors of a damaged sheet
            raise InputError(f"{name}: the sheet is damaged at or after row {number} ({type(exc).__name__}); "
                             "open and save it again in Excel, or export it as CSV") from None
        if number > MAX_ROWS:  # a forged dimension would have openpyxl make up empty rows without end
            raise InputError(f"{name}: the sheet claims more than {MAX_ROWS:,} rows, which Excel does not allow; "
                             "open and save it again in Excel, or export it as CSV")
        yield number, values


def _xlsx_data(rows, width: int) -> Iterator[tuple[int, list[str]]]:
    # Empty rows are held back (as a count: rows are numbered consecutively): after the last
    # data row they are formatting, not records.
    blank = 0
    gap = None
    for number, values in rows:
        if values is gap:
            # openpyxl yields one shared tuple for every row missing from the sheet; a stray cell in
            # row 1048576 column XFD makes a million of them, 16384 wide: skip them without a look.
            blank += 1
            continue
        cells = [cell_text(v) for v in values]
        while len(cells) > width and not cells[-1]:
            cells.pop()
        if not any(cells):
            gap = values
            blank += 1
            continue
        for empty in range(number - blank, number):
            yield empty, [""] * width
        blank = 0
        # a sheet has no "short rows": cells beyond the last filled one are simply empty
        yield number, cells + [""] * (width - len(cells))


def _pick_sheet(name: str, workbook, sheet: str | None):
    if not workbook.worksheets:
        raise InputError(f"{name}: the workbook has no worksheet to read")
    if sheet is None:
        return workbook.worksheets[0]
    if sheet in workbook.sheetnames:
        return workbook[sheet]
    digits = sheet.lstrip("0")  # a number of a thousand digits is no sheet's, and slow to convert
    if sheet.isascii() and sheet.isdigit() and len(digits) <= 6 and 1 <= int(digits or 0) <= len(workbook.worksheets):
        return workbook.worksheets[int(digits) - 1]
    raise InputError(f"{name}: no sheet {shown(sheet)}; the sheets are {shown_list(workbook.sheetnames)}")
