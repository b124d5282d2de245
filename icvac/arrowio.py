"""CSV in and out as Arrow record batches: the reader and writers of the Arrow engine (``icvac.engine``).

The reader gives the rows ``icvac.readers`` gives, as record batches of text columns: ``pyarrow.csv``
streams the file with every column read as text (no type inference, values byte for byte), in the
encoding and with the delimiter ``open_table`` found. Arrow's parser is more lenient than Python's
``csv`` (strict mode) on malformed quoting, and it has no "short row" or "blank line" of its own, so a look
over the raw bytes (``icvac.raw_look``) sends the files where the two could differ to the Python reader: a
quote closing a field and followed by other text, a quote inside an unquoted field, an odd number of quotes
(a field left open), and a blank line where the caller does not take it as a row of empty cells. Arrow
refuses a ragged row, and bytes that do not decode: ``ArrowRefused`` is raised then, and the caller starts
again with the Python reader, which pads the row or reports the error at its row.

The writers format a batch as CSV (as ``icvac.writers.csv_writer`` does, byte for byte) or JSON Lines
(as ``json.dumps`` does) a column at a time, with ``pyarrow.compute``; the cells are joined into lines
``FORMAT_ROWS`` rows at a time, each piece written as it is made.
"""
from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from functools import partial
from typing import Generator, Iterable, Iterator, TextIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.lib

# Arrow's own signal handlers (its stop token) would cancel a read and send the signal again; Python's
# handler alone raises KeyboardInterrupt between batches, which takes the same clean-up path as everywhere
# else. (The rare exit by SIGINT once put down to them came from CPython: see cli._app._forget_the_interrupt.)
pyarrow.lib.enable_signal_handlers(False)

from .arrow_memory import lean_memory
from .raw_look import Check, blank_lines_in
from .read_ahead import read_ahead
from .readers import FIELD_LIMIT, ReadOptions, Table
from .record_limits import CsvLimits
from .writers import FORMULA_PREFIXES

__all__ = ["ArrowRefused", "Coded", "decoded", "table_batches", "csv_batches", "csv_bytes", "jsonl_bytes", "lines",
           "as_text_batch", "BLOCK_BYTES", "FORMAT_ROWS"]

BLOCK_BYTES = 256 << 10         # Arrow's read block: the reader holds several; larger ones cost memory, not time.
                                # Validate takes the blocks as read, 48 ahead: with 128 KB it was 15-25% slower
BATCH_ROWS = 8192               # rows recoded together: blocks are joined up to this, so that the cost per
                                # batch (a few kernel calls per column) stays small against the rows
FORMAT_ROWS = 2048              # rows of a batch joined into lines at a time: the lines of a whole batch, made
                                # and held at once, cost icvac recode 6-10 MB of peak memory on the 1M and 3M
                                # synthetic benchmark files, and pieces of 2048 rows no measurable time
# what a formula-looking cell may still be: a plain number (icvac.writers._NUMBER), for RE2
_NUMBER = r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?$"
# text arguments of the kernels as scalars: a Python string costs pyarrow an import attempt on every call
# (about 0.2 ms each, a third of the time spent quoting a batch's cells)
_QUOTE, _EMPTY, _COMMA, _NEWLINE, _APOSTROPHE = (pa.scalar(t, pa.string()) for t in ('"', "", ",", "\n", "'"))
_FORMULA = "^[" + "".join("\\-" if p == "-" else p for p in FORMULA_PREFIXES).replace("\t", "\\t") \
    .replace("\r", "\\r") + "]"


@dataclass(frozen=True)
class Coded:
    """A text column as its distinct values and each row's index into them (as a dictionary array, without
    ``Coded.from_arrays``, which looks for pandas on every call)."""

    indices: pa.Array
    dictionary: pa.Array

    def __len__(self) -> int:
        return len(self.indices)

    def decode(self) -> pa.Array:
        return self.dictionary.take(self.indices)

    def take(self, rows: pa.Array) -> "Coded":
        return Coded(self.indices.take(rows), self.dictionary)


def decoded(column) -> pa.Array:
    """A column as a plain text array."""
    return column.decode() if isinstance(column, Coded) else column


class ArrowRefused(Exception):
    """Arrow cannot read this file the way the Python reader does: read it with that one instead."""


def table_batches(table: Table, path: str, options: ReadOptions, rows: int = BATCH_ROWS, ahead: int = 0,
                  blank_lines: bool = False, block: int = BLOCK_BYTES) -> Iterator[pa.RecordBatch] | None:
    """The data rows of ``table`` as record batches of text columns: from its reader where it has them
    (Parquet, ``rows`` at a time, or ``BATCH_ROWS`` with 0), else as ``csv_batches`` reads a CSV file."""
    if table.batches is not None:
        return table.batches(rows or BATCH_ROWS)
    return csv_batches(table, path, options, rows, ahead, blank_lines, block)


