"""The figures of ``icvac report`` (:mod:`icvac.summary_report`) before and after their suppression: each
table counted from the records' distinct combinations with their weights (a :class:`Draft`), then withheld
together with the tables it shares totals with (:func:`suppress_together`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Sequence

from .codes import UNCLASSIFIED, split_codes
from .errors import UsageError
from .suppression import suppress
from .tables import UNKNOWN, RowIndex, TableColumn, TableRow, ValueMatcher, table_columns
from .tabulate import SUPPRESSED_MARKER, Tabulation
from .taxonomy import Taxonomy

__all__ = ["Figure", "Draft", "draft", "branch_of", "branch_draft", "time_draft", "method_draft",
           "suppress_together", "METHODS", "AUTO_MONTHS"]

AUTO_MONTHS = 36  # auto: by month up to three years of incidents, by year beyond (a readable line)
# recode's icvac_match values, in the order of the README; anything else in such a column is "other"
METHODS = ("exact-code", "exact-label", "normalised-label", "fuzzy", "condition", "review", "unclassified")
OTHER = "other"
_TOTAL = "total"


@dataclass(frozen=True)
class Figure:
    key: str          # acts | victims | branch | a variable id | time | method
    title: str
    chart: str        # bars: one bar per row | grouped: rows x columns | line: rows over time
    table: Tabulation
    # cells that show a figure another table of the page shows too: ((row, column), name of that figure)
    shared: tuple[tuple[tuple[int, int], tuple], ...] = ()



@dataclass
class Draft:
    """A table counted but not yet suppressed, with the totals it shares with other tables."""

    key: str
    title: str
    chart: str
    rows: list[TableRow]
    columns: list[TableColumn]
    counts: list[list[int]]
    shared: dict[tuple[int, int], tuple]   # cell -> the name of the total it shows
    meta: dict
    warnings: list[str] = field(default_factory=list)

    def finish(self, mask, taxonomy: Taxonomy, min_cell: int) -> Figure:
        metadata = {"taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "status": taxonomy.status},
                    **self.meta, "min_cell": min_cell, "suppressed_marker": SUPPRESSED_MARKER,
                    "suppressed_cells": sum(map(sum, mask))}
        table = Tabulation(tuple(self.rows), tuple(self.columns), tuple(map(tuple, self.counts)),
                           tuple(map(tuple, mask)), metadata, tuple(self.warnings))
        return Figure(self.key, self.title, self.chart, table, tuple(sorted(self.shared.items())))


def draft(key: str, title: str, chart: str, records: Sequence[tuple[tuple[str, tuple[str, ...]], int]],
           taxonomy: Taxonomy, *, unit: str, level: int = 1, by: Sequence[str] = (), lang: str = "en") -> Draft:
    """``tabulate_records`` with a weight per record: the same rows, columns, totals and warnings."""
    index = RowIndex(taxonomy, level, lang)
    matchers = [ValueMatcher(taxonomy.variables[v]) for v in by]
    cells: Counter = Counter()
    totals: Counter = Counter()
    for (code_cell, raw), n in records:
        column = tuple(m.match(v) for m, v in zip(matchers, raw, strict=True))
        keys = [index.key_for(code) for code in split_codes(code_cell) or (UNCLASSIFIED,)]
        for row_key in (keys if unit == "act" else dict.fromkeys(keys)):
            cells[row_key, column] += n
        totals[column] += n * len(keys) if unit == "act" else n
    cols = table_columns(taxonomy, by, matchers, lang)
    rows = index.rows(cells)
    counts = [[cells[r.key, c.values] for c in cols[:-1]] for r in rows]
    counts = [r + [sum(r) if by else cells[row.key, ()]] for r, row in zip(counts, rows, strict=True)]
    counts.append([totals[c.values] for c in cols[:-1]] + [sum(totals.values())])
    rows.append(TableRow(_TOTAL, _TOTAL, "Total"))
    last = len(cols) - 1
    shared = {(i, last): _shared(r.key) for i, r in enumerate(rows) if level == 1}
    warnings = index.warnings() + [w for m in matchers for w in m.warnings()]
    return Draft(key, title, chart, rows, cols, counts, shared, {"level": level, "unit": unit, "by": list(by)},
                  warnings)


def branch_of(taxonomy: Taxonomy, branch: str | None, acts: Draft, lang: str) -> str | None:
    """The level-1 category to break down: the one asked for, else the one with the most acts that has
    sub-categories (the first in taxonomy order on a tie); None when no act has such a category."""
    if branch is not None:
        if branch not in taxonomy or taxonomy.get(branch).level != 1:
            raise UsageError(f"--branch {branch}: not a level-1 category; see `icvac taxonomy tree --level 1`")
        if not taxonomy.get(branch).children:
            raise UsageError(f"--branch {branch}: has no level-2 categories to break it down into")
        return branch
    candidates = [(-row[-1], i, r.key) for i, (r, row) in enumerate(zip(acts.rows, acts.counts, strict=True))
                  if r.kind == "category" and taxonomy.get(r.key).children and row[-1]]
    return min(candidates)[2] if candidates else None


def branch_draft(codes: Counter, taxonomy: Taxonomy, branch: str, lang: str) -> Draft:
    inside: list[tuple[tuple[str, tuple], int]] = []
    for code_cell, n in codes.items():
        kept = [c for c in split_codes(code_cell) if c in taxonomy and taxonomy.get(c).level1 == branch]
        if kept:
            inside.append((("|".join(kept), ()), n))
    title = f"Acts by level-2 category within {branch} {taxonomy.get(branch).title_in(lang)}"
    found = draft("branch", title, "bars", inside, taxonomy, unit="act", level=2, lang=lang)
    # the other branches' rows are empty here: drop them, and the unclassified row, which cannot occur
    keep = [i for i, r in enumerate(found.rows)
            if r.kind == _TOTAL or (r.key in taxonomy and taxonomy.get(r.key).level1 == branch)]
    found.rows = [found.rows[i] for i in keep]
    found.counts = [found.counts[i] for i in keep]
    found.shared = {(len(keep) - 1, 0): _shared(branch)}
    found.meta["branch"] = branch
    return found


def time_draft(periods: Counter, period: str) -> Draft:
    """Acts by month (periods are counted by month, or by year when asked for by year)."""
    if period == "auto":
        months = sorted(p for _, p in periods if p != UNKNOWN)
        long = bool(months) and len(_every_period(months[0], months[-1], "month")) > AUTO_MONTHS
        period = "year" if long else "month"
        if long:
            by_year: Counter = Counter()
            for (code_cell, when), n in periods.items():
                by_year[code_cell, when[:4] if when != UNKNOWN else UNKNOWN] += n
            periods = by_year
    acts: Counter = Counter()
    for (code_cell, when), n in periods.items():
        acts[when] += n * max(1, len(split_codes(code_cell)))
    known = sorted(p for p in acts if p != UNKNOWN)
    keys = _every_period(known[0], known[-1], period) if known else []
    if acts[UNKNOWN]:
        keys.append(UNKNOWN)
    rows = [TableRow(k, "period", "date unknown" if k == UNKNOWN else k) for k in keys]
    return _one_way("time", f"Acts by {period} of the incident", "line", rows, [acts[k] for k in keys],
                    {"unit": "act", "period": period})


def _every_period(first: str, last: str, period: str) -> list[str]:
    """Every month (or year) from the first to the last, so a month without acts shows as 0, not as a gap."""
    if period == "year":
        return [f"{y:04d}" for y in range(int(first), int(last) + 1)]
    out, at, end = [], date(int(first[:4]), int(first[5:]), 1), date(int(last[:4]), int(last[5:]), 1)
    while at <= end:
        out.append(f"{at.year:04d}-{at.month:02d}")
        at = date(at.year + at.month // 12, at.month % 12 + 1, 1)
    return out


def method_draft(methods: Counter) -> Draft:
    acts: Counter = Counter()
    for (code_cell, cell), n in methods.items():
        n_acts = max(1, len(split_codes(code_cell)))
        pieces = _method(cell).split("|")
        # one method per act when recode wrote one per code, else the record's method for each act
        for piece in (pieces if len(pieces) == n_acts else [pieces[0]] * n_acts):
            acts[piece] += n
    keys = [m for m in METHODS] + [m for m in (OTHER, UNKNOWN) if acts[m]]
    labels = {"review": "review (unreviewed draft entry)", OTHER: "other value", UNKNOWN: "not recorded"}
    rows = [TableRow(k, "method", labels.get(k, k)) for k in keys]
    found = _one_way("method", "Acts by coding method (icvac_match)", "bars", rows, [acts[k] for k in keys],
                     {"unit": "act"})
    found.shared[keys.index("unclassified"), 0] = _shared(UNCLASSIFIED)
    return found


def _one_way(key: str, title: str, chart: str, rows: list[TableRow], counts: list[int], meta: dict) -> Draft:
    rows = rows + [TableRow(_TOTAL, _TOTAL, "Total")]
    table = [[c] for c in counts] + [[sum(counts)]]
    return Draft(key, title, chart, rows, [TableColumn(_TOTAL, (), "Total")], table,
                  {(len(rows) - 1, 0): _shared(_TOTAL)}, meta)


def _shared(row_key: str) -> tuple[str, str]:
    """The name of a category's total (or the grand total) wherever it is shown. Acts and victims share it:
    where every record has one act they are the same number, and a count withheld as acts but published
    as victims (or the other way round) would be published after all."""
    return ("row", row_key)


def suppress_together(drafts: list[Draft], min_cell: int) -> list[list[list[bool]]]:
    """Each table's mask; a shared total withheld in one table is withheld in all (repeated until stable:
    withholding it may make a table withhold more, another shared total among them)."""
    if min_cell <= 1:
        return [[[False] * len(r) for r in d.counts] for d in drafts]
    forced: set[tuple] = set()
    while True:
        masks = [suppress(d.counts, min_cell, withheld=[c for c, name in d.shared.items() if name in forced])
                 for d in drafts]
        hidden = {name for d, m in zip(drafts, masks, strict=True) for (i, j), name in d.shared.items() if m[i][j]}
        if hidden <= forced:
            return masks
        forced |= hidden


def _method(cell: str) -> str:
    # an unexpected value in this column is never shown: it could be anything a person typed
    pieces = split_codes(cell)
    if not pieces:
        return UNKNOWN
    return "|".join(p if p in METHODS else OTHER for p in pieces)
