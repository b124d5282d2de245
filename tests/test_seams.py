"""The seams between commands (issue 14): several acts in one category cell, recode output read back by
validate and tabulate, checks that could not run, draft-coded acts, and the small rough edges."""
from __future__ import annotations

import csv
import json

import pytest

from icvac import load_taxonomy
from icvac.layout import category_layout
from icvac.mapping import load_mapping

from .conftest import EXAMPLES

NATIONAL = EXAMPLES / "national_export.csv"

PRIMERO = """\
id: primero-test
title: Primero-style multi-select test
source_system: Test Primero
version: "1"
taxonomy_version: "2023.0-provisional.1"
author: icvac tests
date: "2024-06-01"
source_reference: synthetic test fixture
status: provisional
columns:
  id: case_id
  categories: [{code: type_of_violence}]
  {separators}
categories:
  - source_code: rape
    target: ["0301"]
    relation: close
    justification: test entry
    reviewer: icvac tests
    date: "2024-06-01"
  - source_code: physical_assault
    target: ["0202"]
    relation: close
    justification: test entry
    reviewer: icvac tests
    date: "2024-06-01"
  - source_code: denial_of_resources; opportunities
    target: ["05"]
    relation: close
    justification: a code that holds a separator, coded whole
    reviewer: icvac tests
    date: "2024-06-01"
"""


def read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- several acts in one cell

@pytest.mark.parametrize("cell", ["Rape; Physical Assault", "Rape | Physical Assault", "Rape;Physical Assault"])
def test_gbvims_cell_with_two_acts_gives_both(icvac, tmp_path, cell):
    data = write(tmp_path / "export.csv", f"incident_id,survivor_age,gbv_type\nINC-1,12,{cell}\nINC-2,9,Rape\n")
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", "gbvims", "-o", out, "--review", tmp_path / "review.csv")
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert [(r["icvac_code"], r["icvac_match"]) for r in rows] == [
        ("0301|0202", "exact-label|exact-label"), ("0301", "exact-label")]
    # never fuzzy-matched as a whole: nothing to review
    assert read(tmp_path / "review.csv") == []
    long = tmp_path / "long.csv"
    assert icvac("recode", data, "--mapping", "gbvims", "-o", long, "--long").exit_code == 0
    assert [(r["incident_id"], r["icvac_act"], r["icvac_code"]) for r in read(long)] == [
        ("INC-1", "1", "0301"), ("INC-1", "2", "0202"), ("INC-2", "1", "0301")]


@pytest.mark.parametrize("declared,expected", [
    ("", ["0301|0202", "0301|0202", "05", "unclassified"]),
    ("separators: [\",\"]", ["unclassified", "unclassified", "05", "0301|0202"]),
    ("separators: []", ["unclassified", "unclassified", "05", "unclassified"]),
])
def test_primero_multi_select_codes(icvac, tmp_path, declared, expected):
    mapping = write(tmp_path / "primero.yaml", PRIMERO.replace("{separators}", declared))
    data = write(tmp_path / "cases.csv", "case_id,type_of_violence\n1,rape; physical_assault\n"
                                         "2,rape | physical_assault\n3,denial_of_resources; opportunities\n"
                                         '4,"rape,physical_assault"\n')
    out = tmp_path / "out.csv"
    result = icvac("recode", data, "--mapping", mapping, "-o", out, "--no-fuzzy")
    assert result.exit_code == 0, result.output
    assert [r["icvac_code"] for r in read(out)] == expected


def test_layout_splits_at_every_declared_separator():
    taxonomy = load_taxonomy()
    mapping = load_mapping("gbvims", taxonomy)
    assert mapping.columns.separators == (";", "|")
    layout = category_layout(["incident_id", "gbv_type"], mapping, {})
    values = list(layout.category_values(["1", " Rape ;; Denial of Resources | "]))
    assert values == [(0, "Rape", "Rape"), (0, "Denial of Resources", "Denial of Resources")]
