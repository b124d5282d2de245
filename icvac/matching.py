"""Matching national category values to ICVAC: exact code, exact label, normalised label, fuzzy.

A ``Matcher`` is built once per mapping and taxonomy and caches its answer per distinct
value, so a file of a million rows with forty distinct labels runs the chain forty times.

Fuzzy matching scores with rapidfuzz's ``token_sort_ratio`` on ``normalise``d text: an
edit distance insensitive to word order. Partial-match scorers (``WRatio``) were tried
and rejected: they give 90 to "n/a" against "ataque con acido" because two letters
occur in both. A fuzzy match is accepted only at or above ``threshold`` and with a
margin of ``margin`` points over the best candidate pointing at another branch; short
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

from .codes import UNCLASSIFIED
from .mapping import Mapping, MappingEntry
from .taxonomy import Taxonomy
from .text import fold, normalise

__all__ = ["Matcher", "Match", "Candidate", "METHODS", "UNCLASSIFIED", "DEFAULT_THRESHOLD", "DEFAULT_MARGIN",
           "NEGATIONS", "resolve_conditions"]

METHODS = ("exact-code", "exact-label", "normalised-label", "fuzzy", "condition", "review", "no-match",
           "unclassified")
DEFAULT_THRESHOLD = 85.0
DEFAULT_MARGIN = 5.0
MIN_FUZZY_LETTERS = 4
SCORE_CUTOFF = 40.0  # candidates below this are noise, not worth showing a reviewer
NEGATED_WORD_SIMILARITY = 80.0  # "sin cotacto" negates "contacto"; "non sexual" does not negate "contact"
# Folded negation words of English, French, Spanish and Portuguese. Words that are also common
# in positive labels ("other", "less", "lack") are left out: a false alarm only costs a review.
NEGATIONS = frozenset({
    "no", "not", "non", "without", "never", "none",
    "ne", "pas", "sans", "ni", "aucun", "aucune", "jamais",
    "sin", "ningun", "ninguno", "ninguna", "nunca",
    "nao", "sem", "nenhum", "nenhuma",
})


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
        self._suggested: dict[tuple[str, int, bool], tuple[Candidate, ...]] = {}
        self._by_code: dict[str, MappingEntry] = {}
        self._by_label: dict[str, MappingEntry] = {}
        self._by_norm: dict[str, Candidate] = {}
        # Fuzzy choices are the distinct normalised strings; several candidates may share one.
        self._keys: list[str] = []
        self._sorted_keys: list[str] = []
        self._key_candidates: list[list[Candidate]] = []
        self._key_index: dict[str, int] = {}
        self._postings: dict[str, set[int]] = {}  # word -> keys that contain it
        self._repeats: set[int] = set()           # keys with a word twice
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
        i = self._key_index.setdefault(key, len(self._keys))
        if i == len(self._keys):
            self._keys.append(key)
            self._sorted_keys.append(_sorted_tokens(key))
            self._key_candidates.append([])
            words = key.split()
            for word in words:
                self._postings.setdefault(word, set()).add(i)
            if len(set(words)) < len(words):
                self._repeats.add(i)
        self._key_candidates[i].append(candidate)

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
        chosen = self._fuzzy_choice(text, ranked) if self.fuzzy and ranked else None
        if chosen is None:
            return Match(UNCLASSIFIED, (), candidates=ranked[:3])
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
        if not all(_same_negations(text, c.matched) for c in (best, chosen)):
            return None
        return chosen

    def _residual(self, code: str) -> bool:
        category = self.taxonomy.categories.get(code)
        return category is not None and category.level >= 2 and code.endswith("9")

    @staticmethod
    def _from_entry(method: str, entry: MappingEntry) -> Match:
        # a reviewed no-match entry is a decision that the value has no ICVAC category: its own method, so
        # that the records it leaves unclassified are counted as such, not as exact matches
        if not entry.review and entry.relation == "no-match":
            method = "no-match"
        return Match("review" if entry.review else method, entry.targets, 100.0, entry)

    def _fuzzable(self, text: str) -> bool:
        folded = fold(text)
        letters = sum(ch.isalpha() for ch in folded)
        return letters >= MIN_FUZZY_LETTERS and folded not in self._unknown

    def suggest(self, text: str, limit: int | None = 3, loose: bool = False) -> tuple[Candidate, ...]:
        """The best candidate per distinct target, best first (ties by code): for fuzzy, review and draft.

        ``loose`` (for drafts, where every suggestion is reviewed) scores the mean of ``token_set_ratio``
        and ``token_sort_ratio``, which also rewards shared words, so that a long national label finds
        the category whose synonym shares its key words. Answers with a ``limit`` are cached per
        normalised value: a draft's labels often differ only in case, accents or punctuation.
        """
        query = normalise(text)
        if not query:
            return ()
        if limit is None:
            return self._ranked(query, loose, None)
        key = (query, limit, loose)
        found = self._suggested.get(key)
        if found is None:
            found = self._suggested[key] = self._ranked(query, loose, limit)
        return found

    def _ranked(self, query: str, loose: bool, limit: int | None) -> tuple[Candidate, ...]:
        scored = self._loose_scores(query) if loose else self._strict_scores(query)
        scored.sort()  # best first; equal scores in mapping-then-taxonomy order
        best: dict[tuple[str, ...], tuple[float, Candidate]] = {}
        last = None  # the rounded score of the limit-th target found
        for negative, i in scored:
            score = -negative
            if last is not None and round(score, 1) < last:
                break  # nothing further can enter the first `limit` or change their order
            for cand in self._key_candidates[i]:
                known = best.get(cand.targets)
                # mapping entries win ties over taxonomy titles: they carry a reviewed justification
                if known is None or (score == known[0] and cand.entry is not None and known[1].entry is None):
                    best[cand.targets] = (score, cand)
            if last is None and limit is not None and len(best) >= limit:
                last = round(score, 1)
        ranked = [Candidate(c.targets, round(score, 1), c.matched, c.entry) for score, c in best.values()]
        ranked.sort(key=lambda c: (-c.score, c.entry is None, len(c.code), c.code))
        return tuple(ranked[:limit])

    def _strict_scores(self, query: str) -> list[tuple[float, int]]:
        """(-score, key) for every key at or above the cutoff: token_sort_ratio, computed as a plain
        ratio on token-sorted strings (the keys are sorted once)."""
        from rapidfuzz import fuzz, process

        return [(-score, i) for _, score, i in process.extract(
            _sorted_tokens(query), self._sorted_keys, scorer=fuzz.ratio, processor=None,
            score_cutoff=SCORE_CUTOFF, limit=None)]

    def _loose_scores(self, query: str) -> list[tuple[float, int]]:
        """(-score, key) for every key whose ``token_set_ratio`` and mean score reach the cutoff."""
        from rapidfuzz import fuzz, process

        words, sorted_query = query.split(), _sorted_tokens(query)
        shared = set(range(len(self._keys))) if len(set(words)) < len(words) else \
            self._repeats.union(*(self._postings.get(word, ()) for word in words))
        # With no word in common and none repeated, token_set_ratio compares the sorted words as
        # token_sort_ratio does (the same number, up to float rounding): the mean is that one score,
        # from one cheap native scan. Most keys are such; the others get both scorers.
        scored: list[tuple[float, int]] = []
        sort_scores: dict[int, float] = {}
        for _, score, i in process.extract(sorted_query, self._sorted_keys, scorer=fuzz.ratio, processor=None,
                                           score_cutoff=SCORE_CUTOFF, limit=None):
            if i in shared:
                sort_scores[i] = score
            else:
                scored.append((-score, i))
        subset = sorted(shared)
        for _, set_score, j in process.extract(query, [self._keys[i] for i in subset], scorer=fuzz.token_set_ratio,
                                               processor=None, score_cutoff=SCORE_CUTOFF, limit=None):
            i = subset[j]
            sort_score = sort_scores.get(i)
            if sort_score is None:  # under the cutoff, yet it counts in the mean
                sort_score = fuzz.ratio(sorted_query, self._sorted_keys[i])
            score = (set_score + sort_score) / 2
            if score >= SCORE_CUTOFF:
                scored.append((-score, i))
        return scored


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _negations(text: str) -> list[tuple[str, str]]:
    """The negation words of a text, each with the word it negates: ``[("non", "contact")]``."""
    words = fold(text).split()
    return sorted((w, normalise(words[i + 1]) if i + 1 < len(words) else "")
                  for i, w in enumerate(words) if w in NEGATIONS)


def _same_negations(value: str, matched: str) -> bool:
    """Whether two texts negate the same words, up to a typo in the negated word ("sin cotacto")."""
    from rapidfuzz import fuzz

    a, b = _negations(value), _negations(matched)
    return len(a) == len(b) and all(x[0] == y[0] and fuzz.ratio(x[1], y[1]) >= NEGATED_WORD_SIMILARITY
                                    for x, y in zip(a, b))


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
