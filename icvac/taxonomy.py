"""The ICVAC taxonomy: loading, semantic checks and search.

A taxonomy file is YAML validated by ``schemas/taxonomy.schema.json``; the checks
here cover what a schema cannot say (unique codes, codes extending their parent's,
levels equal to depth, references that exist, synonyms shared by two categories).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator

from .errors import Problem, TaxonomyError
from .resources import PACKAGE_DATA, bundled_path
from .text import fold
from .yamlio import YamlDocument, format_path, load_yaml, schema_problems, short_value

__all__ = [
    "Category", "Exclusion", "Variable", "VariableValue", "Taxonomy", "SearchHit",
    "load_taxonomy", "check_taxonomy", "default_taxonomy_path", "UN_LANGUAGES",
]

UN_LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")  # the taxonomy's own titles may be in any of them
RTL_LANGUAGES = frozenset({"ar"})
_LOOKUP_CACHE_LIMIT = 10_000  # distinct raw values remembered per variable


@dataclass(frozen=True)
class Exclusion:
    text: str
    code: str | None = None


@dataclass(frozen=True, eq=False)
class Category:
    code: str
    level: int
    title: dict[str, str]
    status: str
    definition: str
    inclusions: tuple[str, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    parent: str | None = None
    children: tuple[str, ...] = ()
    status_note: str | None = None
    residual: bool = False  # "other ... not elsewhere classified": never fuzzy-coded, last among equals
    level1: str = ""        # the code of its level-1 ancestor (itself at level 1)

    def title_in(self, lang: str = "en") -> str:
        return self.title.get(lang) or self.title["en"]


@dataclass(frozen=True, eq=False)
class VariableValue:
    code: str
    title: dict[str, str]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, eq=False)
class Variable:
    id: str
    title: dict[str, str]
    status: str
    values: tuple[VariableValue, ...]
    description: str | None = None
    derived_from: str | None = None  # a role it is computed from, not a column of its own

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)

    def lookup(self, raw: str) -> str | None:
        """The code ``raw`` reads as: a code as written, else a code, title or synonym in any language
        with case, accents and punctuation ignored (``"Féminin"``, ``" F "`` -> ``"female"``); None when
        it is none of them (a blank too). Cached per distinct text."""
        cache = self._lookup_cache
        if raw in cache:
            return cache[raw]
        code = self._folded.get(fold(raw))
        if len(cache) < _LOOKUP_CACHE_LIMIT:
            cache[raw] = code
        return code

    @cached_property
    def _folded(self) -> dict[str, str]:
        # codes first, then titles, then synonyms: a value's code is never taken by another's synonym
        codes = [(v.code, v.code) for v in self.values]
        titles = [(t, v.code) for v in self.values for t in v.title.values()]
        synonyms = [(s, v.code) for v in self.values for syns in v.synonyms.values() for s in syns]
        table: dict[str, str] = {}
        for text, code in (*codes, *titles, *synonyms):
            table.setdefault(fold(text), code)
        table.pop("", None)
        return table

    @cached_property
    def _lookup_cache(self) -> dict[str, str | None]:
        return {code: code for code in self.codes}


@dataclass(frozen=True)
class SearchHit:
    code: str
    title: str
    score: float
    matched: str  # the title or synonym that scored best


@dataclass(eq=False)
class Taxonomy:
    id: str
    title: str
    version: str
    publisher: str
    source: str
    languages: tuple[str, ...]
    status: str
    categories: dict[str, Category]  # depth-first order, as in the file
    variables: dict[str, Variable]
    path: str
    status_note: str | None = None
    titles: dict[str, str] = field(default_factory=dict)  # language -> title, ``title`` as "en" when not given
    warnings: tuple[Problem, ...] = ()
    code_lengths: tuple[int, ...] = ()  # digits per level from level 1; () when the file does not say
    status_summary: str | None = None
    _scorer: object | None = field(default=None, repr=False)

    @property
    def provisional(self) -> bool:
        return self.status != "verified"

    @cached_property
    def levels(self) -> int:
        """How many levels the classification has: as many as ``code_lengths`` says, else as deep as its tree."""
        return len(self.code_lengths) or max(c.level for c in self.categories.values())

    @cached_property
    def variable_roles(self) -> tuple[str, ...]:
        """The variables a data file holds in columns of their own (the rest are derived, like age groups)."""
        return tuple(v.id for v in self.variables.values() if v.derived_from is None)

    @cached_property
    def age_groups(self) -> Variable | None:
        """The variable grouping the victim's age (``derived_from: victim_age``), if there is one: found by what it
        is, not by its id."""
        return next((v for v in self.variables.values() if v.derived_from == "victim_age"), None)

    def status_line(self) -> str:
        line = f"taxonomy {self.id} {self.version} ({Path(self.path).name}) is {self.status}"
        if self.provisional and self.status_summary:
            line += f": {self.status_summary}"
        return line

    def get(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise KeyError(code) from None

    def __contains__(self, code: object) -> bool:
        return code in self.categories

    def at_level(self, level: int) -> list[Category]:
        return [c for c in self.categories.values() if c.level == level]

    def ancestors(self, code: str) -> list[Category]:
        """From the level-1 root down to the category itself."""
        chain = []
        cat: Category | None = self.categories[code]
        while cat is not None:
            chain.append(cat)
            cat = self.categories.get(cat.parent) if cat.parent else None
        return chain[::-1]

    def ancestor_at(self, code: str, level: int) -> Category:
        """The category's ancestor at ``level`` (itself if it is coarser than that level)."""
        chain = self.ancestors(code)
        return chain[min(level, len(chain)) - 1]

    def walk(self, max_level: int | None = None) -> Iterator[Category]:
        for cat in self.categories.values():
            if max_level is None or cat.level <= max_level:
                yield cat

    def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        """Rank categories for ``text`` with the suggester's scorer (``scoring.Scorer``): titles, synonyms,
        inclusions and definitions in every language, words weighed by how much they tell."""
        from .scoring import scorer_for

        return [SearchHit(c.targets[0], self.categories[c.targets[0]].title_in("en"), c.score, c.matched)
                for c in scorer_for(self).rank(text, limit)]


