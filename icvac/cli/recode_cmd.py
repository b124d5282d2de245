"""``icvac recode``: code a national export into ICVAC with a mapping."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from icvac.errors import ExitCode

from . import app
from ._common import SETTINGS, ReportFormat, TaxonomyOption, emit_json, info, load_taxonomy_for_command, \
    show_progress, warn


class OutputFormat(str, enum.Enum):
    csv = "csv"
    xlsx = "xlsx"
    jsonl = "jsonl"


@app.command("recode")
def recode(
    data: Annotated[str, typer.Argument(help="Data file (.csv, .xlsx, .jsonl), or - for CSV on stdin.")],
    mapping: Annotated[str, typer.Option("--mapping", "-m", help="Mapping YAML file, or the name of a bundled "
                                         "mapping (gbvims, iccs).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Output file, or - for stdout. A sidecar "
                                        "OUT.meta.json records taxonomy, mapping hash and counts.")] = "-",
    fmt: Annotated[Optional[OutputFormat], typer.Option("--format", "-f", help="Output format; from the "
                                                        "output's extension when omitted, else csv.")] = None,
    review: Annotated[Optional[Path], typer.Option("--review", "-r", help="Write the values to review "
                                                   "(fuzzy, unclassified, draft) to this .csv or .xlsx.")] = None,
    column: Annotated[Optional[List[str]], typer.Option("--column", "-c", metavar="ROLE=NAME",
                                                        help="Column of a role, e.g. national_label=Type "
                                                        "(repeatable); overrides the mapping's columns.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0, max=100, help="Lowest fuzzy score "
                                             "accepted.")] = 85.0,
    margin: Annotated[float, typer.Option("--margin", min=0, max=100, help="Points a fuzzy match must lead "
                                          "the best candidate with another target by.")] = 5.0,
    no_fuzzy: Annotated[bool, typer.Option("--no-fuzzy", help="Exact and normalised matches only.")] = False,
    long: Annotated[bool, typer.Option("--long", help="One row per coded act instead of joining acts with |.")]
    = False,
    excel_safe: Annotated[bool, typer.Option("--excel-safe", help="Prefix cells that a spreadsheet would run as "
                                             "formulas with '.")] = False,
    fail_on_unclassified: Annotated[bool, typer.Option("--fail-on-unclassified", help="Exit 1 when any record "
                                                       "is unclassified.")] = False,
    report: Annotated[ReportFormat, typer.Option("--report", help="Summary as table (stderr) or json (stdout; "
                                                 "stderr when the data goes to stdout).")] = ReportFormat.table,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="Excel sheet name or number.")] = None,
    header_row: Annotated[int, typer.Option("--header-row", min=1, help="Row holding the column names.")] = 1,
    encoding: Annotated[Optional[str], typer.Option("--encoding", help="CSV encoding; detected when "
                                                    "omitted.")] = None,
    delimiter: Annotated[Optional[str], typer.Option("--delimiter", help="CSV delimiter; sniffed when "
                                                     "omitted.")] = None,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Code every record of DATA into ICVAC with a mapping; rows keep their order and columns.

    Added columns: icvac_code, icvac_level1, icvac_title, icvac_match (exact-code, exact-label,
    normalised-label, fuzzy, condition, review, unclassified), icvac_score, and icvac_<variable>
    (icvac_victim_age_group from the age, else the birth and incident dates). Cells beyond the
    header are kept after them. An input column already named like an added one is filled, never
    overwritten: a different value stops the recode (exit 2).
    Exit 0 done, 1 with --fail-on-unclassified when a record is unclassified, 2 usage, 3 unreadable.
    Example: icvac recode examples/national_export.csv --mapping gbvims -o recoded.csv
    """
    from icvac.columns import parse_column_options
    from icvac.mapping import load_mapping
    from icvac.readers import ReadOptions
    from icvac.recode import RecodeOptions, recode_file
    from icvac.writers import is_stdio

    taxonomy = load_taxonomy_for_command(taxonomy_file)
    loaded = load_mapping(mapping, taxonomy)
    for problem in loaded.warnings:
        warn(f"{loaded.path}: {problem.format().split(': ', 1)[1]}")
    options = RecodeOptions(
        format=fmt.value if fmt else None, columns=parse_column_options(column), threshold=threshold,
        margin=margin, fuzzy=not no_fuzzy, long=long, excel_safe=excel_safe,
        read=ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, header_row=header_row))
    summary = recode_file(data, loaded, taxonomy, output, options, review=review, progress=_progress())
    if report is ReportFormat.json:
        if is_stdio(output):
            import json
            import sys

            sys.stderr.write(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            emit_json(summary.to_dict())
    else:
        _print_summary(summary, output, review)
    if fail_on_unclassified and summary.unclassified_records:
        raise typer.Exit(int(ExitCode.DATA_INVALID))


def _progress():
    if not show_progress():
        return None
    from ._common import stderr_console

    console = stderr_console()

    def tick(row: int) -> None:
        if row % 10000 == 0:
            console.print(f"  {row:,} rows…", markup=False, end="\r")

    return tick


def _print_summary(summary, output: str, review: Optional[Path]) -> None:
    if SETTINGS.quiet:
        return
    methods = ", ".join(f"{m} {n}" for m, n in sorted(summary.by_method.items()))
    info(f"recoded {summary.rows_in} rows into {summary.rows_out} rows ({summary.acts} acts: {methods})")
    info(f"unclassified records: {summary.unclassified_records}; values to review: {len(summary.review)}"
         + (f" (written to {review})" if review else " (pass --review FILE to list them)"))
    if not summary.rows_in:
        warn(f"{summary.provenance['input']}: no data rows (only a header)")
    if summary.ragged_rows:
        rows = ", ".join(map(str, summary.ragged_row_numbers))
        more = ", …" if summary.ragged_rows > len(summary.ragged_row_numbers) else ""
        warn(f"{summary.ragged_rows} row(s) had a different number of cells than the header (rows {rows}{more}): "
             "short rows were padded with blank cells"
             + (f"; the cells beyond the header of {summary.rows_with_extra_cells} row(s) were kept after the "
                "ICVAC columns (in JSON Lines, under icvac_extra_cells)" if summary.rows_with_extra_cells else ""))
    if summary.missing_columns:
        warn(f"the mapping names column(s) {', '.join(map(repr, summary.missing_columns))}, not in the input; "
             "those variables are not recoded (point them elsewhere with --column ROLE=NAME)")
    for role, count in sorted(summary.unmapped_values.items()):
        warn(f"{count} record(s) have a {role} value that the mapping and the taxonomy do not know "
             "(coded unclassified); add it under `values:` in the mapping")
    prov = summary.provenance
    info(f"mapping {prov['mapping']['id']} {prov['mapping']['version']} sha256 {prov['mapping']['sha256'][:12]}; "
         f"taxonomy {prov['taxonomy']['id']} {prov['taxonomy']['version']}"
         + ("" if output == "-" else f"; provenance in {output}.meta.json"))
