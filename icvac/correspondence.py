"""Correspondence files: how the codes of one taxonomy version correspond to the next.

A correspondence is YAML validated by ``schemas/correspondence.schema.json``, written in draft by
``icvac taxonomy diff --correspondence`` and reviewed by a person before it is kept as
``taxonomy/changes/OLD_VERSION--NEW_VERSION.yaml``. Each line takes one old code to zero, one or
several new codes, with a SKOS relation read with the old category as subject (``narrow``: the new
category is narrower, as the parts of a split are; ``broad``: broader, as a merger is). The migration
of mappings and coded data (``icvac.migration``) reads nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigFileError
from .mapping_edit import yaml_scalar
from .taxonomy import Taxonomy
from .yamlio import load_yaml, schema_problems, short_value

__all__ = ["CorrespondenceError", "Link", "Correspondence", "load_correspondence", "correspondence_yaml",
           "CHANGES", "SCHEMA"]

SCHEMA = "correspondence.schema.json"
CHANGES = ("unchanged", "retitled", "moved", "renumbered", "split", "merged", "removed")


class CorrespondenceError(ConfigFileError):
    kind = "correspondence"


@dataclass(frozen=True)
class Link:
    """Where one old code goes: no new code (removed), one, or several (split: a person must choose)."""

    old: str
    new: tuple[str, ...]
    relation: str
    change: tuple[str, ...] = ()
    note: str | None = None

    @property
    def split(self) -> bool:
        return len(self.new) > 1

    @property
    def removed(self) -> bool:
        return not self.new


@dataclass(frozen=True, eq=False)
class Correspondence:
    taxonomy: str
    from_version: str
    to_version: str
    date: str
    status: str
    links: dict[str, Link]  # by old code, in the file's order
    added: tuple[tuple[str, str | None], ...] = ()  # (new code, note): categories with no predecessor
    path: str = ""
    reviewer: str | None = None
    note: str | None = None

    def get(self, old: str) -> Link | None:
        return self.links.get(old)

    def provenance(self) -> dict:
        return {"taxonomy": self.taxonomy, "from_version": self.from_version, "to_version": self.to_version,
                "file": Path(self.path).name if self.path else None, "status": self.status}

    def check_against(self, new: Taxonomy) -> list[str]:
        """What does not fit the new taxonomy: its version, new codes it lacks. Empty when all is well."""
        problems = []
        if new.version != self.to_version:
            problems.append(f"the correspondence leads to version {short_value(self.to_version)}, the new "
                            f"taxonomy is version {short_value(new.version)}")
        missing = sorted({code for link in self.links.values() for code in link.new if code not in new}
                         | {code for code, _ in self.added if code not in new})
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            problems.append(f"new code(s) {shown} are not in taxonomy {new.id} {new.version}")
        return problems


def load_correspondence(path: str | os.PathLike) -> Correspondence:
    """Load a correspondence file or raise CorrespondenceError listing every problem with its path."""
    doc = load_yaml(path, CorrespondenceError)
    problems = schema_problems(doc, SCHEMA)
    if problems:
        raise CorrespondenceError(str(path), problems)
    data = doc.data
    links: dict[str, Link] = {}
    for i, raw in enumerate(data["correspondence"]):
        here = ("correspondence", i)
        if raw["old"] in links:
            problems.append(doc.problem(here + ("old",), f"code {short_value(raw['old'])} is listed twice; "
                                        "list every old code once, with all its new codes"))
        if (raw["relation"] == "no-match") != (not raw["new"]):
            problems.append(doc.problem(here + ("relation",), "relation no-match goes with new: [] and only "
                                        "with it"))
        links.setdefault(raw["old"], Link(raw["old"], tuple(raw["new"]), raw["relation"],
                                          tuple(raw.get("change") or ()), raw.get("note")))
    if problems:
        raise CorrespondenceError(str(path), problems)
    return Correspondence(
        taxonomy=data["taxonomy"], from_version=data["from_version"], to_version=data["to_version"],
        date=data["date"], status=data["status"], links=links,
        added=tuple((a["new"], a.get("note")) for a in data.get("added") or ()), path=str(path),
        reviewer=data.get("reviewer"), note=data.get("note"))


_HEADER = """\
# Correspondence between two versions of a taxonomy, written by `icvac taxonomy diff`.
# A DRAFT until a person has reviewed it: check every line, above all `split`, `merged` and `removed`,
# then set `status: reviewed` and keep the file as taxonomy/changes/{name}.
# `relation` reads with the old category as subject: narrow = the new category is narrower (the parts of
# a split), broad = broader (a merger). An old code with several new codes is a split: `icvac mapping
# migrate` sends the mapping entries that target it to review and `icvac migrate` leaves its records
# unclassified, until this file names one new code for it. `new: []` (relation no-match): removed.
"""


def correspondence_yaml(corr: Correspondence) -> str:
    """The correspondence as YAML text (values as JSON scalars, which YAML reads unchanged)."""
    lines = [_HEADER.format(name=file_name(corr.from_version, corr.to_version)).rstrip("\n")]
    lines += [f"{key}: {yaml_scalar(value)}" for key, value in (
        ("taxonomy", corr.taxonomy), ("from_version", corr.from_version), ("to_version", corr.to_version),
        ("date", corr.date), ("status", corr.status), ("reviewer", corr.reviewer), ("note", corr.note))
        if value is not None]
    lines.append("correspondence:" if corr.links else "correspondence: []")
    for link in corr.links.values():
        lines.append(f"  - old: {yaml_scalar(link.old)}")
        lines.append(f"    new: {yaml_scalar(list(link.new))}")
        lines.append(f"    relation: {yaml_scalar(link.relation)}")
        if link.change:
            lines.append(f"    change: {yaml_scalar(list(link.change))}")
        if link.note:
            lines.append(f"    note: {yaml_scalar(link.note)}")
    if corr.added:
        lines.append("added:")
        for code, note in corr.added:
            lines.append(f"  - new: {yaml_scalar(code)}" + (f"\n    note: {yaml_scalar(note)}" if note else ""))
    return "\n".join(lines) + "\n"


def file_name(from_version: str, to_version: str) -> str:
    """``OLD_VERSION--NEW_VERSION.yaml``, with anything but letters, digits, dots and dashes made ``_``."""
    def safe(text: str) -> str:
        return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in text)
    return f"{safe(from_version)}--{safe(to_version)}.yaml"
