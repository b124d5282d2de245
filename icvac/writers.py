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

__all__ = ["atomic_output", "refuse_overwrite", "excel_safe", "is_stdio", "xlsx_writer", "FORMULA_PREFIXES"]

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


@contextlib.contextmanager
def xlsx_writer(path: str | os.PathLike, sheet: str = "data",
                validations: dict[int, list[str]] | None = None) -> Iterator:
    """Stream rows into a new .xlsx written atomically; yields ``write(row)``.

    Every string is stored as a text cell, so no value from the data can become a
    formula. ``validations`` maps a 0-based column to a list of allowed values,
    shown as a drop-down (used by review files).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if is_stdio(path):
        raise OutputError("an .xlsx output cannot go to stdout; give a file name with -o")
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet)
    count = 0
    if validations:
        _add_validations(workbook, ws, validations)

    def write(row) -> None:
        nonlocal count
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        ws.append(cells)
        count += 1

    yield write
    with atomic_output(path, binary=True) as handle:
        workbook.save(handle)


def _add_validations(workbook, ws, validations: dict[int, list[str]]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = workbook.create_sheet("lists")
    for n, (column, allowed) in enumerate(sorted(validations.items()), 1):
        letter = get_column_letter(n)
        rule = DataValidation(type="list", formula1=f"=lists!${letter}$1:${letter}${max(len(allowed), 1)}",
                              allow_blank=True)
        rule.add(f"{get_column_letter(column + 1)}2:{get_column_letter(column + 1)}1048576")
        ws.data_validations.append(rule)
    # write-only sheets take whole rows: lay the lists out column by column
    columns = [allowed for _, allowed in sorted(validations.items())]
    for i in range(max(len(c) for c in columns)):
        lists.append([c[i] if i < len(c) else None for c in columns])
