"""The checks of ``icvac validate`` over a batch of records, a column at a time.

Each cell check is a function of the cell alone, run once per distinct value of a column (Arrow's
dictionary encoding gives the distinct values; their results are cached across batches); the rows whose
value has a problem are found by Arrow (``is_in`` over the dictionary indices). A record's dates and age
are compared with Arrow's kernels. Issues become Python objects (``Event``) only while they are wanted:
once the report keeps no more and nobody listens, a batch's issues are only counted.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from .ages import BAD, parse_age, parse_date
from .checks import CHECKS
from .codes import is_unclassified, split_codes
from .dupes import DuplicateIds
from .tally import ERRORS, Event
from .taxonomy import Taxonomy

__all__ = ["BatchChecker", "Found", "PY_SPACE", "MATCH_COLUMN", "CACHE_LIMIT"]

CACHE_LIMIT = 10_000   # distinct values remembered per column; beyond it values are checked afresh
SHOWN_LENGTH = 40      # a coded value longer than this is cut in messages
MATCH_COLUMN = "icvac_match"  # written by `icvac recode`: how each act was coded
JOIN = "|"             # between the acts of a record in recode's cells
# what Python's str.strip() strips (str.isspace), for Arrow's utf8_trim: ids are compared as Python trims them
PY_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# Python values given to pyarrow.compute untyped cost a type inference each call (about 0.1 ms, an import
# attempt among it): the constants of the kernels are typed scalars, made once
_FALSE = pa.scalar(False, pa.bool_())
_ZERO = pa.scalar(0, pa.int64())
_YEAR = pa.scalar(10000, pa.int64())   # YYYYMMDD numbers: a difference's years
_ADULT = pa.scalar(17, pa.int64())     # the oldest age of a child


class Found:
    """A batch's issues: as ``events`` (by position in the batch, each row's in the order of the checks) when
    ``wanted``; always as counts, by check and by column, and as masks of the rows with errors and warnings."""

    __slots__ = ("wanted", "n", "numbers", "ids", "events", "counts", "by_col", "error", "warning")

    def __init__(self, wanted: bool, n: int, numbers: pa.Array, ids: pa.Array | None):
        self.wanted, self.n, self.numbers = wanted, n, numbers
        self.ids = ids.to_pylist() if wanted and ids is not None else None
        self.events: list[tuple[int, Event]] = []
        self.counts: dict[str, int] = {}
        self.by_col: dict[int, dict[str, int]] = {}
        self.error: pa.Array | None = None
        self.warning: pa.Array | None = None

    def _count(self, col: int | None, slug: str, k: int) -> None:
        self.counts[slug] = self.counts.get(slug, 0) + k
        if col is not None:
            per = self.by_col.setdefault(col, {})
            per[slug] = per.get(slug, 0) + k

    def _mark(self, mask: pa.Array, error: bool) -> None:
        if error:
            self.error = mask if self.error is None else pc.or_(self.error, mask)
        else:
            self.warning = mask if self.warning is None else pc.or_(self.warning, mask)

    def per_value(self, col: int, indices: pa.Array, known: "_Known") -> None:
        """Issues of a column whose rows have the results ``indices`` of ``known`` (``known.problems[j]``:
        (slug, fields)…)."""
        if not known.bad:
            return
        problems = known.problems
        rows = pc.is_in(indices, value_set=known.array("bad"))
        counts = pc.value_counts(indices.filter(rows))
        if not len(counts):
            return
        for j, k in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True):
            for slug, _ in problems[j]:
                self._count(col, slug, k)
        for error, marked in ((True, "errors"), (False, "warnings")):
            if getattr(known, marked):
                self._mark(pc.is_in(indices, value_set=known.array(marked)), error)
        if self.wanted:
            positions = pc.indices_nonzero(rows)
            numbers, ids = self.numbers.take(positions).to_pylist(), self.ids
            for p, number, j in zip(positions.to_pylist(), numbers, indices.take(positions).to_pylist(), strict=True):
                for slug, fields in problems[j]:
                    self.events.append((p, Event(number, col, slug, ids[p] if ids else None, fields)))

    def per_row(self, col: int | None, slug: str, mask: pa.Array, fields: Callable[[list[int]], list[dict]]) -> None:
        """One issue ``slug`` on each row of ``mask``; ``fields(positions)`` gives their fields."""
        mask = pc.fill_null(mask, _FALSE)
        k = pc.sum(mask).as_py() or 0
        if not k:
            return
        self._count(col, slug, k)
        self._mark(mask, slug in ERRORS)
        if self.wanted:
            positions = pc.indices_nonzero(mask).to_pylist()
            numbers = self.numbers.take(pa.array(positions, pa.int64())).to_pylist()
            ids = self.ids
            for p, number, f in zip(positions, numbers, fields(positions), strict=True):
                self.events.append((p, Event(number, col, slug, ids[p] if ids else None, f)))

    def sorted_events(self) -> list[Event]:
        """By row, stable: each row's issues in the order of the checks."""
        self.events.sort(key=_position)
        return [event for _, event in self.events]

    def rows_with(self) -> tuple[int, int]:
        """(rows with an error, rows with a warning and no error)."""
        errors = pc.sum(self.error).as_py() or 0 if self.error is not None else 0
        if self.warning is None:
            return errors, 0
        warned = self.warning if self.error is None else pc.and_(self.warning, pc.invert(self.error))
        return errors, pc.sum(warned).as_py() or 0


