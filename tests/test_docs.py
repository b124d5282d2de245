"""The README's set-up commands are the ones CI runs, and the docs generated from code are current."""
from __future__ import annotations

import re

from .conftest import ROOT


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", setup, re.S)


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one():
    run, test = _setup_commands()
    assert run.startswith("pip install . && icvac ")
    assert test.startswith("pip install '.[test]'")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
