"""Taxonomy versions: ``taxonomy diff``, ``taxonomy import``, ``mapping migrate`` and ``migrate``."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from icvac.errors import ExitCode, UsageError
from icvac.readers import ReadOptions

from ._console import emit_json, error, info, load_taxonomy_for_command, warn
from ._options import DataArgument, TaxonomyOption, reader_options
from .mapping_cmd import mapping_app
from .taxonomy_cmd import taxonomy_app


class DiffFormat(str, enum.Enum):
    text = "text"
    json = "json"
    yaml = "yaml"


OldFile = Annotated[Path, typer.Argument(metavar="OLD", help="The earlier taxonomy YAML file.", show_default=False)]
NewFile = Annotated[Path, typer.Argument(metavar="NEW", help="The later taxonomy YAML file.", show_default=False)]
ChangesOption = Annotated[Path, typer.Option("--changes", metavar="FILE", show_default=False,
                                             help="Correspondence YAML between the two versions (written by "
                                                  "`icvac taxonomy diff --correspondence`, then reviewed).")]
ToOption = Annotated[Optional[Path], typer.Option(
    "--to", metavar="FILE", show_default=False,
    help="The new taxonomy YAML file; the taxonomy in use (--taxonomy, $ICVAC_TAXONOMY, bundled) when omitted.")]
DateOption = Annotated[Optional[str], typer.Option("--date", help="Date written in the correspondence "
                                                   "(YYYY-MM-DD); today when omitted.", show_default=False)]


def _reviewed(corr):
    if corr.status != "reviewed":
        warn(f"{corr.path} is a draft correspondence: have a person review it (then set status: reviewed)")
    return corr


@taxonomy_app.command("diff")
def diff(
    old: OldFile,
    new: NewFile,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="text for people, json for pipelines, yaml: "
                                            "the draft correspondence file.")] = DiffFormat.text,
    correspondence: Annotated[Optional[str], typer.Option(
        "--correspondence", metavar="FILE", show_default=False,
        help="Also write the draft correspondence YAML here (to review, then keep as "
             "taxonomy/changes/OLD_VERSION--NEW_VERSION.yaml).")] = None,
    date: DateOption = None,
) -> None:
    """Compare two versions of a taxonomy: categories added, removed, retitled, moved, split and merged.

    Categories are matched by code, and by titles (every language) and synonyms. Exit 0 whether or not
    anything changed; 3 when a file cannot be read.

    Example: icvac taxonomy diff taxonomy/icvac.yaml icvac-2.yaml --correspondence changes.yaml
    """
    from icvac.correspondence import correspondence_yaml
    from icvac.review import _checked_date
    from icvac.taxonomy import load_taxonomy
    from icvac.taxonomy_diff import diff_taxonomies
    from icvac.writers import atomic_output, refuse_overwrite

    result = diff_taxonomies(load_taxonomy(old), load_taxonomy(new))
    text = correspondence_yaml(result.correspondence(_checked_date(date) if date else None))
    if correspondence is not None:
        refuse_overwrite(correspondence, old, new)
        with atomic_output(correspondence) as handle:
            handle.write(text)
        info(f"draft correspondence written to {correspondence}; review it before migrating")
    if fmt is DiffFormat.json:
        emit_json(result.to_dict())
    elif fmt is DiffFormat.yaml:
        typer.echo(text, nl=False)
    else:
        typer.echo(result.text(), nl=False)


@taxonomy_app.command("import")
@reader_options
def import_(
    structure: Annotated[str, typer.Argument(metavar="FILE", help="Spreadsheet (.csv, .xlsx) with one row per "
                                             "category: code, parent, level, title_en, title_fr…, definition, "
                                             "inclusions, exclusions, synonyms_en…", show_default=False)],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Taxonomy YAML to write, or - "
                                        "for stdout.")] = "-",
    base: Annotated[Optional[Path], typer.Option(
        "--base", metavar="FILE", show_default=False,
        help="Taxonomy whose id, titles, publisher, source, status and variables the new file takes (the "
             "previous version as a rule); the taxonomy in use when omitted.")] = None,
    version: Annotated[Optional[str], typer.Option("--version", help="Version of the new taxonomy; the "
                                                   "base's when omitted.", show_default=False)] = None,
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Turn a classification kept in a spreadsheet into a taxonomy YAML file.

    Every problem is named by row and column; nothing is written when there is one. Lists in a cell are
    separated by | or line breaks. Exit 0 written, 1 problems in the spreadsheet, 3 unreadable.

    Example: icvac taxonomy import icvac-official.xlsx --version 2024.1 -o icvac-2024.yaml
    """
    from icvac.taxonomy_import import import_taxonomy
    from icvac.writers import atomic_output, refuse_overwrite

    taxonomy = load_taxonomy_for_command(base or taxonomy_file)
    refuse_overwrite(output, structure, taxonomy.path)
    result = import_taxonomy(structure, taxonomy, version=version,
                             read=read)
    for p in result.problems:
        (warn if p.severity == "warning" else error)(f"{structure}: {p.path}: {p.message}")
    if not result.valid:
        info(f"{structure}: {sum(p.severity == 'error' for p in result.problems)} error(s); nothing written")
        raise typer.Exit(int(ExitCode.DATA_INVALID))
    with atomic_output(output) as handle:
        handle.write(result.text)
    if output != "-":
        info(f"{result.categories} categories written to {output}; check it with `icvac taxonomy check {output}`")


