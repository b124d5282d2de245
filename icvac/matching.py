"""Matching national category values to ICVAC: exact code, exact label, normalised label, fuzzy.

A ``Matcher`` is built once per mapping and taxonomy and caches its answer per distinct
value, so a file of a million rows with forty distinct labels runs the chain forty times.

Fuzzy matching scores with rapidfuzz's ``token_sort_ratio`` on ``normalise``d text: an
edit distance insensitive to word order. Partial-match scorers (``WRatio``) were tried
and rejected: they give 90 to "n/a" against "ataque con acido" because two letters
occur in both. A fuzzy match is accepted only at or above ``threshold`` and with a
margin of ``margin`` points over the best candidate pointing at another target; short
or letterless values ("n/a", "-", "12") and values that mean "unknown" in the taxonomy's
variables are never fuzzy-matched.
"""
from __future__ import annotations

from dataclasses import dataclass

from .mapping import Mapping, MappingEntry
from .taxonomy import Taxonomy
from .text import fold, normalise

__all__ = ["Matcher", "Match", "Candidate", "METHODS", "UNCLASSIFIED", "DEFAULT_THRESHOLD", "DEFAULT_MARGIN",
           "resolve_conditions"]

METHODS = ("exact-code", "exact-label", "normalised-label", "fuzzy", "condition", "review", "unclassified")
UNCLASSIFIED = "unclassified"
DEFAULT_THRESHOLD = 85.0
DEFAULT_MARGIN = 5.0
MIN_FUZZY_LETTERS = 4
SCORE_CUTOFF = 40.0  # candidates below this are noise, not worth showing a reviewer


@dataclass(frozen=True)
class Candidate:
    """A possible coding of a value: the ICVAC targets, the score, and the string that scored."""

    targets: tuple[str, ...]
    score: float
    matched: str
    entry: MappingEntry | None = None

    @property
    def code(self) -> str:
        return "+".join(self.targets) or "no-match"


@dataclass(frozen=True)
class Match:
    """How one distinct value was coded. ``targets`` empty means unclassified."""

    method: str
    targets: tuple[str, ...]
    score: float | None = None
    entry: MappingEntry | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def needs_review(self) -> bool:
        return self.method in ("fuzzy", "review", UNCLASSIFIED)


