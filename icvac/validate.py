"""Validate an incident dataset against ICVAC: one streaming pass, a Report at the end.

Bad data is never an exception: every problem is an Issue (a check of the catalogue in
icvac.checks, a row number, a column and the row's id) and the Report counts them all.
Only a file that cannot be read, or options that cannot work, raise (InputError, UsageError).

Memory stays flat whatever the number of rows: rows are read a chunk of a few hundred at a time
and checked a column at a time, checks are cached per distinct value (up to CACHE_LIMIT values per
column), duplicate ids are found in compact runs of ids or 64-bit hashes (icvac.ids), and at most ``max_issues``
issues are kept (all are counted, and all are passed to ``on_issue``, which the CLI uses to write
``--issues FILE.csv``).

Stats (see docs/checks.md for the whole JSON report):
- rows_read: data rows after the header, blank rows included, except blank rows after the
  last non-blank row (trailing blank lines and formatted empty Excel rows are not data);
- rows_with_errors: rows with at least one error; rows_valid = rows_read - rows_with_errors,
  so rows_read == rows_valid + rows_with_errors always;
- rows_with_warnings: valid rows with at least one warning (a subset of rows_valid);
- errors + warnings == issues: the number of issues found, file-level ones included.
"""
from __future__ import annotations

import operator
import os
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, count, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .ages import BAD, parse_age, parse_date
from .checks import CHECKS, ERROR, checks_not_run, file_notes
from .codes import is_unclassified, split_codes
from .columns import ROLES, VARIABLE_ROLES, resolve_recoded, roles_for
from .errors import UsageError
from .ids import IdIndex, NotedIds, WorkerIds
from .parallel import CHUNK_LINES, Source, blocks, chunked, numbered, plan
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["Issue", "Stats", "Report", "ValidateOptions", "validate", "DEFAULT_MAX_ISSUES", "REQUIRED_ROLES"]

DEFAULT_MAX_ISSUES = 100
REQUIRED_ROLES = ("icvac_code",)
CACHE_LIMIT = 10_000   # distinct values remembered per column; beyond it values are checked afresh
SHOWN_LENGTH = 40      # a coded value longer than this is cut in messages
MATCH_COLUMN = "icvac_match"  # written by `icvac recode`: how each act was coded
JOIN = "|"             # between the acts of a record in recode's cells
HEADER_SEARCH = 50     # rows searched for column names when the header row seems wrong


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


@dataclass(frozen=True)
class ValidateOptions:
    read: ReadOptions = ReadOptions()
    columns: Mapping[str, str] = field(default_factory=dict)  # role -> column name (--column)
    required: tuple[str, ...] = REQUIRED_ROLES
    min_level: int | None = None
    pick: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    max_issues: int = DEFAULT_MAX_ISSUES
    today: date | None = None  # injectable so "future date" is testable; date.today() when None
    jobs: int | None = None    # processes for a CSV file (icvac.parallel); None: chosen from its size


