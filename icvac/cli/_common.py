"""What every command shares: the terminal, the --taxonomy option, machine output.

httpie's manners: results on stdout, messages on stderr, colour only on a
terminal, nothing but errors with --quiet.
"""
from __future__ import annotations

import enum
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer


@dataclass
class Settings:
    quiet: bool = False
    debug: bool = False


SETTINGS = Settings()


class ReportFormat(str, enum.Enum):
    table = "table"
    json = "json"


TaxonomyOption = Annotated[
    Optional[Path],
    typer.Option("--taxonomy", envvar="ICVAC_TAXONOMY", metavar="FILE", show_default=False,
                 help="Taxonomy YAML file to use instead of the bundled ICVAC taxonomy."),
]
FormatOption = Annotated[
    ReportFormat,
    typer.Option("--format", "-f", help="table for people, json for pipelines."),
]


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def info(message: str) -> None:
    """A message for people on stderr; silenced by --quiet."""
    if not SETTINGS.quiet:
        stderr_console().print(message, markup=False)


def warn(message: str) -> None:
    if not SETTINGS.quiet:
        stderr_console().print(f"icvac: warning: {message}", style="yellow", markup=False)


def error(message: str) -> None:
    """Errors are shown even with --quiet."""
    stderr_console().print(f"icvac: error: {message}", style="red", markup=False)


def show_progress() -> bool:
    return not SETTINGS.quiet and stderr_console().is_terminal


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def load_taxonomy_for_command(path: Optional[Path]):
    """Load the taxonomy and say on stderr when it is provisional (one line)."""
    from icvac import load_taxonomy

    taxonomy = load_taxonomy(path)
    if taxonomy.provisional:
        info(f"icvac: {taxonomy.status_line()}")
    return taxonomy
