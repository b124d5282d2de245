"""Tabulate coded records: counts by ICVAC category, crossed with disaggregating variables.

Counting rules (documented in ``icvac tabulate --help`` and the README):

* The ``icvac_code`` cell of a record holds one or more codes joined by ``;`` or
  ``|`` (``"0301;0202"``, or ``"0301|0202"`` as ``icvac recode`` writes; see
  :mod:`icvac.codes`); each code is one *act*. A blank cell, or the literal
  ``unclassified`` (any case), is one unclassified act. Empty pieces between
  separators are ignored. A row whose cells are all blank is not a record.
* Codes are rolled up to the chosen level. The rows are the categories at that
  level, plus any coarser category that has no children (so every act has a
  home). A code coarser than the level whose category does have children
  (``03`` at ``--level 2``) goes to a row ``03 (not further specified)``.
  Codes not in the taxonomy go to an ``invalid`` row. Unclassified acts form
  their own row. "Not further specified" and ``invalid`` rows appear only when
  they count something; every other row always appears.
* ``--unit act`` (default): every cell counts acts, and the totals row is the sum
  of the category rows, so the grand total is the number of acts read.
* ``recode --long`` output (one row per act, numbered by ``icvac_act``) is read back as
  records: a row numbered above 1 is one more act of the row before it, as recode wrote
  them, so both units count as they do on the joined output.
* ``--unit victim``: every record is one victim (records are not de-duplicated).
  A cell counts the victims with at least one act in that row's category; the
  totals row counts distinct victims. A victim with acts in two categories is
  counted once in each, so category rows may add up to more than the total.
* ``--by`` takes up to two variables; with two, the columns are their
  combinations. Every value of a variable is a column, whether or not the data
  has it, so the shape of the table does not depend on the data. A blank value
  is ``unknown``; a value that is neither a code, a title nor a synonym of the
  variable goes to an ``invalid`` column, which appears only when needed.
  ``victim_age_group`` is read from ``icvac_victim_age_group`` (as ``icvac recode``
  writes it) when the file has that column, else derived from ``victim_age``, else from
  ``victim_birth_date`` and ``incident_date`` (see :mod:`icvac.ages`); blank gives
  ``unknown``, an age outside every group or an unreadable age or date ``invalid``.
* Suppression: see :mod:`icvac.suppression`. Withheld cells are shown as ``x``
  (never ``<5``: that would tell primary from complementary cells). Nothing else
  in the result gives a count a withheld cell could be recomputed from: when the
  grand total is withheld, ``records_read`` and ``acts_counted`` are null, and
  warnings name invalid codes and values without counting them.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .codes import UNCLASSIFIED, split_codes
from .columns import resolve_recoded, roles_for
from .errors import UsageError
from .readers import ReadOptions, open_table
from .suppression import suppress
from .tables import (
    ACT_COLUMN,
    AGE_ROLES,
    MAX_BY,
    UNITS,
    RowIndex,
    TableColumn,
    TableRow,
    ValueMatcher,
    cell,
    check_options,
    find,
    joined_acts,
    recoded_age_group,
    table_columns,
    value_getter,
)
from .taxonomy import Taxonomy
from .writers import atomic_output, csv_writer, excel_safe
from .xlsx_writer import xlsx_writer

__all__ = ["Tabulation", "TableRow", "TableColumn", "tabulate", "tabulate_records", "write_tabulation",
           "legend", "SUPPRESSED_MARKER", "UNITS", "MAX_BY", "TABLE_FORMATS"]

SUPPRESSED_MARKER = "x"
TABLE_FORMATS = ("csv", "json", "xlsx")
MATCH_COLUMN = "icvac_match"                  # written by `icvac recode`: how each act was coded


@dataclass(frozen=True)
class Tabulation:
    """A table with its totals: ``counts[i][j]`` for row i, column j; the last row and column are totals."""

    rows: tuple[TableRow, ...]
    columns: tuple[TableColumn, ...]
    counts: tuple[tuple[int, ...], ...]
    suppressed: tuple[tuple[bool, ...], ...]
    metadata: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def grand_total(self) -> int:
        return self.counts[-1][-1]

    def cell(self, i: int, j: int) -> int | None:
        """The published value: None when withheld."""
        return None if self.suppressed[i][j] else self.counts[i][j]

    def to_dict(self) -> dict:
        """JSON-ready: withheld counts are null and flagged in ``suppressed``."""
        return {
            "metadata": self.metadata,
            "warnings": list(self.warnings),
            "columns": [{"key": c.key, "values": list(c.values), "label": c.label} for c in self.columns],
            "rows": [{"key": r.key, "kind": r.kind, "label": r.label,
                      "counts": [self.cell(i, j) for j in range(len(self.columns))],
                      "suppressed": list(self.suppressed[i])} for i, r in enumerate(self.rows)],
        }

    def to_rows(self, marker: str = SUPPRESSED_MARKER) -> list[list]:
        """Header plus one list per row, for CSV and xlsx: code, category, counts; withheld as ``marker``."""
        out: list[list] = [["code", "category", *(c.key for c in self.columns)]]
        for i, row in enumerate(self.rows):
            code = "" if row.kind == "total" else row.key
            values = [marker if v is None else v for v in (self.cell(i, j) for j in range(len(self.columns)))]
            out.append([code, row.label, *values])
        return out


def tabulate(path: str | Path, taxonomy: Taxonomy, *, level: int = 1, by: Sequence[str] = (), unit: str = "act",
             min_cell: int = 5, read_options: ReadOptions = ReadOptions(), columns: dict[str, str] | None = None,
             lang: str = "en") -> Tabulation:
    """Read a coded data file and tabulate it. Raises InputError / UsageError when it cannot run."""
    check_options(taxonomy, level, by, unit, min_cell, lang)
    with open_table(path, read_options) as table:
        # recode output as it is: the columns its sidecar records, then the default names
        colmap, _ = resolve_recoded(path, table.header, columns, table.name, roles_for(taxonomy.variable_roles))
        code_at = colmap.get("icvac_code")
        if code_at is None:
            raise UsageError(f"{table.name}: no icvac_code column; name it with --column icvac_code=COLUMN")
        # the age group recode derived, unless --column points at the ages or dates to derive it from
        group_at = None if set(columns or ()) & set(AGE_ROLES) else find(table.header, recoded_age_group(taxonomy))
        getters = [value_getter(taxonomy, var, colmap, table.name, group_at) for var in by]
        read: Counter[str] = Counter()
        rows = table.rows()
        act_at = find(table.header, ACT_COLUMN)
        if act_at is not None:
            rows = joined_acts(rows, act_at, [code_at, find(table.header, MATCH_COLUMN)])
        records = _records(rows, len(table.header), code_at, getters, read,
                           find(table.header, MATCH_COLUMN))
        result = tabulate_records(records, taxonomy, level=level, by=by, unit=unit, min_cell=min_cell, lang=lang)
    source = "<stdin>" if str(path) == "-" else Path(path).name
    notes = []
    if not read["records"]:
        notes.append(f"{source}: no data rows (only a header)")
    if read["ragged"]:
        notes.append(f"{read['ragged']} row(s) had a different number of cells than the header; missing cells "
                     "were read as blank and cells beyond the header ignored (`icvac validate` lists them)")
    if read["review"]:
        # the count only where no cell is withheld: acts coded from drafts may all sit in one withheld cell
        count = f"{read['review']} act(s)" if not result.metadata["suppressed_cells"] else "acts"
        notes.append(f"{count} in this table were coded from draft mapping entries not yet reviewed "
                     "(icvac_match=review): review the draft before publishing; `icvac validate` counts them")
    return replace(result, metadata={"source": source, **result.metadata}, warnings=(*notes, *result.warnings))


def legend(min_cell: int) -> str:
    """What ``x`` in a table file means."""
    if min_cell <= 1:
        return f"Note: small-cell suppression was off (--min-cell {min_cell}): every count is shown, however small."
    return (f"Note: {SUPPRESSED_MARKER} = withheld (small-cell suppression, --min-cell {min_cell}): counts from 1 to "
            f"{min_cell - 1}, and further cells that would let them be recomputed from the totals.")


def write_tabulation(tab: Tabulation, fmt: str, output: str | os.PathLike | None) -> None:
    """Write atomically to ``output`` (``-`` or None: stdout) as csv, json or xlsx. CSV and xlsx cells pass
    through ``excel_safe`` (they are opened in spreadsheets); JSON keeps withheld counts as null."""
    if fmt not in TABLE_FORMATS:
        raise UsageError(f"cannot write a table as {fmt!r}; use one of {', '.join(TABLE_FORMATS)}")
    if fmt == "xlsx":
        with xlsx_writer(output, sheet="table") as write:
            for row in tab.to_rows():
                write([excel_safe(v) for v in row])
            # a note under the table, as published tables carry one; the CSV gets none: a CSV reader
            # (Python's csv module, for one) takes a note line for one more row of the table
            write([])
            write([legend(tab.metadata.get("min_cell", 0))])
        return
    with atomic_output(output) as handle:
        if fmt == "json":
            handle.write(json.dumps(tab.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            writer = csv_writer(handle)
            for row in tab.to_rows():
                writer.writerow([excel_safe(v) for v in row])


def _records(rows: Iterable[tuple[int, list[str]]], width: int, code_at: int, getters,
             read: Counter, match_at: int | None = None) -> Iterator[tuple[str, tuple[str, ...]]]:
    drafts: dict[str, int] = {}  # icvac_match cell -> its acts coded from a draft entry (few distinct cells)
    for _, values in rows:
        if not "".join(values).strip():
            continue  # a blank line or an empty formatted spreadsheet row is not a record
        read["records"] += 1
        if len(values) != width:
            read["ragged"] += 1
        if match_at is not None:
            method = cell(values, match_at)
            found = drafts.get(method)
            if found is None:
                found = method.split("|").count("review")
                if len(drafts) < 1000:
                    drafts[method] = found
            read["review"] += found
        yield cell(values, code_at), tuple(get(values) for get in getters)


def tabulate_records(records: Iterable[tuple[str, tuple[str, ...]]], taxonomy: Taxonomy, *, level: int = 1,
                     by: Sequence[str] = (), unit: str = "act", min_cell: int = 5, lang: str = "en") -> Tabulation:
    """Tabulate ``(icvac_code cell, (value of each --by variable, …))`` pairs.

    Variable values may be raw (``"F"``, ``"féminin"``): they are matched to the variable's codes here.
    Age-group values must already be derived (``tabulate`` does it from ages or dates).
    """
    check_options(taxonomy, level, by, unit, min_cell, lang)
    rows = RowIndex(taxonomy, level, lang)
    matchers = [ValueMatcher(taxonomy.variables[v]) for v in by]
    cells: Counter = Counter()
    totals: Counter = Counter()
    n_records = n_acts = 0
    for code_cell, raw_values in records:
        n_records += 1
        column = tuple(m.match(v) for m, v in zip(matchers, raw_values, strict=True))
        keys = [rows.key_for(code) for code in split_codes(code_cell) or (UNCLASSIFIED,)]
        n_acts += len(keys)
        for key in (keys if unit == "act" else dict.fromkeys(keys)):
            cells[key, column] += 1
        totals[column] += len(keys) if unit == "act" else 1
    cols = table_columns(taxonomy, by, matchers, lang)
    row_list = rows.rows(cells)
    counts = [[cells[r.key, c.values] for c in cols[:-1]] for r in row_list]
    counts = [r + [sum(r) if by else cells[row.key, ()]] for r, row in zip(counts, row_list, strict=True)]
    bottom = [totals[c.values] for c in cols[:-1]]
    counts.append(bottom + [sum(totals.values())])
    row_list.append(TableRow("total", "total", "Total"))
    # --min-cell 1 withholds counts from 1 to 0: none, like 0
    mask = suppress(counts, min_cell) if min_cell > 1 else [[False] * len(r) for r in counts]
    warnings = rows.warnings() + [w for m in matchers for w in m.warnings()]
    if min_cell <= 1:
        warnings.append(f"small-cell suppression is off (--min-cell {min_cell}): do not publish this table")
    # both equal the grand total in one unit or the other: publishing them would undo its suppression
    hidden = mask[-1][-1]
    metadata = {
        "taxonomy": {"id": taxonomy.id, "version": taxonomy.version, "status": taxonomy.status},
        "level": level, "unit": unit, "by": list(by), "min_cell": min_cell, "suppressed_marker":
        SUPPRESSED_MARKER, "records_read": None if hidden else n_records, "acts_counted": None if hidden else n_acts,
        "suppressed_cells": sum(map(sum, mask)),
    }
    return Tabulation(tuple(row_list), tuple(cols), tuple(map(tuple, counts)), tuple(map(tuple, mask)),
                      metadata, tuple(warnings))
