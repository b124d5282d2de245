"""What a validation run adds up: every issue counted, the first ``max_issues`` kept, rows with errors.

The checker (``icvac.validate_engine``) hands over a batch's issues either as ``Event``s, in row order, to
be turned into ``Issue``s (while some are still to be kept or someone listens), or as counts alone.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .checks import CHECKS, ERROR
from .report_model import Issue, Report, Stats

__all__ = ["Event", "Tally", "ERRORS"]

ERRORS = frozenset(slug for slug, check in CHECKS.items() if check.severity == ERROR)


class Event(NamedTuple):
    """An issue before it is formatted: ``col`` is the column's position in the header."""

    row: int
    col: int | None
    slug: str
    id: str | None
    fields: dict[str, Any]


class Tally:
    """Counts every issue, keeps the first ``max_issues``, passes each to ``on_issue``."""

    def __init__(self, header: list[str], enabled: tuple[str, ...], max_issues: int,
                 on_issue: Callable[[Issue], None] | None):
        self.header = header
        self.enabled = frozenset(enabled)
        self.checks = enabled
        self.max_issues = max_issues
        self.on_issue = on_issue
        self.kept: list[Issue] = []
        self.counts = dict.fromkeys(enabled, 0)
        self.by_column: dict[str, dict[str, int]] = {}
        self.errors = self.warnings = 0
        self.rows_read = self.rows_with_errors = self.rows_with_warnings = self.rows_blank = 0
        self.not_run: dict[str, str] = {}
        self.notes: list[str] = []

    @property
    def wants_issues(self) -> bool:
        """Whether issues must still be formatted (else counting them is enough)."""
        return self.on_issue is not None or len(self.kept) < self.max_issues

    def emit(self, row: int | None, col: int | None, slug: str, row_id: str | None, fields: dict,
             column: str | None = None) -> None:
        """Count one issue; keep and pass it on while wanted. Returns nothing; the row's flags are the caller's."""
        if slug not in self.enabled:
            return
        chk = CHECKS[slug]
        self.counts[slug] += 1
        if chk.severity == ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if col is not None:
            column = self.header[col]
            per = self.by_column.setdefault(column, {})
            per[slug] = per.get(slug, 0) + 1
        if not self.wants_issues:
            return  # counted; formatting a message nobody will read is the costly part
        issue = Issue(row, column, slug, chk.severity, chk.message(**fields), row_id or None)
        if len(self.kept) < self.max_issues:
            self.kept.append(issue)
        if self.on_issue is not None:
            self.on_issue(issue)

    def add_events(self, events: list[Event], rows: int) -> None:
        """``rows`` rows read, whose issues are ``events`` (by row; each row's in the order of the checks)."""
        current, error, warning = None, False, False
        for event in events:
            if event.row != current:
                self._flag(error, warning)
                current, error, warning = event.row, False, False
            if event.slug in self.enabled:
                if event.slug in ERRORS:
                    error = True
                else:
                    warning = True
            self.emit(*event)
        self._flag(error, warning)
        self.rows_read += rows

    def _flag(self, error: bool, warning: bool) -> None:
        if error:
            self.rows_with_errors += 1
        elif warning:
            self.rows_with_warnings += 1

    def add_counts(self, counts: dict[str, int], by_column: dict[int, dict[str, int]], rows: int,
                   with_errors: int, with_warnings: int) -> None:
        """What ``add_events`` counts, counted already (``by_column`` by column position)."""
        for slug, n in counts.items():
            if slug in self.enabled and n:
                self.counts[slug] += n
                if slug in ERRORS:
                    self.errors += n
                else:
                    self.warnings += n
        for col, per_slug in by_column.items():
            for slug, n in per_slug.items():
                if slug in self.enabled and n:
                    per = self.by_column.setdefault(self.header[col], {})
                    per[slug] = per.get(slug, 0) + n
        self.rows_read += rows
        self.rows_with_errors += with_errors
        self.rows_with_warnings += with_warnings

    def report(self, source: str, fmt: str, taxonomy: str, columns: dict[str, str]) -> Report:
        issues = self.errors + self.warnings
        stats = Stats(self.rows_read, self.rows_read - self.rows_with_errors, self.rows_with_errors,
                      self.rows_with_warnings, self.rows_blank, issues, self.errors, self.warnings, len(self.kept))
        by_column = {c: {s: n for s, n in sorted(per.items(), key=lambda kv: self.checks.index(kv[0]))}
                     for c, per in sorted(self.by_column.items(), key=lambda kv: self.header.index(kv[0]))}
        # a check that could not run is listed with its reason, never as checked (nor counted as 0 issues)
        not_run = {slug: why for slug, why in self.not_run.items() if slug in self.enabled}
        ran = tuple(slug for slug in self.checks if slug not in not_run)
        counts = {slug: self.counts[slug] for slug in ran}
        return Report(self.errors == 0, source, fmt, taxonomy, stats, tuple(self.kept), counts,
                      by_column, columns, ran, not_run, tuple(self.notes))
