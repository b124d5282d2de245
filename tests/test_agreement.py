"""Issue 18: the agreement statistics, against published worked examples, against a plain
implementation of their textbook formulas on generated codings, and on degenerate data."""
from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac.agreement import (DegenerateData, Estimate, alpha_from_patterns, bootstrap_interval, cohen_from_pairs,
                             cohen_kappa, fleiss_kappa, krippendorff_alpha, pair_patterns, percent_agreement,
                             unit_patterns, _binomial)

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression, 2 personality
# disorder, 3 schizophrenia, 4 neurosis, 5 other). Published: P-bar 0.556, P-bar-e 0.220, kappa 0.430.
FLEISS_1971 = [(4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5), (2, 2, 2, 4, 4, 4),
               (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4), (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5),
               (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4), (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5),
               (3, 3, 3, 3, 3, 5), (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
               (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4), (1, 4, 4, 4, 4, 5),
               (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4), (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5)]
_ = None
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers x 12 units, missing
# values; published nominal alpha 0.743.
KRIPPENDORFF_2011 = [(1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _), (1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3),
                     (_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _), (1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _)]
# The 3 coders x 15 units example of Krippendorff's alpha on Wikipedia (from Krippendorff 2011):
# nominal alpha 0.691.
WIKIPEDIA_ALPHA = [(_, _, _, _, _, 3, 4, 1, 2, 1, 1, 3, 3, _, 3), (1, _, 2, 1, 3, 3, 4, 3, _, _, _, _, _, _, _),
                   (_, _, 2, 1, 3, 4, 4, _, 2, 1, 1, 3, 3, _, 4)]
# Cohen (1960), the 200 cases of his worked example as proportions (.44 .07 .09 / .05 .20 .05 /
# .01 .03 .06); published kappa .492.
COHEN_1960 = {(1, 1): 88, (1, 2): 14, (1, 3): 18, (2, 1): 10, (2, 2): 40, (2, 3): 10, (3, 1): 2, (3, 2): 6, (3, 3): 12}


def _two_codings(table: dict) -> tuple[list, list]:
    a, b = [], []
    for (x, y), n in table.items():
        a += [x] * n
        b += [y] * n
    return a, b


def test_fleiss_1971_psychiatric_diagnoses():
    assert round(fleiss_kappa(FLEISS_1971).value, 3) == 0.430
    assert round(percent_agreement(FLEISS_1971, replicates=0).value, 3) == 0.556


def test_krippendorff_2011_reliability_data_with_missing_values():
    assert round(krippendorff_alpha(list(zip(*KRIPPENDORFF_2011))).value, 3) == 0.743
    assert round(krippendorff_alpha(list(zip(*WIKIPEDIA_ALPHA))).value, 3) == 0.691


def test_cohen_1960_worked_example():
    a, b = _two_codings(COHEN_1960)
    result = cohen_kappa(a, b)
    assert round(result.value, 3) == 0.492
    assert result.method == "fleiss-cohen-everitt-1969" and result.low < result.value < result.high


def _kappa_of_proportions(p: dict) -> float:
    po = sum(v for (x, y), v in p.items() if x == y)
    cats = {c for pair in p for c in pair}
    pe = sum(sum(v for (x, _), v in p.items() if x == c) * sum(v for (_, y), v in p.items() if y == c) for c in cats)
    return (po - pe) / (1 - pe)


def test_the_standard_error_of_cohens_kappa_is_the_delta_method_one():
    """Fleiss, Cohen and Everitt's closed form against the delta method with a numerical gradient:
    var = (sum p g^2 - (sum p g)^2) / n, g the derivative of kappa in each cell's proportion."""
    n = sum(COHEN_1960.values())
    p = {cell: count / n for cell, count in COHEN_1960.items()}
    gradient = {}
    for cell in p:
        up, down = dict(p), dict(p)
        up[cell] += 1e-6
        down[cell] -= 1e-6
        gradient[cell] = (_kappa_of_proportions(up) - _kappa_of_proportions(down)) / 2e-6
    variance = (sum(p[c] * gradient[c] ** 2 for c in p) - sum(p[c] * gradient[c] for c in p) ** 2) / n
    kappa, se = cohen_from_pairs(Counter(COHEN_1960))
    assert se == pytest.approx(math.sqrt(variance), rel=1e-5)
    assert kappa == pytest.approx(_kappa_of_proportions(p))


def test_the_analytic_interval_of_cohens_kappa_agrees_with_a_bootstrap():
    """The same interval, checked against resampling the 200 cases."""
    a, b = _two_codings(COHEN_1960)
    analytic = cohen_kappa(a, b)
    low, high = bootstrap_interval(Counter(COHEN_1960), lambda p: cohen_from_pairs(p)[0], replicates=2000, seed=1)
    assert abs(analytic.low - low) < 0.02 and abs(analytic.high - high) < 0.02


# ---- a plain implementation of the textbook formulas, to compare with on generated codings ----

def plain_cohen(a, b):
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    n = len(pairs)
    po = sum(x == y for x, y in pairs) / n
    cats = {v for pair in pairs for v in pair}
    pe = sum(sum(x == c for x, _ in pairs) * sum(y == c for _, y in pairs) for c in cats) / n ** 2
    return (po - pe) / (1 - pe)


def plain_fleiss(units):
    n, m = len(units), len(units[0])
    cats = sorted({v for u in units for v in u})
    table = [[sum(v == c for v in u) for c in cats] for u in units]
    p_i = [(sum(x * x for x in row) - m) / (m * (m - 1)) for row in table]
    p_j = [sum(row[j] for row in table) / (n * m) for j in range(len(cats))]
    pe = sum(p * p for p in p_j)
    return (sum(p_i) / n - pe) / (1 - pe)


def plain_alpha(units):
    """Krippendorff's coincidence matrix, built pair by pair."""
    o = Counter()
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[values[i], values[j]] += 1 / (m - 1)
    cats = {c for c, _ in o}
    n_c = {c: sum(o[c, k] for k in cats) for c in cats}
    n = sum(n_c.values())
    d_o = sum(o[c, k] for c in cats for k in cats if c != k)
    d_e = sum(n_c[c] * n_c[k] for c in cats for k in cats if c != k) / (n - 1)
    return 1 - d_o / d_e


categories = st.sampled_from(["01", "02", "03", "04|05", "unclassified"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(categories, categories), min_size=2, max_size=60))
def test_cohen_matches_the_plain_formula(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    try:
        expected = plain_cohen(a, b)
    except ZeroDivisionError:
        assert cohen_kappa(a, b).value is None
        return
    assert math.isclose(cohen_kappa(a, b).value, expected, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 5).flatmap(lambda m: st.lists(st.lists(categories, min_size=m, max_size=m), min_size=1,
                                                     max_size=40)))
def test_fleiss_matches_the_plain_formula(units):
    try:
        expected = plain_fleiss(units)
    except ZeroDivisionError:
        assert fleiss_kappa(units, replicates=0).value is None
        return
    assert math.isclose(fleiss_kappa(units, replicates=0).value, expected, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), categories), min_size=2, max_size=5), min_size=1, max_size=40))
