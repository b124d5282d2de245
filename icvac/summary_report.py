"""The figures of ``icvac report``: a one-page summary of a coded dataset, safe to publish.

Every figure is a :class:`~icvac.tabulate.Tabulation`, counted by the rules of ``icvac tabulate`` and
withheld by the same small-cell suppression (:func:`icvac.suppression.suppress`):

* ``acts`` and ``victims``: acts, and victims, by level-1 category;
* ``branch``: acts by level-2 category within one level-1 category (``branch``);
* ``victim_sex``, ``victim_age_group``, ``victim_disability``, ``victim_migration_status`` (those the
  file has): victims by level-1 category and the variable's values;
* ``time``: acts by month (or year) of ``incident_date``;
* ``method``: acts by how they were coded (recode's ``icvac_match`` column), when the file has it.

The page publishes these tables together, and they share totals: the victims of a category are the row
total of every variable's table and a cell of ``victims``; the acts of the branch are the total of
``branch`` and a cell of ``acts``; the grand total of acts closes ``acts``, ``time`` and ``method``; and
acts and victims of a category are treated as one figure (where each record has one act they are equal). A
total withheld in one table is withheld in every table that shows it (suppression is run again, with the
total withheld from the start, until no table withholds a shared total another one shows), so no table
publishes what another one withholds. This is not a full audit of the tables as one system (see
:mod:`icvac.suppression`, "Limitations").

The file is read once. Each record adds one to a few counters (its code cell with each variable's value,
with its period, with its method), so memory grows with the distinct combinations, not with the rows;
every table is then counted from those combinations with their weights.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Sequence

from .ages import BAD, parse_age, parse_date
from .codes import UNCLASSIFIED, split_codes
from .columns import resolve_columns
from .errors import UsageError
from .readers import ReadOptions, open_table
from .suppression import suppress
from .tabulate import SUPPRESSED_MARKER, TableColumn, TableRow, Tabulation
# The row and column rules of `tabulate` itself, so that the figures count exactly as `icvac tabulate`
# does (a test compares them); only the weights (one count per distinct record) are this module's.
from .tabulate import _cell, _check_options, _columns, _RowIndex, _value_getter, _ValueMatcher
from .taxonomy import Taxonomy

__all__ = ["Figure", "Summary", "Counts", "summarise", "summarise_records", "REPORT_VARIABLES", "PERIODS", "METHODS"]

REPORT_VARIABLES = ("victim_sex", "victim_age_group", "victim_disability", "victim_migration_status")
PERIODS = ("auto", "month", "year")
AUTO_MONTHS = 36  # auto: by month up to three years of incidents, by year beyond (a readable line)
# recode's icvac_match values, in the order of the README; anything else in such a column is "other"
METHODS = ("exact-code", "exact-label", "normalised-label", "fuzzy", "condition", "review", "unclassified")
MATCH_COLUMN = "icvac_match"
AGE_GROUP = "victim_age_group"  # derived from ages or dates, as tabulate derives it
UNKNOWN = "unknown"
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


@dataclass(frozen=True)
class Summary:
    source: str
    figures: tuple[Figure, ...]
    metadata: dict = field(default_factory=dict)
    provenance: dict | None = None
    warnings: tuple[str, ...] = ()

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    def to_dict(self) -> dict:
        """JSON-ready, as ``--format json`` prints it: withheld counts are null, as in ``tabulate``."""
        return {"source": self.source, "metadata": self.metadata, "provenance": self.provenance,
                "warnings": list(self.warnings),
                "figures": [{"key": f.key, "title": f.title, "chart": f.chart, **f.table.to_dict()}
                            for f in self.figures]}


Record = tuple[str, str, str, tuple[str, ...]]  # code cell, icvac_match cell, period, values of the variables


@dataclass
class Counts:
    """Records counted per distinct combination of the cells each figure needs (never per row)."""

    variables: tuple[str, ...]
    codes: Counter = field(default_factory=Counter)       # code cell -> records
    values: dict = field(default_factory=dict)            # variable -> Counter of (code cell, raw value)
    periods: Counter = field(default_factory=Counter)     # (code cell, period) -> records
    methods: Counter = field(default_factory=Counter)     # (code cell, icvac_match cell) -> records

    def __post_init__(self):
        self.values = {v: self.values.get(v, Counter()) for v in self.variables}

    def add(self, record: Record, n: int = 1) -> None:
        code, method, when, values = record
        self.codes[code] += n
        for var, value in zip(self.variables, values):
            self.values[var][code, value] += n
        self.periods[code, when] += n
        self.methods[code, method] += n


def summarise(path: str | Path, taxonomy: Taxonomy, *, branch: str | None = None, period: str = "auto",
              min_cell: int = 5, read_options: ReadOptions = ReadOptions(), columns: dict[str, str] | None = None,
              lang: str = "en") -> Summary:
    """Read a coded file once and compute every figure. Raises InputError / UsageError when it cannot run."""
    _check_period(period)
    _check_options(taxonomy, 1, (), "act", min_cell)
    provenance = _provenance(path)
    with open_table(path, read_options) as table:
        declared = _declared_columns(provenance, taxonomy, table.header)
        colmap = resolve_columns(table.header, {**declared, **(columns or {})}, source=table.name)
        if colmap.get("icvac_code") is None:
            raise UsageError(f"{table.name}: no icvac_code column; name it with --column icvac_code=COLUMN")
        variables = tuple(v for v in REPORT_VARIABLES if _has_variable(v, colmap))
        getters = [_value_getter(taxonomy, v, colmap, table.name) for v in variables]
        match_at = table.header.index(MATCH_COLUMN) if MATCH_COLUMN in table.header else None
        counts, read = _gather(table.rows(), len(table.header), colmap, match_at, dict(zip(variables, getters)),
                               period)
    source = "<stdin>" if str(path) == "-" else Path(path).name
    summary = _summarise_counts(counts, taxonomy, branch=branch, has_method=match_at is not None,
                                has_dates=colmap.get("incident_date") is not None, period=period,
                                min_cell=min_cell, lang=lang)
    notes = [f"{source}: no data rows (only a header)"] if not read["records"] else []
    if read["ragged"]:
        notes.append(f"{read['ragged']} row(s) had a different number of cells than the header; missing cells "
                     "were read as blank and cells beyond the header ignored (`icvac validate` lists them)")
    return Summary(source, summary.figures, {"source": source, **summary.metadata}, provenance,
                   (*notes, *summary.warnings))


def _gather(rows, width: int, colmap, match_at: int | None, getters: dict, period: str) -> tuple[Counts, Counter]:
    counts, read = Counts(tuple(getters)), Counter()
    codes, periods, methods = counts.codes, counts.periods, counts.methods
    derived = [(counts.values[v], _by_age_text(get, colmap.get("victim_age"), width))
               for v, get in getters.items() if v == AGE_GROUP]
    plain = [(counts.values[v], colmap.get(v)) for v in getters if v != AGE_GROUP]
    # one itemgetter takes every cell a record needs (code, date, method, variables): no call per cell
    date_at, at = colmap.get("incident_date"), [colmap.get("icvac_code")]
    at += [i for i in (date_at, match_at) if i is not None] + [i for _, i in plain]
    take = itemgetter(*at, at[0])  # at least two indices, so it always returns a tuple
    date_pos = 1 if date_at is not None else None
    match_pos = (2 if date_at is not None else 1) if match_at is not None else None
    first_plain = 1 + (date_at is not None) + (match_at is not None)
    period_of: dict[str, str] = {"": UNKNOWN}
    for _, values in rows:
        if not "".join(values).strip():
            continue  # as in tabulate: a blank line is not a record
        read["records"] += 1
        if len(values) == width:
            cells = [c.strip() for c in take(values)]
        else:
            read["ragged"] += 1
            cells = [_cell(values, i) for i in at]
        code = cells[0]
        codes[code] += 1
        for k, (counter, _) in enumerate(plain, first_plain):
            counter[code, cells[k]] += 1
        for counter, get in derived:
            counter[code, get(values)] += 1
        day = cells[date_pos] if date_pos else ""
        when = period_of.get(day)
        if when is None:
            if len(period_of) > 1 << 16:  # dates with times of day are many: keep the cache bounded
                period_of.clear()
            when = period_of[day] = _period_of(day, period)
        periods[code, when] += 1
        methods[code, cells[match_pos] if match_pos else ""] += 1
    return counts, read


def _by_age_text(get, age_at: int | None, width: int):
    """tabulate's age-group getter, cached per age cell: a record with an age is grouped by it alone."""
    if age_at is None:
        return get
    cache: dict[str, str] = {}

    def group(values: list[str]) -> str:
        text = values[age_at] if len(values) == width else ""
        found = cache.get(text)
        if found is None:
            found = get(values)
            if parse_age(text) is not None:  # else the dates decide: not a function of this cell
                cache[text] = found
        return found

    return group


