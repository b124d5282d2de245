"""Crosswalks: national categories to ICVAC, ICVAC to national, national to national through ICVAC.

Relations read in the SKOS sense from subject to object: ``broad`` means the object is broader than
the subject (skos:broadMatch). A mapping states them with the national category as subject, so

- ``to-icvac`` keeps them as written;
- ``from-icvac`` reads every link the other way, which swaps ``broad`` and ``narrow``. It lists every
  ICVAC category of every level, in taxonomy order: a national category reaching a sub-category also
  reaches its parents (its counts roll up), shown with ``via`` naming the sub-category; a category no
  national category reaches has one row with relation ``no-match``;
- two mappings A and B give A -> ICVAC -> B. Two national categories link when their targets are the
  same ICVAC category, or when one target is an ancestor of the other (a step ``narrow`` going down the
  tree, ``broad`` going up); siblings do not link. The relation is ``chain()`` of the steps.

Conditional targets (``conditions`` in a mapping: "below 13, code it as rape") reach their category
for some records of the national category only, so their relation is ``related`` and the condition is
shown with the link. Entries awaiting review are not decisions: they are left out of crosswalks and
counted as having no target in coverage.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial

from .errors import UsageError
from .layout import category_layout
from .mapping import Condition, Mapping, MappingEntry
from .matching import UNCLASSIFIED, Matcher
from .readers import ReadOptions, open_table
from .taxonomy import Category, Taxonomy

__all__ = ["Link", "Crosswalk", "Coverage", "Cardinality", "Unlinked", "UnknownValue", "DIRECTIONS",
           "crosswalk", "compose", "coverage", "chain", "inverse"]

DIRECTIONS = ("to-icvac", "from-icvac")
_OPERATORS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "=", "ne": "!=", "in": "in", "not_in": "not in"}


def inverse(relation: str) -> str:
    """The relation read from object to subject."""
    return {"broad": "narrow", "narrow": "broad"}.get(relation, relation)


def chain(*relations: str) -> str:
    """The relation along a path of links, each read from one end to the next.

    ``exact`` changes nothing (so close then exact is close); a path of ``broad`` steps only is broad,
    of ``narrow`` steps only narrow; any other mix (broad then narrow, two approximations, anything
    related) cannot be determined and is ``related``. The rule is associative, so paths may be built
    in any grouping. ``no-match`` has no path.
    """
    if "no-match" in relations:
        raise ValueError("no-match does not compose")
    steps = [r for r in relations if r != "exact"]
    if not steps:
        return "exact"
    if len(steps) == 1 or (len(set(steps)) == 1 and steps[0] in ("broad", "narrow")):
        return steps[0]
    return "related"


@dataclass(frozen=True)
class Link:
    """One row of a crosswalk. ``object_code`` and ``object_label`` are None when relation is no-match."""

    subject_system: str
    subject_code: str | None
    subject_label: str | None
    relation: str
    object_system: str
    object_code: str | None = None
    object_label: str | None = None
    via: tuple[str, ...] = ()       # ICVAC codes on the path from subject to object
    condition: str | None = None    # when the link holds for some records only
    justification: str | None = None
    authors: tuple[str, ...] = ()   # who decided (the mapping entries' reviewers)

    @property
    def matched(self) -> bool:
        return self.relation != "no-match"

    def to_dict(self) -> dict:
        return {"subject_system": self.subject_system, "subject_code": self.subject_code,
                "subject_label": self.subject_label, "relation": self.relation,
                "object_system": self.object_system, "object_code": self.object_code,
                "object_label": self.object_label, "via": list(self.via), "condition": self.condition,
                "justification": self.justification, "authors": list(self.authors)}


@dataclass(frozen=True, eq=False)
class Crosswalk:
    direction: str                  # to-icvac, from-icvac or compose
    subject_system: str
    object_system: str
    links: tuple[Link, ...]
    mappings: tuple[Mapping, ...]
    taxonomy_id: str
    taxonomy_version: str
    left_out: int = 0               # entries awaiting review, not in the crosswalk
    levels: dict[str, int] = field(default_factory=dict)  # taxonomy code -> its level, to indent by

    def metadata(self) -> dict:
        return {"direction": self.direction, "subject_system": self.subject_system,
                "object_system": self.object_system,
                "taxonomy": {"id": self.taxonomy_id, "version": self.taxonomy_version},
                "mappings": [m.provenance() | {"title": m.title, "date": m.date, "author": m.author}
                             for m in self.mappings],
                "left_out_awaiting_review": self.left_out}

    def to_dict(self) -> dict:
        return {"crosswalk": self.metadata(), "links": [link.to_dict() for link in self.links]}


def crosswalk(mapping: Mapping, taxonomy: Taxonomy, direction: str = "to-icvac") -> Crosswalk:
    """One mapping as a crosswalk table, national -> ICVAC or ICVAC -> national."""
    if direction not in DIRECTIONS:
        raise UsageError(f"unknown direction {direction!r}; use {' or '.join(DIRECTIONS)}")
    groups = _national_links(mapping, taxonomy)
    links = [link for _, group in groups for link in group]
    if direction == "from-icvac":
        links = _from_icvac(links, mapping, taxonomy)
        subject, obj = taxonomy.id, mapping.id
    else:
        subject, obj = mapping.id, taxonomy.id
    return Crosswalk(direction, subject, obj, tuple(links), (mapping,), taxonomy.id, taxonomy.version,
                     left_out=_awaiting(mapping), levels={c.code: c.level for c in taxonomy.walk()})


def compose(mapping_a: Mapping, mapping_b: Mapping, taxonomy: Taxonomy) -> Crosswalk:
    """National A -> national B through ICVAC; every category of A appears, with no-match if B has none."""
    b_links = _reaching([link for _, group in _national_links(mapping_b, taxonomy) for link in group])
    links: list[Link] = []
    for entry, group in _national_links(mapping_a, taxonomy):
        pairs = [_compose_pair(a, x, b, y) for a, x in _reaching(group) for b, y in b_links]
        found = [link for link in pairs if link is not None]
        if not found:
            found = [Link(mapping_a.id, entry.source_code, entry.source_label, "no-match", mapping_b.id,
                          justification=entry.justification if entry.relation == "no-match" else None,
                          authors=(entry.reviewer,))]
        links += found
    return Crosswalk("compose", mapping_a.id, mapping_b.id, tuple(links), (mapping_a, mapping_b), taxonomy.id,
                     taxonomy.version, left_out=_awaiting(mapping_a) + _awaiting(mapping_b))


def _awaiting(mapping: Mapping) -> int:
    return sum(1 for e in mapping.entries if e.review)


def _condition_text(cond: Condition) -> str:
    parts = []
    for test in cond.tests:
        if isinstance(test.value, tuple):
            value = test.value[0] if test.op in ("eq", "ne") else "(" + ", ".join(test.value) + ")"
        else:
            value = f"{test.value:g}"
        parts.append(f"{test.role} {_OPERATORS[test.op]} {value}")
    return " and ".join(parts)


def _national_links(mapping: Mapping, taxonomy: Taxonomy) -> list[tuple[MappingEntry, list[Link]]]:
    """Each decided entry with its links to ICVAC, in file order: its targets, then conditional targets."""
    out = []
    for entry in mapping.entries:
        if entry.review:
            continue
        link = partial(Link, subject_system=mapping.id, subject_code=entry.source_code,
                       subject_label=entry.source_label, object_system=taxonomy.id, authors=(entry.reviewer,))
        if entry.relation == "no-match":
            out.append((entry, [link(relation="no-match", justification=entry.justification)]))
            continue
        links = [link(relation=entry.relation, object_code=code, object_label=taxonomy.get(code).title_in("en"),
                      justification=entry.justification) for code in entry.targets]
        for cond in entry.conditions:
            links += [link(relation="related", object_code=code, object_label=taxonomy.get(code).title_in("en"),
                           condition=_condition_text(cond), justification=cond.justification or entry.justification)
                      for code in cond.targets]
        out.append((entry, links))
    return out


def _reaching(links: list[Link]) -> list[tuple[Link, str]]:
    """The links that reach an ICVAC category, each with that category's code (a no-match link has none)."""
    return [(link, link.object_code) for link in links if link.matched and link.object_code is not None]


