"""The data formats icvac reads and writes: one registry of input formats and one of output formats.

Every command that reads a data file opens it through ``readers.open_table``, which picks the reader here;
``recode`` and ``migrate`` write their data through the writer picked here; the CLI's ``--input-format`` and
``--format`` choices are these names. A format's reader or writer is named as ``module:function`` and
imported only when a file of that format is opened, so that ``icvac --help`` (which builds the choices)
imports neither a reader nor pyarrow nor openpyxl.

A new input format is one ``DataFormat`` in ``INPUT_FORMATS`` and a function
``open(name, handle, sample, options) -> readers.Table`` (see ``icvac.parquet_reader``); a new output
format is one entry in ``OUTPUT_FORMATS`` and a writer with the signature of ``data_writers.data_writer``.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["DataFormat", "INPUT_FORMATS", "OUTPUT_FORMATS", "input_format_of", "output_format_of",
           "input_names", "output_names"]


@dataclass(frozen=True)
class DataFormat:
    name: str                     # as given to --input-format / --format
    title: str                    # as named in messages: "is not {title}", "is {title}, not …"
    extensions: tuple[str, ...]   # lower case, with the dot; the first is the one to suggest
    function: str                 # "module:function" of its reader (input) or writer (output)
    magic: bytes | None = None    # the first bytes of every file of this format; None for text formats

    def load(self) -> Callable[..., Any]:
        """The reader or writer, imported now."""
        module, _, attribute = self.function.partition(":")
        return getattr(importlib.import_module(module), attribute)


def _registry(*formats: DataFormat) -> dict[str, DataFormat]:
    return {f.name: f for f in formats}


# CSV first: a file whose extension names no format is read (and an output without one written) as CSV.
INPUT_FORMATS = _registry(
    DataFormat("csv", "CSV text", (".csv", ".tsv", ".txt"), "icvac.readers:open_csv"),
    DataFormat("xlsx", "an Excel workbook (.xlsx)", (".xlsx", ".xlsm"), "icvac.xlsx_reader:open_xlsx", b"PK\x03\x04"),
    DataFormat("jsonl", "JSON Lines text", (".jsonl", ".ndjson"), "icvac.readers:open_jsonl"),
    DataFormat("parquet", "a Parquet file", (".parquet", ".pq"), "icvac.parquet_reader:open_parquet", b"PAR1"),
)

OUTPUT_FORMATS = _registry(
    DataFormat("csv", "CSV", (".csv",), "icvac.data_writers:text_writer"),
    DataFormat("xlsx", "Excel .xlsx", (".xlsx",), "icvac.data_writers:xlsx_rows_writer"),
    DataFormat("jsonl", "JSON Lines", (".jsonl", ".ndjson"), "icvac.data_writers:text_writer"),
)


def _by_extension(registry: dict[str, DataFormat], path: str | os.PathLike | None) -> str:
    suffix = "" if path is None or str(path) == "-" else Path(path).suffix.lower()
    return next((f.name for f in registry.values() if suffix in f.extensions), next(iter(registry)))


def input_format_of(path: str | os.PathLike | None) -> str:
    """The input format the extension of ``path`` names; CSV for any other (and for stdin)."""
    return _by_extension(INPUT_FORMATS, path)


def output_format_of(path: str | os.PathLike | None) -> str:
    """The output format the extension of ``path`` names; CSV for any other (and for stdout)."""
    return _by_extension(OUTPUT_FORMATS, path)


def input_names() -> tuple[str, ...]:
    return tuple(INPUT_FORMATS)


def output_names() -> tuple[str, ...]:
    return tuple(OUTPUT_FORMATS)
