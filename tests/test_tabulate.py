"""icvac tabulate: counting rules, small-cell suppression, outputs."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac.errors import UsageError
from icvac.suppression import primary_mask, suppress
from icvac.tabulate import tabulate, tabulate_records
from icvac.taxonomy import load_taxonomy

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "tabulate" / "coded.csv"


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="module")
def toy():
    """A made-up classification of four levels (codes of 1, 3, 5 and 7 digits) for the counting rules, so that
    they hold whatever the official ICVAC codes become; the golden files are of the bundled taxonomy."""
    return load_taxonomy(HERE / "fixtures" / "four_levels" / "taxonomy.yaml")


# --- suppression -------------------------------------------------------------------------------------------

def full_table(interior: list[list[int]]) -> list[list[int]]:
    """Interior cells plus row totals (last column) and column totals (last row)."""
    rows = [list(r) + [sum(r)] for r in interior]
    width = len(rows[0])
    return rows + [[sum(r[j] for r in rows) for j in range(width)]]


def relations(n_rows: int, n_cols: int) -> list[list[tuple[int, int, int]]]:
    """The published linear relations of a full table as (row, column, coefficient) triples; each sums to 0."""
    out = []
    if n_cols >= 2:
        out += [[(i, j, 1) for j in range(n_cols - 1)] + [(i, n_cols - 1, -1)] for i in range(n_rows)]
    if n_rows >= 2:
        out += [[(i, j, 1) for i in range(n_rows - 1)] + [(n_rows - 1, j, -1)] for j in range(n_cols)]
    return out


def _rank(vectors: list[list[Fraction]]) -> int:
    rows = [list(v) for v in vectors]
    rank, width = 0, len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return rank


def recoverable(table: list[list[int]], mask: list[list[bool]]) -> list[tuple[int, int]]:
    """Withheld cells that linear algebra on the published relations determines exactly (an independent oracle)."""
    hidden = [(i, j) for i, row in enumerate(mask) for j, s in enumerate(row) if s]
    position = {cell: n for n, cell in enumerate(hidden)}
    system = []
    for relation in relations(len(table), len(table[0])):
        vector = [Fraction(0)] * len(hidden)
        for i, j, coefficient in relation:
            if (i, j) in position:
                vector[position[i, j]] += coefficient
        if any(vector):
            system.append(vector)
    base = _rank(system)
    found = []
    for cell, n in position.items():
        unit = [Fraction(int(m == n)) for m in range(len(hidden))]
        if _rank(system + [unit]) == base:
            found.append(cell)
    return found


def test_secondary_suppression_stops_recovery_from_a_row_total():
    table = full_table([[3, 10], [8, 9]])   # 3 | 10 | 13 ; 8 | 9 | 17 ; 11 | 19 | 30
    primary = primary_mask(table, 5)
    assert [(i, j) for i, r in enumerate(primary) for j, s in enumerate(r) if s] == [(0, 0)]
    # primary suppression alone: 3 = 13 - 10, read straight off the row total
    assert recoverable(table, primary) == [(0, 0)]
    mask = suppress(table, 5)
    assert recoverable(table, mask) == []
    assert sum(mask[0]) >= 2 and sum(r[0] for r in mask) >= 2
    assert mask == [[True, True, False], [True, True, False], [False, False, False]]


def test_a_single_line_with_two_cells_forces_the_total():
    # One interior column: each category cell equals its row total, so the total must go too.
    table = full_table([[3], [10], [12]])
    mask = suppress(table, 5)
    assert mask[0] == [True, True]
    assert recoverable(table, mask) == []


def test_a_small_total_is_withheld_and_protected():
    table = full_table([[1, 2], [20, 30]])
    mask = suppress(table, 5)
    assert mask[0] == [True, True, True]
    assert recoverable(table, mask) == []


def test_zero_cells_are_published_and_k_below_two_withholds_nothing():
    table = full_table([[0, 7], [6, 9]])
    assert not any(map(any, suppress(table, 5)))
    assert not any(map(any, suppress(full_table([[1, 2], [3, 4]]), 1)))


def test_table_without_variables_is_protected_along_its_one_column():
    table = [[2], [40], [42]]  # rows and grand total only: one column relation
    mask = suppress(table, 5)
    assert mask == [[True], [True], [False]]
    assert recoverable(table, mask) == []


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]], 5)
    with pytest.raises(ValueError):
        suppress([[-1, 2]], 5)


small_counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5).flatmap(lambda cols: st.lists(st.lists(small_counts, min_size=cols, max_size=cols),
                                                       min_size=1, max_size=6)),
       st.integers(0, 8))
def test_suppression_invariants(interior, k):
    table = full_table(interior)
    mask = suppress(table, k)
    for i, row in enumerate(table):
        for j, value in enumerate(row):
            if 0 < value < k:
                assert mask[i][j], "every small count is withheld"
            if value == 0:
                assert not mask[i][j], "zeros are published"
    # every row and column that holds a withheld cell holds at least two
    for line in [*mask, *zip(*mask)]:
        assert sum(line) != 1
    assert recoverable(table, mask) == []
    assert suppress(table, k) == mask, "deterministic"


# --- counting ----------------------------------------------------------------------------------------------

codes = st.sampled_from(["1", "101", "10101", "1010101", "1010109", "2", "201", "202", "3", "9", "901",
                         "unclassified", "", "9999", "Unclassified"])
code_cells = st.tuples(st.lists(codes, min_size=1, max_size=3), st.sampled_from(";|")).map(lambda t: t[1].join(t[0]))
records_strategy = st.lists(st.tuples(code_cells,
                                      st.tuples(st.sampled_from(["female", "m", "", "zzz", "unknown"]))),
                            max_size=60)


@settings(max_examples=100, deadline=None)
@given(records_strategy, st.integers(1, 4), st.sampled_from([(), ("victim_sex",)]))
def test_totals_add_up_for_acts(toy, records, level, by):
    records = [(code, values[:len(by)]) for code, values in records]
    result = tabulate_records(records, toy, level=level, by=by, min_cell=0)
    counts = result.counts
    acts = sum(len([p for p in code.replace("|", ";").split(";") if p.strip()]) or 1 for code, _ in records)
    assert result.grand_total == acts == result.metadata["acts_counted"]
    assert sum(row[-1] for row in counts[:-1]) == acts, "the category rows, unclassified included, add up"
    for row in counts:
        if by:
            assert sum(row[:-1]) == row[-1]
    for j in range(len(result.columns)):
        assert sum(row[j] for row in counts[:-1]) == counts[-1][j]


@settings(max_examples=60, deadline=None)
@given(records_strategy, st.integers(1, 4))
def test_totals_for_victims(toy, records, level):
    result = tabulate_records(records, toy, level=level, by=("victim_sex",), unit="victim", min_cell=0)
    counts = result.counts
    assert result.grand_total == len(records)
    for row in counts:
        assert sum(row[:-1]) == row[-1]
    for j in range(len(result.columns)):
        assert sum(row[j] for row in counts[:-1]) >= counts[-1][j]


def rows_of(result) -> dict[str, list]:
    return {r.key: list(result.counts[i]) for i, r in enumerate(result.rows)}


def test_rolls_up_and_keeps_unplaceable_codes_apart(toy):
    records = [("1010101", ()), ("101", ()), ("2", ()), ("201;202", ()), ("", ()), ("UNCLASSIFIED", ()),
               ("7777", ()), (" 102 ; ", ()), ("901|109", ())]
    result = tabulate_records(records, toy, level=2, min_cell=0)
    rows = rows_of(result)
    assert rows["101"] == [2] and rows["2"] == [1] and rows["201"] == [1] and rows["202"] == [1]
    assert rows["unclassified"] == [2] and rows["invalid"] == [1] and rows["102"] == [1]
    assert rows["901"] == [1] and rows["109"] == [1]
    assert rows["total"] == [11]
    kinds = {r.key: r.kind for r in result.rows}
    assert kinds["2"] == "not_further_specified" and kinds["101"] == "category"
    assert [r.key for r in result.rows][-3:] == ["unclassified", "invalid", "total"]
    assert "1" not in rows, "level-1 categories with children are not rows at level 2"
    assert any("'7777'" in w and "1" not in w for w in result.warnings)


def test_level_three_keeps_childless_categories_and_rows_do_not_depend_on_data(toy):
    empty = tabulate_records([], toy, level=3, by=("victim_sex",))
    keys = [r.key for r in empty.rows]
    assert "102" in keys and "10101" in keys and "3" in keys and "101" not in keys and "1010101" not in keys
    assert keys[-2:] == ["unclassified", "total"]
    assert [c.key for c in empty.columns] == ["female", "male", "unknown", "total"]
    assert empty.grand_total == 0


def test_victims_are_counted_once_per_category(toy):
    records = [("101;10101;201", ("female",)), ("201", ("male",))]
    result = tabulate_records(records, toy, level=1, by=("victim_sex",), unit="victim", min_cell=0)
    rows = rows_of(result)
    assert rows["1"] == [1, 0, 0, 1] and rows["2"] == [1, 1, 0, 2]
    assert rows["total"] == [1, 1, 0, 2]
    assert result.metadata["acts_counted"] == 4 and result.metadata["records_read"] == 2


def test_variable_values_match_titles_and_synonyms_else_invalid(toy):
    records = [("3", ("F",)), ("3", (" female ",)), ("3", ("",)), ("3", ("banana",))]
    result = tabulate_records(records, toy, by=("victim_sex",), min_cell=0)
    assert [c.key for c in result.columns] == ["female", "male", "unknown", "invalid", "total"]
    assert rows_of(result)["3"] == [2, 0, 1, 1, 4]
    assert any(w.startswith("victim_sex: records with a value") for w in result.warnings)


def test_age_group_from_age_or_dates(toy, tmp_path):
    data = tmp_path / "ages.csv"
    data.write_text("icvac_code,victim_age,victim_birth_date,incident_date\n"
                    "3,4,,\n3,12.0,,\n3,,2010-06-02,2020-06-01\n3,,2010-06-01,2020-06-01\n3,,,\n"
                    "3,19,,\n3,,01/02/2010,2020-01-01\n", encoding="utf-8")
    result = tabulate(data, toy, by=("victim_age_group",), min_cell=0)
    assert [c.key for c in result.columns] == ["0-9", "10-17", "unknown", "invalid", "total"]
    assert rows_of(result)["3"] == [2, 2, 1, 2, 7]  # 9 years old on 2020-06-01 when born 2010-06-02


def test_library_refuses_options_that_cannot_work(toy):
    for kwargs in ({"level": 5}, {"level": 0}, {"unit": "child"}, {"min_cell": -1}, {"by": ("victim_sex",) * 2},
                   {"by": ("victim_sex", "weapon", "victim_age_group")}, {"by": ("colour",)}, {"by": ("setting",)}):
        with pytest.raises(UsageError):
            tabulate_records([], toy, **kwargs)


# --- command line ------------------------------------------------------------------------------------------

def test_cli_csv_matches_golden(icvac, golden):
    result = icvac("tabulate", FIXTURE, "--by", "victim_sex", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    golden("tabulate/by_sex.csv", result.stdout)
    assert "provisional" in result.stderr
    assert "'0601'" in result.stderr
    assert "private note" not in result.stdout + result.stderr


def test_cli_json_matches_golden(icvac, golden):
    result, data = icvac.json("tabulate", FIXTURE, "--level", "2", "--by", "victim_age_group", "-f", "json")
    assert result.exit_code == 0
    golden("tabulate/level2_by_age.json", result.stdout, loads=json.loads)
    rows = {r["key"]: r for r in data["rows"]}
    assert data["metadata"]["acts_counted"] == rows["total"]["counts"][-1] == 67
    withheld = [(r["key"], c) for r in data["rows"] for c, s in zip(r["counts"], r["suppressed"]) if s]
    assert withheld and all(c is None for _, c in withheld)


def test_cli_secondary_suppression_on_the_fixture(icvac):
    result, data = icvac.json("tabulate", FIXTURE, "--by", "victim_sex", "-f", "json")
    sexual = next(r for r in data["rows"] if r["key"] == "03")
    # 10 girls and 3 boys: the 3 is withheld, and so is the row total, else 13 - 10 gives it away
    assert sexual["counts"] == [10, None, 0, 0, 0, None]


def test_cli_min_cell_zero_warns_and_publishes_everything(icvac):
    result = icvac("tabulate", FIXTURE, "--by", "victim_sex", "--min-cell", "0", "-f", "csv")
    assert result.exit_code == 0
    assert "suppression is off" in result.stderr
    assert ",x" not in result.stdout and "03,Sexual violence against a child,10,3,0,0,0,13" in result.stdout


def test_cli_stdin_table_and_quiet(icvac):
    text = FIXTURE.read_text(encoding="utf-8")
    result = icvac("--quiet", "tabulate", "-", "--unit", "victim", input=text)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "victims by ICVAC level-1 category" in result.stdout and "Unclassified" in result.stdout


def test_cli_writes_files_atomically_and_identically(icvac, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert icvac("tabulate", FIXTURE, "--by", "setting,victim_sex", "-o", out).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["columns"][0]["key"] == "home / female"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_xlsx(icvac, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "table.xlsx"
    result = icvac("tabulate", FIXTURE, "--by", "victim_sex", "-o", out)
    assert result.exit_code == 0, result.stderr
    rows = [[c for c in r] for r in load_workbook(out).active.iter_rows(values_only=True)]
    assert rows[0] == ["code", "category", "female", "male", "other", "unknown", "invalid", "total"]
    assert rows[3] == ["03", "Sexual violence against a child", 10, "x", 0, 0, 0, "x"]


def test_cli_column_option_and_reader_options(icvac, tmp_path):
    data = tmp_path / "renamed.csv"
    data.write_text("note\nexported 2024\nCode;Sexe\n0301;F\n0301;M\n", encoding="utf-8")
    result = icvac("tabulate", data, "--header-row", "3", "--delimiter", ";", "--column", "icvac_code=Code",
                   "--column", "victim_sex=Sexe", "--by", "victim_sex", "-k", "0", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "03,Sexual violence against a child,1,1,0,0,2" in result.stdout


@pytest.mark.parametrize("args, code, message", [
    (["--by", "victim_disability"], 2, "--column victim_disability=COLUMN"),
    (["--by", "a,b,c"], 2, "at most 2"),
    (["--level", "4"], 2, "--level"),
    (["--min-cell", "-1"], 2, "--min-cell"),
    (["--format", "table", "-o", "out.txt"], 2, "--format table"),
    (["--column", "icvac_code=nope"], 2, "no column named 'nope'"),
])
def test_cli_usage_errors(icvac, args, code, message):
    result = icvac("tabulate", FIXTURE, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_code_column_and_unreadable_input(icvac, tmp_path):
    data = tmp_path / "plain.csv"
    data.write_text("id,victim_sex\n1,female\n", encoding="utf-8")
    result = icvac("tabulate", data)
    assert result.exit_code == 2 and "no icvac_code column" in result.stderr
    result = icvac("tabulate", tmp_path / "missing.csv")
    assert result.exit_code == 3 and "no such file" in result.stderr


def test_cli_refuses_to_overwrite_its_input(icvac, tmp_path):
    data = tmp_path / "coded.csv"
    data.write_bytes(FIXTURE.read_bytes())
    result = icvac("tabulate", data, "-f", "csv", "-o", data)
    assert result.exit_code == 2
    assert data.read_bytes() == FIXTURE.read_bytes()


# --- nothing outside the cells gives a withheld count away ---------------------------------------------------

@pytest.mark.parametrize("unit", ["act", "victim"])
def test_withheld_counts_leave_no_trace_in_metadata_or_warnings(toy, unit):
    """Two data sets whose published cells agree must give the same output: every other number
    (records_read, acts_counted, counts in warnings) could be used to recompute a withheld cell."""
    few = [("101", ("F",)), ("XX", ("banana",))]
    more = few * 2
    a = tabulate_records(few, toy, by=("victim_sex",), unit=unit)
    b = tabulate_records(more, toy, by=("victim_sex",), unit=unit)
    assert a.suppressed[-1][-1] and b.suppressed[-1][-1]
    assert a.grand_total != b.grand_total
    assert a.to_dict() == b.to_dict()
    assert a.metadata["records_read"] is None and a.metadata["acts_counted"] is None


@settings(max_examples=40, deadline=None)
@given(records=st.lists(st.tuples(st.sampled_from(["101", "201|101", "", "XX", "unclassified"]),
                                  st.tuples(st.sampled_from(["F", "male", "", "banana"]))), min_size=1, max_size=2),
       unit=st.sampled_from(["act", "victim"]))
def test_adding_a_record_under_the_threshold_changes_nothing_published(toy, records, unit):
    # at most 4 acts or victims: every non-zero cell is withheld; a repeated record keeps the same cells non-zero
    a = tabulate_records(records, toy, by=("victim_sex",), unit=unit, min_cell=9)
    b = tabulate_records(records + records[:1], toy, by=("victim_sex",), unit=unit, min_cell=9)
    assert a.to_dict() == b.to_dict()


def test_published_grand_total_keeps_the_counts(toy):
    result = tabulate_records([("101", ())] * 6 + [("201|101", ())] * 5, toy, min_cell=5)
    assert result.metadata["records_read"] == 11 and result.metadata["acts_counted"] == result.grand_total == 16


@pytest.mark.parametrize("min_cell", [0, 1])
def test_min_cell_one_is_no_suppression_and_says_so(toy, min_cell):
    result = tabulate_records([("101", ())], toy, min_cell=min_cell)
    assert not any(map(any, result.suppressed))
    assert f"small-cell suppression is off (--min-cell {min_cell})" in " ".join(result.warnings)


def test_cli_min_cell_one_warns(icvac):
    result = icvac("tabulate", FIXTURE, "--min-cell", "1", "-f", "json")
    assert result.exit_code == 0 and "do not publish this table" in result.stderr


# --- odd files -----------------------------------------------------------------------------------------------

def test_ragged_rows_are_counted_and_warned(icvac, tmp_path):
    data = tmp_path / "r.csv"
    data.write_text("id,icvac_code\n1,0301,extra\n2\n3,0301\n", encoding="utf-8")
    result, table = icvac.json("tabulate", data, "-f", "json", "--min-cell", "0")
    assert result.exit_code == 0
    assert "2 row(s) had a different number of cells than the header" in result.stderr
    assert table["metadata"]["records_read"] == 3


def test_blank_rows_are_not_records(toy, tmp_path):
    data = tmp_path / "b.csv"
    data.write_text("id,icvac_code\n1,101\n\n,\n2,101\n\n\n", encoding="utf-8")
    result = tabulate(data, toy, min_cell=0)
    assert rows_of(result)["unclassified"] == [0]
    assert result.metadata["records_read"] == 2 and not any("number of cells" in w for w in result.warnings)


def test_header_only_is_zero_records_and_says_so(icvac, tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("id,icvac_code\n", encoding="utf-8")
    result, table = icvac.json("tabulate", data, "-f", "json")
    assert result.exit_code == 0 and table["metadata"]["records_read"] == 0
    assert "empty.csv: no data rows (only a header)" in result.stderr


def test_age_group_reads_ages_like_validate(toy, tmp_path):
    data = tmp_path / "ages.csv"
    data.write_text("icvac_code,victim_age,victim_birth_date,incident_date\n"
                    "3,unknown,,\n3,unknown,2010-06-01,2020-06-01\n3,7.,,\n3,1e1,,\n3,-1,,\n"
                    "3,,2010-06-01x,2020-06-01\n", encoding="utf-8")
    result = tabulate(data, toy, by=("victim_age_group",), min_cell=0)
    assert [c.key for c in result.columns] == ["0-9", "10-17", "unknown", "invalid", "total"]
    assert rows_of(result)["3"] == [1, 1, 1, 3, 6]


@pytest.mark.parametrize("fmt,name,args", [("csv", "by_sex.csv", {"by": ("victim_sex",)}),
                                             ("json", "level2_by_age.json", {"level": 2, "by": ("victim_age_group",)})])
def test_library_writes_what_the_cli_writes(taxonomy, tmp_path, fmt, name, args, golden):
    from icvac.tabulate import write_tabulation

    out = tmp_path / f"table.{fmt}"
    write_tabulation(tabulate(FIXTURE, taxonomy, **args), fmt, out)
    golden(f"tabulate/{name}", out.read_bytes())


def test_library_refuses_a_format_it_cannot_write(taxonomy, tmp_path):
    from icvac.tabulate import write_tabulation

    with pytest.raises(UsageError, match="cannot write a table as 'table'"):
        write_tabulation(tabulate(FIXTURE, taxonomy), "table", tmp_path / "t.txt")
    assert list(tmp_path.iterdir()) == []
