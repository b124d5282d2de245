"""Issue 21: `icvac report`'s page opened in a real browser (Debian's headless chromium).

The browser loads the page from a file, with a network log: no request of the page's own may appear in it
(a control page that does load an image proves the log would show one). Its DOM, as rendered, must hold
every chart with one bar per published cell. A screenshot is kept in pytest's temporary folder
(or in ``$ICVAC_ARTEFACTS`` when set), never in the repository. Skipped where chromium is missing
(`.ci/run` installs it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("vl_convert", reason="charts need the report extra (vl-convert-python)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

# as root, without a sandbox; no background traffic of the browser's own; no host name resolves, so even a
# request that slipped through would not leave the machine (the network log still records its attempt)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]


def _chromium(page: Path, folder: Path, *args: str) -> tuple[str, list[dict]]:
    """Open ``page``; returns the rendered DOM and the URL requests of the network log."""
    log = folder / f"{page.stem}-{len(args)}.netlog.json"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--log-net-log={log}", *args,
           page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(log.read_text(encoding="utf-8"))
    kinds = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    requests = [e["params"] for e in data["events"]
                if kinds.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})]
    return done.stdout, requests


def _from_page(requests: list[dict]) -> list[str]:
    # the browser's own requests (update and time checks) have no origin; the page's have its origin
    return [r["url"] for r in requests if r.get("initiator") != "not an origin"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from typer.testing import CliRunner

    from icvac.cli import app

    from .conftest import EXAMPLES

    folder = tmp_path_factory.mktemp("browser")
    runner = CliRunner()
    recoded, html = folder / "recoded.csv", folder / "summary.html"
    for args in (["recode", EXAMPLES / "national_export.csv", "-m", "gbvims", "-o", recoded],
                 ["report", recoded, "-o", html], ["report", recoded, "-o", folder / "summary.json"],
                 ["validate", recoded, "--report", folder / "validation.html", "--format", "json"]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code in (0, 1), r.output  # validate: 1 when the data has errors
    validation = json.loads(r.stdout)
    return html, json.loads((folder / "summary.json").read_text(encoding="utf-8")), folder, validation


def test_the_control_page_shows_that_the_log_sees_a_request(tmp_path):
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://icvac-control.invalid/x.png"></body></html>',
                       encoding="utf-8")
    _, requests = _chromium(control, tmp_path, "--dump-dom")
    assert [u for u in _from_page(requests) if "icvac-control.invalid" in u]


def test_the_page_renders_every_chart_with_no_request(page):
    html, figures, folder, _ = page
    dom, requests = _chromium(html, folder, "--dump-dom")
    assert _from_page(requests) == []
    sections = re.findall(r'<section id="([^"]+)">(.*?)</section>', dom, re.S)
    assert [key for key, _ in sections] == [f["key"] for f in figures["figures"]]
    for (key, body), figure in zip(sections, figures["figures"]):
        assert body.count("<svg") == 1, key
        interior = [row["counts"] if len(row["counts"]) == 1 else row["counts"][:-1]
                    for row in figure["rows"] if row["kind"] != "total"]
        published = [c for counts in interior for c in counts if c is not None]
        withheld = sum(c is None for counts in interior for c in counts)
        if figure["chart"] == "line":
            known = [row["counts"][0] for row in figure["rows"] if row["kind"] != "total" and row["key"] != "unknown"]
            assert body.count('aria-roledescription="point"') == sum(c is not None for c in known), key
        else:
            assert body.count('aria-roledescription="bar"') == len(published), key
        assert body.count(">x</text>") == withheld, key


def test_a_screenshot_of_the_whole_page(page):
    html, _, folder, _ = page
    shot = Path(os.environ.get("ICVAC_ARTEFACTS") or folder) / "summary.png"
    _, requests = _chromium(html, folder, f"--screenshot={shot}", "--window-size=1200,6000")
    assert _from_page(requests) == []
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (width, height) == (1200, 6000)
    print(f"screenshot: {shot}")


def test_the_validation_report_shows_its_charts(page):
    _, _, folder, validation = page
    dom, requests = _chromium(folder / "validation.html", folder, "--dump-dom")
    assert _from_page(requests) == []
    charts = dom.split("Issues at a glance", 1)[1]
    assert charts.count("<svg") == 2
    expected = sum(1 for n in validation["counts_by_slug"].values() if n) + len(validation["counts_by_column"])
    assert expected and charts.count('aria-roledescription="bar"') == expected
