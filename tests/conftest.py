from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Optional, Union

import pytest
from typer.testing import CliRunner

from icvac.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = ROOT / "examples"
MAPPINGS = ROOT / "mappings"
TAXONOMY = ROOT / "taxonomy" / "icvac.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true",
                     help="Rewrite the golden files under tests/golden from what the code produces now "
                          "(also ICVAC_UPDATE_GOLDENS=1); review the diff before committing.")


class Invoker:
    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args, input=None, env=None):
        return self.runner.invoke(app, [str(a) for a in args], input=input, env=env, catch_exceptions=True)

    def json(self, *args, **kw):
        result = self(*args, **kw)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result, json.loads(result.stdout)


@pytest.fixture
def icvac():
    """Run the CLI in-process: ``icvac("taxonomy", "tree")`` -> click Result (stdout/stderr apart)."""
    return Invoker()


@pytest.fixture(autouse=True)
def _no_env_taxonomy(monkeypatch):
    monkeypatch.delenv("ICVAC_TAXONOMY", raising=False)


class Golden:
    """``golden("recode/register.csv", produced)``: ``produced`` (text or bytes) equals tests/golden/<name>.

    Text is compared exactly, line endings included; ``loads`` (e.g. ``json.loads``) compares both sides as
    parsed instead. With ``pytest --update-goldens`` (or ICVAC_UPDATE_GOLDENS=1) the file is rewritten from
    ``produced`` first, so that one run regenerates every golden file; review the diff."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def __call__(self, name: str, produced: Union[str, bytes], loads: Optional[Callable] = None) -> None:
        path = GOLDEN / name
        data = produced if isinstance(produced, bytes) else produced.encode("utf-8")
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        hint = f"tests/golden/{name} differs; after an intended change run pytest --update-goldens and review the diff"
        if loads is not None:
            assert loads(data) == loads(path.read_bytes()), hint
        else:
            assert data == path.read_bytes(), hint


@pytest.fixture
def golden(request) -> Golden:
    return Golden(request.config.getoption("--update-goldens") or os.environ.get("ICVAC_UPDATE_GOLDENS") == "1")
