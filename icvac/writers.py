"""Writing outputs safely: atomically, never over an input, and safe to open in a spreadsheet.

Every output goes to a temporary file in the target folder and is renamed into
place only when complete, so an interrupted run (Ctrl-C, SIGTERM, disk full)
leaves neither a partial output nor a stray temporary file. A command that writes
several files (recode: data, sidecar, review file) stages them with
``staged_outputs()``: all appear together at the end, or none does.

A new file is created readable by its owner only (0600: the data are about
children); a file that is replaced keeps the permissions it had.

Only regular files are replaced. A symlink is followed and its final target replaced, so the link
stays. Anything else that already exists (``/dev/null``, a FIFO, a terminal, ``/dev/stdout``) is
opened and written through as it is, while the command runs: renaming a file over it would turn
a shared device into a regular file (as root) or fail (as anyone else, in a folder such as /dev).
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from io import StringIO
from itertools import count, repeat
from pathlib import Path
from typing import IO, Iterator

from .errors import OutputError

__all__ = ["atomic_output", "refuse_overwrite", "excel_safe", "undo_excel_safe", "is_stdio",
           "staged_outputs", "Staging", "csv_writer", "FORMULA_PREFIXES", "writes_through", "is_stdout",
           "ENCODING_ERRORS", "escaped_count", "remove_unfinished"]

# Text that UTF-8 cannot hold -- a lone surrogate, from a JSON Lines "\ud800" or a file name that is not
# UTF-8 -- is written backslash-escaped (the six characters \ud800; in JSON, the same escape read back), in
# every output, and counted, rather than ending the run with a UnicodeEncodeError.
ENCODING_ERRORS = "icvac-escape"
_ESCAPED = [0]
_SURROGATE = re.compile("[\ud800-\udfff]")
# Temporary files not yet renamed into place or removed. A Ctrl-C can land where no ``except`` of
# ``atomic_output`` sees it (between its generator's yield and the ``with`` statement that holds it), so
# the CLI's interrupt handler removes what is left here.
_UNFINISHED: set[str] = set()


def _escape(exc: UnicodeError):
    if isinstance(exc, UnicodeEncodeError):
        _ESCAPED[0] += exc.end - exc.start
    return codecs.backslashreplace_errors(exc)


codecs.register_error(ENCODING_ERRORS, _escape)


def escaped_count() -> int:
    """Characters written backslash-escaped by this process so far (compare before and after a run)."""
    return _ESCAPED[0]

# Characters that make a spreadsheet cell a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, which a spreadsheet reads as a number, never as a formula. Stricter than
# float(): "-inf", "+nan" and "-1_0" are text to a spreadsheet ("-inf" would be a formula).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_stdio(path: str | os.PathLike | None) -> bool:
    return path is None or str(path) == "-"


# Paths that name one of this process's open descriptors rather than a file: on Linux they are
# symlinks to whatever the descriptor holds (a pipe, a terminal, the file a shell redirected to).
_DESCRIPTOR_PATH = re.compile(r"/(?:dev/fd|proc/self/fd|proc/thread-self/fd)/([0-9]+)")
_STD_PATHS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor(path: str | os.PathLike) -> int | None:
    text = os.path.normpath(str(path))
    match = _DESCRIPTOR_PATH.fullmatch(text)
    return int(match.group(1)) if match else _STD_PATHS.get(text)


def is_stdout(path: str | os.PathLike | None) -> bool:
    """``-``, or a name of this process's standard output (``/dev/stdout``, ``/dev/fd/1``)."""
    return path is None or str(path) == "-" or _descriptor(path) == 1


def writes_through(path: str | os.PathLike | None) -> bool:
    """True when ``path`` is written as it is rather than replaced: stdout, a descriptor path
    (``/dev/stderr``, ``/dev/fd/N``), or an existing file that is not a regular one after
    following symlinks (a character device such as /dev/null, a FIFO, a socket). Nothing is ever
    written next to such an output (no temporary file, no sidecar)."""
    if path is None or str(path) == "-" or _descriptor(path) is not None:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:  # not there yet (or a dangling link): a new file is created
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def excel_safe(value):
    """Neutralise text that a spreadsheet would run as a formula; numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def undo_excel_safe(value: str) -> str:
    """The value ``excel_safe`` was given: for text read back from a file people edited (review files)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES) and not _is_number(value[1:]):
        return value[1:]
    return value


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


