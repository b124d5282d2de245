"""The ``icvac`` command line: parses options, calls the library, renders results.

Library exceptions become a one-line message and a documented exit code here,
at the edge, and nowhere else.
"""
from __future__ import annotations

import signal
import sys
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from icvac.errors import ConfigFileError, ExitCode, IcvacError, one_line

from ._common import SETTINGS, error


_GLOBAL_FLAGS = ("-q", "--quiet", "--debug")


class _IcvacGroup(TyperGroup):
    """Turns library errors into messages and exit codes, once, for every command."""

    def parse_args(self, ctx, args):
        # --quiet and --debug are global, but people type them after the command too
        # (`icvac recode … -q`): move them in front of the command name.
        if ctx.parent is None:
            cut = args.index("--") if "--" in args else len(args)
            flags = [a for a in args[:cut] if a in _GLOBAL_FLAGS]
            args = flags + [a for a in args[:cut] if a not in _GLOBAL_FLAGS] + args[cut:]
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            _plain_choice_error(exc)
            raise
        except IcvacError as exc:
            if SETTINGS.debug:
                raise
            error(one_line(str(exc)) if not isinstance(exc, ConfigFileError) else exc.describe())
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            if SETTINGS.debug:
                raise
            error("interrupted; no output was written")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise typer.Exit(int(ExitCode.OK)) from None
        except MemoryError:
            if SETTINGS.debug:
                raise
            error("out of memory; no output was written (a limit of memory, ulimit -v, may be too low for this file)")
            raise typer.Exit(int(ExitCode.UNREADABLE)) from None
        except OSError as exc:
            if SETTINGS.debug:
                raise
            where = f" {exc.filename}" if exc.filename else ""
            error(one_line(f"cannot read or write{where}: {exc.strerror or exc}"))
            raise typer.Exit(int(ExitCode.UNREADABLE)) from None


# A hint for a value that is not one of an option's choices, for the mistakes people make:
# (command path without "icvac", parameter name) -> text. Commands add their own.
CHOICE_HINTS: dict[tuple[str, str], str] = {}


def _plain_choice_error(exc) -> None:
    """Say a wrong choice as people read it: typer checks choices with pydantic, whose message reads
    "Value error, 'json' is not one of 'csv', 'xlsx', 'jsonl'."."""
    detail = exc.__cause__.errors()[0] if hasattr(exc.__cause__, "errors") else {}
    reason = (detail.get("ctx") or {}).get("error")
    if not isinstance(reason, ValueError) or " is not one of " not in str(reason):
        return
    value, choices = str(reason).rstrip(".").split(" is not one of ", 1)
    message = f"{value} is not one of {choices.replace(chr(39), '')}"
    names, here = [], exc.ctx
    while here is not None and here.parent is not None:
        names.insert(0, here.info_name)
        here = here.parent
    hint = CHOICE_HINTS.get((" ".join(names), exc.param.name if exc.param else ""))
    exc.message = f"{message}. {hint}" if hint else message + "."


app = typer.Typer(
    cls=_IcvacGroup,
    name="icvac",
    help="Code records of violence against children into the International Classification of Violence "
         "against Children (ICVAC): validate, recode, crosswalk and tabulate.\n\n"
         "Exit codes: 0 ok, 1 data invalid, 2 usage, 3 unreadable input or config.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if not value:
        return
    from icvac import __version__
    from icvac.taxonomy import load_taxonomy

    try:
        taxonomy = load_taxonomy()
        tax = f"taxonomy {taxonomy.id} {taxonomy.version} ({taxonomy.status})"
    except IcvacError as exc:
        tax = f"bundled taxonomy unreadable: {exc}"
    typer.echo(f"icvac {__version__}; {tax}")
    raise typer.Exit()


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the icvac and taxonomy versions.")] = None,
) -> None:
    SETTINGS.reset(quiet, debug)


# Each module adds its commands to `app`; imported last because they import `app` from here.
from . import (crosswalk_cmd, mapping_cmd, recode_cmd, tabulate_cmd, taxonomy_cmd,  # noqa: E402,F401
               validate_cmd)
from . import report_cmd  # noqa: E402,F401
from . import agree_cmd  # noqa: E402,F401
from . import versions_cmd  # noqa: E402,F401


def _terminate(signum, frame):
    # SIGTERM takes the same path as Ctrl-C, so atomic outputs clean up their temporary files; a second
    # one while they do is ignored, so that the clean-up is not cut short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app(prog_name="icvac")
    except KeyboardInterrupt:
        # an interrupt that arrives after the first was reported (while its clean-up ran) must still end
        # with the documented 130, not with the interpreter's death by SIGINT
        sys.exit(130)


__all__ = ["app", "main"]
