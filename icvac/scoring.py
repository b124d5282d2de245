"""The one scorer: how well a national label fits each ICVAC category, and when not to code it at all.

``taxonomy search``, ``mapping draft``, the review file's candidates and recode's fuzzy stage all rank
through ``Scorer`` (``matching.Matcher`` holds one), so the way labels are scored changes in one place.

A label is compared with every category's titles, synonyms, inclusions and definition in every
language (and with a mapping's own labels). Words are weighed by how much they tell: a word found in
many categories ("child", "violence", "against") weighs little, a word of one category ("incest")
much (an inverse category frequency). Words are stemmed crudely ("abused" ~ "abuse") and a word that
is not in the vocabulary is read as the vocabulary words one typo away (a letter dropped, added,
changed, or two swapped; two typos for words of ten letters or more), so "Physcal Assault" weighs
as "physical assault". A phrase's evidence is the weighted Dice overlap of its words with the
label's; a category's coverage (the share of the label's words any of its phrases, or its narrower
categories' phrases, hold) counts a little less; a close spelling of a whole title, synonym or
inclusion (an edit ratio of 88 or more) counts as well, as recode's fuzzy stage always did.

Before ranking, ``assess`` decides whether the label names an act of violence at all. The words and
patterns behind that decision are data (``taxonomy/abstention.yaml``): a label is ``junk``,
``missing``, ``negated``, ``not-an-act``, ``residual`` or ``composite`` when such a phrase is in it and
what is left of the label carries no evidence of an act; a few ``decisive`` phrases abstain whatever
else the label says ("by unspecified means", "unfounded", "multiple"). Ranked labels can still be
``composite`` (parts joined by "or"/"and" pointing at different level-1 branches), a ``tie`` (two
branches score the same: both are shown, none is chosen) or ``unrecognised`` (no evidence).
"""
from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .errors import TaxonomyError
from .resources import bundled_path
from .text import _singular, fold, normalise

__all__ = ["Scorer", "Scored", "Verdict", "Vocabulary", "REASONS", "load_vocabulary", "scorer_for"]

REASONS = ("junk", "missing", "negated", "not-an-act", "residual", "composite", "tie", "unrecognised")
PHRASE_REASONS = ("not-an-act", "residual", "composite")  # checked in this order, after junk, missing, negated
EDIT_FLOOR = 85.0      # an edit ratio below this is a different phrase, not a typo of it
EVIDENCE_MIN = 50.0    # below this, what a label says is not evidence of any act
REMAINDER_MIN = 60.0   # what is left beside a non-act phrase must name an act clearly
SUGGEST_MIN = 40.0     # candidates below this are noise, not worth showing
SPELLED_OUT = 99.5     # an edit ratio this high: the label is a title, synonym or label as written
TIE = 0.05             # scores this close are equal
SOURCE_FACTOR = {"title": 1.0, "synonym": 1.0, "label": 1.0, "inclusion": 0.95, "definition": 0.75}
SPLIT_PART_MIN = 60.0  # a part of a composite label must name its branch this clearly
COVER_FACTOR = 0.9     # a target covering the label's words through several phrases, below one phrase saying it
RANK_CACHE = 2_000      # distinct labels whose ranking is remembered: those being assessed, and some
WORD_CACHE = 20_000     # distinct words whose reading (a typo of which taxonomy word) is remembered
TERMS_CACHE = 4_096     # texts whose words are remembered: those of the labels being assessed
SEED_MIN = 0.5         # a word in most categories does not by itself make a phrase a candidate
UNKNOWN_WEIGHT = 1.5   # a word the taxonomy does not know: it dilutes the evidence, a middling amount
ANCESTOR_FACTOR = 0.95  # a narrower category's words speak for its broader one, a little less


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
    prefixes: frozenset[str]  # negations bound to the next word: "non-intimate"
    generic: frozenset[str]  # stems of words naming violence without its form, and of context words
    context: frozenset[str]  # stems of context words alone (who, where, how sure)
    phrases: dict[str, tuple[str, ...]]   # reason -> folded phrases
    decisive: dict[str, tuple[str, ...]]  # reason -> folded phrases that abstain on their own
    patterns: tuple[re.Pattern, ...]      # junk patterns on the folded label


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """``text.fold``, without its per-character Unicode work for plain ASCII (most labels): the same result."""
    if text.isascii():
        return " ".join(_NON_ALNUM.sub(" ", text.lower()).split())
    return fold(text)