class Matcher:
    """The matching chain for one mapping over one taxonomy, cached per distinct (code, label)."""

    def __init__(self, mapping: Mapping | None, taxonomy: Taxonomy, *, threshold: float = DEFAULT_THRESHOLD,
                 margin: float = DEFAULT_MARGIN, fuzzy: bool = True):
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.margin = margin
        self.fuzzy = fuzzy
        self._cache: dict[tuple[str, str], Match] = {}
        self._by_code: dict[str, MappingEntry] = {}
        self._by_label: dict[str, MappingEntry] = {}
        self._by_norm: dict[str, Candidate] = {}
        self._choices: list[str] = []
        self._choice_candidates: list[Candidate] = []
        for entry in mapping.entries if mapping else ():
            if entry.source_code:
                self._by_code.setdefault(entry.source_code.strip(), entry)
            for label in entry.labels:
                self._by_label.setdefault(label.strip(), entry)
                self._add_choice(Candidate(entry.targets, 100.0, label, entry))
        for cat in taxonomy.categories.values():
            strings = list(cat.title.values()) + [s for syns in cat.synonyms.values() for s in syns]
            for s in dict.fromkeys(strings):
                self._add_choice(Candidate((cat.code,), 100.0, s))
        self._unknown = {fold(s) for var in taxonomy.variables.values() for value in var.values
                         if value.code == "unknown"
                         for s in [*value.title.values(), *(x for syns in value.synonyms.values() for x in syns)]}

    def _add_choice(self, candidate: Candidate) -> None:
        key = normalise(candidate.matched)
        if not key:
            return
        known = self._by_norm.get(key)
        if known is None:
            self._by_norm[key] = candidate
        elif known.entry is None and candidate.entry is None and known.targets != candidate.targets:
            # a taxonomy synonym shared by two categories cannot decide between them
            self._by_norm[key] = Candidate((), 0.0, candidate.matched)
        self._choices.append(key)
        self._choice_candidates.append(candidate)

    def match(self, code: str = "", label: str = "") -> Match:
        """Code one national value: ``code`` from a code column, ``label`` from a label column."""
        key = (code.strip(), label.strip())
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._chain(*key)
        return found

    def _chain(self, code: str, label: str) -> Match:
        if code and code in self._by_code:
            return self._from_entry("exact-code", self._by_code[code])
        text = label or code
        if text in self._by_label:
            return self._from_entry("exact-label", self._by_label[text])
        known = self._by_norm.get(normalise(text)) if text else None
        if known is not None and (known.targets or known.entry is not None):
            return self._from_entry("normalised-label", known.entry) if known.entry else \
                Match("normalised-label", known.targets, 100.0)
        if not self._fuzzable(text):
            return Match(UNCLASSIFIED, ())
        ranked = self.suggest(text, limit=None)
        candidates = ranked[:3]
        if not self.fuzzy or not ranked:
            return Match(UNCLASSIFIED, (), candidates=candidates)
        best = ranked[0]
        # a candidate for a broader or narrower category of the same branch does not compete
        runner_up = max((c.score for c in ranked[1:] if not _nested(c.targets, best.targets)), default=0.0)
        if best.score >= self.threshold and best.score - runner_up >= self.margin:
            return Match("fuzzy", best.targets, best.score, best.entry, candidates)
        return Match(UNCLASSIFIED, (), candidates=candidates)

    @staticmethod
    def _from_entry(method: str, entry: MappingEntry) -> Match:
        return Match("review" if entry.review else method, entry.targets, 100.0, entry)

    def _fuzzable(self, text: str) -> bool:
        folded = fold(text)
        letters = sum(ch.isalpha() for ch in folded)
        return letters >= MIN_FUZZY_LETTERS and folded not in self._unknown

    def suggest(self, text: str, limit: int | None = 3, loose: bool = False) -> tuple[Candidate, ...]:
        """The best candidate per distinct target, best first (ties by code): for fuzzy, review and draft.

        ``loose`` (for drafts, where every suggestion is reviewed) also rewards shared words, so that a
        long national label finds the category whose synonym shares its key words.
        """
        from rapidfuzz import fuzz, process

        query = normalise(text)
        if not query:
            return ()
        best: dict[tuple[str, ...], Candidate] = {}
        for _, score, i in process.extract(query, self._choices, scorer=_loose if loose else fuzz.token_sort_ratio,
                                           processor=None,
                                           limit=None, score_cutoff=SCORE_CUTOFF):
            cand = self._choice_candidates[i]
            known = best.get(cand.targets)
            # mapping entries win ties over taxonomy titles: they carry a reviewed justification
            if known is None or score > known.score or (score == known.score and cand.entry and not known.entry):
                best[cand.targets] = Candidate(cand.targets, round(score, 1), cand.matched, cand.entry)
        ranked = sorted(best.values(), key=lambda c: (-c.score, c.entry is None, len(c.code), c.code))
        return tuple(ranked[:limit])


def _loose(a: str, b: str, **kwargs) -> float:
    from rapidfuzz import fuzz

    return (fuzz.token_set_ratio(a, b, **kwargs) + fuzz.token_sort_ratio(a, b, **kwargs)) / 2


def _nested(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Single targets on one branch of the tree (``02`` and ``0202``)."""
    return len(a) == len(b) == 1 and (a[0].startswith(b[0]) or b[0].startswith(a[0]))


def resolve_conditions(match: Match, inputs: dict[str, float | str | None]) -> tuple[str, tuple[str, ...]]:
    """The method and targets for one record: the first condition of the entry that holds, if any."""
    entry = match.entry
    if entry is not None and entry.conditions:
        for condition in entry.conditions:
            if condition.holds(inputs):
                return ("condition" if match.method != "fuzzy" else "fuzzy"), condition.targets
    return match.method, match.targets
