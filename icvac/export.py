"""The taxonomy as flat records, CSV, JSON and Markdown, for people and other tools; Markdown cells for
``crosswalk_formats`` too."""
from __future__ import annotations

import io
import json

from .taxonomy import Category, Taxonomy
from .writers import csv_writer, excel_safe

__all__ = ["category_record", "taxonomy_records", "variable_records", "export_taxonomy", "EXPORT_FORMATS",
           "markdown_cell"]

EXPORT_FORMATS = ("csv", "json", "markdown")


def category_record(cat: Category) -> dict:
    return {
        "code": cat.code,
        "level": cat.level,
        "parent": cat.parent,
        "title": cat.title_in("en"),
        "titles": dict(cat.title),
        "status": cat.status,
        "definition": cat.definition,
        "inclusions": list(cat.inclusions),
        "exclusions": [{"text": e.text, "code": e.code} for e in cat.exclusions],
        "synonyms": {lang: list(s) for lang, s in cat.synonyms.items()},
        "children": list(cat.children),
    }


def taxonomy_records(taxonomy: Taxonomy, max_level: int | None = None) -> list[dict]:
    return [category_record(c) for c in taxonomy.walk(max_level)]


def _metadata(taxonomy: Taxonomy) -> dict:
    return {"id": taxonomy.id, "title": taxonomy.title, "version": taxonomy.version,
            "publisher": taxonomy.publisher, "source": taxonomy.source, "status": taxonomy.status,
            "status_note": taxonomy.status_note, "languages": list(taxonomy.languages)}


def variable_records(taxonomy: Taxonomy) -> list[dict]:
    return [{"id": v.id, "title": v.title.get("en"), "status": v.status,
             "values": [{"code": x.code, "title": x.title.get("en"),
                         **({"min": x.min, "max": x.max} if x.min is not None else {})} for x in v.values]}
            for v in taxonomy.variables.values()]


def export_taxonomy(taxonomy: Taxonomy, fmt: str) -> str:
    if fmt == "json":
        doc = {"taxonomy": _metadata(taxonomy), "categories": taxonomy_records(taxonomy),
               "variables": variable_records(taxonomy)}
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(taxonomy)
    if fmt == "markdown":
        return _markdown(taxonomy)
    raise ValueError(f"unknown export format {fmt!r}")


def _csv(taxonomy: Taxonomy) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf)
    languages = _languages(taxonomy)
    writer.writerow(["code", "level", "parent", *(f"title_{lang}" for lang in languages), "status", "definition",
                     "inclusions", "exclusions", *(f"synonyms_{lang}" for lang in languages), "status_note"])
    for cat in taxonomy.walk():
        row = [cat.code, cat.level, cat.parent or "", *(cat.title.get(lang, "") for lang in languages), cat.status,
               cat.definition, " | ".join(cat.inclusions),
               " | ".join(f"{e.text} ({e.code})" if e.code else e.text for e in cat.exclusions),
               *(" | ".join(cat.synonyms.get(lang, ())) for lang in languages), cat.status_note or ""]
        writer.writerow([excel_safe(v) for v in row])
    return buf.getvalue()


def _languages(taxonomy: Taxonomy) -> list[str]:
    """The taxonomy's languages (its file's ``languages``), then any other a title or synonym is in: a column
    each, so that ``taxonomy import`` reads every one back."""
    found = dict.fromkeys(taxonomy.languages)
    for cat in taxonomy.walk():
        found.update(dict.fromkeys([*cat.title, *cat.synonyms]))
    return list(found)


def markdown_cell(text: str | None) -> str:
    """Text for a Markdown table cell or line: pipes escaped, on one line; formula-safe like every file
    meant for people, since Markdown tables get pasted into spreadsheets."""
    return excel_safe(str(text or "")).replace("|", "\\|").replace("\n", " ")


def _markdown(taxonomy: Taxonomy) -> str:
    lines = [f"# {taxonomy.title}", "", f"Version {taxonomy.version}, status **{taxonomy.status}**. "
             f"{taxonomy.status_note or ''}".rstrip(), "", "| Code | Level | Title | Definition | Status |",
             "|---|---|---|---|---|"]
    for cat in taxonomy.walk():
        indent = "&nbsp;&nbsp;" * (cat.level - 1)
        lines.append(f"| {cat.code} | {cat.level} | {indent}{markdown_cell(cat.title_in('en'))} "
                     f"| {markdown_cell(cat.definition)} | {cat.status} |")
    lines += ["", "## Disaggregating variables", ""]
    for var in taxonomy.variables.values():
        values = ", ".join(f"`{v.code}`" for v in var.values)
        lines.append(f"- **{var.id}** ({markdown_cell(var.title.get('en', ''))}): {values}")
    return "\n".join(lines) + "\n"
