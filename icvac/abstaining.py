"""When not to code a label: ``Scorer.assess`` decides whether a label names an act of violence at all.

The words and patterns behind that decision are data (``taxonomy/abstention.yaml``, read by
``vocabulary``): a label is ``junk``, ``missing``, ``negated``, ``not-an-act``, ``residual`` or
``composite`` when such a phrase is in it and what is left of the label carries no evidence of an act (the
scorer ranks what is left); a few ``decisive`` phrases abstain whatever else the label says ("by
unspecified means", "unfounded", "multiple"). Ranked labels can still be ``composite`` (parts joined by
"or"/"and" pointing at different level-1 branches), a ``tie`` (two branches score the same: both are shown,
none is chosen) or ``unrecognised`` (no evidence).
"""
from __future__ import annotations

import re

from .text import quick_fold
from .vocabulary import PHRASE_REASONS, Scored, Verdict
from .vocabulary import stem as _stem

__all__ = ["Abstainer"]

EVIDENCE_MIN = 50.0    # below this, what a label says is not evidence of any act
REMAINDER_MIN = 60.0   # what is left beside a non-act phrase must name an act clearly
SPELLED_OUT = 99.5     # an edit ratio this high: the label is a title, synonym or label as written
TIE = 0.05             # scores this close are equal
SPLIT_PART_MIN = 60.0  # a part of a composite label must name its branch this clearly
PLAIN_CACHE = 20_000   # distinct words whose reading (a typo of a word of this vocabulary) is remembered
_PUNCTUATION_SPLIT = re.compile(r"[/,;&+]")