def _normalise(text: str) -> str:
    """``text.normalise`` by way of ``_fold``."""
    if text.isascii():
        return " ".join(_singular(t) for t in _fold(text).split())
    return normalise(text)


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
        prefixes=_words(data.get("negation_prefixes")),
        generic=frozenset(_stem(w) for w in _words(data["generic"]) | _words(data.get("context"))),
        context=frozenset(_stem(w) for w in _words(data.get("context"))),
        phrases={r: _phrases(v.get("phrases")) for r, v in reasons.items()},
        decisive={r: _phrases(v.get("decisive")) for r, v in reasons.items()},
        patterns=tuple(re.compile(p) for p in (reasons.get("junk") or {}).get("patterns", ())),
    )


_SUFFIXES = ("ement", "ment", "ation", "ally", "edly", "ing", "ed", "ly", "al", "es", "s", "e")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A crude stem shared by both sides of a comparison: "abused", "abuse" -> "abus"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class _Phrase:
    targets: tuple[str, ...]
    text: str
    stems: dict[str, float]  # stem -> weight
    weight: float
    factor: float
    entry: object | None
    long: bool             # a definition: judged by how much of the label it covers
    ancestors: tuple[tuple[str, ...], ...] = ()  # broader targets its words also speak for


class Scorer:
    """Ranks ICVAC categories (and a mapping's entries) for a label, or abstains with a reason."""

    def __init__(self, taxonomy, vocabulary: Vocabulary, entries=(), spelling_floor: float = EDIT_FLOOR):
        self.taxonomy = taxonomy
        # the lowest ``spelling_min`` ranked once for every spelling_min up to EDIT_FLOOR (recode asks for
        # two: its own, threshold - margin, and assess's EDIT_FLOOR)
        self.spelling_floor = min(spelling_floor, EDIT_FLOOR)
        self._stop = vocabulary.stopwords | vocabulary.connectors
        self._terms_of: dict[str, tuple[tuple[str, str], ...]] = {}
        self.vocab = vocabulary
        texts: list[tuple[tuple[str, ...], str, str, object | None]] = []
        for entry in entries:
            for label in entry.labels:
                texts.append((entry.targets, label, "label", entry))
        for cat in taxonomy.categories.values():
            for s in cat.title.values():
                texts.append(((cat.code,), s, "title", None))
            for syns in cat.synonyms.values():
                texts += [((cat.code,), s, "synonym", None) for s in syns]
            texts += [((cat.code,), s, "inclusion", None) for s in cat.inclusions]
            texts.append(((cat.code,), cat.definition, "definition", None))
        self._idf = self._weights(taxonomy)
        self._max_weight = math.log(len(taxonomy.categories) + 1)
        self._phrases: list[_Phrase] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}  # stem -> (phrase, the stem's weight there)
        self._shares: dict[str, dict[tuple[str, ...], float]] = {}  # stem -> target -> best phrase factor
        self._words: set[str] = set()  # every normalised word of the phrases, for reading typos
        self._edit_keys: list[str] = []  # token-sorted normalised titles, synonyms and labels
        self._edit_owner: list[int] = []
        self._edit_sorted: tuple[list[str], list[int], list[int]] | None = None
        for targets, text, source, entry in texts:
            self._add(targets, text, source, entry)
        # a typo is never read as a word that only says "other", "unknown" or "not" ("mother" is not "other")
        plain = {_stem(w) for reason in ("residual", "missing", "junk") for p in self.vocab.phrases.get(reason, ())
                 for w in p.split()} | {_stem(w) for w in self.vocab.negations | self.vocab.stopwords}
        self._by_length: dict[int, list[str]] = {}
        for w in sorted(w for w in self._words if _stem(w) not in plain):
            self._by_length.setdefault(len(w), []).append(w)
        self._near: dict[tuple[int, int], list[str]] = {}  # (length, edits) -> the words a typo may be of
        self._longest = max(self._by_length, default=0)
        self._resolved: dict[str, tuple[tuple[str, float], ...]] = {}
        self._share_list = {stem: tuple(shares.items()) for stem, shares in self._shares.items()}
        # the phrases' own fields as lists, and each stem's phrases as a dict: _scores runs per distinct label
        self._held = {stem: dict(pairs) for stem, pairs in self._postings.items()}
        self._long = [p.long for p in self._phrases]
        self._p_weights = [p.weight for p in self._phrases]
        self._factors = [p.factor for p in self._phrases]
        self._targets = [p.targets for p in self._phrases]
        self._ranked: dict[str, tuple[tuple[Scored, ...], tuple[float, ...]]] = {}  # at spelling_floor
        self._ranked_apart: dict[tuple[str, float], tuple[Scored, ...]] = {}  # other spelling_min
        self._order: dict[tuple[str, ...], tuple] = {}
        self._plain_words = sorted({w for phrases in (*self.vocab.phrases.values(), *self.vocab.decisive.values())
                                    for p in phrases for w in p.split()} | self.vocab.negations)
        self._long_plain_words = [w for w in self._plain_words if len(w) >= 5]  # "vol" is too short to guess
        self._plain_fixes: dict[str, str] = {}
        # one alternation per reason, longest phrase first, each phrase whole words of the padded label
        self._patterns = {reason: re.compile("(?<= )(?:" + "|".join(map(re.escape, phrases)) + ")(?= )")
                          for reason, phrases in self.vocab.phrases.items() if phrases}
        self._decisive = {reason: re.compile("(?<= )(?:" + "|".join(map(re.escape, phrases)) + ")(?= )")
                          for reason, phrases in self.vocab.decisive.items() if phrases}

    # ------------------------------------------------------------------ building

    def _terms(self, text: str) -> tuple[tuple[str, str], ...]:
        """(word, stem) of the words of ``text`` that are neither stopwords, connectors nor single letters (the
        "n" of "n'ayant"). Remembered for a while: assessing one label asks this of the same texts again."""
        found = self._terms_of.get(text)
        if found is None:
            stop = self._stop
            found = tuple([(w, _stem(w)) for w in _normalise(text).split() if w not in stop and len(w) > 1])
            if len(self._terms_of) >= TERMS_CACHE:
                self._terms_of.clear()
            self._terms_of[text] = found
        return found

    def _content(self, text: str) -> list[str]:
        return [stem for _, stem in self._terms(text)]

    def _weights(self, taxonomy) -> dict[str, float]:
        df: dict[str, int] = {}
        for cat in taxonomy.categories.values():
            words = [*cat.title.values(), *(s for syns in cat.synonyms.values() for s in syns),
                     *cat.inclusions, cat.definition]
            for stem in {s for text in words for s in self._content(text)}:
                df[stem] = df.get(stem, 0) + 1
        n = len(taxonomy.categories)
        return {stem: max(0.05, math.log((n + 1) / (count + 0.5))) for stem, count in df.items()}

    def _weight(self, stem: str) -> float:
        return 0.05 if stem in self.vocab.generic else self._idf.get(stem, self._max_weight)

    def _add(self, targets, text: str, source: str, entry) -> None:
        stems: dict[str, float] = {}
        words = text
        if source in ("inclusion", "definition"):
            # "forced ingestion not amounting to serious assault": what follows a negation is not this category
            folded = fold(text).split()
            cut = next((k for k, w in enumerate(folded) if w in self.vocab.negations), len(folded))
            words = " ".join(folded[:cut])
        for word, stem in self._terms(words):
            stems[stem] = self._weight(stem)
            self._words.add(word)
        if not stems:
            return
        i = len(self._phrases)
        ancestors = () if entry is not None else tuple(
            (c.code,) for c in self.taxonomy.ancestors(targets[0])[:-1])
        self._phrases.append(_Phrase(targets, text, stems, sum(stems.values()), SOURCE_FACTOR[source], entry,
                                     source == "definition", ancestors))
        phrase = self._phrases[i]
        for stem, weight in stems.items():
            self._postings.setdefault(stem, []).append((i, weight))
            shares = self._shares.setdefault(stem, {})
            for owner, share in ((targets, phrase.factor), *((a, phrase.factor * ANCESTOR_FACTOR)
                                                              for a in ancestors)):
                if share > shares.get(owner, 0.0):
                    shares[owner] = share
        if source != "definition":
            self._edit_keys.append(" ".join(sorted(normalise(text).split())))
            self._edit_owner.append(i)

    # ------------------------------------------------------------------ ranking

    def _resolve(self, word: str) -> tuple[tuple[str, float], ...]:
        """The vocabulary stems a label's word stands for, with a similarity: its own, or those of the
        nearest words one typo away (two for long words: a letter dropped, added, changed or two swapped)."""
        found = self._resolved.get(word)
        if found is None:
            stem = _stem(word)
            if stem in self._postings or stem in self.vocab.generic:
                found = ((stem, 1.0),)
            elif len(word) >= 3 and not word.isdigit():
                from rapidfuzz import process
                from rapidfuzz.distance import OSA

                most = 1 if len(word) < 10 else 2  # two edits turn "stealing" into "stalking"
                # words more letters apart than the distance allowed cannot be that close
                near = self._near.get((len(word), most))
                if near is None:
                    near = [w for n in range(len(word) - most, len(word) + most + 1) for w in self._by_length.get(n, ())]
                    if len(word) <= self._longest:  # longer words have no neighbours: not worth remembering
                        self._near[len(word), most] = near
                hits = process.extract(word, near, scorer=OSA.distance, processor=None, score_cutoff=most, limit=8)
                nearest = min((d for _, d, _ in hits), default=None)
                fixes: dict[str, float] = {}
                for hit, distance, _ in hits:
                    if distance == nearest:
                        sim = 1.0 - distance / max(len(word), len(hit))
                        fixes[_stem(hit)] = max(sim, fixes.get(_stem(hit), 0.0))
                found = tuple(fixes.items())
            else:
                found = ()
            if len(self._resolved) >= WORD_CACHE:  # a million distinct labels bring words without end
                self._resolved.clear()
            self._resolved[word] = found
        return found

    def rank(self, text: str, limit: int | None = 3, spelling_min: float = EDIT_FLOOR) -> tuple[Scored, ...]:
        """The best candidate per distinct target, best first (ties: residual categories last, then the
        broader).

        A target scores the best of its phrases, or its coverage of the label: the weighted share of the
        label's words that any of its phrases holds ("neglect or deprivation of necessities" is covered by
        "neglect" and "deprivation of care" together), a little below a phrase that says it all.
        ``spelling`` is only given at or above ``spelling_min``. Answers are cached per normalised label."""
        query = _normalise(text)
        if not query:
            return ()
        floor = self.spelling_floor
        if not floor <= spelling_min <= EDIT_FLOOR:  # the edit ratios counted in the scores differ: apart
            key = (query, spelling_min)
            ranked = self._ranked_apart.get(key)
            if ranked is None:
                if len(self._ranked_apart) >= RANK_CACHE:
                    self._ranked_apart.clear()
                ranked = self._ranked_apart[key] = self._rank(query, spelling_min)[0]
            return ranked[:limit]
        found = self._ranked.get(query)
        if found is None:
            if len(self._ranked) >= RANK_CACHE:
                self._ranked.clear()
            found = self._ranked[query] = self._rank(query, floor)
        ranked, edits = found
        if spelling_min > floor and any(0.0 < edit < spelling_min for edit in edits):
            # the same ranking; a spelling under spelling_min is not given
            ranked = tuple(c._replace(spelling=0.0, spelled="") if 0.0 < edit < spelling_min else c
                           for c, edit in zip(ranked, edits))
        return ranked[:limit]

    def _rank(self, query: str, spelling_min: float) -> tuple[tuple[Scored, ...], tuple[float, ...]]:
        """The ranking, and the unrounded edit ratio behind each candidate's ``spelling``."""
        phrase_scores, coverage, edits = self._scores(query, spelling_min)
        spelling: dict[tuple[str, ...], tuple[float, str]] = {}
        for i, edit in edits.items():
            phrase = self._phrases[i]
            # recode's own fuzzy codes rest on titles, synonyms and labels alone, as they always did
            if phrase.factor == 1.0 and edit > spelling.get(phrase.targets, (0.0, ""))[0]:
                spelling[phrase.targets] = (edit, phrase.text)
        best: dict[tuple[str, ...], tuple[float, _Phrase]] = {}
        phrases, targets_of = self._phrases, self._targets
        for i, score in phrase_scores.items():
            known = best.get(targets_of[i])
            if known is None or score > known[0] or (score == known[0] and phrases[i].entry is not None
                                                     and known[1].entry is None):
                best[targets_of[i]] = (score, phrases[i])
        ranked = []
        for targets, (score, phrase) in best.items():
            score = max(score, COVER_FACTOR * coverage.get(targets, 0.0))
            if score >= SUGGEST_MIN:
                edit, spelled = spelling.get(targets, (0.0, ""))
                ranked.append((Scored(targets, round(score, 1), phrase.text, phrase.entry, round(edit, 1), spelled),
                               edit))
        for targets, cover in coverage.items():  # a broader category covered through its narrower ones
            score = COVER_FACTOR * cover
            if targets not in best and score >= SUGGEST_MIN:
                ranked.append((Scored(targets, round(score, 1), self.taxonomy.get(targets[0]).title_in("en")), 0.0))
        # on equal scores a mapping's entry first, a residual "other … n.e.c." category last, then the broader
        order = self._order
        ranked.sort(key=lambda c: (-c[0].score, c[0].entry is None,
                                   order.get(c[0].targets) or self._order_of(c[0].targets)))
        return tuple(c for c, _ in ranked), tuple(edit for _, edit in ranked)

    def _scores(self, query: str, spelling_min: float = EDIT_FLOOR):
        """Each phrase's score, each target's coverage of the label (0-100), and the edit ratios at or above
        ``spelling_min`` of the titles, synonyms and labels."""
        terms = []  # (resolved stems, weight) per distinct stem of the label
        for word, _ in dict(((stem, (word, stem)) for word, stem in self._terms(query))).values():
            resolved = self._resolve(word)
            terms.append((resolved, max((self._weight(s) for s, _ in resolved), default=UNKNOWN_WEIGHT)))
        scores: dict[int, float] = {}
        coverage: dict[tuple[str, ...], float] = {}
        q_weight = sum(w for _, w in terms)
        q_side: dict[int, float] = {}
        p_side: dict[int, float] = {}
        weak = []
        postings = self._postings
        for resolved, weight in terms:
            if weight < SEED_MIN:
                weak.append((resolved, weight))  # "child", "violence": added below to phrases found otherwise
                continue
            if len(resolved) == 1:  # the usual case: the word itself, or one fix of its typo
                stem, sim = resolved[0]
                q_add = weight * sim
                for i, p_weight in postings.get(stem, ()):
                    q_side[i] = q_side.get(i, 0.0) + q_add
                    p_side[i] = p_side.get(i, 0.0) + p_weight * sim
            else:
                seen: dict[int, tuple[float, float]] = {}
                for s, sim in resolved:
                    for i, p_weight in postings.get(s, ()):
                        if sim > seen.get(i, (0.0, 0.0))[0]:
                            seen[i] = (sim, p_weight)
                for i, (sim, p_weight) in seen.items():
                    q_side[i] = q_side.get(i, 0.0) + weight * sim
                    p_side[i] = p_side.get(i, 0.0) + p_weight * sim
            self._cover(coverage, resolved, weight)
        # a target that only the common words cover cannot reach SUGGEST_MIN when they weigh little enough
        # beside the rest: the common words then add to the targets the others cover (the same sums)
        known_only = COVER_FACTOR * 100.0 * sum(w for _, w in weak) < SUGGEST_MIN * q_weight * (1 - 1e-9)
        for resolved, weight in weak:
            for s, sim in resolved[:1]:  # a word this common is not worth a second reading of its typo
                q_add = weight * sim
                # the phrases found otherwise that hold the word: through the shorter of the two lists
                held = self._held.get(s, {})
                if len(held) < len(q_side):
                    pairs = [(i, p_weight) for i, p_weight in held.items() if i in q_side]
                else:
                    pairs = [(i, held[i]) for i in q_side if i in held]
                for i, p_weight in pairs:
                    q_side[i] += q_add
                    p_side[i] += p_weight * sim
            self._cover(coverage, resolved, weight, known_only)
        long, p_weights, factors = self._long, self._p_weights, self._factors
        double = 2 * q_weight
        for i, q in q_side.items():
            if long[i] and p_weights[i] > double:
                evidence = q / q_weight  # a long definition: how much of the label it covers
            else:
                evidence = (q + p_side[i]) / (q_weight + p_weights[i])
            scores[i] = 100.0 * evidence * factors[i]
        if q_weight:
            coverage = {t: 100.0 * c / q_weight for t, c in coverage.items()}
        edits = dict(self._edit_scores(query, spelling_min))
        for i, edit in edits.items():
            # an inclusion spelled out is a little less than a title or synonym: "rape" is 0301 before 03
            edit_score = edit * self._phrases[i].factor
            if edit >= EDIT_FLOOR and edit_score > scores.get(i, 0.0):
                scores[i] = edit_score
        return scores, coverage, edits

    def _cover(self, coverage: dict, resolved, weight: float, known_only: bool = False) -> None:
        """Add one label word to each target's coverage: its best share among the target's phrases;
        ``known_only``: to the targets already covered only."""
        if len(resolved) == 1:
            stem, sim = resolved[0]
            add = weight * sim
            if known_only:
                shares = self._shares.get(stem, {})
                for targets in [t for t in coverage if t in shares]:
                    coverage[targets] += add * shares[targets]
                return
            for targets, share in self._share_list.get(stem, ()):
                coverage[targets] = coverage.get(targets, 0.0) + add * share
            return
        shares: dict[tuple[str, ...], float] = {}
        for stem, sim in resolved:
            for targets, share in self._share_list.get(stem, ()):
                if sim * share > shares.get(targets, 0.0):
                    shares[targets] = sim * share
        for targets, share in shares.items():
            if not known_only or targets in coverage:
                coverage[targets] = coverage.get(targets, 0.0) + weight * share

    def _edit_scores(self, query: str, spelling_min: float):
        """(phrase, edit ratio) at or above ``spelling_min`` for the titles, synonyms and labels. A ratio of
        r needs lengths within r/(200-r) of each other: only those keys are compared."""
        from rapidfuzz import fuzz, process

        if self._edit_sorted is None:
            order = sorted(range(len(self._edit_keys)), key=lambda j: len(self._edit_keys[j]))
            self._edit_sorted = ([self._edit_keys[j] for j in order], [self._edit_owner[j] for j in order],
                                 [len(self._edit_keys[j]) for j in order])
        keys, owners, lengths = self._edit_sorted
        key = " ".join(sorted(query.split()))
        low = spelling_min / (200.0 - spelling_min)
        first = bisect.bisect_left(lengths, math.floor(len(key) * low))
        last = bisect.bisect_right(lengths, math.ceil(len(key) / low)) if low else len(keys)
        for _, score, j in process.extract(key, keys[first:last], scorer=fuzz.ratio, processor=None,
                                           score_cutoff=spelling_min, limit=None):
            yield owners[first + j], score

    # ------------------------------------------------------------------ abstaining

    def assess(self, text: str, limit: int = 3) -> Verdict:
        """Whether ``text`` names an act: a reason to abstain, or the ranked candidates."""
        folded = self._corrected(_fold(text))
        padded = f" {folded} "
        vocab = self.vocab
        if not folded or any(p.search(folded) for p in vocab.patterns) or self._found(padded, "junk"):
            return Verdict("junk", ())
        for reason in PHRASE_REASONS:
            if self._found(padded, reason, self._decisive):
                return Verdict(reason, (), self._branches(self.rank(text)) if reason == "composite" else ())
        if self._abstains(padded, "missing"):
            return Verdict("missing", ())
        ranked = self.rank(text, None)
        if ranked and ranked[0].spelling >= SPELLED_OUT:
            return self._decided(ranked, limit)  # a title, synonym or label as written: it says what it is
        words = folded.split()
        if self._negated(words, ranked):
            return Verdict("negated", ranked[:limit])
        for reason in PHRASE_REASONS:
            if self._abstains(padded, reason):
                return Verdict(reason, ranked[:limit], self._branches(ranked) if reason == "composite" else ())
        if self._generic_only(folded, empty=False):
            # "child abuse" says violence without its form; "(adult)", "- (repeat)" say nothing at all
            if all(s in self.vocab.context for s in self._content(folded) if s not in vocab.negations):
                return Verdict("junk", ())
            return Verdict("composite", ranked[:limit], self._branches(ranked))
        if not ranked or ranked[0].score < EVIDENCE_MIN:
            return Verdict("unrecognised", ranked[:limit])
        parts = self._split_branches(text, ranked[0])
        if len(parts) > 1:
            return Verdict("composite", ranked[:limit], parts)
        return self._decided(ranked, limit)

    def _decided(self, ranked: tuple[Scored, ...], limit: int) -> Verdict:
        """The best candidate codes the label, unless another branch scores the same: a tie."""
        top = ranked[0]
        rival = next((c for c in ranked[1:] if self._branch(c) != self._branch(top)), None)
        if rival is not None and top.score - rival.score < TIE:
            return Verdict("tie", ranked[:limit], (self._branch(top), self._branch(rival)))
        return Verdict(None, ranked[:limit])

    def _found(self, padded: str, reason: str, patterns=None) -> bool:
        pattern = (self._patterns if patterns is None else patterns).get(reason)
        return pattern is not None and pattern.search(padded) is not None

    def _corrected(self, folded: str) -> str:
        """``folded`` with typos of the abstention vocabulary's words fixed ("unknwon", "oter"), for a word
        the taxonomy does not know."""
        return " ".join(self._plain_word(w) for w in folded.split())

    def _plain_word(self, word: str) -> str:
        found = self._plain_fixes.get(word)
        if found is None:
            found = word
            # a typo of a taxonomy word is read as that word ("viool" is "viol", not the "vol" of theft)
            if len(word) >= 4 and word not in self._plain_words and not self._resolve(word):
                from rapidfuzz import fuzz, process

                hit = process.extractOne(word, self._long_plain_words, scorer=fuzz.ratio,
                                         score_cutoff=80.0 if len(word) >= 6 else 75.0)
                found = hit[0] if hit else word
            if len(self._plain_fixes) >= WORD_CACHE:
                self._plain_fixes.clear()
            self._plain_fixes[word] = found
        return found

    def _abstains(self, padded: str, reason: str) -> bool:
        """A phrase of ``reason`` is in the label and what is left of it is no evidence of an act."""
        pattern = self._patterns.get(reason)
        if pattern is None or not pattern.search(padded):
            return False
        rest = self._without_phrases(padded)
        if self._generic_only(rest):
            return True
        ranked = self.rank(rest, 1)
        return not ranked or ranked[0].score < REMAINDER_MIN

    def _without_phrases(self, padded: str) -> str:
        """What is left of a padded label once every phrase of a reason not to code is gone; phrases may
        overlap ("child in need" and "in need of care" in "child in need of care")."""
        covered = [False] * len(padded)
        starts = [k + 1 for k, ch in enumerate(padded[:-1]) if ch == " " and padded[k + 1] != " "]
        for reason in ("missing", *PHRASE_REASONS):
            pattern = self._patterns.get(reason)
            for start in starts if pattern is not None else ():
                found = pattern.match(padded, start)  # the longest phrase starting at this word
                if found:
                    covered[found.start():found.end()] = [True] * (found.end() - found.start())
        return "".join(" " if hit else ch for ch, hit in zip(padded, covered))

    def _split_branches(self, text: str, best: Scored) -> tuple[str, ...]:
        """Level-1 branches of the parts of "physically or mentally abused", when they differ."""
        if best.score >= 99.5:
            return ()  # the label is a title or synonym as written: one category however it reads
        parts = []
        for chunk in _PUNCTUATION_SPLIT.split(text):
            current: list[str] = []
            for token in _fold(chunk).split():
                if token in self.vocab.connectors:
                    parts.append(" ".join(current))
                    current = []
                else:
                    current.append(token)
            parts.append(" ".join(current))
        parts = [p for p in parts if p]
        if len(parts) < 2:
            return ()
        # "rape by force or coercion": one phrase of the best category holds words of several parts
        held = {stem for stem in self._content(best.matched)}
        if sum(1 for part in parts if held & {r for w, _ in self._terms(part) for r, _ in self._resolve(w)}) > 1:
            return ()
        branches = []
        for part in parts:
            # "rape / other", "neglect (suspected) / case closed": a part that names no form is no branch
            if self._generic_only(self._without_phrases(f" {part} ")):
                continue
            ranked = self.rank(part, 1)
            if ranked and ranked[0].score >= SPLIT_PART_MIN:
                branches.append(self._branch(ranked[0]))
        return tuple(dict.fromkeys(branches)) if len(set(branches)) > 1 else ()

    def _generic_only(self, text: str, empty: bool = True) -> bool:
        """Whether every word of ``text`` (negations aside) only says "abuse", "child", "violence"…, typos
        included; ``empty`` is the answer for a text with no word left."""
        content = [(w, s) for w, s in self._terms(text) if w not in self.vocab.negations]
        if not content:
            return empty
        return all(s in self.vocab.generic or (self._resolve(w) and all(r in self.vocab.generic
                                                                        for r, _ in self._resolve(w)))
                   for w, s in content)

    def _negated(self, words: list[str], ranked: tuple[Scored, ...]) -> bool:
        """A negation the best phrase does not share, unless it is a prefix ("non-intimate") without which
        the label still names an act clearly."""
        if not any(w in self.vocab.negations for w in words):
            return False
        if ranked and self._same_negations(words, _fold(ranked[0].matched).split()):
            return False
        kept = [w for k, w in enumerate(words) if w not in self.vocab.prefixes
                and not (k and words[k - 1] in self.vocab.prefixes)]
        if any(w in self.vocab.negations for w in kept) or len(kept) == len(words) or self._generic_only(" ".join(kept)):
            return True
        rest = self.rank(" ".join(kept), 1)
        return not rest or rest[0].score < REMAINDER_MIN

    def _same_negations(self, words: list[str], matched: list[str]) -> bool:
        """Whether the label negates what its best phrase negates ("non contact" and "non-contact"), up to a typo."""
        from rapidfuzz import fuzz

        def pairs(ws):
            return sorted((w, _stem(ws[k + 1]) if k + 1 < len(ws) else "") for k, w in enumerate(ws)
                          if w in self.vocab.negations)

        a, b = pairs(words), pairs(matched)
        return len(a) == len(b) and all(x[0] == y[0] and fuzz.ratio(x[1], y[1]) >= 80 for x, y in zip(a, b))

    def _order_of(self, targets: tuple[str, ...]) -> tuple:
        """How a target sorts among equal scores: residual last, then broader first, then by code."""
        found = self._order[targets] = (any(self.taxonomy.get(t).residual for t in targets),
                                        sum(map(len, targets)), targets)
        return found

    def _branch(self, candidate: Scored) -> str:
        return "+".join(sorted({self.taxonomy.get(t).level1 for t in candidate.targets}))

    def _branches(self, ranked) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._branch(c) for c in ranked[:3] if c.score >= EVIDENCE_MIN))


_PUNCTUATION_SPLIT = re.compile(r"[/,;&+]")


def scorer_for(taxonomy) -> Scorer:
    """The taxonomy's own scorer (no mapping entries), built once per loaded taxonomy."""
    scorer = getattr(taxonomy, "_scorer", None)
    if scorer is None:
        scorer = Scorer(taxonomy, load_vocabulary(str(vocabulary_path(taxonomy.path))))
        taxonomy._scorer = scorer
    return scorer
