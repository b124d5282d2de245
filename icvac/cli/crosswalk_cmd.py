"""``icvac crosswalk``: publish a mapping as a crosswalk table; ``icvac crosswalk coverage``: its gaps."""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from icvac.crosswalk_formats import CROSSWALK_FORMATS
from icvac.errors import UsageError

from ._console import ReportFormat, emit_json, info, load_taxonomy_for_command, problem_line, stdout_console, warn
from ._options import (
    DATA_HELP,
    Choice,
    ColumnOption,
    FormatOption,
    OutputOption,
    TaxonomyOption,
    choices,
    chosen_format,
    reader_options,
)

if TYPE_CHECKING:
    from icvac.readers import ReadOptions

crosswalk_app = typer.Typer(rich_markup_mode=None)


class Direction(str, enum.Enum):
    to_icvac = "to-icvac"
    from_icvac = "from-icvac"


if TYPE_CHECKING:
    CrosswalkFormat = Choice
else:
    CrosswalkFormat = choices("CrosswalkFormat", CROSSWALK_FORMATS)


_MAPPING_HELP = "Mapping YAML file, or the name of a bundled mapping (see `icvac mapping list`)."
MappingOption = Annotated[Optional[list[str]], typer.Option("--mapping", "-m", metavar="FILE", show_default=False,
                                                            help=_MAPPING_HELP)]
MappingsOption = Annotated[Optional[list[str]], typer.Option(
    "--mapping", "-m", metavar="FILE", show_default=False,
    help=f"{_MAPPING_HELP} Give it twice to cross national A to national B through ICVAC.")]


def _load_mappings(names: list[str] | None, taxonomy, most: int):
    from icvac.mapping import load_mapping

    if not names:
        raise UsageError("give a mapping with --mapping FILE (or a bundled name from `icvac mapping list`)")
    if len(names) > most:
        raise UsageError(f"give at most {most} --mapping here; got {len(names)}")
    mappings = [load_mapping(name, taxonomy) for name in names]
    for mapping in mappings:
        for problem in mapping.warnings:
            warn(problem_line(mapping.path, problem))
        if mapping.status != "verified":
            info(f"icvac: mapping {mapping.id} {mapping.version} is {mapping.status}")
    return mappings


