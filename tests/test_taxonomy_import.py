"""`icvac taxonomy import`: a spreadsheet becomes a taxonomy; export -> import is lossless (issue 17)."""
from __future__ import annotations

import csv
import io

import icvac
from icvac.export import export_taxonomy
from icvac.taxonomy_import import import_taxonomy
from icvac.yamlio import load_schema

from .conftest import TAXONOMY

icvac_load = icvac.load_taxonomy  # for the tests whose `icvac` is the CLI fixture


def _same(a: icvac.Taxonomy, b: icvac.Taxonomy) -> None:
    assert export_taxonomy(a, "json") == export_taxonomy(b, "json")
    assert [(c.code, c.status_note, c.parent, c.children) for c in a.walk()] == \
        [(c.code, c.status_note, c.parent, c.children) for c in b.walk()]


def test_export_csv_then_import_gives_the_same_taxonomy(tmp_path, icvac):
    exported = tmp_path / "icvac.csv"
    assert icvac("taxonomy", "export", "-o", exported).exit_code == 0
    result = icvac("taxonomy", "import", exported, "-o", tmp_path / "back.yaml")
    assert result.exit_code == 0, result.stderr
    _same(icvac_load(TAXONOMY), icvac_load(tmp_path / "back.yaml"))
    assert icvac("taxonomy", "check", tmp_path / "back.yaml").exit_code == 0


def test_an_xlsx_sheet_imports_like_the_csv_and_version_is_set(tmp_path):
    from openpyxl import Workbook

    taxonomy = icvac.load_taxonomy(TAXONOMY)
    book = Workbook()
    for row in csv.reader(io.StringIO(export_taxonomy(taxonomy, "csv"))):
        book.active.append(row)
    book.save(tmp_path / "structure.xlsx")
    result = import_taxonomy(tmp_path / "structure.xlsx", taxonomy, version="2.0")
    assert result.valid, result.problems
    (tmp_path / "t.yaml").write_text(result.text, encoding="utf-8")
    imported = icvac.load_taxonomy(tmp_path / "t.yaml")
    assert imported.version == "2.0" and result.categories == len(taxonomy.categories)
    assert [c.code for c in imported.walk()] == [c.code for c in taxonomy.walk()]
    assert all(imported.get(c.code).exclusions == c.exclusions for c in taxonomy.walk())


def test_the_tree_comes_from_parent_in_any_row_order_and_lists_split_on_bars_and_line_breaks(tmp_path):
    (tmp_path / "s.csv").write_text(
        "Code,Parent,Title_EN,title_fr,definition,inclusions,exclusions,synonyms,residual\n"
        "0101,01,Child killing,Meurtre,Killing.,\"a\nb\",Hitting (02),x | y,\n"
        "01,,Killing,Homicide,Acts that kill.,,,,no\n"
        "02,,Hitting,Coups,Acts that hurt.,,Killing (01) | Other (99),,\n"
        "09,,Other,Autre,Other acts.,,,,true\n", encoding="utf-8")
    result = import_taxonomy(tmp_path / "s.csv", icvac.load_taxonomy(TAXONOMY))
    if "residual" not in load_schema("taxonomy.schema.json")["$defs"]["category"]["properties"]:
        # a taxonomy schema without residual flags: the one row that sets it is named
        assert [p.path for p in result.problems] == ["row 5, column residual"]
        return
    assert result.valid, result.problems
    (tmp_path / "t.yaml").write_text(result.text, encoding="utf-8")
    data = __import__("yaml").safe_load(result.text)
    assert [c["code"] for c in data["categories"]] == ["01", "02", "09"]
    child = data["categories"][0]["children"][0]
    assert (child["level"], child["inclusions"], child["synonyms"]) == (2, ["a", "b"], {"en": ["x", "y"]})
    assert child["exclusions"] == [{"text": "Hitting", "code": "02"}]
    assert data["categories"][1]["exclusions"] == [{"text": "Killing", "code": "01"}, {"text": "Other (99)"}]
    assert data["categories"][2].get("residual") is True and "residual" not in data["categories"][0]
    assert data["languages"] == ["en", "fr"]


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(tmp_path, icvac):
    (tmp_path / "bad.csv").write_text(
        "code,parent,level,title_en,definition,residual\n"
        "01,,1,Killing,Acts that kill.,\n"          # row 2: fine
        ",,1,No code,Something.,\n"                 # row 3: no code
        "01,,1,Twice,Again.,\n"                     # row 4: code twice
        "0201,02,2,Orphan,Its parent is missing.,\n"  # row 5: unknown parent
        "0101,01,x,Bad level,Level is not a number.,\n"  # row 6
        "0102,01,3,Wrong level,Level is not the depth.,\n"  # row 7
        "0103,01,2,,No English title.,\n"           # row 8: title missing (schema)
        "0104,01,2,Odd,Residual is not a yes or no.,maybe\n"  # row 9
        "05,0501,1,Loop,Cycle.,\n"                  # row 10
        "0501,05,2,Loop child,Cycle.,\n",           # row 11
        encoding="utf-8")
    result = icvac("taxonomy", "import", tmp_path / "bad.csv", "-o", tmp_path / "t.yaml")
    assert result.exit_code == 1
    assert not (tmp_path / "t.yaml").exists()
    found = [line.split(": ")[3] for line in result.stderr.splitlines() if "error: " in line and "row " in line]
    assert found == ["row 3, column code", "row 4, column code", "row 5, column parent", "row 6, column level",
                     "row 7, column level", "row 8, column title_en", "row 9, column residual", "row 10, column parent",
                     "row 11, column parent"]
    # the schema's problems come once the table's own are fixed, named the same way
    (tmp_path / "bad2.csv").write_text("code,parent,title_en,definition,status\n01,,Killing,Acts.,\n"
                                       "0103,01,Kill,Acts.,final\n", encoding="utf-8")
    schema = import_taxonomy(tmp_path / "bad2.csv", icvac_load(TAXONOMY))
    assert not schema.valid
    assert {p.path for p in schema.problems if p.severity == "error"} == {"row 3, column status"}


def test_a_missing_column_and_an_unreadable_file(tmp_path, icvac):
    (tmp_path / "cols.csv").write_text("code,parent\n01,\n", encoding="utf-8")
    result = icvac("taxonomy", "import", tmp_path / "cols.csv", "-o", tmp_path / "t.yaml")
    assert result.exit_code == 1 and "column title_en" in result.stderr and "column definition" in result.stderr
    assert icvac("taxonomy", "import", tmp_path / "missing.csv", "-o", tmp_path / "t.yaml").exit_code == 3


def test_a_parent_chain_deeper_than_any_classification_is_refused_by_row(tmp_path):
    from icvac.taxonomy_import import MAX_DEPTH

    codes = [str(10 + k) * (k + 1) for k in range(MAX_DEPTH + 2)]
    lines = ["code,parent,title_en,definition"] + [f"{c},{codes[k - 1] if k else ''},T{k},D." for k, c in
                                                   enumerate(codes)]
    (tmp_path / "deep.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_taxonomy(tmp_path / "deep.csv", icvac_load(TAXONOMY))
    assert [(p.path, p.line) for p in result.problems] == [("row 22, column parent", 22)]