def _period_of(text: str, period: str) -> str:
    day = parse_date(text)
    if day is None or day is BAD:
        return UNKNOWN
    # auto counts by month: the span, and so the period shown, is known only at the end
    return f"{day.year:04d}" if period == "year" else f"{day.year:04d}-{day.month:02d}"


def _method(cell: str) -> str:
    # an unexpected value in this column is never shown: it could be anything a person typed
    pieces = split_codes(cell)
    if not pieces:
        return UNKNOWN
    return "|".join(p if p in METHODS else OTHER for p in pieces)


def summarise_records(records: Iterable[tuple[Record, int]], taxonomy: Taxonomy, *,
                      variables: Sequence[str] = (), branch: str | None = None, has_method: bool = True,
                      has_dates: bool = True, period: str = "auto", min_cell: int = 5,
                      lang: str = "en") -> Summary:
    """The figures of ``(record, number of records like it)`` pairs (see ``Record``; the period is
    ``YYYY-MM``, ``YYYY`` or ``unknown``)."""
    _check_period(period)
    counts = Counts(tuple(variables))
    for record, n in records:
        counts.add(record, n)
    return _summarise_counts(counts, taxonomy, branch=branch, has_method=has_method, has_dates=has_dates,
                             period=period, min_cell=min_cell, lang=lang)


