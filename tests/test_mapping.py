"""Mapping files: schema and semantic checks, bundled mappings, writing entries back as text."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from icvac import load_taxonomy
from icvac.errors import MappingError
from icvac.mapping import RELATIONS, SKOS_PREDICATES, check_mapping, load_mapping, resolve_mapping_path
from icvac.mapping_edit import write_entries

from .conftest import FIXTURES, MAPPINGS

TOY = FIXTURES / "four_levels" / "taxonomy.yaml"

HEAD = """id: t
title: T
source_system: S
version: "1"
taxonomy_version: "1.0"
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
    """Behaviour tests map onto a made-up four-level classification, whatever the ICVAC codes become."""
    return load_taxonomy(TOY)


@pytest.fixture(scope="module")
def bundled():
    return load_taxonomy()


def problems_of(tmp_path, text, taxonomy):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return check_mapping(path, taxonomy)


@pytest.mark.parametrize("name,count", [("gbvims", 6), ("iccs", 34)])
def test_bundled_mappings_are_valid_and_justified(name, count, bundled):
    mapping, problems = check_mapping(name, bundled)
    assert problems == []
    assert len(mapping.entries) == count and mapping.status == "provisional"
    assert all(e.justification and e.relation in RELATIONS and "maintainers" in e.reviewer for e in mapping.entries)
    assert len(mapping.sha256) == 64


def test_gbvims_targets_the_six_core_types(bundled):
    mapping = load_mapping(MAPPINGS / "gbvims.yaml", bundled)
    got = {e.source_label: (e.targets, e.relation) for e in mapping.entries}
    assert got["Rape"] == (("0301",), "close")
    assert got["Denial of Resources, Opportunities or Services"] == (("05",), "related")
    assert got["Forced Marriage"][0] == ("0901",)


def test_iccs_labels_are_the_official_titles(bundled):
    import csv

    titles = {r["code"]: r["title"] for r in csv.DictReader(open("/work/shared/data/iccs-v1-structure.csv"))}
    for e in load_mapping("iccs", bundled).entries:
        assert titles[e.source_code] == e.source_label


def test_every_relation_has_an_sssom_predicate():
    assert set(SKOS_PREDICATES) == set(RELATIONS)
    assert SKOS_PREDICATES["exact"] == "skos:exactMatch"


def test_semantic_problems_come_all_at_once_with_paths(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Rape", '["101"]') + entry("rape", '["102"]') + \
        entry("Other", '["7777"]') + entry("Bad", '["101"]', "exactish") + entry("Cond", '["101"]', extra=(
            "    conditions:\n      - when: {victim_age: {lt: young}, shoe_size: {eq: 3}}\n        target: [\"10101\"]\n"))
    mapping, problems = problems_of(tmp_path, text, taxonomy)
    assert mapping is None
    got = sorted((p.path, p.line) for p in problems)
    assert ("categories[1].source_label", 17) in got  # conflicting target for the same normalised label
    assert ("categories[2].target[0]", 24) in got      # not in the taxonomy
    assert ("categories[3].relation", 31) in got       # unknown relation
    assert ("categories[4].conditions[0].when.victim_age.lt", 42) in got
    assert any(p == "categories[4].conditions[0].when.shoe_size" for p, _ in got)


def test_no_match_needs_an_empty_target_and_values_need_known_codes(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Closed", '["101"]', "no-match") + \
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
    text = "# top comment\n" + HEAD + "categories:\n  # the first\n" + entry("Rape", '["101"]') + \
        "\n# values follow\nvalues:\n  victim_sex: {F: female}\n"
    path.write_text(text, encoding="utf-8")
    new = {"source_label": "Rpae", "target": ["101"], "relation": "close", "justification": "typo",
           "reviewer": "R", "date": "2024-07-01"}
    mapping = write_entries(path, [new], {}, taxonomy)
    after = path.read_text(encoding="utf-8")
    assert after.startswith(text.split("\n# values follow")[0])
    assert after.endswith("\n# values follow\nvalues:\n  victim_sex: {F: female}\n")
    assert [e.source_label for e in mapping.entries] == ["Rape", "Rpae"]


def test_write_entries_into_empty_flow_list_and_refuses_invalid(tmp_path, taxonomy):
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + "categories: []\n", encoding="utf-8")
    good = {"source_label": "X", "target": ["4"], "relation": "close", "justification": "j", "reviewer": "R",
            "date": "2024-07-01"}
    assert len(write_entries(path, [good], {}, taxonomy).entries) == 1
    before = path.read_text(encoding="utf-8")
    with pytest.raises(MappingError):
        write_entries(path, [good | {"target": ["102"]}], {}, taxonomy)  # same label, other target
    assert path.read_text(encoding="utf-8") == before


