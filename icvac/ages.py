"""Victims' ages and dates: one reading shared by validate, tabulate and recode.

* An age is a whole number of completed years from 0 to 130: ``"7"``, ``" 7 "``, ``"7.0"`` (as
  spreadsheets write whole numbers). ``"7.5"``, ``"12,5"``, ``"-1"``, ``"nan"``, ``"1e1"`` and ``"200"``
  are not ages. Whether an age is a child's (0-17) is for the caller to judge.
* A date is an ISO 8601 calendar date ``YYYY-MM-DD``, optionally followed by a time, which is ignored
  (``2023-04-01 14:30``). ``2023-02-30`` and ``01/04/2023`` are not dates.
* A blank cell (and ``unknown`` for an age) means "not known" and reads as None; a cell that holds
  something unusable reads as ``BAD``, so that callers can tell a missing value from a wrong one.
* A record's age is its age cell, else the completed years between the birth and incident dates.

Parsing is cached per distinct cell text, so per row there are only dictionary look-ups.
"""
from __future__ import annotations

import enum
import re
from datetime import date
from functools import lru_cache

from .taxonomy import Variable

__all__ = ["BAD", "MAX_AGE", "parse_age", "parse_date", "completed_years", "age_group", "record_age"]

MAX_AGE = 130
_UNKNOWN = "unknown"
_AGE = re.compile(r"[0-9]{1,3}(?:\.0*)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
_CACHE_SIZE = 1 << 16


class _Bad(enum.Enum):
    """The type of ``BAD``: an enum member is a sentinel that type checkers and ``is`` both understand."""

    BAD = "bad"

    def __repr__(self) -> str:
        return "BAD"


BAD = _Bad.BAD  # a cell that holds something, but not a usable age or date


@lru_cache(maxsize=_CACHE_SIZE)
def parse_age(text: str) -> int | None | _Bad:
    """``"7"``, ``"7.0"`` -> 7; blank or ``unknown`` (any case) -> None; anything else -> ``BAD``."""
    text = text.strip()
    if not text or text.casefold() == _UNKNOWN:
        return None
    if _AGE.fullmatch(text) is None:
        return BAD
    age = int(text.partition(".")[0])
    return age if age <= MAX_AGE else BAD


@lru_cache(maxsize=_CACHE_SIZE)
def parse_date(text: str) -> date | None | _Bad:
    """``"2023-04-01"``, ``"2023-04-01T14:30"`` -> the date; blank -> None; anything else -> ``BAD``."""
    text = text.strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        return BAD
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return BAD


def completed_years(birth: date, at: date) -> int:
    """Whole years lived on ``at`` by someone born on ``birth``; negative when ``birth`` is later."""
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


@lru_cache(maxsize=4096)
def age_group(variable: Variable, age: int) -> str | None:
    """The code of the value of ``variable`` whose ``min``-``max`` range holds ``age``, or None.

    A value with neither bound (``unknown``) is not a range; a missing bound is open, so a custom
    taxonomy's last group may be ``min: 15`` alone.
    """
    for value in variable.values:
        if value.min is None and value.max is None:
            continue
        if (value.min is None or value.min <= age) and (value.max is None or age <= value.max):
            return value.code
    return None


def record_age(age_text: str, birth_text: str = "", incident_text: str = "") -> int | None | _Bad:
    """A record's age: its age cell when it holds one, else the completed years from birth to incident.

    None when neither is known; ``BAD`` when the age cell, or a date needed, is unusable, or the dates
    give no age (born after the incident, or more than ``MAX_AGE`` years before it).
    """
    age = parse_age(age_text)
    if age is not None:
        return age
    birth, at = parse_date(birth_text), parse_date(incident_text)
    if birth is BAD or at is BAD:
        return BAD
    if birth is None or at is None:
        return None
    years = completed_years(birth, at)
    return years if 0 <= years <= MAX_AGE else BAD
