"""Fuzzing with Hypothesis: no exception escapes but the library's own error types."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icvac import TaxonomyError, check_taxonomy, fold, load_taxonomy, normalise
from icvac.errors import IcvacError, MappingError
from icvac.mapping import check_mapping
from icvac.readers import ReadOptions, open_table
from icvac.yamlio import parse_yaml

from .conftest import FIXTURES

FULL_MAPPING = FIXTURES / "bad" / "full_mapping.yaml"

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

yaml_like = st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\t\n ,?%@`0123456789.") + ["\u00e9", "\ufeff"]),
                    max_size=200)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


def _taxonomy():
    return load_taxonomy()  # cached by the loader


@FUZZ
@given(yaml_like)
def test_yaml_parser_raises_only_its_own_errors(text):
    try:
        parse_yaml(text, "fuzz.yaml", TaxonomyError)
    except TaxonomyError as exc:
        assert "fuzz.yaml" in str(exc)


@FUZZ
@given(json_values)
def test_taxonomy_checks_never_crash_on_wrong_types(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    taxonomy, problems = check_taxonomy(path)
    assert taxonomy is None and problems  # nothing random is a valid taxonomy


@FUZZ
@given(st.dictionaries(st.sampled_from(["id", "title", "version", "categories", "variables", "status"]),
                       json_values, max_size=6))
def test_taxonomy_checks_with_plausible_keys(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    taxonomy, problems = check_taxonomy(path)
    assert taxonomy is None and all(p.message for p in problems)


@FUZZ
@given(st.text(max_size=80))
def test_normalise_is_total_and_fold_idempotent(text):
    once = normalise(text)
    assert fold(fold(text)) == fold(text)
    assert once == once.strip() and "  " not in once
    assert all(ch.isalnum() or ch == " " for ch in once)


# ------------------------------------------------------------------------------- the data readers

csv_like = st.one_of(
    st.binary(max_size=600),
    st.text(alphabet=st.sampled_from(list(',;|\t"\'\r\n ab\x00\x0b\x1a') + ["\u00e9", "\ufeff", "\u2028"]),
            max_size=300).map(lambda t: t.encode("utf-8")),
    st.text(max_size=200).map(lambda t: t.encode("utf-16")),
)
read_options = st.builds(
    ReadOptions,
    format=st.sampled_from([None, "csv", "jsonl", "xlsx"]),
    encoding=st.sampled_from([None, None, "utf-8", "cp1252", "latin-1", "utf-16", "utf-16-le", "base64", "klingon"]),
    delimiter=st.sampled_from([None, None, ",", ";", "\t", "tab", '"', "\n", ";;", ""]),
    header_row=st.integers(min_value=1, max_value=3),
)


@FUZZ
@given(csv_like, read_options, st.sampled_from(["data.csv", "data.jsonl", "data.xlsx", "data.txt"]))
def test_readers_raise_only_input_errors(tmp_path_factory, data, options, name):
    path = tmp_path_factory.mktemp("r") / name
    path.write_bytes(data)
    try:
        with open_table(path, options) as table:
            width = len(table.header)
            for number, cells in table.rows():
                assert isinstance(number, int) and all(isinstance(c, str) for c in cells)
    except IcvacError as exc:
        assert str(path) in str(exc) or "option" in str(exc) or "format" in str(exc)
    else:
        assert width >= 1


# ------------------------------------------------------------------------------- the mapping loader

MAPPING_KEYS = ["id", "title", "source_system", "country", "version", "taxonomy_version", "author", "date",
                "source_reference", "status", "status_note", "columns", "categories", "values"]
ENTRY_KEYS = ["source_code", "source_label", "aliases", "target", "relation", "justification", "reviewer",
              "date", "review", "count", "suggestions", "conditions"]
entry_like = st.dictionaries(st.sampled_from(ENTRY_KEYS), json_values, max_size=8) | json_values
condition_like = st.fixed_dictionaries({"when": st.dictionaries(
    st.sampled_from(["victim_age", "victim_sex", "setting", "nonsense"]),
    json_values | st.dictionaries(st.sampled_from(["lt", "ge", "eq", "in", "not_in", "xx"]), json_values),
    max_size=3), "target": json_values})


@FUZZ
@given(st.dictionaries(st.sampled_from(MAPPING_KEYS), json_values, max_size=10),
       st.lists(entry_like, max_size=4), st.lists(condition_like, max_size=2))
def test_mapping_checks_never_crash(tmp_path_factory, data, entries, conditions):
    if entries:
        data["categories"] = entries
        if conditions and isinstance(entries[0], dict):
            entries[0]["conditions"] = conditions
    path = tmp_path_factory.mktemp("m") / "m.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        mapping, problems = check_mapping(path, _taxonomy())
    except MappingError as exc:
        assert str(path) in str(exc)
        return
    assert mapping is None or not any(p.severity == "error" for p in problems)
    assert all(p.message and "\n" not in p.message for p in problems)


@FUZZ
@given(st.data())
def test_a_valid_mapping_with_one_value_replaced_never_crashes(tmp_path_factory, data):
    doc = yaml.safe_load(FULL_MAPPING.read_text(encoding="utf-8"))
    node, key = doc, None
    while True:  # walk down to a random node, then replace it with a random value
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys or (key is not None and data.draw(st.booleans())):
            break
        parent, key = node, data.draw(st.sampled_from(keys))
        node = parent[key]
    if key is not None:
        parent[key] = data.draw(json_values)
    path = tmp_path_factory.mktemp("m") / "m.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        check_mapping(path, _taxonomy())
    except MappingError as exc:
        assert str(path) in str(exc)
