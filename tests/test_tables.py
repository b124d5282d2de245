"""What tables, the summary report and exports know of a classification comes from its file (issue 17): the
languages titles can be shown in, the age-group variable (found by what it is derived from, not by its id),
the variables the report crosses victims with. Checked on the fixture classification and variants of it."""
from __future__ import annotations

import csv
import io
import json

import pytest

from icvac import load_taxonomy
from icvac.errors import UsageError
from icvac.export import export_taxonomy
from icvac.summary_report import report_variables, summarise
from icvac.tables import age_group_variable, check_language, recoded_age_group
from icvac.tabulate import tabulate

from .conftest import FIXTURES

TOY = FIXTURES / "four_levels"
TAXONOMY = TOY / "taxonomy.yaml"


@pytest.fixture(scope="module")
def toy():
    return load_taxonomy(TAXONOMY)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    """The fixture classification with its age groups renamed and a second variable about the victim."""
    text = TAXONOMY.read_text("utf-8")
    assert text.count("id: victim_age_group") == 1
    text = text.replace("id: victim_age_group", "id: victim_age_band") + """\
  - id: victim_schooling
    title: {en: Schooling of the victim}
    status: provisional
    values:
      - {code: in_school, title: {en: In school}}
      - {code: out_of_school, title: {en: Out of school}}
      - {code: unknown, title: {en: Not known}}
"""
    path = tmp_path_factory.mktemp("renamed") / "taxonomy.yaml"
    path.write_text(text, "utf-8")
    return load_taxonomy(path)


