"""``icvac taxonomy import``: a classification kept in a spreadsheet becomes a taxonomy YAML file.

One row per category. Columns (any order, names in any case): ``code``, ``parent`` (blank at the top
level), ``level`` (optional: checked against the depth), ``title_en`` (``title`` alone is English),
``title_fr``… one per language, ``definition``, ``inclusions``, ``exclusions``, ``synonyms_en`` (or
``synonyms``)…, and optionally ``status``, ``status_note``, ``residual``. A cell of a list column holds
its items separated by ``|`` or line breaks; an exclusion may end with the code it points to in
brackets, ``Rape of a child (0301)``, as ``taxonomy export --format csv`` writes it. Children come in
the order of the rows. The taxonomy's own fields (id, title, version, publisher, variables…) come from
a base taxonomy file, the previous version as a rule.

Problems are named by row and column, all at once; a file with any error gives no YAML.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import yaml

from .errors import Problem, TaxonomyError
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy, _semantic_problems
from .writers import undo_excel_safe
from .yamlio import load_yaml, parse_yaml, schema_problems, short_value

__all__ = ["ImportResult", "import_taxonomy", "COLUMNS"]

COLUMNS = ("code", "parent", "level", "definition", "inclusions", "exclusions", "status", "status_note",
           "residual")
_PER_LANGUAGE = ("title", "synonyms")
MAX_DEPTH = 20  # levels: a classification has a handful; a parent chain longer than this is a mistake
_LANGUAGE = re.compile(r"^(title|synonyms)_([a-z]{2,3})$")
_ITEMS = re.compile(r"\s*(?:\||\r?\n)\s*")
_EXCLUSION_CODE = re.compile(r"^(.*\S)\s*\(([^()\s]+)\)$", re.DOTALL)
_UNEXPECTED = re.compile(r"\('([a-z_]+)' was unexpected\)")
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


@dataclass
class ImportResult:
    text: str | None                  # the taxonomy YAML; None when there are errors
    problems: list[Problem] = field(default_factory=list)
    categories: int = 0

    @property
    def valid(self) -> bool:
        return self.text is not None


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    node: dict = field(default_factory=dict)
    depth: int = 0  # in the tree; 0 for a row the tree does not reach


def import_taxonomy(path: str | os.PathLike, base: Taxonomy, *, version: str | None = None,
                    read: ReadOptions = ReadOptions()) -> ImportResult:
    """The taxonomy in the spreadsheet at ``path``, with ``base``'s own fields (and ``version`` if given)."""
    problems: list[Problem] = []
    with open_table(path, read) as table:
        header = [h.strip().lower() for h in table.header]
        languages = _languages(header, base)
        for need in ("code", "title_en", "definition"):
            if need not in header and not (need == "title_en" and "title" in header):
                problems.append(_problem(None, need, "column missing; the spreadsheet needs code, parent, "
                                                      "title_en and definition"))
        if problems:
            return ImportResult(None, problems)
        # a row may be shorter or longer than the header (CSV, JSON Lines' late keys): cells past it have no name
        rows = [_Row(number, {h: undo_excel_safe(c.strip()) for h, c in zip(header, cells, strict=False) if h})
                for number, cells in table.rows()]
    rows = [r for r in rows if any(r.cells.values())]
    roots = _tree(rows, problems)
    for row in rows:
        row.node = _node(row, languages, {r.cells.get("code") for r in rows}, problems)
    if problems:
        return ImportResult(None, _sorted(problems))
    data = _document(base, version, languages, roots)
    text = _yaml(data)
    problems = _checked(text, str(path), roots)
    errors = any(p.severity == "error" for p in problems)
    return ImportResult(None if errors else text, _sorted(problems), len(rows))


def _languages(header: list[str], base: Taxonomy) -> list[str]:
    """The languages of the title and synonym columns: the base's first, in its order, then the others."""
    found = {m.group(2) for h in header if (m := _LANGUAGE.match(h))}
    if "title" in header or "synonyms" in header:
        found.add("en")
    order = {lang: n for n, lang in enumerate(("en", *base.languages))}
    return sorted(found, key=lambda lang: (order.get(lang, len(order)), lang))


def _problem(row: int | None, column: str, message: str) -> Problem:
    where = f"row {row}, column {column}" if row is not None else f"column {column}"
    return Problem(where, message, "error", row)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.path))


def _tree(rows: list[_Row], problems: list[Problem]) -> list[tuple[_Row, list]]:
    """The rows as (row, children) trees, in row order; codes twice, unknown parents and cycles reported."""
    by_code: dict[str, _Row] = {}
    for row in rows:
        code = row.cells.get("code", "")
        if not code:
            problems.append(_problem(row.number, "code", "no code; every category needs one"))
        elif code in by_code:
            problems.append(_problem(row.number, "code", f"code {short_value(code)} is used twice (first on row "
                                                         f"{by_code[code].number})"))
        else:
            by_code[code] = row
    children: dict[str, list[_Row]] = {}
    roots = []
    for row in by_code.values():
        parent = row.cells.get("parent", "")
        if not parent:
            roots.append(row)
        elif parent not in by_code:
            problems.append(_problem(row.number, "parent", f"parent {short_value(parent)} is not the code of any "
                                                           "row"))
        else:
            children.setdefault(parent, []).append(row)

    def build(row: _Row, depth: int) -> tuple[_Row, list]:  # rows in a cycle are never reached from a root
        row.depth = depth
        below = children.get(row.cells["code"], [])
        if below and depth == MAX_DEPTH:
            problems.append(_problem(below[0].number, "parent", f"more than {MAX_DEPTH} levels; check the parents"))
            todo = list(below)
            while todo:  # said once, at the top of the part cut off
                cut = todo.pop()
                if not cut.depth:
                    cut.depth = -1
                    todo += children.get(cut.cells["code"], [])
            return row, []
        return row, [build(child, depth + 1) for child in below]

    trees = [build(row, 1) for row in roots]
    for row in by_code.values():
        if not row.depth and row.cells.get("parent", "") in by_code:
            problems.append(_problem(row.number, "parent", "the parents of this row lead back to it; the top "
                                                           "of the tree has a blank parent"))
    return trees


