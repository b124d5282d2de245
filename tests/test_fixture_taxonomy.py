"""Another classification works for every command: the README's tour on a fixture taxonomy of four levels with
codes of 1, 3, 5 and 7 digits (tests/fixtures/four_levels), nothing of ICVAC in it.

Everything the tool knows of a classification comes from its file: code lengths and levels, residual categories,
variables held in columns, the status line, titles in other languages.
"""
from __future__ import annotations

import csv
import json

import pytest

from icvac import load_taxonomy
from icvac.columns import VARIABLE_ROLES

from .conftest import FIXTURES

TOY = FIXTURES / "four_levels"
TAXONOMY, MAPPING, RECORDS = TOY / "taxonomy.yaml", TOY / "mapping.yaml", TOY / "records.csv"


@pytest.fixture(scope="module")
def toy():
    return load_taxonomy(TAXONOMY)


@pytest.fixture
def run(icvac):
    """``icvac`` with the fixture taxonomy, as ``--taxonomy`` would give it (through ICVAC_TAXONOMY)."""
    return lambda *args, **kw: icvac(*args, env={"ICVAC_TAXONOMY": str(TAXONOMY)}, **kw)


@pytest.fixture
def recoded(run, tmp_path):
    out = tmp_path / "recoded.csv"
    result = run("recode", RECORDS, "--mapping", MAPPING, "-o", out, "--review", tmp_path / "review.csv")
    assert result.exit_code == 0, result.stderr
    assert "taxonomy toy 1.0 (taxonomy.yaml) is provisional: a test fixture, not a real classification" in result.stderr
    return out


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- the taxonomy as data

def test_the_file_says_levels_code_lengths_residuals_variables_and_status(toy):
    assert toy.code_lengths == (1, 3, 5, 7) and toy.levels == 4
    assert {c.level: len(c.code) for c in toy.walk()} == {1: 1, 2: 3, 3: 5, 4: 7}
    assert {c.code for c in toy.walk() if c.residual} == {"1010109", "109"}
    assert toy.get("1010101").level1 == "1"
    assert toy.variable_roles == ("victim_sex", "weapon")  # victim_age_group is derived from the age
    assert toy.status_line().endswith("is provisional: a test fixture, not a real classification")
    assert set(toy.titles) == {"en", "ar", "fr", "ru", "zh"}


def test_the_bundled_variable_roles_are_the_bundled_files():
    # VARIABLE_ROLES serves what must not load a taxonomy (help texts, the check catalogue)
    assert load_taxonomy().variable_roles == VARIABLE_ROLES


def test_a_code_of_the_wrong_length_for_its_level_is_named(tmp_path):
    from icvac import check_taxonomy

    bad = tmp_path / "toy.yaml"
    bad.write_text(TAXONOMY.read_text("utf-8").replace('"10101"', '"1011"').replace('"1010101"', '"1011101"')
                   .replace('"1010109"', '"1011109"'), "utf-8")
    taxonomy, problems = check_taxonomy(bad)
    assert taxonomy is None
    assert [p.message for p in problems] == ["a level-3 code has 5 digits, '1011' has 4"]


def test_a_level_beyond_code_lengths_is_named(tmp_path):
    from icvac import check_taxonomy

    bad = tmp_path / "toy.yaml"
    bad.write_text(TAXONOMY.read_text("utf-8").replace("code_lengths: [1, 3, 5, 7]", "code_lengths: [1, 3, 5]"),
                   "utf-8")
    assert [p.message for p in check_taxonomy(bad)[1]] == [
        "'1010101' sits at level 4, but code_lengths gives 3 levels; add the level's length to code_lengths",
        "'1010109' sits at level 4, but code_lengths gives 3 levels; add the level's length to code_lengths"]


# -- the tour (README "A tour"), command by command

def test_taxonomy_commands(run):
    tree = run("taxonomy", "tree", "--format", "json")
    assert tree.exit_code == 0
    assert [(c["code"], c["level"]) for c in json.loads(tree.stdout)] == [
        ("1", 1), ("101", 2), ("10101", 3), ("1010101", 4), ("1010109", 4), ("102", 2), ("109", 2), ("2", 1),
        ("201", 2), ("202", 2), ("3", 1), ("4", 1), ("5", 1), ("9", 1), ("901", 2)]
    assert [c["code"] for c in json.loads(run("taxonomy", "tree", "--level", "2", "--format", "json").stdout)] \
        == ["1", "101", "102", "109", "2", "201", "202", "3", "4", "5", "9", "901"]
    assert run("taxonomy", "tree", "--level", "5").exit_code == 2
    shown = run("taxonomy", "show", "1010101")
    assert shown.exit_code == 0 and "Level 4" in shown.stdout and "Parent: 10101 Slapping" in shown.stdout
    assert run("taxonomy", "search", "slap", "--format", "json").exit_code == 0
    assert "weapon" in run("taxonomy", "variables").stdout
    checked = run("taxonomy", "check", TAXONOMY)
    assert checked.exit_code == 0 and "15 categories, 3 variables" in checked.stderr


def test_taxonomy_export(run, tmp_path):
    assert run("taxonomy", "export", "-o", tmp_path / "toy.csv").exit_code == 0
    assert [(r["code"], r["level"], r["parent"]) for r in rows(tmp_path / "toy.csv")][:4] == [
        ("1", "1", ""), ("101", "2", "1"), ("10101", "3", "101"), ("1010101", "4", "10101")]