def csv_batches(table: Table, path: str, options: ReadOptions, rows: int = BATCH_ROWS, ahead: int = 0,
                blank_lines: bool = False, block: int = BLOCK_BYTES) -> Iterator[pa.RecordBatch] | None:
    """The data rows of the CSV file ``table`` (opened by ``open_table``) as record batches of text columns
    named as its header; None when the file is not one Arrow reads as Python's reader does (stdin, a header
    row other than the first, a single column, an encoding that is not ASCII-compatible, a raw pattern
    above). The batches raise ``ArrowRefused`` where Arrow refuses a row (a ragged row, a bad byte). Arrow's
    blocks are joined up to ``rows`` rows; with 0, each comes as read (a caller that uses a few columns joins
    those alone). With ``ahead``, a thread reads up to that many batches ahead of the caller (Arrow's
    streaming reader parses on the thread that asks, so the parsing overlaps the caller's work). With
    ``blank_lines``, a blank line is read by Arrow, as a row of empty cells, for a caller that takes the two
    alike (validate: both are blank rows). Arrow reads the file ``block`` bytes at a time."""
    if table.format != "csv" or path == "-" or options.header_row != 1 or len(table.header) < 2:
        return None
    if table.encoding is None or table.delimiter is None:  # set for every CSV table; None for the others
        return None
    encoding = codecs.lookup(table.encoding).name
    delimiter = table.delimiter
    if not _ascii_compatible(encoding) or not delimiter.isascii():
        return None
    # the raw look runs beside the parsing (its kernel leaves the GIL); its verdict is awaited after the
    # last batch, before anything is committed
    check, seen = Check(path, delimiter), _Seen(empty_row=False)
    batches = _arrow_batches(table, path, "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding, delimiter, rows,
                             None if blank_lines else seen, block)
    return _verified(read_ahead(batches, ahead) if ahead else batches, check, path, seen)


def _ascii_compatible(encoding: str) -> bool:
    probe = ',;|\t"\r\nAz09'
    if encoding == "utf-8-sig":  # its mark at the start is Arrow's to skip too
        return True
    try:
        return probe.encode(encoding) == probe.encode("ascii") and not encoding.startswith(("utf-16", "utf-32"))
    except (UnicodeError, LookupError):
        return False


def _verified(batches: Iterator[pa.RecordBatch], check: Check, path: str, seen: "_Seen") -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except BaseException:  # a refusal, an error, Ctrl-C, the consumer gone: the look is not needed
        check.stop.set()
        raise
    if not check.verdict():
        raise ArrowRefused("quoting")
    # a row of empty cells is a blank line (a row of no cells to Python's csv) or a row of empty fields
    # (",,", the same to both): only a file that has one is looked at for blank lines
    if seen.empty_row and blank_lines_in(path):
        raise ArrowRefused("blank lines")


@dataclass
class _Seen:
    empty_row: bool = False


def _empty_row(batch: pa.RecordBatch) -> bool:
    """Whether some row of ``batch`` has every cell empty (seen on the first column alone where, as mostly,
    it holds an id in every row)."""
    if not batch.num_rows or pc.min(pc.binary_length(batch.column(0))).as_py() > 0:
        return False
    empty = None
    for column in batch.columns:
        blank = pc.equal(pc.binary_length(column), 0)
        empty = blank if empty is None else pc.and_(empty, blank)
    return bool(pc.any(empty).as_py())


def _arrow_batches(table: Table, path: str, encoding: str, delimiter: str, rows: int,
                   seen: _Seen | None, block: int) -> Generator[pa.RecordBatch, None, None]:
    width, names = len(table.header), list(table.header)
    generated = [f"f{i}" for i in range(width)]
    lean_memory()
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=block, autogenerate_column_names=True, encoding=encoding),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types={name: pa.string() for name in generated},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, UnicodeError) as exc:
        raise ArrowRefused(str(exc)) from None
    try:
        yield from _read_batches(reader, names, generated, rows, seen)
    finally:
        # at once, not when the generator is collected: Arrow's read-ahead threads would go on reading
        # blocks (and can abort the process under a memory limit) while the Python reader starts over
        reader.close()


