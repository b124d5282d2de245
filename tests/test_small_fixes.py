"""Issue 14, "Why" 8: the small seams a new user trips over, one test (at least) each."""
from __future__ import annotations

import csv
import json

import pytest

from .conftest import EXAMPLES

RECODED_INPUT = EXAMPLES / "national_export.csv"


# a. the format of -o comes from its extension when --format is not given; a contradiction is refused

@pytest.mark.parametrize("name, first", [("t.csv", "code,level,parent"), ("t.md", "# "), ("t.json", "{")])
def test_taxonomy_export_takes_the_format_from_the_extension(icvac, tmp_path, name, first):
    result = icvac("taxonomy", "export", "-o", tmp_path / name)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(first)


def test_taxonomy_export_to_stdout_and_unknown_extensions_stay_json(icvac, tmp_path):
    assert json.loads(icvac("taxonomy", "export").stdout)["categories"]
    assert icvac("taxonomy", "export", "-o", tmp_path / "t.txt").exit_code == 0
    assert json.loads((tmp_path / "t.txt").read_text(encoding="utf-8"))["categories"]


@pytest.mark.parametrize("args", [
    ("taxonomy", "export", "--format", "csv", "-o", "t.json"),
    ("crosswalk", "--mapping", "gbvims", "--format", "csv", "-o", "t.xlsx"),
    ("tabulate", "RECODED", "--format", "json", "-o", "t.csv"),
    ("recode", "RECODED", "--mapping", "gbvims", "--format", "csv", "-o", "t.jsonl"),
])
def test_a_format_that_contradicts_the_extension_is_refused(icvac, tmp_path, args):
    recoded = tmp_path / "recoded.csv"
    if "RECODED" in args:
        assert icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", recoded).exit_code == 0
    args = [str(recoded) if a == "RECODED" else str(tmp_path / a) if a.startswith("t.") else a for a in args]
    result = icvac(*args)
    assert result.exit_code == 2, result.stderr
    given, named = args[args.index("--format") + 1], args[args.index("-o") + 1]
    assert f"--format {given} but -o {named} names a" in result.stderr
    assert not (tmp_path / named).exists()


def test_crosswalk_and_tabulate_follow_the_extension(icvac, tmp_path):
    assert icvac("crosswalk", "--mapping", "gbvims", "-o", tmp_path / "c.md").exit_code == 0
    assert (tmp_path / "c.md").read_text(encoding="utf-8").startswith("# Crosswalk")
    recoded = tmp_path / "recoded.csv"
    assert icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", recoded).exit_code == 0
    assert icvac("tabulate", recoded, "-o", tmp_path / "t.json").exit_code == 0
    assert "rows" in json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    result = icvac("tabulate", recoded, "-o", tmp_path / "t.txt")
    assert result.exit_code == 2 and "name a .csv, .json or .xlsx file" in result.stderr


# b. a value that is not one of an option's choices: no pydantic prefix, the choices, and a hint

def test_recode_format_json_names_the_formats_and_hints(icvac, tmp_path):
    result = icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "--format", "json", "-o", tmp_path / "o.json")
    assert result.exit_code == 2
    assert "Value error" not in result.stderr
    assert "'json' is not one of csv, xlsx, jsonl." in result.stderr
    assert "--format jsonl" in result.stderr and "--summary json" in result.stderr
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize("args, said", [
    (("taxonomy", "tree", "--lang", "de"), "'de' is not one of en, fr, es."),
    (("taxonomy", "export", "--format", "yaml"), "'yaml' is not one of csv, json, markdown."),
    (("recode", "x.csv", "--mapping", "gbvims", "--summary", "csv"), "'csv' is not one of table, json."),
    (("validate", "x.csv", "--format", "csv"), "'csv' is not one of table, json."),
])
def test_every_choice_option_drops_the_pydantic_prefix(icvac, args, said):
    result = icvac(*args)
    assert result.exit_code == 2
    assert said in result.stderr and "Value error" not in result.stderr


# c. a table printed to a pipe or a file is not cut to 80 columns

def test_piped_tables_are_printed_at_full_width(icvac, tmp_path):
    recoded = tmp_path / "recoded.csv"
    assert icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", recoded).exit_code == 0
    result = icvac("tabulate", recoded, "--by", "perpetrator_relationship", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["code", "category", "intimate_partner", "parent_or_caregiver"] and header[-1] == "total"
    assert "…" not in result.stdout
    assert "Physical violence against a child" in result.stdout


# d. the HTML report shows code as <code>, not as literal backticks

def test_html_report_renders_backticks_as_code(icvac, tmp_path):
    data = tmp_path / "incidents.csv"
    data.write_text("id,icvac_code,victim_sex\nA1,0301,\nA2,0202,female\n", encoding="utf-8")
    report = tmp_path / "report.html"
    result = icvac("validate", data, "--report", report)
    assert result.exit_code == 0, result.stderr
    page = report.read_text(encoding="utf-8")
    assert "Missing value where <code>unknown</code> was expected" in page
    assert "`" not in page


# e. .xlsx review files: counts and scores are numbers, the header row stays in view

def test_xlsx_review_stores_numbers_and_freezes_the_header(icvac, tmp_path):
    from openpyxl import load_workbook

    review = tmp_path / "review.xlsx"
    result = icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", tmp_path / "o.csv", "--review", review)
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(review)["review"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    header, fuzzy = rows[0], rows[1]
    assert (fuzzy[header.index("source_label")], fuzzy[header.index("match")]) == ("Sexual asault", "fuzzy")
    assert isinstance(fuzzy[header.index("count")], int) and fuzzy[header.index("count")] > 0
    assert isinstance(fuzzy[header.index("score")], float)
    assert isinstance(fuzzy[header.index("candidate_score_1")], float)
    # the CSV review file of the same run says the same numbers
    csv_review = tmp_path / "review.csv"
    icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", tmp_path / "o2.csv", "--review", csv_review)
    with open(csv_review, encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))
    assert (int(first["count"]), float(first["score"])) == (fuzzy[header.index("count")],
                                                            fuzzy[header.index("score")])


def test_xlsx_review_guards_text_and_stores_the_count_as_a_number(tmp_path):
    from openpyxl import load_workbook

    from icvac import load_taxonomy
    from icvac.matching import Match
    from icvac.recode import ReviewItem
    from icvac.review import write_review

    item = ReviewItem(source_code="", source_label="=1+2", count=3, match=Match("unclassified", ()))
    write_review(tmp_path / "r.xlsx", [item], load_taxonomy())
    sheet = load_workbook(tmp_path / "r.xlsx")["review"]
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert row[1:3] == ("'=1+2", 3)
