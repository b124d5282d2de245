"""Writing outputs safely: atomically, never over an input, and safe to open in a spreadsheet.

Every output goes to a temporary file in the target folder and is renamed into
place only when complete, so an interrupted run (Ctrl-C, SIGTERM, disk full)
leaves neither a partial output nor a stray temporary file.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import OutputError

__all__ = ["atomic_output", "refuse_overwrite", "excel_safe", "is_stdio", "FORMULA_PREFIXES"]

# Characters that make a spreadsheet cell a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_stdio(path: str | os.PathLike | None) -> bool:
    return path is None or str(path) == "-"


def excel_safe(value):
    """Neutralise text that a spreadsheet would run as a formula; numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text


def refuse_overwrite(output: str | os.PathLike | None, *inputs: str | os.PathLike | None) -> None:
    """Raise OutputError when ``output`` is one of the input files (same file, any spelling)."""
    if is_stdio(output):
        return
    out = Path(output)
    for inp in inputs:
        if is_stdio(inp):
            continue
        try:
            same = out.exists() and Path(inp).exists() and os.path.samefile(out, inp)
        except OSError:
            same = False
        if same or out.resolve() == Path(inp).resolve():
            raise OutputError(f"output {out} is also an input; write the result to another file")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike | None, *, binary: bool = False,
                  newline: str | None = "", encoding: str = "utf-8") -> Iterator[IO]:
    """Yield a file to write; on success it replaces ``path``. ``-`` or None means stdout."""
    if is_stdio(path):
        if binary:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            stream = sys.stdout
            yield stream
            stream.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"output {target} is a directory; give a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"output folder {folder} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        if binary:
            handle: IO = os.fdopen(fd, "wb")
        else:
            handle = io.open(fd, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
