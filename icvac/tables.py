"""The parts of a table that ``icvac tabulate`` and ``icvac report`` build alike: the options they check, the row
each code counts in, the column each variable value counts in, and the cells read from a record.

What a table knows of the classification comes from the loaded taxonomy: its levels, the languages of its
titles, and its age-group variable (the one ``derived_from: victim_age``), found by what it is, not by its id.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .ages import BAD, age_group, record_age
from .codes import UNCLASSIFIED, is_unclassified
from .errors import UsageError
from .taxonomy import Taxonomy, Variable

__all__ = ["INVALID", "UNKNOWN", "UNITS", "MAX_BY", "AGE_ROLES", "TableRow", "TableColumn", "RowIndex",
           "ValueMatcher", "check_options", "check_language", "age_group_variable", "recoded_age_group",
           "table_columns", "value_getter", "cell", "find", "joined_acts", "ACT_COLUMN"]

UNITS = ("act", "victim")
ACT_COLUMN = "icvac_act"  # written by `icvac recode --long`: the act's number in its record
MAX_BY = 2
INVALID = "invalid"
UNKNOWN = "unknown"
AGE = "victim_age"
AGE_ROLES = (AGE, "victim_birth_date", "incident_date")  # the cells an age group is derived from


@dataclass(frozen=True)
class TableRow:
    key: str          # a category code, "unclassified", "invalid" or "total"
    kind: str         # category | not_further_specified | unclassified | invalid | total
    label: str


@dataclass(frozen=True)
class TableColumn:
    key: str                     # value codes joined by " / ", or "total"
    values: tuple[str, ...]      # one value code per --by variable; () for the total
    label: str


def check_options(taxonomy: Taxonomy, level: int, by: Sequence[str], unit: str, min_cell: int,
                  lang: str = "en") -> None:
    if not 1 <= level <= taxonomy.levels:
        raise UsageError(f"--level {level}: choose 1 to {taxonomy.levels}, the levels of taxonomy {taxonomy.id}")
    if unit not in UNITS:
        raise UsageError(f"--unit {unit}: choose {' or '.join(UNITS)}")
    if min_cell < 0:
        raise UsageError("--min-cell must be 0 (no suppression) or more")
    if len(by) > MAX_BY:
        raise UsageError(f"--by takes at most {MAX_BY} variables; more crossings make cells too small to publish")
    if len(set(by)) != len(by):
        raise UsageError("--by names the same variable twice")
    for var in by:
        if var not in taxonomy.variables:
            raise UsageError(f"--by {var}: unknown variable; choose from {', '.join(taxonomy.variables)}")
    check_language(taxonomy, lang)


def check_language(taxonomy: Taxonomy, lang: str) -> None:
    """``lang`` must be one the taxonomy says its categories are titled in (its ``languages``)."""
    if lang not in taxonomy.languages:
        raise UsageError(f"--lang: {lang!r} is not one of {', '.join(taxonomy.languages)}. Those are the languages "
                         f"taxonomy {taxonomy.id} titles its categories in (languages in its file).")


def age_group_variable(taxonomy: Taxonomy) -> Variable | None:
    """The variable grouping the victim's age (``derived_from: victim_age``), if the taxonomy has one."""
    return taxonomy.age_groups


def recoded_age_group(taxonomy: Taxonomy) -> str | None:
    """The column ``icvac recode`` writes the age group in, as it names every variable: ``icvac_<id>``."""
    variable = age_group_variable(taxonomy)
    return None if variable is None else f"icvac_{variable.id}"


def cell(values: list[str], index: int | None) -> str:
    return values[index].strip() if index is not None and index < len(values) else ""


def find(header: Sequence[str], name: str | None) -> int | None:
    return header.index(name) if name in header else None


class RowIndex:
    """Maps each code to its row at the chosen level, caching per distinct code."""

    def __init__(self, taxonomy: Taxonomy, level: int, lang: str):
        self.taxonomy, self.level, self.lang = taxonomy, level, lang
        self.cache: dict[str, str] = {}
        self.invalid: Counter = Counter()

    def key_for(self, code: str) -> str:
        key = self.cache.get(code)
        if key is None:
            key = self.cache[code] = self._key(code)
        if key == INVALID:
            self.invalid[code] += 1
        return key

    def _key(self, code: str) -> str:
        if is_unclassified(code):
            return UNCLASSIFIED
        if code not in self.taxonomy:
            return INVALID
        cat = self.taxonomy.get(code)
        return code if cat.level < self.level else self.taxonomy.ancestor_at(code, self.level).code

    def rows(self, cells: Counter) -> list[TableRow]:
        used = {key for key, _ in cells}
        out = []
        for cat in self.taxonomy.walk(self.level):
            title = cat.title_in(self.lang)
            if cat.level == self.level or not cat.children:
                out.append(TableRow(cat.code, "category", title))
            elif cat.code in used:
                out.append(TableRow(cat.code, "not_further_specified", f"{title} (not further specified)"))
        out.append(TableRow(UNCLASSIFIED, UNCLASSIFIED, "Unclassified"))
        if INVALID in used:
            out.append(TableRow(INVALID, INVALID, "Invalid code (not in the taxonomy)"))
        return out

    def warnings(self) -> list[str]:
        if not self.invalid:
            return []
        # codes, never their counts: the 'invalid' row may be withheld, and a count per code is finer still
        shown = ", ".join(map(repr, sorted(self.invalid)[:5]))
        more = f" and {len(self.invalid) - 5} more" if len(self.invalid) > 5 else ""
        hint = ""
        if any(c.isdigit() and "0" + c in self.taxonomy for c in self.invalid):
            hint = "; some look like codes that lost their leading zero in a spreadsheet"
        return [f"acts with codes not in the taxonomy are counted in the 'invalid' row: {shown}{more}{hint}; "
                "`icvac validate` counts them"]


