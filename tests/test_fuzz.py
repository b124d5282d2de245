"""Fuzzing with Hypothesis: no exception escapes but the library's own error types."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icvac import TaxonomyError, check_taxonomy, fold, normalise
from icvac.yamlio import parse_yaml

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

yaml_like = st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\t\n ,?%@`0123456789.") + ["\u00e9", "\ufeff"]),
                    max_size=200)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


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
