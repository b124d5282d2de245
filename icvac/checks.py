"""The error catalogue of ``icvac validate``: one entry per check, each with a stable slug.

Slugs are an interface: pipelines filter on them (``--pick``, ``--skip``) and people
look them up in docs/checks.md, which is generated from this module
(``python -m icvac.checks > docs/checks.md``; a test keeps it up to date).
Messages never quote a value from an opaque column (one with no role) or a free-text
column; templates only use the fields listed in each check's ``fields``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .columns import VARIABLE_ROLES

__all__ = ["Check", "CHECKS", "ERROR", "WARNING", "NEEDS", "check", "checks_markdown", "checks_not_run"]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Check:
    slug: str
    severity: str  # "error" (the row or file is invalid) or "warning" (allowed, worth a look)
    title: str
    template: str  # str.format with named fields
    description: str
    scope: str = "row"  # "file" (row is None) or "row"

    def message(self, **fields) -> str:
        return self.template.format(**fields)


_CATALOGUE = (
    Check("missing-required-column", ERROR, "Missing required column",
          "no column for the required role {role}; name a column {role!r} or pass --column {role}=NAME",
          "A required role has no column. `icvac_code` is always required; `--require ROLE` adds more. "
          "The checks that need the missing column do not run.", scope="file"),
    Check("blank-row", WARNING, "Blank row",
          "the row is blank",
          "Every cell of the row is empty. Blank rows after the last data row are not reported (they are "
          "not rows of data); a blank row between records is, because it often means a record was lost."),
    Check("wrong-field-count", ERROR, "Wrong number of fields",
          "the row has {count} fields but the header has {expected}",
          "The row has more or fewer fields than the header (an unquoted delimiter, a missing one, or a "
          "line break inside a value). Its values may sit under the wrong columns, so no other check runs "
          "on it."),
    Check("missing-id", WARNING, "Missing id",
          "the id is blank",
          "The id column exists but this row has no id: it can only be found again by its row number."),
    Check("duplicate-id", ERROR, "Duplicate id",
          "the id is already used by row {first}",
          "Two rows share an id: reported on the later row, naming the row where the id first appears. Ids "
          "are compared as written (after trimming spaces), exactly: two different ids are never taken for one."),
    Check("missing-code", ERROR, "Missing ICVAC code",
          "the ICVAC code is blank",
          "Every incident needs an ICVAC code; use a level-1 code or a residual (other … n.e.c.) code when the act "
          "is known only roughly."),
    Check("unknown-code", ERROR, "Unknown ICVAC code",
          "{value!r} is not a code of taxonomy {taxonomy}{hint}",
          "The code is not in the taxonomy. A cell may hold several codes, one per act, joined by `|` (as "
          "`icvac recode` writes them) or `;`: each is checked, and each unknown one is an issue. A number "
          "that lost its leading zero in a spreadsheet (`3011` for `03011`) is pointed out."),
    Check("unclassified-code", WARNING, "Unclassified record",
          "the record is coded 'unclassified'",
          "`unclassified` (any case) is what `icvac recode` writes for an act it could not code: the record "
          "is kept, never dropped. Allowed, and counted, so that the share of records still to classify is "
          "seen; `icvac recode --review FILE` lists the national values to add to the mapping."),
    Check("code-too-coarse", ERROR, "Code coarser than the minimum level",
          "code {value!r} is at level {level}; level {min_level} or finer is required",
          "Only with `--min-level N`: the code is at a level above N (level 1 is the coarsest)."),
    Check("age-not-a-number", ERROR, "Age not a whole number",
          "age {value!r} is not a whole number of years",
          "The victim's age must be a whole number of completed years from 0 to 130 (`7`; `7.0` as written "
          "by spreadsheets is accepted; `7.5`, `12,5`, `-1`, `1e1` and `nan` are not ages). A blank cell or "
          "`unknown` means the age is not known and is allowed."),
    Check("age-out-of-range", ERROR, "Age outside 0-17 (not a child)",
          "age {age} is outside 0-17: the victim is not a child",
          "A child is a person below 18 (CRC art. 1). Checked on the age column, and on the birth date "
          "column when the age is blank but both dates are given."),
    Check("invalid-date", ERROR, "Invalid date",
          "{value!r} is not a date in the form YYYY-MM-DD",
          "Dates are ISO 8601 calendar dates, `YYYY-MM-DD`, optionally followed by a time "
          "(`2023-04-01 14:30`), which is ignored. Dates typed as dates in Excel are read as such. "
          "Impossible dates (`2023-02-30`) are invalid. A blank cell means the date is not known."),
    Check("future-date", ERROR, "Date in the future",
          "{value} is after today ({today})",
          "An incident date or a birth date after the day of validation."),
    Check("birth-after-incident", ERROR, "Birth date after incident date",
          "the birth date {birth} is after the incident date {incident}",
          "The victim's birth date is later than the date of the incident."),
    Check("age-inconsistent", WARNING, "Age inconsistent with the dates",
          "age {age} does not match the dates: born {birth}, incident {incident} gives age {expected}",
          "The age differs from the completed years between the birth date and the incident date. A "
          "warning, because ages are often recorded at the date of report rather than of the incident."),
    Check("invalid-value", ERROR, "Value not in the variable's code list",
          "{value!r} is not a code of {variable}; use one of {allowed}",
          "A disaggregating variable column (sex, disability, migration status, relationship, setting, …) "
          "holds a value that is not one of the variable's codes (`icvac taxonomy variables`). "
          "Recode labels to codes with `icvac recode`."),
    Check("noncanonical-value", WARNING, "Value not written as its code",
          "{value!r} is read as {code!r}; write the code exactly",
          "The value is not written as a code, but reads as one: an ICVAC code with spaces around it "
          "(` 0301`), or a variable value written in another case (`Female`), or as a title or synonym of the "
          "value in any language of the taxonomy (`Féminin`, `girl`; case and accents ignored), as `icvac "
          "tabulate` and `icvac recode` read it. It is accepted, but a pipeline comparing codes exactly would "
          "not match it."),
    Check("missing-value", WARNING, "Missing value where `unknown` was expected",
          "the {variable} cell is blank; write 'unknown' when the value is not known",
          "Every variable has an explicit `unknown` code: a blank cell cannot be told apart from a value "
          "lost in transfer. A warning: the row is still valid and the blank is read as `unknown`."),
)

_COLUMNS_DOC = """
Columns are found by role. Each role has a default column name (`id`, `icvac_code`, `victim_age`,
`victim_birth_date`, `incident_date`, `victim_sex`, `victim_disability`, `victim_migration_status`,
`perpetrator_relationship`, `perpetrator_sex`, `perpetrator_age_group`, `setting`, `technology_facilitated`,
`armed_conflict`), matched exactly or ignoring case and accents; `--column ROLE=NAME` points a role at another
column; in the output of `icvac recode`, the columns its sidecar `OUT.meta.json` records are used. Only
`icvac_code` is required (`--require ROLE` adds others); a role without a column is not checked, and the
checks that need it are listed under "not run" with the reason (`not_run` in the JSON report), never as checked.
Columns with no role are opaque: they are never checked and their values are never shown. Rows are
identified by their number (as a spreadsheet numbers them, the header being row 1) and their id.

