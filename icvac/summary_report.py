"""The figures of ``icvac report``: a one-page summary of a coded dataset, safe to publish.

Every figure is a :class:`~icvac.tabulate.Tabulation`, counted by the rules of ``icvac tabulate`` and
withheld by the same small-cell suppression (:func:`icvac.suppression.suppress`):

* ``acts`` and ``victims``: acts, and victims, by level-1 category;
* ``branch``: acts by level-2 category within one level-1 category (``branch``);
* each of the taxonomy's variables about the victim (``victim_…``; for ICVAC sex, age group, disability and
  migration status) that the file has: victims by level-1 category and the variable's values;
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
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Sequence

from .ages import BAD, parse_age, parse_date
from .columns import resolve_columns, roles_for
from .errors import UsageError
from .readers import ReadOptions, open_table
from .summary_figures import Figure, branch_draft, branch_of, draft, method_draft, suppress_together, time_draft
from .tables import ACT_COLUMN, AGE_ROLES, UNKNOWN, age_group_variable, cell, check_options, joined_acts, value_getter
from .tabulate import SUPPRESSED_MARKER
from .taxonomy import Taxonomy

__all__ = ["Figure", "Summary", "Counts", "summarise", "summarise_records", "report_variables", "PERIODS"]

PERIODS = ("auto", "month", "year")
MATCH_COLUMN = "icvac_match"
VICTIM = "victim_"  # the prefix of the taxonomy's variables that describe the victim


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
        for var, value in zip(self.variables, values, strict=True):
            self.values[var][code, value] += n
        self.periods[code, when] += n
        self.methods[code, method] += n


def summarise(path: str | Path, taxonomy: Taxonomy, *, branch: str | None = None, period: str = "auto",
              min_cell: int = 5, read_options: ReadOptions = ReadOptions(), columns: dict[str, str] | None = None,
              lang: str = "en") -> Summary:
    """Read a coded file once and compute every figure. Raises InputError / UsageError when it cannot run."""
    _check_period(period)
    check_options(taxonomy, 1, (), "act", min_cell, lang)
    provenance = _provenance(path)
    with open_table(path, read_options) as table:
        declared = _declared_columns(provenance, taxonomy, table.header)
        colmap = resolve_columns(table.header, {**declared, **(columns or {})}, roles_for(taxonomy.variable_roles),
                                 source=table.name)
        if colmap.get("icvac_code") is None:
            raise UsageError(f"{table.name}: no icvac_code column; name it with --column icvac_code=COLUMN")
        variables = tuple(v for v in report_variables(taxonomy) if _has_variable(taxonomy, v, colmap))
        getters = [value_getter(taxonomy, v, colmap, table.name) for v in variables]
        match_at = table.header.index(MATCH_COLUMN) if MATCH_COLUMN in table.header else None
        derived = {v for v in variables if taxonomy.variables[v].derived_from is not None}
        rows = table.rows()
        if ACT_COLUMN in table.header:  # recode --long: one row per act, read back as records
            rows = joined_acts(rows, table.header.index(ACT_COLUMN), [colmap.get("icvac_code"), match_at])
        counts, read = _gather(rows, len(table.header), colmap, match_at,
                               dict(zip(variables, getters, strict=True)), derived, period)
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


def report_variables(taxonomy: Taxonomy) -> tuple[str, ...]:
    """The variables the page crosses victims with: the taxonomy's variables that describe the victim
    (``victim_…``), in the order of its file."""
    return tuple(v for v in taxonomy.variables if v.startswith(VICTIM))


def _gather(rows, width: int, colmap, match_at: int | None, getters: dict, derived: set,
            period: str) -> tuple[Counts, Counter]:
    """``derived``: the variables computed from other cells (the age group from the age or dates)."""
    counts, read = Counts(tuple(getters)), Counter[str]()
    codes, periods, methods = counts.codes, counts.periods, counts.methods
    grouped = [(counts.values[v], _by_age_text(get, colmap.get(AGE_ROLES[0]), width))
               for v, get in getters.items() if v in derived]
    plain = [(counts.values[v], colmap.get(v)) for v in getters if v not in derived]
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
            cells = [cell(values, i) for i in at]
        code = cells[0]
        codes[code] += 1
        for k, (counter, _) in enumerate(plain, first_plain):
            counter[code, cells[k]] += 1
        for counter, get in grouped:
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


def summarise_records(records: Iterable[tuple[Record, int]], taxonomy: Taxonomy, *,
                      variables: Sequence[str] = (), branch: str | None = None, has_method: bool = True,
                      has_dates: bool = True, period: str = "auto", min_cell: int = 5,
                      lang: str = "en") -> Summary:
    """The figures of ``(record, number of records like it)`` pairs (see ``Record``; the period is
    ``YYYY-MM``, ``YYYY`` or ``unknown``)."""
    _check_period(period)
    check_options(taxonomy, 1, (), "act", min_cell, lang)
    counts = Counts(tuple(variables))
    for record, n in records:
        counts.add(record, n)
    return _summarise_counts(counts, taxonomy, branch=branch, has_method=has_method, has_dates=has_dates,
                             period=period, min_cell=min_cell, lang=lang)


def _summarise_counts(counts: Counts, taxonomy: Taxonomy, *, branch: str | None, has_method: bool,
                      has_dates: bool, period: str, min_cell: int, lang: str) -> Summary:
    by_code = [((code, ()), n) for code, n in counts.codes.items()]
    drafts = [draft("acts", "Acts by ICVAC level-1 category", "bars", by_code, taxonomy, unit="act", lang=lang),
              draft("victims", "Victims by ICVAC level-1 category", "bars", by_code, taxonomy, unit="victim",
                    lang=lang)]
    branch = branch_of(taxonomy, branch, drafts[0], lang)
    if branch is not None:
        drafts.append(branch_draft(counts.codes, taxonomy, branch, lang))
    for var, pairs in counts.values.items():
        title = f"Victims by ICVAC level-1 category and {var.replace('_', ' ')}"
        drafts.append(draft(var, title, "grouped", [((c, (v,)), n) for (c, v), n in pairs.items()], taxonomy,
                            unit="victim", by=(var,), lang=lang))
    if has_dates:
        drafts.append(time_draft(counts.periods, period))
    if has_method:
        drafts.append(method_draft(counts.methods))
    masks = suppress_together(drafts, min_cell)
    figures = tuple(d.finish(mask, taxonomy, min_cell) for d, mask in zip(drafts, masks, strict=True))
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


def _has_variable(taxonomy: Taxonomy, var: str, colmap) -> bool:
    if var == getattr(age_group_variable(taxonomy), "id", None):
        age, birth, incident = (colmap.get(role) for role in AGE_ROLES)
        return age is not None or (birth is not None and incident is not None)
    return colmap.get(var) is not None


# Roles that recode reads from the national columns but does not write as icvac_ columns
_DATE_ROLES = AGE_ROLES


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
    if provenance is None or mapping.sha256 != provenance["mapping"].get("sha256") or mapping.columns is None:
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
