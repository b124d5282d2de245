"""The options, arguments and choices that commands share: the same names, defaults and help in every
command, and the rules that tie an output's format to its file name.

Messages and machine output are ``_console``'s; ``--format json`` tells it, as the option is parsed,
that this command prints a JSON report.
"""
from __future__ import annotations

import enum
import functools
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterable, Mapping, Optional, TypeVar

import typer

from icvac.columns import ROLES
from icvac.errors import UsageError
from icvac.formats import INPUT_FORMATS

from ._console import ReportFormat, machine_output

# A hint for a value that is not one of an option's choices, for the mistakes people make:
# (command path without "icvac", parameter name) -> text. Command modules add their own.
CHOICE_HINTS: dict[tuple[str, str], str] = {}


# the languages are the loaded taxonomy's (its file's languages), known only once it is loaded: checked then
LangOption = Annotated[str, typer.Option(
    "--lang", metavar="LANG", help="Language of the titles: one of the taxonomy's languages (en, fr or es for "
                                   "the bundled ICVAC).")]

TaxonomyOption = Annotated[
    Optional[Path],
    typer.Option("--taxonomy", envvar="ICVAC_TAXONOMY", metavar="FILE", show_default=False,
                 help="Taxonomy YAML file to use instead of the bundled ICVAC taxonomy."),
]


def _report_format(value: Optional[ReportFormat]) -> Optional[ReportFormat]:
    # parsed before the command runs, so the provisional-taxonomy line is kept for the JSON too
    if value is ReportFormat.json:
        machine_output(on_stderr=False)
    return value


FormatOption = Annotated[
    ReportFormat,
    typer.Option("--format", "-f", callback=_report_format,
                 help="table for people, json for pipelines (warnings go into its `warnings` list)."),
]
OutputOption = Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="File to write, or - for stdout.")]


class Choice(str, enum.Enum):
    """The choices of an option, made by ``choices`` from a list of the library (no members of its own)."""


def choices(name: str, names: Iterable[str]) -> type[Choice]:
    """A str enum of ``names`` for an option's choices, so that the CLI lists what the library knows. mypy
    cannot see members made at run time: a module declares ``X = Choice`` for it under ``TYPE_CHECKING``."""
    return Choice(name, [(n, n) for n in names])  # type: ignore[call-overload]  # Enum's functional API


# How to read a data file: the same argument, options, names and help in every command that reads one.
_EXTENSIONS = [f.extensions[0] for f in INPUT_FORMATS.values()]
DATA_HELP = f"Data file ({', '.join(_EXTENSIONS[:-1])} or {_EXTENSIONS[-1]}); - reads CSV from stdin."
DataArgument = Annotated[str, typer.Argument(metavar="DATA", show_default=False, help=DATA_HELP)]
OptionalDataArgument = Annotated[Optional[str], typer.Argument(metavar="DATA", show_default=False, help=DATA_HELP)]


if TYPE_CHECKING:
    InputFormat = Choice
else:
    InputFormat = choices("InputFormat", INPUT_FORMATS)


EncodingOption = Annotated[Optional[str], typer.Option("--encoding", show_default=False,
                                                       help="Text encoding; detected when omitted.")]
DelimiterOption = Annotated[Optional[str], typer.Option("--delimiter", show_default=False,
                                                        help="CSV delimiter (, ; tab |); sniffed when omitted.")]
SheetOption = Annotated[Optional[str], typer.Option("--sheet", show_default=False,
                                                    help="Excel sheet name or number (default: the first).")]
HeaderRowOption = Annotated[int, typer.Option("--header-row", min=1, help="Row holding the column names.")]
InputFormatOption = Annotated[Optional[InputFormat], typer.Option(
    "--input-format", show_default=False, help="Read the data as this format instead of guessing from its extension "
                                               "(stdin is read as CSV).")]
JobsOption = Annotated[Optional[int], typer.Option(
    "--jobs", metavar="N", min=1, show_default=False,
    help="Kept for compatibility; changes nothing (Arrow's threads share the work of reading a CSV file).")]
ColumnOption = Annotated[Optional[list[str]], typer.Option(
    "--column", "-c", metavar="ROLE=NAME", show_default=False,
    help="Point a role at a column of the data, e.g. victim_sex=Sexe (repeatable). Roles: "
         + ", ".join(ROLES) + ".")]

