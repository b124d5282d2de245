"""``icvac taxonomy diff``: what changed between two versions of a taxonomy, as a draft correspondence.

Two categories are linked when they have the same code, or when they share a name (a title in any
language or a synonym, compared folded) that no other category of either version has, and one of the
two codes is new or gone: a synonym that passes between two categories that both stay is an edit, not
a split. From the links: an old category with no successor was removed; one with several was split;
a new category with several predecessors is a merger; a one-to-one link is unchanged, retitled (a title
changed in some language), renumbered (a new code under the same parent) or moved (under another
parent than its old parent's successor). A new category with no predecessor was added.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date as _date

from .correspondence import Correspondence, Link
from .taxonomy import Category, Taxonomy
from .text import fold

__all__ = ["TaxonomyDiff", "diff_taxonomies"]

_RELATIONS = {"split": "narrow", "merged": "broad", "removed": "no-match"}


@dataclass
class TaxonomyDiff:
    taxonomy: str
    from_version: str
    to_version: str
    links: list[Link]             # one per old category, in the old file's order
    added: list[str]              # new categories with no predecessor
    titles: dict[str, str] = field(default_factory=dict)  # "old:CODE" / "new:CODE" -> English title

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(kind for link in self.links for kind in link.change)
        counts["added"] = len(self.added)
        return {kind: counts[kind] for kind in (*_ORDER, "added") if counts[kind]}

    @property
    def changed(self) -> bool:
        return bool(self.added) or any(link.change != ("unchanged",) for link in self.links)

    def to_dict(self) -> dict:
        return {"taxonomy": self.taxonomy, "from_version": self.from_version, "to_version": self.to_version,
                "counts": self.counts,
                "changes": [{"old": link.old, "new": list(link.new), "relation": link.relation,
                             "change": list(link.change), "note": link.note}
                            for link in self.links if link.change != ("unchanged",)],
                "added": [{"new": code, "title": self.titles.get(f"new:{code}")} for code in self.added]}

    def text(self) -> str:
        head = f"{self.taxonomy} {self.from_version} -> {self.to_version}: "
        counts = self.counts
        lines = [head + (", ".join(f"{n} {kind}" for kind, n in counts.items() if kind != "unchanged")
                         or "no change") + f" ({counts.get('unchanged', 0)} unchanged)"]
        for link in self.links:
            if link.change == ("unchanged",):
                continue
            new = ", ".join(link.new) or "-"
            lines.append(f"  {'+'.join(link.change):<20} {link.old:<8} -> {new:<16} {link.note or ''}".rstrip())
        for code in self.added:
            lines.append(f"  {'added':<20} {'-':<8} -> {code:<16} {self.titles.get(f'new:{code}', '')}".rstrip())
        return "\n".join(lines) + "\n"

    def correspondence(self, date: str | None = None) -> Correspondence:
        return Correspondence(
            taxonomy=self.taxonomy, from_version=self.from_version, to_version=self.to_version,
            date=date or _date.today().isoformat(), status="draft", links={link.old: link for link in self.links},
            added=tuple((code, self.titles.get(f"new:{code}")) for code in self.added))


_ORDER = ("unchanged", "retitled", "moved", "renumbered", "split", "merged", "removed")


def _names(category: Category) -> set[str]:
    texts = [*category.title.values(), *(s for syns in category.synonyms.values() for s in syns)]
    return {fold(t) for t in texts} - {""}


def _unique_names(taxonomy: Taxonomy) -> dict[str, str]:
    """folded name -> code, for the names that only one category of the taxonomy has."""
    owners: dict[str, set[str]] = {}
    for cat in taxonomy.walk():
        for name in _names(cat):
            owners.setdefault(name, set()).add(cat.code)
    return {name: next(iter(codes)) for name, codes in owners.items() if len(codes) == 1}


def _links(old: Taxonomy, new: Taxonomy) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(successors of each old code, predecessors of each new code), both in code order."""
    pairs = {(code, code) for code in old.categories if code in new}
    old_names, new_names = _unique_names(old), _unique_names(new)
    for name, old_code in old_names.items():
        new_code = new_names.get(name)
        if new_code is not None and (old_code not in new or new_code not in old):
            pairs.add((old_code, new_code))
    succ: dict[str, list[str]] = {code: [] for code in old.categories}
    pred: dict[str, list[str]] = {code: [] for code in new.categories}
    for o, n in sorted(pairs):
        succ[o].append(n)
        pred[n].append(o)
    return succ, pred


def diff_taxonomies(old: Taxonomy, new: Taxonomy) -> TaxonomyDiff:
    """Every old category's fate, and the new categories that come from none."""
    succ, pred = _links(old, new)
    links = [_link(old, new, cat, succ, pred) for cat in old.walk()]
    added = [code for code, before in pred.items() if not before]
    titles = {f"old:{c.code}": c.title_in("en") for c in old.walk()}
    titles |= {f"new:{c.code}": c.title_in("en") for c in new.walk()}
    return TaxonomyDiff(new.id, old.version, new.version, links, added, titles)


def _link(old: Taxonomy, new: Taxonomy, cat: Category, succ, pred) -> Link:
    after = succ[cat.code]
    if not after:
        parent = f"; its records could go to the successor of its parent {cat.parent} (relation broad)" \
            if cat.parent else ""
        return Link(cat.code, (), "no-match", ("removed",), f"{_title(cat)}: no successor found{parent}")
    if len(after) > 1:
        merged = any(len(pred[n]) > 1 for n in after)
        parts = "; ".join(f"{n} {_title(new.get(n))}" for n in after)
        return Link(cat.code, tuple(after), "related" if merged else "narrow",
                    ("split", "merged") if merged else ("split",),
                    f"{_title(cat)}: split into {parts}; choose per national category")
    target = new.get(after[0])
    before = pred[target.code]
    if len(before) > 1:
        others = ", ".join(c for c in before if c != cat.code)
        return Link(cat.code, (target.code,), "broad", ("merged",),
                    f"{_title(cat)}: merged with {others} into {target.code} {_title(target)}")
    change: list[str] = []
    notes: list[str] = []
    if not _parent_follows(cat, target, succ):
        change.append("moved")
        notes.append(f"moved from {cat.parent or 'the top level'} to {target.parent or 'the top level'}")
    elif target.code != cat.code:
        change.append("renumbered")
        notes.append(f"renumbered {cat.code} -> {target.code}")
    retitled = sorted(lang for lang in set(cat.title) | set(target.title)
                      if cat.title.get(lang) != target.title.get(lang))
    if retitled:
        change.append("retitled")
        notes.append(f"title changed in {', '.join(retitled)}: now {_title(target)}")
    if target.definition != cat.definition:
        notes.append("definition changed: check that the meaning is the same")
    return Link(cat.code, (target.code,), "exact", tuple(change) or ("unchanged",),
                f"{_title(cat)}: {'; '.join(notes)}" if notes else None)


def _parent_follows(cat: Category, target: Category, succ) -> bool:
    """Whether the new category sits under its old parent's successor (or both at the top level)."""
    if cat.parent is None or target.parent is None:
        return cat.parent is None and target.parent is None
    return target.parent in succ.get(cat.parent, ())


def _title(cat: Category) -> str:
    return cat.title_in("en")
