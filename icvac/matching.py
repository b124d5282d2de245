"""Matching national category values to ICVAC: exact code, exact label, normalised label, fuzzy.

A ``Matcher`` is built once per mapping and taxonomy and caches its answer per distinct
value, so a file of a million rows with forty distinct labels runs the chain forty times.

Fuzzy matching ranks with the one scorer of ``scoring.Scorer`` (the seam: search, draft, review
candidates and this stage all go through it): weighted word evidence over the taxonomy's titles,
synonyms, inclusions and definitions and the mapping's labels, or a close spelling of a whole
title, synonym or label (rapidfuzz's ``token_sort_ratio``, an edit distance insensitive to word
order). A label the scorer abstains on (``Scorer.assess``: junk, missing, negated, not an act,
residual, composite, a tie) is never fuzzy-coded: it stays unclassified, with the reason in
``Match.reason``; one it has no evidence on at all (``unrecognised``) is left to its spelling. The review file's candidates come in the scorer's order; but recode codes
a value on its own only when it is spelled like a title, synonym or label (their edit ratio, the
``Candidate.spelling``, as it always did) and the scorer ranks that branch first. Such a match is
accepted only at or above ``threshold`` and with a margin of ``margin`` points of spelling over the
best candidate pointing at another branch; short
or letterless values ("n/a", "-", "12") and values that mean "unknown" in the taxonomy's
variables are never fuzzy-matched. An edit distance cannot see a negation ("non sexual
assault" scores 87.5 against "sexual assault"), so the value and the matched string must
negate the same words, or the value goes to review. So does a fuzzy match on a residual
category ("other ... not elsewhere classified", a code ending in 9 below level 1): that the
value fits nowhere else is a decision a score cannot make. When a category and its own
sub-category score within the margin of each other, the broader one is coded: it is what
both agree on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .codes import UNCLASSIFIED
from .mapping import Mapping, MappingEntry
from .taxonomy import Taxonomy
from .text import LONGEST_LABEL, code_key, fold, normalise

if TYPE_CHECKING:
    from .scoring import Scorer

__all__ = ["Matcher", "Match", "Candidate", "UNCLASSIFIED", "DEFAULT_THRESHOLD", "DEFAULT_MARGIN",
           "resolve_conditions"]

DEFAULT_THRESHOLD = 85.0
DEFAULT_MARGIN = 5.0
MIN_FUZZY_LETTERS = 4
MATCH_CACHE = 10_000  # distinct values whose match is remembered, the least recently used forgotten first
NEGATED_WORD_SIMILARITY = 80.0  # "sin cotacto" negates "contacto"; "non sexual" does not negate "contact"


@dataclass(frozen=True, slots=True)  # slots: thousands are held in caches at once
class Candidate:
    """A possible coding of a value: the ICVAC targets, the score, and the string that scored."""

    targets: tuple[str, ...]
    score: float
    matched: str
    entry: MappingEntry | None = None
    spelling: float = 0.0  # how close the value is spelled to ``spelled`` (an edit ratio)
    spelled: str = ""

    @property
    def code(self) -> str:
        return "+".join(self.targets) or "no-match"


@dataclass(frozen=True, slots=True)
class Match:
    """How one distinct value was coded. ``targets`` empty means unclassified."""

    method: str
    targets: tuple[str, ...]
    score: float | None = None
    entry: MappingEntry | None = None
    candidates: tuple[Candidate, ...] = ()
    reason: str | None = None  # why the scorer would not code it (``scoring.REASONS``), when it would not

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
        self.matched = 0  # values put through the chain (not found in the cache): for a progress line
        self._suggested: dict[tuple[str, int | None, bool], tuple[Candidate, ...]] = {}
        self._by_code: dict[str, MappingEntry] = {}
        self._by_code_key: dict[str, MappingEntry | None] = {}  # None: two entries' codes are spelled alike
        self._by_label: dict[str, MappingEntry] = {}
        self._by_norm: dict[str, Candidate] = {}
        self._entries: list[MappingEntry] = []
        self._scorer: Scorer | None = None  # built on the first value that reaches the fuzzy stage
        for entry in mapping.entries if mapping else ():
            self._entries.append(entry)
            if entry.source_code:
                self._by_code.setdefault(entry.source_code.strip(), entry)
                key = code_key(entry.source_code)
                if self._by_code_key.setdefault(key, entry) is not entry:
                    self._by_code_key[key] = None
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

    @property
    def scorer(self):
        """The one scorer (``scoring.Scorer``) over the taxonomy and this mapping's labels."""
        if self._scorer is None:
            from .scoring import Scorer, load_vocabulary, vocabulary_path

            self._scorer = Scorer(self.taxonomy, load_vocabulary(str(vocabulary_path(self.taxonomy.path))),
                                  self._entries, spelling_floor=max(0.0, self.threshold - self.margin))
        return self._scorer

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

    def match(self, code: str = "", label: str = "") -> Match:
        """Code one national value: ``code`` from a code column, ``label`` from a label column."""
        key = (code.strip(), label.strip())
        cache = self._cache
        found = cache.pop(key, None)
        if found is None:
            found = self._chain(*key)
            self.matched += 1
            if len(key[0]) + len(key[1]) > LONGEST_LABEL:
                return found  # a narrative: not remembered (the cache counts entries, not bytes)
            if len(cache) >= MATCH_CACHE:  # a file of a million distinct labels: memory stays flat
                del cache[next(iter(cache))]  # the least recently used: a value asked again moves to the end
        cache[key] = found
        return found

    def _chain(self, code: str, label: str) -> Match:
        if code:
            entry = self._by_code.get(code) or self._by_code_key.get(code_key(code))
            if entry is not None:  # the code itself, or as written otherwise (T741 for T74.1, 01 or 1.0 for 1)
                return self._from_entry("exact-code", entry)
        text = label or code
        if text in self._by_label:
            return self._from_entry("exact-label", self._by_label[text])
        known = self._by_norm.get(normalise(text)) if text else None
        if known is not None and (known.targets or known.entry is not None):
            return self._from_entry("normalised-label", known.entry) if known.entry else \
                Match("normalised-label", known.targets, 100.0)
        if not label:  # a code that is not in the mapping is for a person to read: codes are never fuzzy-matched
            return Match(UNCLASSIFIED, ())
        if not self._fuzzable(text):
            return Match(UNCLASSIFIED, (), reason=self.scorer.assess(text).reason if text else None)
        verdict = self.scorer.assess(text)
        # spellings under threshold - margin can neither be coded nor keep a code from being chosen
        ranked = tuple(Candidate(c.targets, c.score, c.matched, c.entry, c.spelling, c.spelled) for c in
                       self.scorer.rank(text, None, spelling_min=max(0.0, self.threshold - self.margin)))
        # "unrecognised" is the scorer knowing no word of the value: its spelling may still decide, as before
        if verdict.reason is not None and verdict.reason != "unrecognised":
            shown = tuple(Candidate(c.targets, c.score, c.matched, c.entry) for c in verdict.candidates)
            return Match(UNCLASSIFIED, (), candidates=shown, reason=verdict.reason)
        # recode codes on its own only what is spelled like a title, synonym or label (as it always did);
        # the scorer's evidence ranks what a person sees and must agree on the branch
        spelled = sorted((Candidate(c.targets, c.spelling, c.spelled, c.entry) for c in ranked if c.spelling),
                         key=lambda c: (-c.score, c.entry is None, len(c.code), c.code))
        chosen = self._fuzzy_choice(text, tuple(spelled)) if self.fuzzy and spelled else None
        if chosen is not None and _branch(self.taxonomy, chosen) != _branch(self.taxonomy, ranked[0]):
            chosen = None
        if chosen is None:
            return Match(UNCLASSIFIED, (), candidates=ranked[:3], reason=verdict.reason)
        return Match("fuzzy", chosen.targets, chosen.score, chosen.entry, ranked[:3])

    def _fuzzy_choice(self, text: str, ranked: tuple[Candidate, ...]) -> Candidate | None:
        """The candidate a fuzzy match may code on its own, or None when a person has to decide."""
        best = ranked[0]
        if best.score < self.threshold:
            return None
        # a near tie with its own sub- or super-category: code the broader, what both agree on; but a
        # taxonomy string does not overrule a mapping entry, a reviewed decision on that very label
        chosen = min((c for c in ranked if c is best or (best.score - c.score < self.margin
                                                         and _nested(c.targets, best.targets)
                                                         and (c.entry is not None or best.entry is None))),
                     key=lambda c: len(c.code))
        # a candidate for a broader or narrower category of the coded branch does not compete
        runner_up = max((c.score for c in ranked if c is not chosen and not _nested(c.targets, chosen.targets)),
                        default=0.0)
        if best.score - runner_up < self.margin:
            return None
        if chosen.entry is None and any(self._residual(t) for t in chosen.targets):
            return None
        negations = self.scorer.vocab.spelling_negations
        if not all(_same_negations(text, c.matched, negations) for c in (best, chosen)):
            return None
        return chosen

    def _residual(self, code: str) -> bool:
        category = self.taxonomy.categories.get(code)
        return category is not None and category.residual

    @staticmethod
    def _from_entry(method: str, entry: MappingEntry) -> Match:
        if entry.review:  # a draft suggestion: its own score, never the 100 of a reviewed decision
            return Match("review", entry.targets, entry.score, entry)
        # a reviewed no-match entry is a decision that the value has no ICVAC category: its own method, so
        # that the records it leaves unclassified are counted as such, not as exact matches
        if entry.relation == "no-match":
            method = "no-match"
        return Match(method, entry.targets, 100.0, entry)

    def _fuzzable(self, text: str) -> bool:
        folded = fold(text)
        letters = sum(ch.isalpha() for ch in folded)
        return letters >= MIN_FUZZY_LETTERS and folded not in self._unknown

    def suggest(self, text: str, limit: int | None = 3, loose: bool = False) -> tuple[Candidate, ...]:
        """The best candidate per distinct target, best first (ties by code): for fuzzy, review and draft.

        ``loose`` is kept for callers of the former two scorers: there is one scorer now. Answers are
        cached per normalised value: a draft's labels often differ only in case, accents or punctuation.
        """
        query = normalise(text)
        if not query:
            return ()
        key = (query, limit, True)
        found = self._suggested.get(key)
        if found is None:
            found = tuple(Candidate(c.targets, c.score, c.matched, c.entry, c.spelling, c.spelled)
                          for c in self.scorer.rank(text, limit))
            if limit is not None:
                if len(self._suggested) >= MATCH_CACHE:
                    del self._suggested[next(iter(self._suggested))]
                self._suggested[key] = found
        return found


