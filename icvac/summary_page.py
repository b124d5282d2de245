"""The page of ``icvac report``: each figure of :mod:`icvac.summary_report` as a chart and its table.

Charts are Vega-Lite specifications rendered to SVG by ``vl-convert-python`` (the optional extra
``icvac[report]``): the library lays out the axes, bars and lines; this module only says which field goes
where. The rendering runs offline (no base URL may be fetched) and the SVG is written into the page, which
has no script and a Content-Security-Policy that forbids loading anything: it opens with no network.

A withheld cell is never drawn as its value: it has no bar (or point), and a bold ``x`` stands at zero in
its place, so nothing about the picture depends on the withheld count. The table beside each chart shows
the same published figures, ``x`` for withheld ones, for screen readers and for copying.
"""
from __future__ import annotations

import html
import threading

from .errors import UsageError
from .summary_report import Figure, Summary
from .tabulate import SUPPRESSED_MARKER, TableColumn, TableRow, Tabulation

__all__ = ["render_page", "write_summary", "chart_spec", "chart_svgs", "issue_charts", "require_charts",
           "ChartRenderer", "REPORT_FORMATS", "VEGA_LITE_VERSION", "EXTRA_HINT"]

VEGA_LITE_VERSION = "5.21"   # pinned: the same figures give the same SVG, whatever vl-convert's default
EXTRA_HINT = "icvac report draws its charts with vl-convert-python: pip install 'icvac[report]'"
_WIDTH = 520
_COUNT_AXIS = {"format": "d", "tickMinStep": 1}  # counts: whole numbers on the axis, never 0.5
_NAMESPACES = (' xmlns="http://www.w3.org/2000/svg"', ' xmlns:xlink="http://www.w3.org/1999/xlink"')
_CSP = "default-src 'none'; style-src 'unsafe-inline'"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:72rem;
color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:start;
vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:start;font-weight:bold;padding:.2rem 0}
.figure{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}.chart svg{max-width:100%;height:auto}
.muted{color:#666}.warning{color:#7a5a00}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:bold}dd{margin:0}
""".strip()


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def chart_spec(figure: Figure) -> dict:
    """The Vega-Lite specification of a figure's chart, from its published cells only."""
    values = _chart_values(figure)
    unit = "acts" if figure.table.metadata.get("unit") == "act" else "victims"
    if figure.chart == "line":
        return _line_spec(values, unit, figure.title)
    return _bars_spec(values, unit, figure.title, grouped=figure.chart == "grouped")


def _chart_values(figure: Figure) -> list[dict]:
    """One datum per interior cell (totals are in the table, not drawn): withheld cells have no count."""
    tab = figure.table
    series = [(j, c) for j, c in enumerate(tab.columns) if c.key != "total"] or [(len(tab.columns) - 1,
                                                                                  tab.columns[-1])]
    out = []
    for i, row in enumerate(tab.rows):
        if row.kind == "total" or (figure.chart == "line" and row.key == "unknown"):
            continue
        for j, column in series:
            count = tab.cell(i, j)
            out.append({"category": f"{row.key} {row.label}" if row.kind == "category" else row.label,
                        "series": column.label, "count": count, "withheld": count is None})
    return out


def _bars_spec(values: list[dict], unit: str, title: str, grouped: bool) -> dict:
    y = {"field": "category", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 260}}
    offset = {"yOffset": {"field": "series", "sort": None}} if grouped else {}
    colour = {"color": {"field": "series", "type": "nominal", "sort": None, "title": None,
                        "legend": {"orient": "bottom"}}} if grouped else {}
    bars = {"mark": {"type": "bar"}, "transform": [{"filter": "!datum.withheld"}],
            "encoding": {"y": y, **offset, **colour, "x": {"field": "count", "type": "quantitative", "title": unit,
                                                          "axis": dict(_COUNT_AXIS)},
                         "tooltip": None}}
    withheld = {"mark": {"type": "text", "text": SUPPRESSED_MARKER, "align": "left", "dx": 3, "fontWeight": "bold",
                         "fontSize": 11}, "transform": [{"filter": "datum.withheld"}],
                "encoding": {"y": y, **offset, "x": {"datum": 0}}}
    rows = len({v["category"] for v in values})
    step = 12 * max(1, len({v["series"] for v in values})) if grouped else 20
    return {"description": f"{title}; x = withheld", "width": _WIDTH, "height": max(1, rows) * (step + 6),
            "data": {"values": values}, "layer": [bars, withheld], "config": {"view": {"stroke": None}}}


