"""Recode a national export inside DuckDB (1.5 or newer): a relation streams out as Arrow record batches,
through ``icvac.recode_batches``, and back into DuckDB as a table (no whole table in Python's memory).

    python examples/engines/duckdb_recode.py examples/national_export.csv gbvims recoded.csv
"""
from __future__ import annotations

import sys
from itertools import chain

import duckdb
import pyarrow as pa

import icvac


def recode(con: duckdb.DuckDBPyConnection, export: duckdb.DuckDBPyRelation, mapping_name: str,
           table: str = "recoded") -> None:
    """Create ``table`` in ``con``: the rows of ``export``, in order, with the ICVAC columns added.
    ``export`` must come from another cursor than ``con`` (``con.cursor()``): a connection runs one query
    at a time, and the table is written while the export is still being read."""
    taxonomy = icvac.load_taxonomy()
    mapping = icvac.load_mapping(mapping_name, taxonomy)
    rows = export.to_arrow_reader(100_000)
    # an empty batch first: the first batch out, empty too, gives the schema a reader needs up front,
    # even for an export without rows (whose reader yields no batch)
    empty = pa.RecordBatch.from_pylist([], schema=rows.schema)
    batches = icvac.recode_batches(chain([empty], rows), mapping, taxonomy)
    recoded = pa.RecordBatchReader.from_batches(next(batches).schema, batches)
    con.register("recoded_stream", recoded)
    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM recoded_stream')
    con.unregister("recoded_stream")


def read_export(con: duckdb.DuckDBPyConnection, path: str) -> duckdb.DuckDBPyRelation:
    """A CSV export with every column as text: no type inference, the cells as written."""
    return con.read_csv(path, header=True, all_varchar=True)


if __name__ == "__main__":
    source, mapping_name, out = sys.argv[1:4]
    con = duckdb.connect()
    recode(con, read_export(con.cursor(), source), mapping_name)
    con.table("recoded").write_csv(out)
