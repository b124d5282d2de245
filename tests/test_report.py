"""Issue 21: `icvac report`, a one-page summary of a coded file, with small-cell suppression in the charts."""
from __future__ import annotations

import csv
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from icvac import load_taxonomy
from icvac.summary_report import summarise, summarise_records
from icvac.tabulate import tabulate_records

from .conftest import EXAMPLES, FIXTURES

vl_convert = pytest.importorskip("vl_convert", reason="charts need the report extra (vl-convert-python)")

SEX_ROWS = {"01": (2, 0), "02": (3, 20), "03": (30, 12), "04": (15, 9), "05": (8, 7), "09": (11, 6)}  # female, male


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="module")
def toy():
    """A made-up four-level classification: the counting tests hold whatever ICVAC's codes become."""
    return load_taxonomy(FIXTURES / "four_levels" / "taxonomy.yaml")


@pytest.fixture(scope="module")
def recoded(tmp_path_factory):
    """The README example: the bundled export recoded with the gbvims mapping (with its sidecar)."""
    from typer.testing import CliRunner

    from icvac.cli import app

    folder = tmp_path_factory.mktemp("report")
    out = folder / "recoded.csv"
    r = CliRunner().invoke(app, ["recode", str(EXAMPLES / "national_export.csv"), "-m", "gbvims", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def _three_girls(folder: Path) -> Path:
    """Victims by category and sex; category 02 has 3 female victims (and 20 male), 01 two girls. One act per record."""
    path = folder / "three.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "icvac_code", "victim_sex", "victim_age", "incident_date"])
        n = 0
        for code, (female, male) in SEX_ROWS.items():
            for sex, count in (("F", female), ("M", male)):
                for _ in range(count):
                    n += 1
                    w.writerow([f"C{n}", code + "01" if n % 2 else code, sex, 5 + n % 12, f"2024-0{1 + n % 6}-15"])
    return path


def _published(figure) -> list[list]:
    tab = figure.table
    return [[tab.cell(i, j) for j in range(len(tab.columns))] for i in range(len(tab.rows))]


def test_figures_count_as_tabulate_does(toy):
    """The weighted counting of the report gives tabulate's own table for the same records."""
    taxonomy = toy
    raw = [("101|201", "F", "10"), ("101", "M", "10"), ("", "F", "3"), ("99", "X", "16"), ("4", "", "2"),
           ("101;101", "female", "12"), ("unclassified", "M", "7")]
    weights = [7, 2, 1, 3, 5, 4, 6]
    records = [((code, "exact-label", "2024-01", (sex,)), n) for (code, sex, _), n in zip(raw, weights)]
    summary = summarise_records(records, taxonomy, variables=("victim_sex",), min_cell=0)
    expanded = [(code, (sex,)) for (code, sex, _), n in zip(raw, weights) for _ in range(n)]
    for key, unit, by in (("acts", "act", ()), ("victims", "victim", ()), ("victim_sex", "victim", ("victim_sex",))):
        expected = tabulate_records([(c, v[:len(by)]) for c, v in expanded], taxonomy, by=by, unit=unit, min_cell=0)
        got = summary.figure(key).table
        assert (got.rows, got.columns, got.counts) == (expected.rows, expected.columns, expected.counts), key


def test_a_file_reports_as_tabulate_tabulates_it(toy, tmp_path):
    """Read from a file: ages, or birth and incident dates where the age is blank, give the age group as
    tabulate derives it; a ragged row and a blank line count as tabulate counts them."""
    from icvac.tabulate import tabulate

    taxonomy = toy
    path = tmp_path / "ages.csv"
    rows = [["id", "icvac_code", "victim_sex", "victim_age", "victim_birth_date", "incident_date"]]
    for n in range(60):
        age = "" if n % 3 == 0 else ["4", "7", "12", "16", "abc", "40"][n % 6]
        rows.append([f"R{n}", ["101", "201|4", "5", ""][n % 4], ["F", "M", ""][n % 3], age,
                     f"20{10 + n % 9}-0{1 + n % 9}-1{n % 9}", f"2024-0{1 + n % 9}-2{n % 9}"])
    rows += [["R99", "1"], []]
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    summary = summarise(path, taxonomy, min_cell=3)
    for var in ("victim_sex", "victim_age_group"):
        expected = tabulate(path, taxonomy, by=(var,), unit="victim", min_cell=0)
        got = summary.figure(var).table
        assert (got.rows, got.columns, got.counts) == (expected.rows, expected.columns, expected.counts), var
    assert summary.metadata["period"] == "month"
    assert [r.key for r in summary.figure("time").table.rows][:3] == ["2024-01", "2024-02", "2024-03"]


def test_a_long_span_is_shown_by_year(toy):
    taxonomy = toy
    records = [(("101", "exact-label", f"{2000 + n // 12:04d}-{1 + n % 12:02d}", ()), 6) for n in range(48)]
    summary = summarise_records(records, taxonomy)
    assert summary.metadata["period"] == "year"
    time = summary.figure("time").table
    assert [r.key for r in time.rows] == ["2000", "2001", "2002", "2003", "total"]
    assert [c[0] for c in time.counts] == [72, 72, 72, 72, 288]
    assert summarise_records(records, taxonomy, period="month").figure("time").table.counts[0] == (6,)


def test_the_readme_example_gives_every_section(icvac, recoded):
    out = recoded.parent / "summary.html"
    r = icvac("report", recoded, "-o", out)
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)">', page)
    assert sections == ["acts", "victims", "branch", "victim_sex", "victim_age_group", "time", "method"]
    assert page.count("<svg ") == len(sections) and page.count("<table>") == len(sections)
    # provenance from the sidecar; the age and date columns named by the mapping it names
    assert "gbvims 0.1.0" in page and "national_export.csv" in page and "recoded.csv.meta.json" in page
    # self-contained: nothing to load, and a policy that would refuse it anyway
    assert "default-src 'none'" in page and "<script" not in page
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)[^"]*"', page) == []
    assert "http://" not in page and "https://" not in page
    # same input, same bytes
    r = icvac("report", recoded, "-o", recoded.parent / "again.html")
    assert (recoded.parent / "again.html").read_bytes() == out.read_bytes()


def test_json_has_the_figures_of_the_page(icvac, recoded):
    r, data = icvac.json("report", recoded, "-o", "-", "--format", "json")
    assert r.exit_code == 0
    assert [f["key"] for f in data["figures"]][:3] == ["acts", "victims", "branch"]
    acts = data["figures"][0]
    assert acts["rows"][-1]["key"] == "total" and acts["rows"][-1]["counts"] == [300]
    assert data["provenance"]["mapping"]["id"] == "gbvims"


def _bars(svg: str) -> list[str]:
    """The aria-label of every bar Vega drew (its datum: count, category, series)."""
    marks = re.findall(r'<g class="mark-rect[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    return [label for block in marks for label in re.findall(r'<path[^>]*aria-label="([^"]*)"', block)]


