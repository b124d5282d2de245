"""Reading an .xlsx workbook (``formats.INPUT_FORMATS["xlsx"]``): one sheet, a row at a time, as text.

openpyxl reads the workbook in read-only mode through ``xlsx_limits.GuardedZip``, which bounds what each
part may unpack to while it is read. Values become text as ``readers.cell_text`` gives them.
"""
from __future__ import annotations

from typing import Iterator

from .errors import IcvacError, InputError, shown, shown_list
from .readers import ReadOptions, Table, cell_text, check_header
from .xlsx_limits import MAX_DEPTH, MAX_ROWS, GuardedZip, SheetBudget, XlsxLimits

__all__ = ["open_xlsx"]


def open_xlsx(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    """The first sheet (or ``options.sheet``) of an .xlsx workbook, read a row at a time."""
    handle.close()  # the workbook is opened by name, through the guarded zip
    if options.header_row > MAX_ROWS:
        raise InputError(f"{name}: --header-row {options.header_row}: an Excel sheet has {MAX_ROWS:,} rows at most")
    workbook = _load_workbook(name)
    try:
        sheet = _pick_sheet(name, workbook, options.sheet)
        rows = _sheet_rows(name, _parsed_rows(workbook, sheet))
        found = next((values if number == options.header_row else () for number, values in rows
                      if number >= options.header_row), None)
        if found is None and (sheet.max_row or 0) < options.header_row:
            raise InputError(f"{name}: sheet {sheet.title!r} has no row {options.header_row} to use as header")
        # a row missing from the sheet, within its dimensions, is blank
        header = check_header(name, [cell_text(h).strip() for h in found or ()])
    except BaseException:
        workbook.close()
        raise
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # trailing empty header cells are formatting, not columns
    return Table(name, "xlsx", header[:width], _xlsx_data(rows, width, options.header_row), None, None,
                 [workbook.close])


def _load_workbook(name: str):
    """The workbook, read-only, through a zip whose parts are checked against the limits of xlsx_limits."""
    Reader = _reader_class()
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


def _reader_class():
    """openpyxl's ExcelReader, given the guarded zip, and whose read-only sheets read their dimensions no further
    than the start of their rows (openpyxl's own read on to the end of the rows when a sheet states none)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    # openpyxl's private names below are typed in no stub: checked by the tests of xlsx reading
    class Sheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            with self._get_source() as source:  # type: ignore[attr-defined]
                for event, element in iterparse(source, events=("start", "end")):
                    if element.tag == DATA_TAG:
                        return
                    if event == "end" and element.tag == DIMENSION_TAG:
                        dimension = SheetDimension.from_tree(element)
                        if dimension is not None:
                            bounds = dimension.boundaries
                            self._min_column, self._min_row, self._max_column, self._max_row = bounds  # type: ignore
                        return

    class Reader(ExcelReader):
        # ExcelReader opens the zip itself: this one is given the guarded one (the attributes it sets)
        def __init__(self, archive):
            self.archive, self.valid_files = archive, archive.namelist()
            self.read_only = self.data_only = self.keep_links = True
            self.keep_vba = self.rich_text = False
            self.shared_strings = []

        def read_worksheets(self) -> None:  # as openpyxl's, read-only
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)  # type: ignore[arg-type]
                    continue
                ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state  # type: ignore[assignment]
                self.wb._sheets.append(ws)  # type: ignore[attr-defined]

    return Reader


def _sheet_rows(name: str, rows: Iterator[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    """``rows``, whose parsing fails here, mid-way, on a damaged sheet."""
    number = 0
    while True:
        try:
            number, values = next(rows)
        except StopIteration:
            return
        except (InputError, MemoryError):
            raise
        except Exception as exc:  # zip, XML and value errors of a damaged sheet
            raise InputError(f"{name}: the sheet is damaged at or after row {number + 1} ({type(exc).__name__}); "
                             "open and save it again in Excel, or export it as CSV") from None
        if number > MAX_ROWS:
            raise InputError(f"{name}: the sheet claims more than {MAX_ROWS:,} rows, which Excel does not allow; "
                             "open and save it again in Excel, or export it as CSV")
        yield number, values


def _parsed_rows(workbook, sheet) -> Iterator[tuple[int, tuple]]:
    """The rows of ``sheet`` with their numbers, as openpyxl's read-only ``iter_rows(values_only=True)`` gives
    them but for the empty rows it makes up where the sheet has none (an empty tuple for a row of no cells).
    openpyxl's own parse keeps every element it does not know, and the whitespace after every row, to the
    end of the sheet: here they are dropped as they end, and what is held is bounded (``SheetBudget``)."""
    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    max_row, max_col = sheet.max_row, sheet.max_column
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats)
        expected = 1
        events = iterparse(source, events=("start", "end"))
        for number, cells in _bounded_rows(events, parser.parse_row, SheetBudget(source), ROW_TAG):
            if max_row is not None and number > max_row:
                break  # as openpyxl: rows past the sheet's stated dimensions are not read
            if number >= expected:  # as openpyxl: a row numbered as one before it, or lower, is skipped
                expected = number + 1
                yield number, sheet._get_row(cells, 1, max_col, values_only=True) if cells else ()


def _bounded_rows(events, parse_row, budget: SheetBudget, row_tag: str) -> Iterator[tuple[int, list]]:
    """``parse_row(element)`` of each row of the ``start`` and ``end`` ``events`` of a sheet. Each element is
    dropped from the tree once it ends, but those of a row until the row ends."""
    stack: list = []
    in_row = False
    last = None  # the element dropped last: the text after it (its tail) is known at the next event
    for event, element in events:
        if last is not None:
            budget.between(last.tail)
            last = None
        if event == "start":
            stack.append(element)
            if element.tag == row_tag:
                in_row = True
                budget.row_started()
            elif len(stack) > MAX_DEPTH:
                budget.nested(len(stack))
            continue
        stack.pop()
        if element.tag == row_tag:
            yield parse_row(element)
            in_row = False
        elif in_row:
            budget.in_row()
            continue
        else:
            budget.dropped(element.text)
        element.clear()
        if stack:
            stack[-1].remove(element)
        last = element


def _xlsx_data(rows, width: int, header_row: int) -> Iterator[tuple[int, list[str]]]:
    # Rows are numbered consecutively: the empty rows between two data rows are records (blank ones), those
    # after the last data row formatting.
    last = header_row
    for number, values in rows:
        cells = [cell_text(v) for v in values]
        while len(cells) > width and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        for empty in range(last + 1, number):
            yield empty, [""] * width
        last = number
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
