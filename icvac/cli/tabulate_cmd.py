"""``icvac tabulate``: counts by ICVAC category, with small-cell suppression."""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ._console import load_taxonomy_for_command, stdout_console, warn
from ._options import (
    ColumnOption,
    DataArgument,
    LangOption,
    OutputOption,
    TaxonomyOption,
    chosen_format,
    reader_options,
)

if TYPE_CHECKING:
    from icvac.readers import ReadOptions


class TableFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


class Unit(str, enum.Enum):
    act = "act"
    victim = "victim"


@reader_options
def tabulate_command(
    data: DataArgument,
    level: Annotated[int, typer.Option("--level", "-l", min=1, help="Category level of the rows.")] = 1,
    by: Annotated[Optional[str], typer.Option(
        "--by", metavar="VAR[,VAR]", show_default=False,
        help="Up to two variables to cross with the categories, e.g. victim_sex,victim_age_group "
             "(see `icvac taxonomy variables`).")] = None,
    unit: Annotated[Unit, typer.Option("--unit", help="act: count acts (each code in a record); victim: count "
                                                      "records, once per category.")] = Unit.act,
    min_cell: Annotated[int, typer.Option("--min-cell", "-k", min=0, help="Withhold counts from 1 to K-1, and "
                                          "enough others that none can be recomputed; 0 or 1 turns it off.")] = 5,
    fmt: Annotated[Optional[TableFormat], typer.Option(
        "--format", "-f", show_default=False,
        help="table for people; csv, json or xlsx for files. Default: from the -o extension, else table.")] = None,
    output: OutputOption = "-",
    column: ColumnOption = None,
    lang: LangOption = "en",
    *,
    read: ReadOptions,
    taxonomy_file: TaxonomyOption = None,
) -> None:
    """Count acts (or victims) by ICVAC category, crossed with victim, perpetrator or context variables.

    Input: a file with ICVAC codes in an icvac_code column (e.g. `icvac recode` output); several codes in one
    cell are joined by ';' or '|', and a blank cell or 'unclassified' is an unclassified act. Codes are rolled up to
    --level; codes coarser than the level form "(not further specified)" rows, codes not in the taxonomy an
    'invalid' row. With --unit victim each record is one victim, counted once in each category it has acts
    in; the Total row counts distinct victims, so categories may add up to more than the total.

    Counts from 1 to K-1 (--min-cell, default 5) are withheld and shown as 'x' (null in JSON), and further
    cells are withheld until no withheld cell can be recomputed from the totals of this table. Publishing
    several tables of the same data (other levels or variables) can still reveal cells: check them together.

    Example: icvac tabulate coded.csv --level 2 --by victim_sex -o table.csv
    """
    from icvac.columns import parse_column_options, roles_for
    from icvac.errors import UsageError
    from icvac.tabulate import TABLE_FORMATS, tabulate, write_tabulation
    from icvac.writers import refuse_overwrite

    if fmt is TableFormat.table and output != "-":
        raise UsageError("--format table prints to the terminal; write a file with --format csv, json or xlsx")
    kind = chosen_format(fmt.value if fmt else None, output, TABLE_FORMATS, "table")
    if kind == "table" and output != "-":
        raise UsageError(f"-o {output}: name a .csv, .json or .xlsx file, or give --format csv, json or xlsx")
    refuse_overwrite(output, data, taxonomy_file)
    taxonomy = load_taxonomy_for_command(taxonomy_file)
    variables = tuple(v.strip() for v in (by or "").split(",") if v.strip())
    result = tabulate(data, taxonomy, level=level, by=variables, unit=unit.value, min_cell=min_cell,
                      read_options=read,
                      columns=parse_column_options(column, roles_for(taxonomy.variable_roles)), lang=lang)
    for message in result.warnings:
        warn(message)
    if kind == "table":
        _print_table(result)
    else:
        write_tabulation(result, kind, output)


def _print_table(result) -> None:
    from rich.table import Table
    from rich.text import Text

    meta = result.metadata
    unit = "acts" if meta["unit"] == "act" else "victims"
    caption = (f"{unit} by ICVAC level-{meta['level']} category; x = withheld (counts below {meta['min_cell']} "
               "and cells that would reveal them)" if meta["min_cell"] > 1 else f"{unit}; suppression OFF")
    table = Table(*(["code", "category"] + [c.key for c in result.columns]), caption=caption, box=None)
    for column in table.columns[2:]:
        column.justify = "right"
    for values in result.to_rows()[1:]:
        table.add_row(*(Text(str(v)) for v in values))
    stdout_console().print(table)