@crosswalk_app.callback(invoke_without_command=True)
def crosswalk(
    ctx: typer.Context,
    mapping: MappingsOption = None,
    direction: Annotated[Optional[Direction], typer.Option(
        "--direction", "-d", show_default=False,
        help="to-icvac (default): each national category with its ICVAC target(s). from-icvac: every ICVAC "
             "category, of every level, with the national categories that reach it; broad and narrow swap "
             "when read this way. Not with two mappings.")] = None,
    fmt: Annotated[Optional[CrosswalkFormat], typer.Option(
        "--format", "-f", show_default=False,
        help="csv, json, xlsx, markdown, sssom (SSSOM TSV) or sql (CREATE TABLE + INSERT for DuckDB, "
             "PostgreSQL, Spark SQL). Default: from the extension of -o, else csv.")] = None,
    output: OutputOption = "-",
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Write a mapping as a crosswalk table, or cross two national systems through ICVAC.

    Relations read from subject to object in the SKOS sense: broad means the object is broader.
    Crossing two mappings composes the relations: exact keeps the other, broad with broad stays broad,
    narrow with narrow stays narrow, anything else is related. Entries awaiting review are left out.
    Subcommand: `icvac crosswalk coverage` reports what a mapping leaves uncovered.

    Example: icvac crosswalk --mapping gbvims --direction from-icvac -o gbvims-icvac.xlsx
    """
    if ctx.invoked_subcommand is not None:
        return
    from icvac.crosswalk import compose
    from icvac.crosswalk import crosswalk as make_crosswalk
    from icvac.crosswalk_formats import EXTENSIONS, write_crosswalk
    from icvac.writers import refuse_overwrite

    kind = chosen_format(fmt.value if fmt else None, output, EXTENSIONS, "csv")
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    mappings = _load_mappings(mapping, taxonomy, most=2)
    if len(mappings) == 2 and direction is not None:
        raise UsageError("--direction applies to one mapping; two mappings always read A to B through ICVAC")
    refuse_overwrite(output, taxonomy.path, *(m.path for m in mappings))
    if len(mappings) == 2:
        result = compose(mappings[0], mappings[1], taxonomy)
    else:
        result = make_crosswalk(mappings[0], taxonomy, (direction or Direction.to_icvac).value)
    write_crosswalk(result, kind, output)
    if result.left_out:
        warn(f"{result.left_out} mapping entr{'y' if result.left_out == 1 else 'ies'} awaiting review left out")
    if output != "-":
        info(f"wrote {len(result.links)} rows ({result.subject_system} to {result.object_system}, {kind}) "
             f"to {output}")


@crosswalk_app.command("coverage")
@reader_options
def coverage(
    mapping: MappingOption = None,
    data: Annotated[Optional[str], typer.Option(
        "--data", metavar="DATA", show_default=False,
        help=f"Also count the national categories in DATA that the mapping does not know. {DATA_HELP}")] = None,
    column: ColumnOption = None,
    *,
    read: ReadOptions,
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Report what a mapping covers: ICVAC categories no national category reaches, national
    categories with no target (no-match or awaiting review), the cardinality of every link (1:1, 1:n,
    n:1, n:m) and, with --data, the national values in the data that the mapping does not know.

    A category counts as reached when a national category reaches it or one of its sub-categories.
    The national categories in --data are read from the columns of the roles national_code and
    national_label: the mapping's columns section, else columns so named; --column national_label=NAME
    points elsewhere. Exit 0 whatever the gaps: this is a report.

    Example: icvac crosswalk coverage --mapping gbvims --data examples/national_export.csv
    """
    from icvac.columns import parse_column_options
    from icvac.crosswalk import coverage as make_coverage

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    (mapping_,) = _load_mappings(mapping, taxonomy, most=1)
    overrides = parse_column_options(column, roles=("national_code", "national_label"))
    if overrides and data is None:
        raise UsageError("--column applies to --data; give the data file too")
    report = make_coverage(mapping_, taxonomy, data, read, overrides)
    if report.rows_read == 0:
        warn(f"{data}: no data rows (only a header)")
    if fmt is ReportFormat.json:
        emit_json(report.to_dict())
    else:
        _print_coverage(report)


def _print_coverage(report) -> None:
    out = stdout_console()

    def say(text: str) -> None:
        out.print(text, markup=False)

    say(f"mapping {report.mapping}, taxonomy {report.taxonomy}")
    say(f"ICVAC categories reached: {len(report.reached)} of {report.icvac_total}")
    for code, title in report.unreached:
        say(f"  not reached: {code}  {title}")
    say(f"national categories with a target: {report.linked} of {report.entries_total}")
    for item in report.unlinked:
        say(f"  no target ({item.reason}): {_national(item.national_code, item.national_label)}")
    shapes = ", ".join(f"{k} {v}" for k, v in report.cardinality_counts().items())
    say(f"links: {len(report.links)} ({shapes})")
    for link in report.links:
        say(f"  {link.cardinality:<4} {_national(link.national_code, link.national_label)} -> {link.icvac_code}")
    if report.unknown is not None:
        total = sum(u.count for u in report.unknown)
        say(f"data: {report.rows_read} rows; {len(report.unknown)} national value(s) the mapping does not know, "
            f"in {total} place(s)")
        for u in report.unknown:
            say(f"  {u.count:>6}  {_national(u.code, u.label)}")


def _national(code: str | None, label: str | None) -> str:
    return " ".join(part for part in (code, repr(label) if label else None) if part) or "(empty)"