def _summarise_counts(counts: Counts, taxonomy: Taxonomy, *, branch: str | None, has_method: bool,
                      has_dates: bool, period: str, min_cell: int, lang: str) -> Summary:
    by_code = [((code, ()), n) for code, n in counts.codes.items()]
    drafts = [_draft("acts", "Acts by ICVAC level-1 category", "bars", by_code, taxonomy, unit="act", lang=lang),
              _draft("victims", "Victims by ICVAC level-1 category", "bars", by_code, taxonomy, unit="victim",
                     lang=lang)]
    branch = _branch(taxonomy, branch, drafts[0], lang)
    if branch is not None:
        drafts.append(_branch_draft(counts.codes, taxonomy, branch, lang))
    for var, pairs in counts.values.items():
        title = f"Victims by ICVAC level-1 category and {var.replace('_', ' ')}"
        drafts.append(_draft(var, title, "grouped", [((c, (v,)), n) for (c, v), n in pairs.items()], taxonomy,
                             unit="victim", by=(var,), lang=lang))
    if has_dates:
        drafts.append(_time_draft(counts.periods, period))
    if has_method:
        drafts.append(_method_draft(counts.methods))
    masks = _suppress_together(drafts, min_cell)
    figures = tuple(d.finish(mask, taxonomy, min_cell) for d, mask in zip(drafts, masks))
    acts, victims = figures[0].table, figures[1].table
    warnings = list(dict.fromkeys(w for d in drafts for w in d.warnings))
    if min_cell <= 1:
        warnings.append(f"small-cell suppression is off (--min-cell {min_cell}): do not publish this page")
    metadata = {
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "status": taxonomy.status,
                     "titles": dict(taxonomy.titles)},
        "min_cell": min_cell, "suppressed_marker": SUPPRESSED_MARKER, "branch": branch,
        "period": next((f.table.metadata["period"] for f in figures if f.key == "time"), period),
        "variables": list(counts.variables),
        # both are grand totals of a figure: publishing them would undo its suppression
        "records_read": victims.cell(len(victims.rows) - 1, 0), "acts_counted": acts.cell(len(acts.rows) - 1, 0),
    }
    return Summary("", figures, metadata, None, tuple(warnings))


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise UsageError(f"--period {period}: choose {' or '.join(PERIODS)}")


