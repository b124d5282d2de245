"""``icvac agree`` and ``icvac evaluate``: how reliable is the coding."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ._console import ReportFormat, emit_json, error, load_taxonomy_for_command, stdout_console, warn
from ._options import FormatOption, JobsOption, TaxonomyOption, one_stdout, reader_options

if TYPE_CHECKING:
    from icvac.readers import ReadOptions

IdOption = Annotated[str, typer.Option("--id", metavar="COLUMN", help="Column holding the record id, in every file.")]
CodeColumnOption = Annotated[str, typer.Option("--code-column", metavar="COLUMN",
                                               help="Column holding the ICVAC codes.")]
LevelOption = Annotated[int, typer.Option("--level", "-l", min=1, max=9, help="Level of the confusion matrix and "
                                                                             "of the categories listed.")]
ReportOption = Annotated[Optional[str], typer.Option("--report", metavar="FILE.html", show_default=False,
                                                     help="Write a self-contained HTML page.")]
ListedOption = Annotated[Optional[str], typer.Option(
    "--disagreements", metavar="FILE.csv", show_default=False,
    help="Write every record to review (id, status, level, codes) as CSV, safe to open in a spreadsheet; - for stdout.")]
MaxListedOption = Annotated[int, typer.Option("--max-listed", min=0, help="Records to review shown in the report.")]


def _outputs(report_file, listed_file, fmt, inputs) -> bool:
    """Check the outputs; True when the table or JSON report is to be printed on stdout."""
    from icvac.writers import refuse_overwrite

    one_stdout(("--report", report_file), ("--disagreements", listed_file),
               ("--format json", "-" if fmt == ReportFormat.json else None))
    for output in (report_file, listed_file):
        refuse_overwrite(output, *inputs)
    return fmt == ReportFormat.json or "-" not in (report_file, listed_file)


def _write(render, report_file, listed_file, coders, run):
    """Run the comparison with the CSV being written as records come, then the page; all appear together."""
    import contextlib

    from icvac.agreement_report import listed_csv_writer
    from icvac.writers import atomic_output, staged_outputs

    with staged_outputs() as stage:
        with (listed_csv_writer(listed_file, coders, stage) if listed_file else contextlib.nullcontext()) as write:
            result = run(write)
        if report_file:
            with atomic_output(report_file, stage=stage) as handle:
                handle.write(render(result))
    return result


@reader_options
def agree_command(
    files: Annotated[list[str], typer.Argument(metavar="A B [C ...]", show_default=False,
                                               help="Two or more codings of the same records (CSV, .xlsx or .jsonl); "
                                                    "- reads one of them from stdin.")],
    id_column: IdOption,
    code_column: CodeColumnOption = "icvac_code",
    level: LevelOption = 1,
    fmt: FormatOption = ReportFormat.table,
    report_file: ReportOption = None,
    listed_file: ListedOption = None,
    max_listed: MaxListedOption = 20,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the intervals that "
                                                                      "have no closed form; 0 for none.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap: same seed, same intervals.")] = 0,
    *,
    read: ReadOptions,
    jobs: JobsOption = None,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Agreement between two or more codings of the same records (double coding), by level of the taxonomy.

    The files are joined on --id. For each level: records compared, percent agreement, Cohen's kappa (two
    coders) or Fleiss' kappa (three or more, on the records every coder coded), Krippendorff's alpha (nominal,
    missing codings allowed), each with a 95% interval (Wilson; Fleiss-Cohen-Everitt for Cohen's kappa; else a
    seeded bootstrap). Then the confusion matrix at level 1 (and at --level), the categories with the most
    disagreement and the records to review by id. Several acts in a cell (joined by '|' or ';') are compared as
    a set; exact-set and per-act agreement are reported. Records in some files only, or with a blank code, are
    counted and listed, never dropped. A value that is not a code of the taxonomy counts as 'invalid' and is
    never shown.

    Exit 0 when the codings were compared, 1 when no record has two codings, 2 on a usage error, 3 when a
    file cannot be read.

    Example: icvac agree coder1.csv coder2.csv --id incident_id --report agreement.html
    """
    from icvac.agreement_report import render_agreement_html
    from icvac.errors import UsageError
    from icvac.reliability import agree

    if len(files) < 2:
        raise UsageError("give two files or more to compare")
    printed = _outputs(report_file, listed_file, fmt, [*files, taxonomy_file])
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    coders = [chr(65 + i) if i < 26 else f"C{i + 1}" for i in range(len(files))]
    report = _write(render_agreement_html, report_file, listed_file, coders,
                    lambda write: agree(files, taxonomy, id_column=id_column, code_column=code_column, level=level,
                                        read_options=read, max_listed=max_listed, replicates=bootstrap, seed=seed,
                                        on_record=write, jobs=jobs))
    for message in report.warnings:
        warn(message)
    if fmt == ReportFormat.json:
        emit_json(report.to_dict())
    elif printed:
        _print_agreement(report, coders)
    _exit_if_nothing_compared(report.levels[0].compared)


