"""Mapping files: how one national system's categories and values correspond to ICVAC.

A mapping is YAML validated by ``schemas/mapping.schema.json``; the checks here cover
what a schema cannot say (targets that exist in the taxonomy, a source listed twice
with different targets, conditions on known columns with valid values). Relations
use the SKOS vocabulary, as SSSOM does; ``SKOS_PREDICATES`` gives the predicate ids.

Writing decisions back into a mapping file is ``mapping_edit``'s.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .columns import VARIABLE_ROLES
from .digest import sha256_hex
from .errors import MappingError, Problem
from .resources import bundled_dirs
from .taxonomy import Taxonomy
from .text import normalise
from .yamlio import YamlDocument, format_path, parse_yaml, read_text, schema_problems, short_value

__all__ = [
    "Mapping", "MappingEntry", "MappingColumns", "CategorySlot", "DEFAULT_SEPARATORS", "Condition", "Test",
    "RELATIONS", "SKOS_PREDICATES", "CONDITION_ROLES", "load_mapping", "check_mapping",
    "resolve_mapping_path", "bundled_mappings",
]

# SSSOM predicate ids for our relation names (https://mapping-commons.github.io/sssom/).
# "broad" means the ICVAC target is broader than the national category (skos:broadMatch).
SKOS_PREDICATES = {
    "exact": "skos:exactMatch",
    "close": "skos:closeMatch",
    "broad": "skos:broadMatch",
    "narrow": "skos:narrowMatch",
    "related": "skos:relatedMatch",
    "no-match": "sssom:NoTermFound",
}
RELATIONS = tuple(SKOS_PREDICATES)

# Conditions read the victim's age (a number) or an ICVAC variable code already mapped from its column.
CONDITION_ROLES = ("victim_age", *VARIABLE_ROLES)
NUMERIC_OPERATORS = {"lt": float.__lt__, "le": float.__le__, "gt": float.__gt__, "ge": float.__ge__}
CODE_OPERATORS = ("eq", "ne", "in", "not_in")
DEFAULT_SEPARATORS = (";", "|")  # split a category cell into acts unless the mapping declares its own
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Test:
    """One comparison in a condition: ``victim_age lt 13`` or ``victim_sex in [female]``."""

    role: str
    op: str
    value: float | tuple[str, ...]

    def holds(self, actual: float | str | None) -> bool:
        if actual is None:
            return False  # a missing input never satisfies a condition: the entry's own target applies
        value = self.value
        if isinstance(value, float):  # victim_age, the one role compared by number (checked at load)
            return isinstance(actual, float) and NUMERIC_OPERATORS[self.op](actual, value)
        inside = actual in value
        return inside if self.op in ("eq", "in") else not inside


@dataclass(frozen=True)
class Condition:
    tests: tuple[Test, ...]
    targets: tuple[str, ...]
    justification: str | None = None

    def holds(self, inputs: dict[str, float | str | None]) -> bool:
        return all(t.holds(inputs.get(t.role)) for t in self.tests)


@dataclass(frozen=True)
class MappingEntry:
    """One national category. Several targets mean several acts (a national category combining two)."""

    source_code: str | None
    source_label: str | None
    targets: tuple[str, ...]
    relation: str
    justification: str
    reviewer: str
    date: str
    conditions: tuple[Condition, ...] = ()
    aliases: tuple[str, ...] = ()
    review: bool = False  # a draft suggestion awaiting a person's decision
    score: float | None = None  # a draft suggestion's own score, shown by recode instead of 100
    index: int = 0        # position in the file's `categories`, for messages and write-back

    @property
    def predicate(self) -> str:
        return SKOS_PREDICATES[self.relation]

    @property
    def labels(self) -> tuple[str, ...]:
        return ((self.source_label,) if self.source_label else ()) + self.aliases


@dataclass(frozen=True)
class CategorySlot:
    """Where one national category of a record sits: a code column, a label column, or both."""

    code: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class MappingColumns:
    id: str | None = None
    categories: tuple[CategorySlot, ...] = ()
    # what splits a category cell into several acts: `separators` (or the older single `separator`) as
    # declared, else DEFAULT_SEPARATORS; `separators: []` keeps every cell whole
    separators: tuple[str, ...] = DEFAULT_SEPARATORS
    variables: dict[str, str] = field(default_factory=dict)  # role -> column name


@dataclass(frozen=True, eq=False)
class Mapping:
    id: str
    title: str
    source_system: str
    country: str | None
    version: str
    taxonomy_version: str
    author: str
    date: str
    source_reference: str
    status: str
    columns: MappingColumns | None
    entries: tuple[MappingEntry, ...]
    values: dict[str, dict[str, str]]
    path: str
    sha256: str
    status_note: str | None = None
    warnings: tuple[Problem, ...] = ()

    def provenance(self) -> dict:
        return {"id": self.id, "version": self.version, "file": Path(self.path).name, "sha256": self.sha256,
                "status": self.status}


def bundled_mappings() -> dict[str, Path]:
    """Mappings shipped with icvac: inside the installed package, or in a source checkout."""
    found: dict[str, Path] = {}
    for folder in bundled_dirs("mappings"):
        for file in sorted(folder.glob("*.yaml")):
            found.setdefault(file.stem, file)
    return found


def resolve_mapping_path(name_or_path: str | os.PathLike) -> Path:
    """A path to a mapping file, or the name of a bundled mapping (``gbvims``, ``iccs``)."""
    text = str(name_or_path)
    path = Path(text)
    if path.exists() or not _NAME.match(text):
        return path
    bundled = bundled_mappings()
    if text in bundled:
        return bundled[text]
    names = ", ".join(bundled) or "none"
    raise MappingError(text, message=f"is neither a file nor a bundled mapping (bundled: {names})")


def check_mapping(path: str | os.PathLike, taxonomy: Taxonomy) -> tuple[Mapping | None, list[Problem]]:
    """Load and check a mapping: every problem at once. Unreadable files raise MappingError."""
    file = resolve_mapping_path(path)
    text = read_text(file, MappingError)
    doc = parse_yaml(text, str(file), MappingError)
    unquoted = _unquoted_problems(text, doc)
    said = {p.path for p in unquoted}
    # the schema's "value 65 should be of type string" for `0101` is said better by the unquoted check
    problems = [p for p in schema_problems(doc, "mapping.schema.json") if p.path not in said] + unquoted
    problems += _semantic_problems(doc, taxonomy)
    if any(p.severity == "error" for p in problems):
        return None, problems
    digest = sha256_hex(text.encode("utf-8"))
    warnings = tuple(p for p in problems if p.severity == "warning")
    return _build(doc, digest, warnings), problems


def load_mapping(path: str | os.PathLike, taxonomy: Taxonomy) -> Mapping:
    """Load a valid mapping or raise MappingError listing every error with its path and line."""
    mapping, problems = check_mapping(path, taxonomy)
    if mapping is None:
        raise MappingError(str(resolve_mapping_path(path)), problems)
    return mapping


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _semantic_problems(doc: YamlDocument, taxonomy: Taxonomy) -> list[Problem]:
    data = doc.data if isinstance(doc.data, dict) else {}
    problems: list[Problem] = []
    version = data.get("taxonomy_version")
    if isinstance(version, str) and version != taxonomy.version:
        problems.append(doc.problem(("taxonomy_version",), "the mapping targets taxonomy version "
                                    f"{short_value(version)}, the taxonomy in use is "
                                    f"{short_value(taxonomy.version)}; check the targets", "warning"))
    seen: dict[tuple[str, str], tuple[tuple, tuple]] = {}
    for i, entry in enumerate(_items(data.get("categories"))):
        if not isinstance(entry, dict):
            continue
        parts = ("categories", i)
        targets = tuple(t for t in _items(entry.get("target")) if isinstance(t, str))
        problems += _target_problems(doc, parts + ("target",), targets, entry.get("relation"), taxonomy)
        for j, cond in enumerate(_items(entry.get("conditions"))):
            if isinstance(cond, dict):
                here = parts + ("conditions", j)
                problems += _target_problems(doc, here + ("target",),
                                             tuple(t for t in _items(cond.get("target")) if isinstance(t, str)),
                                             "condition", taxonomy)
                problems += _when_problems(doc, here + ("when",), cond.get("when"), taxonomy)
        keys: list[tuple[str, Any, tuple]] = [("code", entry.get("source_code"), parts + ("source_code",))]
        keys += [("label", s, parts + ("source_label",)) for s in [entry.get("source_label")]]
        keys += [("label", s, parts + ("aliases", k)) for k, s in enumerate(_items(entry.get("aliases")))]
        for kind, value, where in keys:
            if not isinstance(value, str):
                continue
            key = (kind, value if kind == "code" else normalise(value))
            if key in seen and seen[key][1] != targets:
                problems.append(doc.problem(where, f"{kind} {short_value(value)} is already mapped at "
                                            f"{format_path(seen[key][0])} to other targets; keep one entry"))
            elif key in seen:
                problems.append(doc.problem(where, f"{kind} {short_value(value)} is listed twice (also at "
                                            f"{format_path(seen[key][0])})", "warning"))
            else:
                seen[key] = (where, targets)
    problems += _values_problems(doc, data.get("values"), taxonomy)
    return problems


_NOT_TEXT = {f"tag:yaml.org,2002:{kind}" for kind in ("int", "float", "bool", "null")}


def _printable(text: str) -> str:
    """A message stays on one line whatever the keys it quotes hold (``\n`` is shown escaped)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _unquoted_problems(text: str, doc: YamlDocument) -> list[Problem]:
    """National codes, labels and values that YAML 1.1 reads as something else than the text written:
    ``01`` as 1, ``010`` as 8, ``0101`` as 65, ``yes``/``off`` as booleans, ``null`` as None. The data's
    ``01`` would then never meet the mapping's; quoting keeps the text."""
    data = doc.data if isinstance(doc.data, dict) else {}
    entries = [e for e in _items(data.get("categories")) if isinstance(e, dict)]
    raw_values = data.get("values")
    values = raw_values if isinstance(raw_values, dict) else {}
    pairs = [kv for table in values.values() if isinstance(table, dict) for kv in table.items()]
    texts = [e.get(k, "") for e in entries for k in ("source_code", "source_label")]
    texts += [a for e in entries for a in _items(e.get("aliases"))] + [x for kv in pairs for x in kv]
    if all(isinstance(x, str) for x in texts):
        return []  # the usual case: no need to read the file a second time
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    found: list[Problem] = []

    def check(node, parts: tuple, before: str = "", after: str = "") -> None:
        if isinstance(node, yaml.ScalarNode) and node.tag in _NOT_TEXT and node.value:
            value = yaml.safe_load(node.value)
            kind = f"the number {value}" if isinstance(value, (int, float)) and not isinstance(value, bool) else value
            message = f"{node.value} is read by YAML as {kind}; quote it: {before}'{node.value}'{after}"
            found.append(Problem(format_path(parts), _printable(message), "error", node.start_mark.line + 1))

    for key, value in _pairs(root):
        if key.value == "categories" and isinstance(value, yaml.SequenceNode):
            for i, item in enumerate(value.value):
                for field_, node in _pairs(item):
                    if field_.value in ("source_code", "source_label"):
                        check(node, ("categories", i, field_.value), field_.value + ": ")
                    elif field_.value == "aliases" and isinstance(node, yaml.SequenceNode):
                        for k, alias in enumerate(node.value):
                            check(alias, ("categories", i, "aliases", k))
        elif key.value == "values":
            for role, table in _pairs(value):
                for national, code in _pairs(table):
                    here = ("values", role.value, national.value)
                    check(national, here, after=": " + (code.value if isinstance(code, yaml.ScalarNode) else "…"))
                    check(code, here, national.value + ": ")
    return found


