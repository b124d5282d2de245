"""``icvac recode``: code a national export into ICVAC with a mapping."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from icvac.errors import ExitCode
from icvac.formats import OUTPUT_FORMATS
from icvac.text import LONGEST_LABEL

from ._console import (
    SETTINGS,
    ReportFormat,
    emit_json,
    info,
    load_taxonomy_for_command,
    machine_output,
    problem_line,
    show_progress,
    warn,
)
from ._options import (
    CHOICE_HINTS,
    Choice,
    ColumnOption,
    DataArgument,
    JobsOption,
    TaxonomyOption,
    choices,
    chosen_format,
    one_stdout,
    reader_options,
)

if TYPE_CHECKING:
    from icvac.readers import ReadOptions


if TYPE_CHECKING:
    OutputFormat = Choice
else:
    OutputFormat = choices("OutputFormat", OUTPUT_FORMATS)


CHOICE_HINTS[("recode", "fmt")] = ("For JSON Lines data write --format jsonl; for the summary as JSON, "
                                   "--summary json.")


@reader_options
def recode(
    data: DataArgument,
    mapping: Annotated[str, typer.Option("--mapping", "-m", metavar="FILE", help="Mapping YAML file, or the name "
                                         "of a bundled mapping (see `icvac mapping list`).")],
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Output file, or - for stdout. A "
                                        "sidecar OUT.meta.json records taxonomy, mapping hash and counts.")] = "-",
    review: Annotated[Optional[str], typer.Option("--review", "-r", metavar="FILE", show_default=False,
                                                  help="Write the values to review (fuzzy, unclassified, draft) "
                                                  "to this .csv or .xlsx file, or - for stdout.")] = None,
    review_limit: Annotated[int, typer.Option("--review-limit", min=1, metavar="N", help="List the N most "
                                              "frequent values to review; the rest are counted in the summary.")
                            ] = 10_000,
    fmt: Annotated[Optional[OutputFormat], typer.Option("--format", "-f", show_default=False,
                                                        help="Output data format; from the output's extension "
                                                        "when omitted, else csv.")] = None,
    summary_format: Annotated[ReportFormat, typer.Option(
        "--summary", help="The summary as a table on stderr, or as json on stdout (on stderr, alone, when the data "
                          "or the review file goes to stdout); warnings go into its `warnings` list.")
    ] = ReportFormat.table,
    column: ColumnOption = None,
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
    jobs: JobsOption = None,
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Code every record of DATA into ICVAC with a mapping; rows keep their order and columns.

    Added columns: icvac_code, icvac_level1, icvac_title, icvac_match (exact-code, exact-label,
    normalised-label, fuzzy, condition, review, no-match, unclassified), icvac_score, and icvac_<variable>
    (icvac_victim_age_group from the age, else the birth and incident dates). Cells beyond the
    header are kept after them. An input column already named like an added one is filled, never
    overwritten: a different value stops the recode (exit 2). --column overrides the columns the
    mapping names.
    Exit 0 done, 1 with --fail-on-unclassified when a record is unclassified, 2 usage, 3 unreadable.

    Example: icvac recode examples/national_export.csv --mapping gbvims -o recoded.csv
    """
    from icvac.arrow_memory import name_allocator
    from icvac.columns import parse_column_options
    from icvac.mapping import load_mapping
    from icvac.matching import Matcher
    from icvac.recode import RecodeOptions, recode_file
    from icvac.writers import is_stdout

    one_stdout(("-o", output), ("--review", review))
    if fmt is not None:  # without --format, recode_file takes it from the extension
        chosen_format(fmt.value, output, {e: f.name for f in OUTPUT_FORMATS.values() for e in f.extensions}, fmt.value)
    stdout_taken = is_stdout(output) or (review is not None and is_stdout(review))
    if summary_format is ReportFormat.json:
        # with the data on stdout the summary goes to stderr, and must be all there is on it
        machine_output(on_stderr=stdout_taken)
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    loaded = load_mapping(mapping, taxonomy)
    for problem in loaded.warnings:
        warn(problem_line(loaded.path, problem))
    options = RecodeOptions(
        format=fmt.value if fmt else None, columns=parse_column_options(column), threshold=threshold,
        margin=margin, fuzzy=not no_fuzzy, long=long, excel_safe=excel_safe,
        read=read, jobs=jobs, review_limit=review_limit)
    matcher = Matcher(loaded, taxonomy, threshold=threshold, margin=margin, fuzzy=not no_fuzzy)
    name_allocator()  # nothing above loads pyarrow; recode_file does
    summary = recode_file(data, loaded, taxonomy, output, options, review=review, progress=_progress(matcher),
                          matcher=matcher)
    if summary_format is ReportFormat.json:
        for message in _summary_warnings(summary):
            warn(message)
        emit_json(summary.to_dict(), stream=sys.stderr if stdout_taken else None)
    else:
        _print_summary(summary, output, review)
    if fail_on_unclassified and summary.unclassified_records:
        raise typer.Exit(int(ExitCode.DATA_INVALID))