@reader_options
def evaluate_command(
    coded: Annotated[str, typer.Argument(metavar="CODED", help="The coding to check, e.g. `icvac recode` output.")],
    gold: Annotated[str, typer.Option("--gold", metavar="GOLD", help="The reference coding of the same records.")],
    id_column: IdOption,
    code_column: CodeColumnOption = "icvac_code",
    gold_column: Annotated[Optional[str], typer.Option("--gold-column", metavar="COLUMN", show_default=False,
                                                       help="Column of codes in GOLD (default: --code-column).")] = None,
    level: LevelOption = 1,
    fmt: FormatOption = ReportFormat.table,
    report_file: ReportOption = None,
    listed_file: ListedOption = None,
    max_listed: MaxListedOption = 20,
    *,
    read: ReadOptions,
    jobs: JobsOption = None,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Accuracy of a coding against a reference (gold) coding of the same records.

    The files are joined on --id. Reports the accuracy by level (share of records whose set of codes equals
    the gold's, with a Wilson interval) and Cohen's kappa; the coverage (records coded, not 'unclassified')
    and the accuracy of what was coded; the accuracy by icvac_match method when CODED comes from `icvac
    recode`; precision, recall and F1 per category at --level; the confusion matrix (gold x coded); and the
    records to review by id. A blank coded cell counts as unclassified; a record with a blank gold cell is
    counted but not judged. A gold cell may say 'unclassified' (nothing to code): coding it so is right.

    Exit 0 when records were judged, 1 when no record has a gold coding, 2 on a usage error, 3 when a file
    cannot be read.

    Example: icvac evaluate recoded.csv --gold examples/national_export_gold.csv --id incident_id
    """
    from icvac.agreement_report import render_evaluation_html
    from icvac.reliability import evaluate

    printed = _outputs(report_file, listed_file, fmt, [coded, gold, taxonomy_file])
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    report = _write(render_evaluation_html, report_file, listed_file, ["coded", "gold"],
                    lambda write: evaluate(coded, gold, taxonomy, id_column=id_column, code_column=code_column,
                                           gold_column=gold_column, level=level, read_options=read,
                                           max_listed=max_listed, on_record=write, jobs=jobs))
    for message in report.warnings:
        warn(message)
    if fmt == ReportFormat.json:
        emit_json(report.to_dict())
    elif printed:
        _print_evaluation(report)
    _exit_if_nothing_compared(report.levels[0].compared)


def _exit_if_nothing_compared(compared: int) -> None:
    if not compared:
        error("no record could be compared (no id in common, or every coding blank): the statistics are undefined")
        raise typer.Exit(1)


def _console():
    console = stdout_console()
    # the figures with their intervals need some room: a row folded over three lines is hard to read
    console.width = max(console.width, 120)
    return console


def _table(*headers: str, right_from: int = 1):
    from rich.table import Table

    table = Table(*headers, box=None, pad_edge=False)
    for column in table.columns[right_from:]:
        column.justify = "right"
    return table


def _row(table, *cells) -> None:
    from rich.text import Text

    table.add_row(*(Text(str(c)) for c in cells))


def _print_agreement(report, coders) -> None:
    from icvac.agreement_report import percent

    console = _console()
    for coder, name, rows in zip(coders, report.stats.files, report.stats.rows, strict=True):
        console.print(f"{coder}: {name} ({rows} rows)", markup=False)
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    console.print(f"records: {report.stats.records} joined on the id, {report.stats.in_every_file} in every file; "
                  f"{counts}", markup=False)
    kind = "Cohen's kappa" if report.levels[0].kappa_kind == "cohen" else "Fleiss' kappa"
    table = _table("level", "compared", "agreement", kind, "Krippendorff's alpha", "per-act")
    notes: dict[str, None] = {}
    for lv in report.levels:
        _row(table, lv.level, lv.compared, _cell(lv.percent, notes, "agreement", True),
             _cell(lv.kappa, notes, kind), _cell(lv.alpha, notes, "Krippendorff's alpha"), percent(lv.per_act))
    console.print(table)
    _print_notes(console, notes)
    multi = report.multi_act
    console.print(f"records with several acts: {multi['records']} (compared {multi['compared']}; exact-set "
                  f"agreement {percent(multi['exact_set_agreement'])}, per-act {percent(multi['per_act_agreement'])})",
                  markup=False)
    for matrix in report.matrices:
        _print_matrix(console, matrix, "rows A, columns B" if matrix.kind == "A x B" else "coincidences")
    if report.most_disagreement:
        table = _table("category", "records", "disagreeing", "rate", right_from=1)
        for d in report.most_disagreement:
            _row(table, d["category"], d["records"], d["disagreeing"], percent(d["rate"]))
        console.print("categories with the most disagreement:")
        console.print(table)
    _print_listed(console, report.listed, sum(report.counts.values()), coders)


def _print_evaluation(report) -> None:
    from icvac.agreement_report import percent

    console = _console()
    cov = report.coverage
    console.print(f"coded: {report.stats.files[0]} ({report.stats.rows[0]} rows); gold: {report.stats.files[1]} "
                  f"({report.stats.rows[1]} rows)", markup=False)
    console.print(f"coverage: {cov['coded']} of {cov['records']} records coded ({percent(cov['share'])}), "
                  f"{cov['unclassified']} unclassified; " + ", ".join(f"{k} {v}" for k, v in report.counts.items()),
                  markup=False)
    table = _table("level", "judged", "accuracy", "accuracy of coded", "Cohen's kappa")
    notes: dict[str, None] = {}
    for lv in report.levels:
        _row(table, lv.level, lv.compared, _cell(lv.accuracy, notes, "accuracy", True),
             _cell(lv.accuracy_of_coded, notes, "accuracy of coded", True), _cell(lv.kappa, notes, "Cohen's kappa"))
    console.print(table)
    _print_notes(console, notes)
    console.print("accuracy by match method:")
    table = _table("method", "records", *(f"level {lv.level}" for lv in report.levels))
    for m in report.by_method:
        _row(table, m.method, m.records, *(percent(e.value) for e in m.accuracy))
    console.print(table)
    console.print(f"categories at level {report.level}:")
    table = _table("code", "gold", "coded", "correct", "precision", "recall", "F1")
    for c in report.categories:
        _row(table, c.code, c.gold, c.coded, c.correct, percent(c.precision), percent(c.recall), percent(c.f1))
    console.print(table)
    _print_matrix(console, report.matrix, "rows gold, columns coded")
    _print_listed(console, report.listed, sum(report.counts.values()), ["coded", "gold"])


def _cell(estimate, notes: dict, name: str, as_percent: bool = False) -> str:
    """The estimate for a table cell; why it is n/a goes below the table, once."""
    from icvac.agreement_report import format_estimate

    if estimate.value is None:
        notes[f"{name}: {estimate.note or 'not defined'}"] = None
        return "n/a"
    return format_estimate(estimate, as_percent)


def _print_notes(console, notes: dict) -> None:
    for note in notes:
        console.print(f"n/a: {note}", markup=False)


def _print_matrix(console, matrix, what: str) -> None:
    console.print(f"confusion matrix at level {matrix.level} ({what}):")
    if not matrix.categories:
        console.print("  (no record)")
        return
    table = _table("", *matrix.categories)
    for name, row in zip(matrix.categories, matrix.counts, strict=True):
        _row(table, name, *(("" if not v else (int(v) if float(v).is_integer() else f"{v:.2f}")) for v in row))
    console.print(table)


def _print_listed(console, listed, total: int, coders) -> None:
    if not listed:
        return
    console.print(f"records to review: {total}" + (f" (the first {len(listed)}; all with --disagreements FILE.csv)"
                                                  if total > len(listed) else ""), markup=False)
    table = _table("id", "status", "level", *coders, right_from=99)
    for x in listed:
        _row(table, x.id, x.status, "" if x.level is None else x.level, *x.codes)
    console.print(table)
