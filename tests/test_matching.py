"""The matching chain: exact code, exact label, normalised label, fuzzy with threshold and margin."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac import load_taxonomy
from icvac.mapping import load_mapping
from icvac.matching import NEGATIONS, Match, Matcher, resolve_conditions
from icvac.text import normalise

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def matcher():
    taxonomy = load_taxonomy()
    return Matcher(load_mapping("gbvims", taxonomy), taxonomy)


TOY = FIXTURES / "four_levels"


@pytest.fixture(scope="module")
def toy_matcher(tmp_path_factory):
    """The fixture classification's mapping, its face-slap entry given aliases in French and Spanish."""
    taxonomy = load_taxonomy(TOY / "taxonomy.yaml")
    text = (TOY / "mapping.yaml").read_text("utf-8")
    entry = "    source_label: Face slap\n"
    assert entry in text
    path = tmp_path_factory.mktemp("toy") / "mapping.yaml"
    path.write_text(text.replace(entry, entry + "    aliases: [Gifle au visage, Bofetón en la cara]\n"), "utf-8")
    return Matcher(load_mapping(path, taxonomy), taxonomy)


@pytest.mark.parametrize("label,method,targets", [
    ("Face slap", "exact-label", ("1010101",)),
    ("Gifle au visage", "exact-label", ("1010101",)),    # an alias
    ("  face SLAPS ", "normalised-label", ("1010101",)),
    ("Bofetón en la cara", "exact-label", ("1010101",)),
    ("hand strike", "normalised-label", ("101",)),        # a taxonomy synonym
    ("Face slpa", "fuzzy", ("1010101",)),
    ("Insultd", "fuzzy", ("201",)),
])
def test_chain(toy_matcher, label, method, targets):
    match = toy_matcher.match(label, label)
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


def test_a_narrative_in_a_label_cell_is_a_persons_to_read_and_not_remembered(toy_matcher):
    from icvac.text import LONGEST_LABEL, _fold

    slap = toy_matcher.match("", "Face slpa")
    assert slap.method == "fuzzy"
    # the same words drowned in a narrative: not scored, not coded, no candidates, not cached
    narrative = "Face slpa " + "x" * LONGEST_LABEL
    match = toy_matcher.match("", narrative)
    assert (match.method, match.targets, match.candidates, match.reason) == ("unclassified", (), (), "unrecognised")
    assert toy_matcher.match("", narrative) is not match
    assert all(len(key[1]) <= LONGEST_LABEL for key in toy_matcher._cache)
    _fold.cache_clear()
    toy_matcher.match("", "Face slap " + "y" * LONGEST_LABEL)
    assert _fold.cache_info().currsize == 0  # the narrative was folded, not kept
    toy_matcher.match("", "Face slap, once more")
    assert _fold.cache_info().currsize > 0
    # at the limit, the words still count
    assert toy_matcher.match("", "Face slpa" + " " * (LONGEST_LABEL - 9)).method == "fuzzy"


def test_codes_match_first_and_draft_entries_are_review():
    taxonomy = load_taxonomy()
    mapping = load_mapping(FIXTURES / "recode" / "child_protection.yaml", taxonomy)
    m = Matcher(mapping, taxonomy)
    assert m.match("P1", "Emotional abuse").method == "exact-code"
    assert m.match("P1", "Emotional abuse").targets == ("0202",)
    assert m.match("X9", "").targets == ()  # a no-match entry: known, and unclassified


@pytest.mark.parametrize("label", [
    "non sexual assault", "non-sexual abuse", "no physical violence", "physical violence NO",
    "non physical violence", "violencia fisica no", "violencia sexual no", "negligencia no",
    "non sexual abuse of a child",  # "non-contact sexual abuse of a child" negates another word
    "contact sexual abuse",          # the matched "non-contact sexual abuse" denies the value
])
def test_negation_is_never_fuzzy_matched_away(matcher, label):
    match = matcher.match("", label)
    assert (match.method, match.targets) == ("unclassified", ())
    assert match.candidates  # the reviewer still sees the near misses


@pytest.mark.parametrize("label,method,targets", [
    ("non-contact sexual abuse", "normalised-label", ("0303",)),  # a taxonomy synonym that negates
    ("Non contact sexual abuse", "normalised-label", ("0303",)),
    ("Abuso sexual sin contacto", "normalised-label", ("0303",)),
    ("non-contact sexual abus", "fuzzy", ("0303",)),              # both negate "contact"
    ("Non-contaact sexual abuse of a child", "fuzzy", ("0303",)),  # a typo in the negated word
    ("Abuso sexual sin cotacto de un niño", "fuzzy", ("0303",)),
])
def test_negation_in_the_matched_string_is_kept(matcher, label, method, targets):
    match = matcher.match("", label)
    assert (match.method, match.targets) == (method, targets)


@pytest.mark.parametrize("label,narrow,broad", [
    ("Exploitation sexuelle d'un enfant case", "03049", "0304"),
    ("trata infantil explotacion sexual", "03044", "0304"),
    ("agression physique grave d un", "02021", "0202"),
    ("physical violence case", "0209", "02"),
])
def test_near_tie_with_a_subcategory_codes_the_broader(matcher, label, narrow, broad):
    match = matcher.match("", label)
    codes = [c.code for c in match.candidates]
    assert narrow in codes and broad in codes
    assert (match.method, match.targets) == ("fuzzy", (broad,))
    # the score of a fuzzy code is its spelling's (an edit ratio); the candidates rank by the scorer's evidence
    assert match.score == next(c.spelling for c in match.candidates if c.code == broad)


