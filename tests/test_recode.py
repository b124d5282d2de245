"""``icvac recode``: rows in = rows out, order and columns kept, provenance, golden outputs."""
from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icvac import load_taxonomy
from icvac.mapping import load_mapping
from icvac.recode import RecodeOptions, recode_file

from .conftest import EXAMPLES, FIXTURES, ROOT

GOLDEN = ROOT / "tests" / "golden" / "recode"
REGISTER = FIXTURES / "recode" / "register.csv"
CP = FIXTURES / "recode" / "child_protection.yaml"


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("args,golden", [
    (["--mapping", CP], "register.csv"),
    (["--mapping", CP, "--long", "--excel-safe"], "register_long.csv"),
    (["--mapping", "gbvims"], "national_export.csv"),
])
def test_golden(icvac, tmp_path, args, golden):
    data = REGISTER if golden.startswith("register") else EXAMPLES / "national_export.csv"
    out = tmp_path / "out.csv"
    result = icvac("recode", data, *args, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == (GOLDEN / golden).read_bytes()


def test_example_rows_order_columns_and_codes(icvac, tmp_path):
    out = tmp_path / "out.csv"
    assert icvac("recode", EXAMPLES / "national_export.csv", "--mapping", "gbvims", "-o", out).exit_code == 0
    source, coded = read(EXAMPLES / "national_export.csv"), read(out)
    assert len(coded) == len(source)
    width = len(source[0])
    assert [row[:width] for row in coded] == source
    col = {name: i for i, name in enumerate(coded[0])}
    by_label = {row[4]: row for row in coded[1:]}
    assert by_label["Rape"][col["icvac_code"]] == "0301" and by_label["Rape"][col["icvac_match"]] == "exact-label"
    typo = by_label["Sexual asault"]
    assert typo[col["icvac_code"]] == "0302" and typo[col["icvac_match"]] == "fuzzy"
    assert 85 <= float(typo[col["icvac_score"]]) < 100
    for junk in ("zzzz", "n/a", "see notes", "", "unknown"):
        assert by_label[junk][col["icvac_code"]] == "unclassified"
        assert by_label[junk][col["icvac_match"]] == "unclassified"


def test_same_input_same_output_and_sidecar(icvac, tmp_path):
    outs = []
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        icvac("recode", REGISTER, "--mapping", CP, "-o", out)
        outs.append((out.read_bytes(), (tmp_path / f"{name}.meta.json").read_text()))
    assert outs[0] == outs[1]
    meta = json.loads(outs[0][1])
    assert meta["provenance"]["mapping"]["sha256"] == load_mapping(CP, load_taxonomy()).sha256
    assert meta["provenance"]["taxonomy"]["version"] == "2023.0-provisional.1"
    assert meta["rows_in"] == meta["rows_out"] == 8


def test_conditions_separator_and_no_match(icvac, tmp_path):
    out = tmp_path / "o.csv"
    icvac("recode", REGISTER, "--mapping", CP, "-o", out)
    rows = read(out)
    col = {name: i for i, name in enumerate(rows[0])}
    got = [(r[0], r[col["icvac_code"]], r[col["icvac_match"]]) for r in rows[1:]]
    assert got[:5] == [("1", "03012", "condition"), ("2", "03011", "exact-code"), ("3", "0202", "exact-code"),
                       ("4", "0202|04", "exact-code|exact-code"), ("5", "unclassified", "exact-code")]


def test_summary_json_exit_codes_and_stdout(icvac, tmp_path):
    result, data = icvac.json("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "o.csv", "--report", "json")
    assert result.exit_code == 0
    assert data["unclassified_records"] == 3 and data["by_method"]["condition"] == 1
    failing = icvac("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "o2.csv", "--fail-on-unclassified")
    assert failing.exit_code == 1
    to_stdout = icvac("recode", REGISTER, "--mapping", CP, "--format", "jsonl")
    assert to_stdout.exit_code == 0
    records = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert len(records) == 8 and records[0]["icvac_code"] == "03012" and records[0]["notes"] == "free text one"


def test_usage_errors(icvac, tmp_path):
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", REGISTER).exit_code == 2
    assert icvac("recode", REGISTER, "--mapping", "gbvims", "-o", tmp_path / "x.csv").exit_code == 2
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "x.csv",
                 "--column", "national_label=nope").exit_code == 2


def test_xlsx_output(icvac, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "o.xlsx"
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", out).exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 9 and rows[6][5] == "=1+1"  # a text cell, never a formula


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_cell, _cell, _cell), max_size=25))
def test_rows_in_equal_rows_out(tmp_path_factory, rows):
    taxonomy = load_taxonomy()
    mapping = load_mapping("iccs", taxonomy)
    folder = tmp_path_factory.mktemp("h")
    data = folder / "in.csv"
    header = ["national_code", "national_label", "other"]
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    expected = read(data)
    out = folder / "out.csv"
    summary = recode_file(data, mapping, taxonomy, out, RecodeOptions(read=_read_options()))
    got = read(out)
    assert summary.rows_in == summary.rows_out == len(expected) - 1
    assert [r[:3] for r in got] == [(r + [""] * 3)[:3] for r in expected]


def _read_options():
    from icvac.readers import ReadOptions

    return ReadOptions(delimiter=",", encoding="utf-8")


def test_declared_columns_missing_from_the_export_are_warned_not_fatal(icvac, tmp_path):
    data = tmp_path / "labels.csv"
    data.write_text("id,categorie\n1,Rape\n2,Forced marriage\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", "gbvims", "--column", "national_label=categorie", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "'survivor_age'" in result.stderr and "not in the input" in result.stderr
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3 and rows[1].startswith("1,Rape,0301,")
    missing = icvac("recode", data, "--mapping", "gbvims", "--column", "victim_age=age",
                    "--column", "national_label=categorie", "-o", out)
    assert missing.exit_code == 2 and "no column named 'age'" in missing.stderr
