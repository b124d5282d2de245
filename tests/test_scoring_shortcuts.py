"""The scorer's shortcuts for many distinct labels give the answers of the long way round.

One ranking serves every ``spelling_min`` from the matcher's floor up to EDIT_FLOOR; the common words'
coverage goes only to targets other words cover when it cannot lift a target alone; caches of any size;
``text.quick_fold`` and the ASCII path of ``text.fold``. Labels: the benchmark's distinct-label file.
"""
from __future__ import annotations

import csv
import subprocess
import sys
import unicodedata

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac import abstaining, load_taxonomy, matching, scoring
from icvac.mapping import load_mapping
from icvac.scoring import EDIT_FLOOR, Scorer, load_vocabulary, vocabulary_path
from icvac.text import fold, normalise, quick_fold, quick_normalise

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402

LABELS = 600


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="module")
def entries(taxonomy):
    return load_mapping("gbvims", taxonomy).entries


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "distinct.csv"
    generate.write_distinct_labels(path, LABELS)
    with open(path, encoding="utf-8", newline="") as handle:
        return [row["gbv_type"] for row in csv.DictReader(handle)]


def _scorer(taxonomy, entries, floor=EDIT_FLOOR):
    return Scorer(taxonomy, load_vocabulary(str(vocabulary_path(taxonomy.path))), entries, spelling_floor=floor)


def test_one_ranking_serves_every_spelling_min(taxonomy, entries, labels):
    shared = _scorer(taxonomy, entries, floor=80.0)
    alone = {floor: _scorer(taxonomy, entries, floor) for floor in (70.0, 82.5, EDIT_FLOOR)}
    narrowed = 0
    for label in labels:
        at_floor = shared.rank(label, None, spelling_min=80.0)
        for spelling_min, reference in ((82.5, alone[82.5]), (EDIT_FLOOR, alone[EDIT_FLOOR]), (70.0, alone[70.0])):
            assert shared.rank(label, None, spelling_min) == reference.rank(label, None, spelling_min), label
        assert shared.rank(label, None, 90.0) == alone[EDIT_FLOOR].rank(label, None, 90.0), label  # apart
        narrowed += shared.rank(label, None, EDIT_FLOOR) != at_floor
    assert narrowed  # some spellings between 80 and 85 were there to take away


def test_common_words_cover_only_what_the_others_cover(taxonomy, entries, labels, monkeypatch):
    fast = _scorer(taxonomy, entries)
    ranked = [fast.rank(label, None) for label in labels]
    cover = Scorer._cover
    monkeypatch.setattr(Scorer, "_cover", lambda self, coverage, resolved, weight, known_only=False:
                        cover(self, coverage, resolved, weight))
    slow = _scorer(taxonomy, entries)
    assert [slow.rank(label, None) for label in labels] == ranked


def test_caches_of_any_size_give_the_same_answers(taxonomy, entries, labels, monkeypatch):
    full = matching.Matcher(load_mapping("gbvims", taxonomy), taxonomy)
    answers = [(full.match("", label), full.scorer.assess(label)) for label in labels]
    for module, name in ((scoring, "RANK_CACHE"), (scoring, "WORD_CACHE"), (scoring, "TERMS_CACHE"),
                         (abstaining, "PLAIN_CACHE"), (matching, "MATCH_CACHE")):
        monkeypatch.setattr(module, name, 3)
    small = matching.Matcher(load_mapping("gbvims", taxonomy), taxonomy)
    # twice over: a value asked again after being forgotten is matched again, the same
    for _ in range(2):
        assert [(small.match("", label), small.scorer.assess(label)) for label in labels] == answers
    assert len(small._cache) <= 3 and len(small.scorer._ranked) <= 3


def _fold_by_characters(text: str) -> str:
    """``text.fold`` as it was written before its ASCII path: one character at a time."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = (ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(kept).split())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40) | st.sampled_from(["Violación", "ÉTÉ  ﬁn", "Ⅻ ²", "İstanbul", "straße", "Ǆ"]))
def test_quick_fold_and_the_ascii_path_fold_alike(text):
    assert fold(text) == _fold_by_characters(text)
    assert quick_fold(text) == fold(text)
    assert quick_normalise(text) == normalise(text)


def test_vocabulary_and_abstaining_do_not_import_the_scorer():
    code = ("import sys, icvac.abstaining, icvac.vocabulary; "
            "assert 'icvac.scoring' not in sys.modules, 'abstaining or vocabulary imports scoring'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_recode_negations_are_vocabulary_words(tmp_path):
    bundled = load_vocabulary()
    assert matching.NEGATIONS == bundled.spelling_negations
    assert {"nao", "sem", "sin", "non"} <= bundled.spelling_negations and "nil" not in bundled.spelling_negations
    data = yaml.safe_load(vocabulary_path().read_text(encoding="utf-8"))
    del data["spelling_negations"]
    path = tmp_path / "abstention.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_vocabulary(str(path)).spelling_negations == bundled.negations  # none of its own: the negations