def default_taxonomy_path() -> Path:
    """The bundled taxonomy: inside the installed package, or at the top of a source checkout."""
    path = bundled_path("taxonomy", "icvac.yaml")
    if path is None:
        raise TaxonomyError(str(PACKAGE_DATA / "taxonomy" / "icvac.yaml"),
                            message="the bundled taxonomy is missing; reinstall icvac")
    return path


def resolve_taxonomy_path(path: str | os.PathLike | None) -> Path:
    if path:
        return Path(path)
    env = os.environ.get("ICVAC_TAXONOMY")
    return Path(env) if env else default_taxonomy_path()


def check_taxonomy(path: str | os.PathLike | None = None) -> tuple[Taxonomy | None, list[Problem]]:
    """Load and check a taxonomy file: every problem at once. Unreadable files raise TaxonomyError."""
    file = resolve_taxonomy_path(path)
    doc = load_yaml(file, TaxonomyError)
    problems = schema_problems(doc, "taxonomy.schema.json")
    schema_ok = not problems
    problems = sorted(problems + _semantic_problems(doc), key=lambda p: (p.line or 0, p.path))
    if not schema_ok:
        return None, problems
    if any(p.severity == "error" for p in problems):
        return None, problems
    return _build(doc, tuple(p for p in problems if p.severity == "warning")), problems


_CACHE: dict[tuple[str, float, int], Taxonomy] = {}


def load_taxonomy(path: str | os.PathLike | None = None) -> Taxonomy:
    """Load a valid taxonomy or raise TaxonomyError listing every error with its path."""
    file = resolve_taxonomy_path(path)
    try:
        stat = file.stat()
        key = (str(file.resolve()), stat.st_mtime, stat.st_size)
    except OSError:
        key = None
    if key in _CACHE:
        return _CACHE[key]
    taxonomy, problems = check_taxonomy(file)
    if taxonomy is None:
        raise TaxonomyError(str(file), problems)
    if key:
        _CACHE[key] = taxonomy
    return taxonomy


def _iter_nodes(categories, parts=("categories",), depth=1, parent=None):
    if not isinstance(categories, list):
        return
    for i, node in enumerate(categories):
        if not isinstance(node, dict):
            continue
        here = parts + (i,)
        yield here, node, depth, parent
        yield from _iter_nodes(node.get("children"), here + ("children",), depth + 1, node)


def _semantic_problems(doc: YamlDocument) -> list[Problem]:
    """Checks a schema cannot express; nodes whose fields have the wrong type are skipped."""
    data = doc.data if isinstance(doc.data, dict) else {}
    problems: list[Problem] = []
    seen: dict[str, tuple] = {}
    synonyms: dict[str, tuple[str, tuple]] = {}
    nodes = list(_iter_nodes(data.get("categories")))
    lengths = data.get("code_lengths") if isinstance(data.get("code_lengths"), list) else []
    for parts, node, depth, parent in nodes:
        code = node.get("code")
        if not isinstance(code, str):
            continue
        if code in seen:
            problems.append(doc.problem(parts + ("code",), f"code {short_value(code)} is used twice (first at "
                                        f"{format_path(seen[code])}); give each category its own code"))
        else:
            seen[code] = parts + ("code",)
        if parent is not None and isinstance(parent.get("code"), str):
            pcode = parent["code"]
            if not (code.startswith(pcode) and len(code) > len(pcode)):
                problems.append(doc.problem(parts + ("code",), f"code {short_value(code)} does not extend its parent's "
                                            f"code {short_value(pcode)}; a child's code starts with its parent's"))
        level = node.get("level")
        if isinstance(level, int) and level != depth:
            problems.append(doc.problem(parts + ("level",), f"level is {level} but the category sits at "
                                        f"depth {depth}; set level: {depth}"))
        problems.extend(_length_problems(doc, parts, code, depth, lengths))
        for lang, syns in (node.get("synonyms") or {}).items() if isinstance(node.get("synonyms"), dict) else ():
            for j, syn in enumerate(syns if isinstance(syns, list) else []):
                if not isinstance(syn, str):
                    continue
                key = fold(syn)
                other = synonyms.get(key)
                if other and other[0] != code:
                    problems.append(doc.problem(parts + ("synonyms", lang, j), f"synonym {short_value(syn)} is "
                                                "also given "
                                                f"to category {other[0]}; matching cannot tell them apart",
                                                "warning"))
                else:
                    synonyms[key] = (code, parts)
    for parts, node, _, _ in nodes:
        for j, exc in enumerate(node.get("exclusions") or [] if isinstance(node.get("exclusions"), list) else []):
            ref = exc.get("code") if isinstance(exc, dict) else None
            if isinstance(ref, str) and ref not in seen:
                problems.append(doc.problem(parts + ("exclusions", j, "code"), f"refers to code "
                                            f"{short_value(ref)}, which "
                                            "is not in the taxonomy; fix the code or remove the reference"))
    problems.extend(_variable_problems(doc, data.get("variables")))
    return problems


