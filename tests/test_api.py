"""The public API: every name in __all__ resolves, and the library runs end to end without the CLI."""
from __future__ import annotations

import subprocess
import sys

import icvac

from .conftest import EXAMPLES


def test_every_public_name_resolves():
    for name in icvac.__all__:
        assert getattr(icvac, name) is not None, name
    assert callable(icvac.validate_file) and callable(icvac.tabulate_file) and callable(icvac.build_crosswalk)


def test_unknown_name_is_an_attribute_error():
    try:
        icvac.no_such_thing
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light():
    code = "import sys, icvac.cli; print(sorted(m for m in ('yaml', 'rapidfuzz', 'jsonschema', 'openpyxl') " \
           "if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_library_validates_the_example_without_the_cli():
    import icvac.validate  # noqa: F401  (the module binds its name on the package)

    report = icvac.validate_file(EXAMPLES / "incidents.csv", icvac.load_taxonomy())
    assert not report.valid
    assert report.stats.rows_read == report.stats.rows_valid + report.stats.rows_with_errors == 300


def test_readme_library_example_runs(tmp_path, monkeypatch):
    import re
    import shutil

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "recoded.csv").is_file()
    assert namespace["table"].to_dict()["metadata"]["level"] == 1
