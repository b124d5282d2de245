"""The matching chain: exact code, exact label, normalised label, fuzzy with threshold and margin."""
from __future__ import annotations

import pytest

from icvac import load_taxonomy
from icvac.mapping import load_mapping
from icvac.matching import Matcher

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def matcher():
    taxonomy = load_taxonomy()
    return Matcher(load_mapping("gbvims", taxonomy), taxonomy)


@pytest.mark.parametrize("label,method,targets", [
    ("Rape", "exact-label", ("0301",)),
    ("Viol", "exact-label", ("0301",)),
    ("  physical ASSAULTS ", "normalised-label", ("0202",)),
    ("Agresion sexual", "normalised-label", ("0302",)),
    ("Violación", "exact-label", ("0301",)),
    ("infanticide", "normalised-label", ("0101",)),       # a taxonomy synonym
    ("Sexual asault", "fuzzy", ("0302",)),
    ("Forced marrige", "fuzzy", ("0901",)),
])
def test_chain(matcher, label, method, targets):
    match = matcher.match(label, label)
    assert (match.method, match.targets) == (method, targets)
    assert match.score is not None


@pytest.mark.parametrize("junk", ["zzzz", "n/a", "see notes", "", "-", "unknown", "Unknown", "not recorded",
                                  "12", "N.A.", "other", "sexual", "abuse", "child", "violence"])
def test_junk_is_never_fuzzy_matched(matcher, junk):
    match = matcher.match(junk, junk)
    assert match.method == "unclassified" and match.targets == ()


def test_fuzzy_score_and_candidates(matcher):
    match = matcher.match("", "Physcal Assault")
    assert match.method == "fuzzy" and 85 <= match.score < 100
    assert match.candidates[0].targets == ("0202",) and len(match.candidates) == 3


def test_no_fuzzy_and_threshold():
    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    assert Matcher(mapping, taxonomy, fuzzy=False).match("", "Sexual asault").method == "unclassified"
    assert Matcher(mapping, taxonomy, threshold=99).match("", "Sexual asault").method == "unclassified"
    assert Matcher(mapping, taxonomy).match("", "Sexual asault").method == "fuzzy"


def test_margin_refuses_ambiguous_values():
    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    # "Sexual assaul" is as close to "sexual assault" (0302) as ... nothing else; a near tie must fail
    strict = Matcher(mapping, taxonomy, margin=30)
    assert strict.match("", "Sexual asault").method == "unclassified"


def test_cached_per_distinct_value(matcher):
    assert matcher.match("", "Forced marrige") is matcher.match("", "Forced marrige")


def test_codes_match_first_and_draft_entries_are_review():
    taxonomy = load_taxonomy()
    mapping = load_mapping(FIXTURES / "recode" / "child_protection.yaml", taxonomy)
    m = Matcher(mapping, taxonomy)
    assert m.match("P1", "Emotional abuse").method == "exact-code"
    assert m.match("P1", "Emotional abuse").targets == ("0202",)
    assert m.match("X9", "").targets == ()  # a no-match entry: known, and unclassified