def _reverse(link: Link, target: str, cat: Category) -> Link:
    """ICVAC ``cat`` -> the national category of ``link``, where ``cat`` is its ``target`` or an ancestor of it."""
    via: tuple[str, ...]
    if cat.code == target:
        relation, via = inverse(link.relation), ()
    else:
        relation, via = chain("narrow", inverse(link.relation)), (target,)
    return Link(link.object_system, cat.code, cat.title_in("en"), relation, link.subject_system,
                link.subject_code, link.subject_label, via, link.condition, link.justification, link.authors)


def _from_icvac(links: list[Link], mapping: Mapping, taxonomy: Taxonomy) -> list[Link]:
    matched = _reaching(links)
    lineage = {code: {c.code for c in taxonomy.ancestors(code)} for _, code in matched}
    out = []
    for cat in taxonomy.walk():
        direct = [_reverse(link, code, cat) for link, code in matched if code == cat.code]
        rolled = [_reverse(link, code, cat) for link, code in matched if code != cat.code
                  and cat.code in lineage[code]]
        empty = Link(taxonomy.id, cat.code, cat.title_in("en"), "no-match", mapping.id)
        out += direct + rolled or [empty]
    return out


def _compose_pair(a: Link, x: str, b: Link, y: str) -> Link | None:
    """A -> its ICVAC target ``x`` -> (up or down the tree) -> B's target ``y`` -> B, or None when they do
    not meet."""
    via: tuple[str, ...]
    if x == y:
        via, step = (x,), "exact"
    elif y.startswith(x):   # a child's code extends its parent's (checked when the taxonomy loads)
        via, step = (x, y), "narrow"
    elif x.startswith(y):
        via, step = (x, y), "broad"
    else:
        return None
    relation = chain(a.relation, step, inverse(b.relation))
    condition = " and ".join(c for c in (a.condition, b.condition) if c) or None
    justification = " | ".join(j for j in (a.justification, b.justification) if j) or None
    return Link(a.subject_system, a.subject_code, a.subject_label, relation, b.subject_system, b.subject_code,
                b.subject_label, via, condition, justification, tuple(dict.fromkeys(a.authors + b.authors)))