def test_a_taxonomy_title_does_not_broaden_a_mapping_entry():
    taxonomy = load_taxonomy()
    m = Matcher(load_mapping(FIXTURES / "recode" / "child_protection.yaml", taxonomy), taxonomy)
    match = m.match("", "Physcal abuse")  # "Physical abuse": the entry's 0202 and a synonym of 02, tied
    assert [c.code for c in match.candidates[:2]] == ["0202", "02"]
    assert (match.method, match.targets) == ("fuzzy", ("0202",)) and match.entry is not None


@pytest.mark.parametrize("label,residual", [
    ("Psychological violense", "0409"),
    ("other physical violenc", "0209"),
    ("Other neglect of a chld not elsewhere classified", "0509"),
])
def test_residual_category_is_never_fuzzy_matched(matcher, label, residual):
    match = matcher.match("", label)
    assert (match.method, match.targets) == ("unclassified", ())
    assert residual in [c.code for c in match.candidates]


def test_residual_category_from_a_mapping_entry_is_fuzzy_matched():
    taxonomy = load_taxonomy()
    m = Matcher(load_mapping("iccs", taxonomy), taxonomy)
    match = m.match("", "Other acts leading to death or intending to cause deth")
    assert (match.method, match.targets) == ("fuzzy", ("0109",)) and match.entry is not None


def test_residual_category_from_an_exact_label_is_coded(matcher):
    assert matcher.match("", "Other physical violence").targets == ("0209",)


_LABELS = sorted({normalise(s) for cat in load_taxonomy().categories.values()
                  for s in [*cat.title.values(), *(x for syns in cat.synonyms.values() for x in syns)]})


@settings(max_examples=150, deadline=None)
@given(label=st.sampled_from(_LABELS), negation=st.sampled_from(sorted(NEGATIONS)), before=st.booleans())
def test_negating_any_label_never_gives_a_fuzzy_match(matcher, label, negation, before):
    value = f"{negation} {label}" if before else f"{label} {negation}"
    assert matcher.match("", value).method != "fuzzy"


@settings(max_examples=150, deadline=None)
@given(label=st.sampled_from(_LABELS), at=st.integers(min_value=0, max_value=200))
def test_fuzzy_matches_never_code_a_residual_category(matcher, label, at):
    at %= len(label)
    match = matcher.match("", label[:at] + label[at + 1:])  # one letter dropped
    if match.method == "fuzzy" and match.entry is None:
        assert not (len(match.targets[0]) > 2 and match.targets[0].endswith("9"))


def test_conditions_keep_the_review_method(tmp_path):
    taxonomy = load_taxonomy()
    text = (FIXTURES / "recode" / "child_protection.yaml").read_text(encoding="utf-8")
    marked = text.replace("    justification: test entry with a condition\n",
                          "    justification: test entry with a condition\n    review: true\n")
    assert marked != text
    (tmp_path / "m.yaml").write_text(marked, encoding="utf-8")
    match = Matcher(load_mapping(tmp_path / "m.yaml", taxonomy), taxonomy).match("S1", "")
    assert match.method == "review"
    assert resolve_conditions(match, {"victim_age": 10.0}) == ("review", ("03012",))
    assert resolve_conditions(match, {"victim_age": 15.0}) == ("review", ("03011",))
    coded = Match("exact-code", match.targets, 100.0, match.entry)
    assert resolve_conditions(coded, {"victim_age": 10.0}) == ("condition", ("03012",))


def test_suggest_is_cached_per_normalised_value():
    taxonomy = load_taxonomy()
    m = Matcher(None, taxonomy)
    assert m.suggest("Viol d'un enfant", loose=True) is m.suggest("VIOL D UN ENFANT", loose=True)
    assert m.suggest("Viol", limit=None) == m.suggest("viol", limit=None)


def _entries(name):
    taxonomy = load_taxonomy()
    mapping = load_mapping(name, taxonomy)
    return Matcher(mapping, taxonomy), [e for e in mapping.entries if e.relation != "no-match"]


_BUNDLED = {name: _entries(name) for name in ("gbvims", "iccs")}
_CASINGS = st.sampled_from([str, str.upper, str.lower, str.title, lambda s: f"  {s}  ",
                            lambda s: s.replace(" ", "   ")])


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(_BUNDLED)), pick=st.integers(min_value=0), casing=_CASINGS)
def test_an_exact_label_recodes_to_its_own_target(name, pick, casing):
    matcher, entries = _BUNDLED[name]
    entry = entries[pick % len(entries)]
    for label in entry.labels:
        match = matcher.match("", casing(label))
        assert match.targets == entry.targets, (label, match)
        assert match.method in ("exact-label", "normalised-label")
    if entry.source_code:
        match = matcher.match(entry.source_code, "")
        assert (match.method, match.targets) == ("exact-code", entry.targets)