def _progress(matcher):
    if not show_progress():
        return None
    from ._console import stderr_console

    console = stderr_console()

    def tick(row: int) -> None:
        # the distinct values are where the time goes on free-text labels: a file of a million of them
        # takes minutes, and the line says why
        if row % 10000 == 0:
            console.print(f"  {row:,} rows, {matcher.matched:,} distinct values matched…", markup=False, end="\r")

    return tick


def _summary_warnings(summary) -> list[str]:
    """What the recode warns about, for the table on stderr or the JSON summary's ``warnings``."""
    messages = []
    if not summary.rows_in:
        messages.append(f"{summary.provenance['input']}: no data rows (only a header)")
    if summary.ragged_rows:
        rows = ", ".join(map(str, summary.ragged_row_numbers))
        more = ", …" if summary.ragged_rows > len(summary.ragged_row_numbers) else ""
        messages.append(
            f"{summary.ragged_rows} row(s) had a different number of cells than the header (rows {rows}{more}): "
            "short rows were padded with blank cells"
            + (f"; the cells beyond the header of {summary.rows_with_extra_cells} row(s) were kept after the "
               "ICVAC columns (in JSON Lines, under icvac_extra_cells)" if summary.rows_with_extra_cells else ""))
    if summary.missing_columns:
        messages.append(f"the mapping names column(s) {', '.join(map(repr, summary.missing_columns))}, not in the "
                        "input; those variables are not recoded (point them elsewhere with --column ROLE=NAME)")
    for role, count in sorted(summary.unmapped_values.items()):
        messages.append(f"{count} record(s) have a {role} value that the mapping and the taxonomy do not know "
                        "(coded unclassified); add it under `values:` in the mapping")
    if summary.narrative_cells:
        messages.append(f"{summary.narrative_cells} category cell(s) of over {LONGEST_LABEL:,} characters, narratives "
                        "rather than labels, were left unclassified and are not listed for review; check that "
                        "--column points at the category column")
    if summary.escaped_characters:
        messages.append(f"{summary.escaped_characters} character(s) that UTF-8 cannot hold (lone surrogates, such "
                        "as a JSON \\ud800) were written backslash-escaped")
    return messages


def _print_summary(summary, output: str, review: Optional[str]) -> None:
    if SETTINGS.quiet:
        return
    methods = ", ".join(f"{m} {n}" for m, n in sorted(summary.by_method.items()))
    info(f"recoded {summary.rows_in} rows into {summary.rows_out} rows ({summary.acts} acts"
         + (f": {methods})" if methods else ")"))
    rest = summary.review_not_listed
    info(f"unclassified records: {summary.unclassified_records}; values to review: {len(summary.review)}"
         + (f" (written to {review})" if review else " (pass --review FILE to list them)")
         + (f"; {'' if rest['values'] is None else format(rest['values'], ',') + ' '}rarer value(s) in "
            f"{rest['records']:,} record(s) not listed (--review-limit {rest['limit']:,})" if rest else ""))
    for message in _summary_warnings(summary):
        warn(message)
    from icvac.recode import sidecar_path

    prov, sidecar = summary.provenance, sidecar_path(output)
    info(f"mapping {prov['mapping']['id']} {prov['mapping']['version']} sha256 {prov['mapping']['sha256'][:12]}; "
         f"taxonomy {prov['taxonomy']['id']} {prov['taxonomy']['version']}"
         + ("" if sidecar is None else f"; provenance in {sidecar}"))
