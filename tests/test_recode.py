"""``icvac recode``: rows in = rows out, order and columns kept, provenance, golden outputs."""
from __future__ import annotations

import csv
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icvac import load_taxonomy
from icvac.mapping import load_mapping
from icvac.recode import RecodeOptions, recode_file

from .conftest import EXAMPLES, FIXTURES

REGISTER = FIXTURES / "recode" / "register.csv"
CP = FIXTURES / "recode" / "child_protection.yaml"
# tests about behaviour use the fixture classification, so that they hold whatever the official codes become
TOY_TAXONOMY, TOY_MAPPING, TOY_RECORDS = (FIXTURES / "four_levels" / name
                                          for name in ("taxonomy.yaml", "mapping.yaml", "records.csv"))


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("args,name", [
    (["--mapping", CP], "register.csv"),
    (["--mapping", CP, "--long", "--excel-safe"], "register_long.csv"),
    (["--mapping", "gbvims"], "national_export.csv"),
])
def test_golden(icvac, tmp_path, args, name, golden):
    data = REGISTER if name.startswith("register") else EXAMPLES / "national_export.csv"
    out = tmp_path / "out.csv"
    result = icvac("recode", data, *args, "-o", out)
    assert result.exit_code == 0, result.stderr
    golden(f"recode/{name}", out.read_bytes())


def test_rows_order_columns_and_codes(icvac, tmp_path):
    out = tmp_path / "out.csv"
    result = icvac("recode", TOY_RECORDS, "--mapping", TOY_MAPPING, "--taxonomy", TOY_TAXONOMY, "-o", out)
    assert result.exit_code == 0, result.stderr
    source, coded = read(TOY_RECORDS), read(out)
    assert len(coded) == len(source)
    width = len(source[0])
    assert [row[:width] for row in coded] == source
    col = {name: i for i, name in enumerate(coded[0])}
    by_label = {row[2]: row for row in coded[1:]}
    synonym = by_label["Slapped in the face"]  # no code, the label a synonym of the taxonomy
    assert (synonym[col["icvac_code"]], synonym[col["icvac_match"]]) == ("1010101", "normalised-label")
    typo = by_label["slaping"]
    assert (typo[col["icvac_code"]], typo[col["icvac_match"]]) == ("10101", "fuzzy")
    assert 85 <= float(typo[col["icvac_score"]]) < 100
    for junk in ("zzqx", "other slapings"):
        assert by_label[junk][col["icvac_code"]] == "unclassified"
        assert by_label[junk][col["icvac_match"]] == "unclassified"


def test_same_input_same_output_and_sidecar(icvac, tmp_path):
    outs = []
    for name in ("a.csv", "b.csv"):
        out = tmp_path / name
        icvac("recode", REGISTER, "--mapping", CP, "-o", out)
        outs.append((out.read_bytes(), (tmp_path / f"{name}.meta.json").read_text()))
    assert outs[0] == outs[1]
    meta = json.loads(outs[0][1])
    assert meta["provenance"]["mapping"]["sha256"] == load_mapping(CP, load_taxonomy()).sha256
    assert meta["provenance"]["taxonomy"]["version"] == "2023.0-provisional.1"
    assert meta["rows_in"] == meta["rows_out"] == 8


def test_conditions_separator_and_no_match(icvac, tmp_path):
    out = tmp_path / "o.csv"
    icvac("recode", REGISTER, "--mapping", CP, "-o", out)
    rows = read(out)
    col = {name: i for i, name in enumerate(rows[0])}
    got = [(r[0], r[col["icvac_code"]], r[col["icvac_match"]]) for r in rows[1:]]
    assert got[:5] == [("1", "03012", "condition"), ("2", "03011", "exact-code"), ("3", "0202", "exact-code"),
                       ("4", "0202|04", "exact-code|exact-code"), ("5", "unclassified", "no-match")]