def test_mapping_check_cli(icvac, tmp_path):
    result = icvac("mapping", "check", "gbvims")
    assert result.exit_code == 0 and "valid, 6 entries" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "categories:\n" + entry("Rape", '["9999"]'), encoding="utf-8")
    result, data = icvac.json("mapping", "check", bad, "--format", "json", env={"ICVAC_TAXONOMY": str(TOY)})
    assert result.exit_code == 1
    assert [(p["path"], p["line"]) for p in data["problems"]] == [("categories[0].target[0]", 12)]
    assert icvac("mapping", "check", tmp_path / "none.yaml").exit_code == 3


def test_fixture_mapping_is_valid(bundled):
    mapping = load_mapping(FIXTURES / "recode" / "child_protection.yaml", bundled)
    cond = mapping.entries[1].conditions[0]
    assert cond.targets == ("03012",) and cond.holds({"victim_age": 8.0}) and not cond.holds({"victim_age": None})


GOOD = {"target": ["4"], "relation": "close", "justification": "j", "reviewer": "R", "date": "2024-07-01"}


def test_write_entries_when_the_file_ends_without_a_newline(tmp_path, taxonomy):
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + "categories:\n" + entry("Rape", '["101"]').rstrip("\n"), encoding="utf-8")
    mapping = write_entries(path, [{"source_label": "Shouting"} | GOOD], {}, taxonomy)
    assert [e.source_label for e in mapping.entries] == ["Rape", "Shouting"]
    assert path.read_text(encoding="utf-8").endswith('date: "2024-06-01"\n  - source_label: "Shouting"\n'
                                                     '    target: ["4"]\n    relation: "close"\n'
                                                     '    justification: "j"\n    reviewer: "R"\n'
                                                     '    date: "2024-07-01"\n')


@pytest.mark.parametrize("label", ["a\x85b", "a\u2028b", "a\u2029b", "a \u2028 b", "x\x7fy\x9f", "\ufeffz\ufffe"])
def test_write_entries_escapes_what_yaml_reads_as_a_line_break(tmp_path, taxonomy, label):
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + "categories: []\n", encoding="utf-8")
    mapping = write_entries(path, [GOOD | {"source_label": label}], {}, taxonomy)
    assert mapping.entries[0].source_label == label
    assert len(path.read_text(encoding="utf-8").splitlines()) == len((HEAD + "categories:\n").splitlines()) + 6


def test_replacing_a_draft_entry_keeps_its_aliases_and_conditions(tmp_path, taxonomy):
    path = tmp_path / "m.yaml"
    draft = entry("Rape", '["101"]', extra=(
        "    aliases: [Viol, Violación]\n    review: true\n"
        "    conditions:\n      - when: {victim_age: {lt: 13}}\n        target: [\"10101\"]\n"))
    path.write_text(HEAD + "categories:\n" + draft, encoding="utf-8")
    decision = {"source_label": "Rape", "target": ["102"], "relation": "close", "justification": "review",
                "reviewer": "R", "date": "2024-07-01"}
    (replaced,) = write_entries(path, [], {0: decision}, taxonomy).entries
    assert (replaced.targets, replaced.review, replaced.aliases) == (("102",), False, ("Viol", "Violación"))
    assert replaced.conditions[0].targets == ("10101",) and replaced.conditions[0].tests[0].value == 13.0