class Abstainer:
    """The ``assess`` of one ``scoring.Scorer``: its ranking, its words, and the vocabulary's phrases."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.taxonomy = scorer.taxonomy
        self.vocab = scorer.vocab
        self._plain_words = sorted({w for phrases in (*self.vocab.phrases.values(), *self.vocab.decisive.values())
                                    for p in phrases for w in p.split()} | self.vocab.negations)
        self._long_plain_words = [w for w in self._plain_words if len(w) >= 5]  # "vol" is too short to guess
        self._plain_fixes: dict[str, str] = {}
        # one alternation per reason, longest phrase first, each phrase whole words of the padded label
        self._patterns = {reason: re.compile("(?<= )(?:" + "|".join(map(re.escape, phrases)) + ")(?= )")
                          for reason, phrases in self.vocab.phrases.items() if phrases}
        self._decisive = {reason: re.compile("(?<= )(?:" + "|".join(map(re.escape, phrases)) + ")(?= )")
                          for reason, phrases in self.vocab.decisive.items() if phrases}

    def assess(self, text: str, limit: int = 3) -> Verdict:
        """Whether ``text`` names an act: a reason to abstain, or the ranked candidates."""
        folded = self._corrected(quick_fold(text))
        padded = f" {folded} "
        vocab = self.vocab
        if not folded or any(p.search(folded) for p in vocab.patterns) or self._found(padded, "junk"):
            return Verdict("junk", ())
        for reason in PHRASE_REASONS:
            if self._found(padded, reason, self._decisive):
                return Verdict(reason, (), self._branches(self.scorer.rank(text)) if reason == "composite" else ())
        if self._abstains(padded, "missing"):
            return Verdict("missing", ())
        ranked = self.scorer.rank(text, None)
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
            if all(s in self.vocab.context for s in self.scorer.content(folded) if s not in vocab.negations):
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
            if len(word) >= 4 and word not in self._plain_words and not self.scorer.resolve(word):
                from rapidfuzz import fuzz, process

                hit = process.extractOne(word, self._long_plain_words, scorer=fuzz.ratio,
                                         score_cutoff=80.0 if len(word) >= 6 else 75.0)
                found = hit[0] if hit else word
            if len(self._plain_fixes) >= PLAIN_CACHE:
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
        ranked = self.scorer.rank(rest, 1)
        return not ranked or ranked[0].score < REMAINDER_MIN

    def _without_phrases(self, padded: str) -> str:
        """What is left of a padded label once every phrase of a reason not to code is gone; phrases may
        overlap ("child in need" and "in need of care" in "child in need of care")."""
        covered = [False] * len(padded)
        starts = [k + 1 for k, ch in enumerate(padded[:-1]) if ch == " " and padded[k + 1] != " "]
        for reason in ("missing", *PHRASE_REASONS):
            pattern = self._patterns.get(reason)
            if pattern is None:
                continue
            for start in starts:
                found = pattern.match(padded, start)  # the longest phrase starting at this word
                if found:
                    covered[found.start():found.end()] = [True] * (found.end() - found.start())
        return "".join(" " if hit else ch for ch, hit in zip(padded, covered, strict=True))

    def _split_branches(self, text: str, best: Scored) -> tuple[str, ...]:
        """Level-1 branches of the parts of "physically or mentally abused", when they differ."""
        if best.score >= 99.5:
            return ()  # the label is a title or synonym as written: one category however it reads
        parts = []
        for chunk in _PUNCTUATION_SPLIT.split(text):
            current: list[str] = []
            for token in quick_fold(chunk).split():
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
        held = {stem for stem in self.scorer.content(best.matched)}
        resolve = self.scorer.resolve
        if sum(1 for part in parts if held & {r for w, _ in self.scorer.terms(part) for r, _ in resolve(w)}) > 1:
            return ()
        branches = []
        for part in parts:
            # "rape / other", "neglect (suspected) / case closed": a part that names no form is no branch
            if self._generic_only(self._without_phrases(f" {part} ")):
                continue
            ranked = self.scorer.rank(part, 1)
            if ranked and ranked[0].score >= SPLIT_PART_MIN:
                branches.append(self._branch(ranked[0]))
        return tuple(dict.fromkeys(branches)) if len(set(branches)) > 1 else ()

    def _generic_only(self, text: str, empty: bool = True) -> bool:
        """Whether every word of ``text`` (negations aside) only says "abuse", "child", "violence"…, typos
        included; ``empty`` is the answer for a text with no word left."""
        content = [(w, s) for w, s in self.scorer.terms(text) if w not in self.vocab.negations]
        if not content:
            return empty
        return all(s in self.vocab.generic or (self.scorer.resolve(w) and all(r in self.vocab.generic
                                                                        for r, _ in self.scorer.resolve(w)))
                   for w, s in content)

    def _negated(self, words: list[str], ranked: tuple[Scored, ...]) -> bool:
        """A negation the best phrase does not share, unless it is a prefix ("non-intimate") without which
        the label still names an act clearly."""
        if not any(w in self.vocab.negations for w in words):
            return False
        if ranked and self._same_negations(words, quick_fold(ranked[0].matched).split()):
            return False
        kept = [w for k, w in enumerate(words) if w not in self.vocab.prefixes
                and not (k and words[k - 1] in self.vocab.prefixes)]
        if (any(w in self.vocab.negations for w in kept) or len(kept) == len(words)
                or self._generic_only(" ".join(kept))):
            return True
        rest = self.scorer.rank(" ".join(kept), 1)
        return not rest or rest[0].score < REMAINDER_MIN

    def _same_negations(self, words: list[str], matched: list[str]) -> bool:
        """Whether the label negates what its best phrase negates ("non contact" and "non-contact"), up to a typo."""
        from rapidfuzz import fuzz

        def pairs(ws):
            return sorted((w, _stem(ws[k + 1]) if k + 1 < len(ws) else "") for k, w in enumerate(ws)
                          if w in self.vocab.negations)

        a, b = pairs(words), pairs(matched)
        return len(a) == len(b) and all(x[0] == y[0] and fuzz.ratio(x[1], y[1]) >= 80
                                        for x, y in zip(a, b, strict=True))

    def _branch(self, candidate: Scored) -> str:
        return "+".join(sorted({self.taxonomy.get(t).level1 for t in candidate.targets}))

    def _branches(self, ranked) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._branch(c) for c in ranked[:3] if c.score >= EVIDENCE_MIN))
