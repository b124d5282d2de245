"""Exceptions and exit codes: the one place where the tool's failure modes are named.

The library raises these; only the CLI turns them into a message and an exit code.
Bad *data* (an invalid incident row) is never an exception: it is an issue in a report.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Exit statuses, documented in the README. Stable: pipelines depend on them."""

    OK = 0
    DATA_INVALID = 1
    USAGE = 2
    UNREADABLE = 3
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: 128 + SIGINT, as a shell reports a command killed by Ctrl-C


# Characters that would break a one-line message (line breaks, controls, bidi overrides), and lone
# surrogates (a file name that is not UTF-8), written as \n, \x1b, \u202e, \udcff.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(text: str) -> str:
    """``text`` with every character that could split or disguise a one-line message backslash-escaped."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def shown(value, limit: int = 60) -> str:
    """A value from a user's file, quoted (``repr``) and cut to ``limit`` characters, for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def shown_list(values, limit: int = 20) -> str:
    """The first ``limit`` values, quoted and cut, and how many more: a file of a million columns
    must not make a ten-megabyte message."""
    values = list(values)
    head = ", ".join(shown(v) for v in values[:limit])
    return head + (f", ... and {len(values) - limit:,} more" if len(values) > limit else "")


@dataclass(frozen=True)
class Problem:
    """One problem found in a taxonomy or mapping file, located by its path inside the file."""

    path: str
    message: str
    severity: str = "error"  # "error" or "warning"
    line: int | None = None

    def format(self) -> str:
        where = self.path or "(top level)"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        return f"{self.severity}: {where}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "severity": self.severity, "message": self.message}


class IcvacError(Exception):
    """Base class: the tool cannot run. Carries the exit code the CLI should use."""

    exit_code: ExitCode = ExitCode.UNREADABLE


class UsageError(IcvacError):
    """Options that cannot work together, or a value the user must change."""

    exit_code = ExitCode.USAGE


class InputError(IcvacError):
    """A data file that cannot be read: missing, not a table, wrong encoding, corrupt."""

    exit_code = ExitCode.UNREADABLE


class OutputError(IcvacError):
    """An output that must not or cannot be written (over the input, into a missing folder)."""

    exit_code = ExitCode.USAGE


class ConfigFileError(IcvacError):
    """A YAML taxonomy or mapping file that is unreadable or invalid; lists every problem."""

    kind = "configuration"

    def __init__(self, file: str, problems: list[Problem] | None = None, message: str | None = None):
        self.file = str(file)
        self.problems = list(problems or [])
        self.summary = message
        super().__init__(self.describe())

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def describe(self) -> str:
        if self.summary and not self.problems:
            return one_line(f"{self.kind} file {self.file}: {self.summary}")
        if len(self.problems) == 1 and self.problems[0].severity == "error":  # one problem, one line
            return one_line(f"{self.kind} file {self.file}: {self.problems[0].format().removeprefix('error: ')}")
        head = f"{self.kind} file {self.file} has {len(self.errors)} error(s)"
        lines = [one_line(head)] + ["  " + one_line(p.format()) for p in self.problems]
        return "\n".join(lines)


class TaxonomyError(ConfigFileError):
    kind = "taxonomy"


class MappingError(ConfigFileError):
    kind = "mapping"
