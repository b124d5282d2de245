"""Reading an .xlsx workbook (``formats.INPUT_FORMATS["xlsx"]``): one sheet, a row at a time, as text.

openpyxl reads the workbook in read-only mode through ``xlsx_limits.GuardedZip``, which bounds what each
part may unpack to while it is read. Values become text as ``readers.cell_text`` gives them.
"""
from __future__ import annotations

from typing import Iterator

from .errors import IcvacError, InputError, shown, shown_list
from .readers import ReadOptions, Table, cell_text, check_header
from .xlsx_limits import MAX_ROWS, GuardedZip, XlsxLimits

__all__ = ["open_xlsx"]


def open_xlsx(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    """The first sheet (or ``options.sheet``) of an .xlsx workbook, read a row at a time."""
    handle.close()  # the workbook is opened by name, through the guarded zip
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
