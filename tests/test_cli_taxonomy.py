"""`icvac taxonomy …` and the global options, through the CLI."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from icvac import __version__

from .conftest import FIXTURES, ROOT


def test_tree_level1_lists_six(icvac):
    result = icvac("taxonomy", "tree", "--level", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["01", "02", "03", "04", "05", "09"]
    assert "provisional" in result.stderr and result.stderr.count("\n") == 1


def test_tree_in_french_as_json(icvac):
    result, data = icvac.json("taxonomy", "tree", "--level", "2", "--lang", "fr", "--format", "json")
    assert result.exit_code == 0
    assert {d["level"] for d in data} == {1, 2}
    assert next(d for d in data if d["code"] == "03")["title"] == "Violence sexuelle contre un enfant"


def test_show_03(icvac):
    result = icvac("taxonomy", "show", "03")
    assert result.exit_code == 0
    assert result.stdout.startswith("03  Sexual violence against a child")
    for part in ("Definition:", "Inclusions:", "Exclusions:", "Children:", "0301", "status: provisional"):
        assert part in result.stdout


def test_show_unknown_code_is_a_usage_error(icvac):
    result = icvac("taxonomy", "show", "77")
    assert result.exit_code == 2
    assert "no category with code '77'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("query", ["abus sexuel", "violencia sexual"])
def test_search_ranks_sexual_violence_first(icvac, query):
    result, hits = icvac.json("taxonomy", "search", query, "--format", "json", "--limit", "3")
    assert len(hits) == 3
    assert hits[0]["code"].startswith("03")
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]


@pytest.mark.parametrize("query,reason", [("No Alleged Maltreatment", "negated"), ("Child Mother", "not-an-act"),
                                          ("Abus sexuel", None)])
def test_search_json_says_when_a_draft_would_not_code(icvac, query, reason):
    result, hits = icvac.json("taxonomy", "search", query, "--format", "json")
    assert result.exit_code == 0 and hits
    assert {hit["abstain"] for hit in hits} == {reason}


def test_export_json_has_categories_with_definitions(icvac):
    result, doc = icvac.json("taxonomy", "export", "--format", "json")
    assert result.exit_code == 0
    assert len(doc["categories"]) >= 30
    assert all(c["definition"] for c in doc["categories"])
    assert doc["taxonomy"]["status"] == "provisional"


def test_export_csv_and_markdown_to_files(icvac, tmp_path):
    out = tmp_path / "icvac.csv"
    assert icvac("taxonomy", "export", "--format", "csv", "-o", out).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("code,level,parent,title_en")
    assert len(lines) == 51
    md = tmp_path / "icvac.md"
    assert icvac("taxonomy", "export", "--format", "markdown", "-o", md).exit_code == 0
    assert "| 0301 | 2 |" in md.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["icvac.csv", "icvac.md"]  # no temp files left


def test_export_is_byte_identical_across_runs(icvac):
    assert icvac("taxonomy", "export", "--format", "csv").stdout == icvac("taxonomy", "export", "--format",
                                                                          "csv").stdout


def test_variables(icvac):
    result = icvac("taxonomy", "variables")
    assert result.exit_code == 0
    assert "victim_migration_status" in result.stdout and "refugee_or_asylum_seeker" in result.stdout


def test_check_bundled_exits_0(icvac):
    result = icvac("taxonomy", "check")
    assert result.exit_code == 0
    assert "valid, 50 categories" in result.stderr


def test_check_three_errors_exits_1_with_paths(icvac):
    result = icvac("taxonomy", "check", FIXTURES / "taxonomy" / "three_errors.yaml")
    assert result.exit_code == 1
    for path in ("categories[0].children[0].code", "categories[1].title", "categories[2].code"):
        assert path in result.stderr
    assert "Traceback" not in result.stderr


def test_check_json_report(icvac):
    result, report = icvac.json("taxonomy", "check", FIXTURES / "taxonomy" / "three_errors.yaml", "-f", "json")
    assert result.exit_code == 1
    assert report["valid"] is False and report["errors"] == 3


def test_check_unreadable_exits_3(icvac, tmp_path):
    result = icvac("taxonomy", "check", tmp_path / "missing.yaml")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr
    assert icvac("taxonomy", "check", tmp_path).exit_code == 3


def test_other_taxonomy_by_option_and_environment(icvac):
    mini = FIXTURES / "taxonomy" / "minimal.yaml"
    result = icvac("taxonomy", "tree", "--taxonomy", mini)
    assert result.stdout.split() == ["01", "Killing", "02", "Hurting", "0201", "Hitting"]
    assert result.stderr == ""  # a verified taxonomy prints no status line
    result = icvac("taxonomy", "tree", env={"ICVAC_TAXONOMY": str(mini)})
    assert "Hurting" in result.stdout


def test_broken_taxonomy_option_exits_3_without_traceback(icvac):
    result = icvac("taxonomy", "tree", "--taxonomy", FIXTURES / "taxonomy" / "three_errors.yaml")
    assert result.exit_code == 3
    assert "3 error(s)" in result.stderr and "Traceback" not in result.stderr


def test_quiet_silences_the_status_line(icvac):
    result = icvac("--quiet", "taxonomy", "tree", "--level", "1")
    assert result.exit_code == 0 and result.stderr == ""


def test_global_flags_work_after_the_command_too(icvac):
    result = icvac("taxonomy", "tree", "--level", "1", "-q")
    assert result.exit_code == 0 and result.stderr == "" and len(result.stdout.splitlines()) == 6


def test_version_names_package_and_taxonomy(icvac):
    result = icvac("--version")
    assert result.exit_code == 0
    from icvac import load_taxonomy

    bundled = load_taxonomy()
    assert result.stdout.strip() == f"icvac {__version__}; taxonomy icvac {bundled.version} ({bundled.status})"


def test_usage_errors_exit_2(icvac):
    assert icvac("taxonomy", "tree", "--level", "9").exit_code == 2
    assert icvac("no-such-command").exit_code == 2


def test_every_command_has_help_with_an_example_and_is_in_the_readme(icvac):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from icvac.cli import app
    from typer.main import get_command

    group = get_command(app)
    commands = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        commands += [(f"{name} {s}", c) for s, c in sub.items()] if sub else []
        if not sub or getattr(cmd, "invoke_without_command", False):
            commands.append((name, cmd))
    assert {"validate", "recode", "crosswalk", "crosswalk coverage", "tabulate", "taxonomy tree",
            "mapping check"} <= {name for name, _ in commands}
    for name, cmd in commands:
        result = icvac(*name.split(), "--help")
        assert result.exit_code == 0, name
        # its own paragraph, else the help reflows it into the middle of a sentence
        assert re.search(rf"^  Example: icvac {name}\b", result.stdout, re.M), name
        assert f"icvac {name}" in readme, f"`icvac {name}` is not in the README"


def test_installed_module_runs_from_another_directory(tmp_path):
    result = subprocess.run([sys.executable, "-m", "icvac", "taxonomy", "tree", "--level", "1", "-f", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 6
