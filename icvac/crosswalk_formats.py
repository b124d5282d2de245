"""Crosswalks written out: CSV, JSON, Markdown and Excel for people, SSSOM and SQL for other tools.

People's formats (csv, markdown, xlsx) pass text through ``excel_safe``; data formats (json, sssom,
sql) keep every value exact. Nothing depends on the clock: the same crosswalk gives the same bytes.
"""
from __future__ import annotations

import csv
import io
import json
import os
from urllib.parse import quote

from .crosswalk import Crosswalk, Link
from .errors import UsageError
from .export import markdown_cell as _md
from .mapping import SKOS_PREDICATES
from .writers import atomic_output, csv_writer, excel_safe
from .xlsx_writer import xlsx_writer

__all__ = ["CROSSWALK_FORMATS", "COLUMNS", "EXTENSIONS", "SQL_TABLE", "ICVAC_IRI", "render", "write_crosswalk"]

CROSSWALK_FORMATS = ("csv", "json", "xlsx", "markdown", "sssom", "sql")
COLUMNS = ("subject_system", "subject_code", "subject_label", "relation", "object_system", "object_code",
           "object_label", "via", "condition", "justification", "author")
SQL_TABLE = "icvac_crosswalk"
# ICVAC has no official IRI. The reserved .example domain (RFC 2606) makes these placeholders
# unmistakable; the prefixes, not the IRIs, are what people join on.
ICVAC_IRI = "https://icvac.example/"
LICENSE = "https://spdx.org/licenses/MIT.html"
# the format a file name implies (`icvac crosswalk -o`): SSSOM files are .sssom.tsv by convention
EXTENSIONS = {".csv": "csv", ".json": "json", ".xlsx": "xlsx", ".md": "markdown", ".tsv": "sssom", ".sql": "sql"}


def _row(link: Link) -> list[str | None]:
    return [link.subject_system, link.subject_code, link.subject_label, link.relation, link.object_system,
            link.object_code, link.object_label, " > ".join(link.via) or None, link.condition,
            link.justification, "|".join(link.authors) or None]


def render(cw: Crosswalk, fmt: str) -> str:
    """The crosswalk as text in ``fmt`` (every format but xlsx, which only goes to a file)."""
    writers = {"csv": _csv, "json": _json, "markdown": _markdown, "sssom": _sssom, "sql": _sql}
    if fmt not in writers:
        raise UsageError(f"cannot render a crosswalk as {fmt!r} text; use one of {', '.join(writers)}")
    return writers[fmt](cw)


def write_crosswalk(cw: Crosswalk, fmt: str, output: str | os.PathLike | None) -> None:
    """Write atomically to ``output`` (``-`` or None: stdout)."""
    if fmt == "xlsx":
        # None is stdout, as "-" is: xlsx_writer refuses both with a message
        with xlsx_writer("-" if output is None else output, sheet="crosswalk") as write:
            write(list(COLUMNS))
            for link in cw.links:
                write([excel_safe(v) for v in _row(link)])
        return
    text = render(cw, fmt)
    with atomic_output(output) as handle:
        handle.write(text)


def _csv(cw: Crosswalk) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(COLUMNS)
    for link in cw.links:
        writer.writerow([excel_safe(v) if v is not None else "" for v in _row(link)])
    return buf.getvalue()


