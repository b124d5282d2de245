"""``icvac validate``: check an incident dataset against ICVAC and report every problem."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from icvac.errors import ExitCode, UsageError

from ._console import ReportFormat, emit_json, info, load_taxonomy_for_command, stdout_console, warn
from ._options import (
    ColumnOption,
    FormatOption,
    JobsOption,
    OptionalDataArgument,
    TaxonomyOption,
    one_stdout,
    reader_options,
)

if TYPE_CHECKING:
    from icvac.readers import ReadOptions

TABLE_ROWS = 20  # issues shown in the terminal; the rest go to --issues / --report / --format json


@reader_options
def validate_command(
    data: OptionalDataArgument = None,
    column: ColumnOption = None,
    require: Annotated[Optional[List[str]], typer.Option("--require", metavar="ROLE",
                       help="Also require this role's column (repeatable); icvac_code is always required.")] = None,
    min_level: Annotated[Optional[int], typer.Option("--min-level", metavar="N",
                         help="Codes coarser than level N are errors (code-too-coarse).")] = None,
    pick: Annotated[Optional[List[str]], typer.Option("--pick", metavar="CHECK",
                    help="Run only this check (repeatable).")] = None,
    skip: Annotated[Optional[List[str]], typer.Option("--skip", metavar="CHECK",
                    help="Do not run this check (repeatable).")] = None,
    max_issues: Annotated[int, typer.Option("--max-issues", metavar="N", min=0,
                          help="Issues kept in the report; all are counted.")] = 100,
    issues: Annotated[Optional[Path], typer.Option("--issues", metavar="FILE.csv",
                      help="Write every issue to this CSV file.")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", metavar="FILE.html",
                      help="Write a self-contained HTML report.")] = None,
    fmt: FormatOption = ReportFormat.table,
    list_checks: Annotated[bool, typer.Option("--list-checks", help="Print the catalogue of checks and exit.")] = False,
    jobs: JobsOption = None,
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Check incident data against ICVAC: codes, ages, dates, variable codes, ids.

    The report goes to stdout (a table, or JSON with --format json); --issues and --report write files.
    Exit 0 when there is no error (warnings allowed), 1 when there are errors, 2 for usage errors,
    3 when DATA cannot be read. --jobs is accepted for compatibility and changes nothing here: CSV is read
    through Arrow, whose threads share the work.

    Example: icvac validate examples/incidents.csv --report report.html
    """
    if list_checks:
        _list_checks(fmt)
        return
    if data is None:
        raise UsageError("give a DATA file to validate (or - for CSV on stdin), or --list-checks")
    from icvac.arrow_memory import name_allocator

    name_allocator()  # before icvac.validate loads pyarrow
    from icvac.columns import parse_column_options
    from icvac.validate import REQUIRED_ROLES, ValidateOptions
    from icvac.writers import refuse_overwrite

    one_stdout(("the report", "-"), ("--issues", issues), ("--report", report))
    refuse_overwrite(issues, data, taxonomy_file)
    refuse_overwrite(report, data, taxonomy_file, issues)
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    options = ValidateOptions(
        read=read,
        columns=parse_column_options(column), required=tuple(dict.fromkeys((*REQUIRED_ROLES, *(require or ())))),
        min_level=min_level, pick=tuple(pick or ()), skip=tuple(skip or ()), max_issues=max_issues, jobs=jobs)
    result = _validate(data, taxonomy, options, issues, report)
    if not result.stats.rows_read:
        warn(f"{result.source}: no data rows (only a header)")
    for note in result.notes:
        warn(f"{result.source}: {note}")
    if fmt is ReportFormat.json:
        emit_json(result.to_dict())
    else:
        _print_table(result)
    for path, what in ((issues, "issues"), (report, "report")):
        if path:
            info(f"wrote {what} to {path}")
    if not result.valid:
        raise typer.Exit(int(ExitCode.DATA_INVALID))


def _validate(data: str, taxonomy, options, issues: Optional[Path], report: Optional[Path]):
    """Run validate, streaming issues to the --issues file; the issue list and the HTML report appear
    together, or neither does (Ctrl-C, disk full)."""
    from icvac.report import issues_csv_writer, render_html
    from icvac.validate import validate
    from icvac.writers import atomic_output, staged_outputs

    with staged_outputs() as stage:
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(issues_csv_writer(issues, stage)) if issues else None
            result = validate(data, taxonomy, options, on_issue=sink)
        if report:
            with atomic_output(report, stage=stage) as handle:
                handle.write(render_html(result))
    return result


def _list_checks(fmt: ReportFormat) -> None:
    from icvac.report import checks_records

    records = checks_records()
    if fmt is ReportFormat.json:
        emit_json(records)
        return
    from rich.table import Table

    table = Table("slug", "severity", "title", box=None)
    for r in records:
        table.add_row(r["slug"], r["severity"], r["title"])
    stdout_console().print(table)


def _print_table(result) -> None:
    from rich.table import Table
    from rich.text import Text

    out = stdout_console()
    s = result.stats
    verdict = "valid" if result.valid else "NOT VALID"
    out.print(f"{result.source}: {verdict}: {s.rows_read} rows read, {s.rows_valid} valid, "
              f"{s.rows_with_errors} with errors; {s.errors} errors, {s.warnings} warnings",
              style="green" if result.valid else "red", markup=False)
    for reason, slugs in _by_reason(result.not_run).items():
        out.print(f"not run ({reason}): {', '.join(slugs)}", style="yellow", markup=False)
    if s.issues:
        counts = Table("check", "severity", "issues", box=None)
        for slug, n in result.counts_by_slug.items():
            if n:
                counts.add_row(slug, _severity(slug), str(n))
        out.print(counts)
    if result.issues:
        shown = result.issues[:TABLE_ROWS]
        table = Table("row", "id", "column", "check", "message", box=None,
                      title=f"first {len(shown)} of {s.issues} issues" if s.issues > len(shown) else None)
        for i in shown:  # Text: an id or a message holding [brackets] is not rich markup
            table.add_row(*(Text(v) for v in ("file" if i.row is None else str(i.row), i.id or "", i.column or "",
                                              i.slug, i.message)))
        out.print(table)


def _by_reason(not_run: dict[str, str]) -> dict[str, list[str]]:
    """The checks that did not run, grouped by why."""
    grouped: dict[str, list[str]] = {}
    for slug, reason in not_run.items():
        grouped.setdefault(reason, []).append(slug)
    return grouped


def _severity(slug: str) -> str:
    from icvac.checks import CHECKS

    return CHECKS[slug].severity
