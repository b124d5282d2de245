"""Rendering ``agree`` and ``evaluate`` reports: a self-contained HTML page and the CSV of records to review.

The page follows the validation report's manners (inline CSS, no script, nothing fetched, every
text escaped, no timestamp: same input, same bytes) and draws each confusion matrix as a grid
shaded by count. Only codes, category titles, ids and counts appear: never a value of another column,
and a code cell that is not a code of the taxonomy is shown as ``invalid``.
"""
from __future__ import annotations

import contextlib
import html
import os
from typing import AbstractSet, Callable, Iterator, Sequence

from .agreement import Estimate
from .reliability_model import AgreementReport, EvaluationReport, Listed, Matrix
from .writers import Staging, atomic_output, csv_writer, excel_safe

__all__ = ["listed_csv_writer", "render_agreement_html", "render_evaluation_html", "LISTED_FIELDS",
           "format_estimate", "percent"]

LISTED_FIELDS = ("id", "status", "level")


@contextlib.contextmanager
def listed_csv_writer(path: str | os.PathLike, coders: Sequence[str],
                      stage: Staging | None = None) -> Iterator[Callable[[Listed], None]]:
    """Yield ``write(listed)``; the CSV (id, status, first level that differs, a code column per coder)
    appears atomically when the block ends. Cells are made safe for spreadsheets."""
    with atomic_output(path, stage=stage) as handle:
        writer = csv_writer(handle)
        writer.writerow([*LISTED_FIELDS, *(f"code_{c}" for c in coders)])

        def write(item: Listed) -> None:
            writer.writerow([excel_safe(item.id), item.status, "" if item.level is None else str(item.level),
                             *(excel_safe(c) for c in item.codes)])

        yield write


