"""Lint and types (issue 16): ruff (pyflakes, import order, bugbear) and mypy pass on icvac/.

Both are configured in pyproject.toml and installed by the test extra, so CI runs them with the suite.
mypy takes 4 to 8 s from a cold cache (CI's case; measured on 2 busy cores) and about 0.6 s from a warm one
(.mypy_cache, which ignores itself in git).
"""
from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing_in_the_package():
    result = _run("ruff", "check", "--no-cache", "icvac")
    assert result.returncode == 0, f"ruff check icvac:\n{result.stdout}{result.stderr}"


def test_mypy_finds_nothing_in_the_package():
    result = _run("mypy", "icvac")
    assert result.returncode == 0, f"mypy icvac:\n{result.stdout}{result.stderr}"