def test_summary_json_exit_codes_and_stdout(icvac, tmp_path):
    result, data = icvac.json("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "o.csv", "--summary", "json")
    assert result.exit_code == 0
    assert data["unclassified_records"] == 3 and data["by_method"]["condition"] == 1
    failing = icvac("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "o2.csv", "--fail-on-unclassified")
    assert failing.exit_code == 1
    to_stdout = icvac("recode", REGISTER, "--mapping", CP, "--format", "jsonl")
    assert to_stdout.exit_code == 0
    records = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert len(records) == 8 and records[0]["icvac_code"] == "03012" and records[0]["notes"] == "free text one"


def test_usage_errors(icvac, tmp_path):
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", REGISTER).exit_code == 2
    assert icvac("recode", REGISTER, "--mapping", "gbvims", "-o", tmp_path / "x.csv").exit_code == 2
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", tmp_path / "x.csv",
                 "--column", "national_label=nope").exit_code == 2


def test_xlsx_output(icvac, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "o.xlsx"
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", out).exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 9 and rows[6][5] == "=1+1"  # a text cell, never a formula


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_cell, _cell, _cell), max_size=25))
def test_rows_in_equal_rows_out(tmp_path_factory, rows):
    taxonomy = load_taxonomy()
    mapping = load_mapping("iccs", taxonomy)
    folder = tmp_path_factory.mktemp("h")
    data = folder / "in.csv"
    header = ["national_code", "national_label", "other"]
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    expected = read(data)
    out = folder / "out.csv"
    summary = recode_file(data, mapping, taxonomy, out, RecodeOptions(read=_read_options()))
    got = read(out)
    assert summary.rows_in == summary.rows_out == len(expected) - 1
    assert [r[:3] for r in got] == [(r + [""] * 3)[:3] for r in expected]


def _read_options():
    from icvac.readers import ReadOptions

    return ReadOptions(delimiter=",", encoding="utf-8")


