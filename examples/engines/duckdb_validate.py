"""Validate records held in DuckDB: a relation streams out as Arrow record batches into
``icvac.validate_batches``, which gives the report ``icvac validate`` gives for the same rows.

    python examples/engines/duckdb_validate.py recoded.csv report.json id=incident_id victim_age=survivor_age
"""
from __future__ import annotations

import json
import sys

import duckdb

import icvac


def validate(export: duckdb.DuckDBPyRelation, columns: dict[str, str] | None = None,
             source: str = "duckdb") -> icvac.Report:
    """The checks of ``icvac validate`` on the rows of ``export`` (read as text), in their order: the rows
    are numbered as in a file whose header is row 1. ``columns`` points roles at columns, as ``--column``."""
    taxonomy = icvac.load_taxonomy()
    options = icvac.ValidateOptions(columns=columns or {})
    # batches of 100,000 rows: the checks keep only what they need across rows (the ids), not the table
    return icvac.validate_batches(export.to_arrow_reader(100_000), taxonomy, options, source=source)


def read_export(con: duckdb.DuckDBPyConnection, path: str) -> duckdb.DuckDBPyRelation:
    """A CSV export with every column as text: no type inference, the cells as written."""
    return con.read_csv(path, header=True, all_varchar=True)


if __name__ == "__main__":
    source, out, *roles = sys.argv[1:]
    columns = dict(role.split("=", 1) for role in roles)  # ROLE=NAME, as icvac validate --column
    report = validate(read_export(duckdb.connect(), source), columns, source=source)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report.to_dict(), handle, ensure_ascii=False, indent=2)
    sys.exit(0 if report.valid else 1)
