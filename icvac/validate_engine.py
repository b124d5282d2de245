"""Validation as a function of Arrow record batches: ``validate_batches(batches, taxonomy, options) -> Report``.

``Validation`` holds a run: the checks enabled, the ``BatchChecker`` (icvac.checker) and the ``Tally``
(icvac.tally). Records come to it as pieces: a record batch of rows numbered one after the other (from a
reader or another engine), or, from the Python reader, the checked columns of the rows of the header's
width, with the blank and ragged rows around them. A blank row is a row only once a record follows it
(blank rows at the end of a file are not data), so blank rows wait in ``pending`` until one does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Callable, Iterable, Mapping, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from .checker import MATCH_COLUMN, PY_SPACE, BatchChecker
from .checks import CHECKS, checks_not_run, file_notes
from .columns import VARIABLE_ROLES, ColumnMap, resolve_columns, roles_for
from .errors import UsageError
from .readers import ReadOptions
from .report_model import Issue, Report
from .tally import Event, Tally
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["ValidateOptions", "Validation", "validate_batches", "DEFAULT_MAX_ISSUES", "REQUIRED_ROLES",
           "HEADER_SEARCH"]

DEFAULT_MAX_ISSUES = 100
REQUIRED_ROLES = ("icvac_code",)
HEADER_SEARCH = 50     # rows searched for column names when the header row seems wrong
_BLANK = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_SPACE) + "]*$"  # a cell str.strip() empties


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
    jobs: int | None = None    # kept for compatibility: Arrow's threads share the work (no worker processes)


def validate_batches(batches: Iterable[pa.RecordBatch], taxonomy: Taxonomy | None = None,
                     options: ValidateOptions = ValidateOptions(), on_issue: Callable[[Issue], None] | None = None,
                     source: str = "<batches>") -> Report:
    """Check record batches whose columns are a data file's (names as its header; any type, read as text, a
    null as a blank cell); rows are numbered as in a file whose header is row 1. The Report is the one
    ``icvac validate`` gives for that file (``source`` names it; its format is ``arrow``)."""
    from .arrowio import as_text_batch

    taxonomy = taxonomy or load_taxonomy()
    batches = iter(batches)
    first = next(batches, None)
    header = [] if first is None else list(first.schema.names)
    cmap = resolve_columns(header, dict(options.columns), roles_for(taxonomy.variable_roles), source=source)
    run = Validation(header, cmap, taxonomy, options, on_issue)
    number = 1
    for batch in chain([first], batches) if first is not None else ():
        if batch.num_columns != len(header):
            raise UsageError(f"a batch has {batch.num_columns} columns, not the {len(header)} of the first")
        run.batch(as_text_batch(batch), number + 1)
        number += batch.num_rows
    return run.report(source, "arrow")


class Validation:
    """One validation run: pieces of records in, in file order; ``report`` at the end."""

    def __init__(self, header: list[str], cmap: ColumnMap, taxonomy: Taxonomy, options: ValidateOptions,
                 on_issue: Callable[[Issue], None] | None, long: bool = False, recoded_roles: Iterable[str] = (),
                 hash_id: Callable[[str], int] = hash):
        enabled = enabled_checks(options)
        check_options(options, taxonomy)
        self.header, self.cmap, self.taxonomy, self.options = header, cmap, taxonomy, options
        self.tally = Tally(header, enabled, options.max_issues, on_issue)
        present = {role for role in cmap.index if role not in VARIABLE_ROLES or role in taxonomy.variable_roles}
        self.tally.not_run = checks_not_run(present, options.min_level is not None, long)
        for role in dict.fromkeys(options.required):
            if cmap.get(role) is None:
                self.tally.emit(None, None, "missing-required-column", None, {"role": role}, column=role)
        # recode's icvac_match column, to count the acts coded from draft entries awaiting review
        index = {**cmap.index, **({MATCH_COLUMN: header.index(MATCH_COLUMN)} if MATCH_COLUMN in header else {})}
        self.checker = BatchChecker(self.tally.enabled, taxonomy, index, options.min_level, options.today, hash_id)
        # column names, casefolded: to tell a header row among the ragged rows near the top
        self.names = frozenset(n.casefold() for n in (*roles_for(taxonomy.variable_roles),
                                                      *(f"icvac_{r}" for r in taxonomy.variable_roles),
                                                      *options.columns.values(), *recoded_roles))
        self.width = len(header)
        self.pending: list[int] = []   # blank rows not yet followed by a record
        self.header_hint: int | None = None
        self._range = pa.array(range(0), pa.int64())

    def batch(self, batch: pa.RecordBatch | list[pa.RecordBatch], start: int) -> None:
        """Rows of the header's width numbered from ``start``: a batch, or batches one after the other."""
        self.slims([self.slim(b) for b in (batch if isinstance(batch, list) else [batch])], start)

    def slim(self, batch: pa.RecordBatch) -> "_Slim":
        """What the checks need of a batch: its checked columns and its blank rows (the rest can go)."""
        return _Slim(batch.num_rows, {col: batch.column(col) for col in self.checker.checked},
                     self._blank_rows(batch) if self.width and batch.num_rows else [])

    def slims(self, slims: list["_Slim"], start: int) -> None:
        """Slimmed batches, one after the other, numbered from ``start`` (their columns are joined)."""
        n = sum(s.rows for s in slims)
        if not n:
            return
        if len(self._range) < n:
            self._range = pa.array(range(max(n, 2 * len(self._range))), pa.int64())
        numbers = pc.add(self._range.slice(0, n), pa.scalar(start, pa.int64()))  # typed: see icvac.checker
        blank, before = [], 0
        for s in slims:
            blank += [before + p for p in s.blank]
            before += s.rows
        columns = {col: slims[0].columns[col] if len(slims) == 1 else
                   pa.concat_arrays([s.columns[col] for s in slims]) for col in self.checker.checked}
        if blank:
            keep = pc.invert(pc.is_in(self._range.slice(0, n), value_set=pa.array(blank, pa.int64())))
            numbers = numbers.filter(keep)
            columns = {col: values.filter(keep) for col, values in columns.items()}
            blank = [start + p for p in blank]
        self.piece(columns, numbers, blank, [])

    def _blank_rows(self, batch: pa.RecordBatch) -> list[int]:
        """The positions of the rows whose every cell is blank."""
        candidates = pc.match_substring_regex(batch.column(0), _BLANK)
        if not pc.any(candidates).as_py():
            return []
        at = pc.indices_nonzero(candidates)
        rows = zip(*(column.take(at).to_pylist() for column in batch.columns), strict=True)
        return [p for p, row in zip(at.to_pylist(), rows, strict=True) if not "".join(row).strip()]

    def rows(self, chunk: list[tuple[int, list[str]]]) -> None:
        """Rows as the Python reader gives them, ``(number, cells)``: blank, ragged or of the header's width."""
        blank, ragged, numbers, good = [], [], [], []
        for number, row in chunk:
            if not (row and row[0].strip()) and not "".join(row).strip():
                blank.append(number)
            elif len(row) == self.width:
                numbers.append(number)
                good.append(row)
            else:
                # no id: in a misaligned row the id position may hold a neighbouring column's text
                ragged.append(Event(number, None, "wrong-field-count", None,
                                    {"count": len(row), "expected": self.width}))
                if self.header_hint is None and number <= HEADER_SEARCH and \
                        any(cell.strip().casefold() in self.names for cell in row):
                    self.header_hint = number
        columns = {col: _text_array([row[col] for row in good]) for col in self.checker.checked}
        self.piece(columns, pa.array(numbers, pa.int64()), blank, ragged)

    def piece(self, columns: dict[int, pa.Array], numbers: pa.Array, blank: list[int], ragged: list[Event]) -> None:
        """Records (their checked columns and numbers), and the blank and ragged rows among them."""
        tally = self.tally
        last = max(numbers[len(numbers) - 1].as_py() if len(numbers) else 0, ragged[-1].row if ragged else 0)
        if not last:
            self.pending += blank
            return
        released = self.pending + [b for b in blank if b < last]
        self.pending = [b for b in blank if b > last]
        rows = len(numbers) + len(released) + len(ragged)
        if "wrong-field-count" not in tally.enabled:
            ragged = []
        wanted = tally.wants_issues
        found = self.checker.check(columns, numbers, wanted) if len(numbers) else None
        blanks = [Event(b, None, "blank-row", None, {}) for b in released] if "blank-row" in tally.enabled else []
        tally.rows_blank += len(released)
        if wanted:
            events = found.sorted_events() if found is not None else []
            if blanks or ragged:
                events = sorted(chain(events, blanks, ragged), key=_row)
            tally.add_events(events, rows)
            return
        counts, by_col, with_errors, with_warnings = {}, {}, 0, 0
        if found is not None:
            counts, by_col = found.counts, found.by_col
            with_errors, with_warnings = found.rows_with()
        if ragged:
            counts = {**counts, "wrong-field-count": counts.get("wrong-field-count", 0) + len(ragged)}
            with_errors += len(ragged)
        if blanks:
            counts = {**counts, "blank-row": counts.get("blank-row", 0) + len(blanks)}
            with_warnings += len(blanks)
        tally.add_counts(counts, by_col, rows, with_errors, with_warnings)

    def report(self, source: str, fmt: str) -> Report:
        tally, options = self.tally, self.options
        tally.notes = file_notes(self.checker.review_acts, self.header_hint, tally.counts.get("wrong-field-count", 0),
                                 tally.rows_read, options.read.header_row)
        return tally.report(source, fmt, f"{self.taxonomy.id} {self.taxonomy.version} ({self.taxonomy.status})",
                            {role: self.header[i] for role, i in self.cmap.index.items()})


