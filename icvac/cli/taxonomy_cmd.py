"""``icvac taxonomy …``: browse, search, export and check the taxonomy."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from icvac.export import EXPORT_FORMATS

from ._console import ReportFormat, emit_json, info, load_taxonomy_for_command, report_problems, stdout_console
from ._options import Choice, FormatOption, LangOption, OutputOption, TaxonomyOption, choices, chosen_format

taxonomy_app = typer.Typer(help="Browse, search, export and check the ICVAC taxonomy.\n\n"
                                "Example: icvac taxonomy tree --level 1",
                           no_args_is_help=True, rich_markup_mode=None)


if TYPE_CHECKING:
    ExportFormat = Choice
else:
    ExportFormat = choices("ExportFormat", EXPORT_FORMATS)


EXPORT_EXTENSIONS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown"}


@taxonomy_app.command("tree")
def tree(
    level: Annotated[Optional[int], typer.Option("--level", "-l", min=1, help="Deepest level to show.")] = None,
    lang: LangOption = "en",
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Print the category tree.

    Example: icvac taxonomy tree --level 2 --lang fr
    """
    from icvac.export import category_record
    from icvac.tables import check_language

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    check_language(taxonomy, lang)
    if level is not None and level > taxonomy.levels:
        raise typer.BadParameter(f"{level}: taxonomy {taxonomy.id} has levels 1 to {taxonomy.levels}",
                                 param_hint="--level")
    cats = list(taxonomy.walk(level))
    if fmt is ReportFormat.json:
        emit_json([{k: category_record(c)[k] for k in ("code", "level", "parent")} | {"title": c.title_in(lang),
                   "status": c.status} for c in cats])
        return
    out = stdout_console()
    for cat in cats:
        mark = "" if cat.status == "verified" else "  (provisional)"
        out.print(f"{'  ' * (cat.level - 1)}{cat.code}  {cat.title_in(lang)}{mark}", markup=False)


@taxonomy_app.command("show")
def show(
    code: Annotated[str, typer.Argument(metavar="CODE", help="An ICVAC code, e.g. 03 or 0301.")],
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Show one category: title, definition, inclusions, exclusions, parent, children, status.

    Example: icvac taxonomy show 03
    """
    from icvac.errors import UsageError
    from icvac.export import category_record

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    if code not in taxonomy:
        hint = "; try `icvac taxonomy search`" if not code.isdigit() else ""
        raise UsageError(f"no category with code {code!r} in the taxonomy{hint}")
    cat = taxonomy.get(code)
    if fmt is ReportFormat.json:
        emit_json(category_record(cat))
        return
    out = stdout_console()
    out.print(f"{cat.code}  {cat.title_in('en')}", style="bold", markup=False)
    for lang in taxonomy.languages:
        if lang != "en" and lang in cat.title:
            out.print(f"  {lang}: {cat.title[lang]}", markup=False)
    out.print(f"Level {cat.level}; status: {cat.status}" + (f" ({cat.status_note})" if cat.status_note else ""),
              markup=False)
    parent = taxonomy.get(cat.parent) if cat.parent else None
    out.print(f"Parent: {parent.code} {parent.title_in('en')}" if parent else "Parent: (none, level 1)", markup=False)
    out.print(f"\nDefinition: {cat.definition}", markup=False)
    _bullets(out, "Inclusions", cat.inclusions)
    _bullets(out, "Exclusions", [f"{e.text} (see {e.code})" if e.code else e.text for e in cat.exclusions])
    _bullets(out, "Children", [f"{c} {taxonomy.get(c).title_in('en')}" for c in cat.children])


def _bullets(out, heading: str, items) -> None:
    if items:
        out.print(f"\n{heading}:", markup=False)
        for item in items:
            out.print(f"  - {item}", markup=False)


@taxonomy_app.command("search")
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Words to look for, in English, French or Spanish.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many matches to show.")] = 10,
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Rank categories for TEXT over titles, synonyms, inclusions and definitions in every language.

    Accents, case, word order and a one-letter typo do not matter; words found in many categories weigh
    little. A note on stderr (in JSON, each hit's `abstain`) says when the suggester would not code TEXT, and why
    (missing, negated, not-an-act, residual, composite, tie…).

    Example: icvac taxonomy search "abus sexuel"
    """
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    hits = taxonomy.search(text, limit=limit)
    from icvac.scoring import scorer_for

    verdict = scorer_for(taxonomy).assess(text)
    if fmt is ReportFormat.json:  # each hit says whether a draft would code the text, and if not, why
        emit_json([{"code": h.code, "title": h.title, "score": h.score, "matched": h.matched,
                    "abstain": verdict.reason, "branches": list(verdict.branches or ())} for h in hits])
        return
    if verdict.reason:
        branches = f" (branches {', '.join(verdict.branches)})" if verdict.branches else ""
        info(f"a draft would not code this: {verdict.reason}{branches}")
    if not hits:
        info("no match")
        return
    from rich.table import Table

    table = Table("code", "title", "score", "matched on", box=None)
    for h in hits:
        table.add_row(h.code, h.title, f"{h.score:.1f}", h.matched)
    stdout_console().print(table)


@taxonomy_app.command("variables")
def variables(
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """List the disaggregating variables and their coded values.

    Example: icvac taxonomy variables --format json
    """
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    if fmt is ReportFormat.json:
        from icvac.export import variable_records

        emit_json(variable_records(taxonomy))
        return
    out = stdout_console()
    for var in taxonomy.variables.values():
        out.print(f"{var.id}  {var.title.get('en', '')}", style="bold", markup=False)
        for value in var.values:
            rng = f"  [{value.min}-{value.max}]" if value.min is not None else ""
            out.print(f"    {value.code:<26} {value.title.get('en', '')}{rng}", markup=False)


@taxonomy_app.command("export")
def export(
    fmt: Annotated[Optional[ExportFormat], typer.Option(
        "--format", "-f", show_default=False,
        help="csv, json or markdown. Default: from the extension of -o (.csv, .json, .md), else json.")] = None,
    output: OutputOption = "-",
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Export the whole taxonomy as CSV, JSON or Markdown.

    Example: icvac taxonomy export -o icvac.csv
    """
    from icvac.export import export_taxonomy
    from icvac.writers import atomic_output, refuse_overwrite

    kind = chosen_format(fmt.value if fmt else None, output, EXPORT_EXTENSIONS, "json")
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    refuse_overwrite(output, taxonomy.path)
    text = export_taxonomy(taxonomy, kind)
    with atomic_output(output) as handle:
        handle.write(text)


@taxonomy_app.command("check")
def check(
    file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help="Taxonomy file; the bundled one when "
                                                   "omitted.", show_default=False)] = None,
    fmt: FormatOption = ReportFormat.table,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Check a taxonomy file: schema, unique codes, parent/child codes, levels, references, synonyms.

    Every problem is reported at once with its path in the file. Exit 0 valid, 1 invalid, 3 unreadable.

    Example: icvac taxonomy check my-taxonomy.yaml
    """
    from icvac.taxonomy import check_taxonomy, resolve_taxonomy_path

    path = resolve_taxonomy_path(file or taxonomy_file)
    taxonomy, problems = check_taxonomy(path)
    report_problems(path, problems, fmt, None if taxonomy is None else
                    f"valid, {len(taxonomy.categories)} categories, {len(taxonomy.variables)} variables"
                    + (f", {len(problems)} warning(s)" if problems else "") + f"; status {taxonomy.status}")
