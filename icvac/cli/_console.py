"""The terminal: where results and messages go, and what --quiet and a JSON report change there.

httpie's manners: results on stdout, messages on stderr, colour only on a
terminal, nothing but errors with --quiet.

A JSON report (``--format json``, ``recode --summary json``) keeps its warnings, the
provisional-taxonomy line among them, in its own ``warnings`` list; when the JSON itself goes
to stderr, nothing else is printed there, so that stderr stays parseable.

The options that commands share are in ``_options``, which imports this module (``--format json``
turns on ``machine_output`` as it is parsed); this module imports nothing of the command line.
"""
from __future__ import annotations

import enum
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer

from icvac.errors import ExitCode


@dataclass
class Settings:
    quiet: bool = False
    debug: bool = False
    # the warnings of this command, kept for its JSON report; None when it prints no JSON report
    collected: Optional[list[str]] = None
    # the JSON report goes to stderr: no other message may be printed there
    json_on_stderr: bool = False

    def reset(self, quiet: bool, debug: bool) -> None:
        """At the start of each command (CliRunner runs several in one process)."""
        self.quiet, self.debug, self.collected, self.json_on_stderr = quiet, debug, None, False


SETTINGS = Settings()


class ReportFormat(str, enum.Enum):
    """How a command prints its report: a table for people, or JSON (with the warnings in it)."""

    table = "table"
    json = "json"

    def __str__(self) -> str:
        # typer converts what an option's callback returns by its text: the member's name would be no choice
        return self.value


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console():
    from rich.console import Console

    # Piped or redirected, a table is read by a program or a file viewer, not fitted to a window: rich's
    # default of 80 columns would cut column names and titles ("perpetrator_relatio…").
    width = None if sys.stdout.isatty() else 100_000
    return Console(highlight=False, soft_wrap=True, width=width)


def machine_output(on_stderr: bool) -> None:
    """This command prints a JSON report: keep its warnings for it (``emit_json`` adds them) and, when it
    goes to stderr, print no other message there."""
    SETTINGS.collected = [] if SETTINGS.collected is None else SETTINGS.collected
    SETTINGS.json_on_stderr = on_stderr


def info(message: str) -> None:
    """A message for people on stderr; silenced by --quiet, and when stderr carries the JSON report."""
    if not SETTINGS.quiet and not SETTINGS.json_on_stderr:
        _say(message, None)


def warn(message: str) -> None:
    """A warning on stderr, and in the JSON report's ``warnings`` when there is one."""
    if SETTINGS.collected is not None:
        SETTINGS.collected.append(message)
    if not SETTINGS.quiet and not SETTINGS.json_on_stderr:
        _say(f"icvac: warning: {message}", "yellow")


def error(message: str) -> None:
    """Errors are shown even with --quiet."""
    _say(f"icvac: error: {message}", "red")


def _say(message: str, style: Optional[str]) -> None:
    # colour on a terminal only; elsewhere (pipelines, logs) plain text, without importing rich for it
    if style and sys.stderr.isatty():
        stderr_console().print(message, style=style, markup=False, emoji=False)
    else:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def show_progress() -> bool:
    return not SETTINGS.quiet and not SETTINGS.json_on_stderr and sys.stderr.isatty()


def emit_json(data: Any, stream=None) -> None:
    """Print a JSON result (on stdout unless ``stream``); a report (an object) gets the command's warnings
    in its ``warnings`` list (in ``messages`` where ``warnings`` is already a count, as in the check reports)."""
    if isinstance(data, dict) and SETTINGS.collected is not None:
        kept = data.get("warnings", [])
        key = "warnings" if isinstance(kept, list) else "messages"
        lines = SETTINGS.collected
        collected: list[str] | list[dict[str, str | None]] = lines
        if key == "warnings" and any(isinstance(w, dict) for w in kept):
            # a list of problems (row, message) stays one kind of item: the command's own lines join as problems
            collected = [{"path": None, "severity": "warning", "message": m} for m in lines]
        data = {**data, key: [*(kept if key == "warnings" else ()), *collected]}
    (stream or sys.stdout).write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def load_taxonomy_for_command(path: Optional[Path]):
    """Load the taxonomy and say on stderr when it is provisional (one line)."""
    from icvac import load_taxonomy

    taxonomy = load_taxonomy(path)
    if taxonomy.provisional:
        if SETTINGS.collected is not None:
            SETTINGS.collected.append(taxonomy.status_line())
        info(f"icvac: {taxonomy.status_line()}")
    return taxonomy


def problem_line(path, problem) -> str:
    """``FILE: where (line N): message`` for a problem in a taxonomy or mapping file; the severity is
    said by error() or warn()."""
    return f"{path}: {problem.format().removeprefix(problem.severity + ': ')}"


def report_problems(path, problems, fmt: ReportFormat, verdict: Optional[str], **counts: Any) -> None:
    """What `taxonomy check` and `mapping check` print: every problem of the file at once, as JSON or one line
    each on stderr, then ``verdict`` (the file read: "valid, 58 categories…"; None when it could not be).
    ``counts`` join the JSON report before its problems. Exit 1 when a problem is an error."""
    errors = sum(p.severity == "error" for p in problems)
    if fmt is ReportFormat.json:
        emit_json({"file": str(path), "valid": not errors, "errors": errors, "warnings": len(problems) - errors,
                   **counts, "problems": [p.to_dict() for p in problems]})
    else:
        for p in problems:
            (warn if p.severity == "warning" else error)(problem_line(path, p))
        info(f"{path}: {verdict}" if verdict is not None else f"{path}: {errors} error(s)")
    if errors:
        raise typer.Exit(int(ExitCode.DATA_INVALID))
