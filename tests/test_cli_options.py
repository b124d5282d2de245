"""One command line: options that mean one thing have one name and one help in every command."""
from __future__ import annotations

import json
import re

import pytest

from icvac.cli import app
from icvac.cli._options import output_format

from .conftest import EXAMPLES

READER_OPTIONS = ("--input-format", "--encoding", "--delimiter", "--sheet", "--header-row")
READING_COMMANDS = ("validate", "recode", "tabulate", "crosswalk coverage", "mapping draft")
COLUMN_COMMANDS = ("validate", "recode", "tabulate", "crosswalk coverage")
EXPORT = EXAMPLES / "national_export.csv"


def _command(name: str):
    from typer.main import get_command

    cmd = get_command(app)
    for part in name.split():
        cmd = cmd.commands[part]
    return cmd


def _options(name: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """Long option name -> (every spelling, help) of a command."""
    return {max(p.opts, key=len): (tuple(sorted(p.opts)), p.help) for p in _command(name).params
            if getattr(p, "opts", None) and p.param_type_name == "option"}


def test_every_command_that_reads_data_has_the_same_reader_options():
    seen = {name: {o: _options(name).get(o) for o in READER_OPTIONS} for name in READING_COMMANDS}
    first = seen[READING_COMMANDS[0]]
    assert None not in first.values()
    assert all(options == first for options in seen.values()), seen


def test_column_means_role_equals_name_everywhere():
    spellings = {_options(name)["--column"] for name in COLUMN_COMMANDS}
    assert len(spellings) == 1 and next(iter(spellings))[0] == ("--column", "-c")
    draft = _options("mapping draft")
    assert "--column" not in draft and all("-c" not in spelled for spelled, _ in draft.values())
    assert draft["--label-column"][0] == ("--label-column",)


@pytest.mark.parametrize("name", ["validate", "crosswalk coverage", "mapping check", "mapping list",
                                  "mapping review-import", "taxonomy tree", "taxonomy show", "taxonomy search",
                                  "taxonomy variables", "taxonomy check", "tabulate"])
def test_every_command_that_reports_has_format_json(icvac, name):
    text = icvac(*name.split(), "--help").stdout
    assert re.search(r"^  -f, --format <table\|json>", text, re.M) or re.search(r"--format <[a-z|]*\|json\|", text)


def test_recode_summary_replaces_report(icvac, tmp_path):
    assert icvac("recode", EXPORT, "-m", "gbvims", "-o", tmp_path / "a.csv", "--report", "json").exit_code == 2
    result, summary = icvac.json("recode", EXPORT, "-m", "gbvims", "-o", tmp_path / "b.csv", "--summary", "json")
    assert result.exit_code == 0 and summary["rows_in"] == 300
    # the review file holds stdout: the summary goes to stderr
    result = icvac("recode", EXPORT, "-m", "gbvims", "-o", tmp_path / "c.csv", "--review", "-", "--summary", "json")
    assert result.exit_code == 0 and result.stdout.startswith("source_code,")
    assert json.loads(result.stderr[result.stderr.index("{"):])["rows_in"] == 300


def test_recode_reads_with_input_format(icvac, tmp_path):
    data = tmp_path / "export.txt"
    data.write_text('{"incident_id": "1", "gbv_type": "Rape"}\n', encoding="utf-8")
    result = icvac("recode", data, "-m", "gbvims", "--input-format", "jsonl", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("1,Rape,0301,")


@pytest.mark.parametrize("args", [
    ("recode", EXPORT, "-m", "gbvims", "-o", "-", "--review", "-"),
    ("validate", EXAMPLES / "incidents.csv", "--issues", "-"),
    ("validate", EXAMPLES / "incidents.csv", "--report", "-", "--format", "json"),
], ids=["recode", "validate issues", "validate report"])
def test_two_outputs_on_stdout_are_refused(icvac, args):
    result = icvac(*args)
    assert result.exit_code == 2 and "would both go to stdout" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("output,expected", [
    ("-", "table"), (None, "table"), ("t.CSV", "csv"), ("dir.json/t", "table"), ("t.xlsx", "xlsx"),
    ("t.md", "table"), ("t", "table"),
])
def test_output_format_from_the_extension(output, expected):
    assert output_format(output, ("csv", "json", "xlsx"), "table") == expected


def test_output_format_with_an_extension_table():
    assert output_format("x.sssom.tsv", {".tsv": "sssom", ".md": "markdown"}, "csv") == "sssom"
    assert output_format("x.md", {".tsv": "sssom", ".md": "markdown"}, "csv") == "markdown"


@pytest.mark.parametrize("command", ["recode", "validate"])
def test_jobs_option_is_checked_and_gives_the_same_output(icvac, tmp_path, command):
    from .conftest import EXAMPLES

    data = EXAMPLES / ("national_export.csv" if command == "recode" else "incidents.csv")
    extra = ["--mapping", "gbvims"] if command == "recode" else ["--format", "json"]
    assert icvac(command, data, *extra, "--jobs", "0").exit_code == 2
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.csv"
        args = [command, data, *extra, "--jobs", jobs] + (["-o", out] if command == "recode" else [])
        result = icvac(*args)
        assert result.exit_code in (0, 1), result.stderr
        outputs.append(out.read_bytes() if command == "recode" else result.stdout)
    assert outputs[0] == outputs[1]


def test_data_is_worded_once():
    from icvac.cli._options import DATA_HELP

    for name in ("validate", "recode", "tabulate", "report", "mapping draft"):
        (data,) = [p for p in _command(name).params if p.param_type_name == "argument"]
        assert (data.metavar, data.help) == ("DATA", DATA_HELP), name
    assert _options("crosswalk coverage")["--data"][1].endswith(DATA_HELP)


def _run_on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run icvac with stderr on a pseudo-terminal (stdout a pipe); its exit code and what the terminal got."""
    import os
    import pty
    import subprocess
    import sys

    main, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "icvac", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    seen = bytearray()
    while True:
        try:
            piece = os.read(main, 65536)
        except OSError:  # the terminal closed (EIO) when the process ended
            break
        if not piece:
            break
        seen += piece
    os.close(main)
    return proc.wait(timeout=60), seen.decode("utf-8", "replace")


def test_recode_on_a_terminal_says_rows_and_distinct_values_matched_and_not_elsewhere(tmp_path):
    import csv

    rows = list(csv.reader(EXPORT.open(encoding="utf-8")))
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows([f"X-{i}", *rows[1 + i % (len(rows) - 1)][1:]] for i in range(20_000))
    category = rows[0].index("gbv_type")  # the mapping's one category column: its parts are what is matched
    distinct = {part.strip() for r in rows[1:] for part in re.split(r"[;|]", r[category]) if part.strip()}
    args = ["recode", "in.csv", "--mapping", "gbvims", "-o", "out.csv"]
    code, seen = _run_on_a_terminal(args, tmp_path)
    assert code == 0, seen
    lines = re.findall(r"([\d,]+) rows, ([\d,]+) distinct values matched…", seen)
    assert [n for n, _ in lines] == ["10,000", "20,000"], seen
    matched = [int(m.replace(",", "")) for _, m in lines]
    assert matched == [len(distinct)] * 2  # every distinct value comes in the first 300 rows, matched once
    code, seen = _run_on_a_terminal([*args[:-1], "out2.csv", "--quiet"], tmp_path)
    assert code == 0 and "rows," not in seen
