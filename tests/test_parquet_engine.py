"""Parquet through the Arrow engine (``Table.batches``): the same outputs and reports as row by row."""
from __future__ import annotations

import csv
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import icvac
from icvac import arrowio, migrate_data
from icvac.correspondence import load_correspondence
from icvac.recode import RecodeOptions, recode_file
from icvac.validate import ValidateOptions, validate

from .conftest import EXAMPLES
from .test_validate import TODAY
from .test_versions import recoded, v2  # noqa: F401  (fixtures)


def _typed_export(path, rows: int = 3000) -> None:
    """The example export as a Parquet file of typed columns, with nulls, repeated to ``rows`` rows."""
    with open(EXAMPLES / "national_export.csv", encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    body = [body[n % len(body)] for n in range(rows)]
    columns = {name: [row[k] for row in body] for k, name in enumerate(header)}
    columns["incident_id"] = [f"INC-{n:05d}" for n in range(rows)]
    table = pa.table({
        "incident_id": pa.array(columns["incident_id"], pa.large_string()),
        "date_of_incident": pa.array([None if n % 17 == 0 or not v else date.fromisoformat(v)
                                      for n, v in enumerate(columns["date_of_incident"])], pa.date32()),
        "survivor_age": pa.array([None if n % 13 == 0 or not v.isdigit() else int(v)
                                  for n, v in enumerate(columns["survivor_age"])], pa.int64()),
        "survivor_sex": columns["survivor_sex"],
        "gbv_type": pa.array([v.encode() for v in columns["gbv_type"]], pa.binary()),
        "alleged_perpetrator_relationship": [None if n % 11 == 0 else v for n, v in
                                             enumerate(columns["alleged_perpetrator_relationship"])],
        "narrative": columns["narrative"],
        "weight": [n % 4 / 2 for n in range(rows)],                 # 0, 0.5, 1 (read 1, not 1.0), 1.5
        "urgent": [n % 3 == 0 for n in range(rows)],
        "seen_at": [datetime(2024, 1, 2, n % 24) for n in range(rows)],
    })
    pq.write_table(table, path, row_group_size=1000)


def _both_ways(monkeypatch, run):
    """``run()`` through the batches and row by row, and whether the batches were read."""
    read = []
    real = arrowio.table_batches

    def spy(*args, **kwargs):
        batches = real(*args, **kwargs)
        return None if batches is None else (read.append(1) or batch for batch in batches)

    monkeypatch.setattr(arrowio, "table_batches", spy)
    fast = run("fast")
    monkeypatch.setattr(arrowio, "table_batches", lambda *a, **k: None)
    slow = run("slow")
    monkeypatch.undo()
    return fast, slow, bool(read)


@pytest.mark.parametrize("long", [False, True], ids=["wide", "long"])
def test_recode_of_parquet_through_arrow_gives_the_bytes_of_row_by_row(tmp_path, monkeypatch, long):
    data = tmp_path / "export.parquet"
    _typed_export(data)
    taxonomy = icvac.load_taxonomy()
    mapping = icvac.load_mapping("gbvims", taxonomy)

    def run(way):
        out = tmp_path / f"{way}.csv"
        summary = recode_file(data, mapping, taxonomy, out, RecodeOptions(long=long))
        return out.read_bytes(), summary.to_dict()

    (fast, fast_summary), (slow, slow_summary), read = _both_ways(monkeypatch, run)
    assert read and fast == slow and fast_summary == slow_summary
    assert fast_summary["rows_in"] == 3000 and fast.count(b"\n") == fast_summary["rows_out"] + 1
    first = fast.split(b"\n")[1].decode()
    assert first.startswith("INC-00000,,") and ",0,true,2024-01-02," in first  # a null date, 0.0 as 0


def test_validate_of_parquet_through_arrow_reports_as_row_by_row(tmp_path, monkeypatch):
    data = tmp_path / "export.parquet"
    _typed_export(data)
    options = ValidateOptions(today=TODAY, max_issues=10_000, columns={"id": "incident_id", "victim_age": "survivor_age",
                                                                       "incident_date": "date_of_incident"})
    fast, slow, read = _both_ways(monkeypatch, lambda way: validate(data, options=options).to_dict())
    assert read and fast == slow
    assert fast["stats"]["rows_read"] == 3000


def test_migrate_of_parquet_through_arrow_gives_the_bytes_of_row_by_row(v2, recoded, tmp_path,  # noqa: F811
                                                                        monkeypatch):
    import pyarrow.csv as pcsv

    names = recoded.read_text(encoding="utf-8").splitlines()[0].split(",")
    table = pcsv.read_csv(recoded, convert_options=pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    data = tmp_path / "recoded.parquet"
    pq.write_table(table, data)
    _, path, changes = v2
    corr, new = load_correspondence(changes), icvac.load_taxonomy(path)

    def run(way):
        out = tmp_path / f"{way}.csv"
        summary = migrate_data.migrate_file(data, corr, new, out)
        return out.read_bytes(), summary.acts

    (fast, fast_acts), (slow, slow_acts), read = _both_ways(monkeypatch, run)
    assert read and fast == slow and fast_acts == slow_acts and fast.count(b"\n") == table.num_rows + 1
