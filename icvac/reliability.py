"""How good is the coding: agreement between codings of the same records (``agree``), and accuracy
of one coding against a reference (``evaluate``).

Both read their files through :func:`icvac.joining.join_codings` and count, per record, only the
pattern of code cells it shows: the statistics are then computed from a few hundred patterns, not
from a million records, and memory stays flat. Records that disagree are passed to ``on_record``
one at a time as they are met (the CLI writes them to the disagreement CSV), and the first
``max_listed`` are kept in the report.

Rules (the README and ``--help`` say the same):

* a cell's codes are rolled up to each level (``taxonomy.ancestor_at``: a code coarser than the
  level stays itself); several acts form one value, the set of their categories, so multi-act
  records agree at a level when the sets are equal (exact-set agreement); the per-act agreement is
  sum |A and B| / sum |A or B| over pairs of codings;
* a blank cell is no coding (Krippendorff's alpha allows it; kappa leaves the record out); in
  ``evaluate`` a blank coded cell is ``unclassified``; ``unclassified`` and ``invalid`` (any value
  not a code of the taxonomy) are categories of their own;
* a record in some files only is counted and listed (``unmatched``), never dropped.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from itertools import combinations
from typing import Callable, Mapping, Sequence

from .agreement import Estimate, alpha_of, cohen_of, fleiss_of, percent_agreement_of, wilson_interval
from .codes import UNCLASSIFIED
from .errors import UsageError
from .joining import JOIN, CodeLevels, Coding, JoinStats, Tally, join_codings
from .readers import ReadOptions
from .reliability_model import (
    AgreementReport,
    CategoryScore,
    EvaluationReport,
    LevelAccuracy,
    LevelAgreement,
    Listed,
    Matrix,
    MethodAccuracy,
    rounded,
)
from .taxonomy import Taxonomy

__all__ = ["AgreementReport", "EvaluationReport", "LevelAgreement", "LevelAccuracy", "Matrix", "Listed",
           "CategoryScore", "MethodAccuracy", "agree", "evaluate", "MAX_LISTED", "STATUSES", "NOT_IN_FILE"]

MAX_LISTED = 20
NOT_IN_FILE = "(not in file)"
STATUSES = ("disagree", "missing-coding", "unmatched", "wrong", "no-gold")
OnRecord = Callable[["Listed"], None]


def _check_level(levels: CodeLevels, level: int) -> None:
    if not 1 <= level <= levels.depth:
        raise UsageError(f"--level {level}: the taxonomy has levels 1 to {levels.depth}")


# ---- agree ----

def agree(paths: Sequence[str], taxonomy: Taxonomy, *, id_column: str, code_column: str = "icvac_code",
          level: int = 1, read_options: ReadOptions = ReadOptions(), max_listed: int = MAX_LISTED,
          replicates: int = 1000, seed: int = 0, on_record: OnRecord | None = None,
          jobs: int | None = None) -> AgreementReport:
    """Agreement between two or more codings of the same records, joined on ``id_column``."""
    levels = CodeLevels(taxonomy)
    _check_level(levels, level)
    stats, raw, counts, listed = _collect([Coding(p, code_column) for p in paths], id_column, read_options, jobs,
                                          levels, _agree_status, max_listed, on_record,
                                          ("disagree", "missing-coding", "unmatched"))
    patterns: Counter = Counter()
    for (cells, _), count in raw.items():
        patterns[cells] += count
    k = len(paths)
    by_level: list[Counter] = [Counter() for _ in range(levels.depth)]
    for cells, count in patterns.items():
        values = [levels.values(c) for c in cells]
        for i in range(levels.depth):
            by_level[i][tuple(v[i] for v in values)] += count
    rows: list[LevelAgreement] = []
    for i, units in enumerate(by_level):
        if i and _distinct_values(units) == _distinct_values(by_level[i - 1]):
            # no code finer than the level above is in use: the same statistics, the bootstrap not run again
            rows.append(replace(rows[-1], level=i + 1))
        else:
            rows.append(_level_agreement(i + 1, units, k, replicates, seed))
    shown = sorted({1, level})
    matrices = [_agree_matrix(lv, by_level[lv - 1], k, levels) for lv in shown]
    report = AgreementReport(_taxonomy_name(taxonomy), stats, rows, matrices,
                             _most_disagreement(by_level[level - 1], levels), _multi_act(patterns, levels),
                             counts, listed)
    report.warnings = _warnings(stats, rows[0].compared)
    return report


def _distinct_values(units: Mapping[tuple, int]) -> int:
    """Values in use at a level. A level's values are a function of the next level's: as many values
    means the function is one to one on them, and every statistic is the same at both levels."""
    return len({v for unit in units for v in unit if v is not None})


def _agree_status(cells, values, levels: CodeLevels) -> Listed | None:
    if any(c is None for c in cells):
        return Listed("", "unmatched", None, _shown(cells, values))
    coded = [v for v in values if v[0] is not None]
    if len(coded) < 2:
        return Listed("", "missing-coding", None, _shown(cells, values))
    for i in range(levels.depth):
        if len({v[i] for v in coded}) > 1:
            return Listed("", "disagree", i + 1, _shown(cells, values))
    return None


def _shown(cells, values) -> tuple[str, ...]:
    return tuple(NOT_IN_FILE if c is None else (v[-1] or "") for c, v in zip(cells, values, strict=True))


def _collect(codings: list[Coding], id_column: str, read_options: ReadOptions, jobs: int | None, levels: CodeLevels,
             status: Callable, max_listed: int, on_record: OnRecord | None, shown: Sequence[str]):
    """Join the codings and count the records by ``(cells, method)``; list (and pass on) the ones ``status``
    flags, deciding once per distinct cells."""
    verdicts: dict = {}

    def flag(cells) -> bool:
        verdict = verdicts[cells] = status(cells, [levels.values(c) for c in cells], levels)
        return verdict is not None

    tally = Tally(flag)
    stats, records = join_codings(codings, id_column, read_options, jobs, tally)
    counts: Counter = Counter()
    listed: list[Listed] = []
    for rid, cells, _ in records:
        verdict = verdicts[cells]
        counts[verdict.status] += 1
        item = Listed(rid, verdict.status, verdict.level, verdict.codes)
        if len(listed) < max_listed:
            listed.append(item)
        if on_record is not None:
            on_record(item)
    return stats, tally.counts, {s: counts[s] for s in shown}, listed


def _level_agreement(level: int, units: Mapping[tuple, int], k: int, replicates: int, seed: int) -> LevelAgreement:
    patterns: Counter = Counter()
    pairs: Counter = Counter()
    complete: Counter = Counter()
    inter = union = 0
    for unit, count in units.items():
        present = [v for v in unit if v is not None]
        patterns[tuple(sorted(present))] += count
        if k == 2 and len(present) == 2:
            pairs[unit] += count
        if len(present) == k:
            complete[tuple(sorted(present))] += count
        for a, b in combinations(present, 2):
            sa, sb = set(a.split(JOIN)), set(b.split(JOIN))
            inter += count * len(sa & sb)
            union += count * len(sa | sb)
    compared = sum(c for p, c in patterns.items() if len(p) >= 2)
    percent = percent_agreement_of(patterns, replicates=replicates, seed=seed)
    if k == 2:
        kappa, kind = cohen_of(pairs), "cohen"
    else:
        kappa, kind = fleiss_of(complete, replicates=replicates, seed=seed), "fleiss"
    alpha = alpha_of(patterns, replicates=replicates, seed=seed)
    return LevelAgreement(level, compared, percent, kappa, kind, alpha, inter / union if union else None)


def _agree_matrix(level: int, units: Mapping[tuple, int], k: int, levels: CodeLevels) -> Matrix:
    cells: defaultdict[tuple, float] = defaultdict(int)  # whole counts stay int; coincidences add fractions
    for unit, count in units.items():
        present = [v for v in unit if v is not None]
        if k == 2:
            if len(present) == 2:
                cells[unit] += count
            continue
        m = len(present)
        for i, a in enumerate(present):
            for j, b in enumerate(present):
                if i != j:
                    cells[a, b] += count / (m - 1)
    return _matrix(level, "A x B" if k == 2 else "coincidence", cells, levels)


def _matrix(level: int, kind: str, cells: Mapping[tuple, float], levels: CodeLevels) -> Matrix:
    categories = sorted({v for pair in cells for v in pair}, key=levels.sort_key)
    counts = tuple(tuple(cells.get((a, b), 0) for b in categories) for a in categories)
    return Matrix(level, kind, tuple(categories), counts)


def _most_disagreement(units: Mapping[tuple, int], levels: CodeLevels, top: int = 5) -> list[dict]:
    involved: Counter = Counter()
    disagreeing: Counter = Counter()
    for unit, count in units.items():
        present = {v for v in unit if v is not None}
        if sum(v is not None for v in unit) < 2:
            continue
        for value in present:
            involved[value] += count
            if len(present) > 1:
                disagreeing[value] += count
    ranked = sorted((v for v in disagreeing if disagreeing[v]),
                    key=lambda v: (-disagreeing[v], -disagreeing[v] / involved[v], levels.sort_key(v)))
    return [{"category": v, "title": levels.title(v), "records": involved[v], "disagreeing": disagreeing[v],
             "rate": round(disagreeing[v] / involved[v], 6)} for v in ranked[:top]]


def _multi_act(patterns: Mapping[tuple, int], levels: CodeLevels) -> dict:
    records = same = inter = union = 0
    for cells, count in patterns.items():
        if not any(levels.act_count(c) > 1 for c in cells):
            continue
        records += count
        finest = [levels.values(c)[-1] for c in cells]
        present = [v for v in finest if v is not None]
        if len(present) < 2:
            continue
        same += count * (len(set(present)) == 1)
        for a, b in combinations(present, 2):
            sa, sb = set(a.split(JOIN)), set(b.split(JOIN))
            inter += count * len(sa & sb)
            union += count * len(sa | sb)
    compared = sum(c for cells, c in patterns.items() if any(levels.act_count(x) > 1 for x in cells)
                   and sum(levels.values(x)[-1] is not None for x in cells) >= 2)
    return {"records": records, "compared": compared,
            "exact_set_agreement": rounded(same / compared) if compared else None,
            "per_act_agreement": rounded(inter / union) if union else None}


def _warnings(stats: JoinStats, compared: int) -> list[str]:
    out = []
    for name, blank, repeated in zip(stats.files, stats.blank_ids, stats.repeated_ids, strict=True):
        if blank:
            out.append(f"{name}: {blank} row(s) without an id were left out of the comparison")
        if repeated:
            out.append(f"{name}: {repeated} row(s) repeat an id still waiting for its match; the repeats were "
                       "left out")
    unmatched = stats.records - stats.in_every_file
    if unmatched:
        out.append(f"{unmatched} record(s) are not in every file (see 'unmatched')")
    if stats.records and not compared:
        out.append("no record has two codings: nothing could be compared")
    return out


def _taxonomy_name(taxonomy: Taxonomy) -> str:
    return f"{taxonomy.id} {taxonomy.version} ({taxonomy.status})"


# ---- evaluate ----

def evaluate(coded: str, gold: str, taxonomy: Taxonomy, *, id_column: str, code_column: str = "icvac_code",
             gold_column: str | None = None, method_column: str = "icvac_match", level: int = 1,
             read_options: ReadOptions = ReadOptions(), max_listed: int = MAX_LISTED,
             on_record: OnRecord | None = None, jobs: int | None = None) -> EvaluationReport:
    """Accuracy of the coding in ``coded`` against the reference coding in ``gold``, joined on ``id_column``."""
    levels = CodeLevels(taxonomy)
    _check_level(levels, level)
    codings = [Coding(coded, code_column, method_column), Coding(gold, gold_column or code_column)]
    stats, raw, counts, listed = _collect(codings, id_column, read_options, jobs, levels, _evaluate_status,
                                          max_listed, on_record, ("wrong", "no-gold", "unmatched"))
    patterns: Counter = Counter()
    for (cells, method), count in raw.items():
        patterns[cells + (_method(method),)] += count
    per_level = [_level_accuracy(i + 1, patterns, levels) for i in range(levels.depth)]
    report = EvaluationReport(_taxonomy_name(taxonomy), stats, level, _coverage(patterns, levels),
                              per_level, _by_method(patterns, levels), _categories(patterns, levels, level),
                              _gold_matrix(patterns, levels, level), counts, listed)
    report.warnings = _warnings(stats, per_level[0].compared)
    return report


def _method(raw: str | None) -> str:
    if raw is None:
        return "(no match column)"
    methods = sorted({m.strip() for m in raw.split(JOIN) if m.strip()})
    return "+".join(methods) if methods else "(blank)"


def _evaluate_status(cells, values, levels: CodeLevels) -> Listed | None:
    coded, gold = cells
    if coded is None or gold is None:
        return Listed("", "unmatched", None, _shown(cells, values))
    if values[1][0] is None:
        return Listed("", "no-gold", None, _shown(cells, values))
    for i in range(levels.depth):
        if _coded_value(values[0], i) != values[1][i]:
            return Listed("", "wrong", i + 1, _shown(cells, values))
    return None


def _coded_value(values: tuple, i: int) -> str:
    return values[i] if values[i] is not None else UNCLASSIFIED  # a blank coded cell: not coded


def _judged(patterns: Mapping[tuple, int], levels: CodeLevels):
    """(coded value at each level, gold value at each level, method, count) for records with a gold coding."""
    for (coded, gold, method), count in patterns.items():
        if coded is None or gold is None:
            continue
        g = levels.values(gold)
        if g[0] is None:
            continue
        c = levels.values(coded)
        yield tuple(_coded_value(c, i) for i in range(levels.depth)), g, method, count


def _is_coded(value: str) -> bool:
    return value != UNCLASSIFIED


def _level_accuracy(level: int, patterns, levels: CodeLevels) -> LevelAccuracy:
    i = level - 1
    n = right = n_coded = right_coded = inter = union = 0
    pairs: Counter = Counter()
    for c, g, _, count in _judged(patterns, levels):
        ok = c[i] == g[i]
        n += count
        right += count * ok
        if _is_coded(c[i]):
            n_coded += count
            right_coded += count * ok
        pairs[c[i], g[i]] += count
        sc, sg = set(c[i].split(JOIN)), set(g[i].split(JOIN))
        inter += count * len(sc & sg)
        union += count * len(sc | sg)
    return LevelAccuracy(level, n, _proportion(right, n), _proportion(right_coded, n_coded), cohen_of(pairs),
                         inter / union if union else None)


def _proportion(successes: int, n: int) -> Estimate:
    if not n:
        return Estimate(None, note="no record to compare")
    low, high = wilson_interval(successes, n)
    return Estimate(successes / n, low, high, "wilson", n)


def _coverage(patterns, levels: CodeLevels) -> dict:
    records = coded = 0
    for (cell, _, _), count in patterns.items():
        if cell is None:
            continue
        records += count
        value = levels.values(cell)[0]
        coded += count * (value is not None and _is_coded(value))
    return {"records": records, "coded": coded, "unclassified": records - coded,
            "share": rounded(coded / records) if records else None}


def _by_method(patterns, levels: CodeLevels) -> list[MethodAccuracy]:
    n: Counter = Counter()
    right: Counter = Counter()
    for c, g, method, count in _judged(patterns, levels):
        n[method] += count
        for i in range(levels.depth):
            right[method, i] += count * (c[i] == g[i])
    return [MethodAccuracy(m, n[m], tuple(_proportion(right[m, i], n[m]) for i in range(levels.depth)))
            for m in sorted(n, key=lambda m: (-n[m], m))]


def _categories(patterns, levels: CodeLevels, level: int) -> list[CategoryScore]:
    i = level - 1
    gold: Counter = Counter()
    coded: Counter = Counter()
    correct: Counter = Counter()
    for c, g, _, count in _judged(patterns, levels):
        sc, sg = set(c[i].split(JOIN)), set(g[i].split(JOIN))
        for v in sc:
            coded[v] += count
        for v in sg:
            gold[v] += count
        for v in sc & sg:
            correct[v] += count
    found = sorted(set(gold) | set(coded), key=levels.sort_key)
    return [CategoryScore(v, levels.title(v), gold[v], coded[v], correct[v]) for v in found]


def _gold_matrix(patterns, levels: CodeLevels, level: int) -> Matrix:
    cells: Counter = Counter()
    for c, g, _, count in _judged(patterns, levels):
        cells[g[level - 1], c[level - 1]] += count
    return _matrix(level, "gold x coded", cells, levels)