# ---------------------------------------------------------------- coverage

# (several national categories reach the ICVAC code, the national category has several targets)
_SHAPES = {(False, False): "1:1", (False, True): "1:n", (True, False): "n:1", (True, True): "n:m"}


@dataclass(frozen=True)
class Cardinality:
    """One national -> ICVAC link and its shape: 1:1, 1:n (one national category, several ICVAC
    targets), n:1 (several national categories, one target) or n:m."""

    national_code: str | None
    national_label: str | None
    icvac_code: str
    cardinality: str


@dataclass(frozen=True)
class Unlinked:
    national_code: str | None
    national_label: str | None
    reason: str  # no-match or awaiting review


@dataclass(frozen=True)
class UnknownValue:
    """A national category present in the data that the mapping does not know, with its count."""

    code_column: str | None
    label_column: str | None
    code: str | None
    label: str | None
    count: int


@dataclass(frozen=True)
class Coverage:
    mapping: str
    taxonomy: str
    icvac_total: int
    reached: tuple[str, ...]                 # ICVAC codes a national category reaches, directly or below
    unreached: tuple[tuple[str, str], ...]   # (code, title) in taxonomy order
    entries_total: int
    linked: int
    unlinked: tuple[Unlinked, ...]
    links: tuple[Cardinality, ...]
    rows_read: int | None = None
    unknown: tuple[UnknownValue, ...] | None = None
    data_columns: dict[str, str] = field(default_factory=dict)

    def cardinality_counts(self) -> dict[str, int]:
        counts = Counter(link.cardinality for link in self.links)
        return {kind: counts.get(kind, 0) for kind in ("1:1", "1:n", "n:1", "n:m")}

    def to_dict(self) -> dict:
        out = {
            "mapping": self.mapping, "taxonomy": self.taxonomy,
            "icvac": {"total": self.icvac_total, "reached": len(self.reached),
                      "unreached": [{"code": c, "title": t} for c, t in self.unreached]},
            "national": {"total": self.entries_total, "linked": self.linked,
                         "unlinked": [vars(u) for u in self.unlinked]},
            "links": {"total": len(self.links), "cardinality": self.cardinality_counts(),
                      "items": [vars(link) for link in self.links]},
        }
        if self.unknown is not None:
            out["data"] = {"rows": self.rows_read, "columns": self.data_columns,
                           "unknown_values": len(self.unknown),
                           "unknown_records": sum(u.count for u in self.unknown),
                           "unknown": [vars(u) for u in self.unknown]}
        return out