def _read_batches(reader, names: list[str], generated: list[str], join: int,
                  seen: _Seen | None) -> Iterator[pa.RecordBatch]:
    if reader.schema.names != generated or any(t != pa.string() for t in reader.schema.types):
        raise ArrowRefused("columns")
    first, pending, rows = True, [], 0
    limit = min(FIELD_LIMIT, CsvLimits.from_env().field)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowException, UnicodeError) as exc:
            raise ArrowRefused(str(exc)) from None
        if first:
            first = False
            header = [v.strip() for v in batch.slice(0, 1).to_pylist()[0].values()] if batch.num_rows else []
            if header:
                header[0] = header[0].lstrip("\ufeff").strip()
            if header != names:
                raise ArrowRefused("header")
            batch = batch.slice(1)
        if batch.get_total_buffer_size() > limit and any(_longest_over(column, limit) for column in batch.columns):
            raise ArrowRefused("field size")  # Python's reader refuses it, at its row
        if seen is not None and not seen.empty_row:
            seen.empty_row = _empty_row(batch)
        pending.append(batch)
        rows += batch.num_rows
        del batch
        if rows and rows >= join:
            # the blocks let go before the joined batch is handed on, not when the next one is asked for
            joined, pending, rows = _joined_batches(pending, names), [], 0
            yield joined
            del joined
    if rows:
        yield _joined_batches(pending, names)


def _longest_over(column: pa.Array, limit: int) -> bool:
    """Whether a cell of ``column`` is longer than ``limit`` bytes; a column whose buffers are all within it
    needs no look at its cells (two kernel calls a column a block: 9% of validate's time on the benchmark).
    The buffers' whole size, not ``nbytes`` (which works out the part the column refers to: 20 times slower,
    and 2% of recode's time when asked of every column of every block), and asked of the block first."""
    return column.get_total_buffer_size() > limit and (pc.max(pc.binary_length(column)).as_py() or 0) > limit


def _joined_batches(batches: list[pa.RecordBatch], names: list[str]) -> pa.RecordBatch:
    batch = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
    return pa.RecordBatch.from_arrays(batch.columns, names=names)


def as_text_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with every column as text, a null as an empty cell (batches from elsewhere: DuckDB, Spark)."""
    columns = []
    for column in batch.columns:
        if column.type != pa.string():
            column = pc.cast(column, pa.string())
        if column.null_count:
            column = pc.fill_null(column, _EMPTY)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _buffer(lines: pa.Array) -> memoryview:
    """The bytes of a string array's values, end to end."""
    _, offsets, data = lines.buffers()
    if data is None:  # no cell holds anything
        return memoryview(b"")
    offsets = memoryview(offsets).cast("i")  # 32-bit offsets of a string array, in the machine's order
    return memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]]


