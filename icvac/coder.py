"""What ``icvac recode`` does to each record, once per distinct value: the coder under both its engines.

``Recoder`` codes a record's category cells (with the inputs the mapping's conditions test) once per
distinct combination, maps each variable's national values to ICVAC codes once per distinct value, and
derives the age group once per distinct age cell; the records are counted into the ``RecodeSummary`` per
coding, in bulk. ``icvac.recode`` runs it row by row (``rows``, ``chunk``), ``icvac.engine`` over Arrow
batches (it codes each distinct value of a batch and spreads the results with ``take``). Both import
this module, and it imports neither: so the two engines share one coder without an import cycle.
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple, Sequence, cast

from .ages import BAD, age_group, parse_age, record_age
from .errors import UsageError
from .layout import Layout
from .mapping import Mapping
from .matching import DEFAULT_MARGIN, DEFAULT_THRESHOLD, UNCLASSIFIED, Match, Matcher, resolve_conditions
from .readers import ReadOptions
from .taxonomy import Taxonomy
from .text import LONGEST_LABEL, fold

__all__ = ["RecodeOptions", "RecodeSummary", "ReviewItem", "Recoder", "SharedColumns", "JOIN", "ADDED",
           "CODING_LIMIT", "REVIEW_LIMIT", "REVIEW_TRACKED"]

JOIN = "|"
ADDED = ("icvac_code", "icvac_level1", "icvac_title", "icvac_match", "icvac_score")
CACHE_LIMIT = 10_000                   # distinct age cells remembered
CODING_LIMIT = 10_000                  # distinct category cells (with condition inputs) remembered
REVIEW_LIMIT = 10_000                  # distinct values listed for review, the most frequent first
REVIEW_TRACKED = 10_000                # distinct values to review counted at once, at least (see _note_review)


@dataclass(frozen=True)
class RecodeOptions:
    format: str | None = None          # csv, xlsx or jsonl; from the output's extension when None
    columns: dict[str, str] = field(default_factory=dict)  # --column ROLE=NAME
    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    fuzzy: bool = True
    long: bool = False
    excel_safe: bool = False
    read: ReadOptions = ReadOptions()
    jobs: int | None = None            # kept for the CLI's --jobs, which only validate uses now
    review_limit: int = REVIEW_LIMIT   # distinct values listed for review; the rest are counted


@dataclass
class ReviewItem:
    """One distinct national value that a person should look at."""

    source_code: str
    source_label: str
    match: Match
    count: int = 0


@dataclass
class RecodeSummary:
    rows_in: int = 0
    rows_out: int = 0
    acts: int = 0
    by_method: Counter = field(default_factory=Counter)
    unclassified_records: int = 0
    ragged_rows: int = 0
    ragged_row_numbers: list[int] = field(default_factory=list)  # the first RAGGED_SHOWN of them
    rows_with_extra_cells: int = 0  # ragged rows whose cells beyond the header were kept
    unmapped_values: Counter = field(default_factory=Counter)  # role -> records whose value did not map
    missing_columns: tuple[str, ...] = ()  # columns the mapping declares that the input lacks
    escaped_characters: int = 0  # lone surrogates written backslash-escaped (writers.ENCODING_ERRORS)
    # category cells over text.LONGEST_LABEL characters: narratives, unclassified and kept out of the review
    # list (their text is for no report, and a person reviews labels, not stories)
    narrative_cells: int = 0
    review: list[ReviewItem] = field(default_factory=list)
    # beyond RecodeOptions.review_limit: the limit, the distinct values and the records not listed
    review_not_listed: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "rows_in": self.rows_in, "rows_out": self.rows_out, "acts": self.acts,
            "by_method": {m: self.by_method[m] for m in sorted(self.by_method)},
            "unclassified_records": self.unclassified_records, "review_items": len(self.review),
            "ragged_rows": self.ragged_rows, "ragged_row_numbers": list(self.ragged_row_numbers),
            "rows_with_extra_cells": self.rows_with_extra_cells, "missing_columns": list(self.missing_columns),
            "unmapped_values": dict(sorted(self.unmapped_values.items())),
            "escaped_characters": self.escaped_characters,
            **({"narrative_cells": self.narrative_cells} if self.narrative_cells else {}),
            **({"review_not_listed": self.review_not_listed} if self.review_not_listed else {}),
            "provenance": self.provenance,
        }


class SharedColumns:
    """Input columns named like a column recode adds (a file recoded before, or one carrying its own
    ``icvac_code``). A record holds one value per name, so such a column is not added twice: recode writes
    into it where it is blank or already holds the same value, and refuses to overwrite anything else."""

    def __init__(self, table, added: list[str]):
        width = len(table.header)
        position = {name: i for i, name in enumerate(table.header)}
        self.source = Path(table.name).name
        self.width = width
        self.columns = [(position[name], width + k, name) for k, name in enumerate(added) if name in position]
        dropped = {j for _, j, _ in self.columns}
        self.keep = [i for i in range(width + len(added)) if i not in dropped]
        self.header = list(table.header) + [name for name in added if name not in position]

    def merge(self, row: list[str], number: int) -> list[str]:
        for i, j, _ in self.columns:
            if row[i] and row[i] != row[j]:
                names = ", ".join(name for _, _, name in self.columns)
                raise UsageError(f"{self.source}: row {number}: this file already has {names}, holding values "
                                 "other than this recode's: it looks recoded already; rename or drop those columns")
            row[i] = row[j]
        return [row[i] for i in self.keep]


class Act(NamedTuple):
    """One ICVAC act of a record, as its added cells spell it."""

    code: str
    level1: str
    title: str
    method: str
    score: str


@dataclass(eq=False)  # hashed by identity: the tally's key
class _Coding:
    """What one record's category cells become: its acts, the cells added for them, the values to review."""

    acts: tuple[Act, ...]
    wide: list[str]                       # one cell per added column, the acts joined with JOIN
    long: tuple[list[str], ...]           # per act: its number and cells
    reviews: tuple[tuple[str, str, Match], ...]