def test_alpha_matches_the_plain_coincidence_matrix(units):
    try:
        expected = plain_alpha(units)
    except ZeroDivisionError:
        assert krippendorff_alpha(units, replicates=0).value is None
        return
    assert math.isclose(krippendorff_alpha(units, replicates=0).value, expected, abs_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(categories, min_size=2, max_size=50).filter(lambda xs: len(set(xs)) > 1))
def test_identical_codings_have_kappa_and_alpha_1(codes):
    assert cohen_kappa(codes, codes).value == pytest.approx(1.0)
    assert fleiss_kappa(list(zip(codes, codes, codes)), replicates=0).value == pytest.approx(1.0)
    assert krippendorff_alpha(list(zip(codes, codes)), replicates=0).value == pytest.approx(1.0)
    assert percent_agreement(list(zip(codes, codes))).value == 1.0


def test_a_category_used_by_one_coder_only():
    a = ["01", "02", "03", "01", "02", "09"]
    b = ["01", "02", "03", "01", "02", "03"]  # 09 only in A
    units = list(zip(a, b))
    assert percent_agreement(units).value == pytest.approx(5 / 6)
    assert math.isclose(cohen_kappa(a, b).value, plain_cohen(a, b))
    assert math.isclose(krippendorff_alpha(units, replicates=0).value, plain_alpha(units))


@pytest.mark.parametrize("units, words", [
    ([("01", "01"), ("01", "01")], "one and the same category"),           # one category only
    ([("01", None), (None, "02")], "no record"),                           # no overlap
    ([(None, None), (None, None)], "no record"),                           # all missing
    ([], "no record"),
])
def test_degenerate_cases_say_why(units, words):
    a, b = [u[0] for u in units], [u[1] for u in units]
    results = [cohen_kappa(a, b), krippendorff_alpha(units), fleiss_kappa([u for u in units if None not in u])]
    for result in results:
        assert result.value is None and result.note, result
    assert words in results[0].note
    with pytest.raises(DegenerateData):
        alpha_from_patterns(unit_patterns(units))
    with pytest.raises(DegenerateData):
        cohen_from_pairs(pair_patterns(a, b))


def test_one_category_agreement_is_still_reported():
    result = percent_agreement([("01", "01")] * 5)
    assert result.value == 1.0 and result.method == "wilson"


def test_bootstrap_is_seeded_and_brackets_the_value():
    units = list(zip(*KRIPPENDORFF_2011))
    first, again = krippendorff_alpha(units, seed=7), krippendorff_alpha(units, seed=7)
    assert first == again and first.method == "bootstrap-1000"
    assert first.low <= first.value <= first.high
    assert krippendorff_alpha(units, seed=8) != first


def test_fleiss_needs_the_same_number_of_codings_per_record():
    result = fleiss_kappa([("01", "02"), ("01", "01", "02")], replicates=0)
    assert result.value is None and "same number of codings" in result.note


@pytest.mark.parametrize("n, p", [(1_000_000, 0.3), (50, 0.1), (200, 0.9), (7, 0.5)])
def test_binomial_draws_have_the_right_mean_and_variance(n, p):
    rng = random.Random(5)
    draws = [_binomial(rng, n, p) for _ in range(20000)]
    mean = sum(draws) / len(draws)
    var = sum((x - mean) ** 2 for x in draws) / len(draws)
    assert all(0 <= x <= n for x in draws)
    assert abs(mean - n * p) < 4 * math.sqrt(n * p * (1 - p) / len(draws)) + 1e-9
    assert abs(var / (n * p * (1 - p)) - 1) < 0.06


def test_estimate_to_dict_is_plain_json():
    assert Estimate(0.5, 0.25, 0.75, "wilson", 10).to_dict() == {
        "value": 0.5, "ci_low": 0.25, "ci_high": 0.75, "ci_method": "wilson", "n": 10, "note": None}
