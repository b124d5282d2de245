"""Taxonomy versions: diff, correspondence files, migration of mappings and of recoded files (issue 17)."""
from __future__ import annotations

import csv
import json

import pytest
import yaml

import icvac
from icvac.correspondence import CorrespondenceError, correspondence_yaml, load_correspondence
from icvac.migrate_data import PREVIOUS, migrate_file
from icvac.migrate_mapping import compose_relations, migrate_mapping
from icvac.taxonomy_diff import diff_taxonomies

from .conftest import EXAMPLES, MAPPINGS, TAXONOMY
from .version2 import VERSION2, build_version2


@pytest.fixture(scope="module")
def v2(tmp_path_factory):
    """(what build_version2 did, v2 taxonomy path, draft correspondence path)."""
    folder = tmp_path_factory.mktemp("v2")
    built = build_version2()
    path = folder / "icvac-2.yaml"
    path.write_text(yaml.safe_dump(built.data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    diff = diff_taxonomies(icvac.load_taxonomy(TAXONOMY), icvac.load_taxonomy(path))
    changes = folder / "changes.yaml"
    changes.write_text(correspondence_yaml(diff.correspondence("2026-01-01")), encoding="utf-8")
    return built, path, changes


def _fates(diff) -> dict[str, tuple]:
    return {link.old: (link.change, link.new, link.relation) for link in diff.links if link.change != ("unchanged",)}


def test_diff_finds_the_split_the_merger_the_retitle_the_move_and_the_removal(v2):
    built, path, _ = v2
    diff = diff_taxonomies(icvac.load_taxonomy(TAXONOMY), icvac.load_taxonomy(path))
    kept, absorbed = built.merged
    (old_moved, new_moved), (split, part) = built.moved, built.split
    assert _fates(diff) == {
        split: (("split",), (split, part), "narrow"),
        kept: (("merged",), (kept,), "broad"),
        absorbed: (("merged",), (kept,), "broad"),
        built.retitled: (("retitled",), (built.retitled,), "exact"),
        old_moved: (("moved",), (new_moved,), "exact"),
        built.removed: (("removed",), (), "no-match"),
    }
    assert diff.added == []  # the new part of the split comes from the split category
    assert diff.counts == {"unchanged": len(diff.links) - 6, "retitled": 1, "moved": 1, "split": 1, "merged": 2,
                           "removed": 1}


def test_diff_of_a_version_with_itself_is_all_unchanged():
    taxonomy = icvac.load_taxonomy(TAXONOMY)
    diff = diff_taxonomies(taxonomy, taxonomy)
    assert not diff.changed
    assert {link.change for link in diff.links} == {("unchanged",)}
    assert all(link.new == (link.old,) and link.relation == "exact" for link in diff.links)


def test_a_category_with_no_predecessor_is_added_and_a_renumbered_branch_is_not_moved(tmp_path):
    data = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    parent = next(c for c in data["categories"] if c.get("children") and not c["code"].endswith("9"))
    fresh = {"code": "", "level": 2, "title": {"en": "Entirely new form of violence"}, "status": "provisional",
             "definition": "New.", "inclusions": [], "exclusions": [], "synonyms": {}}
    taken = {c["code"] for c in parent["children"]}
    width = len(parent["children"][0]["code"]) - len(parent["code"])
    fresh["code"] = next(parent["code"] + str(k).zfill(width) for k in range(1, 9)
                         if parent["code"] + str(k).zfill(width) not in taken)
    parent["children"].append(fresh)
    # another branch under a new top-level code: its categories are renumbered, none moved
    branch = next(c for c in data["categories"] if c is not parent and c.get("children"))
    old, top = branch["code"], next(str(k).zfill(len(branch["code"])) for k in range(1, 99)
                                    if str(k).zfill(len(branch["code"])) not in {c["code"] for c in data["categories"]})

    def renumber(node):
        if node.get("code", "").startswith(old):
            node["code"] = top + node["code"][len(old):]
        for value in node.values():
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict):
                    renumber(item)

    for node in data["categories"]:
        renumber(node)
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    diff = diff_taxonomies(icvac.load_taxonomy(TAXONOMY), icvac.load_taxonomy(tmp_path / "t.yaml"))
    assert diff.added == [fresh["code"]]
    moved = _fates(diff)
    assert moved and all(change == ("renumbered",) and new == (top + code[len(old):],) and relation == "exact"
                         for code, (change, new, relation) in moved.items())
    assert set(moved) == {c.code for c in icvac.load_taxonomy(TAXONOMY).walk() if c.code.startswith(old)}
    assert diff.to_dict()["added"] == [{"new": fresh["code"], "title": "Entirely new form of violence"}]


def test_the_draft_correspondence_is_schema_valid_and_reads_back(v2):
    built, _, changes = v2
    corr = load_correspondence(changes)
    assert (corr.from_version, corr.to_version, corr.status) == ("2023.0-provisional.1", VERSION2, "draft")
    assert corr.get(built.split[0]).split and corr.get(built.removed).removed
    assert len(corr.links) == len(icvac.load_taxonomy(TAXONOMY).categories)
    assert correspondence_yaml(corr) == changes.read_text(encoding="utf-8")


def test_a_correspondence_with_problems_lists_them_by_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('taxonomy: icvac\nfrom_version: "1"\nto_version: "2"\ndate: "2026-01-01"\nstatus: draft\n'
                   'correspondence:\n  - {old: "01", new: ["01"], relation: exact}\n'
                   '  - {old: "01", new: ["02"], relation: exact}\n'
                   '  - {old: "03", new: ["03"], relation: no-match}\n', encoding="utf-8")
    with pytest.raises(CorrespondenceError) as caught:
        load_correspondence(bad)
    assert [(p.path, p.line) for p in caught.value.problems] == [("correspondence[1].old", 8),
                                                                  ("correspondence[2].relation", 9)]
    bad.write_text(bad.read_text().replace("status: draft", "status: final"), encoding="utf-8")
    with pytest.raises(CorrespondenceError) as caught:
        load_correspondence(bad)
    assert [p.path for p in caught.value.problems] == ["status"]


@pytest.mark.parametrize("first,second,composed", [
    ("exact", "broad", "broad"), ("narrow", "exact", "narrow"), ("broad", "broad", "broad"),
    ("close", "narrow", "narrow"), ("broad", "narrow", "related"), ("related", "exact", "related"),
])
def test_relations_compose_in_skos_terms(first, second, composed):
    assert compose_relations(first, second) == composed


@pytest.mark.parametrize("name", ["gbvims", "iccs"])
def test_mapping_migrate_gives_a_valid_mapping_with_the_split_entries_in_review(v2, name, tmp_path):
    built, path, changes = v2
    new = icvac.load_taxonomy(path)
    old = icvac.load_mapping(name, icvac.load_taxonomy(TAXONOMY))
    result = migrate_mapping(name, new, load_correspondence(changes))
    out = tmp_path / f"{name}.yaml"
    out.write_text(result.text, encoding="utf-8")
    migrated = icvac.load_mapping(out, new)
    assert migrated.taxonomy_version == VERSION2
    assert "2023.0-provisional.1" in migrated.status_note and VERSION2 in migrated.status_note
    split, part = built.split
    raw = yaml.safe_load(result.text)["categories"]
    for before, after, entry in zip(old.entries, migrated.entries, raw):
        if split in before.targets:
            assert after.review and split not in after.targets
            assert {s["code"] for s in entry["suggestions"]} == {split, part}
        elif built.removed in before.targets:
            assert after.review
        else:
            assert after.review == before.review
            renamed = {built.merged[1]: built.merged[0], built.moved[0]: built.moved[1]}
            assert after.targets == tuple(dict.fromkeys(renamed.get(t, t) for t in before.targets))
    assert [i for i, e in enumerate(migrated.entries) if e.review and not old.entries[i].review] == result.review
    assert any(split in e.targets for e in old.entries) and result.review
    # the file is edited, not re-dumped: its comments stay
    comments = [line for line in (MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
                if line.lstrip().startswith("#")]
    assert all(c in result.text.splitlines() for c in comments)


def test_mapping_migrate_refuses_a_correspondence_from_another_version(v2, tmp_path, icvac):
    _, path, changes = v2
    other = tmp_path / "other.yaml"
    other.write_text(changes.read_text(encoding="utf-8").replace('from_version: "2023.0-provisional.1"',
                                                                 'from_version: "1999"'), encoding="utf-8")
    result = icvac("mapping", "migrate", "gbvims", "--to", path, "--changes", other, "-o", tmp_path / "m.yaml")
    assert result.exit_code == 2 and "1999" in result.stderr
    assert not (tmp_path / "m.yaml").exists()
    wrong = icvac("mapping", "migrate", "gbvims", "--to", TAXONOMY, "--changes", changes, "-o", tmp_path / "m.yaml")
    assert wrong.exit_code == 2 and "version" in wrong.stderr


@pytest.fixture(scope="module")
def recoded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recoded")
    taxonomy = icvac.load_taxonomy(TAXONOMY)
    icvac.recode_file(EXAMPLES / "national_export.csv", icvac.load_mapping("iccs", taxonomy), taxonomy,
                      folder / "recoded.csv", icvac.RecodeOptions(columns={"national_label": "gbv_type"}))
    return folder / "recoded.csv"


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_migrate_keeps_every_row_and_recodes_only_the_icvac_cells(v2, recoded, tmp_path):
    built, path, changes = v2
    new = icvac.load_taxonomy(path)
    out = tmp_path / "migrated.csv"
    summary = migrate_file(recoded, load_correspondence(changes), new, out)
    before, after = _rows(recoded), _rows(out)
    assert summary.rows_in == summary.rows_out == len(before) == len(after)
    assert summary.acts["split"] and summary.acts["split"] + summary.acts["kept"] + summary.acts["unclassified"] \
        + summary.acts["rewritten"] + summary.acts["removed"] == sum(r["icvac_code"].count("|") + 1 for r in before)
    corr = load_correspondence(changes)
    for b, a in zip(before, after):
        assert {k: v for k, v in a.items() if not k.startswith("icvac_") or k == "icvac_victim_sex"} == \
            {k: v for k, v in b.items() if not k.startswith("icvac_") or k == "icvac_victim_sex"}
        assert a[PREVIOUS] == b["icvac_code"]
        link = corr.get(b["icvac_code"])
        if link is not None and link.split:
            assert (a["icvac_code"], a["icvac_match"], a["icvac_score"]) == ("unclassified", "migrate-split", "")
        elif link is not None and link.new:
            assert a["icvac_code"] == link.new[0]
            assert a["icvac_level1"] == new.ancestor_at(link.new[0], 1).code
            assert a["icvac_title"] == new.get(link.new[0]).title_in("en")
            assert (a["icvac_match"], a["icvac_score"]) == (b["icvac_match"], b["icvac_score"])
    side = json.loads((tmp_path / "migrated.csv.meta.json").read_text(encoding="utf-8"))
    assert side["rows_in"] == side["rows_out"] == len(before)
    assert side["provenance"]["taxonomy"]["version"] == VERSION2
    assert side["provenance"]["migrated_from"]["taxonomy_version"] == "2023.0-provisional.1"
    assert side["provenance"]["migrated_from"]["recode"]["mapping"]["id"] == "iccs"


def test_migrate_handles_several_acts_a_merger_into_one_act_and_ragged_rows(v2, tmp_path):
    built, path, changes = v2
    kept, absorbed = built.merged
    split, _ = built.split
    data = tmp_path / "coded.csv"
    data.write_text("id,icvac_code,icvac_level1,icvac_title,icvac_match,icvac_score\n"
                    f"1,{kept}|{absorbed},x|x,a|b,exact|fuzzy,100.0|90.0\n"
                    f"2,{split}|{kept},x|x,a|b,exact|exact,100.0|100.0,extra cell\n"
                    "3,unclassified,unclassified,,unclassified,\n"
                    "4\n", encoding="utf-8")
    new = icvac.load_taxonomy(path)
    migrate_file(data, load_correspondence(changes), new, tmp_path / "out.csv")
    rows = list(csv.reader((tmp_path / "out.csv").open(newline="", encoding="utf-8")))
    level1, title = new.ancestor_at(kept, 1).code, new.get(kept).title_in("en")
    assert rows[1] == ["1", kept, level1, title, "exact", "100.0", f"{kept}|{absorbed}"]
    assert rows[2] == ["2", f"unclassified|{kept}", f"unclassified|{level1}", f"|{title}",
                       "migrate-split|exact", "|100.0", f"{split}|{kept}", "extra cell"]
    assert rows[3] == ["3", "unclassified", "unclassified", "", "unclassified", "", "unclassified"]
    assert rows[4] == ["4", "", "", "", "", "", ""]


def test_migrate_refuses_a_file_recoded_with_another_version_and_one_not_recoded(v2, recoded, tmp_path, icvac):
    _, path, changes = v2
    other = tmp_path / "other.yaml"
    other.write_text(changes.read_text(encoding="utf-8").replace('from_version: "2023.0-provisional.1"',
                                                                 'from_version: "1999"'), encoding="utf-8")
    result = icvac("migrate", recoded, "--changes", other, "--to", path, "-o", tmp_path / "o.csv")
    assert result.exit_code == 2 and "recoded with taxonomy version" in result.stderr
    plain = icvac("migrate", EXAMPLES / "national_export.csv", "--changes", changes, "--to", path,
                  "-o", tmp_path / "o.csv")
    assert plain.exit_code == 2 and "icvac_code" in plain.stderr
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.csv.meta.json").exists()


def test_the_cli_chain_diff_mapping_migrate_recode_migrate(v2, recoded, tmp_path, icvac):
    built, path, _ = v2
    changes = tmp_path / "changes.yaml"
    text = icvac("taxonomy", "diff", TAXONOMY, path, "--correspondence", changes, "--date", "2026-01-01")
    assert text.exit_code == 0 and "1 split" in text.stdout and built.split[0] in text.stdout
    as_yaml = icvac("taxonomy", "diff", TAXONOMY, path, "--format", "yaml", "--date", "2026-01-01")
    assert as_yaml.stdout == changes.read_text(encoding="utf-8")
    _, as_json = icvac.json("taxonomy", "diff", TAXONOMY, path, "--format", "json")
    assert as_json["counts"]["split"] == 1 and {c["old"] for c in as_json["changes"]} == {
        built.split[0], *built.merged, built.retitled, built.moved[0], built.removed}
    migrated = icvac("mapping", "migrate", "iccs", "--to", path, "--changes", changes, "-o", tmp_path / "iccs.yaml")
    assert migrated.exit_code == 0, migrated.stderr
    assert icvac("mapping", "check", tmp_path / "iccs.yaml", "--taxonomy", path).exit_code == 0
    data = icvac("migrate", recoded, "--changes", changes, "--to", path, "-o", tmp_path / "m.jsonl")
    assert data.exit_code == 0, data.stderr
    lines = (tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(_rows(recoded)) and PREVIOUS in json.loads(lines[0])


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_migrate_through_arrow_writes_the_bytes_of_the_row_by_row_path(v2, recoded, tmp_path, suffix, monkeypatch):
    from icvac import migrate_data
    from icvac.migrate_data import _migrate

    batches = []
    write_batch = migrate_data._write_batch
    monkeypatch.setattr(migrate_data, "_write_batch", lambda batch, *rest: (batches.append(batch.num_rows),
                                                                              write_batch(batch, *rest)))
    monkeypatch.setattr("icvac.arrowio.FORMAT_ROWS", 3)  # lines joined a few rows at a time

    _, path, changes = v2
    corr, new = load_correspondence(changes), icvac.load_taxonomy(path)
    fast, slow = tmp_path / f"fast.{suffix}", tmp_path / f"slow.{suffix}"
    args = (corr, new)
    one = _migrate(recoded, *args, fast, suffix, icvac.ReadOptions(), None, arrow=True)
    two = _migrate(recoded, *args, slow, suffix, icvac.ReadOptions(), None, arrow=False)
    assert batches and sum(batches) == one.rows_in  # the first went through Arrow, all of it
    assert fast.read_bytes() == slow.read_bytes()
    assert one.to_dict() == two.to_dict() and one.acts["split"]