_WIDE = operator.attrgetter("wide")


def _REVIEW_ORDER(item: ReviewItem) -> tuple:  # noqa: N802  (a sort key, as a constant)
    return -item.count, item.source_label, item.source_code


class Recoder:
    """The work on each record, all of it dictionary look-ups on caches keyed by distinct values: a record's
    category cells are coded once per distinct cells (and condition inputs), and counted into the summary in
    bulk. ``chunk`` does a chunk of records a column at a time, ``rows`` one record."""

    def __init__(self, matcher: Matcher, mapping: Mapping, taxonomy: Taxonomy, layout: Layout,
                 summary: RecodeSummary):
        self.matcher = matcher
        self.taxonomy = taxonomy
        self.layout = layout
        self.summary = summary
        self.review: dict[tuple[str, str], ReviewItem] = {}
        self.roles = list(layout.variables)
        self.variables = [(column, _ValueMap(taxonomy, role, mapping.values.get(role, {})))
                          for role, column in layout.variables.items()]
        has_age = layout.age is not None or layout.birth is not None
        self.ages = _Ages(taxonomy, layout) if has_age else None
        # the age group goes in a column named as every variable's, where the taxonomy has an age-group variable
        groups = taxonomy.age_groups
        self.age_group_column = f"icvac_{groups.id}" if self.ages and groups else None
        self.category_cells = operator.itemgetter(*[c for slot in layout.slots for c in slot if c is not None])
        # the inputs any condition of the mapping tests: part of the key a coding is cached under
        self.condition_roles = tuple(sorted({t.role for entry in mapping.entries for c in entry.conditions
                                             for t in c.tests}))
        self.codings: dict = {}
        self.tally: Counter[_Coding] = Counter()  # records per coding, not yet in the summary
        self.review_tracked = REVIEW_TRACKED
        self.review_values = self.review_records = 0  # distinct values and records noted for review
        self.review_forgot = False  # whether rare values were forgotten (_forget_rare_reviews)

    def added_columns(self, long: bool) -> list[str]:
        extra = [f"icvac_{role}" for role in self.layout.variables]
        if self.age_group_column:
            extra.append(self.age_group_column)
        return (["icvac_act"] if long else []) + list(ADDED) + extra

    def rows(self, cells: list[str], long: bool) -> list[list[str]]:
        tail = [values[cells[column]] for column, values in self.variables]
        if UNCLASSIFIED in tail:
            for role, code in zip(self.roles, tail, strict=False):
                if code == UNCLASSIFIED:
                    self.summary.unmapped_values[role] += 1
        age = None
        if self.ages:
            age, group = self.ages.get(cells)
            if self.age_group_column:
                tail.append(group)
        key = self.category_cells(cells)
        inputs: dict = {}
        if self.condition_roles:
            inputs = dict(zip(self.roles, tail, strict=False))
            inputs["victim_age"] = age
            key = (key, tuple(inputs.get(role) for role in self.condition_roles))
        coding = self.codings.get(key)
        if coding is None:
            coding = self._coding(key, cells, inputs)
        self.tally[coding] += 1
        if long:
            return [cells + act + tail for act in coding.long]
        return [cells + coding.wide + tail]

    def chunk(self, rows: Sequence[list[str]]) -> list[list[str]]:
        """What ``rows`` gives each of ``rows`` (wide, no condition), a column at a time: look-ups mapped over
        each column, the records counted per coding in one go."""
        tails = [list(map(values.__getitem__, map(itemgetter(column), rows))) for column, values in self.variables]
        for role, tail in zip(self.roles, tails, strict=False):
            unmapped = tail.count(UNCLASSIFIED)
            if unmapped:
                self.summary.unmapped_values[role] += unmapped
        if self.age_group_column:
            tails.append(cast(_Ages, self.ages).age_groups(rows))  # a column for the group: ages are coded
        keys = list(map(self.category_cells, rows))
        codings = list(map(self.codings.get, keys))
        for i in compress(count(), map(operator.is_, codings, repeat(None))):
            codings[i] = self.codings.get(keys[i]) or self._coding(keys[i], rows[i], {})
        self.tally.update(cast("list[_Coding]", codings))  # each None was coded just above
        wide = map(_WIDE, codings)
        if tails:
            wide = map(operator.add, wide, map(list, zip(*tails, strict=False)))
        return list(map(operator.add, rows, wide))

    def flush(self) -> None:
        """Count the tallied records into the summary."""
        summary = self.summary
        for coding, n in self.tally.items():
            summary.acts += n * len(coding.acts)
            for act in coding.acts:
                summary.by_method[act.method] += n
            if any(act.code == UNCLASSIFIED for act in coding.acts):
                summary.unclassified_records += n
            for code, label, match in coding.reviews:
                if len(label) > LONGEST_LABEL:
                    summary.narrative_cells += n
                else:
                    self._note_review(code, label, match, n)
        self.tally.clear()

    def _coding(self, key, cells: list[str], inputs: dict) -> _Coding:
        if len(self.codings) >= CODING_LIMIT:
            self.flush()  # the tally holds cached codings only: count them before forgetting them
            self.codings.clear()
        acts: dict[str, Act] = {}
        reviews = []
        for n, code, label in self.layout.category_values(cells):
            match = self.matcher.match(code, label)
            if match.needs_review:
                code_col, label_col = self.layout.slots[n]
                reviews.append((code if code_col != label_col else "", label or code, match))
            method, targets = resolve_conditions(match, inputs)
            score = "" if match.score is None else f"{match.score:.1f}"
            for target in targets or (UNCLASSIFIED,):
                acts.setdefault(target, self._act(target, method, score))
        if not acts:
            acts[UNCLASSIFIED] = self._act(UNCLASSIFIED, UNCLASSIFIED, "")
        found = tuple(acts.values())
        coding = self.codings[key] = _Coding(found, [JOIN.join(column) for column in zip(*found, strict=False)],
                                             tuple([str(n), *act] for n, act in enumerate(found, 1)),
                                             tuple(reviews))
        return coding

    def _act(self, code: str, method: str, score: str) -> Act:
        if code == UNCLASSIFIED:
            return Act(UNCLASSIFIED, UNCLASSIFIED, "", method, score)
        category = self.taxonomy.get(code)
        return Act(code, category.level1, category.title_in("en"), method, score)

    def _note_review(self, code: str, label: str, match: Match, count: int) -> None:
        key = (code, label)
        item = self.review.get(key)
        if item is None:
            if len(self.review) >= self.review_tracked:
                self._forget_rare_reviews()
            item = self.review[key] = ReviewItem(code, label, match)
            self.review_values += 1
        item.count += count
        self.review_records += count

    def _forget_rare_reviews(self) -> None:
        """Keep the more frequent half of the values to review (a file of a million distinct labels would
        hold them all): a value forgotten and seen again is counted afresh, so the values listed at the end
        are the most frequent, their counts exact unless more than ``review_tracked`` distinct values came;
        the records not listed are counted exactly, the distinct values not listed no longer."""
        kept = sorted(self.review.values(), key=_REVIEW_ORDER)[:self.review_tracked // 2]
        self.review = {(item.source_code, item.source_label): item for item in kept}
        self.review_forgot = True

    def list_review(self, limit: int) -> None:
        """The summary's review list: the ``limit`` most frequent values; the rest counted."""
        ordered = sorted(self.review.values(), key=_REVIEW_ORDER)
        summary = self.summary
        summary.review = ordered[:limit]
        if self.review_values > limit:
            # the distinct values are known only while none was forgotten (null then); the records always
            summary.review_not_listed = {
                "limit": limit, "values": None if self.review_forgot else self.review_values - limit,
                "records": self.review_records - sum(item.count for item in summary.review)}


class _ValueMap(dict):
    """National values of one variable -> ICVAC variable codes: the mapping's ``values:`` first, then the
    taxonomy's codes, titles and synonyms (``Variable.lookup``); ``values[raw]``, cached per distinct value."""

    def __init__(self, taxonomy: Taxonomy, role: str, declared: dict[str, str]):
        super().__init__()
        self.variable = taxonomy.variables[role]
        self.exact = {k.strip(): v for k, v in declared.items()}
        self.folded = {fold(k): v for k, v in declared.items()}

    def __missing__(self, raw: str) -> str:
        text = raw.strip()
        if not text:
            code = "unknown"
        else:
            code = self.exact.get(text) or self.folded.get(fold(text)) or self.variable.lookup(text) or UNCLASSIFIED
        self[raw] = code
        return code


class _Ages:
    """A record's age (a number for conditions) and ICVAC age group: from its age cell, else from its birth
    and incident dates (``icvac.ages.record_age``), as ``icvac tabulate`` derives it."""

    def __init__(self, taxonomy: Taxonomy, layout: Layout):
        self.groups = taxonomy.age_groups
        self.age, self.birth, self.incident = layout.age, layout.birth, layout.incident
        # age cell -> its result; None when the cell says nothing and the dates decide
        self.cache: dict[str, tuple[float | None, str] | None] = {}

    def age_groups(self, rows: Sequence[list[str]]) -> list[str]:
        """The age group of each of ``rows``: looked up by age cell, the cells that say nothing (or are not yet
        cached) one by one."""
        if self.age is None:
            return [self.get(cells)[1] for cells in rows]
        found = list(map(self.cache.get, map(itemgetter(self.age), rows)))
        for i in compress(count(), map(operator.not_, found)):
            found[i] = self.get(rows[i])
        return list(map(itemgetter(1), cast("list[tuple[float | None, str]]", found)))  # all found now

    def get(self, cells: list[str]) -> tuple[float | None, str]:
        found = self.cell("" if self.age is None else cells[self.age])
        if found is not None:
            return found
        if self.birth is None:
            return None, "unknown"
        return self.dates(cells[self.birth], cells[cast(int, self.incident)])  # a layout has both dates or none

    def cell(self, raw: str) -> tuple[float | None, str] | None:
        """What the age cell ``raw`` says: None when it says nothing and the dates decide."""
        if raw in self.cache:
            return self.cache[raw]
        age = parse_age(raw)
        found = None if age is None else self._result(age)
        if len(self.cache) < CACHE_LIMIT:
            self.cache[raw] = found
        return found

    def dates(self, birth: str, incident: str) -> tuple[float | None, str]:
        return self._result(record_age("", birth, incident))

    def _result(self, age) -> tuple[float | None, str]:
        if age is None:
            return None, "unknown"
        if age is BAD:
            return None, UNCLASSIFIED
        # conditions compare numbers as floats (mapping.Test)
        return float(age), (age_group(self.groups, age) if self.groups else None) or UNCLASSIFIED