def test_declared_columns_missing_from_the_export_are_warned_not_fatal(icvac, tmp_path):
    data = tmp_path / "labels.csv"
    data.write_text("id,categorie\n1,Rape\n2,Forced marriage\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", "gbvims", "--column", "national_label=categorie", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "'survivor_age'" in result.stderr and "not in the input" in result.stderr
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3 and rows[1].startswith("1,Rape,0301,")
    missing = icvac("recode", data, "--mapping", "gbvims", "--column", "victim_age=age",
                    "--column", "national_label=categorie", "-o", out)
    assert missing.exit_code == 2 and "no column named 'age'" in missing.stderr


# -- nothing is lost -------------------------------------------------------------------------------------------

def test_cells_beyond_the_header_are_kept_after_the_icvac_columns(icvac, tmp_path):
    data = tmp_path / "r.csv"
    data.write_text("case_no,harm_code,harm_label\n1,,Face slap,kept one,kept two,\n2\n3,,Face slap,,\n"
                    "4,,Face slap\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    result = icvac("recode", data, "--mapping", TOY_MAPPING, "--taxonomy", TOY_TAXONOMY, "-o", out)
    assert result.exit_code == 0, result.stderr
    rows = read(out)
    width = len(rows[0])
    assert rows[1][:4] == ["1", "", "Face slap", "1010101"] and rows[1][width:] == ["kept one", "kept two"]
    assert [len(r) for r in rows[2:]] == [width] * 3  # padded; empty cells beyond the header hold nothing
    assert "(rows 2, 3, 4)" in result.stderr and "kept after the ICVAC columns" in result.stderr
    meta = json.loads((tmp_path / "o.csv.meta.json").read_text())
    assert (meta["ragged_rows"], meta["ragged_row_numbers"], meta["rows_with_extra_cells"]) == (3, [2, 3, 4], 1)


def test_jsonl_keeps_keys_missing_from_the_first_record_as_columns(icvac, tmp_path):
    data = tmp_path / "r.jsonl"
    data.write_text('{"case_no": "1", "harm_code": "H1", "harm_label": "Face slap"}\n'
                    '{"case_no": "2", "harm_code": "V1", "harm_label": "Insulted", "note": "late key"}\n',
                    encoding="utf-8")
    result = icvac("recode", data, "--mapping", TOY_MAPPING, "--taxonomy", TOY_TAXONOMY, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert list(first)[:4] == ["case_no", "harm_code", "harm_label", "note"] and first["note"] == ""
    assert first["icvac_code"] == "1010101"
    assert second["note"] == "late key" and second["icvac_code"] == "201" and "icvac_extra_cells" not in second


def test_recoding_a_recoded_file_again_changes_nothing(icvac, tmp_path):
    once, twice = tmp_path / "once.csv", tmp_path / "twice.csv"
    assert icvac("recode", REGISTER, "--mapping", CP, "-o", once).exit_code == 0
    result = icvac("recode", once, "--mapping", CP, "-o", twice)
    assert result.exit_code == 0, result.stderr
    assert twice.read_bytes() == once.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_icvac_column_is_never_overwritten(icvac, tmp_path, fmt):
    data = tmp_path / "coded.csv"
    data.write_text("id,gbv_type,icvac_code\n1,Rape,\n2,Rape,0202\n", encoding="utf-8")
    out = tmp_path / f"o.{fmt}"
    result = icvac("recode", data, "--mapping", "gbvims", "-o", out)
    assert result.exit_code == 2
    assert "row 3" in result.stderr and "already has icvac_code" in result.stderr and "0202" not in result.stderr
    assert not out.exists()


def test_age_group_from_the_dates_when_the_age_is_blank(icvac, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("incident_id,gbv_type,survivor_age,date_of_incident,victim_birth_date\n"
                    "1,Rape,,2020-06-01,2010-06-01\n2,Rape,,2020-06-01,\n3,Rape,7,2020-06-01,2000-01-01\n"
                    "4,Rape,1e1,,\n5,Rape,\"12,5\",,\n6,Rape,nan,,\n7,Rape,,2020-06-01,2021-01-01\n8,Rape,unknown,,\n",
                    encoding="utf-8")
    result = icvac("recode", data, "--mapping", "gbvims", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    groups = [json.loads(line)["icvac_victim_age_group"] for line in result.stdout.splitlines()]
    assert groups == ["10-14", "unknown", "5-9", "unclassified", "unclassified", "unclassified", "unclassified",
                      "unknown"]


def test_an_open_ended_age_group_of_a_custom_taxonomy(tmp_path):
    import dataclasses

    from icvac.taxonomy import Variable, VariableValue

    taxonomy = load_taxonomy()
    groups = Variable("victim_age_group", {"en": "Age"}, "provisional", (
        VariableValue("under-15", {"en": "Under 15"}, max=14), VariableValue("15+", {"en": "15 and over"}, min=15),
        VariableValue("unknown", {"en": "Unknown"})), derived_from="victim_age")
    custom = dataclasses.replace(taxonomy, variables={**taxonomy.variables, "victim_age_group": groups})
    out = tmp_path / "o.csv"
    recode_file(REGISTER, load_mapping(CP, taxonomy), custom, out)
    rows = read(out)
    got = [(r[1], r[-1]) for r in rows[1:]]
    assert got[:3] == [("8", "under-15"), ("15", "15+"), ("", "unknown")]


def test_variable_values_read_titles_and_synonyms_under_the_mapping(icvac, tmp_path):
    data = tmp_path / "s.csv"
    data.write_text("case_no;age;sex;abuse_code;abuse_label;notes\n1;8;Féminin;P1;;\n2;8;niño;P1;;\n"
                    "3;8;G;P1;;\n", encoding="utf-8")
    result = icvac("recode", data, "--mapping", CP, "--format", "jsonl")
    assert [json.loads(line)["icvac_victim_sex"] for line in result.stdout.splitlines()] == [
        "female", "male", "female"]


def test_header_only_says_so(icvac, tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("id,gbv_type\n", encoding="utf-8")
    result = icvac("recode", data, "--mapping", "gbvims", "-o", tmp_path / "o.csv")
    assert result.exit_code == 0 and "empty.csv: no data rows (only a header)" in result.stderr


_export_cell = st.sampled_from(["", " ", "F", "m", "Female", "x", "12", "17", "30", "n/a", "unknown", "2015-03-04",
                                "Rape", "rape ", "Sexual Assault", "Sexual asault", "Physical Assault", "zzzz",
                                "Denial of Resources, Opportunities or Services", "Teacher", "Home", "School"])


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(_export_cell, min_size=8, max_size=8), min_size=1, max_size=40))
def test_a_chunk_coded_a_column_at_a_time_is_coded_as_row_by_row(rows):
    """recode's two paths: a chunk of rows a column at a time (most files), one row at a time (the rest)."""
    from icvac.matching import Matcher
    from icvac.layout import category_layout
    from icvac.coder import RecodeSummary, Recoder as _Recoder

    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    header = ["incident_id", "gbv_type", "survivor_sex", "survivor_age", "survivor_birth_date",
              "date_of_incident", "alleged_perpetrator_relationship", "gbv_type_2"]
    layout = category_layout(header, mapping, {"victim_birth_date": "survivor_birth_date"})
    assert layout.birth is not None and layout.age is not None  # ages from the age cell, else from the dates
    coders = [_Recoder(Matcher(mapping, taxonomy), mapping, taxonomy, layout, RecodeSummary()) for _ in range(2)]
    by_chunk = coders[0].chunk(rows)
    by_row = [row for cells in rows for row in coders[1].rows(cells, False)]
    assert by_chunk == by_row
    for coder in coders:
        coder.flush()
    assert coders[0].summary.to_dict() == coders[1].summary.to_dict()
    assert coders[0].review.keys() == coders[1].review.keys()
