"""Rendering a validation Report: JSON for pipelines, CSV of issues, a self-contained HTML page.

The HTML page has inline CSS, no script and no link to anything outside itself, so a
ministry officer can open it offline; every text is HTML-escaped. Outputs hold no
timestamp: the same input gives byte-identical reports.
"""
from __future__ import annotations

import contextlib
import html
import os
import re
from typing import AbstractSet, Callable, Iterator

from .checks import CHECKS
from .report_model import REPORT_FORMAT_DOC, Issue, Report
from .writers import Staging, atomic_output, csv_writer, excel_safe

__all__ = ["REPORT_FORMAT_DOC", "ISSUE_FIELDS", "issues_csv_writer", "render_html", "checks_records"]

ISSUE_FIELDS = ("row", "id", "column", "slug", "severity", "message")



def checks_records() -> list[dict]:
    return [{"slug": c.slug, "severity": c.severity, "scope": c.scope, "title": c.title, "template": c.template,
             "description": c.description} for c in CHECKS.values()]


@contextlib.contextmanager
def issues_csv_writer(path: str | os.PathLike,
                      stage: Staging | None = None) -> Iterator[Callable[[Issue], None]]:
    """Yield ``write(issue)``; the CSV appears atomically when the block ends without error (or joins ``stage``)."""
    with atomic_output(path, stage=stage) as handle:
        writer = csv_writer(handle)
        writer.writerow(ISSUE_FIELDS)

        def write(issue: Issue) -> None:
            writer.writerow([excel_safe(v) if isinstance(v, str) else ("" if v is None else v)
                             for v in (issue.row, issue.id, issue.column, issue.slug, issue.severity,
                                       issue.message)])

        yield write


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:start;
vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:1.2rem;font-weight:bold;padding:.6rem 1rem;display:inline-block;border-radius:.3rem}
.ok{background:#e3f4e1;color:#14561a}.bad{background:#fbe3e3;color:#8a1111}
.error{color:#8a1111;font-weight:bold}.warning{color:#7a5a00}.muted{color:#666}
""".strip()


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _prose(value) -> str:
    """Catalogue titles and messages mark code and options with backticks, as Markdown does; here they
    become <code>, so the page does not show literal backticks."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(value))


def _table(head: list[str], rows: list[list[str]], numeric: AbstractSet[int] = frozenset()) -> list[str]:
    # dir="auto" on text cells: a category title in a right-to-left language reads right to left
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="n">{cell}</td>' if i in numeric else f'<td dir="auto">{cell}</td>'
                                    for i, cell in enumerate(row)) + "</tr>")
    out.append("</table>")
    return out


def render_html(report: Report) -> str:
    """One self-contained page: verdict, summary, counts per check, per-column problems, first issues."""
    s = report.stats
    verdict = ('<p class="verdict ok">Valid: no errors</p>' if report.valid else
               f'<p class="verdict bad">Not valid: {s.errors} error(s)</p>')
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>ICVAC validation: {_e(report.source)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             f"<h1>ICVAC validation report: {_e(report.source)}</h1>", verdict,
             f'<p class="muted">Read as {_e(report.format)}; taxonomy {_e(report.taxonomy)}.</p>',
             "<h2>Summary</h2>"]
    parts += _table(["", "count"], [[_e(k), str(v)] for k, v in (
        ("Rows read", s.rows_read), ("Rows valid", s.rows_valid), ("Rows with errors", s.rows_with_errors),
        ("Valid rows with warnings", s.rows_with_warnings), ("Blank rows", s.rows_blank),
        ("Errors", s.errors), ("Warnings", s.warnings))], {1})
    parts += _not_run_section(report)
    parts.append("<h2>Issues per check</h2>")
    parts += _table(["check", "severity", "title", "issues"],
                    [[f"<code>{_e(slug)}</code>", f'<span class="{_e(CHECKS[slug].severity)}">'
                      f"{_e(CHECKS[slug].severity)}</span>", _prose(CHECKS[slug].title), str(n)]
                     for slug, n in report.counts_by_slug.items() if n], {3}) \
        if any(report.counts_by_slug.values()) else ["<p>No issue.</p>"]
    parts.append("<h2>Problems per column</h2>")
    if report.counts_by_column:
        parts += _table(["column", "issues", "checks"],
                        [[_e(col), str(sum(per.values())),
                          ", ".join(f"<code>{_e(slug)}</code>&nbsp;{n}" for slug, n in per.items())]
                         for col, per in report.counts_by_column.items()], {1})
    else:
        parts.append("<p>No column has a problem.</p>")
    parts += _charts(report)
    parts += _issues_section(report)
    parts += ["<p class=\"muted\">Values are shown only for coded columns (codes, numbers, dates); other columns "
              "are never shown. Check descriptions: <code>icvac validate --list-checks</code>.</p>",
              "</body>", "</html>", ""]
    return "\n".join(parts)


def _not_run_section(report: Report) -> list[str]:
    """The checks that did not run and why, and the notes on the file: a reader must not take a check that
    could not run for one that found nothing."""
    out = []
    if report.notes:
        out += ["<h2>Notes</h2>", "<ul>", *(f'<li class="warning">{_e(note)}</li>' for note in report.notes), "</ul>"]
    if report.not_run:
        out.append("<h2>Checks not run</h2>")
        out += _table(["check", "title", "why"], [[f"<code>{_e(slug)}</code>", _e(CHECKS[slug].title), _e(reason)]
                                                  for slug, reason in report.not_run.items()])
    return out


def _issues_section(report: Report) -> list[str]:
    shown = len(report.issues)
    title = f"First {shown} of {report.stats.issues} issues" if report.truncated else "Issues"
    out = [f"<h2>{_e(title)}</h2>"]
    if not report.issues:
        return out + ["<p>None.</p>"]
    if report.truncated:
        out.append('<p class="muted">Raise --max-issues, or write every issue with --issues FILE.csv.</p>')
    out += _table(["row", "id", "column", "check", "severity", "message"],
                  [[_e(i.row if i.row is not None else "file"), _e(i.id), _e(i.column), f"<code>{_e(i.slug)}</code>",
                    f'<span class="{_e(i.severity)}">{_e(i.severity)}</span>', _prose(i.message)]
                   for i in report.issues], {0})
    return out


def _charts(report: Report) -> list[str]:
    """Issues per check and per column as bar charts (issue 21), when the report extra is installed."""
    from .summary_page import issue_charts

    charts = issue_charts(report)
    return ["<h2>Issues at a glance</h2>", *charts] if charts else []
