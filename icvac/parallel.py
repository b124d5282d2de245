"""One CSV file done by several processes, the results taken in file order.

Reading and writing a million CSV rows takes seconds on one core, so ``recode`` and ``validate``
of a large CSV file use two: the file is cut into blocks of whole records, worker processes do the
blocks, and the caller takes their results in file order, with a few blocks in flight at most, so
memory stays flat whatever the size of the file.

Cutting needs no parsing. In an ASCII-compatible encoding a quote and a line feed are single bytes
that no other character contains, and RFC 4180 doubles a quote inside a quoted field, so a line feed
after an even number of quotes ends a record. That holds for CSV that follows the RFC; a quote inside
an unquoted field (``5'3"``) breaks the count. So each block is checked as it is parsed: each line's
quoted fields must open after a delimiter or at the start and close before one or at the end
(``_simple_quoted``); what csv.reader reads instead (records over several lines, blocks with a CR)
is checked first by ``quotes_open_fields``. From the first block that fails the check, or fails in
any other way (an undecodable byte, a CSV error, an error of the caller's own code), the caller reads
on by itself (``Source.rows_from``): results, errors and their row numbers are then those of one
process reading the whole file.

Workers are forked (Linux only; elsewhere the caller reads alone), so they start with the caller's
state: taxonomy, mapping, options. They ignore Ctrl-C, which the caller handles by terminating them,
and end with the caller however it ends (their pipe to it closes). A worker hands its work the records
of a block in chunks of about 32 KB of text, split and then checked or coded while they are in the
processor's cache. A worker cannot know how many records precede its block: it numbers the rows of a
block from 1, and the caller adds the count of the records before.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gc
import io
import itertools
import os
import re
import signal
import stat
import sys
from collections import deque
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator

from .errors import UsageError
from .readers import Table, csv_rows_from

__all__ = ["Source", "plan", "blocks", "cuts", "quotes_open_fields", "BLOCK_SIZE", "AUTO_MIN_BYTES", "CHUNK_LINES",
           "chunked", "numbered"]

BLOCK_SIZE = 2 << 20       # bytes per block: handing one over costs little; a few in memory cost little
AUTO_MIN_BYTES = 20 << 20  # a smaller file is done before the workers would have paid for themselves
AUTO_JOBS = 2              # most of the gain; more would compete with the caller, who writes every result
CHUNK_CHARS = 32 << 10     # text a worker splits and hands over at a time: it stays in the processor's cache
CHUNK_LINES = 512          # records handled at a time where one process reads the file
IN_FLIGHT = 2              # blocks per worker handed out ahead of the one the caller waits for
HEAD_BYTES = 1 << 20       # the header rows must end within this, or the file is read by one process
# Encodings in which '"', CR and LF are single bytes no other character contains, and how a block
# after the header is decoded (a byte-order mark is only at the start of the file).
_BLOCK_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "cp1252": "cp1252", "iso8859-1": "latin-1",
                    "ascii": "ascii"}

Rows = Iterator[tuple[int, list[str]]]
Chunks = Iterator[list[list[str]]]


@dataclass(frozen=True)
class Source:
    """A CSV file to do in blocks, whose data rows start at byte ``start``."""

    name: str
    start: int
    header_row: int
    encoding: str   # the table's, for messages
    delimiter: str
    jobs: int
    block_size: int
    size: int = 0   # of the file, when planned

    def rows_from(self, offset: int, number: int) -> Rows:
        """The rows from byte ``offset`` (a block's start) on, numbered from ``number + 1``."""
        return csv_rows_from(self.name, offset, number, self.encoding, self.delimiter)


def plan(table: Table, header_row: int, jobs: int | None) -> Source | None:
    """How to do ``table`` in blocks, or None to read it in this process. ``jobs`` None chooses: several
    processes only for a CSV file of AUTO_MIN_BYTES or more, on a machine with more than one core."""
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: give 1 or more")
    if jobs == 1 or table.format != "csv" or table.path == "-" or not sys.platform.startswith("linux"):
        return None
    try:
        info = os.stat(table.path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None  # a pipe or a device can be read once only
    if jobs is None:
        jobs = min(AUTO_JOBS, _cores()) if info.st_size >= AUTO_MIN_BYTES else 1
        if jobs < 2:
            return None
    encoding = table.encoding or ""
    try:
        splittable = codecs.lookup(encoding).name in _BLOCK_ENCODINGS
    except LookupError:
        splittable = False
    if not splittable or not table.delimiter or not table.delimiter.isascii():
        return None
    start = _data_start(table.path, header_row, encoding, table.delimiter)
    if start is None:
        return None
    return Source(table.path, start, header_row, encoding, table.delimiter, jobs, BLOCK_SIZE, info.st_size)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _data_start(path: str, header_row: int, encoding: str, delimiter: str) -> int | None:
    """The byte after the header rows, checked by parsing them as the reader did; None if not found."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    pos = quotes = ends = 0
    while ends < header_row:
        line_feed = head.find(b"\n", pos)
        if line_feed < 0:
            return None
        quotes += head.count(b'"', pos, line_feed)
        pos = line_feed + 1
        ends += quotes % 2 == 0
    part = head[:pos]
    if not quotes_open_fields(part, delimiter):
        return None
    try:
        records = list(csv.reader(io.StringIO(part.decode(encoding), newline=""), delimiter=delimiter, strict=True))
    except (UnicodeError, csv.Error):
        return None
    # a lone CR also ends a record: then the line feeds found were not the ends of the header rows
    return pos if len(records) == header_row else None


def quotes_open_fields(block: bytes, delimiter: str) -> bool:
    """True when every quote that opens a quoted field by the count (an even number of quotes before it)
    follows a delimiter, CR, LF or quote, or starts the block: the csv module then reads every quote as
    the count does, and a line feed after an even number of quotes ends a record."""
    return _fields_pattern(delimiter).fullmatch(block) is not None


@functools.lru_cache(maxsize=None)
def _fields_pattern(delimiter: str, text: bool = False) -> re.Pattern:
    # unquoted text, then a quoted field (a pair of quotes) whose opening quote follows an allowed byte;
    # the quantifiers are possessive where Python has them (3.11): nothing to backtrack into
    more = "+" if sys.version_info >= (3, 11) else ""
    pattern = rf'(?:[^"]*{more}(?:^|(?<=[{re.escape(delimiter)}\r\n"]))"[^"]*{more}")*{more}[^"]*{more}'
    return re.compile(pattern if text else pattern.encode("ascii"))


def _check_quotes(text: str, delimiter: str) -> None:
    """``quotes_open_fields`` for text: raise csv.Error where it fails."""
    if _fields_pattern(delimiter, text=True).fullmatch(text) is None:
        raise csv.Error("a quote inside an unquoted field: not RFC 4180 CSV")


def cuts(handle: IO[bytes], start: int, size: int) -> Iterator[tuple[int, int | None]]:
    """``(offset, length)`` of consecutive blocks of ``handle`` from ``start`` (its position) to the end,
    each of about ``size`` bytes and, but for the last, ending with a line feed after an even number of
    quotes. A length of None: no such line feed within twice ``size`` (a quote left open?), so the caller
    reads on from there."""
    buffer = bytearray(size)  # read into again and again: no new memory per block
    offset = position = start  # where the block being cut starts; the file position of buffer[0]
    quotes = 0                 # in the block before buffer[0]
    while True:
        n = handle.readinto(buffer)
        if not n:
            if position > offset:
                yield offset, position - offset
            return
        end = _last_record_end(buffer, n, quotes)
        if end:
            yield offset, position + end - offset
            offset = position + end
            quotes = buffer.count(b'"', end, n)
        elif position + n - offset > 2 * size:
            yield offset, None
            return
        else:
            quotes += buffer.count(b'"', 0, n)
        position += n


def _last_record_end(data: bytearray, n: int, quotes: int) -> int:
    """The index after the last line feed of ``data[:n]`` with an even number of quotes before it, counting
    ``quotes`` before ``data``; 0 if none."""
    # count() looks at the bytes one by one; replace() finds the quotes with memchr, in half the time
    quotes += n - len((data if n == len(data) else data[:n]).replace(b'"', b""))
    end = n
    while True:
        line_feed = data.rfind(b"\n", 0, end)
        if line_feed < 0:
            return 0
        quotes -= data.count(b'"', line_feed, end)  # now the quotes before this line feed
        if quotes % 2 == 0:
            return line_feed + 1
        end = line_feed


@contextlib.contextmanager
def blocks(source: Source, work: Callable[[Chunks], Any]) -> Iterator[Iterator[tuple[int, Any]]]:
    """Yield an iterator of ``(offset, result)`` in file order, ``result = work(chunks)`` for the records of
    the block at byte ``offset``, in lists of a few hundred (the first record is row 1 of the block), done in
    a worker process. A result of None: the block cannot
    be done apart; the caller reads on from ``offset`` itself (``source.rows_from``) and the iterator ends.
    ``work`` must not return None. The workers are ended when the block ends, whatever the reason."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with open(source.name, "rb") as handle:
        # Each worker has a pipe of its own and takes every jobs-th block: no lock is shared, so a worker
        # can be ended at any moment (multiprocessing.Pool can hang if one is ended holding its queue's lock).
        workers: list = []
        try:
            with _signals_held():
                for _ in range(source.jobs):
                    here, there = context.Pipe()
                    process = context.Process(target=_serve, daemon=True, args=(
                        there, [here, *(pipe for _, pipe in workers)], source, work, handle.fileno()))
                    process.start()
                    there.close()
                    workers.append((process, here))
            yield _in_order([pipe for _, pipe in workers], source, handle)
        finally:
            for process, _ in workers:
                process.terminate()
            for process, pipe in workers:
                process.join()
                pipe.close()


_HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the workers start, so that none is left behind; the workers start
    with them held too, until they have set their own handlers."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _in_order(pipes: list, source: Source, handle: IO[bytes]) -> Iterator[tuple[int, Any]]:
    handle.seek(source.start)
    todo = cuts(handle, source.start, source.block_size)
    pending: deque = deque()  # (offset, the pipe of the worker doing it; None: for the caller)
    sent = 0
    while True:
        while todo is not None and len(pending) < IN_FLIGHT * len(pipes):
            offset, length = next(todo, (None, 0))
            if offset is None or length is None:
                todo = None
                if offset is not None:
                    pending.append((offset, None))
                break
            pipe = pipes[sent % len(pipes)]
            pipe.send((offset, length))
            pending.append((offset, pipe))
            sent += 1
        if not pending:
            return
        offset, pipe = pending.popleft()
        try:
            result = None if pipe is None else pipe.recv()
        except (EOFError, OSError):
            result = None  # the worker died (out of memory?): the caller reads on from this block
        yield offset, result
        if result is None:
            return


# ---------------------------------------------------------------- in a worker process

def _serve(pipe, inherited: list, source: Source, work: Callable[[Chunks], Any], fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole process group; the caller handles it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the CLI's handler would print a traceback here
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    # what the worker inherited lives as long as it does: the collector need not look at it again
    gc.freeze()
    for other in inherited:  # the caller's ends of the pipes: they must close when the caller ends
        other.close()
    try:
        while True:
            offset, length = pipe.recv()
            pipe.send(_do_block(source, work, fd, offset, length))
    except (EOFError, OSError):
        return  # the caller has gone


def _do_block(source: Source, work: Callable[[Chunks], Any], fd: int, offset: int, length: int) -> Any:
    try:
        data = b""
        while len(data) < length:
            more = os.pread(fd, length - len(data), offset + len(data))
            if not more:
                return None  # the file shrank: the caller reads on and sees what is there
            data += more
        text = data.decode(_BLOCK_ENCODINGS[codecs.lookup(source.encoding).name])
        return work(_record_chunks(text, source.delimiter))
    except Exception:
        return None  # whatever it was, the caller meets it again reading this block itself, and reports it


def _record_chunks(text: str, delimiter: str, size: int = CHUNK_CHARS) -> Chunks:
    """The records of a block cut by ``cuts``, as ``csv.reader`` reads them, in lists of the whole lines in
    about ``size`` characters (one line at least), or csv.Error where the block is not RFC 4180 CSV (the
    caller then reads on from the block by itself: the cut may be wrong). A chunk at a time, so that its
    text, lines and cells stay in the processor's cache while they are split and checked.

    Most lines are whole records, split without the reader: a line with no quote at the delimiter; a line
    with quotes by ``_simple_quoted``, which also checks it. A line with an odd number of quotes opens a
    record of several lines: from there on the reader reads the block, once ``quotes_open_fields`` has
    checked it, as it checks a block with a CR or a NUL."""
    if "\r" in text or "\0" in text:  # a CR ends a record too; a NUL is refused before Python 3.11
        yield from _read_rest(text, delimiter, size)
        return
    if text and not text.endswith("\n"):
        text += "\n"  # the last line of a file may have no line feed
    limit = csv.field_size_limit()  # the reader refuses a longer field: a line above it goes to the reader
    start = 0
    while start < len(text):
        end = text.rfind("\n", start, start + size) + 1 or text.find("\n", start + size) + 1
        lines = text[start:end].split("\n")
        lines.pop()  # after the last line feed: nothing
        rows = [line.split(delimiter) if '"' not in line else _simple_quoted(line, delimiter) for line in lines]
        if None in rows or not all(lines) or max(map(len, lines)) > limit:
            done = _mend(lines, rows, delimiter, limit)
            if done < len(lines):
                if done:
                    yield rows[:done]
                yield from _read_rest(text[start + sum(map(len, lines[:done])) + done:], delimiter, size)
                return
        yield rows
        start = end


def _read_rest(text: str, delimiter: str, size: int) -> Chunks:
    _check_quotes(text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    yield from _batched(reader, max(1, size // 256))


def _mend(lines: list[str], rows: list, delimiter: str, limit: int) -> int:
    """Mend the rows of the lines that were not split: a blank line is no record; a line over the limit
    goes to the reader (which refuses a field over it); a line with an even number of quotes that is not
    RFC 4180 CSV fails the block. Stop at a line with an odd number of quotes (it opens a record of several
    lines) and return its index; else return ``len(lines)``."""
    for i, line in enumerate(lines):
        if rows[i] is not None and line and len(line) <= limit:
            continue
        if not line:
            rows[i] = []
        elif rows[i] is not None:
            rows[i] = next(csv.reader([line], delimiter=delimiter, strict=True))
        elif line.count('"') % 2:
            return i
        else:
            raise csv.Error("a quote inside an unquoted field, or text after a closing quote: not RFC 4180 CSV")
    return len(lines)


def chunked(rows: Rows, size: int = CHUNK_LINES) -> Iterator[tuple[tuple[int, ...], tuple[list[str], ...]]]:
    """Numbered rows (a reader's ``(number, cells)``) as chunks ``(numbers, rows)``, as ``numbered`` gives a
    block's: where one process reads the file."""
    for chunk in _batched(rows, size):
        yield tuple(zip(*chunk))


def numbered(chunks: Chunks) -> Iterator[tuple[range, list[list[str]]]]:
    """A block's chunks of records, each with the numbers of its rows in the block (from 1)."""
    before = 0
    for rows in chunks:
        yield range(before + 1, before + len(rows) + 1), rows
        before += len(rows)


def _batched(rows: Iterator, size: int) -> Iterator[list]:
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _simple_quoted(line: str, delimiter: str) -> list[str] | None:
    """The fields of ``line`` when it is a whole record of RFC 4180 CSV: each quoted field opens at the start
    of the line or after a delimiter, and closes at the end or before a delimiter (a quote inside it is
    doubled). Splitting at the quotes then gives text outside quotes and quoted text in turn, an empty
    piece between quoted text standing for a doubled quote; splitting the text outside at the delimiter
    gives the other fields. None for any other line."""
    parts = line.split('"')
    if not len(parts) % 2:
        return None  # an odd number of quotes: the record goes on in the next line
    fields = parts[0].split(delimiter)
    last = len(parts) - 1
    k = 1  # parts[k] is quoted text
    while k < last:
        if fields[-1]:
            return None  # text before the opening quote
        value = parts[k]
        while not parts[k + 1] and k + 1 < last:  # a doubled quote, and the field goes on
            value += '"' + parts[k + 2]
            k += 2
        fields[-1] = value
        after = parts[k + 1]
        if after:
            if after[0] != delimiter:
                return None  # text after the closing quote
            fields += after.split(delimiter)[1:]
        k += 2
    return fields
