"""The review loop: review files out of ``recode``, decisions back into the mapping, draft mappings.

A review file lists each distinct national value that was fuzzy-matched, unclassified or
coded from a draft suggestion, with its count, the reason the scorer would not code it (``reason``:
junk, missing, negated, not-an-act, residual, composite, tie, unrecognised; blank otherwise) and the
top candidates, and empty
``decision``, ``relation``, ``reviewer`` and ``note`` columns for a person to fill in. A
decision is an ICVAC code (several joined with ``+`` mean several acts), ``no-match``, or
blank (skipped). ``relation`` defaults to ``close``: a reviewer's decision is a judgement of
closeness, not a claim of equivalence; write ``exact`` when it is one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path

from .errors import Problem, UsageError, shown_list
from .mapping import RELATIONS, Mapping
from .mapping_edit import write_entries
from .matching import Matcher
from .readers import ReadOptions, open_table
from .taxonomy import Taxonomy
from .text import LONGEST_LABEL, normalise
from .writers import Staging, atomic_output, csv_writer, excel_safe
from .xlsx_writer import xlsx_writer

__all__ = ["REVIEW_COLUMNS", "write_review", "import_review", "ImportReport", "draft_mapping", "DRAFT_REVIEWER"]

CANDIDATES = 3
REVIEW_COLUMNS = ("source_code", "source_label", "count", "match", "score", "reason",
                  *(f"{k}_{n}" for n in range(1, CANDIDATES + 1) for k in ("candidate", "title", "candidate_score")),
                  "decision", "relation", "reviewer", "note")
DEFAULT_RELATION = "close"
# columns stored as numbers in an .xlsx review file, so that a spreadsheet sorts and sums them
_NUMERIC = frozenset(i for i, name in enumerate(REVIEW_COLUMNS) if name == "count" or "score" in name)
DRAFT_REVIEWER = "icvac mapping draft (not yet reviewed)"


def write_review(path: str | os.PathLike, items, taxonomy: Taxonomy, stage: Staging | None = None) -> None:
    """Write review items (``recode.ReviewItem``) as CSV, or .xlsx with a drop-down of valid decisions.

    People open and edit this file in a spreadsheet: text that would run as a formula is neutralised
    with a leading ``'`` (in the .xlsx too, where a cell edited and re-entered would otherwise run it),
    and ``import_review`` takes the ``'`` off again (see ``_review_safe``).
    """
    rows = [_review_row(item, taxonomy) for item in items]
    if Path(path).suffix.lower() == ".xlsx":
        choices = ["no-match", *taxonomy.categories]
        relations = list(RELATIONS[:-1])
        with xlsx_writer(path, sheet="review", validations={REVIEW_COLUMNS.index("decision"): choices,
                                                          REVIEW_COLUMNS.index("relation"): relations},
                         stage=stage, freeze_header=True) as write:
            write(list(REVIEW_COLUMNS))
            for row in rows:
                write([_number(v) if i in _NUMERIC else _review_safe(v) for i, v in enumerate(row)])
        return
    with atomic_output(path, stage=stage) as handle:
        writer = csv_writer(handle)
        writer.writerow(REVIEW_COLUMNS)
        writer.writerows([_review_safe(v) for v in row] for row in rows)


def _review_safe(value):
    """``excel_safe``, made reversible for ``import_review``: a value that already starts with ``'`` before
    a formula character (a national label ``'=x``) gets one more ``'``, so that ``'=x`` in the file can
    only mean ``=x``, and ``''=x`` means ``'=x``."""
    if isinstance(value, str) and value.startswith("'"):
        core = value.lstrip("'")
        if excel_safe(core) != core:
            return "'" + value
    return excel_safe(value)


def _review_unsafe(text: str) -> str:
    """The value ``_review_safe`` was given: one ``'`` comes off only where it was added."""
    core = text.lstrip("'")
    return text[1:] if core != text and excel_safe(core) != core else text


def _number(text: str) -> int | float | None:
    return None if not text else int(text) if text.isdigit() else float(text)


def _review_row(item, taxonomy: Taxonomy) -> list[str]:
    match = item.match
    row = [item.source_code, item.source_label, str(item.count), match.method,
           "" if match.score is None else f"{match.score:.1f}", match.reason or ""]
    for n in range(CANDIDATES):
        if n < len(match.candidates):
            cand = match.candidates[n]
            title = " + ".join(taxonomy.get(c).title_in("en") for c in cand.targets) or "no ICVAC category"
            row += [cand.code, title, f"{cand.score:.1f}"]
        else:
            row += ["", "", ""]
    return row + ["", "", "", ""]


@dataclass
class ImportReport:
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # decisions taken, but read otherwise than written

    def to_dict(self) -> dict:
        return {"added": self.added, "replaced": self.replaced, "skipped": self.skipped,
                "problems": [p.to_dict() for p in self.problems], "warnings": [p.to_dict() for p in self.warnings]}


def import_review(review: str | os.PathLike, mapping: Mapping, taxonomy: Taxonomy, *, reviewer: str | None = None,
                  date: str | None = None) -> ImportReport:
    """Write the decisions of a filled review file into the mapping file, as new or replaced entries.

    Nothing is written when any decision is invalid: the report lists every problem by row.
    """
    date = date or _date.today().isoformat()
    report = ImportReport()
    new: list[dict] = []
    replace: dict[int, dict] = {}
    by_label = {normalise(lab): e for e in mapping.entries for lab in e.labels}
    by_code = {e.source_code: e for e in mapping.entries if e.source_code}
    decided: dict[tuple[str, str], int] = {}
    with open_table(review, ReadOptions()) as table:
        columns = {name: i for i, name in enumerate(table.header)}
        for needed in ("source_label", "decision"):
            if needed not in columns:
                raise UsageError(f"{review}: no {needed!r} column; is this a review file written by icvac recode?")
        for number, cells in table.rows():
            row = {name: _review_unsafe(cells[i].strip() if i < len(cells) else "") for name, i in columns.items()}
            entry = _decision_entry(row, number, taxonomy, reviewer, date, report)
            if entry is None:
                continue
            key = (row.get("source_code", ""), normalise(row["source_label"]))
            if key in decided:
                report.problems.append(Problem(f"row {number}", f"a second decision for the value of row "
                                               f"{decided[key]}; keep one"))
                continue
            decided[key] = number
            known = by_code.get(key[0]) or by_label.get(key[1])
            if known is not None and known.review:
                replace[known.index] = entry
                report.replaced += 1
            elif known is not None:
                report.problems.append(Problem(f"row {number}", f"already mapped by categories[{known.index}]; "
                                               "change that entry in the mapping by hand"))
            else:
                new.append(entry)
                report.added += 1
    if report.problems:
        report.added = report.replaced = 0
        return report
    if new or replace:
        write_entries(mapping.path, new, replace, taxonomy)
    return report


def _decision_entry(row: dict, number: int, taxonomy: Taxonomy, reviewer: str | None, date: str,
                    report: ImportReport) -> dict | None:
    decision = row["decision"].lstrip("'").strip()
    if not decision:
        report.skipped += 1
        return None
    where = f"row {number}"
    if not (row["source_label"] or row.get("source_code")):
        report.problems.append(Problem(where, "the row has neither source_label nor source_code"))
        return None
    # a spreadsheet turns 0301 into 301: put the leading zero back, and say so
    targets = [] if decision == "no-match" else [_pad(c.strip(), taxonomy) for c in decision.split("+")]
    # "no-match" has no targets: nothing to pair, so the shorter list ends the zip
    padded = [(c.strip(), t) for c, t in zip(decision.split("+"), targets, strict=False) if c.strip() != t]
    if padded:
        report.warnings.append(Problem(where, "decision " + ", ".join(f"{c!r} read as {t!r}" for c, t in padded)
                                       + " (a spreadsheet drops the leading zero of a code typed as a number; "
                                         "check the code)", "warning"))
    bad = [c for c in targets if c not in taxonomy]
    if bad:
        report.problems.append(Problem(where, f"decision {decision!r}: {', '.join(map(repr, bad))} is not an ICVAC "
                                       "code; write a code such as 0301, or no-match"))
        return None
    relation = "no-match" if not targets else (row.get("relation") or DEFAULT_RELATION)
    if relation not in RELATIONS or (relation == "no-match") != (not targets):
        report.problems.append(Problem(where, f"relation {relation!r}: use one of {', '.join(RELATIONS[:-1])} "
                                       "(no-match only with decision no-match)"))
        return None
    who = row.get("reviewer") or reviewer
    if not who:
        report.problems.append(Problem(where, "no reviewer: fill the reviewer column or pass --reviewer"))
        return None
    entry: dict = {}
    if row.get("source_code"):
        entry["source_code"] = row["source_code"]
    if row["source_label"]:
        entry["source_label"] = row["source_label"]
    note = row.get("note", "")
    entry.update(target=targets, relation=relation,
                 justification=f"Review decision: {note}" if note else "Review decision (no note given).",
                 reviewer=who, date=date)
    return entry


def _pad(code: str, taxonomy: Taxonomy) -> str:
    """``301`` -> ``0301`` when only the padded code is in the taxonomy."""
    return "0" + code if code not in taxonomy and "0" + code in taxonomy else code


def draft_mapping(values: str | os.PathLike, column: str, taxonomy: Taxonomy, *, date: str | None = None,
                  read: ReadOptions = ReadOptions(), separators: tuple[str, ...] | None = None) -> str:
    """A draft mapping (YAML text) from a column of national labels, every entry marked ``review: true``.

    Spellings that normalise to one label are one entry (``variants``, with their counts), so the draft
    lists no label twice; entries come by row count. Each carries the scorer's best target and its
    ``score``, or no target and the ``reason`` it abstains (``scoring.REASONS``; a composite or a tie also
    lists the level-1 ``branches`` it points at), and the top-3 ``suggestions`` with titles.

    A cell holding several acts (``Rape; Physical Assault``) counts once for each, split at ``separators``
    (the mapping default, ``;`` and ``|``) as recode will split it, so the draft lists the labels recode
    looks up; ``()`` keeps cells whole."""
    from . import __version__
    from .mapping import DEFAULT_SEPARATORS
    from .mapping_edit import entry_block, yaml_scalar

    date = _checked_date(date) if date is not None else _date.today().isoformat()
    separators = DEFAULT_SEPARATORS if separators is None else tuple(separators)
    groups, narratives = _grouped_values(values, column, read, separators)
    matcher = Matcher(None, taxonomy)
    stdin = str(values) == "-"
    name = "stdin" if stdin else Path(str(values)).stem
    ident = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "draft"
    source = "standard input" if stdin else repr(Path(str(values)).name)  # repr: no line break in a comment
    lines = [
        f"# Draft mapping written by icvac {__version__} `mapping draft` from column {column!r} of {source}.",
        "# Every entry is a suggestion marked `review: true`: check the target, the relation and the",
        "# justification, then remove `review: true` (or fill a review file and run `icvac mapping review-import`).",
        "# An entry without a target names no act of violence (its `reason` says why) and stays unclassified.",
        *([f"# {narratives} cell(s) of over {LONGEST_LABEL:,} characters are left out: narratives, not labels "
           "(is this the category column?)."] if narratives else []),
        f"id: {yaml_scalar(ident)}",
        f"title: {yaml_scalar('Draft mapping of ' + name)}",
        f"source_system: {yaml_scalar(name)}",
        f"version: {yaml_scalar('0.0.1')}",
        f"taxonomy_version: {yaml_scalar(taxonomy.version)}",
        f"author: {yaml_scalar('icvac mapping draft')}",
        f"date: {yaml_scalar(date)}",
        f"source_reference: {yaml_scalar('to be completed')}",
        f"status: {yaml_scalar('draft')}",
        "columns:",
        f"  categories: [{yaml_scalar(column)}]",
        *([] if separators == DEFAULT_SEPARATORS else
          [f"  separators: [{', '.join(yaml_scalar(sep) for sep in separators)}]"]),
        "categories:" if groups else "categories: []",
    ]
    for label, count, variants in groups:
        lines += entry_block(_draft_entry(matcher, taxonomy, label, count, variants, date), 2)
    return "\n".join(lines) + "\n"


def _checked_date(date: str) -> str:
    """``date`` if it is an ISO calendar date (YYYY-MM-DD), else UsageError: it is written into YAML."""
    try:
        if len(date) == 10 and _date.fromisoformat(date).isoformat() == date:
            return date
    except ValueError:
        pass
    raise UsageError(f"--date {date!r}: write a date as YYYY-MM-DD")


def _grouped_values(values, column: str, read: ReadOptions,
                    separators: tuple[str, ...] = ()) -> tuple[list[tuple[str, int, list[tuple[str, int]]]], int]:
    """(label, total count, [(spelling, count)…]) per normalised value, most rows first; the label is the
    most frequent spelling. A cell is split into its acts at ``separators``. With them, the number of values
    over ``text.LONGEST_LABEL`` characters, left out: narratives, whose text goes in no draft."""
    counts: dict[str, int] = {}
    narratives = 0
    with open_table(values, read) as table:
        if column not in table.header:
            raise UsageError(f"{table.name}: no column {column!r}; the columns are "
                             f"{shown_list(table.header)}")
        i = table.header.index(column)
        for _, cells in table.rows():
            for value in _acts(cells[i] if i < len(cells) else "", separators):
                if len(value) > LONGEST_LABEL:
                    narratives += 1
                else:
                    counts[value] = counts.get(value, 0) + 1
    groups: dict[str, list[tuple[str, int]]] = {}
    for value, count in counts.items():
        groups.setdefault(normalise(value) or value, []).append((value, count))
    out = []
    for spellings in groups.values():
        spellings.sort(key=lambda vc: (-vc[1], vc[0]))
        out.append((spellings[0][0], sum(c for _, c in spellings), spellings))
    out.sort(key=lambda g: (-g[1], g[0]))
    return out, narratives


def _acts(cell: str, separators: tuple[str, ...]) -> list[str]:
    """The non-blank parts of ``cell`` between separators, stripped."""
    for sep in separators[1:]:
        cell = cell.replace(sep, separators[0])
    parts = cell.split(separators[0]) if separators else [cell]
    return [part.strip() for part in parts if part.strip()]


def _draft_entry(matcher: Matcher, taxonomy: Taxonomy, label: str, count: int, variants, date: str) -> dict:
    verdict = matcher.scorer.assess(label, limit=CANDIDATES)
    shown = verdict.candidates
    best = shown[0] if shown and verdict.reason is None else None
    entry: dict = {"source_label": label, "count": count}
    if len(variants) > 1:
        entry["variants"] = [{"label": v, "count": c} for v, c in variants]
    entry.update(target=list(best.targets) if best else [], relation="close" if best else "no-match")
    if best:
        entry["justification"] = f"Suggested from {best.matched!r} (score {best.score:.1f}); to be reviewed."
        entry["score"] = best.score
    else:
        entry["justification"] = (f"No suggestion: {verdict.reason}; to be reviewed." if verdict.reason
                                  else "No suggestion above the noise threshold; to be reviewed.")
        entry["reason"] = verdict.reason or "unrecognised"
        if verdict.branches:
            entry["branches"] = [b for b in verdict.branches if "+" not in b]
    entry.update(reviewer=DRAFT_REVIEWER, date=date, review=True,
                 suggestions=[{"code": s.code, "title": " + ".join(taxonomy.get(t).title_in("en") for t in s.targets),
                               "score": s.score} for s in shown])
    return entry
