"""The seams between commands (issue 14): several acts in one category cell, recode output read back by
validate and tabulate, checks that could not run, draft-coded acts, and the small rough edges."""
from __future__ import annotations

import collections
import csv
import json

import pytest

from icvac import load_taxonomy
from icvac.layout import category_layout
from icvac.mapping import load_mapping

from .conftest import EXAMPLES, FIXTURES

NATIONAL = EXAMPLES / "national_export.csv"
# a made-up four-level classification and a register mapped onto it: behaviour, whatever ICVAC's codes become
TOY = FIXTURES / "four_levels"

PRIMERO = """\
id: primero-test
title: Primero-style multi-select test
source_system: Test Primero
version: "1"
taxonomy_version: "1.0"
author: icvac tests
date: "2024-06-01"
source_reference: synthetic test fixture
status: provisional
columns:
  id: case_id
  categories: [{code: type_of_violence}]
  {separators}
categories:
  - source_code: rape
    target: ["101"]
    relation: close
    justification: test entry
    reviewer: icvac tests
    date: "2024-06-01"
  - source_code: physical_assault
    target: ["201"]
    relation: close
    justification: test entry
    reviewer: icvac tests
    date: "2024-06-01"
  - source_code: denial_of_resources; opportunities
    target: ["5"]
    relation: close
    justification: a code that holds a separator, coded whole
    reviewer: icvac tests
    date: "2024-06-01"
"""


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- several acts in one cell

@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setenv("ICVAC_TAXONOMY", str(TOY / "taxonomy.yaml"))


@pytest.mark.parametrize("cell", ["Face slap; Insulted", "Face slap | Insulted", "Face slap;Insulted"])
def test_a_cell_with_two_acts_gives_both(icvac, toy, tmp_path, cell):
    data = write(tmp_path / "export.csv", f"case_no,age,harm_code,harm_label\nINC-1,12,,{cell}\nINC-2,9,,Face slap\n")
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", TOY / "mapping.yaml", "-o", out, "--review", tmp_path / "review.csv")
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert [(r["icvac_code"], r["icvac_match"]) for r in rows] == [
        ("1010101|201", "exact-label|exact-label"), ("1010101", "exact-label")]
    # never fuzzy-matched as a whole: nothing to review
    assert read(tmp_path / "review.csv") == []
    long = tmp_path / "long.csv"
    assert icvac("recode", data, "--mapping", TOY / "mapping.yaml", "-o", long, "--long").exit_code == 0
    assert [(r["case_no"], r["icvac_act"], r["icvac_code"]) for r in read(long)] == [
        ("INC-1", "1", "1010101"), ("INC-1", "2", "201"), ("INC-2", "1", "1010101")]


@pytest.mark.parametrize("declared,expected", [
    ("", ["101|201", "101|201", "5", "unclassified"]),
    ("separators: [\",\"]", ["unclassified", "unclassified", "5", "101|201"]),
    ("separators: []", ["unclassified", "unclassified", "5", "unclassified"]),
])
def test_primero_multi_select_codes(icvac, toy, tmp_path, declared, expected):
    mapping = write(tmp_path / "primero.yaml", PRIMERO.replace("{separators}", declared))
    data = write(tmp_path / "cases.csv", "case_id,type_of_violence\n1,rape; physical_assault\n"
                                         "2,rape | physical_assault\n3,denial_of_resources; opportunities\n"
                                         '4,"rape,physical_assault"\n')
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", mapping, "-o", out, "--no-fuzzy")
    assert result.exit_code == 0, result.output
    assert [r["icvac_code"] for r in read(out)] == expected


def test_layout_splits_at_every_declared_separator():
    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    assert mapping.columns.separators == (";", "|")
    layout = category_layout(["incident_id", "gbv_type"], mapping, {})
    values = list(layout.category_values(["1", " Rape ;; Denial of Resources | "]))
    assert values == [(0, "Rape", "Rape"), (0, "Denial of Resources", "Denial of Resources")]


# ---------------------------------------------------------------- recode output is valid input