def test_recode_codes_at_every_level_and_keeps_residuals_for_review(recoded, tmp_path):
    coded = {r["case_no"]: (r["icvac_code"], r["icvac_level1"], r["icvac_match"]) for r in rows(recoded)}
    assert coded == {
        "c1": ("1010101", "1", "exact-code"), "c2": ("10101", "1", "condition"), "c3": ("101", "1", "exact-code"),
        "c4": ("201", "2", "exact-code"), "c5": ("1010101", "1", "normalised-label"),
        "c6": ("unclassified", "unclassified", "no-match"), "c7": ("unclassified", "unclassified", "unclassified"),
        "c8": ("1010101", "1", "exact-code"), "c9": ("unclassified", "unclassified", "unclassified"),
        "c10": ("10101", "1", "fuzzy")}
    # the best candidate of "other slapings" is the residual 1010109: marked residual, it goes to review
    review = {r["source_label"]: r["candidate_1"] for r in rows(tmp_path / "review.csv")}
    assert review["other slapings"] == "1010109"
    # a variable of this taxonomy alone (weapon) is recoded as the bundled ones are
    assert [r["icvac_weapon"] for r in rows(recoded)][:4] == ["no", "yes", "no", "unknown"]
    assert [r["icvac_victim_age_group"] for r in rows(recoded)][:2] == ["10-17", "0-9"]


def test_validate_the_recoded_file(run, recoded):
    result = run("validate", recoded, "--format", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["taxonomy"] == "toy 1.0 (provisional)"
    assert {(i["id"], i["slug"]) for i in report["issues"]} == {(c, "unclassified-code") for c in ("c6", "c7", "c9")}


def test_validate_finds_codes_of_another_classification(run, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("id,icvac_code,weapon\n1,1010101,yes\n2,0301,no\n3,101,maybe\n", "utf-8")
    result = run("validate", data, "--format", "json", "--min-level", "4")
    assert result.exit_code == 1
    found = sorted((i["row"], i["slug"]) for i in json.loads(result.stdout)["issues"])
    assert found == [(3, "unknown-code"), (4, "code-too-coarse"), (4, "invalid-value")]


def test_crosswalk(run):
    result = run("crosswalk", "--mapping", MAPPING, "--direction", "from-icvac", "--format", "json")
    assert result.exit_code == 0
    links = {(link["subject_code"], link["relation"], link["object_code"])
             for link in json.loads(result.stdout)["links"]}
    assert ("1010101", "exact", "H1") in links and ("109", "no-match", None) in links
    markdown = run("crosswalk", "--mapping", MAPPING, "--direction", "from-icvac", "--format", "markdown").stdout
    # indented by level, as the taxonomy says, whatever the codes' lengths
    assert "| 1010101 | &nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;Slapping the face |" in markdown
    coverage = run("crosswalk", "coverage", "--mapping", MAPPING, "--data", RECORDS, "--format", "json")
    assert coverage.exit_code == 0


@pytest.mark.parametrize("level,codes", [
    (1, ["1", "2", "3", "4", "5", "9"]), (2, ["101", "102", "109", "201", "202", "3", "4", "5", "901"]),
    (3, ["101", "10101", "102", "109", "201", "202", "3", "4", "5", "901"]),
    (4, ["101", "10101", "1010101", "1010109", "102", "109", "201", "202", "3", "4", "5", "901"])])
def test_tabulate_at_every_level(run, recoded, level, codes):
    result = run("tabulate", recoded, "--level", str(level), "--by", "weapon", "--min-cell", "0", "--format", "json")
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)
    assert [r["key"] for r in table["rows"] if r["kind"] in ("category", "not_further_specified")] == codes


def test_tabulate_refuses_a_level_the_taxonomy_does_not_have(run, recoded):
    result = run("tabulate", recoded, "--level", "5")
    assert result.exit_code == 2 and "choose 1 to 4" in result.stderr


def test_report(run, recoded, tmp_path):
    result = run("report", recoded, "-o", tmp_path / "summary.html")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "summary.html").read_text("utf-8")
    assert '<th scope="row" dir="auto">Hitting</th>' in page and "Shouting" in page
    # the classification's titles, each marked with its language; the Arabic one reads right to left
    assert '<div lang="ar" dir="auto">تصنيف تجريبي للأذى</div>' in page
    assert page.index('lang="en"') < page.index('<div lang="ar"') < page.index('<div lang="zh"')


def test_titles_in_the_six_un_languages_only(tmp_path):
    from icvac import check_taxonomy

    text = TAXONOMY.read_text("utf-8")
    assert check_taxonomy(TAXONOMY)[0].titles["zh"] == "伤害试验分类"
    german = tmp_path / "toy.yaml"
    german.write_text(text.replace('  zh: "伤害试验分类"', '  de: "Test"'), "utf-8")
    assert [(p.path, p.message) for p in check_taxonomy(german)[1]] == [
        ("titles", "Additional properties are not allowed ('de' was unexpected); remove it or check its spelling")]


def test_mapping_draft_suggests_codes_of_the_taxonomy_in_use(run, tmp_path):
    draft = tmp_path / "draft.yaml"
    result = run("mapping", "draft", RECORDS, "--label-column", "harm_label", "-o", draft)
    assert result.exit_code == 0, result.stderr
    from icvac.mapping import load_mapping

    mapping = load_mapping(draft, load_taxonomy(TAXONOMY))
    targets = {e.source_label: e.targets for e in mapping.entries}
    assert targets["Face slap"] == ("1010101",)
    assert all(t in load_taxonomy(TAXONOMY) for ts in targets.values() for t in ts)


def test_agree_at_level_four(run, recoded):
    result = run("agree", recoded, recoded, "--id", "case_no", "--level", "4", "--format", "json")
    assert result.exit_code == 0, result.stderr
