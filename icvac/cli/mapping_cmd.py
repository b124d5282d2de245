"""``icvac mapping …``: check mappings, import review decisions, draft a mapping from labels."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from icvac.errors import ExitCode

from ._console import (
    ReportFormat,
    emit_json,
    error,
    info,
    load_taxonomy_for_command,
    problem_line,
    report_problems,
    stdout_console,
    warn,
)
from ._options import DataArgument, FormatOption, TaxonomyOption, reader_options

if TYPE_CHECKING:
    from icvac.readers import ReadOptions

mapping_app = typer.Typer(help="Check mapping files, import review decisions, draft a mapping.\n\n"
                               "Example: icvac mapping check mappings/gbvims.yaml",
                          no_args_is_help=True, rich_markup_mode=None)

MappingOption = Annotated[str, typer.Option("--mapping", "-m", metavar="FILE", help="Mapping YAML file to update.")]


@mapping_app.command("check")
def check(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Mapping YAML file, or the name of a bundled "
                                        "mapping (see `icvac mapping list`).")],
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Check a mapping: schema, targets in the taxonomy, sources listed twice, relations, conditions.

    Every problem is reported at once with its path in the file. Exit 0 valid, 1 invalid, 3 unreadable.

    Example: icvac mapping check mappings/gbvims.yaml
    """
    from icvac.mapping import check_mapping, resolve_mapping_path

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    path = resolve_mapping_path(file)
    mapping, problems = check_mapping(path, taxonomy)
    report_problems(path, problems, fmt, None if mapping is None else
                    f"valid, {len(mapping.entries)} entries; status {mapping.status}",
                    entries=len(mapping.entries) if mapping else None)


@mapping_app.command("list")
def list_mappings(fmt: FormatOption = ReportFormat.table, taxonomy_file: TaxonomyOption = None) -> None:
    """List the bundled mappings, usable by name with --mapping: system, version, status and entry count.

    Example: icvac mapping list
    """
    from icvac.mapping import bundled_mappings, load_mapping

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    found = [(name, path, load_mapping(path, taxonomy)) for name, path in bundled_mappings().items()]
    if fmt is ReportFormat.json:
        emit_json([{"name": name, "path": str(path), "source_system": m.source_system, "version": m.version,
                    "status": m.status, "entries": len(m.entries)} for name, path, m in found])
        return
    from rich.table import Table

    table = Table("name", "system", "version", "status", "entries", box=None, pad_edge=False)
    for name, _, m in found:
        table.add_row(name, m.source_system, m.version, m.status, str(len(m.entries)))
    stdout_console().print(table)


@mapping_app.command("review-import")
def review_import(
    review: Annotated[str, typer.Argument(metavar="REVIEW", help="Review file (.csv or .xlsx) with the decision "
                                          "column filled; - reads CSV from stdin.")],
    mapping: MappingOption,
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", help="Reviewer for rows whose reviewer "
                                                    "column is blank.")] = None,
    date: Annotated[Optional[str], typer.Option("--date", help="Date of the decisions (YYYY-MM-DD); "
                                                "today when omitted.")] = None,
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Write the decisions of a review file into the mapping, keeping its comments and order.

    A decision is an ICVAC code (codes joined with + for several acts), no-match, or blank (skipped);
    relation defaults to close. Nothing is written if any decision is invalid (exit 1).

    Example: icvac mapping review-import review.csv --mapping my-mapping.yaml --reviewer "A. Officer"
    """
    import re

    from icvac.errors import UsageError
    from icvac.mapping import load_mapping, resolve_mapping_path
    from icvac.resources import inside_package
    from icvac.review import import_review
    from icvac.writers import refuse_overwrite

    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date {date!r}: write YYYY-MM-DD")
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    path = resolve_mapping_path(mapping)
    if inside_package(path):
        raise UsageError(f"{path} is a mapping bundled inside the installed package; copy it and import into the "
                         "copy")
    # the mapping is updated in place by design (atomically); it must not be the review file or the taxonomy
    refuse_overwrite(path, review, taxonomy_file)
    result = import_review(review, load_mapping(path, taxonomy), taxonomy, reviewer=reviewer, date=date)
    if fmt is ReportFormat.json:
        emit_json({"mapping": str(path)} | result.to_dict())
    else:
        for p in result.warnings:
            warn(problem_line(review, p))
        for p in result.problems:
            error(problem_line(review, p))
        if result.problems:
            info(f"{path}: not changed ({len(result.problems)} problem(s))")
        else:
            info(f"{path}: {result.added} entries added, {result.replaced} replaced, {result.skipped} rows "
                 "without a decision")
    if result.problems:
        raise typer.Exit(int(ExitCode.DATA_INVALID))


@mapping_app.command("draft")
@reader_options
def draft(
    values: DataArgument,
    label_column: Annotated[str, typer.Option("--label-column", metavar="NAME", show_default=False,
                                              help="Column holding the national labels.")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Draft mapping to write, or - "
                                        "for stdout.")] = "-",
    date: Annotated[Optional[str], typer.Option("--date", help="Date written in the draft (YYYY-MM-DD); today "
                                                "when omitted.")] = None,
    separator: Annotated[Optional[list[str]], typer.Option(
        "--separator", metavar="TEXT", help="What splits a cell into several acts, as recode will split it "
        "(default ; and |). Repeat for several; --separator '' keeps cells whole.")] = None,
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Bootstrap a mapping from a column of national labels: counts and top-3 suggestions, for review.

    Example: icvac mapping draft export.csv --label-column gbv_type -o draft.yaml
    """
    from icvac.review import draft_mapping
    from icvac.writers import atomic_output, refuse_overwrite

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    refuse_overwrite(output, values, taxonomy_file)
    separators = None if separator is None else tuple(sep for sep in separator if sep)
    text = draft_mapping(values, label_column, taxonomy, date=date, read=read, separators=separators)
    with atomic_output(output) as handle:
        handle.write(text)
    if output != "-":
        info(f"draft written to {output}; every entry is marked review: true")
