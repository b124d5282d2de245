"""Issue 7, privacy: values of opaque and free-text columns never reach a message, a log, a report
or a review file. A marker planted in such columns is looked for in every output of every command;
only the data output of `recode`, which carries every input column by design, may hold it."""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLES

MARKER = "MARKER-7f3a"
EXEMPT = {"export.csv", "recoded.csv", "recoded.xlsx", "r3.csv"}  # inputs, and recode's data outputs


def _export(folder: Path) -> Path:
    """The example export plus an opaque `name` column, with the marker in every opaque place."""
    rows = list(csv.reader((EXAMPLES / "national_export.csv").open(encoding="utf-8", newline="")))
    header = rows[0] + ["name"]
    out = [header]
    for i, row in enumerate(rows[1:60]):
        row = row[:-1] + [f"{row[-1]} {MARKER} said", f"{MARKER} child {i}"]
        out.append(row)
    blank_id = ["", "2023-01-05", "12", "F", "Rape", "Primary caregiver", MARKER, MARKER]
    long_row = ["INC-X1", "2023-01-05", "12", "F", "Physical Assault", "Primary caregiver", MARKER, MARKER,
                MARKER, "=" + MARKER]  # ragged: cells beyond the header, in no column at all
    short_row = ["INC-X2", "2023-01-05", "12", "F", "Denial of resources", MARKER]
    odd = ["INC-X3", "2023-02-30", "abc", "X", "Slapped", "Stranger", f"'{MARKER}\"\n{MARKER}", MARKER]
    out += [blank_id, long_row, short_row, odd, ["INC-0001", *out[1][1:]]]  # and a duplicate id
    path = folder / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(out)
    return path


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every command on the marked export; returns (label, stdout, stderr) and the folder."""
    from typer.testing import CliRunner

    from icvac.cli import app

    folder = tmp_path_factory.mktemp("privacy")
    export = _export(folder)
    f = lambda name: str(folder / name)  # noqa: E731
    commands = [
        ["recode", export, "-m", "gbvims", "-o", f("recoded.csv"), "--review", f("review.csv")],
        ["recode", export, "-m", "gbvims", "-o", f("recoded.xlsx"), "--review", f("review.xlsx"),
         "--summary", "json"],
        ["recode", export, "-m", "gbvims", "-o", "-", "--summary", "json", "--long"],
        ["recode", export, "-m", "gbvims", "-o", f("r3.csv"), "--column", "id=name"],
        ["validate", export, "--column", "id=incident_id", "--column", "incident_date=date_of_incident",
         "--column", "victim_age=survivor_age", "--issues", f("issues-raw.csv"), "--report", f("raw.html")],
        ["validate", f("recoded.csv"), "--column", "id=incident_id", "--column", "victim_age=survivor_age",
         "--issues", f("issues.csv"), "--report", f("report.html"), "--max-issues", "1000"],
        ["validate", f("recoded.csv"), "--format", "json", "--max-issues", "1000"],
        ["validate", f("recoded.xlsx"), "--column", "id=incident_id"],
        ["mapping", "draft", export, "--label-column", "gbv_type", "-o", f("draft.yaml")],
        ["crosswalk", "coverage", "-m", "gbvims", "--data", export],
        ["crosswalk", "coverage", "-m", "gbvims", "--data", export, "--format", "json"],
        ["tabulate", f("recoded.csv"), "--by", "victim_sex"],
        ["tabulate", f("recoded.csv"), "-o", f("table.csv")],
        ["tabulate", f("recoded.csv"), "-f", "json"],
        ["tabulate", f("recoded.csv"), "-o", f("table.xlsx"), "--by", "victim_sex", "--unit", "victim"],
        ["report", f("recoded.csv"), "-o", f("figures.json")],
        ["agree", f("recoded.csv"), f("recoded.xlsx"), "--id", "incident_id", "--report", f("agree.html"),
         "--disagreements", f("agree.csv")],
        ["agree", f("recoded.csv"), f("r3.csv"), "--id", "incident_id", "--code-column", "narrative", "-f", "json"],
        ["evaluate", f("recoded.csv"), "--gold", f("r3.csv"), "--id", "incident_id", "--gold-column", "name",
         "--report", f("evaluate.html"), "--disagreements", f("evaluate.csv")],
        ["evaluate", f("recoded.xlsx"), "--gold", f("recoded.csv"), "--id", "incident_id", "--code-column", "name"],
    ]
    import importlib.util
    if importlib.util.find_spec("vl_convert"):  # the page needs the report extra
        commands.append(["report", f("recoded.csv"), "-o", f("summary.html")])
    runner = CliRunner()
    results = []
    for args in commands:
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code in (0, 1), (args, r.output)
        stdout = "" if args[0] == "recode" and "-o" in args and args[args.index("-o") + 1] == "-" else r.stdout
        results.append((" ".join(map(str, args[:2])), stdout, r.stderr))
    return results, folder


def test_the_marker_is_in_the_inputs_and_the_recode_data_output(runs):
    _, folder = runs
    assert MARKER in (folder / "export.csv").read_text(encoding="utf-8")
    assert MARKER in _file_text(folder / "recoded.csv") and MARKER in _file_text(folder / "recoded.xlsx")


def test_no_message_holds_an_opaque_value(runs):
    results, _ = runs
    leaks = [(label, stream) for label, out, err in results for stream, text in (("stdout", out), ("stderr", err))
             if MARKER in text]
    assert leaks == []


def test_no_file_written_holds_an_opaque_value(runs):
    _, folder = runs
    written = sorted(p.name for p in folder.iterdir() if p.name not in EXEMPT)
    assert {"review.csv", "review.xlsx", "recoded.csv.meta.json", "recoded.xlsx.meta.json", "issues.csv",
            "report.html", "issues-raw.csv", "raw.html", "draft.yaml", "table.csv", "table.xlsx",
            "figures.json", "agree.html", "agree.csv", "evaluate.html", "evaluate.csv"} <= set(written)
    assert [name for name in written if MARKER in _file_text(folder / name)] == []


def test_the_commands_did_see_the_marked_rows(runs):
    """Guards the test itself: the marked rows were read (issues about them were reported)."""
    results, folder = runs
    issues = (folder / "issues-raw.csv").read_text(encoding="utf-8")
    assert "missing-id" in issues and "wrong-field-count" in issues and "duplicate-id" in issues
    assert any("ragged" in err or "different number of cells" in err for label, _, err in results
               if label.startswith("recode"))


@pytest.mark.parametrize("text", [
    f'incident_id,gbv_type,narrative\nINC-1,Rape,"{MARKER} never closed\n',
    f'incident_id,gbv_type,narrative\nINC-1,Rape,{MARKER}\x00nul\n',
    f'incident_id,gbv_type,narrative\nINC-1,Rape,"{MARKER}" trailing\n',
])
def test_messages_about_unreadable_rows_do_not_echo_cells(icvac, tmp_path, text):
    data = tmp_path / "broken.csv"
    data.write_text(text, encoding="utf-8")
    for args in (["validate", data], ["recode", data, "-m", "gbvims", "-o", tmp_path / "o.csv"],
                 ["crosswalk", "coverage", "-m", "gbvims", "--data", data], ["tabulate", data]):
        r = icvac(*args)
        assert "Traceback" not in r.stderr
        assert MARKER not in r.stderr and MARKER not in r.stdout, (args, r.output)