def coverage(mapping: Mapping, taxonomy: Taxonomy, data: str | os.PathLike | None = None,
             read_options: ReadOptions = ReadOptions(), columns: dict[str, str] | None = None) -> Coverage:
    """What a mapping covers: ICVAC categories unreached, national categories unlinked, link shapes,
    and (with ``data``) the national values in the data that the mapping does not know."""
    groups = _national_links(mapping, taxonomy)
    pairs = list(dict.fromkeys((entry.index, code) for entry, group in groups for _, code in _reaching(group)))
    reached: set[str] = set()
    for _, code in pairs:
        reached.update(c.code for c in taxonomy.ancestors(code))
    per_entry = Counter(index for index, _ in pairs)
    per_code = Counter(code for _, code in pairs)
    entries = {entry.index: entry for entry in mapping.entries}
    links = tuple(Cardinality(entries[i].source_code, entries[i].source_label, code,
                              _SHAPES[per_code[code] > 1, per_entry[i] > 1]) for i, code in pairs)
    unlinked = tuple(Unlinked(e.source_code, e.source_label, "awaiting review" if e.review else "no-match")
                     for e in mapping.entries if e.index not in per_entry)
    result = Coverage(
        mapping=mapping.id, taxonomy=f"{taxonomy.id} {taxonomy.version}", icvac_total=len(taxonomy.categories),
        reached=tuple(c.code for c in taxonomy.walk() if c.code in reached),
        unreached=tuple((c.code, c.title_in("en")) for c in taxonomy.walk() if c.code not in reached),
        entries_total=len(mapping.entries), linked=len(per_entry), unlinked=unlinked, links=links)
    if data is None:
        return result
    rows, used, unknown = _unknown_values(mapping, taxonomy, data, read_options, columns or {})
    return replace(result, rows_read=rows, unknown=unknown, data_columns=used)


def _unknown_values(mapping: Mapping, taxonomy: Taxonomy, data, options: ReadOptions, overrides: dict[str, str]):
    """Values recode's matching chain cannot code without fuzzy matching (which needs review): exact code,
    exact or normalised label of the mapping, taxonomy titles and synonyms. A no-match entry is known.
    Only the category columns are read."""
    matcher = Matcher(mapping, taxonomy, fuzzy=False)
    counts: Counter = Counter()
    rows = 0
    with open_table(data, options) as table:
        layout = category_layout(table.header, mapping, overrides, table.name, taxonomy.variable_roles)
        slots = layout.slots
        for _, values in table.rows():
            rows += 1
            for n, code, label in layout.category_values(values):
                if matcher.match(code, label).method == UNCLASSIFIED:
                    ci, li = slots[n]
                    # one column for both (a code or a label): report the value once, as a label
                    counts[(n, code or None if ci != li else None, label or None)] += 1
        header = table.header

    def column(at: int | None) -> str | None:
        return None if at is None else header[at]

    used = {f"category {n + 1}": " + ".join(header[i] for i in s if i is not None) for n, s in enumerate(slots)}
    unknown = tuple(UnknownValue(column(slots[n][0]) if code else None, column(slots[n][1]), code, label, count)
                    for (n, code, label), count in sorted(counts.items(),
                                                          key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or "",
                                                                          kv[0][2] or "")))
    return rows, used, unknown