@mapping_app.command("migrate")
def migrate_mapping(
    mapping: Annotated[str, typer.Argument(metavar="MAPPING", help="Mapping YAML file, or the name of a bundled "
                                           "mapping.", show_default=False)],
    to: Annotated[Path, typer.Option("--to", metavar="FILE", show_default=False,
                                     help="The new taxonomy YAML file.")],
    changes: ChangesOption,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Migrated mapping to write, or - "
                                        "for stdout.")] = "-",
) -> None:
    """Carry a mapping to a new taxonomy version through a correspondence file.

    Targets are rewritten; an entry whose target was split (or removed) is marked review: true with the
    candidate new codes as suggestions, not guessed. Exit 0 written, 2 when the files do not go together,
    3 unreadable or invalid input.

    Example: icvac mapping migrate gbvims --to icvac-2.yaml --changes taxonomy/changes/A--B.yaml -o gbvims.yaml
    """
    from icvac.correspondence import load_correspondence
    from icvac.mapping import resolve_mapping_path
    from icvac.migrate_mapping import migrate_mapping as migrate
    from icvac.writers import atomic_output, refuse_overwrite

    new = load_taxonomy_for_command(to)
    corr = _reviewed(load_correspondence(changes))
    refuse_overwrite(output, resolve_mapping_path(mapping), to, changes)
    result = migrate(mapping, new, corr)
    with atomic_output(output) as handle:
        handle.write(result.text)
    info(f"{result.entries} entries: {result.rewritten} rewritten, {len(result.review)} to review "
         f"(review: true), {result.unchanged} unchanged")


@reader_options
def migrate_data(
    data: DataArgument,
    changes: ChangesOption,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Output file, or - for stdout. A "
                                        "sidecar OUT.meta.json records both taxonomy versions.")] = "-",
    to: ToOption = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", show_default=False,
                                               help="csv, xlsx or jsonl; from the output's extension when "
                                                    "omitted, else csv.")] = None,
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Re-code the icvac_code column of a recoded file to a new taxonomy version, row by row.

    Every row is kept. An act whose code was split or removed becomes unclassified (icvac_match
    migrate-split or migrate-removed); icvac_previous_code keeps the code before. Exit 0 written,
    2 when the files do not go together, 3 unreadable.

    Example: icvac migrate recoded.csv --changes taxonomy/changes/A--B.yaml -o recoded-B.csv
    """
    from icvac.arrow_memory import name_allocator
    from icvac.correspondence import load_correspondence
    from icvac.formats import OUTPUT_FORMATS
    from icvac.migrate_data import migrate_file

    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise UsageError(f"--format {fmt}: choose one of {', '.join(OUTPUT_FORMATS)}")
    new = load_taxonomy_for_command(to or taxonomy_file)
    corr = _reviewed(load_correspondence(changes))
    name_allocator()  # nothing above loads pyarrow; migrate_file does
    summary = migrate_file(data, corr, new, output, fmt, read)
    acts = ", ".join(f"{k} {v}" for k, v in summary.to_dict()["acts"].items())
    info(f"migrated {summary.rows_in} rows into {summary.rows_out} rows ({acts}); taxonomy "
         f"{corr.from_version} -> {corr.to_version}")
