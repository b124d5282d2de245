"""The benchmark's generator makes the promised export, and bench.py runs end to end on a small one."""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "national"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402


def test_export_has_ten_columns_500_labels_and_is_reproducible(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    generate.write_export(first, 5000, seed=3)
    generate.write_export(second, 5000, seed=3)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with open(first, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == generate.COLUMNS and len(rows[0]) == 10
    assert len(rows) == 5001 and {len(r) for r in rows} == {10}
    labels = set(generate.noisy_labels(generate.DISTINCT_LABELS, seed=3))
    assert len(labels) == 500
    used = {r[5] for r in rows[1:]}
    assert used <= labels and len(used) > 200
    assert {r[4] for r in rows[1:]} == {"F", "M", ""}
    assert any(r[6] for r in rows[1:]) and sum(not r[6] for r in rows[1:]) > 3000  # second type: mostly blank


def test_distinct_labels_file_for_draft(tmp_path):
    path = tmp_path / "labels.csv"
    generate.write_distinct_labels(path, 3000, seed=3)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert len(rows) == 3000 and len({r[1] for r in rows}) == 3000


NEEDS_REFERENCES = pytest.mark.skipif(
    any(importlib.util.find_spec(p) is None for p in ("duckdb", "polars")), reason="pip install '.[bench]'")


@NEEDS_REFERENCES
def test_bench_runs_end_to_end_on_both_inputs(tmp_path, capsys):
    import bench

    # the national input from the test samples of the development records, named as ../shared names them
    national = tmp_path / "national"
    national.mkdir()
    for system, sample in (("ncands", "ncands"), ("cin_abuse", "england-cin")):
        (national / f"{system}-records.csv").write_bytes((FIXTURES / f"{sample}-records.csv").read_bytes())
    out = tmp_path / "result.json"
    assert bench.main(["--rows", "2000", "--repeat", "1", "--only", "recode,validate", "--input", "synthetic,national",
                       "--national-dir", str(national), "--workdir", str(tmp_path), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    tools = {(r["input"], r["tool"]): r for r in result["results"]}
    names = {"icvac recode", "duckdb recode", "duckdb-join recode", "polars recode", "icvac validate",
             "duckdb validate"}
    assert set(tools) == {(i, n) for i in ("synthetic", "national") for n in names}
    assert all(r["rows"] == 2000 and r["median_s"] > 0 and r["peak_rss_mb"] > 5 for r in tools.values())
    # every reference does the same work: same recoded rows in the same order, same counts per check
    assert result["notes"] == [], result["notes"]
    assert "input: national" in printed and "polars recode" in printed and "x DuckDB" in printed
    # the national export: the records over and over, ids kept unique, codes prefixed with their system
    with open(tmp_path / "coded-national-2000.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len({r["case_id"] for r in rows}) == 2000
    assert {r["national_code"].split(":")[0] for r in rows if r["national_code"]} == {"ncands", "cin_abuse"}
    assert {r["icvac_level1"] for r in rows} >= {"02", "03", "05", "unclassified"}


@NEEDS_REFERENCES
def test_bench_says_so_when_the_national_records_are_missing(tmp_path, capsys):
    import bench

    assert bench.main(["--rows", "100", "--repeat", "1", "--only", "recode", "--input", "national",
                       "--national-dir", str(tmp_path / "nowhere"), "--workdir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "national input skipped: no national records in" in captured.out
    assert "national input skipped" in captured.err and "icvac recode" not in captured.out


def test_bench_migrate_times_recode_of_the_export_and_of_its_output_beside_migrate(tmp_path, capsys):
    import bench

    out = tmp_path / "result.json"
    assert bench.main(["--rows", "300", "--repeat", "1", "--only", "migrate", "--workdir", str(tmp_path),
                       "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    tools = [r["tool"] for r in json.loads(out.read_text())["results"]]
    assert tools == ["icvac recode", "icvac recode (recoded file)", "icvac migrate"]
    assert "m/again" in printed
    # the second recode and migrate each wrote every row of the recoded file they read
    for name in ("migrate-recoded-300.csv", "migrated-300.csv"):
        with open(tmp_path / name, encoding="utf-8", newline="") as handle:
            assert len(list(csv.reader(handle))) == 301