_TRICKY = st.sampled_from([":", ": ", " #", "#", "'", '"', "\\", "-", "- ", "=", "?", "!", "&", "*", "|", ">",
                           "%", "@", "`", "{", "}", "[", "]", ",", "\t", "\n", "\r\n", "\x85", "\u2028",
                           "\u2029", "\x00", "\x7f", "\ufeff", "é", "ß", "強", "🙂", " ", "yes", "null", "01"])
_LABELS = st.lists(st.one_of(_TRICKY, st.text(max_size=4)), min_size=1, max_size=6).map("".join).filter(bool)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=_LABELS, newline=st.booleans())
def test_labels_round_trip_through_write_entries(tmp_path, taxonomy, label, newline):
    from icvac.text import normalise

    assume(normalise(label) != normalise("Rape"))  # "RAPE" would be a second entry for the label, refused
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + "categories:\n" + entry("Rape", '["101"]').rstrip("\n") + "\n" * newline,
                    encoding="utf-8")
    mapping = write_entries(path, [GOOD | {"source_label": label, "justification": label}], {}, taxonomy)
    added = mapping.entries[-1]
    assert (added.source_label, added.justification) == (label, label.strip())


@pytest.mark.parametrize("key,read_as", [("01", "1"), ("010", "8"), ("Yes", "True"), ("off", "False"),
                                         ("null", "None"), ("1.5", "1.5")])
def test_values_keys_that_yaml_reads_as_non_text_are_refused(tmp_path, taxonomy, key, read_as):
    text = HEAD + "categories:\n" + entry("Rape", '["101"]') + \
        f"values:\n  victim_sex:\n    F: female\n    {key}: male\n"
    mapping, problems = problems_of(tmp_path, text, taxonomy)
    assert mapping is None
    (problem,) = problems
    assert (problem.path, problem.line) == (f"values.victim_sex.{key}", 20)
    assert read_as in problem.message and f"quote it: '{key}': male" in problem.message
    quoted = text.replace(f"    {key}: male", f"    '{key}': male")
    mapping, problems = problems_of(tmp_path, quoted, taxonomy)
    assert problems == [] and mapping.values["victim_sex"] == {"F": "female", key: "male"}


def test_numbers_where_text_belongs_say_quote_it(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Rape", '["101"]', extra="    source_code: 0101\n    aliases: [yes]\n") + \
        "values:\n  weapon:\n    Oui: yes\n"
    mapping, problems = problems_of(tmp_path, text, taxonomy)
    assert mapping is None
    got = [(p.path, p.line, p.message) for p in problems]
    assert got == [
        ("categories[0].source_code", 17, "0101 is read by YAML as the number 65; quote it: source_code: '0101'"),
        ("categories[0].aliases[0]", 18, "yes is read by YAML as True; quote it: 'yes'"),
        ("values.weapon.Oui", 21, "yes is read by YAML as True; quote it: Oui: 'yes'"),
    ]


def test_problem_line_and_check_messages(icvac, tmp_path):
    from icvac.cli._console import problem_line
    from icvac.errors import Problem

    assert problem_line("m.yaml", Problem("a.b", "x: y", "warning", 3)) == "m.yaml: a.b (line 3): x: y"
    assert problem_line("m.yaml", Problem("", "empty", "error")) == "m.yaml: (top level): empty"
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "categories:\n" + entry("Rape", '["101"]', extra="    source_code: 0101\n"),
                   encoding="utf-8")
    result = icvac("mapping", "check", bad)
    assert result.exit_code == 1
    assert f"{bad}: categories[0].source_code (line 17): 0101 is read by YAML as the number 65; quote it: " \
           "source_code: '0101'" in " ".join(result.stderr.split())


def test_unquoted_check_reads_odd_keys_without_failing(tmp_path, taxonomy):
    text = HEAD + "categories:\n" + entry("Rape", '["101"]') + \
        "values:\n  victim_sex:\n    '{x}': off\n    on: male\n"
    _, problems = problems_of(tmp_path, text, taxonomy)
    assert [(p.path, p.message) for p in problems] == [
        ("values.victim_sex.{x}", "off is read by YAML as False; quote it: {x}: 'off'"),
        ("values.victim_sex.on", "on is read by YAML as True; quote it: 'on': male")]
