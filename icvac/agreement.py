"""Agreement statistics for nominal codings: percent agreement, Cohen's kappa, Fleiss' kappa,
Krippendorff's alpha, with 95% confidence intervals. No dependency on the CLI or on the taxonomy.

A *unit* (a record) is a sequence of codings, one per coder, ``None`` where a coder gave none.
Every statistic here depends only on how many units show each pattern of values, so they are
computed from a ``Counter`` of patterns: a million records with a few hundred patterns cost a few
hundred steps, and the bootstrap resamples pattern counts (one multinomial draw per replicate)
rather than records.

Intervals: Wilson's score interval for a proportion of agreeing pairs of codings; the large-sample
variance of Fleiss, Cohen and Everitt (1969) for Cohen's kappa; a seeded percentile bootstrap over
units for Fleiss' kappa, Krippendorff's alpha and multi-coder agreement (no closed form is in general
use for them; Krippendorff's own is a bootstrap). Same data and seed, same interval.

A statistic that is not defined for the data (one category only, no unit with two codings) raises
``DegenerateData`` with a sentence saying why, never a ``ZeroDivisionError``.
"""
from __future__ import annotations

import functools
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable, Iterable, Mapping, Sequence

from .errors import ExitCode, IcvacError

if TYPE_CHECKING:
    # a coding in a unit: a pattern is its codings sorted, so they must compare (codes are strings)
    from _typeshed import SupportsRichComparison as Value

__all__ = ["Estimate", "DegenerateData", "percent_agreement", "cohen_kappa", "fleiss_kappa",
           "krippendorff_alpha", "unit_patterns", "pair_patterns", "agreement_from_patterns",
           "cohen_from_pairs", "fleiss_from_patterns", "alpha_from_patterns", "bootstrap_interval",
           "wilson_interval", "percent_agreement_of", "cohen_of", "fleiss_of", "alpha_of", "Z95",
           "BOOTSTRAP_REPLICATES"]

Z95 = 1.959963984540054
BOOTSTRAP_REPLICATES = 1000

Pattern = tuple  # a unit's codings, sorted, missing ones left out


