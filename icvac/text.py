"""Label normalisation shared by taxonomy search and recoding.

National labels arrive in mixed case, with or without accents, with stray
punctuation and in singular or plural. Both sides of every comparison go
through the same function, so the rules only need to be consistent, not
linguistically perfect.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NOT_ASCII_ALNUM = re.compile(r"[^A-Za-z0-9]+")
# A category cell longer than this is a narrative, not a label: neither scored nor remembered by the caches,
# which count entries, not bytes (10,000 cells of 1 MB would hold 10 GB)
LONGEST_LABEL = 1_000


def fold(text: str) -> str:
    """Case, accents, punctuation and spacing removed: ``"  Abus  SEXUEL!"`` -> ``"abus sexuel"``."""
    return _fold(text) if len(text) <= LONGEST_LABEL else _fold.__wrapped__(text)


@lru_cache(maxsize=16384)
def _fold(text: str) -> str:
    # Compatibility forms (mathematical letters, ligatures) are decomposed before and after casefolding,
    # so that folding twice changes nothing.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", str(text)).casefold())
    if decomposed.isascii():  # accents gone (most labels): no combining mark left, letters and digits are [a-z0-9]
        return " ".join(_NOT_ASCII_ALNUM.sub(" ", decomposed).split())
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        chars.append(ch if ch.isalnum() else " ")
    return " ".join("".join(chars).split())


def _singular(token: str) -> str:
    # Plural "s"/"x" in English, French and Spanish. Tokens of four letters or fewer
    # ("abus", "gbv", "ipv") are left alone: there the final letter is rarely a plural.
    if len(token) > 4 and token[-1] in "sx" and token[-2] != "s" and not token.isdigit():
        return token[:-1]
    return token


def normalise(text: str) -> str:
    """``fold`` plus singular forms: ``"Violences sexuelles"`` -> ``"violence sexuelle"``."""
    return _normalise(text) if len(text) <= LONGEST_LABEL else _normalise.__wrapped__(text)


@lru_cache(maxsize=16384)
def _normalise(text: str) -> str:
    return " ".join(_singular(t) for t in fold(text).split())


_EXCEL_NUMBER = re.compile(r"\d+(\.0+)?")
_CODE_MARKS = re.compile(r"[\s.\-_/]")


def code_key(code: str) -> str:
    """A national code as systems and spreadsheets spell it alike: ``T74.1``, ``T741`` and ``t74.1`` ->
    ``t741``; ``1``, ``01`` and ``1.0`` (a number read back from Excel) -> ``1``. Digits with another decimal
    part (``1.5``) are left as they are: a code, not a number that lost its form."""
    key = code.strip().casefold()
    if _EXCEL_NUMBER.fullmatch(key):
        return key.split(".")[0].lstrip("0") or "0"
    return _CODE_MARKS.sub("", key) if any(ch.isalpha() for ch in key) else key


_ASCII_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def quick_fold(text: str) -> str:
    """``fold`` without its Unicode work and its cache for plain ASCII (most labels, each seen once when a
    file has many distinct values): the same result."""
    if text.isascii():
        return " ".join(_ASCII_NON_ALNUM.sub(" ", text.lower()).split())
    return fold(text)


def quick_normalise(text: str) -> str:
    """``normalise`` by way of ``quick_fold``: the same result."""
    if text.isascii():
        return " ".join(_singular(t) for t in quick_fold(text).split())
    return normalise(text)
