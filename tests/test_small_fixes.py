"""Issue 14, "Why" 8: the small seams a new user trips over, one test (at least) each."""
from __future__ import annotations

import csv
import json

import pytest

from .conftest import EXAMPLES, FIXTURES

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


# b. a value that is not one of an option's choices: the choices without their quotes, and a hint

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
def test_every_choice_option_names_its_choices_plainly(icvac, args, said):
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


# g. review-import restores a leading zero a spreadsheet dropped, and says so

def _read_dicts(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_dicts(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _reviewed(icvac, tmp_path, data, decisions, name="review.csv", source=None):
    """recode DATA with a copy of gbvims (or of ``source``), fill the review file's decisions; -> (mapping, review)."""
    import shutil

    from .conftest import MAPPINGS

    source = source or MAPPINGS / "gbvims.yaml"
    mapping = tmp_path / source.name
    shutil.copy(source, mapping)
    review = tmp_path / name
    result = icvac("recode", data, "--mapping", mapping, "-o", tmp_path / "first.csv", "--review", review)
    assert result.exit_code == 0, result.stderr
    rows = _read_dicts(review)
    for row in rows:
        row["decision"] = decisions.get(row["source_label"], "")
    _write_dicts(review, rows)
    return mapping, review


def test_review_import_says_when_it_restores_a_leading_zero(icvac, tmp_path):
    from icvac import load_taxonomy
    from icvac.mapping import load_mapping

    mapping, review = _reviewed(icvac, tmp_path, RECODED_INPUT, {"Physcal Assault": "202", "Sexual asault": "0302"})
    row = 2 + [r["source_label"] for r in _read_dicts(review)].index("Physcal Assault")
    result = icvac("mapping", "review-import", review, "--mapping", mapping, "--reviewer", "Data officer")
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert f"row {row}: decision '202' read as '0202'" in warnings[0] and "leading zero" in warnings[0]
    added = {e.source_label: e.targets for e in load_mapping(mapping, load_taxonomy()).entries}
    assert (added["Physcal Assault"], added["Sexual asault"]) == (("0202",), ("0302",))


def test_review_import_json_lists_the_restored_zero(icvac, tmp_path):
    mapping, review = _reviewed(icvac, tmp_path, RECODED_INPUT, {"Physcal Assault": "0302+202"})
    row = 2 + [r["source_label"] for r in _read_dicts(review)].index("Physcal Assault")
    result, data = icvac.json("mapping", "review-import", review, "--mapping", mapping, "--reviewer", "D. O.",
                              "--format", "json")
    assert result.exit_code == 0 and data["added"] == 1
    rows = [w for w in data["warnings"] if w["path"]]  # the others are the command's own (provisional taxonomy)
    assert [(w["path"], w["severity"]) for w in rows] == [(f"row {row}", "warning")]
    assert "'202' read as '0202'" in rows[0]["message"]
    assert all(isinstance(w, dict) for w in data["warnings"])


# i. a label that starts with an apostrophe survives the review file: only the ' icvac added comes off

# on the four-level fixture taxonomy and its register mapping: a review round trip whatever ICVAC's codes become
TOY = FIXTURES / "four_levels"


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setenv("ICVAC_TAXONOMY", str(TOY / "taxonomy.yaml"))


@pytest.mark.parametrize("decided, in_file, other", [("'=x", "''=x", "=x"), ("=x", "'=x", "'=x")])
def test_apostrophe_labels_survive_the_review_round_trip(icvac, toy, tmp_path, decided, in_file, other):
    data = tmp_path / "export.csv"
    _write_dicts(data, [{"case_no": f"C{i}", "harm_code": "", "harm_label": label}
                        for i, label in enumerate(["'=x", "=x", "Face slap"])])
    mapping, review = _reviewed(icvac, tmp_path, data, {in_file: "101"}, source=TOY / "mapping.yaml")
    written = {row["source_label"] for row in _read_dicts(review)}
    assert written == {"''=x", "'=x"}  # one more ' only where icvac guards a formula
    result = icvac("mapping", "review-import", review, "--mapping", mapping, "--reviewer", "Data officer")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "second.csv"
    assert icvac("recode", data, "--mapping", mapping, "-o", out).exit_code == 0
    coded = {row["harm_label"]: (row["icvac_code"], row["icvac_match"]) for row in _read_dicts(out)}
    assert coded[decided] == ("101", "exact-label")
    assert coded[other][1] != "exact-label"  # the other label was not decided: no exact match for it


def test_review_safe_is_undone_exactly():
    from icvac.review import _review_safe, _review_unsafe

    for value in ["=x", "'=x", "''=x", "'abc", "abc", "-1", "'-1", "+", "'", "@a", "'@a", "", "'0301"]:
        assert _review_unsafe(_review_safe(value)) == value, value


# f. table files say what x means: a note under the .xlsx table; the CSV stays a plain table

def _tabulate(icvac, tmp_path, name, *options):
    recoded = tmp_path / "recoded.csv"
    if not recoded.exists():
        assert icvac("recode", RECODED_INPUT, "--mapping", "gbvims", "-o", recoded).exit_code == 0
    result = icvac("tabulate", recoded, "--by", "victim_sex", "-o", tmp_path / name, *options)
    assert result.exit_code == 0, result.stderr
    return tmp_path / name


def test_xlsx_table_has_a_legend_for_x(icvac, tmp_path):
    from openpyxl import load_workbook

    rows = list(load_workbook(_tabulate(icvac, tmp_path, "t.xlsx"))["table"].iter_rows(values_only=True))
    table, note = rows[:-2], rows[-1]
    assert table[-1][1] == "Total" and all(v is None for v in rows[-2])
    assert any("x" in row[2:] for row in table), "the example has no withheld cell"
    assert note[0].startswith("Note: x = withheld (small-cell suppression, --min-cell 5): counts from 1 to 4")


def test_xlsx_table_says_when_suppression_is_off(icvac, tmp_path):
    from openpyxl import load_workbook

    rows = list(load_workbook(_tabulate(icvac, tmp_path, "t.xlsx", "--min-cell", "0"))["table"].iter_rows(
        values_only=True))
    assert rows[-1][0].startswith("Note: small-cell suppression was off (--min-cell 0)")


def test_csv_table_stays_a_plain_table(icvac, tmp_path):
    # A legend line in the CSV would be read as one more row of the table by every CSV reader: the CSV
    # has the header and the table's rows only; the meaning of x is in the .xlsx note, the JSON
    # (null + suppressed) and the README.
    with open(_tabulate(icvac, tmp_path, "t.csv"), encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["code", "category", "female", "male", "other", "unknown", "total"]
    assert rows[-1][1] == "Total" and {len(r) for r in rows} == {7}


# h. shell completion: installable, and it completes commands and choices

def _icvac_process(*args, env=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "icvac", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_show_completion_prints_a_script_for_the_shell():
    result = _icvac_process("--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "complete -o default -F _icvac_completion icvac" in result.stdout
    assert "_ICVAC_COMPLETE=complete_bash" in result.stdout


def test_install_completion_writes_the_script_into_home(tmp_path):
    result = _icvac_process("--install-completion", "bash", env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "icvac.sh"
    assert "_icvac_completion" in script.read_text(encoding="utf-8")
    assert str(script) in (tmp_path / ".bashrc").read_text(encoding="utf-8")


@pytest.mark.parametrize("words, cword, expected", [
    ("icvac taxonomy ex", 2, ["export"]),
    ("icvac recode x.csv --format ", 4, ["csv", "xlsx", "jsonl"]),  # the word after --format
])
def test_completion_completes_commands_and_choices(words, cword, expected):
    result = _icvac_process(env={"_ICVAC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected


def test_apostrophe_labels_survive_an_xlsx_review_file(icvac, toy, tmp_path):
    import shutil

    from openpyxl import load_workbook

    data = tmp_path / "export.csv"
    _write_dicts(data, [{"case_no": f"C{i}", "harm_code": "", "harm_label": label}
                        for i, label in enumerate(["'=x", "=x"])])
    mapping, review = tmp_path / "mapping.yaml", tmp_path / "review.xlsx"
    shutil.copy(TOY / "mapping.yaml", mapping)
    assert icvac("recode", data, "--mapping", mapping, "-o", tmp_path / "1.csv", "--review", review).exit_code == 0
    book = load_workbook(review)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    label_at, decision_at = header.index("source_label") + 1, header.index("decision") + 1
    labels = {}
    for row in range(2, sheet.max_row + 1):
        labels[sheet.cell(row, label_at).value] = row
    assert set(labels) == {"''=x", "'=x"}
    sheet.cell(labels["''=x"], decision_at, "101")  # the decision for the label '=x
    book.save(review)
    result = icvac("mapping", "review-import", review, "--mapping", mapping, "--reviewer", "Data officer")
    assert result.exit_code == 0, result.stderr
    assert icvac("recode", data, "--mapping", mapping, "-o", tmp_path / "2.csv").exit_code == 0
    coded = {row["harm_label"]: (row["icvac_code"], row["icvac_match"]) for row in _read_dicts(tmp_path / "2.csv")}
    assert coded["'=x"] == ("101", "exact-label") and coded["=x"][1] != "exact-label"
