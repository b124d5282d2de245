"""Reading a Parquet file (``formats.INPUT_FORMATS["parquet"]``): every column as text, a batch at a time.

Values read as the CSV export of the same table would give them, through ``readers.cell_text``: text as it
is, 12 not 12.0, dates in ISO form, true/false, a null as an empty cell. Rows are numbered as in that CSV
export: the column names are row 1, the first record row 2.
"""
from __future__ import annotations

from typing import Iterator

from .errors import InputError, UsageError
from .readers import ReadOptions, Table, cell_text, check_header

__all__ = ["open_parquet"]

BATCH_ROWS = 10_000


def open_parquet(name: str, handle, sample: bytes, options: ReadOptions) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if options.header_row != 1:
        raise UsageError(f"{name}: --header-row applies to CSV and Excel data; a Parquet file names its columns")
    try:
        source = pq.ParquetFile(handle)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{name}: is not a readable Parquet file ({type(exc).__name__}); "
                         "write it again, or export it as CSV") from None
    header = check_header(name, [str(n).strip() for n in source.schema_arrow.names])
    return Table(name, "parquet", header, _rows(name, source), None, None, [source.close, handle.close])


def _rows(name: str, source) -> Iterator[tuple[int, list[str]]]:
    import pyarrow as pa

    number = 1
    batches = source.iter_batches(batch_size=BATCH_ROWS)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{name}: the file is damaged at or after row {number + 1} ({type(exc).__name__}); "
                             "write it again, or export it as CSV") from None
        columns = [_texts(column) for column in batch.columns]
        for values in zip(*columns, strict=True):
            number += 1
            yield number, list(values)


def _texts(column) -> list[str]:
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return ["" if v is None else v for v in values]
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return ["" if v is None else v.decode("utf-8", "replace") for v in values]
    return [cell_text(v) for v in values]
