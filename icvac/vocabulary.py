"""The scorer's vocabulary and answers: the words it reads (``taxonomy/abstention.yaml``, checked against its
schema), the crude stem both sides of a comparison share, and what it answers (``Scored``, ``Verdict``).

Kept apart from ``scoring`` (the ranking) and ``abstaining`` (when not to code) so that both read the same
words without importing each other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .errors import TaxonomyError
from .resources import bundled_path
from .text import fold

__all__ = ["REASONS", "PHRASE_REASONS", "Scored", "Verdict", "Vocabulary", "load_vocabulary", "stem",
           "vocabulary_path"]

REASONS = ("junk", "missing", "negated", "not-an-act", "residual", "composite", "tie", "unrecognised")
PHRASE_REASONS = ("not-an-act", "residual", "composite")  # checked in this order, after junk, missing, negated


class Scored(NamedTuple):
    """A candidate: the ICVAC targets, the score (0-100), and the string that scored. A named tuple: a
    ranking makes dozens of them per label."""

    targets: tuple[str, ...]
    score: float
    matched: str
    entry: object | None = None
    spelling: float = 0.0  # the best edit ratio of a whole title, synonym or label of the target, alone
    spelled: str = ""      # the string of that edit ratio

    @property
    def code(self) -> str:
        return "+".join(self.targets) or "no-match"


@dataclass(frozen=True)
class Verdict:
    """The assessment of one label: ``reason`` None means it names an act and ``candidates[0]`` codes it."""

    reason: str | None
    candidates: tuple[Scored, ...]
    branches: tuple[str, ...] = ()  # level-1 branches a composite label or a tie points at


@dataclass(frozen=True)
class Vocabulary:
    """``taxonomy/abstention.yaml`` as folded word sets and phrase tuples."""

    stopwords: frozenset[str]
    connectors: frozenset[str]
    negations: frozenset[str]
    spelling_negations: frozenset[str]  # those recode's fuzzy stage compares (``negations`` when not given)
    prefixes: frozenset[str]  # negations bound to the next word: "non-intimate"
    generic: frozenset[str]  # stems of words naming violence without its form, and of context words
    context: frozenset[str]  # stems of context words alone (who, where, how sure)
    phrases: dict[str, tuple[str, ...]]   # reason -> folded phrases
    decisive: dict[str, tuple[str, ...]]  # reason -> folded phrases that abstain on their own
    patterns: tuple[re.Pattern, ...]      # junk patterns on the folded label


def _words(section) -> frozenset[str]:
    return frozenset(w for lang in (section or {}).values() for s in lang for w in fold(str(s)).split())


def _phrases(section) -> tuple[str, ...]:
    folded = {fold(str(s)) for lang in (section or {}).values() for s in lang}
    return tuple(sorted((p for p in folded if p), key=lambda p: (-len(p), p)))  # longest first


def vocabulary_path(taxonomy_path: str | None = None) -> Path:
    """``abstention.yaml`` beside the taxonomy in use, else the bundled one."""
    if taxonomy_path:
        beside = Path(taxonomy_path).with_name("abstention.yaml")
        if beside.is_file():
            return beside
    path = bundled_path("taxonomy", "abstention.yaml")
    if path is None:
        raise TaxonomyError("abstention.yaml", message="the bundled abstention vocabulary is missing; reinstall icvac")
    return path


@lru_cache(maxsize=8)
def load_vocabulary(path: str | None = None) -> Vocabulary:
    """Load and schema-check the abstention vocabulary; TaxonomyError lists every problem."""
    from .yamlio import load_yaml, schema_problems

    file = Path(path) if path else vocabulary_path()
    doc = load_yaml(file, TaxonomyError)
    problems = schema_problems(doc, "abstention.schema.json")
    if problems:
        raise TaxonomyError(str(file), problems)
    data = doc.data
    reasons = data["reasons"]
    connectors = frozenset(fold(c) or c for lang in data["connectors"].values() for c in lang)
    return Vocabulary(
        stopwords=_words(data["stopwords"]), connectors=connectors, negations=_words(data["negations"]),
        spelling_negations=_words(data.get("spelling_negations") or data["negations"]),
        prefixes=_words(data.get("negation_prefixes")),
        generic=frozenset(stem(w) for w in _words(data["generic"]) | _words(data.get("context"))),
        context=frozenset(stem(w) for w in _words(data.get("context"))),
        phrases={r: _phrases(v.get("phrases")) for r, v in reasons.items()},
        decisive={r: _phrases(v.get("decisive")) for r, v in reasons.items()},
        patterns=tuple(re.compile(p) for p in (reasons.get("junk") or {}).get("patterns", ())),
    )


_SUFFIXES = ("ement", "ment", "ation", "ally", "edly", "ing", "ed", "ly", "al", "es", "s", "e")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem shared by both sides of a comparison: "abused", "abuse" -> "abus"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word
