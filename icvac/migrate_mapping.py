"""``icvac mapping migrate``: carry a mapping to a new taxonomy version through a correspondence.

Each target is rewritten through the correspondence (``icvac.correspondence``); the entry's relation
is composed with the correspondence's. A target that was split has no single successor: the entry
goes to review (``review: true``, the mapping's own flag for an undecided entry) with the candidate
new codes as ``suggestions``, ranked by how well the entry's national label reads as each, and the
target is left out, not guessed; a removed target likewise. The file is edited as text, entry by
entry, so that its comments and the order a person gave it stay (as ``mapping_edit.write_entries`` does);
``taxonomy_version`` becomes the new version and ``status_note`` says from which version, through
which correspondence, the mapping came.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .correspondence import Correspondence
from .errors import MappingError, UsageError
from .mapping import _semantic_problems, resolve_mapping_path
from .mapping_edit import categories_node, entry_block, item_indent, item_lines, yaml_scalar
from .taxonomy import Taxonomy
from .yamlio import parse_yaml, read_text, schema_problems

if TYPE_CHECKING:
    from .scoring import Scorer

__all__ = ["MappingMigration", "migrate_mapping", "compose_relations"]

_SAME = {"exact", "close"}


def compose_relations(first: str, second: str) -> str:
    """The relation of A to C from A's to B (``first``) and B's to C (``second``), in SKOS terms: exact
    leaves the other as it is, close weakens exact, broad after broad is broad; broad and narrow
    together say only that the two are related."""
    if "no-match" in (first, second):
        return "no-match"
    if first == "exact" or first == second:
        return second
    if second == "exact":
        return first
    if first in _SAME:
        return second
    if second in _SAME:
        return first
    return "related"


@dataclass
class MappingMigration:
    text: str                                    # the migrated mapping, YAML
    from_version: str
    to_version: str
    entries: int = 0
    rewritten: int = 0                           # entries whose targets changed
    review: list[int] = field(default_factory=list)  # indexes of entries sent to review
    unchanged: int = 0

    def to_dict(self) -> dict:
        return {"from_version": self.from_version, "to_version": self.to_version, "entries": self.entries,
                "rewritten": self.rewritten, "unchanged": self.unchanged, "review": len(self.review),
                "review_entries": list(self.review)}


def migrate_mapping(path: str | os.PathLike, new: Taxonomy, corr: Correspondence,
                    date: str | None = None) -> MappingMigration:
    """The mapping at ``path`` carried to ``new`` through ``corr``; raises MappingError when the result
    would not be a valid mapping, UsageError when the correspondence does not lead to ``new``."""
    problems = corr.check_against(new)
    if problems:
        raise UsageError(f"{corr.path}: " + "; ".join(problems))
    file = resolve_mapping_path(path)
    text = read_text(file, MappingError)
    data = parse_yaml(text, str(file), MappingError).data
    old_version = str(data.get("taxonomy_version")) if isinstance(data, dict) else ""
    if old_version != corr.from_version:
        raise UsageError(f"{file}: the mapping targets taxonomy version {old_version!r}, the correspondence "
                         f"starts from {corr.from_version!r}")
    result = MappingMigration("", corr.from_version, corr.to_version, entries=len(data["categories"] or []))
    scorer = _Ranker(new)
    replace: dict[int, dict] = {}
    for i, entry in enumerate(data["categories"] or []):
        migrated, review = _entry(entry, corr, new, scorer)
        if migrated == entry:
            result.unchanged += 1
            continue
        replace[i] = migrated
        result.rewritten += 1
        if review:
            result.review.append(i)
    note = (f"Migrated from taxonomy version {corr.from_version} to {corr.to_version} through the correspondence "
            f"{os.path.basename(corr.path) or 'given'} ({corr.status}); {len(result.review)} entr"
            f"{'y' if len(result.review) == 1 else 'ies'} to review.")
    previous = data.get("status_note")
    header = {"taxonomy_version": corr.to_version,
              "status_note": f"{previous.rstrip()} {note}" if isinstance(previous, str) and previous.strip() else note}
    result.text = _edited(text, str(file), replace, header)
    _check(result.text, str(file), new)
    return result


def _entry(entry: dict, corr: Correspondence, new: Taxonomy, ranker: "_Ranker") -> tuple[dict, bool]:
    """(the entry carried across, whether it needs review)."""
    targets, relation, notes, candidates = _carried(entry.get("target") or [], entry["relation"], corr, new)
    out = dict(entry)
    out["target"] = targets
    out["relation"] = relation if targets else "no-match"
    conditions = []
    for cond in entry.get("conditions") or []:
        c_targets, _, c_notes, c_candidates = _carried(cond.get("target") or [], "exact", corr, new)
        if c_targets and not c_notes:
            conditions.append(dict(cond, target=c_targets))
        else:  # a condition must name a target: one that was split or removed goes, with a note
            notes += [f"a condition ({', '.join(cond.get('target') or [])}) was dropped: " + "; ".join(c_notes)]
            candidates += c_candidates
    if "conditions" in entry:
        out["conditions"] = conditions
        if not conditions:
            del out["conditions"]
    if not notes:
        return out, False
    label = entry.get("source_label") or ""
    out["justification"] = (f"To review after the migration to taxonomy version {corr.to_version}: "
                            + "; ".join(notes) + f". Before: {entry['justification'].strip()}")
    out["review"] = True
    if candidates:
        out["suggestions"] = ranker.ranked(label, list(dict.fromkeys(candidates)))
    out.pop("score", None)  # a draft's score was for its old target
    return out, True


def _carried(targets: list, relation: str, corr: Correspondence, new: Taxonomy):
    """(new targets, composed relation, notes on what needs a person, candidate codes)."""
    out: list[str] = []
    notes: list[str] = []
    candidates: list[str] = []
    for code in targets:
        link = corr.get(code)
        if link is None:
            if code in new:
                out.append(code)
            else:
                notes.append(f"target {code} is neither in the correspondence nor in the new taxonomy")
            continue
        if link.split:
            notes.append(f"target {code} was split into {', '.join(link.new)}: choose among them")
            candidates += link.new
        elif link.removed:
            notes.append(f"target {code} was removed with no successor")
        else:
            out.append(link.new[0])
            relation = compose_relations(relation, link.relation)
    # two targets merged into one are one act; a target below another target of the entry is the same act,
    # kept as the most precise of the two (as the mapping's own check asks)
    unique = list(dict.fromkeys(out))
    above = {a.code for c in unique for a in new.ancestors(c)[:-1]}
    return [c for c in unique if c not in above], relation, notes, candidates


class _Ranker:
    """Candidate codes ordered by how well an entry's national label reads as each (the suggester's score);
    never chosen among: that is the reviewer's decision."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._scorer: Scorer | None = None  # built on first use: only a split or removed target needs it

    def ranked(self, label: str, codes: list[str]) -> list[dict]:
        scores = dict.fromkeys(codes, 0.0)
        if label:
            if self._scorer is None:
                from .scoring import scorer_for

                self._scorer = scorer_for(self.taxonomy)
            for hit in self._scorer.rank(label, limit=None):
                for code in hit.targets:
                    if code in scores and scores[code] == 0.0:
                        scores[code] = round(float(hit.score), 1)
        ordered = sorted(codes, key=lambda c: (-scores[c], c))
        return [{"code": c, "title": self.taxonomy.get(c).title_in("en"), "score": scores[c]} for c in ordered]