Rules in short: codes and variable values must be written exactly as in the taxonomy
(`icvac taxonomy variables`); a code cell may hold several codes joined by `|` or `;`, and `unclassified` is
counted as an `unclassified-code` warning. A variable value that reads as a code once case, accents and
spaces are ignored, or that is a title or synonym of a value, is accepted with a `noncanonical-value`
warning. A blank variable cell is a `missing-value` warning (write `unknown`). Ages are whole numbers 0-17;
a blank age or `unknown` is allowed. Dates are `YYYY-MM-DD`; a blank date is allowed.
"""

CHECKS: dict[str, Check] = {c.slug: c for c in _CATALOGUE}


# the roles each check reads: it runs when one of the sets is all there (checks not listed always run)
NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    **{slug: (("icvac_code",),) for slug in ("missing-code", "unknown-code", "unclassified-code", "code-too-coarse")},
    "missing-id": (("id",),), "duplicate-id": (("id",),),
    "age-not-a-number": (("victim_age",),),
    "age-out-of-range": (("victim_age",), ("victim_birth_date", "incident_date")),
    "invalid-date": (("incident_date",), ("victim_birth_date",)),
    "future-date": (("incident_date",), ("victim_birth_date",)),
    "birth-after-incident": (("victim_birth_date", "incident_date"),),
    "age-inconsistent": (("victim_age", "victim_birth_date", "incident_date"),),
    "invalid-value": tuple((role,) for role in VARIABLE_ROLES),
    "missing-value": tuple((role,) for role in VARIABLE_ROLES),
    "noncanonical-value": (("icvac_code",), *((role,) for role in VARIABLE_ROLES)),
}
_ANY_VARIABLE = "a variable column (victim_sex, perpetrator_relationship, …)"


def checks_not_run(present: set[str], min_level: bool, long: bool = False) -> dict[str, str]:
    """The checks that cannot run on a file whose columns hold the roles ``present``, each with why, in
    catalogue order. ``min_level``: whether --min-level was given; ``long``: the file is recode's output with
    one row per act, whose ids repeat by design."""
    out = {}
    for slug in CHECKS:
        needs = NEEDS.get(slug)
        if needs is None or any(present.issuperset(roles) for roles in needs):
            if slug == "code-too-coarse" and not min_level:
                out[slug] = "only with --min-level"
        elif needs[0] == ("id",) and long:
            out[slug] = ("the file has one row per act (icvac recode --long): an id repeats by design; name the "
                         "id column with --column id=NAME to check it")
        elif slug in ("invalid-value", "missing-value"):
            out[slug] = f"needs {_ANY_VARIABLE}"
        elif slug == "noncanonical-value":
            out[slug] = f"needs an icvac_code column or {_ANY_VARIABLE}"
        else:
            out[slug] = "needs " + ", or ".join(map(_columns_named, needs))
    return out


def file_notes(review_acts: int, header_hint: int | None, wrong_rows: int, rows_read: int,
               header_row: int) -> list[str]:
    """Warnings about a file as a whole, for the report's ``notes``."""
    notes = []
    if review_acts:
        notes.append(f"{review_acts} act(s) were coded from draft mapping entries not yet reviewed "
                     "(icvac_match=review): review the draft (icvac mapping review-import) before publishing")
    if header_hint is not None and header_hint != header_row:
        notes.append(f"row {header_hint} holds column names, but the header was read from row {header_row}: "
                     f"if the column names are on row {header_hint}, pass --header-row {header_hint}")
    elif wrong_rows >= 3 and wrong_rows * 2 > rows_read:
        notes.append(f"most rows have another number of fields than the header (row {header_row}): if the column "
                     "names are on another row (a title above them), pass --header-row N")
    return notes


