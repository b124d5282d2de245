"""The taxonomy as flat records, CSV, JSON and Markdown, for people and other tools; Markdown cells for
``crosswalk_formats`` too."""
from __future__ import annotations

import io
import json

from .taxonomy import LANGUAGES, Category, Taxonomy
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
        "titles": {lang: cat.title[lang] for lang in LANGUAGES if lang in cat.title},
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
    writer.writerow(["code", "level", "parent", "title_en", "title_fr", "title_es", "status", "definition",
                     "inclusions", "exclusions", "synonyms_en", "synonyms_fr", "synonyms_es", "status_note"])
    for cat in taxonomy.walk():
        row = [cat.code, cat.level, cat.parent or "", cat.title.get("en", ""), cat.title.get("fr", ""),
               cat.title.get("es", ""), cat.status, cat.definition, " | ".join(cat.inclusions),
               " | ".join(f"{e.text} ({e.code})" if e.code else e.text for e in cat.exclusions),
               *(" | ".join(cat.synonyms.get(lang, ())) for lang in LANGUAGES), cat.status_note or ""]
        writer.writerow([excel_safe(v) for v in row])
    return buf.getvalue()


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
