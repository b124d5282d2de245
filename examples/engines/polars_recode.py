"""Recode a national export held in a Polars DataFrame: ``to_arrow`` -> ``icvac.recode_batches`` ->
``from_arrow``.

    python examples/engines/polars_recode.py examples/national_export.csv gbvims recoded.csv
"""
from __future__ import annotations

import sys

import polars as pl
import pyarrow as pa

import icvac


def recode(export: pl.DataFrame, mapping_name: str) -> pl.DataFrame:
    """``export`` with the ICVAC columns added, row for row."""
    taxonomy = icvac.load_taxonomy()
    mapping = icvac.load_mapping(mapping_name, taxonomy)
    rows = export.to_arrow()
    # an empty batch first, so that an export without rows gives its header too
    empty = pa.RecordBatch.from_pylist([], schema=rows.schema)
    batches = icvac.recode_batches([empty, *rows.to_batches()], mapping, taxonomy)
    return pl.from_arrow(pa.Table.from_batches(batches))


def read_export(path: str) -> pl.DataFrame:
    """A CSV export with every column as text (``infer_schema=False``): the cells as written."""
    return pl.read_csv(path, infer_schema=False)


if __name__ == "__main__":
    source, mapping_name, out = sys.argv[1:4]
    recode(read_export(source), mapping_name).write_csv(out)
