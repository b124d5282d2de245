"""A synthetic "version 2" of the bundled taxonomy, for the tests of ``taxonomy diff`` and the migrations.

From the bundled file: one category split in two, two sibling categories merged, one retitled, one
moved under another parent, one removed. The categories are chosen by their place in the tree (leaves
below level 1, not residual; the split one a target of both the ``gbvims`` and ``iccs`` mappings), not by
code, so the fixture follows the bundled data when it changes. ``build_version2`` returns the YAML data
and what it did, for the tests to check the diff against.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import icvac
from icvac.taxonomy import default_taxonomy_path
from icvac.yamlio import load_yaml

VERSION2 = "2.0-synthetic"


@dataclass
class Version2:
    data: dict
    split: tuple[str, str]      # old code -> (it, the new sibling)
    merged: tuple[str, str]     # (kept, absorbed): absorbed goes into kept
    retitled: str
    moved: tuple[str, str]      # old code -> new code
    removed: str


def _nodes(categories, parent=None):
    for node in categories:
        yield node, parent
        yield from _nodes(node.get("children") or [], node)


def _residual(node) -> bool:
    return bool(node.get("residual")) or node["code"].endswith("9")


def _free_code(parent: dict, taken: set[str], like: str) -> str:
    """A code under ``parent`` of the length of ``like``, not taken, not ending in 9."""
    width = len(like) - len(parent["code"])
    for k in range(1, 10 ** width):
        code = parent["code"] + str(k).zfill(width)
        if code not in taken and not code.endswith("9"):
            return code
    raise AssertionError("no free code")


def build_version2() -> Version2:
    data = copy.deepcopy(load_yaml(default_taxonomy_path(), icvac.TaxonomyError).data)
    taxonomy = icvac.load_taxonomy()
    targets = [{t for e in icvac.load_mapping(m, taxonomy).entries for t in e.targets} for m in ("gbvims", "iccs")]
    nodes = list(_nodes(data["categories"]))
    taken = {n["code"] for n, _ in nodes}
    leaves = [(n, p) for n, p in nodes if p is not None and not n.get("children") and not _residual(n)]
    split, split_parent = next((n, p) for n, p in leaves if all(n["code"] in t for t in targets))
    rest = [(n, p) for n, p in leaves if n is not split]
    kept, absorbed = next((a, b) for i, (a, pa) in enumerate(rest) for b, pb in rest[i + 1:] if pa is pb)
    rest = [(n, p) for n, p in rest if n not in (kept, absorbed)]
    retitled = rest[0][0]
    moved, moved_parent = next((n, p) for n, p in rest[1:] if p["code"][:2] != split_parent["code"][:2])
    removed = next(n for n, p in rest[1:] if n is not moved)

    new_code = _free_code(split_parent, taken, split["code"])
    taken.add(new_code)
    sibling = copy.deepcopy(split)
    sibling["code"] = new_code
    sibling["title"] = {lang: f"{t} (second part)" for lang, t in split["title"].items()}
    sibling.pop("status_note", None)
    for lang, syns in split["synonyms"].items():
        half = (len(syns) + 1) // 2
        split["synonyms"][lang], sibling["synonyms"][lang] = syns[:half], syns[half:]
    split_parent["children"].insert(split_parent["children"].index(split) + 1, sibling)

    for lang, title in absorbed["title"].items():
        kept["synonyms"].setdefault(lang, []).append(title)
    for lang, syns in absorbed["synonyms"].items():
        kept["synonyms"].setdefault(lang, []).extend(syns)
    parent_of = {id(n): p for n, p in nodes}
    parent_of[id(absorbed)]["children"].remove(absorbed)

    retitled["title"]["en"] = retitled["title"]["en"] + " (revised)"

    old_moved = moved["code"]
    target_parent = next(p for p, _ in nodes if p.get("children") and p is not moved_parent
                         and len(p["code"]) == len(moved_parent["code"]) and p["code"][:2] != moved_parent["code"][:2]
                         and p is not parent_of[id(absorbed)])
    moved_parent["children"].remove(moved)
    moved["code"] = _free_code(target_parent, taken, old_moved)
    target_parent["children"].append(moved)

    parent_of[id(removed)]["children"].remove(removed)
    for parent in (moved_parent, parent_of[id(absorbed)], parent_of[id(removed)]):
        if not parent["children"]:
            del parent["children"]

    renamed = {absorbed["code"]: kept["code"], old_moved: moved["code"]}
    for node, _ in _nodes(data["categories"]):
        for exc in node["exclusions"]:
            code = renamed.get(exc.get("code"), exc.get("code"))
            if code == removed["code"]:
                del exc["code"]
            elif code is not None:
                exc["code"] = code
    data["version"] = VERSION2
    return Version2(data, (split["code"], new_code), (kept["code"], absorbed["code"]), retitled["code"],
                    (old_moved, moved["code"]), removed["code"])