def _has_variable(var: str, colmap) -> bool:
    if var == "victim_age_group":
        return colmap.get("victim_age") is not None or (
            colmap.get("victim_birth_date") is not None and colmap.get("incident_date") is not None)
    return colmap.get(var) is not None


@dataclass
class _Draft:
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


def _draft(key: str, title: str, chart: str, records: list[tuple[tuple[str, tuple[str, ...]], int]],
           taxonomy: Taxonomy, *, unit: str, level: int = 1, by: Sequence[str] = (), lang: str = "en") -> _Draft:
    """``tabulate_records`` with a weight per record: the same rows, columns, totals and warnings."""
    index = _RowIndex(taxonomy, level, lang)
    matchers = [_ValueMatcher(taxonomy.variables[v]) for v in by]
    cells: Counter = Counter()
    totals: Counter = Counter()
    for (code_cell, raw), n in records:
        column = tuple(m.match(v) for m, v in zip(matchers, raw))
        keys = [index.key_for(code) for code in split_codes(code_cell) or (UNCLASSIFIED,)]
        for row_key in (keys if unit == "act" else dict.fromkeys(keys)):
            cells[row_key, column] += n
        totals[column] += n * len(keys) if unit == "act" else n
    cols = _columns(taxonomy, by, matchers, lang)
    rows = index.rows(cells)
    counts = [[cells[r.key, c.values] for c in cols[:-1]] for r in rows]
    counts = [r + [sum(r) if by else cells[row.key, ()]] for r, row in zip(counts, rows)]
    counts.append([totals[c.values] for c in cols[:-1]] + [sum(totals.values())])
    rows.append(TableRow(_TOTAL, _TOTAL, "Total"))
    last = len(cols) - 1
    shared = {(i, last): _shared(r.key) for i, r in enumerate(rows) if level == 1}
    warnings = index.warnings() + [w for m in matchers for w in m.warnings()]
    return _Draft(key, title, chart, rows, cols, counts, shared, {"level": level, "unit": unit, "by": list(by)},
                  warnings)


def _branch(taxonomy: Taxonomy, branch: str | None, acts: _Draft, lang: str) -> str | None:
    """The level-1 category to break down: the one asked for, else the one with the most acts that has
    sub-categories (the first in taxonomy order on a tie); None when no act has such a category."""
    if branch is not None:
        if branch not in taxonomy or taxonomy.get(branch).level != 1:
            raise UsageError(f"--branch {branch}: not a level-1 category; see `icvac taxonomy tree --level 1`")
        if not taxonomy.get(branch).children:
            raise UsageError(f"--branch {branch}: has no level-2 categories to break it down into")
        return branch
    candidates = [(-row[-1], i, r.key) for i, (r, row) in enumerate(zip(acts.rows, acts.counts))
                  if r.kind == "category" and taxonomy.get(r.key).children and row[-1]]
    return min(candidates)[2] if candidates else None


def _branch_draft(codes: Counter, taxonomy: Taxonomy, branch: str, lang: str) -> _Draft:
    inside: list[tuple[tuple[str, tuple], int]] = []
    for code_cell, n in codes.items():
        kept = [c for c in split_codes(code_cell) if c in taxonomy and taxonomy.get(c).level1 == branch]
        if kept:
            inside.append((("|".join(kept), ()), n))
    title = f"Acts by level-2 category within {branch} {taxonomy.get(branch).title_in(lang)}"
    draft = _draft("branch", title, "bars", inside, taxonomy, unit="act", level=2, lang=lang)
    # the other branches' rows are empty here: drop them, and the unclassified row, which cannot occur
    keep = [i for i, r in enumerate(draft.rows)
            if r.kind == _TOTAL or (r.key in taxonomy and taxonomy.get(r.key).level1 == branch)]
    draft.rows = [draft.rows[i] for i in keep]
    draft.counts = [draft.counts[i] for i in keep]
    draft.shared = {(len(keep) - 1, 0): _shared(branch)}
    draft.meta["branch"] = branch
    return draft