def _coded(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


# -- languages

def test_titles_are_offered_in_the_languages_of_the_file(toy):
    check_language(toy, "fr")
    with pytest.raises(UsageError, match=r"'es' is not one of en, fr\."):
        check_language(toy, "es")
    check_language(load_taxonomy(), "es")


def test_the_cli_takes_the_languages_of_the_taxonomy_it_loads(icvac):
    french = icvac("taxonomy", "tree", "--level", "1", "--lang", "fr", "--taxonomy", TAXONOMY)
    assert french.exit_code == 0 and "1  Coups" in french.stdout
    refused = icvac("taxonomy", "tree", "--lang", "es", "--taxonomy", TAXONOMY)
    assert refused.exit_code == 2 and "'es' is not one of en, fr." in refused.stderr
    assert icvac("taxonomy", "tree", "--level", "1", "--lang", "es").exit_code == 0  # ICVAC's own: en, fr, es


def test_tabulate_and_report_refuse_a_language_the_taxonomy_lacks(toy, tmp_path):
    data = _coded(tmp_path / "c.csv", [["icvac_code"], ["101"]])
    assert tabulate(data, toy, lang="fr").rows[0].label == "Coups"
    with pytest.raises(UsageError):
        tabulate(data, toy, lang="es")
    with pytest.raises(UsageError):
        summarise(data, toy, lang="es")


def test_csv_export_has_a_title_and_synonym_column_per_language_of_the_file(toy):
    header = next(csv.reader(io.StringIO(export_taxonomy(toy, "csv"))))
    assert [c for c in header if c.startswith(("title_", "synonyms_"))] == \
        ["title_en", "title_fr", "synonyms_en", "synonyms_fr"]
    bundled = next(csv.reader(io.StringIO(export_taxonomy(load_taxonomy(), "csv"))))
    assert [c for c in bundled if c.startswith("title_")] == ["title_en", "title_fr", "title_es"]


def test_toy_csv_export_imports_back_unchanged(icvac, tmp_path):
    exported, back = tmp_path / "toy.csv", tmp_path / "back.yaml"
    assert icvac("taxonomy", "export", "--format", "csv", "-o", exported, "--taxonomy", TAXONOMY).exit_code == 0
    result = icvac("taxonomy", "import", exported, "-o", back, "--taxonomy", TAXONOMY)
    assert result.exit_code == 0, result.stderr
    assert export_taxonomy(load_taxonomy(back), "json") == export_taxonomy(load_taxonomy(TAXONOMY), "json")


# -- the age group and the report's variables

def test_the_age_group_is_the_variable_derived_from_the_age(toy, renamed):
    assert age_group_variable(toy).id == "victim_age_group"
    assert age_group_variable(renamed).id == "victim_age_band"
    assert recoded_age_group(renamed) == "icvac_victim_age_band"


def test_a_renamed_age_group_is_derived_from_ages(renamed, tmp_path):
    data = _coded(tmp_path / "c.csv", [["icvac_code", "victim_age"], ["101", "7"], ["201", "12"], ["2", "40"]])
    table = tabulate(data, renamed, by=("victim_age_band",), min_cell=0)
    assert [c.key for c in table.columns] == ["0-9", "10-17", "unknown", "invalid", "total"]
    assert table.counts[-1] == (1, 1, 0, 1, 3)
    assert any("an age outside every age group" in w for w in table.warnings)


def test_the_report_crosses_victims_with_the_variables_about_the_victim(toy, renamed, tmp_path):
    assert report_variables(toy) == ("victim_sex", "victim_age_group")  # not weapon
    assert report_variables(renamed) == ("victim_sex", "victim_age_band", "victim_schooling")
    assert report_variables(load_taxonomy()) == ("victim_sex", "victim_age_group", "victim_disability",
                                                 "victim_migration_status")
    data = _coded(tmp_path / "c.csv", [["icvac_code", "victim_age", "victim_schooling", "weapon"],
                                       ["101", "7", "in school", "yes"], ["201", "12", "", "no"]])
    summary = summarise(data, renamed, min_cell=0)
    assert [f.key for f in summary.figures if f.chart == "grouped"] == ["victim_age_band", "victim_schooling"]
    schooling = summary.figure("victim_schooling").table
    assert [c.key for c in schooling.columns] == ["in_school", "out_of_school", "unknown", "total"]
    assert schooling.counts[-1] == (1, 0, 1, 2)


def test_tabulate_and_report_take_columns_for_the_taxonomys_own_variables(icvac, tmp_path):
    data = _coded(tmp_path / "c.csv", [["icvac_code", "Arme"], ["101", "yes"], ["201", "no"], ["2", "yes"]])
    result, table = icvac.json("tabulate", data, "--by", "weapon", "--column", "weapon=Arme", "--min-cell", "0",
                               "--format", "json", "--taxonomy", TAXONOMY)
    assert result.exit_code == 0, result.stderr
    assert table["rows"][-1]["counts"] == [2, 1, 0, 3]
    page = icvac("report", data, "--column", "weapon=Arme", "--format", "json", "-o", tmp_path / "page.json",
                 "--taxonomy", TAXONOMY)
    assert page.exit_code == 0, page.stderr  # weapon is no variable about the victim: a column, not a figure


@pytest.mark.parametrize("input_format", ["csv", "jsonl"], ids=["arrow", "rows"])
def test_recode_names_the_age_group_column_after_the_variable_and_leaves_it_out_without_one(
        icvac, renamed, tmp_path, input_format):
    data = TOY / "records.csv"
    if input_format == "jsonl":  # the row-by-row engine
        with open(data, encoding="utf-8") as handle, open(tmp_path / "r.jsonl", "w", encoding="utf-8") as out:
            for record in csv.DictReader(handle):
                out.write(json.dumps(record) + "\n")
        data = tmp_path / "r.jsonl"
    text = TAXONOMY.read_text("utf-8")
    start = text.index("  - id: victim_age_group")
    without = tmp_path / "no_groups.yaml"
    without.write_text(text[:start] + text[text.index("  - id: weapon"):], "utf-8")
    read = {}
    for name, taxonomy in (("band", renamed.path), ("none", without)):
        out = tmp_path / f"{name}.csv"
        result = icvac("recode", data, "--mapping", TOY / "mapping.yaml", "--taxonomy", taxonomy, "-o", out)
        assert result.exit_code == 0, result.stderr
        read[name] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["icvac_victim_age_band"] for r in read["band"]][:2] == ["10-17", "0-9"]
    assert not any(k.startswith("icvac_victim_age") for k in read["none"][0])
    # the age still decides a condition without the groups: c2, punched at 7, goes to the narrower code
    assert [r["icvac_code"] for r in read["none"]] == [r["icvac_code"] for r in read["band"]]
    assert read["none"][1]["icvac_code"] == "10101"
