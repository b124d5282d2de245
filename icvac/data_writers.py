"""The writers of data rows (recode, migrate): CSV, .xlsx and JSON Lines, picked by ``formats.OUTPUT_FORMATS``.

Each is a context manager ``writer(output, fmt, safe, stage, header)`` that writes ``header`` and yields
``(write, handle)``: ``write(rows)`` for the data rows, and the text handle they go to (None for .xlsx) for
the Arrow engine, which writes CSV and JSON Lines bytes itself. Outputs are atomic (``icvac.writers``).
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from typing import IO, Callable, Iterator

from .errors import UsageError
from .formats import OUTPUT_FORMATS
from .writers import Staging, atomic_output, csv_writer, excel_safe
from .xlsx_writer import xlsx_writer

__all__ = ["data_writer", "text_writer", "xlsx_rows_writer", "EXTRA_CELLS_KEY"]

EXTRA_CELLS_KEY = "icvac_extra_cells"  # JSON Lines: the cells of a row beyond the header

Rows = list[list[str]]


def data_writer(output: str | os.PathLike | None, fmt: str, safe: bool, stage: Staging | None,
                header: list[str]):
    """The writer of output format ``fmt``, entered with these arguments (see the module)."""
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"--format {fmt}: choose one of {', '.join(OUTPUT_FORMATS)}")
    return OUTPUT_FORMATS[fmt].load()(output, fmt, safe, stage, header)


@contextmanager
def xlsx_rows_writer(output, fmt: str, safe: bool, stage: Staging | None,
                     header: list[str]) -> Iterator[tuple[Callable[[Rows], None], None]]:
    with xlsx_writer(output, stage=stage) as write_one:
        if safe:
            write_one = (lambda row, cells=write_one: cells([excel_safe(v) for v in row]))
        write_one(header)

        def write(rows: Rows) -> None:
            for row in rows:
                write_one(row)

        yield write, None


@contextmanager
def text_writer(output, fmt: str, safe: bool, stage: Staging | None,
                header: list[str]) -> Iterator[tuple[Callable[[Rows], None], IO]]:
    with atomic_output(output, stage=stage) as handle:
        if fmt == "csv":
            _text_rows(handle, fmt, safe, header)([header])
        yield _text_rows(handle, fmt, safe, header), handle


def _text_rows(handle: IO, fmt: str, safe: bool, header: list[str]) -> Callable[[Rows], None]:
    """``write(rows)`` for data rows in CSV or JSON Lines (whose keys are ``header``), into a text handle."""
    if fmt == "csv":
        writer = csv_writer(handle)
        return (lambda rows: writer.writerows([excel_safe(v) for v in row] for row in rows)) if safe \
            else writer.writerows

    def write_jsonl(rows: Rows) -> None:
        for row in rows:
            record: dict[str, str | list[str]] = dict(zip(header, row, strict=False))  # a longer row's cells follow
            if len(row) > len(header):
                record[EXTRA_CELLS_KEY] = row[len(header):]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write_jsonl
