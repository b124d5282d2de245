"""The ``icvac`` application: global options, error mapping, and the table of commands.

Commands are loaded lazily: ``icvac --help`` lists every command from ``COMMANDS`` below without
importing any command module (nor letting typer build their options), and ``icvac recode …`` imports
``recode_cmd`` alone. Command modules never import this module, so there is no import cycle.

To add a command, write it in a module of ``icvac/cli`` and add one line to ``COMMANDS`` (the table's
order is the order ``icvac --help`` lists them in):

* a single command is a plain function, without decorator; typer reads its parameters and docstring
  as usual::

      # icvac/cli/migrate_cmd.py
      @reader_options                      # only if it reads a data file (see _options)
      def migrate_command(data: DataArgument, ..., *, read: ReadOptions, taxonomy_file: TaxonomyOption = None):
          \"\"\"One line of help.
          ...
          Example: icvac migrate ...
          \"\"\"

      # here, in COMMANDS
      "migrate": Lazy("migrate_cmd", "migrate_command", "One line of help (65 characters at most)."),

* a group of subcommands is a ``typer.Typer`` in its module (``taxonomy_app = typer.Typer(...)``), whose
  subcommands are decorated ``@taxonomy_app.command("tree")``. Subcommands written in another module
  (``from .taxonomy_cmd import taxonomy_app`` there) list that module in ``also``, imported after the
  group's own::

      "taxonomy": Lazy("taxonomy_cmd", "taxonomy_app", "Browse, ...", also=("taxonomy_diff_cmd",)),

``tests/test_cli_app.py`` checks that every ``*_cmd`` module is in the table, that every entry loads, and
that ``icvac --help`` imports no command module.
"""
from __future__ import annotations

import importlib
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Mapping, MutableMapping, Optional

import typer
from typer.core import TyperGroup

from icvac.errors import ConfigFileError, ExitCode, IcvacError, one_line

from ._console import SETTINGS, error
from ._options import CHOICE_HINTS

if TYPE_CHECKING:
    from typer._click import Command  # typer carries its own click (style.md)


@dataclass(frozen=True)
class Lazy:
    """A command of ``icvac``, imported when it is used."""

    module: str  # in icvac.cli
    attribute: str  # a command function, or the typer.Typer of a group of subcommands
    help: str  # the line `icvac --help` shows for it
    also: tuple[str, ...] = ()  # modules that add subcommands to the group

    def load(self, name: str) -> Command:
        target = getattr(importlib.import_module(f"icvac.cli.{self.module}"), self.attribute)
        for module in self.also:
            importlib.import_module(f"icvac.cli.{module}")
        command: Command
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:
            single = typer.Typer(rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False)
            single.command(name)(target)
            command = typer.main.get_command(single)
        command.name = name
        return command


# Listed by `icvac --help` in this order.
COMMANDS: dict[str, Lazy] = {
    "recode": Lazy("recode_cmd", "recode", "Code every record of a data file into ICVAC with a mapping."),
    "tabulate": Lazy("tabulate_cmd", "tabulate_command", "Count acts or victims by ICVAC category; small cells "
                                                         "withheld."),
    "validate": Lazy("validate_cmd", "validate_command", "Check incident data against ICVAC: codes, ages, dates, "
                                                         "ids."),
    "report": Lazy("report_cmd", "report_command", "Write a one-page HTML summary of a coded file."),
    "agree": Lazy("agree_cmd", "agree_command", "Agreement between two or more codings of the same records."),
    "evaluate": Lazy("agree_cmd", "evaluate_command", "Accuracy of a coding against a reference (gold) coding."),
    "crosswalk": Lazy("crosswalk_cmd", "crosswalk_app", "Write a mapping as a crosswalk table, or cross two "
                                                        "systems."),
    "mapping": Lazy("mapping_cmd", "mapping_app", "Check mapping files, import review decisions, draft a mapping.",
                    also=("versions_cmd",)),
    "taxonomy": Lazy("taxonomy_cmd", "taxonomy_app", "Browse, search, export and check the ICVAC taxonomy.",
                     also=("versions_cmd",)),
    "migrate": Lazy("versions_cmd", "migrate_data", "Re-code a recoded file to a new taxonomy version."),
}


class _Commands(MutableMapping[str, Any]):
    """The commands of the group: their names come from COMMANDS, each is built on first use."""

    def __init__(self, built: Mapping[str, Any]) -> None:
        self.built = dict(built)

    def __getitem__(self, name: str):
        if name not in self.built:
            if name not in COMMANDS:
                raise KeyError(name)
            try:
                self.built[name] = COMMANDS[name].load(name)
            except KeyError as exc:  # a bug in the command's module, not "no such command"
                raise RuntimeError(f"cannot load the command {name}: {exc!r}") from exc
        return self.built[name]

    def __setitem__(self, name: str, command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands are removed from icvac.cli._app.COMMANDS, not from the group")

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self.built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self.built))

    def short_help(self, name: str, limit: int = 45) -> str:
        """The help `icvac --help` shows: the table's, whether the command is loaded or not."""
        if name not in COMMANDS:
            return self.built[name].get_short_help_str(limit)
        from typer._click.utils import make_default_short_help

        return make_default_short_help(COMMANDS[name].help, limit)


_GLOBAL_FLAGS = ("-q", "--quiet", "--debug")


class _IcvacGroup(TyperGroup):
    """Loads commands lazily, and turns library errors into messages and exit codes, once, for every command."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lazy = _Commands(self.commands)
        self.commands = self.lazy

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx, formatter) -> None:
        names = self.list_commands(ctx)
        # as click does: room for the names, and 3 times the default spacing
        limit = formatter.width - 6 - max(map(len, names))
        with formatter.section("Commands"):
            formatter.write_dl([(name, self.lazy.short_help(name, limit)) for name in names])

    def shell_complete(self, ctx, incomplete):
        # command names with their help from the table: `icvac <TAB>` loads no command
        from typer._click.shell_completion import CompletionItem

        items = [CompletionItem(name, help=self.lazy.short_help(name)) for name in self.list_commands(ctx)
                 if name.startswith(incomplete)]
        return items + super(TyperGroup, self).shell_complete(ctx, incomplete)

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
            _forget_the_interrupt()
            error("interrupted; no output was written")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
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


def _plain_choice_error(exc) -> None:
    """Say a wrong choice as people read it: "'json' is not one of 'csv', 'xlsx', 'jsonl'." loses its quotes
    around the choices and gains the command's hint, where it has one."""
    text = str(exc.message)
    if " is not one of " not in text:
        return
    value, choices = text.rstrip(".").split(" is not one of ", 1)
    message = f"{value} is not one of {choices.replace(chr(39), '')}"
    names: list[str] = []
    here = exc.ctx
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


def _forget_the_interrupt() -> None:
    """Leave nothing of an interrupted run and let it end with 130. CPython marks a KeyboardInterrupt that leaves
    code run from a string (``exec``/``eval``: dataclasses and named tuples are built that way, so any
    import made during a run) as unhandled even when it is caught later, and under ``python -m`` it then
    ends the process by SIGINT (-2) instead of the exit code given. Every string ``exec`` clears that mark
    as it starts, so an empty one here does."""
    exec("pass", {})  # noqa: S102  (a constant string: the point is the exec, not its code)
    writers = sys.modules.get("icvac.writers")  # not imported: no output was begun
    if writers is not None:
        writers.remove_unfinished()


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
        _forget_the_interrupt()
        sys.exit(int(ExitCode.INTERRUPTED))
