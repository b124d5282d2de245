"""How ICVAC codes sit in a data cell: one home for the rule that validate and tabulate share.

A record with several acts holds several codes in one cell, joined by ``|`` (as ``icvac recode``
writes them) or ``;`` (as people often type them): ``"0301|0202"``, ``"0301; 0202"``. Spaces around
a code and empty pieces between separators are ignored. ``unclassified`` (any case) is what
``icvac recode`` writes for a record it could not code: a recognised value, not a code.
"""
from __future__ import annotations

__all__ = ["SEPARATORS", "UNCLASSIFIED", "split_codes", "is_unclassified"]

SEPARATORS = ("|", ";")
UNCLASSIFIED = "unclassified"


def split_codes(cell: str) -> list[str]:
    """``"0301; 0202|0101"`` -> ``["0301", "0202", "0101"]``; a blank cell gives ``[]``."""
    for separator in SEPARATORS[1:]:
        cell = cell.replace(separator, SEPARATORS[0])
    return [piece for piece in (p.strip() for p in cell.split(SEPARATORS[0])) if piece]


def is_unclassified(code: str) -> bool:
    return code.casefold() == UNCLASSIFIED
