"""Mapping files: schema and semantic checks, bundled mappings, writing entries back as text."""
from __future__ import annotations

import pytest

from icvac import load_taxonomy
from icvac.errors import MappingError
from icvac.mapping import RELATIONS, SKOS_PREDICATES, check_mapping, load_mapping, resolve_mapping_path, write_entries

from .conftest import FIXTURES, MAPPINGS

HEAD = """id: t
title: T
source_system: S
version: "1"
taxonomy_version: "2023.0-provisional.1"
author: a
date: "2024-06-01"
source_reference: r
status: provisional
"""


def entry(label, target, relation="close", extra=""):
    return (f"  - source_label: {label}\n    target: {target}\n    relation: {relation}\n"
            f"    justification: j\n    reviewer: r\n    date: \"2024-06-01\"\n{extra}")


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def problems_of(tmp_path, text, taxonomy):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return check_mapping(path, taxonomy)


@pytest.mark.parametrize("name,count", [("gbvims", 6), ("iccs", 34)])
def test_bundled_mappings_are_valid_and_justified(name, count, taxonomy):
    mapping, problems = check_mapping(name, taxonomy)
    assert problems == []
    assert len(mapping.entries) == count and mapping.status == "provisional"
    assert all(e.justification and e.relation in RELATIONS and "maintainers" in e.reviewer for e in mapping.entries)
    assert len(mapping.sha256) == 64


def test_gbvims_targets_the_six_core_types(taxonomy):
    mapping = load_mapping(MAPPINGS / "gbvims.yaml", taxonomy)
    got = {e.source_label: (e.targets, e.relation) for e in mapping.entries}
    assert got["Rape"] == (("0301",), "close")
    assert got["Denial of Resources, Opportunities or Services"] == (("05",), "related")
    assert got["Forced Marriage"][0] == ("0901",)


def test_iccs_labels_are_the_official_titles(taxonomy):
    import csv

    titles = {r["code"]: r["title"] for r in csv.DictReader(open("/work/shared/data/iccs-v1-structure.csv"))}
    for e in load_mapping("iccs", taxonomy).entries:
        assert titles[e.source_code] == e.source_label


def test_every_relation_has_an_sssom_predicate():
    assert set(SKOS_PREDICATES) == set(RELATIONS)
    assert SKOS_PREDICATES["exact"] == "skos:exactMatch"


def test_semantic_problems_come_all_at_once_with_paths(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Rape", '["0301"]') + entry("rape", '["0302"]') + \
        entry("Other", '["7777"]') + entry("Bad", '["0301"]', "exactish") + entry("Cond", '["0301"]', extra=(
            "    conditions:\n      - when: {victim_age: {lt: young}, shoe_size: {eq: 3}}\n        target: [\"03012\"]\n"))
    mapping, problems = problems_of(tmp_path, text, taxonomy)
    assert mapping is None
    got = sorted((p.path, p.line) for p in problems)
    assert ("categories[1].source_label", 17) in got  # conflicting target for the same normalised label
    assert ("categories[2].target[0]", 24) in got      # not in the taxonomy
    assert ("categories[3].relation", 31) in got       # unknown relation
    assert ("categories[4].conditions[0].when.victim_age.lt", 42) in got
    assert any(p == "categories[4].conditions[0].when.shoe_size" for p, _ in got)


def test_no_match_needs_an_empty_target_and_values_need_known_codes(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Closed", '["0301"]', "no-match") + \
        "values:\n  victim_sex: {F: female, X: alien}\n"
    _, problems = problems_of(tmp_path, text, taxonomy)
    assert [p.path for p in problems] == ["categories[0].target", "values.victim_sex.X"]


def test_unknown_name_and_missing_file_raise(taxonomy):
    with pytest.raises(MappingError, match="bundled"):
        resolve_mapping_path("nosuchmapping")
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping("/nonexistent/m.yaml", taxonomy)


def test_write_entries_keeps_comments_and_order(tmp_path, taxonomy):
    path = tmp_path / "m.yaml"
    text = "# top comment\n" + HEAD + "categories:\n  # the first\n" + entry("Rape", '["0301"]') + \
        "\n# values follow\nvalues:\n  victim_sex: {F: female}\n"
    path.write_text(text, encoding="utf-8")
    new = {"source_label": "Rpae", "target": ["0301"], "relation": "close", "justification": "typo",
           "reviewer": "R", "date": "2024-07-01"}
    mapping = write_entries(path, [new], {}, taxonomy)
    after = path.read_text(encoding="utf-8")
    assert after.startswith(text.split("\n# values follow")[0])
    assert after.endswith("\n# values follow\nvalues:\n  victim_sex: {F: female}\n")
    assert [e.source_label for e in mapping.entries] == ["Rape", "Rpae"]


def test_write_entries_into_empty_flow_list_and_refuses_invalid(tmp_path, taxonomy):
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + "categories: []\n", encoding="utf-8")
    good = {"source_label": "X", "target": ["04"], "relation": "close", "justification": "j", "reviewer": "R",
            "date": "2024-07-01"}
    assert len(write_entries(path, [good], {}, taxonomy).entries) == 1
    before = path.read_text(encoding="utf-8")
    with pytest.raises(MappingError):
        write_entries(path, [good | {"target": ["0302"]}], {}, taxonomy)  # same label, other target
    assert path.read_text(encoding="utf-8") == before


def test_mapping_check_cli(icvac, tmp_path):
    result = icvac("mapping", "check", "gbvims")
    assert result.exit_code == 0 and "valid, 6 entries" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "categories:\n" + entry("Rape", '["9999"]'), encoding="utf-8")
    result, data = icvac.json("mapping", "check", bad, "--format", "json")
    assert result.exit_code == 1
    assert [(p["path"], p["line"]) for p in data["problems"]] == [("categories[0].target[0]", 12)]
    assert icvac("mapping", "check", tmp_path / "none.yaml").exit_code == 3


def test_fixture_mapping_is_valid(taxonomy):
    mapping = load_mapping(FIXTURES / "recode" / "child_protection.yaml", taxonomy)
    cond = mapping.entries[1].conditions[0]
    assert cond.targets == ("03012",) and cond.holds({"victim_age": 8.0}) and not cond.holds({"victim_age": None})