def _line_spec(values: list[dict], unit: str, title: str) -> dict:
    x = {"field": "category", "type": "ordinal", "sort": None, "title": None}
    shown = [{"filter": "!datum.withheld"}]
    y = {"field": "count", "type": "quantitative", "title": unit, "axis": dict(_COUNT_AXIS)}
    return {"description": f"{title}; x = withheld", "width": _WIDTH, "height": 220, "data": {"values": values},
            "layer": [{"mark": {"type": "line"}, "transform": shown, "encoding": {"x": x, "y": y}},
                      {"mark": {"type": "point", "filled": True}, "transform": shown, "encoding": {"x": x, "y": y}},
                      {"mark": {"type": "text", "text": SUPPRESSED_MARKER, "dy": -6, "fontWeight": "bold"},
                       "transform": [{"filter": "datum.withheld"}], "encoding": {"x": x, "y": {"datum": 0}}}],
            "config": {"view": {"stroke": None}}}


_WARM_UP_TABLE = Tabulation((TableRow("a", "category", "a"), TableRow("total", "total", "Total")),
                            (TableColumn("b", ("b",), "b"), TableColumn("total", (), "Total")),
                            ((1, 1), (1, 1)), ((False, True), (True, True)), {"unit": "act"})


class ChartRenderer:
    """Vega-Lite to SVG through vl-convert. Its JavaScript engine takes about a second to start: it starts
    in a thread as soon as the renderer is made (the conversion runs outside the GIL), while the data is
    read, so the page costs little more than the reading."""

    def __init__(self) -> None:
        try:
            import vl_convert
        except ImportError:
            raise UsageError(f"{EXTRA_HINT} (or write the figures with --format json)") from None
        self._convert = vl_convert.vegalite_to_svg
        # a small chart of each kind, so that the first real one finds everything compiled
        warm_up = Figure("warm", "", "grouped", _WARM_UP_TABLE)
        self._warm = threading.Thread(target=self.svg, args=(chart_spec(warm_up),), daemon=True)
        self._warm.start()

    def svg(self, spec: dict) -> str:
        return self._convert(spec, vl_version=VEGA_LITE_VERSION, allowed_base_urls=[])

    def svgs(self, summary: Summary) -> list[str]:
        self._warm.join()
        return [_accessible(self.svg(chart_spec(f)), f.title) for f in summary.figures]


def require_charts() -> ChartRenderer:
    """The renderer, or a UsageError that says what to install."""
    return ChartRenderer()


def chart_svgs(summary: Summary) -> list[str]:
    return require_charts().svgs(summary)


def _accessible(svg: str, title: str) -> str:
    # the table beside it is what a screen reader reads; the picture is named by its figure
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_e(title)}" ', 1)
    # inline in HTML an <svg> needs no namespace declarations, and without them the page holds no URL at all
    for declaration in _NAMESPACES:
        svg = svg.replace(declaration, "", 1)
    return svg


def render_page(summary: Summary, svgs: list[str] | None = None) -> str:
    """One self-contained page: provenance, then each figure as a chart and its table."""
    svgs = chart_svgs(summary) if svgs is None else svgs
    meta = summary.metadata
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>ICVAC summary: {_e(summary.source)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             f"<h1>ICVAC summary: {_e(summary.source)}</h1>", *_about(summary)]
    for figure, svg in zip(summary.figures, svgs, strict=True):
        parts += [f'<section id="{_e(figure.key)}">', f"<h2>{_e(figure.title)}</h2>", '<div class="figure">',
                  f'<div class="chart">{svg}</div>', *_table(figure), "</div>", "</section>"]
    min_cell = meta.get("min_cell", 0)
    parts += [f'<p class="muted">x = withheld: counts from 1 to {min_cell - 1} and the cells that would reveal '
              "them, in the charts and in the tables; totals shared by several tables are withheld in all of "
              "them. Publishing other tables of the same data can still reveal cells: check them together.</p>"
              if min_cell > 1 else '<p class="warning">Small-cell suppression is off: do not publish this page.</p>',
              "</body>", "</html>", ""]
    return "\n".join(parts)


