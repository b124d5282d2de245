"""Writing an .xlsx workbook (``formats.OUTPUT_FORMATS["xlsx"]``, review files, tables, crosswalks):
streamed through openpyxl's write-only mode, every text a text cell, the bytes the same for the same rows.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import OutputError
from .writers import _SURROGATE, ENCODING_ERRORS, Staging, atomic_output, is_stdio, scratch_folder

__all__ = ["xlsx_writer"]


@contextlib.contextmanager
def xlsx_writer(path: str | os.PathLike | None, sheet: str = "data", validations: dict[int, list[str]] | None = None,
                stage: Staging | None = None, freeze_header: bool = False) -> Iterator:
    """Stream rows into a new .xlsx written atomically; yields ``write(row)``.

    Every string is stored as a text cell, so no value from the data can become a
    formula; numbers (int, float) are stored as numbers. Characters an .xlsx cannot hold
    (control characters other than tab and line breaks) become U+FFFD; lone surrogates are
    backslash-escaped, as in every output. ``validations`` maps a 0-based column to a list
    of allowed values, shown as a drop-down (used by review files). ``freeze_header`` keeps
    the first row in view while scrolling.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if path is None or is_stdio(path):  # `is None` again for the type checker: is_stdio says so too
        raise OutputError("an .xlsx output cannot go to stdout; give a file name with -o")
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet)
    if freeze_header:
        ws.freeze_panes = "A2"
    if validations:
        _add_validations(workbook, ws, validations)

    def write(row) -> None:
        cells = []
        for value in row:
            if isinstance(value, str):
                if _SURROGATE.search(value):
                    value = value.encode("utf-8", ENCODING_ERRORS).decode("utf-8")
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
                cell.data_type = "s"  # text, never a formula
            else:
                cell = WriteOnlyCell(ws, value=value)
            cells.append(cell)
        ws.append(cells)

    try:
        yield write
        with atomic_output(path, binary=True, stage=stage) as handle:
            _save_reproducibly(workbook, handle, scratch_folder(path))
    except BaseException:
        _discard_sheet(ws)
        raise


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def _save_reproducibly(workbook, handle: IO, folder: Path | None) -> None:
    """Save with fixed zip timestamps and document dates, so the same rows give the same bytes.

    openpyxl stamps the current time into docProps/core.xml and into every zip entry; the
    saved workbook is re-packed entry by entry (streamed, in the output's own folder) without them.
    """
    import shutil
    import zipfile

    with tempfile.TemporaryFile(dir=folder) as raw:
        workbook.save(raw)
        raw.seek(0)
        with zipfile.ZipFile(raw) as src, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                if info.filename == "docProps/core.xml":
                    dst.writestr(entry, _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", src.read(info)))
                    continue
                with src.open(info) as reader, dst.open(entry, "w", force_zip64=info.file_size >= 1 << 31) as w:
                    shutil.copyfileobj(reader, w, 1 << 20)


def _discard_sheet(ws) -> None:
    # openpyxl streams a write-only sheet to a file in the system temp folder and removes it only on
    # save or at exit; the rows in it are sensitive, so remove it as soon as the output is abandoned.
    if getattr(ws, "_writer", None) is None:
        return
    with contextlib.suppress(Exception):
        ws.close()
    with contextlib.suppress(Exception):
        ws._writer.cleanup()


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