def test_three_female_victims_are_withheld_in_the_chart_and_the_table(taxonomy, tmp_path):
    from icvac.summary_page import chart_svgs, render_page

    summary = summarise(_three_girls(tmp_path), taxonomy)
    sex = summary.figure("victim_sex")
    i = next(i for i, r in enumerate(sex.table.rows) if r.key == "02")
    j = next(j for j, c in enumerate(sex.table.columns) if c.key == "female")
    assert sex.table.counts[i][j] == 3 and sex.table.cell(i, j) is None
    svg = chart_svgs(summary)[summary.figures.index(sex)]
    bars = _bars(svg)
    published = [v for row in _published(sex)[:-1] for v in row[:-1] if v is not None]
    assert len(bars) == len(published)  # one bar per published cell, none for a withheld one
    assert not [b for b in bars if "02 Physical violence" in b and "series: Female" in b]
    assert "victims: 3;" not in svg
    # the placeholder: an "x" at zero, the same whatever the count
    assert re.search(r'<text aria-label="category: 02 Physical violence[^"]*; series: Female"[^>]*>x</text>', svg)
    # and the table beside it
    page = render_page(summary, [svg] * len(summary.figures))
    table = page.split('<section id="victim_sex">')[1].split("</table>")[0]
    row = re.search(r"<tr><td>02</td>.*?</tr>", table).group(0)
    assert re.findall(r'<td class="n">([^<]*)</td>', row)[j] == "x"


