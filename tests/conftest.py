from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from icvac.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = ROOT / "examples"
MAPPINGS = ROOT / "mappings"
TAXONOMY = ROOT / "taxonomy" / "icvac.yaml"


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