def validate(source: str | os.PathLike, taxonomy: Taxonomy | None = None,
             options: ValidateOptions = ValidateOptions(),
             on_issue: Callable[[Issue], None] | None = None) -> Report:
    """Check a data file (``-`` is CSV on stdin) row by row; return the Report."""
    taxonomy = taxonomy or load_taxonomy()
    enabled = _enabled_checks(options)
    _check_options(options, taxonomy)
    with open_table(source, options.read) as table:
        cmap, recoded = resolve_recoded(source, table.header, dict(options.columns), table.name,
                                         roles_for(taxonomy.variable_roles))
        run = _Run(table.header, enabled, options.max_issues, on_issue)
        present = {role for role in cmap.index if role not in VARIABLE_ROLES or role in taxonomy.variables}
        run.not_run = checks_not_run(present, options.min_level is not None, recoded.long)
        for role in dict.fromkeys(options.required):
            if cmap.get(role) is None:
                run.emit(None, None, "missing-required-column", None, {"role": role}, column=role)
        header = table.header
        # recode's icvac_match column, to count the acts coded from draft entries awaiting review
        index = {**cmap.index, **({MATCH_COLUMN: header.index(MATCH_COLUMN)} if MATCH_COLUMN in header else {})}
        checker = _Checker(run.enabled, taxonomy, index, options, len(header))
        checker.names = frozenset(n.casefold() for n in (*roles_for(taxonomy.variable_roles),
                                                          *(f"icvac_{r}" for r in taxonomy.variable_roles),
                                                          *options.columns.values(), *recoded.roles.values()))
        source = plan(table, options.read.header_row, options.jobs)
        if source is None:
            _check_here(run, checker, table.rows(), [])
        else:
            _check_blocks(source, checker, run)
        # the file's name, not the path as typed: reports are shared, and a path can name a person
        name, fmt = Path(table.name).name, table.format
    run.notes = file_notes(run.review_acts, run.header_hint, run.counts.get("wrong-field-count", 0), run.rows_read,
                           options.read.header_row)
    return run.report(name, fmt, f"{taxonomy.id} {taxonomy.version} ({taxonomy.status})",
                      {role: table.header[i] for role, i in cmap.index.items()})


def _check_here(run: _Run, checker: "_Checker", rows, blank: list[int]) -> None:
    """Check ``rows`` in this process, a chunk at a time, after the blank rows ``blank`` not yet reported."""
    for numbers, cells in chunked(rows, CHUNK_LINES):
        log = _Log(run.enabled)
        checker.check(log, numbers, cells, blank)
        _replay(run, log, 0, checker.id_col)