def _about(summary: Summary) -> list[str]:
    meta, prov = summary.metadata, summary.provenance
    tax = meta["taxonomy"]
    items = [("Data", summary.source), ("Taxonomy", f"{tax['id']} {tax['version']} ({tax['status']})")]
    if prov:
        mapping = prov.get("mapping", {})
        items += [("Recoded from", prov.get("input", "")),
                  ("Mapping", " ".join(filter(None, (mapping.get("id"), mapping.get("version"),
                                                     f"({mapping['status']})" if mapping.get("status") else ""))) +
                   (f"; SHA-256 {mapping['sha256'][:12]}" if mapping.get("sha256") else "")),
                  ("Provenance", f"{prov['sidecar']} (icvac {prov.get('icvac_version', '')})")]
    else:
        items.append(("Provenance", "no recode sidecar (DATA.meta.json) beside the data"))
    for key, label in (("records_read", "Records"), ("acts_counted", "Acts")):
        items.append((label, SUPPRESSED_MARKER if meta.get(key) is None else meta[key]))
    items.append(("Small cells", f"withheld below {meta['min_cell']}" if meta["min_cell"] > 1 else "not withheld"))
    out = ["<dl>"] + [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items[:2]] + _titles(tax.get("titles"))
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items[2:]] + ["</dl>"]
    return out + [f'<p class="warning">{_e(w)}</p>' for w in summary.warnings]


def _titles(titles) -> list[str]:
    """The classification's title in each language it has one in, each marked with its language and with
    dir="auto", so that the Arabic title reads right to left inside this left-to-right page."""
    if not isinstance(titles, dict) or not titles:
        return []
    lines = [f'<div lang="{_e(lang)}" dir="auto">{_e(text)}</div>' for lang, text in titles.items()
             if isinstance(lang, str) and isinstance(text, str)]
    return ["<dt>Title</dt>", f"<dd>{''.join(lines)}</dd>"]


def _table(figure: Figure) -> list[str]:
    tab = figure.table
    share = figure.key == "method"
    head = ["code" if tab.rows[0].kind == "category" else "", "", *(c.label for c in tab.columns)]
    head += ["share"] if share else []
    total = tab.cell(len(tab.rows) - 1, len(tab.columns) - 1)
    out = ['<table>', f"<caption>{_e(figure.title)}</caption>",
           "<tr>" + "".join(f'<th scope="col">{_e(h)}</th>' for h in head) + "</tr>"]
    for i, row in enumerate(tab.rows):
        cells = [tab.cell(i, j) for j in range(len(tab.columns))]
        shown = [SUPPRESSED_MARKER if v is None else v for v in cells]
        if share:
            shown.append(SUPPRESSED_MARKER if cells[-1] is None or not total else f"{100 * cells[-1] / total:.1f}%")
        key = "" if row.kind in ("total", "period", "method") else row.key
        # dir="auto": a category title in a right-to-left language (Arabic) reads right to left in its cell
        out.append(f"<tr><td>{_e(key)}</td><th scope=\"row\" dir=\"auto\">{_e(row.label)}</th>"
                   + "".join(f'<td class="n">{_e(v)}</td>' for v in shown) + "</tr>")
    return out + ["</table>"]


REPORT_FORMATS = ("html", "json")


def write_summary(summary: Summary, fmt: str, output: str | None, charts: ChartRenderer | None = None) -> None:
    """Write the page (``html``) or its figures (``json``) atomically to ``output`` (``-``: stdout)."""
    import json

    from .writers import atomic_output

    if fmt not in REPORT_FORMATS:
        raise UsageError(f"cannot write a report as {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")
    # charts first: a missing extra stops the command before any file is begun
    if fmt == "html":
        text = render_page(summary, (charts or ChartRenderer()).svgs(summary))
    else:
        text = json.dumps(summary.to_dict(), ensure_ascii=False, indent=2)
    with atomic_output(output) as handle:
        handle.write(text.rstrip("\n") + "\n")


def issue_charts(report) -> list[str]:
    """For the validation report (:mod:`icvac.report`): issues per check and per column, as bar charts in the
    style of the summary page. Nothing when the report extra is missing: the validation report does not
    need it, its tables say the same."""
    try:
        charts = ChartRenderer()
    except UsageError:
        return []
    from .checks import CHECKS

    per_check = [{"category": slug, "series": CHECKS[slug].severity, "count": n, "withheld": False}
                 for slug, n in report.counts_by_slug.items() if n]
    per_column = [{"category": column, "series": "issues", "count": sum(per.values()), "withheld": False}
                  for column, per in report.counts_by_column.items()]
    out = []
    for title, values in (("Issues per check", per_check), ("Issues per column", per_column)):
        if values:
            spec = {**_bars_spec(values, "issues", title, grouped=False), "title": title}
            if title == "Issues per check":  # errors and warnings in the colours of the table
                spec["layer"][0]["encoding"]["color"] = {
                    "field": "series", "type": "nominal", "title": None, "legend": {"orient": "bottom"},
                    "scale": {"domain": ["error", "warning"], "range": ["#8a1111", "#c08a00"]}}
            out.append(f'<div class="chart">{_accessible(charts.svg(spec), title)}</div>')
    return out