# The reader options as one group, in the order --help lists them.
_READER_PARAMETERS = (
    ("input_format", InputFormatOption, None), ("encoding", EncodingOption, None),
    ("delimiter", DelimiterOption, None), ("sheet", SheetOption, None), ("header_row", HeaderRowOption, 1),
)


def reader_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the reader options (--input-format, --encoding, --delimiter, --sheet, --header-row)
    in place of its keyword-only parameter ``read``, which receives them as one ``readers.ReadOptions``::

        @reader_options
        def tabulate(data: DataArgument, ..., *, read: ReadOptions, taxonomy_file: TaxonomyOption = None):

    Typer sees the five options where ``read`` stands, so every command lists them in the same place
    of its --help, with the same names and help."""
    signature = inspect.signature(command)
    if "read" not in signature.parameters:
        raise TypeError(f"{command.__name__} has no `read` parameter to receive the reader options")
    names = [name for name, _, _ in _READER_PARAMETERS]
    # typer reads the signature with eval_str=True, but a signature given as __signature__ is taken as it is:
    # the annotations must be objects, not the strings `from __future__ import annotations` leaves
    hints = {name: _evaluated(command, name, p.annotation) for name, p in signature.parameters.items()
             if name != "read"}
    parameters = []
    for name, parameter in signature.parameters.items():
        if name == "read":
            parameters += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
                           for n, a, d in _READER_PARAMETERS]
        else:
            parameters.append(parameter.replace(annotation=hints[name]))

    @functools.wraps(command)
    def with_read_options(*args: Any, **kwargs: Any) -> Any:
        given = [kwargs.pop(name) for name in names]
        return command(*args, read=read_options(*given), **kwargs)

    with_read_options.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_read_options.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_read_options


def _evaluated(function: Callable[..., Any], name: str, annotation: Any) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:  # as inspect.signature(eval_str=True) does, one annotation at a time
        return eval(annotation, function.__globals__)
    except NameError as exc:
        raise TypeError(f"{function.__name__}: the annotation of {name} cannot be resolved: {exc}") from None


def read_options(input_format: Optional[InputFormat], encoding: Optional[str], delimiter: Optional[str],
                 sheet: Optional[str], header_row: int):
    """The reader options given on the command line, as ``readers.ReadOptions``."""
    from icvac.readers import ReadOptions

    return ReadOptions(input_format.value if input_format else None, encoding, delimiter, sheet, header_row)


_Default = TypeVar("_Default", bound=Optional[str])


def output_format(output: Optional[str], extensions: Mapping[str, str] | Iterable[str],
                  default: _Default) -> str | _Default:
    """The format the extension of ``-o`` implies. ``extensions`` maps ``.md`` to ``markdown``, or lists
    formats named like their extension; stdout and any other extension give ``default``."""
    table = extensions if isinstance(extensions, Mapping) else {f".{name}": name for name in extensions}
    if output is None or str(output) == "-":
        return default
    return table.get(Path(str(output)).suffix.lower(), default)


def chosen_format(given: Optional[str], output: Optional[str], extensions: Mapping[str, str] | Iterable[str],
                  default: str) -> str:
    """``--format`` when given, else the format the extension of ``-o`` implies, else ``default``.

    ``--format csv -o t.json`` is refused: one of the two is a mistake, and writing CSV into a ``.json``
    file (or the reverse) only moves the surprise to whoever opens it."""
    implied = output_format(output, extensions, None)
    if given is None:
        return implied or default
    if implied is not None and implied != given:
        raise UsageError(f"--format {given} but -o {output} names a {implied} file; give one of them only, "
                         "or make them agree")
    return given


def one_stdout(*outputs: tuple[str, Optional[str | Path]]) -> None:
    """Refuse two outputs on stdout (``("-o", output), ("--review", review)``): they would interleave."""
    from icvac.writers import is_stdout

    on_stdout = [name for name, value in outputs if value is not None and is_stdout(value)]
    if len(on_stdout) > 1:
        raise UsageError(f"{' and '.join(on_stdout)} would both go to stdout; write all but one to a file")