def _json(cw: Crosswalk) -> str:
    return json.dumps(cw.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _markdown(cw: Crosswalk) -> str:
    titles = {m.id: m.source_system for m in cw.mappings} | {cw.taxonomy_id: cw.taxonomy_id.upper()}
    subj, obj = cw.subject_system.upper(), cw.object_system.upper()
    sources = "; ".join(f"{m.id} {m.version} ({m.date}, {m.status})" for m in cw.mappings)
    lines = [f"# Crosswalk: {_md(titles[cw.subject_system])} to {_md(titles[cw.object_system])}", "",
             f"Mappings: {_md(sources)}. Taxonomy {_md(cw.taxonomy_id)} {_md(cw.taxonomy_version)}. "
             "Relations read from the left column to the right: *broad* means the right one is broader.", ""]
    optional = [name for name in ("via", "condition") if any(getattr(link, name) for link in cw.links)]
    head = [f"{subj} code", f"{subj} category", "relation", f"{obj} code", f"{obj} category", *optional,
            "justification"]
    lines += ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    for link in cw.links:
        indent = "&nbsp;&nbsp;" * (cw.levels.get(link.subject_code or "", 1) - 1) \
            if cw.subject_system == cw.taxonomy_id else ""
        extra = {"via": " > ".join(link.via), "condition": link.condition}
        cells = [link.subject_code, link.subject_label, link.relation, link.object_code, link.object_label,
                 *(extra[name] for name in optional), link.justification]
        shown = [_md(c) for c in cells]
        shown[1] = indent + shown[1]
        lines.append("| " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- SSSOM

def _prefix(system: str) -> str:
    # a CURIE prefix starts with a letter; mapping ids may start with a digit
    return system.upper() if system[:1].isalpha() else "X" + system.upper()


def _curie(system: str, code: str | None, label: str | None) -> str:
    term = code if code is not None else label
    if term is None:
        return "sssom:NoTermFound"
    return f"{_prefix(system)}:{quote(term, safe='')}"


def _one_line(text: str | None) -> str:
    return " ".join(str(text or "").split())  # TSV cells cannot hold tabs or line breaks


def _sssom_metadata(cw: Crosswalk) -> dict:
    ids = "/".join(m.id for m in cw.mappings)
    versions = "; ".join(f"{m.id} {m.version}" for m in cw.mappings)
    curies = {_prefix(cw.taxonomy_id): f"{ICVAC_IRI}{cw.taxonomy_id}/"}
    curies |= {_prefix(m.id): f"{ICVAC_IRI}mapping/{m.id}/" for m in cw.mappings}
    curies |= {"semapv": "https://w3id.org/semapv/vocab/", "skos": "http://www.w3.org/2004/02/skos/core#",
               "sssom": "https://w3id.org/sssom/"}
    return {
        "curie_map": curies,
        "mapping_set_id": f"{ICVAC_IRI}crosswalk/{ids}/{cw.direction}",
        "mapping_set_version": versions,
        "mapping_set_title": f"{cw.subject_system} to {cw.object_system} ({cw.direction}), taxonomy "
                             f"{cw.taxonomy_id} {cw.taxonomy_version}",
        "license": LICENSE,
        "mapping_date": max(m.date for m in cw.mappings),
        "comment": f"Written by icvac. ICVAC has no official IRI: {ICVAC_IRI} is a placeholder. Provisional "
                   "correspondences; each row's comment gives the justification.",
    }


def _sssom(cw: Crosswalk) -> str:
    import yaml

    header = yaml.safe_dump(_sssom_metadata(cw), sort_keys=False, allow_unicode=True, width=1000)
    buf = io.StringIO()
    buf.write("".join(f"#{line}\n" for line in header.splitlines()))
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                     "mapping_justification", "comment", "author_label"])
    for link in cw.links:
        # SSSOM states "no match" as an exact match with the special object sssom:NoTermFound
        predicate = SKOS_PREDICATES["exact" if not link.matched else link.relation]
        comment = _one_line(link.justification)
        if link.via:
            comment += f" (through {_prefix(cw.taxonomy_id)} {' > '.join(link.via)})"
        if link.condition:
            comment += f" (when {link.condition})"
        obj = (link.object_code, link.object_label) if link.matched else (None, None)
        writer.writerow([_curie(link.subject_system, link.subject_code, link.subject_label),
                         _one_line(link.subject_label), predicate, _curie(link.object_system, *obj),
                         _one_line(obj[1]), "semapv:ManualMappingCuration", comment.strip(),
                         "|".join(link.authors)])
    return buf.getvalue()


# ---------------------------------------------------------------- SQL

def _sql_text(value: str | None) -> str:
    """A standard SQL string literal: quotes doubled, every other character (backslash too) as it is.

    SQLite, DuckDB and PostgreSQL (standard_conforming_strings, on by default) read it so; an earlier
    ``|| CHR(39) ||`` for a quote did not load in SQLite, which has no CHR. Spark SQL reads a backslash
    as an escape and is not a target.
    """
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def _sql(cw: Crosswalk) -> str:
    rows = [_row(link) for link in cw.links]
    # VARCHAR(n) is the one string type all three accept in CREATE TABLE; n is sized to the data
    widths = [max([len(r[i] or "") for r in rows] + [1]) for i in range(len(COLUMNS))]
    widths = [64 * -(-w // 64) for w in widths]
    lines = [f"-- icvac crosswalk {cw.subject_system} to {cw.object_system} ({cw.direction}); "
             f"taxonomy {cw.taxonomy_id}, {len(rows)} rows. Drop the table to load a new version.",
             f"CREATE TABLE {SQL_TABLE} ("]
    lines += [f"  {name} VARCHAR({w}){',' if i < len(COLUMNS) - 1 else ''}"
              for i, (name, w) in enumerate(zip(COLUMNS, widths, strict=True))]
    lines.append(");")
    if rows:
        lines.append(f"INSERT INTO {SQL_TABLE} ({', '.join(COLUMNS)}) VALUES")
        lines += [f"  ({', '.join(_sql_text(v) for v in row)}){',' if n < len(rows) - 1 else ';'}"
                  for n, row in enumerate(rows)]
    return "\n".join(lines) + "\n"