def _time_draft(periods: Counter, period: str) -> _Draft:
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


def _method_draft(methods: Counter) -> _Draft:
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
    draft = _one_way("method", "Acts by coding method (icvac_match)", "bars", rows, [acts[k] for k in keys],
                     {"unit": "act"})
    draft.shared[keys.index("unclassified"), 0] = _shared(UNCLASSIFIED)
    return draft


def _one_way(key: str, title: str, chart: str, rows: list[TableRow], counts: list[int], meta: dict) -> _Draft:
    rows = rows + [TableRow(_TOTAL, _TOTAL, "Total")]
    table = [[c] for c in counts] + [[sum(counts)]]
    return _Draft(key, title, chart, rows, [TableColumn(_TOTAL, (), "Total")], table,
                  {(len(rows) - 1, 0): _shared(_TOTAL)}, meta)


def _shared(row_key: str) -> tuple[str, str]:
    """The name of a category's total (or the grand total) wherever it is shown. Acts and victims share it:
    where every record has one act they are the same number, and a count withheld as acts but published
    as victims (or the other way round) would be published after all."""
    return ("row", row_key)


def _suppress_together(drafts: list[_Draft], min_cell: int) -> list[list[list[bool]]]:
    """Each table's mask; a shared total withheld in one table is withheld in all (repeated until stable:
    withholding it may make a table withhold more, another shared total among them)."""
    if min_cell <= 1:
        return [[[False] * len(r) for r in d.counts] for d in drafts]
    forced: set[tuple] = set()
    while True:
        masks = [suppress(d.counts, min_cell, withheld=[c for c, name in d.shared.items() if name in forced])
                 for d in drafts]
        hidden = {name for d, m in zip(drafts, masks) for (i, j), name in d.shared.items() if m[i][j]}
        if hidden <= forced:
            return masks
        forced |= hidden


# Roles that recode reads from the national columns but does not write as icvac_ columns
_DATE_ROLES = ("victim_age", "victim_birth_date", "incident_date")


def _declared_columns(provenance: dict | None, taxonomy: Taxonomy, header: list[str]) -> dict[str, str]:
    """The age and date columns as the recode's mapping declares them, when the sidecar names a bundled
    mapping with the same SHA-256: so that recode output reports by age and over time as it is."""
    from .errors import IcvacError
    from .mapping import load_mapping
    from .resources import bundled_path

    mapping_id = (provenance or {}).get("mapping", {}).get("id", "")
    if not mapping_id.isidentifier() or bundled_path("mappings", f"{mapping_id}.yaml") is None:
        return {}
    try:
        mapping = load_mapping(mapping_id, taxonomy)
    except IcvacError:
        return {}
    if mapping.sha256 != provenance["mapping"].get("sha256") or mapping.columns is None:
        return {}
    return {role: name for role, name in mapping.columns.variables.items() if role in _DATE_ROLES and name in header}


def _provenance(path: str | Path) -> dict | None:
    """What the sidecar ``PATH.meta.json`` of ``icvac recode`` says about the mapping, taxonomy and input:
    known fields only, as text (the sidecar holds no data values, but it is a file anyone can edit)."""
    if str(path) == "-":
        return None
    sidecar = Path(f"{path}.meta.json")
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        prov = meta["provenance"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(prov, dict):
        return None

    def pick(part, keys):
        value = prov.get(part)
        return {k: str(value[k]) for k in keys if k in value} if isinstance(value, dict) else {}

    return {"sidecar": sidecar.name, "icvac_version": str(prov.get("icvac_version", "")),
            "taxonomy": pick("taxonomy", ("id", "version", "status")),
            "mapping": pick("mapping", ("id", "version", "file", "sha256", "status")),
            "input": Path(str(prov.get("input", ""))).name}
