"""The review loop: recode -> fill the review file -> review-import -> recode again; drafts."""
from __future__ import annotations

import csv
import shutil


from icvac import load_taxonomy
from icvac.mapping import load_mapping

from .conftest import EXAMPLES, FIXTURES, MAPPINGS

DATA = EXAMPLES / "national_export.csv"
TOY = FIXTURES / "four_levels"  # a made-up four-level classification, its register mapping and an export


def read_dicts(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_dicts(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_round_trip(icvac, tmp_path):
    mapping = tmp_path / "gbvims.yaml"
    shutil.copy(MAPPINGS / "gbvims.yaml", mapping)
    review = tmp_path / "review.csv"
    assert icvac("recode", DATA, "--mapping", mapping, "-o", tmp_path / "1.csv", "--review", review).exit_code == 0
    rows = read_dicts(review)
    assert [(r["source_label"], r["match"]) for r in rows][:3] == [("Sexual asault", "fuzzy"), ("n/a", "unclassified"),
                                                                   ("unknown", "unclassified")]
    assert rows[0]["candidate_1"] == "0302" and rows[0]["decision"] == "" and int(rows[0]["count"]) > 0
    decisions = {"Sexual asault": "0302", "Physcal Assault": "202", "n/a": "no-match"}  # 202: Excel ate the 0
    for row in rows:
        row["decision"] = decisions.get(row["source_label"], "")
    write_dicts(review, rows)
    original = mapping.read_text(encoding="utf-8")
    result = icvac("mapping", "review-import", review, "--mapping", mapping, "--reviewer", "Data officer",
                   "--date", "2024-07-01")
    assert result.exit_code == 0, result.stderr
    updated = mapping.read_text(encoding="utf-8")
    assert updated.startswith(original.split("\nvalues:")[0])  # comments and entries kept, new ones appended
    entries = load_mapping(mapping, load_taxonomy()).entries
    assert [(e.source_label, e.targets, e.relation, e.reviewer, e.date) for e in entries[6:]] == [
        ("Sexual asault", ("0302",), "close", "Data officer", "2024-07-01"),
        ("n/a", (), "no-match", "Data officer", "2024-07-01"),
        ("Physcal Assault", ("0202",), "close", "Data officer", "2024-07-01")]
    out = tmp_path / "2.csv"
    assert icvac("recode", DATA, "--mapping", mapping, "-o", out, "--review", tmp_path / "r2.csv").exit_code == 0
    coded = {r["gbv_type"]: r for r in read_dicts(out)}
    assert (coded["Sexual asault"]["icvac_code"], coded["Sexual asault"]["icvac_match"]) == ("0302", "exact-label")
    assert (coded["n/a"]["icvac_code"], coded["n/a"]["icvac_match"]) == ("unclassified", "no-match")
    remaining = {r["source_label"] for r in read_dicts(tmp_path / "r2.csv")}
    assert remaining == {"unknown", "see notes", "zzzz", "Forced marrige"}


def test_invalid_decisions_write_nothing(icvac, tmp_path):
    mapping = tmp_path / "m.yaml"
    shutil.copy(MAPPINGS / "gbvims.yaml", mapping)
    review = tmp_path / "review.csv"
    write_dicts(review, [{"source_code": "", "source_label": "zzzz", "decision": "9999", "reviewer": "R"},
                         {"source_code": "", "source_label": "yyyy", "decision": "04", "reviewer": ""},
                         {"source_code": "", "source_label": "Rape", "decision": "0302", "reviewer": "R"}])
    before = mapping.read_bytes()
    result, data = icvac.json("mapping", "review-import", review, "--mapping", mapping, "--format", "json")
    assert result.exit_code == 1
    assert [p["path"] for p in data["problems"]] == ["row 2", "row 3", "row 4"]
    assert mapping.read_bytes() == before


def test_xlsx_review_has_a_dropdown(icvac, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    monkeypatch.setenv("ICVAC_TAXONOMY", str(TOY / "taxonomy.yaml"))
    review = tmp_path / "review.xlsx"
    assert icvac("recode", TOY / "records.csv", "--mapping", TOY / "mapping.yaml", "-o", tmp_path / "o.csv",
                 "--review", review).exit_code == 0
    book = load_workbook(review)
    sheet = book["review"]
    assert sheet.data_validations.dataValidation, "no drop-down"
    codes = [row[0] for row in book["lists"].iter_rows(values_only=True) if row[0]]
    assert "no-match" in codes and set(load_taxonomy(TOY / "taxonomy.yaml").categories) <= set(codes)


GBVIMS = ["Rape", "Sexual Assault", "Physical Assault", "Forced Marriage",
          "Denial of Resources, Opportunities or Services", "Psychological / Emotional Abuse"]


def test_draft_proposes_the_shipped_level1(icvac, tmp_path):
    import yaml

    values = tmp_path / "labels.csv"
    write_dicts(values, [{"label": label} for label in GBVIMS + ["Rape"]])
    draft = tmp_path / "draft.yaml"
    result = icvac("mapping", "draft", values, "--label-column", "label", "-o", draft, "--date", "2024-07-01")
    assert result.exit_code == 0, result.stderr
    taxonomy = load_taxonomy()
    drafted = load_mapping(draft, taxonomy)
    shipped = {e.source_label: e.targets[0][:2] for e in load_mapping("gbvims", taxonomy).entries}
    # "Denial of resources, opportunities or services" names no one act for a child: the draft abstains
    assert {e.source_label: e.targets[0][:2] for e in drafted.entries if e.targets} == \
        {label: code for label, code in shipped.items() if not label.startswith("Denial")}
    assert [e.source_label for e in drafted.entries if not e.targets] == \
        [label for label in shipped if label.startswith("Denial")]
    assert all(e.review for e in drafted.entries)
    raw = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert raw["categories"][0]["count"] == 2 and len(raw["categories"][0]["suggestions"]) == 3
    coded = icvac("recode", values, "--mapping", draft, "--summary", "json")
    assert "review" in coded.stderr  # draft entries are coded, but marked `review`


def test_draft_unknown_column(icvac, tmp_path):
    values = tmp_path / "labels.csv"
    write_dicts(values, [{"label": "Rape"}])
    assert icvac("mapping", "draft", values, "--label-column", "nope").exit_code == 2


def test_mapping_help_has_an_example_and_draft_reads_like_validate(icvac):
    assert "Example: icvac mapping" in icvac("mapping", "--help").stdout
    text = icvac("mapping", "draft", "--help").stdout
    assert "- reads CSV from stdin" in " ".join(text.split())
    for option in ("--encoding", "--delimiter", "--sheet", "--header-row", "--input-format"):
        assert option in text


def test_draft_from_stdin_with_reader_options(icvac, tmp_path, monkeypatch):
    monkeypatch.setenv("ICVAC_TAXONOMY", str(TOY / "taxonomy.yaml"))
    result = icvac("mapping", "draft", "-", "--label-column", "type", "--delimiter", ";", "--header-row", "2",
                   "--date", "2024-07-01", input="export of June\nid;type\n1;Slap\n2;Slap\n3;Neglect\n")
    assert result.exit_code == 0, result.stderr
    draft = tmp_path / "draft.yaml"
    draft.write_text(result.stdout, encoding="utf-8")
    drafted = load_mapping(draft, load_taxonomy(TOY / "taxonomy.yaml"))
    assert (drafted.id, drafted.source_system) == ("stdin", "stdin")
    assert [(e.source_label, e.targets) for e in drafted.entries] == [("Slap", ("10101",)), ("Neglect", ("3",))]
    assert "of standard input" in result.stdout.splitlines()[0]


def test_draft_escapes_line_breaks_in_names(icvac, tmp_path):
    values = tmp_path / "odd\u2028name.csv"
    values.write_text("type\u2028\x85x\nRape\u2029a\n", encoding="utf-8")
    result = icvac("mapping", "draft", values, "--label-column", "type\u2028\x85x", "--date", "2024-07-01")
    assert result.exit_code == 0, result.stderr
    draft = tmp_path / "draft.yaml"
    draft.write_text(result.stdout, encoding="utf-8")
    drafted = load_mapping(draft, load_taxonomy())
    assert drafted.columns.categories[0].label == "type\u2028\x85x"
    assert drafted.entries[0].source_label == "Rape\u2029a" and drafted.source_system == "odd\u2028name"


def test_review_import_keeps_a_draft_entry_s_aliases(icvac, tmp_path):
    mapping = tmp_path / "m.yaml"
    values = tmp_path / "labels.csv"
    write_dicts(values, [{"label": "Shouting"}])
    draft = icvac("mapping", "draft", values, "--label-column", "label", "--date", "2024-07-01").stdout
    mapping.write_text(draft.replace("  - source_label: \"Shouting\"\n",
                                     "  - source_label: \"Shouting\"\n    aliases: [\"Yelling\"]\n"), encoding="utf-8")
    review = tmp_path / "review.csv"
    write_dicts(review, [{"source_code": "", "source_label": "Shouting", "decision": "04", "reviewer": "R"}])
    result = icvac("mapping", "review-import", review, "--mapping", mapping, "--date", "2024-07-02")
    assert result.exit_code == 0, result.stderr
    (entry,) = load_mapping(mapping, load_taxonomy()).entries
    assert (entry.targets, entry.review, entry.aliases, entry.date) == (("04",), False, ("Yelling",), "2024-07-02")