def _columns_named(roles: tuple[str, ...]) -> str:
    if len(roles) == 1:
        return f"{'an' if roles[0][0] in 'aeiou' else 'a'} {roles[0]} column"
    return f"{', '.join(roles[:-1])} and {roles[-1]} columns"


def check(slug: str) -> Check:
    return CHECKS[slug]


def checks_markdown() -> str:
    """docs/checks.md: the catalogue and the JSON report format, generated so the two never drift."""
    from .report_model import REPORT_FORMAT_DOC

    lines = ["# Checks of `icvac validate`", "",
             "<!-- generated by `python -m icvac.checks > docs/checks.md`; do not edit by hand -->", "",
             "Errors make a file invalid (exit code 1); warnings are reported but allowed (exit code 0).", "",
             *_COLUMNS_DOC.strip().splitlines(), "",
             "| slug | severity | title |", "|---|---|---|"]
    lines += [f"| `{c.slug}` | {c.severity} | {c.title} |" for c in _CATALOGUE]
    for c in _CATALOGUE:
        lines += ["", f"## `{c.slug}`", "", f"*{c.severity}, {'file' if c.scope == 'file' else 'row'} level.* "
                  f"{c.description}", "", f"Message: `{c.template}`"]
    lines += ["", REPORT_FORMAT_DOC.strip(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.stdout.write(checks_markdown())