def _branch(taxonomy: Taxonomy, candidate: Candidate) -> tuple[str, ...]:
    return tuple(sorted({taxonomy.get(t).level1 for t in candidate.targets}))


def __getattr__(name: str):
    if name == "NEGATIONS":  # the bundled vocabulary's (taxonomy/abstention.yaml), read when first asked
        from .vocabulary import load_vocabulary

        return load_vocabulary().spelling_negations
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _negations(text: str, negations: frozenset[str]) -> list[tuple[str, str]]:
    """The negation words of a text, each with the word it negates: ``[("non", "contact")]``."""
    words = fold(text).split()
    return sorted((w, normalise(words[i + 1]) if i + 1 < len(words) else "")
                  for i, w in enumerate(words) if w in negations)


def _same_negations(value: str, matched: str, negations: frozenset[str]) -> bool:
    """Whether two texts negate the same words, up to a typo in the negated word ("sin cotacto")."""
    from rapidfuzz import fuzz

    a, b = _negations(value, negations), _negations(matched, negations)
    return len(a) == len(b) and all(x[0] == y[0] and fuzz.ratio(x[1], y[1]) >= NEGATED_WORD_SIMILARITY
                                    for x, y in zip(a, b, strict=True))


def _nested(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Single targets on one branch of the tree (``02`` and ``0202``)."""
    return len(a) == len(b) == 1 and (a[0].startswith(b[0]) or b[0].startswith(a[0]))


def resolve_conditions(match: Match, inputs: dict[str, float | str | None]) -> tuple[str, tuple[str, ...]]:
    """The method and targets for one record: the first condition of the entry that holds, if any.

    A value matched fuzzily or through an entry awaiting review keeps that method, so that the record
    still goes to the review file."""
    entry = match.entry
    if entry is not None and entry.conditions:
        for condition in entry.conditions:
            if condition.holds(inputs):
                return ("condition" if match.method not in ("fuzzy", "review") else match.method), \
                    condition.targets
    return match.method, match.targets