def _edited(text: str, name: str, replace: dict[int, dict], header: dict[str, str]) -> str:
    """``text`` with entries replaced by index and top-level scalars set, everything else as written."""
    import yaml

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    node = categories_node(text, name)
    if replace and node.flow_style:
        raise MappingError(name, message="write `categories` as a block list (one `- ` item per entry) so that "
                                         "it can be migrated")
    edits: list[tuple[int, int, list[str]]] = []
    indent = item_indent(lines, node)
    for index, entry in replace.items():
        start, end = item_lines(lines, node.value[index])
        edits.append((start, end, entry_block(entry, indent)))
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)  # categories_node has read the same text as one
    found = {key.value: (key, value) for key, value in root.value}
    for key, value in header.items():
        if key in found:
            name_node, here = found[key]
            start, end = name_node.start_mark.line, here.end_mark.line
            if here.end_mark.column > 0 or start == end:
                end += 1
            edits.append((start, end, [f"{key}: {yaml_scalar(value)}"]))
        else:  # after the taxonomy_version line, which every mapping has
            after = found["taxonomy_version"][1].end_mark.line + 1
            edits.append((after, after, [f"{key}: {yaml_scalar(value)}"]))
    for start, end, new_lines in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[start:end] = [line + "\n" for line in new_lines]
    return "".join(lines)


def _check(text: str, name: str, new: Taxonomy) -> None:
    doc = parse_yaml(text, name, MappingError)
    problems = [p for p in schema_problems(doc, "mapping.schema.json") + _semantic_problems(doc, new)
                if p.severity == "error"]
    if problems:
        raise MappingError(name, problems, message="the migrated mapping would not be valid; nothing was written")