def _position(item: tuple[int, Event]) -> int:
    return item[0]


class _Known:
    """A column's distinct values checked so far, each numbered: its problems (those of the checks that run)
    and, for dates and ages, the value read. The numbers of a batch's rows are found with one dict look-up per
    distinct value; what follows is Arrow's, over the numbers (``array``). Past CACHE_LIMIT values, a
    batch's new values are numbered for that batch alone (``settle``)."""

    def __init__(self, col: int, check: Callable[[str], Any], enabled: Callable[[tuple], tuple], parsed: bool):
        self.col, self.check, self.enabled, self.parsed = col, check, enabled, parsed
        self.number: dict[str, int] = {}
        self.problems: list[tuple] = []
        self.values: list = []
        self.bad: list[int] = []        # numbers with a problem; with an error; with a warning
        self.errors: list[int] = []
        self.warnings: list[int] = []
        self._arrays: dict[str, pa.Array] = {}

    def rows(self, column: pa.Array) -> pa.Array:
        """The number of each row's value."""
        encoded = pc.dictionary_encode(column)
        values = encoded.dictionary.to_pylist()
        numbers = list(map(self.number.get, values))
        if None in numbers:
            for i, number in enumerate(numbers):
                if number is None:
                    numbers[i] = self._add(values[i])
        return pa.array(numbers, pa.int32()).take(encoded.indices)

    def _add(self, value: str) -> int:
        number = len(self.problems)
        found = self.check(value)
        read, problems = found if self.parsed else (None, found)
        problems = self.enabled(problems)
        self.problems.append(problems)
        self.values.append(read)
        if problems:
            self.bad.append(number)
            if any(slug in ERRORS for slug, _ in problems):
                self.errors.append(number)
            if not all(slug in ERRORS for slug, _ in problems):
                self.warnings.append(number)
        if len(self.number) < CACHE_LIMIT:
            self.number[value] = number
        self._arrays = {}
        return number

    def array(self, name: str) -> pa.Array:
        """``bad``, ``errors``, ``warnings`` (numbers), ``read`` (the value read as a number, by number) or
        ``none`` (whether nothing was read), as Arrow arrays."""
        if name not in self._arrays:
            if name == "read":
                array = pa.array([v if type(v) is int else None for v in self.values], pa.int64())
            elif name == "none":
                array = pa.array([v is None for v in self.values], pa.bool_())
            else:
                array = pa.array(getattr(self, name), pa.int32())
            self._arrays[name] = array
        return self._arrays[name]

    def settle(self) -> None:
        """After a batch: forget the values numbered for it alone."""
        kept = len(self.number)
        if len(self.problems) > kept:
            del self.problems[kept:], self.values[kept:]
            for numbers in (self.bad, self.errors, self.warnings):
                while numbers and numbers[-1] >= kept:
                    numbers.pop()
            self._arrays = {}


