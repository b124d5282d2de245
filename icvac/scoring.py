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

``assess`` decides first whether the label names an act at all (``abstaining``); the words both read
are data (``taxonomy/abstention.yaml``, ``vocabulary``).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from .abstaining import Abstainer
from .text import LONGEST_LABEL, fold, normalise, quick_normalise
from .vocabulary import REASONS, Scored, Verdict, Vocabulary, load_vocabulary, vocabulary_path
from .vocabulary import stem as _stem

__all__ = ["Scorer", "Scored", "Verdict", "Vocabulary", "REASONS", "load_vocabulary", "scorer_for",
           "vocabulary_path"]

EDIT_FLOOR = 85.0      # an edit ratio below this is a different phrase, not a typo of it
SUGGEST_MIN = 40.0     # candidates below this are noise, not worth showing
SOURCE_FACTOR = {"title": 1.0, "synonym": 1.0, "label": 1.0, "inclusion": 0.95, "definition": 0.75}
COVER_FACTOR = 0.9     # a target covering the label's words through several phrases, below one phrase saying it
RANK_CACHE = 5_000      # distinct labels whose ranking is remembered (about 1.3 KB each), least recently used out
WORD_CACHE = 20_000     # distinct words whose reading (a typo of which taxonomy word) is remembered
TERMS_CACHE = 1_024     # texts whose words are remembered: those of the labels being assessed
SEED_MIN = 0.5         # a word in most categories does not by itself make a phrase a candidate
UNKNOWN_WEIGHT = 1.5   # a word the taxonomy does not know: it dilutes the evidence, a middling amount
ANCESTOR_FACTOR = 0.95  # a narrower category's words speak for its broader one, a little less


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
        self._abstainer = Abstainer(self)

    # ------------------------------------------------------------------ building

    def terms(self, text: str) -> tuple[tuple[str, str], ...]:
        """(word, stem) of the words of ``text`` that are neither stopwords, connectors nor single letters (the
        "n" of "n'ayant"). Remembered for a while: assessing one label asks this of the same texts again."""
        found = self._terms_of.get(text)
        if found is None:
            stop = self._stop
            found = tuple([(w, _stem(w)) for w in quick_normalise(text).split() if w not in stop and len(w) > 1])
            if len(self._terms_of) >= TERMS_CACHE:
                self._terms_of.clear()
            self._terms_of[text] = found
        return found

    def content(self, text: str) -> list[str]:
        return [stem for _, stem in self.terms(text)]

    def _weights(self, taxonomy) -> dict[str, float]:
        df: dict[str, int] = {}
        for cat in taxonomy.categories.values():
            words = [*cat.title.values(), *(s for syns in cat.synonyms.values() for s in syns),
                     *cat.inclusions, cat.definition]
            for stem in {s for text in words for s in self.content(text)}:
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
        for word, stem in self.terms(words):
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

    def resolve(self, word: str) -> tuple[tuple[str, float], ...]:
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
                    near = [w for n in range(len(word) - most, len(word) + most + 1)
                            for w in self._by_length.get(n, ())]
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
        ``spelling`` is only given at or above ``spelling_min``. Answers are cached per normalised label.
        A narrative (over ``text.LONGEST_LABEL`` characters) is not ranked: a person reads it."""
        if len(text) > LONGEST_LABEL:
            return ()
        query = quick_normalise(text)
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
        found = self._ranked.pop(query, None)
        if found is None:
            if len(self._ranked) >= RANK_CACHE:  # the least recently used: what is left beside "/ other", a
                del self._ranked[next(iter(self._ranked))]  # label's parts, come back again and again
            found = self._rank(query, floor)
        self._ranked[query] = found
        ranked, edits = found
        if spelling_min > floor and any(0.0 < edit < spelling_min for edit in edits):
            # the same ranking; a spelling under spelling_min is not given
            ranked = tuple(c._replace(spelling=0.0, spelled="") if 0.0 < edit < spelling_min else c
                           for c, edit in zip(ranked, edits, strict=True))
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
        for word, _ in dict(((stem, (word, stem)) for word, stem in self.terms(query))).values():
            resolved = self.resolve(word)
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
                held = self._shares.get(stem, {})
                for targets in [t for t in coverage if t in held]:
                    coverage[targets] += add * held[targets]
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
        """Whether ``text`` names an act: a reason to abstain, or the ranked candidates (``abstaining``).
        A narrative (over ``text.LONGEST_LABEL`` characters) is ``unrecognised``: its regular expressions and
        edit distances would take memory in its length (a letter repeated over 3 MB: 240 MB)."""
        if len(text) > LONGEST_LABEL:
            return Verdict("unrecognised", ())
        return self._abstainer.assess(text, limit)

    def _order_of(self, targets: tuple[str, ...]) -> tuple:
        """How a target sorts among equal scores: residual last, then broader first, then by code."""
        found = self._order[targets] = (any(self.taxonomy.get(t).residual for t in targets),
                                        sum(map(len, targets)), targets)
        return found

def scorer_for(taxonomy) -> Scorer:
    """The taxonomy's own scorer (no mapping entries), built once per loaded taxonomy."""
    scorer = getattr(taxonomy, "_scorer", None)
    if scorer is None:
        scorer = Scorer(taxonomy, load_vocabulary(str(vocabulary_path(taxonomy.path))))
        taxonomy._scorer = scorer
    return scorer
