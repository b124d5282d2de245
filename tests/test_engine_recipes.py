"""Issue 15: the recipes of docs/engines.md run, give `icvac recode`'s rows, and are the code the docs show.

The recipes live in examples/engines/; the docs show their functions. The DuckDB and Polars scripts run here
as a user runs them; the Spark one runs in tests/test_spark.py (it needs Java).
"""
from __future__ import annotations

import csv
import inspect
import re
import subprocess
import sys

import pytest

import icvac

from .conftest import EXAMPLES, ROOT

DOC = ROOT / "docs" / "engines.md"
RECIPES = EXAMPLES / "engines"
EXPORT = EXAMPLES / "national_export.csv"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def _rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def cli_rows(tmp_path_factory) -> list[list[str]]:
    from typer.testing import CliRunner

    from icvac.cli import app

    out = tmp_path_factory.mktemp("cli") / "recoded.csv"
    result = CliRunner().invoke(app, ["recode", str(EXPORT), "--mapping", "gbvims", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    return _rows(out)


def test_the_docs_show_the_recipe_files_code_and_the_real_signature():
    signature, *recipes = _blocks()
    assert len(recipes) == 5  # DuckDB (function and use), Polars, Spark, DuckDB validate
    sources = {path.name: path.read_text(encoding="utf-8") for path in RECIPES.glob("*.py")}
    for block in recipes:
        assert any(block in text for text in sources.values()), block.splitlines()[0]
    for recipe in sources:
        assert f"examples/engines/{recipe}" in DOC.read_text(encoding="utf-8")
    shown = re.findall(r"(\w+)(?:=[^,)]*)?[,)]", signature.split("(", 1)[1])
    assert shown == list(inspect.signature(icvac.recode_batches).parameters)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_recipe_script_gives_the_cli_rows(engine, cli_rows, tmp_path):
    pytest.importorskip(engine)
    assert _run(engine, EXPORT, tmp_path) == cli_rows
    assert len(cli_rows) == 301


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_recipe_script_on_an_export_without_rows_writes_the_header(engine, cli_rows, tmp_path):
    pytest.importorskip(engine)
    empty = tmp_path / "empty.csv"
    empty.write_text(EXPORT.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert _run(engine, empty, tmp_path) == cli_rows[:1]


def _run(engine: str, export, tmp_path) -> list[list[str]]:
    out = tmp_path / f"recoded-{engine}.csv"
    done = subprocess.run([sys.executable, str(RECIPES / f"{engine}_recode.py"), str(export), "gbvims", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return _rows(out)


VALIDATE_ROLES = {"id": "incident_id", "victim_age": "survivor_age", "incident_date": "date_of_incident",
                  "victim_sex": "icvac_victim_sex", "perpetrator_relationship": "icvac_perpetrator_relationship"}


@pytest.mark.parametrize("recoded", [False, True], ids=["export", "recoded"])
def test_validate_recipe_gives_the_report_of_icvac_validate(recoded, cli_rows, tmp_path):
    """validate_batches over DuckDB's batches: the report of the file's own validate, issue for issue."""
    pytest.importorskip("duckdb")
    import json

    from icvac.validate import ValidateOptions, validate

    data = EXPORT
    if recoded:  # recode's output, as the CLI wrote it (cli_rows)
        data = tmp_path / "recoded.csv"
        with open(data, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(cli_rows)
    roles = VALIDATE_ROLES if recoded else {}
    out = tmp_path / "report.json"
    from_file = validate(data, options=ValidateOptions(columns=roles)).to_dict()
    done = subprocess.run([sys.executable, str(RECIPES / "duckdb_validate.py"), str(data), str(out),
                           *(f"{role}={name}" for role, name in roles.items())],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == (0 if from_file["valid"] else 1), done.stderr[-2000:]
    from_duckdb = json.loads(out.read_text(encoding="utf-8"))
    assert (from_duckdb.pop("format"), from_file.pop("format")) == ("arrow", "csv")
    del from_duckdb["source"], from_file["source"]
    assert from_duckdb == from_file
    assert from_file["stats"]["rows_read"] == 300 and (from_file["stats"]["issues"] > 1) == recoded