def _check_blocks(source: Source, checker: "_Checker", run: _Run) -> None:
    """``checker.check`` over blocks of the file in worker processes (icvac.parallel); their issues replayed
    here in file order, and the duplicate ids found here, across blocks."""

    def work(chunks) -> _Log:
        # in a worker: ``checker`` is the worker's own copy, its caches filling once per worker
        log = _Log(run.enabled)
        for numbers, rows in numbered(chunks):
            checker.check(log, numbers, rows, log.trailing)
        if checker.track_ids:
            checker.worker_ids.prepare(log.ids)
        return log

    number, blank = source.header_row, []  # the row before the block; blank rows not yet reported
    with blocks(source, work) as results:
        for offset, log in results:
            if log is None:
                _check_here(run, checker, source.rows_from(offset, number), blank)
                return
            if log.rows_read:  # the block holds a record: the blank rows before it are rows
                for empty in blank:
                    run.blank_row(empty)
                blank.clear()
            if number == source.header_row:  # the first block: as many ids in each block, more or less
                run.seen_ids.reserve(log.rows_read * (source.size - source.start) // source.block_size)
            _replay(run, log, number, checker.id_col)
            blank += [number + n for n in log.trailing]
            number += log.rows_read + len(log.trailing)


def _replay(run: _Run, log: _Log, before: int, id_col: int | None) -> None:
    """Count a block's rows and issues into ``run``, in the order one process reading the file finds them:
    a row's duplicate id (the first check of a row) before its other issues."""
    events = log.events
    duplicates = run.seen_ids.add_noted(log.ids, before)
    if duplicates and "duplicate-id" in run.enabled:
        ids, id_rows, first = log.ids.values(), log.ids.rows, run.seen_ids.earlier
        # into the events, sorted by row, each before the other issues of its row
        rows, merged, done = list(map(_FIRST, events)), [], 0
        for n, row_id, earlier in zip(duplicates, map(ids.__getitem__, duplicates), first):
            at = bisect_left(rows, id_rows[n], done)
            merged += events[done:at]
            merged.append((id_rows[n], id_col, "duplicate-id", row_id, {"first": earlier}))
            done = at
        events = merged + events[done:]
    if run.on_issue is None and len(run.kept) >= run.max_issues:
        run.count(events)  # no issue left to keep: the counts are all that is left to do
    else:
        current = None
        marked = 0  # rows with issues: ended here, with their error and warning flags
        for row, col, slug, row_id, fields in events:
            if row != current:
                if current is not None:
                    run.end_row()
                current, marked = row, marked + 1
            run.emit(before + row, col, slug, row_id, fields)
        if current is not None:
            run.end_row()
        run.rows_read -= marked
    run.rows_read += log.rows_read
    run.rows_blank += log.rows_blank
    run.review_acts += log.review_acts
    if log.header_hint is not None and run.header_hint is None and before + log.header_hint <= HEADER_SEARCH:
        run.header_hint = before + log.header_hint


def _enabled_checks(options: ValidateOptions) -> tuple[str, ...]:
    for slug in (*options.pick, *options.skip):
        if slug not in CHECKS:
            raise UsageError(f"unknown check {slug!r}; `icvac validate --list-checks` lists them")
    picked = set(options.pick) or set(CHECKS)
    return tuple(s for s in CHECKS if s in picked and s not in options.skip)


def _check_options(options: ValidateOptions, taxonomy: Taxonomy) -> None:
    deepest = max((c.level for c in taxonomy.categories.values()), default=1)
    if options.min_level is not None and not 1 <= options.min_level <= deepest:
        raise UsageError(f"--min-level {options.min_level}: the taxonomy has levels 1 to {deepest}")
    if options.max_issues < 0:
        raise UsageError("--max-issues must be 0 or more")
    for role in options.required:
        if role not in ROLES:
            raise UsageError(f"--require {role!r}: unknown role; roles are {', '.join(ROLES)}")


class _Rows:
    """What ``_Run`` and a worker's ``_Log`` share."""

    def blank_row(self, number: int) -> None:
        """A blank row, once a record follows it (blank rows at the end of a file are not rows)."""
        self.emit(number, None, "blank-row", None, {})
        self.rows_blank += 1
        self.end_row()


class _Run(_Rows):
    """Counts every issue, keeps the first ``max_issues``, and tracks the current row's state."""

    def __init__(self, header, enabled, max_issues, on_issue):
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
        self.row_error = self.row_warning = False
        self.seen_ids = IdIndex()
        self.not_run: dict[str, str] = {}
        self.notes: list[str] = []
        self.review_acts = 0
        self.header_hint: int | None = None  # a ragged row near the top that holds column names

    def emit(self, row, col, slug, row_id, fields, column=None) -> None:
        if slug not in self.enabled:
            return
        chk = CHECKS[slug]
        self.counts[slug] += 1
        if chk.severity == ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if row is not None:  # a file-level issue belongs to no row
            if chk.severity == ERROR:
                self.row_error = True
            else:
                self.row_warning = True
        if col is not None:
            column = self.header[col]
            per = self.by_column.setdefault(column, {})
            per[slug] = per.get(slug, 0) + 1
        if self.on_issue is None and len(self.kept) >= self.max_issues:
            return  # counted; formatting a message nobody will read is the costly part
        issue = Issue(row, column, slug, chk.severity, chk.message(**fields), row_id or None)
        if len(self.kept) < self.max_issues:
            self.kept.append(issue)
        if self.on_issue is not None:
            self.on_issue(issue)

    def count(self, events: list[tuple]) -> None:
        """What ``emit`` and ``end_row`` count for ``events`` (rows' issues, by row), done in bulk. The rows
        are counted by the caller."""
        slugs = list(map(_THIRD, events))
        for slug, n in Counter(slugs).items():
            self.counts[slug] += n
            if slug in _ERRORS:
                self.errors += n
            else:
                self.warnings += n
        for (col, slug), n in Counter(zip(map(_SECOND, events), slugs)).items():
            if col is not None:
                per = self.by_column.setdefault(self.header[col], {})
                per[slug] = per.get(slug, 0) + n
        marked = set(map(_FIRST, events))
        with_errors = len(set(compress(map(_FIRST, events), map(_ERRORS.__contains__, slugs))))
        self.rows_with_errors += with_errors
        self.rows_with_warnings += len(marked) - with_errors

    def end_row(self) -> None:
        self.rows_read += 1
        if self.row_error:
            self.rows_with_errors += 1
        elif self.row_warning:
            self.rows_with_warnings += 1
        self.row_error = self.row_warning = False

    def report(self, source, fmt, taxonomy, columns) -> Report:
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


class _Log(_Rows):
    """Stands in for ``_Run`` in a worker process: records a block's issues, for the caller to replay in
    order (``_replay``), and its ids, for the caller to find the duplicates among."""

    def __init__(self, enabled: frozenset[str]):
        self.enabled = enabled
        self.events: list[tuple] = []
        self.rows_read = self.rows_blank = 0
        self.trailing: list[int] = []
        self.ids = NotedIds()  # for the caller to find the duplicates among
        self.review_acts = 0
        self.header_hint: int | None = None

    def emit(self, row, col, slug, row_id, fields, column=None) -> None:
        if slug in self.enabled:
            self.events.append((row, col, slug, row_id, fields))

    def end_row(self) -> None:
        self.rows_read += 1


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_LENGTH else value[:SHOWN_LENGTH - 1] + "…"


class _Checker:
    """Checks rows a chunk at a time, a column at a time: each cell check is a function of the cell alone,
    done once per distinct value (and cached), and the rows whose value has a problem are found by a scan
    of the column in C (``compress``). Only the dates and age of a record are compared row by row."""

    def __init__(self, enabled: frozenset[str], taxonomy: Taxonomy, index: dict[str, int],
                 options: ValidateOptions, width: int):
        self.enabled = enabled
        self.every_check = enabled >= CHECKS.keys()
        self.taxonomy = taxonomy
        self.min_level = options.min_level
        self.today = options.today or date.today()
        self.width = width
        self.id_col = index.get("id")
        self.track_ids = self.id_col is not None and "duplicate-id" in enabled
        self.age_col = index.get("victim_age")
        self.match_col = index.get(MATCH_COLUMN)
        self.match_cache: dict[str, int] = {}
        self.names: frozenset[str] = frozenset()  # column names, casefolded: to tell a header row
        self.birth_col = index.get("victim_birth_date")
        self.incident_col = index.get("incident_date")
        # (column, cache, check) for the cells whose check needs nothing but the cell
        self.cells: list[tuple[int, dict, Callable]] = []
        if "icvac_code" in index:
            self.cells.append((index["icvac_code"], {}, self._code))
        for role in taxonomy.variable_roles:
            if role in index:
                self.cells.append((index[role], {}, self._variable_check(role)))
        self.dates = [(col, {}) for col in (self.incident_col, self.birth_col) if col is not None]
        self.age_cache: dict = {}
        self.worker_ids = WorkerIds()
        self.checked = sorted({*(col for col, _, _ in self.cells), *(col for col, _ in self.dates),
                               *(col for col in (self.id_col, self.age_col, self.match_col) if col is not None)})
        self.pick = itemgetter(*self.checked) if len(self.checked) > 1 else None

    def check(self, log: _Log, numbers: Sequence[int], rows: Sequence[list[str]], blank: list[int]) -> None:
        """Add to ``log`` the issues of ``rows``, numbered ``numbers``, after the blank rows ``blank`` not yet
        reported; on return ``blank`` holds the blank rows after the last record (reported once a record
        follows, in another chunk)."""
        start = len(log.events)
        width = self.width
        # most chunks: every row has the header's width and a first cell, so none is blank
        if blank or not (all(map(width.__eq__, map(len, rows))) and all(map(str.strip, map(_FIRST, rows)))):
            numbers, rows = self._sort_out(log, numbers, rows, blank)
        if rows:
            self._check_records(log, numbers, rows)
            log.rows_read += len(rows)
            # by row, stable: each row's issues in the order of the checks
            found = log.events[start:]
            if not self.every_check:
                found = compress(found, map(self.enabled.__contains__, map(_THIRD, found)))
            log.events[start:] = sorted(found, key=_FIRST)

    def _sort_out(self, log: _Log, numbers, rows, blank: list[int]) -> tuple[list[int], list[list[str]]]:
        """Report the blank and ragged rows; return the others."""
        chunk, numbers, rows = zip(numbers, rows), [], []
        for number, row in chunk:
            if not (row and row[0].strip()) and not "".join(row).strip():
                blank.append(number)
                continue
            for empty in blank:  # a blank row is reported only once a record follows it
                log.blank_row(empty)
            blank.clear()
            if len(row) == self.width:
                numbers.append(number)
                rows.append(row)
            else:
                # no id: in a misaligned row the id position may hold a neighbouring column's text
                log.emit(number, None, "wrong-field-count", None, {"count": len(row), "expected": self.width})
                if log.header_hint is None and number <= HEADER_SEARCH and \
                        any(cell.strip().casefold() in self.names for cell in row):
                    log.header_hint = number
                log.end_row()
        return numbers, rows

    def _check_records(self, log: _Log, numbers, rows) -> None:
        """Rows of the header's width, none blank. Issues are listed check by check, in the order a
        row's issues come in; the caller sorts them by row."""
        events = log.events
        column = self._columns(rows)
        if self.match_col is not None:
            log.review_acts += sum(_looked_up(self.match_cache, column[self.match_col], _review_acts))
        ids = self._ids(log, numbers, column[self.id_col]) if self.id_col is not None else [None] * len(rows)
        for col, cache, check in self.cells:
            problems = _looked_up(cache, column[col], check)
            _add_events(events, col, problems, numbers, ids)
        days = []
        for col, cache in self.dates:
            found = _looked_up(cache, column[col], self._date)
            _add_events(events, col, list(map(_SECOND, found)), numbers, ids)
            days.append(list(map(_FIRST, found)))
        ages = None
        if self.age_col is not None:
            found = _looked_up(self.age_cache, column[self.age_col], self._age)
            _add_events(events, self.age_col, list(map(_SECOND, found)), numbers, ids)
            ages = list(map(_FIRST, found))
        if len(days) == 2:
            self._compare_dates(events, numbers, ids, days[0], days[1], ages or [None] * len(rows))

    def _columns(self, rows) -> dict[int, Sequence[str]]:
        """The cells of the checked columns, a sequence per column."""
        if len(self.checked) < 2:  # itemgetter of one column gives a cell, not a tuple of one
            return {col: list(map(itemgetter(col), rows)) for col in self.checked}
        # a tuple per row of the cells checked, turned into a tuple per column: half the time of a map per column
        return dict(zip(self.checked, zip(*map(self.pick, rows))))

    def _ids(self, log: _Log, numbers, cells: Sequence[str]) -> list[str]:
        """The rows' ids (trimmed; blank where missing), handed to ``log`` to find the duplicates among
        (unless that check is off)."""
        ids = list(map(str.strip, cells))
        if all(ids):
            if self.track_ids:
                log.ids.note(numbers, ids)
            return ids
        present = list(map(bool, ids))
        for i in compress(count(), map(operator.not_, present)):
            log.events.append((numbers[i], self.id_col, "missing-id", None, {}))
        if self.track_ids:
            log.ids.note(list(compress(numbers, present)), list(compress(ids, present)))
        return ids

    def _compare_dates(self, events, numbers, ids, incidents, births, ages) -> None:
        """A record's birth and incident dates (``YYYYMMDD`` numbers) with each other and its age."""
        for i, incident, birth, age in zip(count(), incidents, births, ages):
            if incident is None or birth is None:
                continue
            if birth > incident:
                events.append((numbers[i], self.birth_col, "birth-after-incident", ids[i],
                               {"birth": _iso(birth), "incident": _iso(incident)}))
                continue
            # completed years, as icvac.ages.completed_years counts them: the month and day decide the last
            expected = (incident - birth) // 10000
            if age is None:
                if expected > 17:
                    events.append((numbers[i], self.birth_col, "age-out-of-range", ids[i], {"age": expected}))
            elif age is not BAD and age <= 17 and age != expected:
                events.append((numbers[i], self.age_col, "age-inconsistent", ids[i],
                               {"age": age, "birth": _iso(birth), "incident": _iso(incident),
                                "expected": expected}))

    # -- cell checks: value -> (parsed, problems) or problems; each is cached per distinct value

    def _code(self, value: str) -> tuple:
        codes = split_codes(value)
        if not codes:
            return (("missing-code", {}),)
        problems = [self._one_code(code) for code in codes]
        problems = [p for p in problems if p is not None]
        if any(is_unclassified(code) for code in codes):
            problems.append(("unclassified-code", {}))
        if not any(slug == "unknown-code" for slug, _ in problems) and "".join(value.split()) != value:
            problems.insert(0, ("noncanonical-value", {"value": _shown(value), "code": "".join(value.split())}))
        return tuple(problems)

    def _one_code(self, code: str) -> tuple | None:
        if is_unclassified(code):
            return None
        category = self.taxonomy.categories.get(code)
        if category is None:
            hint = ""
            if code.isdigit() and "0" + code in self.taxonomy.categories:
                hint = f" (did a spreadsheet drop its leading zero? {'0' + code!r} is a code)"
            return ("unknown-code", {"value": _shown(code), "taxonomy": self.taxonomy.id, "hint": hint})
        if self.min_level is not None and category.level < self.min_level:
            return ("code-too-coarse", {"value": code, "level": category.level, "min_level": self.min_level})
        return None

    def _variable_check(self, role: str) -> Callable[[str], tuple]:
        variable = self.taxonomy.variables[role]
        exact = frozenset(variable.codes)
        allowed = ", ".join(variable.codes)

        def check(value: str) -> tuple:
            if value in exact:
                return ()
            if not value.strip():
                return (("missing-value", {"variable": role}),)
            code = variable.lookup(value)
            if code is not None:
                return (("noncanonical-value", {"value": _shown(value), "code": code}),)
            return (("invalid-value", {"value": _shown(value.strip()), "variable": role, "allowed": allowed}),)

        return check

    @staticmethod
    def _age(value: str) -> tuple:
        age = parse_age(value)
        if age is BAD:
            return BAD, (("age-not-a-number", {"value": _shown(value.strip())}),)
        if age is not None and age > 17:
            return age, (("age-out-of-range", {"age": age}),)
        return age, ()

    def _date(self, value: str) -> tuple:
        """(the date as a ``YYYYMMDD`` number, or None when there is none to compare, problems)."""
        day = parse_date(value)
        if day is BAD:
            return None, (("invalid-date", {"value": _shown(value.strip())}),)
        if day is None:
            return None, ()
        if day > self.today:
            # a future date is wrong, so comparing it with the other date would only add noise
            return None, (("future-date", {"value": day.isoformat(), "today": self.today.isoformat()}),)
        return day.year * 10000 + day.month * 100 + day.day, ()


def _review_acts(cell: str) -> int:
    """The acts of an ``icvac_match`` cell coded from a draft entry awaiting review."""
    return cell.split(JOIN).count("review")


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_ERRORS = frozenset(slug for slug, check in CHECKS.items() if check.severity == ERROR)


def _looked_up(cache: dict, values: Sequence[str], check: Callable[[str], Any]) -> list:
    """``check(value)`` for each of ``values``, from ``cache`` where it holds the value."""
    found = list(map(cache.get, values))
    if None in found:  # values not seen before, or not cached (the cache is full)
        for i in compress(count(), map(operator.is_, found, repeat(None))):
            hit = found[i] = cache.get(values[i])
            if hit is None:
                hit = found[i] = check(values[i])
                if len(cache) < CACHE_LIMIT:
                    cache[values[i]] = hit
    return found


def _add_events(events: list, col: int, problems: list[tuple], numbers, ids) -> None:
    """An issue for each problem of each row; ``problems`` holds a (mostly empty) tuple per row."""
    for i in compress(count(), problems):
        for slug, fields in problems[i]:
            events.append((numbers[i], col, slug, ids[i], fields))


def _iso(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"