def _pairs(node) -> list:
    """(key node, value node) of a composed mapping node; nothing for any other node."""
    return node.value if isinstance(node, yaml.MappingNode) else []


def _target_problems(doc, parts, targets, relation, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    if relation == "no-match" and targets:
        problems.append(doc.problem(parts, "a no-match entry has no target; write target: []"))
    elif relation != "no-match" and not targets:
        problems.append(doc.problem(parts, "give at least one ICVAC code, or use relation: no-match"))
    for k, code in enumerate(targets):
        if code not in taxonomy:
            problems.append(doc.problem(parts + (k,), f"code {short_value(code)} is not in taxonomy {taxonomy.id} "
                                        f"{taxonomy.version}; see `icvac taxonomy tree`"))
        elif any(other != code and code.startswith(other) for other in targets):
            problems.append(doc.problem(parts + (k,), f"code {short_value(code)} is inside another target of the same "
                                        "entry; several targets are several acts, keep the most precise"))
        if code in targets[:k]:
            problems.append(doc.problem(parts + (k,), f"code {short_value(code)} is listed twice"))
    return problems


def _when_problems(doc, parts, when, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    for role, test in (when or {}).items() if isinstance(when, dict) else ():
        here = parts + (role,)
        roles = ("victim_age", *taxonomy.variable_roles)
        if role not in roles:
            problems.append(doc.problem(here, f"conditions can test {', '.join(roles)}; not {short_value(role)}"))
            continue
        for op, value in (test.items() if isinstance(test, dict) else [("eq", test)]):
            problems += _test_problems(doc, here + (op,), role, op, value, taxonomy)
    return problems


def _test_problems(doc, parts, role, op, value, taxonomy: Taxonomy) -> list[Problem]:
    if role == "victim_age":
        if op not in NUMERIC_OPERATORS:
            return [doc.problem(parts, f"victim_age is compared with {', '.join(NUMERIC_OPERATORS)}; "
                                       f"not {short_value(op)}")]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [doc.problem(parts, f"victim_age {op} needs a number of years, got {short_value(value)}")]
        return []
    if op not in CODE_OPERATORS:
        return [doc.problem(parts, f"{role} is compared with {', '.join(CODE_OPERATORS)}; not {short_value(op)}")]
    values = value if isinstance(value, list) else [value]
    variable = taxonomy.variables.get(role)
    codes = variable.codes if variable else ()
    bad = [v for v in values if str(v) not in codes]
    if bad or (op in ("in", "not_in")) != isinstance(value, list):
        shape = "a list of codes" if op in ("in", "not_in") else "one code"
        return [doc.problem(parts, f"{role} {op} needs {shape} among {', '.join(codes)}; got {short_value(value)}")]
    return []


def _values_problems(doc, values, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    for role, table in (values or {}).items() if isinstance(values, dict) else ():
        variable = taxonomy.variables.get(role)
        if role not in taxonomy.variable_roles or variable is None:
            problems.append(doc.problem(("values", role), f"no variable {short_value(role)}; values map "
                                        f"{', '.join(taxonomy.variable_roles)}"))
            continue
        for national, code in (table or {}).items() if isinstance(table, dict) else ():
            if isinstance(code, str) and code not in variable.codes:
                problems.append(doc.problem(("values", role, national), f"{short_value(code)} is not a value of "
                                            f"{role}; use one of {', '.join(variable.codes)}"))
    return problems


def _conditions(raw) -> tuple[Condition, ...]:
    out = []
    for cond in raw or []:
        tests = []
        for role, test in cond["when"].items():
            for op, value in (test.items() if isinstance(test, dict) else [("eq", test)]):
                if role == "victim_age":
                    tests.append(Test(role, op, float(value)))
                else:
                    tests.append(Test(role, op, tuple(map(str, value if isinstance(value, list) else [value]))))
        out.append(Condition(tuple(tests), tuple(cond["target"]), cond.get("justification")))
    return tuple(out)


def _columns(raw) -> MappingColumns | None:
    if raw is None:
        return None
    slots = tuple(CategorySlot(code=s, label=s) if isinstance(s, str) else CategorySlot(s.get("code"), s.get("label"))
                  for s in raw.get("categories") or [])
    if "separators" in raw:
        separators = tuple(raw["separators"])
    elif raw.get("separator"):
        separators = (raw["separator"],)
    else:
        separators = DEFAULT_SEPARATORS
    return MappingColumns(id=raw.get("id"), categories=slots, separators=separators,
                          variables=dict(raw.get("variables") or {}))


def _build(doc: YamlDocument, digest: str, warnings: tuple[Problem, ...]) -> Mapping:
    data = doc.data
    entries = tuple(
        MappingEntry(source_code=e.get("source_code"), source_label=e.get("source_label"),
                     targets=tuple(e["target"]), relation=e["relation"], justification=e["justification"].strip(),
                     reviewer=e["reviewer"], date=e["date"], conditions=_conditions(e.get("conditions")),
                     aliases=tuple(e.get("aliases") or ()), review=bool(e.get("review")), index=i,
                     score=e.get("score"))
        for i, e in enumerate(data["categories"])
    )
    return Mapping(
        id=data["id"], title=data["title"], source_system=data["source_system"], country=data.get("country"),
        version=data["version"], taxonomy_version=data["taxonomy_version"], author=data["author"],
        date=data["date"], source_reference=data["source_reference"], status=data["status"],
        columns=_columns(data.get("columns")), entries=entries,
        values={role: dict(table or {}) for role, table in (data.get("values") or {}).items()},
        path=doc.path, sha256=digest, status_note=data.get("status_note"), warnings=warnings,
    )


# ---------------------------------------------------------------- writing entries back as text
