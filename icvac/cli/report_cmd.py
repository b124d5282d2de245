"""``icvac report``: a one-page summary of a coded dataset, charts and tables, safe to publish."""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ._console import load_taxonomy_for_command, warn
from ._options import ColumnOption, DataArgument, LangOption, TaxonomyOption, output_format, reader_options

if TYPE_CHECKING:
    from icvac.readers import ReadOptions


class PageFormat(str, enum.Enum):
    html = "html"
    json = "json"


class Period(str, enum.Enum):
    auto = "auto"
    month = "month"
    year = "year"


@reader_options
def report_command(
    data: DataArgument,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE",
                                        help="File to write (summary.html), or - for stdout.")],
    fmt: Annotated[Optional[PageFormat], typer.Option(
        "--format", "-f", show_default=False,
        help="html: the page; json: its figures. Default: from the -o extension, else html.")] = None,
    branch: Annotated[Optional[str], typer.Option(
        "--branch", metavar="CODE", show_default=False,
        help="Level-1 category broken down by level 2 (default: the one with the most acts).")] = None,
    period: Annotated[Period, typer.Option(
        "--period", help="Acts over time by month or year of incident_date; auto: by month up to 36 months, "
                         "else by year.")] = Period.auto,
    min_cell: Annotated[int, typer.Option("--min-cell", "-k", min=0, help="Withhold counts from 1 to K-1, and "
                                          "enough others that none can be recomputed; 0 or 1 turns it off.")] = 5,
    column: ColumnOption = None,
    lang: LangOption = "en",
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Write a one-page HTML summary of a coded file: charts, each with its table, safe to publish.

    Acts and victims by level-1 category; acts by level 2 within one category (--branch); victims by
    category and sex, age group, disability and migration status (those the file has); acts by month or
    year of the incident; how the acts were coded (icvac_match) and, from recode's DATA.meta.json sidecar,
    the mapping, taxonomy and input. The page needs no network: it loads nothing from anywhere.

    Counts are those of `icvac tabulate`, withheld the same way (--min-cell, default 5), in the charts too:
    a withheld cell has no bar, only an 'x'. A total shown in several tables is withheld in all of them when
    one withholds it. Charts need the optional extra: pip install 'icvac[report]'.

    Example: icvac report recoded.csv -o summary.html
    """
    from icvac.columns import parse_column_options, roles_for
    from icvac.summary_page import REPORT_FORMATS, require_charts, write_summary
    from icvac.summary_report import summarise
    from icvac.writers import refuse_overwrite

    kind = fmt.value if fmt else output_format(output, REPORT_FORMATS, "html")
    refuse_overwrite(output, data, taxonomy_file)
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    # made first: a missing extra is said before a large file is read, and the charts' engine starts
    # while the file is read
    charts = require_charts() if kind == "html" else None
    summary = summarise(data, taxonomy, branch=branch, period=period.value, min_cell=min_cell,
                        read_options=read,
                        columns=parse_column_options(column, roles_for(taxonomy.variable_roles)), lang=lang)
    for message in summary.warnings:
        warn(message)
    write_summary(summary, kind, output, charts)