class BatchChecker:
    """Checks batches of records (rows of the header's width, none blank) given as their checked columns."""

    def __init__(self, enabled: frozenset[str], taxonomy: Taxonomy, index: dict[str, int],
                 min_level: int | None, today: date | None, hash_id: Callable[[str], int] = hash):
        self.enabled = enabled
        self.every_check = enabled >= CHECKS.keys()
        self.taxonomy = taxonomy
        self.min_level = min_level
        self.today = today or date.today()
        self.id_col = index.get("id")
        self.ids = DuplicateIds(hash_id) if self.id_col is not None and "duplicate-id" in enabled else None
        self.match_col = index.get(MATCH_COLUMN)
        self.match_cache: dict[str, int] = {}
        self.cells: list[_Known] = []
        if "icvac_code" in index:
            self.cells.append(_Known(index["icvac_code"], self._code, self._enabled, False))
        for role in taxonomy.variable_roles:
            if role in index:
                self.cells.append(_Known(index[role], self._variable_check(role), self._enabled, False))
        self.incident_col, self.birth_col = index.get("incident_date"), index.get("victim_birth_date")
        self.dates = [_Known(col, self._date, self._enabled, True)
                      for col in (self.incident_col, self.birth_col) if col is not None]
        self.age_col = index.get("victim_age")
        self.age = _Known(self.age_col, _age, self._enabled, True) if self.age_col is not None else None
        self.checked = sorted({*(c.col for c in self.cells), *(c.col for c in self.dates),
                               *(col for col in (self.id_col, self.age_col, self.match_col) if col is not None)})
        self.review_acts = 0

    def check(self, columns: dict[int, pa.Array], numbers: pa.Array, wanted: bool) -> Found:
        """The issues of the records whose checked columns are ``columns``, numbered ``numbers``."""
        n = len(numbers)
        trimmed = pc.utf8_trim(columns[self.id_col], PY_SPACE) if self.id_col is not None else None
        found = Found(wanted, n, numbers, trimmed)
        if self.match_col is not None:
            counts = pc.value_counts(columns[self.match_col])
            for value, k in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True):
                self.review_acts += k * _looked_up(self.match_cache, [value], _review_acts)[0]
        if trimmed is not None:
            self._ids(found, trimmed, numbers)
        for known in self.cells:
            found.per_value(known.col, known.rows(columns[known.col]), known)
        days = []
        for known in self.dates:
            rows = known.rows(columns[known.col])
            found.per_value(known.col, rows, known)
            days.append(known.array("read").take(rows))
        ages = None
        if self.age is not None and self.age_col is not None:
            rows = self.age.rows(columns[self.age_col])
            found.per_value(self.age_col, rows, self.age)
            ages = self.age.array("none").take(rows), self.age.array("read").take(rows)
        if len(days) == 2:
            self._compare_dates(found, days[0], days[1], ages)
        for known in (*self.cells, *self.dates, *([self.age] if self.age is not None else [])):
            known.settle()
        return found

    def _enabled(self, problems: tuple) -> tuple:
        """A value's problems, those of the checks that run."""
        if self.every_check:
            return problems
        return tuple(p for p in problems if p[0] in self.enabled)

    def _ids(self, found: Found, trimmed: pa.Array, numbers: pa.Array) -> None:
        """duplicate-id (first of a row's issues) and missing-id."""
        present = pc.greater(pc.binary_length(trimmed), _ZERO)
        complete = pc.all(present).as_py()
        if self.ids is not None:
            at = None if complete else pc.indices_nonzero(present)
            repeats = self.ids.add(trimmed if at is None else trimmed.filter(present),
                                   numbers if at is None else numbers.filter(present))
            if repeats.positions:
                positions = pa.array(repeats.positions, pa.int64())
                if at is not None:
                    positions = at.take(positions)
                first = dict(zip(positions.to_pylist(), repeats.first_rows, strict=True))
                mask = pc.is_in(pa.array(range(found.n), pa.int64()), value_set=positions)
                found.per_row(self.id_col, "duplicate-id", mask, lambda ps: [{"first": first[p]} for p in ps])
        if not complete and "missing-id" in self.enabled:
            found.per_row(self.id_col, "missing-id", pc.invert(present), lambda ps: [{}] * len(ps))

    def _compare_dates(self, found: Found, incident: pa.Array, birth: pa.Array, ages) -> None:
        """A record's birth and incident dates (``YYYYMMDD`` numbers) with each other and its age."""
        both = pc.and_(pc.is_valid(incident), pc.is_valid(birth))
        if not pc.any(both).as_py():
            return
        after = pc.and_(both, pc.greater(birth, incident))
        rest = pc.and_(both, pc.invert(pc.fill_null(after, _FALSE)))
        # completed years, as icvac.ages.completed_years counts them: the month and day decide the last
        expected = pc.divide(pc.subtract(incident, birth), _YEAR)
        if ages is None:
            none, age = pa.array([True] * found.n, pa.bool_()), pa.nulls(found.n, pa.int64())
        else:
            none, age = ages
        lists = {}

        def values(array: pa.Array, positions: list[int]) -> list:
            return array.take(pa.array(positions, pa.int64())).to_pylist()

        def dates(positions: list[int]) -> tuple[list, list]:
            key = tuple(positions)
            if key not in lists:
                lists[key] = values(birth, positions), values(incident, positions)
            return lists[key]

        if "birth-after-incident" in self.enabled:
            found.per_row(self.birth_col, "birth-after-incident", after, lambda ps: [
                {"birth": _iso(b), "incident": _iso(i)} for b, i in zip(*dates(ps), strict=True)])
        if "age-out-of-range" in self.enabled:
            out = pc.and_(pc.and_(rest, none), pc.greater(expected, _ADULT))
            found.per_row(self.birth_col, "age-out-of-range", out,
                          lambda ps: [{"age": e} for e in values(expected, ps)])
        if "age-inconsistent" in self.enabled and ages is not None:
            odd = pc.and_(pc.and_(rest, pc.less_equal(age, _ADULT)), pc.not_equal(age, expected))
            found.per_row(self.age_col, "age-inconsistent", odd, lambda ps: [
                {"age": a, "birth": _iso(b), "incident": _iso(i), "expected": e}
                for a, b, i, e in zip(values(age, ps), *dates(ps), values(expected, ps), strict=True)])

    # -- cell checks: value -> problems or (parsed, problems); each cached per distinct value

    def _code(self, value: str) -> tuple:
        codes = split_codes(value)
        if not codes:
            return (("missing-code", {}),)
        problems = [p for p in map(self._one_code, codes) if p is not None]
        if any(is_unclassified(code) for code in codes):
            problems.append(("unclassified-code", {}))
        if not any(slug == "unknown-code" for slug, _ in problems) and "".join(value.split()) != value:
            problems.insert(0, ("noncanonical-value", {"value": _shown(value), "code": "".join(value.split())}))
        return tuple(problems)

    def _one_code(self, code: str) -> tuple | None:
        if is_unclassified(code):
            return None
        category = self.taxonomy.categories.get(code)
        if category is None:
            hint = ""
            if code.isdigit() and "0" + code in self.taxonomy.categories:
                hint = f" (did a spreadsheet drop its leading zero? {'0' + code!r} is a code)"
            return ("unknown-code", {"value": _shown(code), "taxonomy": self.taxonomy.id, "hint": hint})
        if self.min_level is not None and category.level < self.min_level:
            return ("code-too-coarse", {"value": code, "level": category.level, "min_level": self.min_level})
        return None

    def _variable_check(self, role: str) -> Callable[[str], tuple]:
        variable = self.taxonomy.variables[role]
        exact = frozenset(variable.codes)
        allowed = ", ".join(variable.codes)

        def check(value: str) -> tuple:
            if value in exact:
                return ()
            if not value.strip():
                return (("missing-value", {"variable": role}),)
            code = variable.lookup(value)
            if code is not None:
                return (("noncanonical-value", {"value": _shown(value), "code": code}),)
            return (("invalid-value", {"value": _shown(value.strip()), "variable": role, "allowed": allowed}),)

        return check

    def _date(self, value: str) -> tuple:
        """(the date as a ``YYYYMMDD`` number, or None when there is none to compare, problems)."""
        day = parse_date(value)
        if day is BAD:
            return None, (("invalid-date", {"value": _shown(value.strip())}),)
        if day is None:
            return None, ()
        if day > self.today:
            # a future date is wrong, so comparing it with the other date would only add noise
            return None, (("future-date", {"value": day.isoformat(), "today": self.today.isoformat()}),)
        return day.year * 10000 + day.month * 100 + day.day, ()


def _age(value: str) -> tuple:
    age = parse_age(value)
    if age is BAD:
        return BAD, (("age-not-a-number", {"value": _shown(value.strip())}),)
    if age is not None and age > 17:
        return age, (("age-out-of-range", {"age": age}),)
    return age, ()


def _review_acts(cell: str) -> int:
    """The acts of an ``icvac_match`` cell coded from a draft entry awaiting review."""
    return cell.split(JOIN).count("review")


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_LENGTH else value[:SHOWN_LENGTH - 1] + "…"


def _iso(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _looked_up(cache: dict, values: list[str], check: Callable[[str], Any]) -> list:
    """``check(value)`` for each of ``values``, from ``cache`` where it holds the value."""
    found = list(map(cache.get, values))
    if None in found:  # values not seen before, or not cached (the cache is full)
        for i, hit in enumerate(found):
            if hit is None:
                hit = found[i] = check(values[i])
                if len(cache) < CACHE_LIMIT:
                    cache[values[i]] = hit
    return found