def _items(text: str) -> list[str]:
    return [item for item in _ITEMS.split(text) if item] if text else []


def _node(row: _Row, languages: list[str], codes: set, problems: list[Problem]) -> dict:
    cells = row.cells
    node: dict = {"code": cells.get("code", "")}
    depth = row.depth
    level = cells.get("level", "")
    if level and not level.isdigit():
        problems.append(_problem(row.number, "level", f"{short_value(level)} is not a whole number"))
    elif level and depth > 0 and int(level) != depth:
        problems.append(_problem(row.number, "level", f"level is {level} but the parent chain puts the category "
                                                      f"at level {depth}"))
    node["level"] = depth or (int(level) if level.isdigit() else 0)
    node["title"] = {lang: t for lang in languages if (t := cells.get(f"title_{lang}") or
                                                        (cells.get("title", "") if lang == "en" else ""))}
    for column, present in (("title_en", "en" in node["title"]), ("definition", cells.get("definition"))):
        if not present:
            problems.append(_problem(row.number, column, "blank; every category needs one"))
    node["status"] = cells.get("status") or "provisional"
    if cells.get("status_note"):
        node["status_note"] = cells["status_note"]
    residual = cells.get("residual", "").lower()
    if residual not in _TRUE | _FALSE:
        problems.append(_problem(row.number, "residual", "write true or false (or leave it blank)"))
    elif residual in _TRUE:
        node["residual"] = True
    node["definition"] = cells.get("definition", "")
    node["inclusions"] = _items(cells.get("inclusions", ""))
    node["exclusions"] = [_exclusion(item, codes) for item in _items(cells.get("exclusions", ""))]
    node["synonyms"] = {lang: s for lang in languages if (s := _items(cells.get(f"synonyms_{lang}") or
                                                                      (cells.get("synonyms", "") if lang == "en"
                                                                       else "")))}
    return node


def _exclusion(text: str, codes: set) -> dict:
    """``Rape of a child (0301)`` -> text and code, when the bracket holds a code of the spreadsheet."""
    found = _EXCLUSION_CODE.match(text)
    if found and found.group(2) in codes:
        return {"text": found.group(1), "code": found.group(2)}
    return {"text": text}


def _document(base: Taxonomy, version: str | None, languages: list[str], roots) -> dict:
    def nested(trees) -> list[dict]:
        out = []
        for row, children in trees:
            node = dict(row.node)
            if children:
                node["children"] = nested(children)
            out.append(node)
        return out

    doc: dict = {"id": base.id, "title": base.title}
    if base.titles:
        doc["titles"] = dict(base.titles)
    doc |= {"version": version or base.version, "publisher": base.publisher, "source": base.source,
            "languages": languages or list(base.languages), "status": base.status}
    if base.status_note:
        doc["status_note"] = base.status_note
    doc["categories"] = nested(roots)
    doc["variables"] = _variables(base)
    return doc


def _variables(base: Taxonomy) -> list[dict]:
    """The base file's variables as written there (the loaded ones lose nothing, but the file is the source)."""
    data = load_yaml(base.path, TaxonomyError).data
    return list(data.get("variables") or [])


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True


def _yaml(data: dict) -> str:
    head = ("# Written by `icvac taxonomy import` from a spreadsheet; check it with `icvac taxonomy check`.\n")
    return head + yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=110,
                            default_flow_style=False)


def _checked(text: str, name: str, roots) -> list[Problem]:
    """The taxonomy schema and checks on the result, each problem brought back to its row and column."""
    doc = parse_yaml(text, name, TaxonomyError)
    found = schema_problems(doc, "taxonomy.schema.json") + _semantic_problems(doc)
    rows: dict[str, int] = {}

    def index(trees, prefix: str) -> None:
        for i, (row, children) in enumerate(trees):
            here = f"{prefix}[{i}]"
            rows[here] = row.number
            index(children, here + ".children")

    index(roots, "categories")
    out = []
    for p in found:
        node = max((k for k in rows if p.path == k or p.path.startswith(k + ".")), key=len, default=None)
        if node is None:
            out.append(Problem(p.path or "(top level)", p.message, p.severity))
            continue
        rest = p.path[len(node) + 1:].split("[")[0].split(".")
        column = "_".join(rest[:2]) if rest[0] in _PER_LANGUAGE and len(rest) > 1 else rest[0]
        unexpected = _UNEXPECTED.search(p.message)
        column = column or (unexpected.group(1) if unexpected else "code")
        out.append(Problem(f"row {rows[node]}, column {column}", p.message, p.severity, rows[node]))
    return out