def _quoted(column: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(_QUOTE, pc.replace_substring(column, '"', '""'), _QUOTE, _EMPTY)


def excel_safe_column(column: pa.Array) -> pa.Array:
    """``icvac.writers.excel_safe`` over a column."""
    formula = pc.and_(pc.match_substring_regex(column, _FORMULA), pc.invert(pc.match_substring_regex(column, _NUMBER)))
    if not pc.any(formula).as_py():
        return column
    return pc.if_else(formula, pc.binary_join_element_wise(_APOSTROPHE, column, _EMPTY), column)


def csv_bytes(columns: list[pa.Array], safe: bool = False) -> Iterator[memoryview]:
    """The rows of ``columns`` as ``icvac.writers.csv_writer`` writes them (after ``excel_safe`` with
    ``safe``): a cell quoted where it holds a quote, a comma or a line feed, every cell of a row quoted
    where one holds a carriage return. The dictionary-encoded columns at the end (recode's added ones) are
    written per distinct combination of their values, and joined to the rest as one cell. The bytes come in
    pieces (``lines``)."""
    if safe:
        columns = [_per_value(c, excel_safe_column) for c in columns]
    held = [_held(_values(c)) for c in columns]  # one look a column: the carriage return, then the quoting
    if any(b"\r" in h for h in held):
        return _csv_carriage(columns)
    k = len(columns)
    while k and isinstance(columns[k - 1], Coded):
        k -= 1
    cells = [_per_value(c, partial(_quote_needed, held=h)) for c, h in zip(columns[:k], held, strict=False)]
    if k < len(columns):
        cells.extend(_joined(columns[k:]))
    else:
        cells[-1] = pc.binary_join_element_wise(cells[-1], _EMPTY, _NEWLINE)
    return lines(cells, _COMMA)


def lines(cells: list, separator: pa.Scalar) -> Iterator[memoryview]:
    """The rows of ``cells`` (text columns of one length, or scalars: the same text in every row) joined by
    ``separator``, as bytes, ``FORMAT_ROWS`` rows at a time: each piece is made when asked for, so a writer
    holds the one it writes and the one before at most, not the batch's lines."""
    if any(not isinstance(c, (pa.Array, pa.Scalar)) for c in cells):
        raise TypeError("lines joins arrays and scalars")
    arrays = [c for c in cells if isinstance(c, pa.Array)]
    if not arrays:
        raise ValueError("lines needs a column: scalars alone say nothing of the number of rows")
    for start in range(0, len(arrays[0]), FORMAT_ROWS):
        piece = [c.slice(start, FORMAT_ROWS) if isinstance(c, pa.Array) else c for c in cells]
        yield _buffer(pc.binary_join_element_wise(*piece, separator))


def _values(column: pa.Array) -> pa.Array:
    return column.dictionary if isinstance(column, Coded) else column


def _per_value(column: pa.Array, function) -> pa.Array:
    """``function`` over a column's cells, over its dictionary only where it has one."""
    if isinstance(column, Coded):
        return Coded(column.indices, function(column.dictionary))
    return function(column)


_SPECIAL = (b"\r", b'"', b",", b"\n")  # the characters that decide a cell's quoting


def _held(column: pa.Array) -> frozenset[bytes]:
    """Which of ``_SPECIAL`` some cell of the text column holds: a look at its bytes, end to end."""
    data = bytes(_buffer(column))
    return frozenset(c for c in _SPECIAL if c in data)


def _quote_needed(column: pa.Array, held: frozenset[bytes] | None = None) -> pa.Array:
    """The column with the cells quoted that hold a quote, a comma or a line feed (``held``: ``_held`` of
    it, where the caller has looked already)."""
    if not (_held(column) if held is None else held) & {b'"', b",", b"\n"}:
        return column
    needs = pc.match_substring_regex(column, '[",\n]')
    if not pc.any(needs).as_py():
        return column
    return pc.replace_with_mask(column, needs, _quoted(column.filter(needs)))


def _joined(columns: list[Coded]) -> list[pa.Array]:
    """Dictionary columns as text columns, CSV-quoted, the last with the line end: neighbours sharing their
    indices (recode's coding columns) as one column of their cells joined by commas, formatted once per
    distinct value."""
    groups: list[list[Coded]] = []
    for column in columns:
        if groups and _same_indices(groups[-1][0], column):
            groups[-1].append(column)
        else:
            groups.append([column])
    cells = []
    for k, members in enumerate(groups):
        end = "\n" if k == len(groups) - 1 else ""
        rows = zip(*[member.dictionary.to_pylist() for member in members], strict=False)
        texts = [",".join(_quote(v) if '"' in v or "," in v or "\n" in v else v for v in row) + end for row in rows]
        cells.append(pa.array(texts, pa.string()).take(members[0].indices))
    return cells


def _same_indices(a: Coded, b: Coded) -> bool:
    x, y = a.indices, b.indices
    return x.type == y.type and len(x) == len(y) and x.offset == y.offset and \
        x.buffers()[1].address == y.buffers()[1].address and len(a.dictionary) == len(b.dictionary)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _csv_carriage(columns: list[pa.Array]) -> Iterator[memoryview]:
    """As ``csv_bytes``, where some row holds a carriage return: that row with every cell quoted."""
    columns = [decoded(c) for c in columns]
    carriage = None
    for column in columns:
        has = pc.match_substring(column, "\r")
        carriage = has if carriage is None else pc.or_(carriage, has)
    cells = []
    for column in columns:
        needs = pc.or_(pc.match_substring_regex(column, '[",\n]'), carriage)
        cells.append(pc.if_else(needs, _quoted(column), column))
    cells[-1] = pc.binary_join_element_wise(cells[-1], _EMPTY, _NEWLINE)
    return lines(cells, _COMMA)


def jsonl_bytes(names: list[str], columns: list[pa.Array]) -> Iterator[memoryview]:
    """The rows of ``columns`` as JSON Lines, as ``json.dumps(dict(zip(names, row)), ensure_ascii=False)``
    writes them (``names`` distinct)."""
    parts = []
    for k, (name, column) in enumerate(zip(names, columns, strict=False)):
        parts.append(pa.scalar(("{" if k == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "))
        parts.append(decoded(_per_value(column, _json_strings)))
    parts.append(pa.scalar("}\n"))
    return lines(parts, _EMPTY)


def _json_strings(column: pa.Array) -> pa.Array:
    escape = pc.match_substring_regex(column, r'["\\\x00-\x1f]')
    plain = pc.binary_join_element_wise(_QUOTE, column, _QUOTE, _EMPTY)
    if not pc.any(escape).as_py():
        return plain
    dumped = pa.array([json.dumps(v, ensure_ascii=False) for v in column.filter(escape).to_pylist()], pa.string())
    return pc.replace_with_mask(plain, escape, dumped)


def write_bytes(handle: TextIO, pieces: Iterable[memoryview]) -> None:
    """``pieces`` of bytes (UTF-8) to the text handle ``handle``, after what was written to it as text."""
    handle.flush()
    for piece in pieces:
        handle.buffer.write(piece)
