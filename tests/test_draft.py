"""``mapping draft``: variants grouped, scores, reasons and top-3 per entry, row-count order, safe YAML."""
from __future__ import annotations

import csv

import pytest
import yaml

from icvac import load_taxonomy
from icvac.errors import UsageError
from icvac.mapping import check_mapping
from icvac.review import draft_mapping


def write_labels(path, labels):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "type"])
        writer.writerows([n, label] for n, label in enumerate(labels))


LABELS = (["Physical abuse"] * 3 + ["physical  ABUSE"] * 2 + ["Physical abuse."] + ["Sexual abuse"] * 4
          + ["Child mother"] + ["physically or mentally abused"] * 2 + ["n/a"])


@pytest.fixture
def drafted(tmp_path):
    values = tmp_path / "labels.csv"
    write_labels(values, LABELS)
    path = tmp_path / "draft.yaml"
    path.write_text(draft_mapping(values, "type", load_taxonomy(), date="2024-07-01"), encoding="utf-8")
    return path


def test_variants_are_one_entry_with_their_spellings_and_counts(drafted):
    entries = yaml.safe_load(drafted.read_text(encoding="utf-8"))["categories"]
    assert [(e["source_label"], e["count"]) for e in entries] == [
        ("Physical abuse", 6), ("Sexual abuse", 4), ("physically or mentally abused", 2), ("Child mother", 1),
        ("n/a", 1)]  # by row count, then by label
    assert entries[0]["variants"] == [{"label": "Physical abuse", "count": 3}, {"label": "physical  ABUSE", "count": 2},
                                      {"label": "Physical abuse.", "count": 1}]
    assert "variants" not in entries[1]
    mapping, problems = check_mapping(drafted, load_taxonomy())
    assert mapping is not None and problems == []  # in particular no "listed twice"


def test_entries_carry_score_top3_with_titles_or_the_reason_they_abstain(drafted):
    entries = {e["source_label"]: e for e in yaml.safe_load(drafted.read_text(encoding="utf-8"))["categories"]}
    coded = entries["Sexual abuse"]
    assert coded["target"] == ["03"] and coded["score"] == coded["suggestions"][0]["score"]
    assert len(coded["suggestions"]) == 3 and coded["suggestions"][0]["title"] == "Sexual violence against a child"
    assert "reason" not in coded
    assert (entries["Child mother"]["target"], entries["Child mother"]["reason"]) == ([], "not-an-act")
    assert entries["Child mother"]["relation"] == "no-match"
    assert entries["n/a"]["reason"] == "missing"
    composite = entries["physically or mentally abused"]
    assert (composite["target"], composite["reason"], composite["branches"]) == ([], "composite", ["02", "04"])


def test_recode_shows_a_draft_entry_s_own_score_never_100(icvac, drafted, tmp_path):
    values = tmp_path / "data.csv"
    with open(values, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["case", "type"], ["1", "Sexual abuse"], ["2", "Child mother"]])
    out = tmp_path / "out.csv"
    result = icvac("recode", values, "--mapping", drafted, "--column", "national_label=type", "-o", out)
    assert result.exit_code == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    entries = {e["source_label"]: e for e in yaml.safe_load(drafted.read_text(encoding="utf-8"))["categories"]}
    assert (rows[0]["icvac_match"], rows[0]["icvac_score"]) == ("review", f"{entries['Sexual abuse']['score']:.1f}")
    assert rows[0]["icvac_score"] != "100.0" or entries["Sexual abuse"]["score"] == 100.0
    assert (rows[1]["icvac_code"], rows[1]["icvac_score"]) == ("unclassified", "")


def test_a_draft_entry_scored_below_100_is_recoded_with_that_score(icvac, tmp_path):
    values = tmp_path / "labels.csv"
    write_labels(values, ["Sexual assault by bodily force"])
    draft = tmp_path / "draft.yaml"
    draft.write_text(draft_mapping(values, "type", load_taxonomy(), date="2024-07-01"), encoding="utf-8")
    score = yaml.safe_load(draft.read_text(encoding="utf-8"))["categories"][0]["score"]
    assert score < 100
    out = tmp_path / "out.csv"
    assert icvac("recode", values, "--mapping", draft, "--column", "national_label=type", "-o", out).exit_code == 0
    with open(out, encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["icvac_match"], row["icvac_score"]) == ("review", f"{score:.1f}")


