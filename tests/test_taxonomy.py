"""The bundled ICVAC taxonomy and the taxonomy checks (library level)."""
from __future__ import annotations

import pytest

from icvac import TaxonomyError, check_taxonomy, load_taxonomy

from .conftest import FIXTURES, TAXONOMY

LEVEL1_TITLES = {
    "01": "Violent killing of a child",
    "02": "Physical violence against a child",
    "03": "Sexual violence against a child",
    "04": "Psychological violence against a child",
    "05": "Neglect of a child",
    "09": "Other acts of violence against a child not elsewhere classified",
}


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def test_bundled_taxonomy_is_the_repository_file(tax):
    assert tax.path.endswith("icvac.yaml")
    assert open(tax.path, "rb").read() == TAXONOMY.read_bytes()


def test_level1_titles_are_the_published_ones(tax):
    assert {c.code: c.title["en"] for c in tax.at_level(1)} == LEVEL1_TITLES


def test_tree_size_and_shape(tax):
    assert 30 <= len(tax.categories) <= 60
    for cat in tax.categories.values():
        assert len(cat.code) == tax.code_lengths[cat.level - 1]
        assert cat.definition and cat.inclusions
        assert set(cat.title) == {"en", "fr", "es"}
        assert all(cat.synonyms.get(lang) for lang in ("en", "fr", "es")), cat.code
        if cat.parent:
            assert cat.code.startswith(cat.parent)
            assert cat.code in tax.get(cat.parent).children


def test_the_titles_of_the_classification_are_the_registrys(tax):
    # UN Statistics Division classification registry (issue 17)
    assert tax.titles == {
        "en": "International Classification of Violence against Children",
        "ar": "التصنيف الدولي للعنف ضد الأطفال",
        "es": "Clasificación Internacional de la Violencia contra los Niños (CIVN)",
        "fr": "Classification internationale de la violence contre les enfants (CIVE)",
        "ru": "Международная классификация насилия над детьми (МКННД)"}


def test_the_residual_categories_are_the_other_nec_ones(tax):
    # marked in the file; in the bundled tree, they are the codes below level 1 that end in 9
    assert {c.code for c in tax.walk() if c.residual} == {c.code for c in tax.walk()
                                                         if c.level >= 2 and c.code.endswith("9")}
    assert all(c.title["en"].startswith("Other") for c in tax.walk() if c.residual)


def test_nothing_is_presented_as_verified(tax):
    assert tax.status == "provisional"
    assert {c.status for c in tax.categories.values()} == {"provisional"}
    assert {v.status for v in tax.variables.values()} == {"provisional"}


def test_every_variable_has_unknown(tax):
    expected = {"victim_sex", "victim_age_group", "victim_disability", "victim_migration_status",
                "perpetrator_relationship", "perpetrator_sex", "perpetrator_age_group", "setting",
                "technology_facilitated", "armed_conflict"}
    assert set(tax.variables) == expected
    for var in tax.variables.values():
        assert "unknown" in var.codes, var.id


def test_age_groups_cover_0_to_17_without_overlap(tax):
    ages = []
    for value in tax.variables["victim_age_group"].values:
        if value.code != "unknown":
            ages.extend(range(value.min, value.max + 1))
    assert sorted(ages) == list(range(18))


def test_ancestors(tax):
    assert [c.code for c in tax.ancestors("03041")] == ["03", "0304", "03041"]
    assert tax.ancestor_at("03041", 1).code == "03"
    assert tax.ancestor_at("03", 2).code == "03"


@pytest.mark.parametrize("query", ["abus sexuel", "violencia sexual", "SEXUAL abuse", "sexuel abus"])
def test_search_sexual_violence_ranks_under_03(tax, query):
    hits = tax.search(query, limit=5)
    assert hits[0].code.startswith("03"), hits


@pytest.mark.parametrize("query,prefix", [("négligence", "05"), ("matrimonio infantil", "0901"),
                                          ("child soldiers", "0904"), ("chatiment corporel", "0201")])
def test_search_across_languages_and_accents(tax, query, prefix):
    assert tax.search(query, limit=1)[0].code.startswith(prefix)


def test_search_is_deterministic_and_limited(tax):
    assert tax.search("violence", limit=3) == tax.search("violence", limit=3)
    assert len(tax.search("violence", limit=3)) == 3
    assert tax.search("   ") == []


def test_three_errors_reported_at_once_with_paths():
    taxonomy, problems = check_taxonomy(FIXTURES / "taxonomy" / "three_errors.yaml")
    assert taxonomy is None
    found = {(p.path, p.line) for p in problems if p.severity == "error"}
    assert found == {("categories[0].children[0].code", 19), ("categories[1].title", 27),
                     ("categories[2].code", 34)}
    messages = " ".join(p.message for p in problems)
    assert "used twice" in messages and "does not extend" in messages and "'title'" in messages


def test_load_raises_with_every_problem():
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(FIXTURES / "taxonomy" / "three_errors.yaml")
    assert len(info.value.errors) == 3
    assert "three_errors.yaml" in str(info.value)


def _write(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _minimal_text():
    return (FIXTURES / "taxonomy" / "minimal.yaml").read_text(encoding="utf-8")


def test_level_must_equal_depth_and_exclusions_must_exist(tmp_path):
    text = _minimal_text().replace('        level: 2', '        level: 3').replace('code: "01"}', 'code: "07"}')
    _, problems = check_taxonomy(_write(tmp_path, text))
    paths = {p.path for p in problems}
    assert "categories[1].children[0].level" in paths
    assert "categories[1].exclusions[0].code" in paths


def test_duplicated_synonym_is_a_warning_not_an_error(tmp_path):
    text = _minimal_text().replace("synonyms: {en: [beating]}", "synonyms: {en: [Murder]}")
    taxonomy, problems = check_taxonomy(_write(tmp_path, text))
    assert taxonomy is not None
    assert [(p.severity, p.path) for p in problems] == [("warning", "categories[1].synonyms.en[0]")]
    assert taxonomy.warnings == tuple(problems)


def test_variable_without_unknown_is_an_error(tmp_path):
    text = _minimal_text().replace("      - {code: unknown, title: {en: Unknown}}\n", "")
    _, problems = check_taxonomy(_write(tmp_path, text))
    assert [p.path for p in problems] == ["variables[0].values"]


@pytest.mark.parametrize("text,expected", [
    ("id: x\nid: y\n", "duplicate key"),
    ("a: &x [1]\nb: *x\n", "aliases"),
    ("a: !!python/object/apply:os.system ['true']\n", "YAML syntax"),
    ("a:\n\t- b\n", "YAML syntax"),
    ("[1, 2\n", "YAML syntax"),
])
def test_unsafe_or_broken_yaml_is_refused_with_a_line(tmp_path, text, expected):
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(_write(tmp_path, text))
    assert expected in str(info.value)
    assert "line" in str(info.value)


def test_wrong_types_everywhere_are_reported_not_raised(tmp_path):
    text = "id: 5\ntitle: []\nversion: 1\npublisher: {}\nsource: x\nlanguages: de\nstatus: maybe\n" \
           "categories: [{code: 1, level: x, children: 5}, 7]\nvariables: {a: 1}\n"
    taxonomy, problems = check_taxonomy(_write(tmp_path, text))
    assert taxonomy is None
    assert len(problems) >= 8
    assert all(p.path for p in problems)
