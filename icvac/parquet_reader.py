"""Reading a Parquet file (``formats.INPUT_FORMATS["parquet"]``): every column as text, a batch at a time.

Values read as the CSV export of the same table would give them, through ``readers.cell_text``: text as it
is, 12 not 12.0, dates in ISO form, true/false, a null as an empty cell. Rows are numbered as in that CSV
export: the column names are row 1, the first record row 2. The rows come one by one (``Table.rows``) or as
Arrow record batches of text columns (``Table.batches``, for the Arrow engine), each value turned into text
once per distinct value of a batch's column.
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
    return Table(name, "parquet", header, _rows(name, source), None, None, [source.close, handle.close],
                 batches=lambda rows: _batches(name, source, header, rows))


def _read(name: str, source, rows: int) -> Iterator:
    """The file's record batches as stored (typed), a damaged part said at its row."""
    import pyarrow as pa

    number = 1
    batches = source.iter_batches(batch_size=rows)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{name}: the file is damaged at or after row {number + 1} ({type(exc).__name__}); "
                             "write it again, or export it as CSV") from None
        number += batch.num_rows
        yield batch


def _rows(name: str, source) -> Iterator[tuple[int, list[str]]]:
    number = 1
    for batch in _read(name, source, BATCH_ROWS):
        columns = [_texts(column) for column in batch.columns]
        for values in zip(*columns, strict=True):
            number += 1
            yield number, list(values)


def _batches(name: str, source, header: list[str], rows: int) -> Iterator:
    import pyarrow as pa

    for batch in _read(name, source, rows):
        yield pa.RecordBatch.from_arrays([_text_column(column) for column in batch.columns], names=header)


def _text_column(column):
    """A column as Arrow text, as ``_texts`` gives it: text as it is, anything else through ``_texts`` once
    per distinct value (where Arrow can tell them apart; else cell by cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = column.cast(pa.string())
    else:
        try:
            encoded = pc.dictionary_encode(column)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array(_texts(column), pa.string())
        text = pa.array(_texts(encoded.dictionary), pa.string()).take(encoded.indices)
    return pc.fill_null(text, pa.scalar("", pa.string())) if text.null_count else text


def _texts(column) -> list[str]:
    import pyarrow as pa

    values = column.to_pylist()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return ["" if v is None else v for v in values]
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return ["" if v is None else v.decode("utf-8", "replace") for v in values]
    return [cell_text(v) for v in values]