class _CsvWriter:
    """``csv.writer`` with ``\\n`` line ends, that also quotes a field holding a lone ``\\r``.

    csv quotes the characters of its line terminator, so with ``\\n`` a carriage return inside a
    field went out bare and every reader took it for the end of the row.
    """

    def __init__(self, handle: IO):
        self._write = handle.write
        self._scratch = StringIO(newline="")
        # csv quotes a cell holding a character of the line end: so the line end is \n, as in the file,
        # and is cut off the scratch copy
        self._minimal = csv.writer(self._scratch, lineterminator="\n")
        self._quoted = csv.writer(self._scratch, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        self.writerows((row,))

    def writerows(self, rows) -> None:
        """The rows in one write: a large recode writes its rows a few hundred at a time."""
        rows = list(rows)
        if not rows:
            return
        if not all(map(isinstance, rows, repeat((list, tuple)))):
            rows = [row if isinstance(row, (list, tuple)) else list(row) for row in rows]  # read twice below
        try:
            lines = list(map(",".join, rows))
        except TypeError:  # numbers or None among the cells
            lines = [self._csv_line(row) for row in rows]
        else:
            # Most lines are what csv would write: those where no cell holds a quote, a line break or a
            # comma (the count of commas says so), except the empty line csv writes as "" for one empty cell.
            for i in [i for i, line, row in zip(count(), lines, rows)
                      if '"' in line or "\n" in line or "\r" in line or line.count(",") != len(row) - 1 or not line]:
                line = lines[i]
                if "\r" in line or not line:
                    lines[i] = self._csv_line(rows[i])
                else:
                    # as csv's QUOTE_MINIMAL writes it, in half its time: the cells that hold a delimiter, a
                    # quote or a line feed are quoted, their quotes doubled
                    lines[i] = ",".join([_quote(v) if '"' in v or "," in v or "\n" in v else v for v in rows[i]])
        self._write("\n".join(lines) + "\n")

    def _csv_line(self, row) -> str:
        carriage = any(isinstance(v, str) and "\r" in v for v in row)
        self._scratch.seek(0)
        self._scratch.truncate()
        (self._quoted if carriage else self._minimal).writerow(row)
        return self._scratch.getvalue()[:-1]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def csv_writer(handle: IO) -> _CsvWriter:
    """The CSV writer of every icvac output: comma, ``\\n`` line ends, quotes only where needed."""
    return _CsvWriter(handle)


def refuse_overwrite(output: str | os.PathLike | None, *inputs: str | os.PathLike | None) -> None:
    """Raise OutputError when ``output`` is one of the input files (same file, any spelling).

    An output written through (/dev/null, a FIFO) replaces nothing: several outputs may share it."""
    if output is None or writes_through(output):
        return
    out = Path(output)
    for inp in inputs:
        if inp is None or is_stdio(inp):
            continue
        try:
            same = out.exists() and Path(inp).exists() and os.path.samefile(out, inp)
        except OSError:
            same = False
        if same or out.resolve() == Path(inp).resolve():
            raise OutputError(f"output {out} is also an input; write the result to another file")


class Staging:
    """Finished temporary files waiting to be renamed into place together (see ``staged_outputs``)."""

    def __init__(self) -> None:
        self._pending: list[tuple[str, Path]] = []

    def add(self, tmp: str, target: Path) -> None:
        self._pending.append((tmp, target))

    def commit(self) -> None:
        # The renames are quick, but a Ctrl-C between two of them would leave half of the outputs:
        # signals wait until every file is in place.
        with _signals_deferred():
            try:
                while self._pending:
                    tmp, target = self._pending[0]
                    _replace(tmp, target)
                    self._pending.pop(0)
            finally:
                self.discard()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            _remove(tmp)
        self._pending.clear()


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    _UNFINISHED.discard(tmp)


def remove_unfinished() -> None:
    """Remove the temporary files of outputs that an interrupt left unfinished."""
    for tmp in sorted(_UNFINISHED):
        _remove(tmp)


@contextlib.contextmanager
def staged_outputs() -> Iterator[Staging]:
    """Outputs written with ``stage=`` inside the block appear together when it ends without error."""
    stage = Staging()
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    blockable = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if not blockable:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _replace(tmp: str, target: Path) -> None:
    with contextlib.suppress(OSError):  # a replaced file keeps its permissions; a new one stays 0600
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    os.replace(tmp, target)
    _UNFINISHED.discard(tmp)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike | None, *, binary: bool = False, newline: str | None = "",
                  encoding: str = "utf-8", stage: Staging | None = None) -> Iterator[IO]:
    """Yield a file to write; on success it replaces ``path`` (or joins ``stage``). ``-`` or None: stdout.

    A symlink's final target is replaced (the link stays); a device, FIFO or descriptor path is
    written through (see ``writes_through``)."""
    if path is None or is_stdout(path):
        stream = sys.stdout.buffer if binary else sys.stdout
        if not binary and getattr(stream, "errors", None) != ENCODING_ERRORS and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ENCODING_ERRORS)
        yield stream
        stream.flush()
        return
    if writes_through(path):
        with _written_through(path, binary=binary, newline=newline, encoding=encoding) as through:
            yield through
        return
    target = _final_target(Path(path))
    if target.is_dir():
        raise OutputError(f"output {path} is a directory; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"output folder {Path(path).parent} does not exist; create it first")
    tmp = None
    try:
        # a Ctrl-C inside mkstemp, after it made the file but before it returned the name, would leave the
        # file behind: signals wait until the name is known here, inside the block that removes it
        with _signals_deferred():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            _UNFINISHED.add(tmp)
        if binary:
            handle: IO = os.fdopen(fd, "wb")
        else:
            handle = io.open(fd, "w", encoding=encoding, newline=newline, errors=ENCODING_ERRORS)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if stage is not None:
            stage.add(tmp, target)
        else:
            _replace(tmp, target)
    except BaseException:
        if tmp is not None:
            _remove(tmp)
        raise


def _final_target(path: Path) -> Path:
    """Where the bytes of ``path`` live: its symlinks followed (a dangling one to the file it names)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path.absolute()


@contextlib.contextmanager
def _written_through(path: str | os.PathLike, *, binary: bool, newline: str | None,
                     encoding: str) -> Iterator[IO]:
    """Open an existing device, FIFO or descriptor path and write into it, as a shell's ``>`` would."""
    number = _descriptor(path)
    if number is not None:
        # the descriptor itself, so that its offset is shared with whoever opened it (a `>>` stays an
        # append); Python's own buffers go first
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        fd = os.dup(number)
    else:
        # no O_CREAT, no O_TRUNC: the file exists and is not a regular one; a FIFO waits for its reader
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    if binary:
        handle: IO = os.fdopen(fd, "wb")
    else:
        handle = io.open(fd, "w", encoding=encoding, newline=newline)
    with handle:
        yield handle


def scratch_folder(path: str | os.PathLike) -> Path | None:
    """The folder for temporary files on the way to ``path``: its own, or the system's (None) for an
    output written through, whose folder (/dev) is no place for them."""
    if writes_through(path):
        return None
    return _final_target(Path(path)).parent
