"""Streaming readers for incident data: CSV (any common encoding and delimiter), JSON Lines, and the
entry to every reader (``open_table``; Excel in ``icvac.xlsx_reader``, Parquet in ``icvac.parquet_reader``).

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
from typing import Any, Callable, Iterator

from .errors import InputError, UsageError
from .formats import INPUT_FORMATS, DataFormat, input_format_of
from .record_limits import CELLS_ENV, BoundedLines, CsvLimits, RecordTooLong

__all__ = ["ReadOptions", "Table", "open_table", "open_csv", "open_jsonl", "csv_rows_from", "cell_text",
           "check_header", "DELIMITERS", "FORMATS"]

DELIMITERS = (",", ";", "\t", "|")
FORMATS = tuple(INPUT_FORMATS)
SAMPLE_BYTES = 1 << 20
FIELD_LIMIT = CsvLimits().field  # the default; icvac.record_limits reads the one set in the environment
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class ReadOptions:
    format: str | None = None      # a name of formats.INPUT_FORMATS; from the extension when None
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
    # the data rows as Arrow record batches of text columns (``batches(rows)``), where the reader has them
    batches: Callable[[int], Iterator[Any]] | None = field(default=None, repr=False)

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
    """Open a data file (``-`` is CSV on stdin) and read its header. Raises InputError.

    The format is ``options.format``, else the one its extension names (``formats.INPUT_FORMATS``)."""
    name = str(path)
    if options.header_row < 1:
        raise InputError(f"{name}: --header-row must be 1 or more")
    if options.format is not None and options.format not in INPUT_FORMATS:
        raise UsageError(f"unknown input format {options.format!r}; use one of {', '.join(INPUT_FORMATS)}")
    if name == "-":
        if options.format not in (None, "csv"):
            raise UsageError(f"stdin (-) is read as CSV only; save the {options.format} data to a file")
        stream = _Prefixed(sys.stdin.buffer)
        _check_format("<stdin>", INPUT_FORMATS["csv"], stream.peek(), options.encoding)
        return open_csv(name, stream, stream.peek(), options)
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
        fmt = INPUT_FORMATS[options.format or input_format_of(p)]
        _check_format(name, fmt, sample, options.encoding)
        handle.seek(0)
        # the reader owns the handle from here: it closes it with the table, or at once if it opens the file anew
        return fmt.load()(name, handle, sample, options)
    except BaseException:
        handle.close()
        raise


def _check_format(name: str, fmt: DataFormat, sample: bytes, encoding: str | None = None) -> None:
    if not sample:
        raise InputError(f"{name}: the file is empty")
    if sample.startswith(_OLE_MAGIC):
        raise InputError(f"{name}: is a password-protected workbook or an old .xls file; "
                         "save it as an unprotected .xlsx or as CSV")
    if fmt.magic is not None:
        if not sample.startswith(fmt.magic):
            raise InputError(f"{name}: is not {fmt.title}; if it is CSV, rename it to .csv or pass --input-format csv")
        return
    other = next((f for f in INPUT_FORMATS.values() if f.magic and sample.startswith(f.magic)), None)
    if other is not None:
        raise InputError(f"{name}: is {other.title}, not {fmt.title}; rename it to {other.extensions[0]} "
                         f"or pass --input-format {other.name}")
    if not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not _wide_encoding(encoding):
        _check_text(name, fmt.title, sample[:65536])


def _wide_encoding(encoding: str | None) -> bool:
    try:
        return encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False  # reported when the file is decoded


# C0 controls other than tab, line feed, vertical tab, form feed and carriage return, and DEL:
# text exports hold a stray one at most (a vertical tab for a line break in a cell), binary files many.
_CONTROL = bytes([*range(0, 9), *range(14, 32), 127])


def _check_text(name: str, title: str, head: bytes) -> None:
    nul = head.count(0)
    odd = head[1::2].count(0)
    # UTF-16 of mostly-ASCII text: every other byte is zero, and only those
    if len(head) >= 4 and nul * 5 >= len(head) * 2 and odd in (0, nul):
        order = "le" if odd else "be"
        raise InputError(f"{name}: looks like UTF-16 text without a byte-order mark; "
                         f"pass --encoding utf-16-{order}")
    controls = len(head) - len(head.translate(None, _CONTROL))
    if nul or (controls > max(8, len(head) // 100) and not _utf8(head)):
        raise InputError(f"{name}: looks like a binary file, not {title}")


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


def open_csv(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    if not sample:
        raise InputError(f"{name}: the file is empty")
    encoding, head = _text_encoding(name, options, sample)
    buffered = handle if isinstance(handle, (io.BufferedReader, io.BufferedRandom)) else io.BufferedReader(handle)
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
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
    header: list[str] = []
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


def open_jsonl(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    """Records of JSON Lines as rows; the columns are every key, the first record's first and the keys it lacks
    after them, in the order they first appear. So the file is read twice: for its keys, then for its rows."""
    encoding, _ = _text_encoding(name, options, sample)
    header = check_header(name, _jsonl_keys(name, handle, encoding))
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, newline=None)
    index = {k: i for i, k in enumerate(header)}

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, obj in _jsonl_objects(name, text):
            values = [""] * len(header)
            for key, value in obj.items():
                values[index[key]] = cell_text(value)
            yield number, values

    return Table(name, "jsonl", header, rows(), encoding, None, [text.close])


def _jsonl_keys(name: str, handle, encoding: str) -> list[str]:
    """The keys of all records of ``handle``, in order of appearance; at most the cells a CSV record may have."""
    limits = CsvLimits.from_env()
    keys: dict[str, None] = {}
    records = 0
    text = io.TextIOWrapper(handle, encoding=encoding, newline=None)
    try:
        for _, obj in _jsonl_objects(name, text):
            records += 1
            keys.update(dict.fromkeys(obj))
            if len(keys) > limits.cells:
                raise InputError(f"{name}: the records have more than {limits.cells:,} distinct keys; "
                                 f"set {CELLS_ENV} to raise the limit")
    finally:
        text.detach()  # the handle is read again
    if not records:
        raise InputError(f"{name}: the file has no records")
    return list(keys)


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
    if type(value) is str:  # most cells: before the other types' tests, a third of a JSON Lines read
        return value
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