def _length_problems(doc: YamlDocument, parts: tuple, code: str, depth: int, lengths: list | None) -> list[Problem]:
    """A code's digits against ``code_lengths`` (nothing to check when the file gives none)."""
    if not lengths:
        return []
    if depth > len(lengths):
        return [doc.problem(parts + ("code",), f"{short_value(code)} sits at level {depth}, but code_lengths "
                            f"gives {len(lengths)} levels; add the level's length to code_lengths")]
    expected = lengths[depth - 1]
    if isinstance(expected, int) and len(code) != expected:
        return [doc.problem(parts + ("code",), f"a level-{depth} code has {expected} digits, "
                            f"{short_value(code)} has {len(code)}")]
    return []


def _variable_problems(doc: YamlDocument, variables) -> list[Problem]:
    problems = []
    ids: set[str | None] = set()  # a variable without an id is the schema's to report
    for i, var in enumerate(variables if isinstance(variables, list) else []):
        if not isinstance(var, dict):
            continue
        parts = ("variables", i)
        if var.get("id") in ids:
            problems.append(doc.problem(parts + ("id",), f"variable {short_value(var.get('id'))} is defined twice"))
        ids.add(var.get("id"))
        codes = [v.get("code") for v in var.get("values") or [] if isinstance(v, dict)]
        for j, code in enumerate(codes):
            if code in codes[:j]:
                problems.append(doc.problem(parts + ("values", j, "code"),
                                            f"value {short_value(code)} is listed twice"))
        if codes and "unknown" not in codes:
            problems.append(doc.problem(parts + ("values",), "every variable needs an 'unknown' value: "
                                        "missing is not the same as invalid"))
        for j, value in enumerate(var.get("values") or []):
            if isinstance(value, dict) and isinstance(value.get("min"), int) and isinstance(value.get("max"), int) \
                    and value["min"] > value["max"]:
                problems.append(doc.problem(parts + ("values", j), "min is greater than max"))
    return problems


def _titles(data: dict) -> dict[str, str]:
    """The classification's title per language: English (``title``) first, then the UN languages in order."""
    given = {"en": data["title"], **(data.get("titles") or {})}
    return {lang: given[lang] for lang in sorted(given, key=lambda lang: (lang != "en", lang))}


def _build(doc: YamlDocument, warnings: tuple[Problem, ...]) -> Taxonomy:
    data = doc.data
    categories: dict[str, Category] = {}
    roots: dict[str, str] = {}
    for _, node, depth, parent in _iter_nodes(data["categories"]):
        roots[node["code"]] = roots[parent["code"]] if parent else node["code"]
        categories[node["code"]] = Category(
            code=node["code"], level=depth, title=dict(node["title"]), status=node["status"],
            definition=node["definition"].strip(), inclusions=tuple(node["inclusions"]),
            exclusions=tuple(Exclusion(e["text"], e.get("code")) for e in node["exclusions"]),
            synonyms={k: tuple(v) for k, v in node["synonyms"].items()},
            parent=parent["code"] if parent else None,
            children=tuple(c["code"] for c in node.get("children") or []),
            status_note=node.get("status_note"), residual=bool(node.get("residual")), level1=roots[node["code"]],
        )
    variables = {
        v["id"]: Variable(
            id=v["id"], title=dict(v["title"]), status=v["status"], description=v.get("description"),
            values=tuple(VariableValue(x["code"], dict(x["title"]), {k: tuple(s) for k, s in
                                                                     (x.get("synonyms") or {}).items()},
                                       x.get("min"), x.get("max")) for x in v["values"]),
            derived_from=v.get("derived_from"),
        )
        for v in data.get("variables", [])
    }
    return Taxonomy(
        id=data["id"], title=data["title"], version=str(data["version"]), publisher=data["publisher"],
        source=data["source"], languages=tuple(data["languages"]), status=data["status"],
        categories=categories, variables=variables, path=doc.path, status_note=data.get("status_note"),
        titles=_titles(data), warnings=warnings,
        code_lengths=tuple(data.get("code_lengths") or ()), status_summary=data.get("status_summary"),
    )