def percent(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def format_estimate(e: Estimate, as_percent: bool = False) -> str:
    """``0.712 [0.650, 0.768]`` (the 95% interval in brackets), or ``n/a`` with the reason."""
    if e.value is None:
        return f"n/a: {e.note}" if e.note else "n/a"
    show = percent if as_percent else (lambda x: f"{x:.3f}")
    if e.low is None or e.high is None:
        return show(e.value)
    bound = (lambda x: f"{100 * x:.1f}") if as_percent else show
    return f"{show(e.value)} [{bound(e.low)}, {bound(e.high)}]"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:start;
vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.grid td{text-align:right;min-width:2.5rem;font-variant-numeric:tabular-nums}
table.grid th.c{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.muted{color:#666}.warning{color:#7a5a00}
""".strip()


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(head: list[str], rows: Sequence[Sequence[object]], numeric: AbstractSet[int] = frozenset()) -> list[str]:
    from .report import _table as html_table  # the validation report's table, given escaped cells

    return html_table(head, [[_e(cell) for cell in row] for row in rows], numeric)


def _count(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


def _grid(matrix: Matrix, rows_label: str, cols_label: str) -> list[str]:
    """The matrix as a grid: agreement cells shaded green, disagreement red, darker for more records."""
    if not matrix.categories:
        return ["<p>No record to show.</p>"]
    top = max((v for row in matrix.counts for v in row), default=0) or 1
    out = [f'<p class="muted">Rows: {_e(rows_label)}; columns: {_e(cols_label)}.</p>', '<table class="grid">',
           "<tr><th></th>" + "".join(f'<th class="c">{_e(c)}</th>' for c in matrix.categories) + "</tr>"]
    for i, (name, row) in enumerate(zip(matrix.categories, matrix.counts, strict=True)):
        cells = []
        for j, v in enumerate(row):
            shade = 0.08 + 0.72 * v / top if v else 0
            colour = "20,110,40" if i == j else "170,30,30"
            style = f' style="background:rgba({colour},{shade:.2f})"' if v else ""
            cells.append(f"<td{style}>{_count(v) if v else ''}</td>")
        out.append(f"<tr><th>{_e(name)}</th>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return out


def _page(title: str, body: list[str]) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_e(title)}</title>",
             f"<style>{_CSS}</style>", "</head>", "<body>", f"<h1>{_e(title)}</h1>", *body,
             '<p class="muted">Only codes, category titles, ids and counts are shown; a code cell holding anything '
             "but codes of the taxonomy is shown as <code>invalid</code>. Intervals are 95%.</p>",
             "</body>", "</html>", ""]
    return "\n".join(parts)


def _files(stats, label: Sequence[str]) -> list[str]:
    return _table(["", "file", "rows", "rows without id", "repeated ids", "records not in this file"],
                  [[label[i], name, stats.rows[i], stats.blank_ids[i], stats.repeated_ids[i], stats.missing_from[i]]
                   for i, name in enumerate(stats.files)], {2, 3, 4, 5})


def _warnings(warnings: list[str]) -> list[str]:
    return [f'<p class="warning">{_e(w)}</p>' for w in warnings]


def _listed(items: list[Listed], total: int, coders: Sequence[str]) -> list[str]:
    if not items:
        return ["<p>None.</p>"]
    note = f'<p class="muted">The first {len(items)} of {total}; write them all with --disagreements FILE.csv.</p>' \
        if total > len(items) else ""
    return [note, *_table(["id", "status", "first level that differs", *coders],
                          [[x.id, x.status, "" if x.level is None else x.level, *x.codes] for x in items])]


def render_agreement_html(report: AgreementReport) -> str:
    coders = [f"coder {chr(65 + i)}" for i in range(len(report.stats.files))]
    kind = "Cohen's kappa" if report.levels[0].kappa_kind == "cohen" else "Fleiss' kappa"
    body = [f'<p class="muted">Taxonomy {_e(report.taxonomy)}.</p>', *_warnings(report.warnings),
            "<h2>Files</h2>", *_files(report.stats, coders), "<h2>Records</h2>",
            *_table(["", "records"], [["joined on the id", report.stats.records],
                                      ["in every file", report.stats.in_every_file],
                                      *[[k, v] for k, v in report.counts.items()]], {1}),
            "<h2>Agreement by level</h2>",
            *_table(["level", "records compared", "percent agreement", kind, "Krippendorff's alpha (nominal)",
                     "per-act agreement"],
                    [[lv.level, lv.compared, format_estimate(lv.percent, True), format_estimate(lv.kappa),
                      format_estimate(lv.alpha), percent(lv.per_act)] for lv in report.levels], {0, 1}),
            f'<p class="muted">Interval methods: percent agreement {_e(report.levels[0].percent.method or "-")}, '
            f'kappa {_e(report.levels[0].kappa.method or "-")}, alpha {_e(report.levels[0].alpha.method or "-")}.</p>',
            "<h2>Records with several acts</h2>",
            *_table(["", "value"], [["records", report.multi_act["records"]],
                                    ["compared", report.multi_act["compared"]],
                                    ["exact-set agreement", percent(report.multi_act["exact_set_agreement"])],
                                    ["per-act agreement", percent(report.multi_act["per_act_agreement"])]], {1})]
    for matrix in report.matrices:
        rows, cols = ("coder A", "coder B") if matrix.kind == "A x B" else ("coincidences", "coincidences")
        body += [f"<h2>Confusion matrix, level {matrix.level}</h2>", *_grid(matrix, rows, cols)]
    body += ["<h2>Categories with the most disagreement</h2>",
             *(_table(["category", "title", "records", "disagreeing", "rate"],
                      [[d["category"], d["title"], d["records"], d["disagreeing"], percent(d["rate"])]
                       for d in report.most_disagreement], {2, 3, 4}) if report.most_disagreement else ["<p>None.</p>"]),
             "<h2>Records to review</h2>", *_listed(report.listed, sum(report.counts.values()), coders)]
    return _page("ICVAC coding agreement", body)


def render_evaluation_html(report: EvaluationReport) -> str:
    cov = report.coverage
    body = [f'<p class="muted">Taxonomy {_e(report.taxonomy)}.</p>', *_warnings(report.warnings),
            "<h2>Files</h2>", *_files(report.stats, ["coded", "gold"]), "<h2>Coverage</h2>",
            *_table(["", "records"], [["in the coded file", cov["records"]], ["coded", cov["coded"]],
                                      ["unclassified or blank", cov["unclassified"]],
                                      ["coverage", percent(cov["share"])]], {1}),
            "<h2>Accuracy by level</h2>",
            *_table(["level", "records with a gold coding", "accuracy", "accuracy of what was coded", "Cohen's kappa",
                     "per-act accuracy"],
                    [[lv.level, lv.compared, format_estimate(lv.accuracy, True),
                      format_estimate(lv.accuracy_of_coded, True), format_estimate(lv.kappa), percent(lv.per_act)]
                     for lv in report.levels], {0, 1}),
            "<h2>Accuracy by match method</h2>",
            *_table(["method", "records", *(f"level {lv.level}" for lv in report.levels)],
                    [[m.method, m.records, *(format_estimate(e, True) for e in m.accuracy)] for m in report.by_method],
                    {1}),
            f"<h2>Categories at level {report.level}</h2>",
            *_table(["code", "title", "gold", "coded", "correct", "precision", "recall", "F1"],
                    [[c.code, c.title, c.gold, c.coded, c.correct, percent(c.precision), percent(c.recall),
                      percent(c.f1)] for c in report.categories], {2, 3, 4, 5, 6, 7}),
            f"<h2>Confusion matrix, level {report.level}</h2>", *_grid(report.matrix, "gold", "coded"),
            "<h2>Records to review</h2>", *_listed(report.listed, sum(report.counts.values()), ["coded", "gold"])]
    return _page("ICVAC coding accuracy against a gold sample", body)