class ValueMatcher:
    """A variable's value: its code, title or synonym in any language (``Variable.lookup``)."""

    def __init__(self, variable: Variable):
        self.variable = variable
        self.invalid = 0

    def match(self, raw: str) -> str:
        code = self.variable.lookup(raw)
        if code is None:
            if not raw.strip():
                return UNKNOWN
            self.invalid += 1
            return INVALID
        return code

    def warnings(self) -> list[str]:
        if not self.invalid:
            return []
        what = ("an age outside every age group, or an unreadable age or date"
                if self.variable.derived_from == AGE else "a value that is not one of the variable's codes")
        return [f"{self.variable.id}: records with {what} are counted in the 'invalid' column; "
                "`icvac taxonomy variables` lists the codes"]


def table_columns(taxonomy: Taxonomy, by: Sequence[str], matchers: list[ValueMatcher],
                  lang: str) -> list[TableColumn]:
    """A column per combination of the values of the ``by`` variables (every value, counted or not), then
    the total."""
    per_var = []
    for var_id, matcher in zip(by, matchers, strict=True):
        var = taxonomy.variables[var_id]
        values = [(v.code, v.title.get(lang) or v.title.get("en", v.code)) for v in var.values]
        if matcher.invalid:
            values.append((INVALID, "Invalid"))
        per_var.append(values)
    cols = [TableColumn(" / ".join(c for c, _ in combo), tuple(c for c, _ in combo),
                        " / ".join(t for _, t in combo)) for combo in itertools.product(*per_var)] if by else []
    return cols + [TableColumn("total", (), "Total")]


def value_getter(taxonomy: Taxonomy, var: str, colmap, source: str, group_at: int | None = None):
    """A function from a record's values to the raw value of ``var`` (for the age group: as ``icvac recode``
    wrote it in ``group_at``, else derived)."""
    variable = taxonomy.variables[var]
    if variable.derived_from == AGE:
        if group_at is not None:
            return lambda values: cell(values, group_at)
        return _age_group_getter(variable, colmap, source)
    index = colmap.get(var)
    if index is None:
        raise UsageError(f"{source}: --by {var}: no {var} column; name it with --column {var}=COLUMN")
    return lambda values: cell(values, index)


def _age_group_getter(variable: Variable, colmap, source: str):
    age_at, birth_at, incident_at = (colmap.get(r) for r in AGE_ROLES)
    if age_at is None and (birth_at is None or incident_at is None):
        raise UsageError(f"{source}: --by {variable.id} needs a victim_age column, or victim_birth_date and "
                         "incident_date columns; name them with --column")
    if birth_at is None or incident_at is None:
        birth_at = incident_at = None

    def group(values: list[str]) -> str:
        age = record_age(cell(values, age_at), cell(values, birth_at), cell(values, incident_at))
        if age is None:
            return UNKNOWN
        return INVALID if age is BAD else age_group(variable, age) or INVALID

    return group


def joined_acts(rows: Iterable[tuple[int, list[str]]], act_at: int,
                 joined: list[int | None]) -> Iterator[tuple[int, list[str]]]:
    """``recode --long`` rows back as records: a row whose ``icvac_act`` is above 1 adds its cells at
    ``joined`` (code, match) to the record before it, joined with ``|`` as recode joins them."""
    at = [i for i in joined if i is not None]
    held: tuple[int, list[str]] | None = None
    for number, values in rows:
        act = cell(values, act_at)
        if held is not None and act.isdigit() and int(act) > 1:
            cells = held[1]
            for i in at:
                cells.extend([""] * (i + 1 - len(cells)))  # a short (ragged) row keeps its acts too
                cells[i] = f"{cell(cells, i)}|{cell(values, i)}"
            continue
        if held is not None:
            yield held
        held = (number, list(values))
    if held is not None:
        yield held