class DegenerateData(IcvacError):
    """A statistic is not defined for these codings; the message says why."""

    exit_code = ExitCode.DATA_INVALID


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95% interval. ``value`` is None when undefined, and ``note`` says why."""

    value: float | None
    low: float | None = None
    high: float | None = None
    method: str = ""     # how the interval was made: wilson, fleiss-cohen-everitt-1969, bootstrap-N
    n: int = 0           # units the statistic is computed on
    note: str = ""

    def to_dict(self) -> dict:
        return {"value": _round(self.value), "ci_low": _round(self.low), "ci_high": _round(self.high),
                "ci_method": self.method or None, "n": self.n, "note": self.note or None}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


# ---- patterns ----

def unit_patterns(units: Iterable[Sequence[Value | None]]) -> Counter:
    """``[("a", "b", None), …]`` -> Counter of sorted non-missing values per unit (order of coders dropped)."""
    out: Counter = Counter()
    for unit in units:
        out[tuple(sorted(v for v in unit if v is not None))] += 1
    return out


def pair_patterns(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> Counter:
    """Two coders' codings of the same units -> Counter of ``(a, b)`` pairs where both coded."""
    if len(a) != len(b):
        raise IcvacError(f"the two codings have {len(a)} and {len(b)} units; give one coding per unit to each")
    return Counter((x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None)


# ---- the statistics, from patterns ----

@functools.lru_cache(maxsize=1 << 16)
def _summary(pattern: Pattern) -> tuple[int, int, tuple[tuple[Hashable, int], ...]]:
    """A pattern's size, its agreeing ordered pairs and its count per value: once per pattern, not per
    bootstrap replicate."""
    per = Counter(pattern)
    return len(pattern), sum(c * (c - 1) for c in per.values()), tuple(per.items())


def agreement_from_patterns(patterns: Mapping[Pattern, int]) -> float:
    """Mean over units with two codings or more of the share of pairs of codings that agree."""
    total = units = 0.0
    for pattern, count in patterns.items():
        m, same, _ = _summary(pattern)
        if m < 2:
            continue
        total += count * same / (m * (m - 1))
        units += count
    if not units:
        raise DegenerateData("no record has two codings: nothing to compare")
    return total / units


def cohen_from_pairs(pairs: Mapping[tuple, int]) -> tuple[float, float]:
    """Cohen's kappa and its large-sample standard error (Fleiss, Cohen and Everitt 1969)."""
    n = sum(pairs.values())
    if not n:
        raise DegenerateData("no record is coded by both coders: kappa is undefined")
    rows: Counter = Counter()
    cols: Counter = Counter()
    for (x, y), c in pairs.items():
        rows[x] += c
        cols[y] += c
    po = sum(c for (x, y), c in pairs.items() if x == y) / n
    pe = sum(rows[k] * cols[k] for k in rows) / (n * n)
    if pe >= 1.0:
        raise DegenerateData("both coders used one and the same category for every record: kappa is undefined "
                             "(agreement is 100%, but there is no variation to agree on)")
    kappa = (po - pe) / (1 - pe)
    a = sum(c / n * (1 - (rows[x] + cols[x]) / n * (1 - kappa)) ** 2 for (x, y), c in pairs.items() if x == y)
    b = (1 - kappa) ** 2 * sum(c / n * ((cols[x] + rows[y]) / n) ** 2 for (x, y), c in pairs.items() if x != y)
    var = (a + b - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    return kappa, math.sqrt(max(var, 0.0))


def fleiss_from_patterns(patterns: Mapping[Pattern, int]) -> float:
    """Fleiss' kappa; every unit must carry the same number (2 or more) of codings."""
    sizes = {len(p) for p, c in patterns.items() if c}
    if not sizes:
        raise DegenerateData("no record to compare: Fleiss' kappa is undefined")
    if len(sizes) > 1:
        raise DegenerateData("Fleiss' kappa needs the same number of codings for every record; "
                             f"found {', '.join(map(str, sorted(sizes)))}")
    m = sizes.pop()
    if m < 2:
        raise DegenerateData("no record has two codings: Fleiss' kappa is undefined")
    units = sum(patterns.values())
    agree = 0.0
    totals: Counter = Counter()
    for pattern, count in patterns.items():
        _, same, per = _summary(pattern)
        agree += count * same
        for value, c in per:
            totals[value] += count * c
    p_bar = agree / (units * m * (m - 1))
    pe = sum((t / (units * m)) ** 2 for t in totals.values())
    if pe >= 1.0:
        raise DegenerateData("every coding is the same category: Fleiss' kappa is undefined "
                             "(agreement is 100%, but there is no variation to agree on)")
    return (p_bar - pe) / (1 - pe)


def alpha_from_patterns(patterns: Mapping[Pattern, int]) -> float:
    """Krippendorff's alpha for nominal data; units with fewer than two codings are not pairable and left out."""
    n = 0           # pairable values
    same = 0.0      # the diagonal of the coincidence matrix
    values: Counter = Counter()
    for pattern, count in patterns.items():
        m, agreeing, per = _summary(pattern)
        if m < 2:
            continue
        n += count * m
        same += count * agreeing / (m - 1)
        for value, c in per:
            values[value] += count * c
    if n == 0:
        raise DegenerateData("no record has two codings: Krippendorff's alpha is undefined")
    expected = n * n - sum(v * v for v in values.values())
    if expected <= 0:
        raise DegenerateData("every coding is the same category: Krippendorff's alpha is undefined "
                             "(agreement is 100%, but there is no variation to agree on)")
    return 1.0 - (n - 1) * (n - same) / expected


# ---- intervals ----

def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        raise DegenerateData("no record to compare")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(patterns: Mapping[Hashable, int], statistic: Callable[[dict], float], *,
                       replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> tuple[float, float] | None:
    """Percentile 95% interval of ``statistic`` over ``replicates`` resamples of the units, seeded.

    A resample for which the statistic is undefined (all units in one category) is left out; None when
    more than half are.
    """
    keys = sorted((k for k, c in patterns.items() if c), key=repr)  # a fixed order: same seed, same draws
    counts = [patterns[k] for k in keys]
    n = sum(counts)
    rng = random.Random(seed)
    results = []
    for _ in range(replicates):
        draw = _multinomial(rng, n, counts)
        try:
            results.append(statistic({k: c for k, c in zip(keys, draw, strict=True) if c}))
        except DegenerateData:
            continue
    if not results or len(results) * 2 < replicates:
        return None
    results.sort()
    return _quantile(results, 0.025), _quantile(results, 0.975)


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _multinomial(rng: random.Random, n: int, counts: list[int]) -> list[int]:
    """A draw of ``n`` units with the observed shares: a binomial per pattern, given the ones before."""
    out = []
    left = n
    weight = sum(counts)
    for count in counts:
        if left == 0:
            out.append(0)
            continue
        x = left if count >= weight else _binomial(rng, left, count / weight)
        out.append(x)
        left -= x
        weight -= count
    return out


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial(n, p) draw: inversion for a small mean, else Hormann's (1993) BTRS rejection."""
    if p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - _binomial(rng, n, 1.0 - p)
    if n * p < 10.0:
        # inversion: walk the probabilities up from 0 (about n*p steps of plain arithmetic)
        ratio = p / (1.0 - p)
        f = math.exp(n * math.log1p(-p))
        u = rng.random()
        k = 0
        while u > f and k < n:
            u -= f
            k += 1
            f *= ratio * (n - k + 1) / k
        return k
    spq = math.sqrt(n * p * (1.0 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    h = None  # the log-probability at the mode, needed only past the quick acceptance (1 draw in 7 or so)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        if h is None:
            lpq = math.log(p / (1.0 - p))
            m = math.floor((n + 1) * p)
            h = math.lgamma(m + 1) + math.lgamma(n - m + 1)
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (k - m) * lpq:
            return k


# ---- the public functions, on codings ----

def _estimate(compute: Callable[[], Estimate]) -> Estimate:
    try:
        return compute()
    except DegenerateData as exc:
        return Estimate(None, note=str(exc))


def percent_agreement_of(patterns: Mapping[Pattern, int], *, replicates: int = BOOTSTRAP_REPLICATES,
                         seed: int = 0) -> Estimate:
    """Percent agreement (as a share) of unit patterns; Wilson interval when every unit has two codings."""
    def compute() -> Estimate:
        value = agreement_from_patterns(patterns)
        units = sum(c for p, c in patterns.items() if len(p) >= 2)
        if all(len(p) == 2 for p, c in patterns.items() if c and len(p) >= 2):
            agreeing = sum(c for p, c in patterns.items() if len(p) == 2 and p[0] == p[1])
            low, high = wilson_interval(agreeing, units)
            return Estimate(value, low, high, "wilson", units)
        return _with_bootstrap(value, patterns, agreement_from_patterns, replicates, seed, units)
    return _estimate(compute)


def cohen_of(pairs: Mapping[tuple, int]) -> Estimate:
    def compute() -> Estimate:
        kappa, se = cohen_from_pairs(pairs)
        return Estimate(kappa, max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se),
                        "fleiss-cohen-everitt-1969", sum(pairs.values()))
    return _estimate(compute)


def fleiss_of(patterns: Mapping[Pattern, int], *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> Estimate:
    return _estimate(lambda: _with_bootstrap(fleiss_from_patterns(patterns), patterns, fleiss_from_patterns,
                                             replicates, seed, sum(patterns.values())))


def alpha_of(patterns: Mapping[Pattern, int], *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> Estimate:
    pairable = {p: c for p, c in patterns.items() if len(p) >= 2}
    return _estimate(lambda: _with_bootstrap(alpha_from_patterns(pairable), pairable, alpha_from_patterns,
                                             replicates, seed, sum(pairable.values())))


def _with_bootstrap(value: float, patterns, statistic, replicates: int, seed: int, n: int) -> Estimate:
    if replicates <= 0:
        return Estimate(value, n=n)
    interval = bootstrap_interval(patterns, statistic, replicates=replicates, seed=seed)
    if interval is None:
        return Estimate(value, n=n, method=f"bootstrap-{replicates}",
                        note="no interval: most resamples fall in one category")
    return Estimate(value, interval[0], interval[1], f"bootstrap-{replicates}", n)


def percent_agreement(units: Iterable[Sequence[Value | None]], *, replicates: int = BOOTSTRAP_REPLICATES,
                      seed: int = 0) -> Estimate:
    """Share of agreeing pairs of codings, averaged over units with two codings or more."""
    return percent_agreement_of(unit_patterns(units), replicates=replicates, seed=seed)


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> Estimate:
    """Cohen's kappa of two coders over the units both coded, with the Fleiss-Cohen-Everitt interval."""
    return cohen_of(pair_patterns(a, b))


def fleiss_kappa(units: Iterable[Sequence[Value | None]], *, replicates: int = BOOTSTRAP_REPLICATES,
                 seed: int = 0) -> Estimate:
    """Fleiss' kappa over units that all carry the same number of codings, with a bootstrap interval."""
    return fleiss_of(unit_patterns(units), replicates=replicates, seed=seed)


def krippendorff_alpha(units: Iterable[Sequence[Value | None]], *, replicates: int = BOOTSTRAP_REPLICATES,
                       seed: int = 0) -> Estimate:
    """Krippendorff's alpha (nominal), missing codings allowed, with a bootstrap interval."""
    return alpha_of(unit_patterns(units), replicates=replicates, seed=seed)