def _recoded(icvac, tmp_path, *extra, name="recoded.csv"):
    out = tmp_path / name
    result = icvac("recode", NATIONAL, "--mapping", "gbvims", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    return out


def _duplicate_first_record(path, at=4):
    """Copy the first record to row ``at`` (numbered as in a spreadsheet, the header being row 1)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows.insert(at - 1, rows[1])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_validate_recode_output_finds_the_export_columns_and_names_both_rows(icvac, tmp_path):
    out = _recoded(icvac, tmp_path)
    _duplicate_first_record(out)
    result, report = icvac.json("validate", out, "--format", "json")
    assert result.exit_code == 1
    assert report["columns"]["id"] == "incident_id" and report["columns"]["victim_age"] == "survivor_age"
    assert report["columns"]["incident_date"] == "date_of_incident"
    assert report["columns"]["victim_sex"] == "icvac_victim_sex"
    duplicates = [(i["row"], i["id"], i["message"]) for i in report["issues"] if i["slug"] == "duplicate-id"]
    assert duplicates == [(4, "INC-0001", "the id is already used by row 2")]
    assert {"duplicate-id", "age-out-of-range", "invalid-date"} <= set(report["checks"])
    table = icvac("validate", out)
    assert "the id is already used by row 2" in " ".join(table.stdout.split())


def test_duplicate_id_names_the_first_row_in_blocks(tmp_path):
    from icvac.validate import ValidateOptions, validate

    path = tmp_path / "big.csv"
    lines = ["id,icvac_code"] + [f"C{n:06d},0301" for n in range(3000)] + ["C000010,0301", "C002500,0202"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for jobs in (1, 2):
        report = validate(path, options=ValidateOptions(jobs=jobs))
        assert [(i.row, i.message) for i in report.issues if i.slug == "duplicate-id"] == [
            (3002, "the id is already used by row 12"), (3003, "the id is already used by row 2502")], jobs


def test_validate_long_recode_output_does_not_take_repeated_ids_for_duplicates(icvac, tmp_path):
    data = write(tmp_path / "export.csv", "incident_id,survivor_age,gbv_type\nINC-1,12,Rape; Physical Assault\n")
    out = tmp_path / "long.csv"
    assert icvac("recode", data, "--mapping", "gbvims", "-o", out, "--long").exit_code == 0
    result, report = icvac.json("validate", out, "--format", "json")
    assert result.exit_code == 0
    not_run = {item["slug"]: item["reason"] for item in report["not_run"]}
    assert "--long" in not_run["duplicate-id"] and "duplicate-id" not in report["checks"]


def test_tabulate_recode_output_by_sex_and_age_group(icvac, tmp_path):
    out = _recoded(icvac, tmp_path)
    table = tmp_path / "table.xlsx"
    result = icvac("tabulate", out, "--level", "2", "--by", "victim_sex,victim_age_group", "-o", table)
    assert result.exit_code == 0, result.output
    result, data = icvac.json("tabulate", out, "--by", "victim_age_group", "--format", "json", "--min-cell", "0")
    with open(out, encoding="utf-8", newline="") as handle:
        groups = [row["icvac_victim_age_group"] for row in csv.DictReader(handle)]
    columns = [c["key"] for c in data["columns"]]
    total = next(r for r in data["rows"] if r["key"] == "total")["counts"]
    assert {key: n for key, n in zip(columns[:-1], total) if n} == dict(collections.Counter(groups))


CELLS = ["Face slap; Insulted", "Face slap", "Insulted | Insulted", "", "Face slap; nothing known"]


def _recoded_both_ways(icvac, tmp_path) -> dict:
    """The toy export of CELLS (three times) recoded joined and --long: shape -> output path."""
    data = write(tmp_path / "export.csv", "case_no,age,harm_code,harm_label\n" + "".join(
        f"INC-{n},{9 + n % 5},,{cell}\n" for n, cell in enumerate(CELLS * 3)))
    outs = {}
    for shape in ("joined", "long"):
        outs[shape] = tmp_path / f"{shape}.csv"
        extra = ["--long"] if shape == "long" else []
        assert icvac("recode", data, "--mapping", TOY / "mapping.yaml", "-o", outs[shape], *extra).exit_code == 0
    assert len(read(outs["long"])) > len(CELLS) * 3  # the long file has more rows than records
    return outs


@pytest.mark.parametrize("unit", ["victim", "act"])
def test_tabulate_long_recode_output_counts_as_the_joined_output(icvac, toy, tmp_path, unit):
    tables = {}
    for shape, out in _recoded_both_ways(icvac, tmp_path).items():
        result, tables[shape] = icvac.json("tabulate", out, "--unit", unit, "--by", "victim_age_group",
                                           "--format", "json", "--min-cell", "0")
        assert result.exit_code == 0, result.output
    assert tables["long"]["rows"] == tables["joined"]["rows"]
    total = next(r for r in tables["long"]["rows"] if r["key"] == "total")["counts"][-1]
    assert total == (len(CELLS) * 3 if unit == "victim" else sum(
        len(r["icvac_code"].split("|")) for r in read(tmp_path / "joined.csv")))


def test_report_of_long_recode_output_gives_the_figures_of_the_joined_output(icvac, toy, tmp_path):
    figures = {}
    for shape, out in _recoded_both_ways(icvac, tmp_path).items():
        result, report = icvac.json("report", out, "-o", "-", "--format", "json", "--min-cell", "0")
        assert result.exit_code == 0, result.output
        figures[shape] = report["figures"]
    assert figures["long"] == figures["joined"]
    victims = next(f for f in figures["long"] if f["key"] == "victims")
    assert victims["rows"][-1]["counts"][-1] == len(CELLS) * 3


# ---------------------------------------------------------------- checks that could not run

def test_checks_without_their_column_are_reported_as_not_run(icvac, tmp_path):
    data = write(tmp_path / "codes.csv", "icvac_code\n0301\n0202\n")
    html = tmp_path / "report.html"
    result, report = icvac.json("validate", data, "--format", "json", "--report", html)
    assert result.exit_code == 0
    not_run = {item["slug"]: item["reason"] for item in report["not_run"]}
    for slug in ("missing-id", "duplicate-id", "age-out-of-range", "invalid-date", "invalid-value"):
        assert slug in not_run and slug not in report["checks"] and slug not in report["counts_by_slug"]
    assert not_run["duplicate-id"] == "needs an id column"
    assert "unknown-code" in report["checks"] and "unknown-code" not in not_run
    page = html.read_text(encoding="utf-8")
    assert "Checks not run" in page and "<code>duplicate-id</code>" in page
    text = icvac("validate", data).stdout
    assert "not run (needs an id column): missing-id, duplicate-id" in text


# ---------------------------------------------------------------- draft-coded acts, no-match

def test_no_match_entries_have_their_own_method_and_the_summary_adds_up(icvac, tmp_path):
    out = tmp_path / "o.csv"
    result, summary = icvac.json("recode", FIXTURES / "recode" / "register.csv", "--mapping",
                                 FIXTURES / "recode" / "child_protection.yaml", "-o", out, "--summary", "json")
    assert result.exit_code == 0
    rows = read(out)
    administrative = next(r for r in rows if r["abuse_code"] == "X9")
    assert (administrative["icvac_code"], administrative["icvac_match"]) == ("unclassified", "no-match")
    unclassified = sum("unclassified" in r["icvac_code"].split("|") for r in rows)
    methods = collections.Counter(m for r in rows for m in r["icvac_match"].split("|"))
    assert summary["unclassified_records"] == unclassified
    assert summary["by_method"] == dict(methods)
    # every act of a record left unclassified is coded so by a method that says so
    assert summary["by_method"]["no-match"] + summary["by_method"]["unclassified"] == unclassified


def test_acts_coded_from_a_draft_are_counted_by_validate_and_tabulate(icvac, tmp_path):
    draft = tmp_path / "draft.yaml"
    assert icvac("mapping", "draft", NATIONAL, "--label-column", "gbv_type", "-o", draft).exit_code == 0
    out = tmp_path / "coded.csv"
    assert icvac("recode", NATIONAL, "--mapping", draft, "-o", out).exit_code == 0
    drafted = sum(r["icvac_match"].split("|").count("review") for r in read(out))
    assert drafted > 0
    result, report = icvac.json("validate", out, "--format", "json", "--report", tmp_path / "r.html")
    assert [n for n in report["notes"] if "draft" in n] == [
        f"{drafted} act(s) were coded from draft mapping entries not yet reviewed (icvac_match=review): review "
        "the draft (icvac mapping review-import) before publishing"]
    assert f"{drafted} act(s) were coded from draft" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"{drafted} act(s) were coded from draft" in icvac("validate", out).stderr
    unsuppressed = icvac("tabulate", out, "--min-cell", "0")
    assert f"{drafted} act(s) in this table were coded from draft mapping entries" in unsuppressed.stderr
    # with cells withheld the count is not given: the drafted acts may all sit in one withheld cell
    suppressed = icvac("tabulate", out, "--level", "3", "--min-cell", "100")  # surely some cell withheld
    assert "acts in this table were coded from draft mapping entries" in suppressed.stderr
    assert f"{drafted} act(s)" not in suppressed.stderr


# ---------------------------------------------------------------- small ones

def test_a_header_on_row_3_is_pointed_out(icvac, tmp_path):
    with open(EXAMPLES / "incidents.csv", encoding="utf-8") as handle:
        body = handle.read()
    data = write(tmp_path / "titled.csv", "Monthly report of incidents\n\n" + body)
    result, report = icvac.json("validate", data, "--format", "json")
    assert result.exit_code == 1 and report["counts_by_slug"]["wrong-field-count"] > 10
    assert any("--header-row 3" in note for note in report["notes"])
    assert "--header-row 3" in icvac("validate", data).stderr
    result, report = icvac.json("validate", data, "--header-row", "3", "--format", "json")
    assert report["counts_by_slug"]["wrong-field-count"] == 0 and not report["notes"]


def test_empty_input_summary_line(icvac, tmp_path):
    data = write(tmp_path / "empty.csv", "incident_id,survivor_age,gbv_type\n")
    result = icvac("recode", data, "--mapping", "gbvims", "-o", tmp_path / "o.csv")
    assert result.exit_code == 0
    assert "recoded 0 rows into 0 rows (0 acts)" in result.stderr and "acts: )" not in result.stderr