def test_no_published_figure_lets_the_three_be_recomputed(taxonomy, tmp_path):
    """Across every table of the page (shared totals are one unknown), the withheld 3 is not determined."""
    summary = summarise(_three_girls(tmp_path), taxonomy)
    sex = summary.figure("victim_sex")
    i = next(i for i, r in enumerate(sex.table.rows) if r.key == "02")
    j = next(j for j, c in enumerate(sex.table.columns) if c.key == "female")
    assert not _determined(summary, ("victim_sex", i, j))
    # the check can tell: with the complementary cells published, the 3 comes back from the row total
    assert _determined(summary, ("victim_sex", i, j), publish_all_but=("victim_sex", i, j))


def _determined(summary, target, publish_all_but=None) -> bool:
    """Whether the linear relations of all the page's tables fix ``target`` (figure key, row, column)."""
    unknown: dict[tuple, int] = {}

    def var(key, i, j, names):
        name = names.get((i, j), (key, i, j))
        withheld = summary.figure(key).table.suppressed[i][j]
        if publish_all_but is not None:
            withheld = (key, i, j) == publish_all_but
        return unknown.setdefault(name, len(unknown)) if withheld else None

    equations = []
    for f in summary.figures:
        names = dict(f.shared)
        n, m = len(f.table.rows), len(f.table.columns)
        lines = [[(i, j) for j in range(m)] for i in range(n)] if m > 1 else []
        lines += [[(i, j) for i in range(n)] for j in range(m)] if n > 1 else []
        for line in lines:  # interior cells minus the total
            eq: dict[int, int] = {}
            for k, (i, j) in enumerate(line):
                v = var(f.key, i, j, names)
                if v is not None:
                    eq[v] = eq.get(v, 0) + (-1 if k == len(line) - 1 else 1)
            equations.append(eq)
    goal = unknown.get(target)
    if goal is None:
        return True
    return _rank(equations + [{goal: 1}], len(unknown)) == _rank(equations, len(unknown))


def _rank(equations: list[dict[int, int]], width: int) -> int:
    rows = [[Fraction(eq.get(c, 0)) for c in range(width)] for eq in equations]
    rank = 0
    for c in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][c] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][c] != 0:
                factor = rows[r][c] / rows[rank][c]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return rank


def test_a_total_withheld_in_one_table_is_withheld_in_every_table(taxonomy, tmp_path):
    summary = summarise(_three_girls(tmp_path), taxonomy)
    shown: dict[tuple, set] = {}
    for f in summary.figures:
        for (i, j), name in f.shared:
            shown.setdefault(name, set()).add(f.table.suppressed[i][j])
    assert shown and all(len(states) == 1 for states in shown.values()), shown


def test_without_the_extra_html_says_what_to_install_and_json_still_works(icvac, recoded, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import fails as if not installed
    out = recoded.parent / "nope.html"
    r = icvac("report", recoded, "-o", out)
    assert r.exit_code == 2 and "pip install 'icvac[report]'" in r.stderr and not out.exists()
    r = icvac("report", recoded, "-o", recoded.parent / "figures.json")
    assert r.exit_code == 0 and json.loads((recoded.parent / "figures.json").read_text())["figures"]


@pytest.mark.parametrize("args, message", [
    (["--branch", "0301"], "not a level-1 category"),
    (["--period", "week"], "week"),
    (["-c", "icvac_code=nope"], "no column named"),
])
def test_bad_options_exit_2(icvac, recoded, args, message):
    r = icvac("report", recoded, "-o", recoded.parent / "bad.html", *args)
    assert r.exit_code == 2 and message in r.stderr


def test_output_over_the_input_is_refused(icvac, recoded):
    r = icvac("report", recoded, "-o", recoded)
    assert r.exit_code == 2


def test_suppress_withholds_the_cells_it_is_given_and_protects_them():
    from icvac.suppression import suppress

    table = [[20, 30, 50], [25, 35, 60], [45, 65, 110]]
    assert not any(map(any, suppress(table, 5)))
    mask = suppress(table, 5, withheld=[(0, 2)])
    assert mask[0][2]
    # a withheld row total alone in its row and column would be recomputed: others are withheld with it
    assert sum(mask[0]) >= 2 and sum(row[2] for row in mask) >= 2


def test_no_suppression_is_said_on_the_page(icvac, recoded):
    out = recoded.parent / "open.html"
    r = icvac("report", recoded, "-o", out, "--min-cell", "0")
    assert r.exit_code == 0 and "suppression is off" in r.stderr
    assert "do not publish this page" in out.read_text(encoding="utf-8")
