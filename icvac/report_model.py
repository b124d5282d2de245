"""The model of a validation report: ``Issue``, ``Stats``, ``Report`` (and the JSON report's documentation).

Shared by the checker (``icvac.validate_engine``), the plumbing (``icvac.validate``) and the renderers
(``icvac.report``); it imports nothing of theirs, so none of them needs another to read a report.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Issue", "Stats", "Report", "REPORT_FORMAT_DOC"]


@dataclass(frozen=True)
class Issue:
    """One problem: ``row`` is None for file-level issues; ``id`` is the row's id when it has one."""

    row: int | None
    column: str | None
    slug: str
    severity: str
    message: str
    id: str | None = None

    def to_dict(self) -> dict:
        return {"row": self.row, "id": self.id, "column": self.column, "slug": self.slug,
                "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Stats:
    rows_read: int = 0
    rows_valid: int = 0
    rows_with_errors: int = 0
    rows_with_warnings: int = 0
    rows_blank: int = 0
    issues: int = 0
    errors: int = 0
    warnings: int = 0
    issues_kept: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Report:
    valid: bool
    source: str
    format: str
    taxonomy: str
    stats: Stats
    issues: tuple[Issue, ...]
    counts_by_slug: dict[str, int]          # every check that ran, in catalogue order, zeros included
    counts_by_column: dict[str, dict[str, int]]  # column name -> slug -> count (row-level issues only)
    columns: dict[str, str]                 # role -> column name, for the roles found
    checks: tuple[str, ...]                 # the checks that ran
    not_run: dict[str, str] = field(default_factory=dict)  # check -> why it did not run (a column missing)
    notes: tuple[str, ...] = ()             # warnings about the file as a whole (draft-coded acts, header row)

    @property
    def truncated(self) -> bool:
        return self.stats.issues > len(self.issues)

    def to_dict(self) -> dict:
        return {
            "valid": self.valid, "source": self.source, "format": self.format, "taxonomy": self.taxonomy,
            "stats": self.stats.to_dict(), "truncated": self.truncated,
            "counts_by_slug": dict(self.counts_by_slug),
            "counts_by_column": {c: dict(s) for c, s in self.counts_by_column.items()},
            "columns": dict(self.columns), "checks": list(self.checks),
            "not_run": [{"slug": slug, "reason": reason} for slug, reason in self.not_run.items()],
            "notes": list(self.notes),
            "issues": [i.to_dict() for i in self.issues],
        }

REPORT_FORMAT_DOC = """
## The JSON report (`icvac validate DATA --format json`)

One JSON object on stdout:

| key | meaning |
|---|---|
| `valid` | `true` when there is no error (warnings are allowed); the exit code is then 0, else 1 |
| `source`, `format` | the file read (`<stdin>` for `-`) and how it was read (`csv`, `xlsx`, `jsonl`) |
| `taxonomy` | id, version and status of the taxonomy the codes were checked against |
| `stats.rows_read` | data rows after the header, blank rows included, except blank rows after the last non-blank row |
| `stats.rows_valid` | rows with no error (`rows_read - rows_with_errors`) |
| `stats.rows_with_errors` | rows with at least one error; `rows_valid + rows_with_errors == rows_read` |
| `stats.rows_with_warnings` | valid rows with at least one warning |
| `stats.rows_blank` | blank rows reported (`blank-row`) |
| `stats.issues`, `stats.errors`, `stats.warnings` | issues found, file-level ones included; `errors + warnings == issues` |
| `stats.issues_kept` | issues listed under `issues` (at most `--max-issues`); `truncated` is true when fewer than found |
| `counts_by_slug` | issues per check, for every check that ran (zeros included); they add up to `stats.issues` |
| `counts_by_column` | column name -> check -> issues, for issues tied to a column |
| `columns` | role -> the column of the file that holds it |
| `checks` | the checks that ran (after `--pick` and `--skip`) |
| `not_run[]` | the checks that could not run, each `slug` with its `reason` (a column the file lacks, `--min-level` not given): never listed under `checks` |
| `notes[]` | warnings about the file as a whole (acts coded from draft entries awaiting review, a header row that is not row 1) |
| `issues[]` | `row` (as numbered in a spreadsheet, header = row 1; `null` for file-level), `id`, `column`, `slug`, `severity`, `message` |

Messages quote a value only from coded columns (codes, numbers, dates); values of columns with no role
are never shown. `--issues FILE.csv` writes every issue with the columns `row,id,column,slug,severity,message`.
"""
