"""Validate an incident dataset against ICVAC: one streaming pass, a Report at the end.

Bad data is never an exception: every problem is an Issue (a check of the catalogue in
icvac.checks, a row number, a column and the row's id) and the Report counts them all.
Only a file that cannot be read, or options that cannot work, raise (InputError, UsageError).

This module is the plumbing: it opens the file and hands its rows to a ``Validation``
(icvac.validate_engine), as Arrow record batches where Arrow reads the CSV file as Python's reader
does, or the reader gives them (Parquet; ``icvac.arrowio.table_batches``), else as the Python reader's
rows (xlsx, JSON Lines, stdin, the CSV files Arrow refuses). Memory stays flat whatever the number of rows: rows are checked a batch at a
time, checks run once per distinct value, duplicate ids are kept as Arrow text (icvac.dupes), and at
most ``max_issues`` issues are kept (all are counted, and all are passed to ``on_issue``, which the CLI
uses to write ``--issues FILE.csv``).

Stats (see docs/checks.md for the whole JSON report):
- rows_read: data rows after the header, blank rows included, except blank rows after the
  last non-blank row (trailing blank lines and formatted empty Excel rows are not data);
- rows_with_errors: rows with at least one error; rows_valid = rows_read - rows_with_errors,
  so rows_read == rows_valid + rows_with_errors always;
- rows_with_warnings: valid rows with at least one warning (a subset of rows_valid);
- errors + warnings == issues: the number of issues found, file-level ones included.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

from .columns import resolve_recoded, roles_for
from .readers import open_table
from .report_model import Issue, Report, Stats
from .taxonomy import Taxonomy, load_taxonomy
from .validate_engine import (
    DEFAULT_MAX_ISSUES,
    REQUIRED_ROLES,
    ValidateOptions,
    Validation,
    check_options,
    enabled_checks,
    validate_batches,
)

__all__ = ["Issue", "Stats", "Report", "ValidateOptions", "validate", "validate_batches", "DEFAULT_MAX_ISSUES",
           "REQUIRED_ROLES"]

CHUNK_ROWS = 4096      # rows of the Python reader checked together
BATCH_ROWS = 1 << 15   # rows of Arrow's batches checked together: the distinct values of a column are
                       # looked up once a batch, so larger batches cost fewer look-ups (and more memory;
                       # only the checked columns are held: 32K rows took 20% less time than 16K, 64K
                       # held 30 MB more)
READ_AHEAD = 48        # Arrow's blocks (arrowio.BLOCK_BYTES of file each) read and slimmed ahead of the checks:
                       # more than a batch of BATCH_ROWS, so that the reading goes on while a batch is checked.
                       # With 8 (and slimmed by the checks' thread) the checks waited for most of each batch:
                       # on the 1M-row recoded benchmark file 1.85-2.13 s and 120-122 MB, against 1.48-1.86 s
                       # and 116-118 MB (2026-12-06, four runs alternated; 24 blocks: 1.61-1.85 s)
HOLD_ISSUES = 1 << 14  # issues held in memory for ``on_issue`` while Arrow reads; beyond, in a temporary file


def validate(source: str | os.PathLike, taxonomy: Taxonomy | None = None,
             options: ValidateOptions = ValidateOptions(),
             on_issue: Callable[[Issue], None] | None = None) -> Report:
    """Check a data file (``-`` is CSV on stdin) row by row; return the Report."""
    from .arrowio import ArrowRefused

    taxonomy = taxonomy or load_taxonomy()
    enabled_checks(options)
    check_options(options, taxonomy)
    try:
        return _validate(source, taxonomy, options, on_issue, arrow=True)
    except ArrowRefused:
        # a row Arrow refuses (ragged, a bad byte) or quoting it reads otherwise: nothing was reported yet;
        # the Python reader reports the row
        return _validate(source, taxonomy, options, on_issue, arrow=False)


def _validate(source, taxonomy: Taxonomy, options: ValidateOptions, on_issue, arrow: bool) -> Report:
    from .arrowio import table_batches
    from .read_ahead import read_ahead

    with open_table(source, options.read) as table, _Held() as held:
        cmap, recoded = resolve_recoded(source, table.header, dict(options.columns), table.name,
                                         roles_for(taxonomy.variable_roles))
        # Arrow's blocks as read (rows=0: the checked columns alone are joined, ``Validation.slims``), blank
        # lines read by Arrow (blank_lines=True); positional, as tests stand in for it
        batches = table_batches(table, os.fspath(source), options.read, 0, 0, True) if arrow else None
        # Arrow may refuse the file at its end (icvac.arrowio): the issues wait until it has not
        listener = held if batches is not None and on_issue is not None else on_issue
        run = Validation(table.header, cmap, taxonomy, options, listener, recoded.long, recoded.roles.values())
        if batches is None:
            for chunk in _chunks(table.rows()):
                run.rows(chunk)
        else:
            number = options.read.header_row
            # a CSV file's blocks read, and slimmed, on a thread of their own, READ_AHEAD ahead of the checks; a
            # Parquet file's batches (of 8,192 rows: 48 of them would hold 20 MB more) as they come
            slimmed = read_ahead(batches, READ_AHEAD, run.slim) if table.batches is None else map(run.slim, batches)
            for slims in _rebatched(slimmed):
                run.slims(slims, number + 1)
                number += sum(s.rows for s in slims)
        # the file's name, not the path as typed: reports are shared, and a path can name a person
        report = run.report(Path(table.name).name, table.format)
        if listener is held:
            held.replay(on_issue)
    return report


def _chunks(rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _rebatched(slims) -> Iterator[list]:
    """Arrow's batches (slimmed: ``Validation.slim``) in lists of BATCH_ROWS rows or more."""
    pending, rows = [], 0
    for slim in slims:
        pending.append(slim)
        rows += slim.rows
        if rows >= BATCH_ROWS:
            yield pending
            pending, rows = [], 0
    if pending:
        yield pending


class _Held:
    """Issues held back, in memory and past HOLD_ISSUES in a private temporary file, then replayed."""

    def __init__(self):
        self.items: list[Issue] = []
        self.spill = None

    def __call__(self, issue: Issue) -> None:
        self.items.append(issue)
        if len(self.items) >= HOLD_ISSUES:
            if self.spill is None:
                self.spill = tempfile.TemporaryFile()
            pickle.dump(self.items, self.spill, protocol=pickle.HIGHEST_PROTOCOL)
            self.items = []

    def replay(self, on_issue: Callable[[Issue], None]) -> None:
        if self.spill is not None:
            self.spill.seek(0)
            while True:
                try:
                    chunk = pickle.load(self.spill)
                except EOFError:
                    break
                for issue in chunk:
                    on_issue(issue)
        for issue in self.items:
            on_issue(issue)

    def __enter__(self) -> "_Held":
        return self

    def __exit__(self, *exc) -> None:
        if self.spill is not None:
            self.spill.close()
