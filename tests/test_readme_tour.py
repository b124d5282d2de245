"""The README's tour is a test: every `icvac …` line of its ```sh blocks runs, in order, in one folder.

The folder holds copies of the bundled examples, mappings and taxonomy, as a clone does; each command
may use what an earlier one wrote (recoded.csv, review.csv, my-mapping.yaml). A line's comment says
the exit code it is meant to give (`# … exit 1 …`); any other line must exit 0. So the README cannot
drift from the tool: a renamed option, a missing file or a changed exit code fails here.
"""
from __future__ import annotations

import csv
import os
import re
import shlex
from pathlib import Path

import pytest

from .conftest import EXAMPLES, MAPPINGS, ROOT, TAXONOMY

README = ROOT / "README.md"

# Lines that fail today because of bugs other engineers are fixing on their branches (issue 14); remove an
# entry once its fix is merged (strict: an entry whose line passes fails the suite, so none is forgotten).
KNOWN_FAILURES: dict[str, str] = {}


def tour_commands(text: str) -> list[tuple[str, int]]:
    """``(command line, expected exit code)`` for every `icvac` line of the sh blocks under "A tour"."""
    tour = text.split("\n## A tour", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", tour, flags=re.S | re.M):
        for line in re.sub(r"\\\n\s*", "", block).splitlines():  # a trailing \ continues the line
            command, _, comment = line.partition(" #")
            if command.startswith("icvac "):
                exit_code = re.search(r"\bexit (\d)", comment)
                commands.append((" ".join(command.split()), int(exit_code.group(1)) if exit_code else 0))
    return commands


COMMANDS = tour_commands(README.read_text(encoding="utf-8"))


def test_the_tour_is_found():
    """The parser sees every command of the tour (a README reshuffle must not silently empty it)."""
    names = {shlex.split(c)[1] for c, _ in COMMANDS}
    assert {"taxonomy", "validate", "recode", "mapping", "crosswalk", "tabulate"} <= names
    assert len(COMMANDS) >= 25


def _excel_export(path: Path) -> None:
    """export.xlsx, the README's example of an Excel export: a user's own file, which the project does not
    ship, so it is made here from the bundled incidents.csv. Its data are on the second sheet, under two title
    rows (header on row 3), with victim_sex called Sexe, as the README line's options say."""
    from openpyxl import Workbook

    rows = list(csv.reader((EXAMPLES / "incidents.csv").open(encoding="utf-8")))
    rows[0] = ["Sexe" if name == "victim_sex" else name for name in rows[0]]
    book = Workbook()
    book.active.title = "about"
    book.active.append(["Incidents reported, synthetic"])
    sheet = book.create_sheet("incidents")
    sheet.append(["Ministry of Social Affairs: incidents"])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)


@pytest.fixture(scope="module")
def tour_folder(tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("tour")
    shutil.copytree(EXAMPLES, folder / "examples")
    shutil.copytree(MAPPINGS, folder / "mappings")
    (folder / "taxonomy").mkdir()
    shutil.copy(TAXONOMY, folder / "taxonomy" / TAXONOMY.name)
    _excel_export(folder / "export.xlsx")
    before = Path.cwd()
    os.chdir(folder)
    yield folder
    os.chdir(before)


def _param(command: str, exit_code: int):
    marks = [pytest.mark.xfail(reason=KNOWN_FAILURES[command], strict=True)] if command in KNOWN_FAILURES else []
    return pytest.param(command, exit_code, marks=marks, id=command.removeprefix("icvac ")[:60])


@pytest.mark.parametrize("command,exit_code", [_param(c, e) for c, e in COMMANDS])
def test_tour_command(icvac, tour_folder, command, exit_code):
    args = shlex.split(command)[1:]
    stdin = None
    if "<" in args:  # `icvac validate - … < FILE`
        at = args.index("<")
        stdin = (tour_folder / args[at + 1]).read_bytes()
        args = args[:at] + args[at + 2:]
    result = icvac(*args, input=stdin)
    assert result.exit_code == exit_code, f"{command}\n{result.stderr}"


def test_every_known_failure_is_a_tour_line():
    assert set(KNOWN_FAILURES) <= {c for c, _ in COMMANDS}