@pytest.mark.parametrize("date", ['2024-01-01"\ncountry: "INJECTED', "2024-13-01", "2024-1-1", "yesterday",
                                  "2024-01-01\n"])
def test_the_date_must_be_an_iso_date(icvac, tmp_path, date):
    values = tmp_path / "labels.csv"
    write_labels(values, ["Rape"])
    out = tmp_path / "draft.yaml"
    result = icvac("mapping", "draft", values, "--label-column", "type", "--date", date, "-o", out)
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    assert not out.exists()
    with pytest.raises(UsageError):
        draft_mapping(values, "type", load_taxonomy(), date=date)


def test_every_value_of_the_draft_is_quoted_by_the_emitter(tmp_path):
    values = tmp_path / "labels.csv"
    write_labels(values, ['Rape"\ncountry: "INJECTED', "yes", "0101", "- item"])
    text = draft_mapping(values, "type", load_taxonomy(), date="2024-07-01")
    data = yaml.safe_load(text)
    assert "country" not in data
    assert sorted(e["source_label"] for e in data["categories"]) == sorted(
        ['Rape"\ncountry: "INJECTED', "yes", "0101", "- item"])


def test_narratives_are_left_out_of_the_draft_and_counted(tmp_path):
    from icvac.text import LONGEST_LABEL

    story = "PRIVATE-NAME " + "x" * LONGEST_LABEL
    values = tmp_path / "labels.csv"
    write_labels(values, ["Rape", story, story, "Incest"])
    text = draft_mapping(values, "type", load_taxonomy(), date="2024-07-01")
    assert "PRIVATE-NAME" not in text
    assert "# 2 cell(s) of over 1,000 characters are left out" in text
    assert sorted(e["source_label"] for e in yaml.safe_load(text)["categories"]) == ["Incest", "Rape"]
    write_labels(values, ["Rape", "x" * LONGEST_LABEL])  # at the limit: a label, and no word of narratives
    text = draft_mapping(values, "type", load_taxonomy(), date="2024-07-01")
    assert "left out" not in text and len(yaml.safe_load(text)["categories"]) == 2


def test_a_cell_of_several_acts_is_drafted_as_the_labels_recode_will_look_up(icvac, tmp_path):
    values = tmp_path / "labels.csv"
    write_labels(values, ["Rape; Physical abuse", "Rape | Neglect", "Rape", " ; "])
    whole = yaml.safe_load(draft_mapping(values, "type", load_taxonomy(), date="2024-07-01", separators=()))
    assert sorted(e["source_label"] for e in whole["categories"]) == [";", "Rape", "Rape | Neglect",
                                                                         "Rape; Physical abuse"]
    draft = tmp_path / "draft.yaml"
    result = icvac("mapping", "draft", values, "--label-column", "type", "--date", "2024-07-01", "-o", draft)
    assert result.exit_code == 0, result.stderr
    doc = yaml.safe_load(draft.read_text(encoding="utf-8"))
    entries = {e["source_label"]: e for e in doc["categories"]}
    assert {label: e["count"] for label, e in entries.items()} == {"Rape": 3, "Physical abuse": 1, "Neglect": 1}
    assert "separators" not in doc["columns"]
    # the draft as it stands recodes a two-act cell act by act, each with its own entry's target
    out = tmp_path / "out.csv"
    assert icvac("recode", values, "--mapping", draft, "-o", out).exit_code == 0
    with open(out, encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))
    expected = [entries[label]["target"][0] if entries[label]["target"] else "unclassified"
                for label in ("Rape", "Physical abuse")]
    assert first["icvac_code"].split("|") == expected


def test_a_draft_with_its_own_separator_declares_it(icvac, tmp_path):
    values = tmp_path / "labels.csv"
    write_labels(values, ["Rape / Neglect", "Rape; Neglect"])
    draft = tmp_path / "draft.yaml"
    result = icvac("mapping", "draft", values, "--label-column", "type", "--date", "2024-07-01",
                   "--separator", "/", "-o", draft)
    assert result.exit_code == 0, result.stderr
    doc = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert doc["columns"]["separators"] == ["/"]
    assert {e["source_label"]: e["count"] for e in doc["categories"]} == {"Rape": 1, "Neglect": 1, "Rape; Neglect": 1}
    assert [p for p in check_mapping(draft, load_taxonomy())[1] if p.severity == "error"] == []