class _Slim(NamedTuple):
    rows: int
    columns: dict[int, pa.Array]
    blank: list[int]


def _text_array(values: list[str]) -> pa.Array:
    """Cells as Arrow text; a lone surrogate (from a JSON Lines "\\ud800"), which UTF-8 cannot hold, is
    backslash-escaped as every output of icvac writes it."""
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:
        return pa.array([v.encode("utf-8", "backslashreplace").decode("utf-8") for v in values], pa.string())


def _row(event: Event) -> int:
    return event.row


def enabled_checks(options: ValidateOptions) -> tuple[str, ...]:
    for slug in (*options.pick, *options.skip):
        if slug not in CHECKS:
            raise UsageError(f"unknown check {slug!r}; `icvac validate --list-checks` lists them")
    picked = set(options.pick) or set(CHECKS)
    return tuple(s for s in CHECKS if s in picked and s not in options.skip)


def check_options(options: ValidateOptions, taxonomy: Taxonomy) -> None:
    deepest = max((c.level for c in taxonomy.categories.values()), default=1)
    if options.min_level is not None and not 1 <= options.min_level <= deepest:
        raise UsageError(f"--min-level {options.min_level}: the taxonomy has levels 1 to {deepest}")
    if options.max_issues < 0:
        raise UsageError("--max-issues must be 0 or more")
    roles = roles_for(taxonomy.variable_roles)
    for role in options.required:
        if role not in roles:
            raise UsageError(f"--require {role!r}: unknown role; roles are {', '.join(roles)}")
