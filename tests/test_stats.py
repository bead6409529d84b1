"""Tests for rmlib.stats.

Every statistic is checked against an independent reference - scipy,
statsmodels, a hand calculation, or a naive brute-force loop written here -
never against its own captured output. Where the reference numbers are
stored, ``tests/results/README.md`` says where they came from.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.nonparametric import rank_compare_2indep
from statsmodels.stats.power import TTestIndPower

from rmlib import stats as S
from rmlib.constants import QUESTIONS


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
def ratings_long(rng, n, kmax=10, p_missing=0.0):
    """Individual provider-like ratings: respondent ids and scores (1-4)."""
    k = rng.integers(1, kmax + 1, n)
    mu = 2.4 + 0.5 * rng.standard_normal(n)
    ids = np.repeat(np.arange(n), k)
    y = np.clip(np.rint(mu[ids] + 0.8 * rng.standard_normal(ids.size)), 1, 4)
    return ids, y


def to_sums(ids, y, n):
    return np.bincount(ids, y, minlength=n), np.bincount(ids, minlength=n).astype(float)


def gen_design(rng, n, design):
    """(n x 8) sums and counts; officers one rating per question, providers up to ten."""
    q = len(QUESTIONS)
    mu = 2.4 + 0.5 * rng.standard_normal(n)
    if design == "officer":
        y = np.clip(np.rint(mu[:, None] + np.linspace(-0.3, 0.3, q) + 0.7 * rng.standard_normal((n, q))), 1, 4)
        c = (rng.random((n, q)) > 0.05).astype(float)
        return y * c, c
    k = rng.integers(1, 11, n)
    lat = (
        mu[:, None, None]
        + np.linspace(-0.3, 0.3, q)[None, :, None]
        + np.linspace(-0.4, 0.4, 10)[None, None, :]
        + 0.7 * rng.standard_normal((n, q, 10))
    )
    y = np.clip(np.rint(lat), 1, 4)
    valid = (np.arange(10)[None, None, :] < k[:, None, None]) & (rng.random((n, q, 10)) > 0.1)
    return (y * valid).sum(2), valid.sum(2).astype(float)


# --------------------------------------------------------------------------
# cell_interval
# --------------------------------------------------------------------------
@pytest.mark.parametrize("seed,n", [(1, 5), (2, 12), (3, 40), (4, 2)])
def test_cell_interval_officers_is_classical_t(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 5, n).astype(float)
    if np.ptp(x) == 0:
        x[0] = 1 + (x[0] % 4)
    low, high, method = S.cell_interval(x, np.ones(n), pseudo=False)
    ref = st.t.interval(0.95, n - 1, loc=x.mean(), scale=st.sem(x))
    assert method == "cluster_t"
    assert low == pytest.approx(ref[0], abs=1e-10)
    assert high == pytest.approx(ref[1], abs=1e-10)


def test_cell_interval_level():
    x = np.array([1.0, 2, 2, 3, 4, 4, 3])
    low, high, _ = S.cell_interval(x, np.ones(7), level=0.9, pseudo=False)
    ref = st.t.interval(0.9, 6, loc=x.mean(), scale=st.sem(x))
    assert (low, high) == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("seed,n", [(10, 6), (11, 15), (12, 60)])
def test_cell_interval_providers_matches_statsmodels_cluster_ols(seed, n):
    rng = np.random.default_rng(seed)
    ids, y = ratings_long(rng, n)
    sums, counts = to_sums(ids, y, n)
    res = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": ids}, use_t=True)
    ref_low, ref_high = res.conf_int(alpha=0.05)[0]
    # df = n - 1 reproduces statsmodels' interval exactly
    low, high, method = S.cell_interval(sums, counts, df_method="clusters", pseudo=False)
    assert method == "cluster_t"
    assert low == pytest.approx(ref_low, abs=1e-10) and high == pytest.approx(ref_high, abs=1e-10)
    # the default uses the same standard error with Satterthwaite df
    low2, high2, _ = S.cell_interval(sums, counts, pseudo=False)
    a2 = counts.astype(float) ** 2
    df = (n - 1) / n * a2.sum() ** 2 / (a2**2).sum()
    half = st.t.ppf(0.975, df) * res.bse[0]
    assert low2 == pytest.approx(res.params[0] - half, abs=1e-10)
    assert high2 == pytest.approx(res.params[0] + half, abs=1e-10)
    assert df < n - 1  # unequal cluster sizes -> fewer df -> wider
    assert high2 - low2 > high - low


def test_satterthwaite_df_by_hand():
    # counts 1, 2, 3: weights a_i proportional to c_i; a^2 = 1, 4, 9;
    # (sum a^2)^2 / sum a^4 = 14^2 / 98 = 2; times (G-1)/G = 2/3 -> df = 4/3.
    sums, counts = np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 3.0])
    est, var, g, df = S._linearise(sums[:, None], counts[:, None])
    assert df == pytest.approx(4 / 3, abs=1e-12)
    # ratio mean 15/6 = 2.5; residual sums u_i*C: 3-2.5=0.5, 5-5=0, 7-7.5=-0.5;
    # var = G/(G-1) * sum(u^2) = 1.5 * (0.25 + 0 + 0.25) / 36
    assert est == 2.5 and var == pytest.approx(1.5 * 0.5 / 36, abs=1e-15) and g == 3


def test_cell_interval_edge_cases():
    low, high, m = S.cell_interval([3.0], [1], pseudo=False)
    assert m == "none" and np.isnan(low) and np.isnan(high)
    # respondents without a rating are not in the cell
    low, high, m = S.cell_interval([3.0, 0.0], [1, 0], pseudo=False)
    assert m == "none"
    # zero variance: the point twice, labelled
    assert S.cell_interval([6.0, 3.0, 9.0], [2, 1, 3], pseudo=False) == (3.0, 3.0, "zero_variance")
    # zero-count rows do not change the result
    a = S.cell_interval([3.0, 4.0, 2.0], [1, 1, 1], pseudo=False)
    b = S.cell_interval([3.0, 0.0, 4.0, 2.0], [1, 0, 1, 1], pseudo=False)
    assert a == b
    # no clipping to the 1-4 scale
    low, high, _ = S.cell_interval([4.0, 4.0, 3.0], [1, 1, 1], pseudo=False)
    assert high > 4
    with pytest.raises(ValueError, match="same shape"):
        S.cell_interval([1.0, 2.0], [1], pseudo=False)
    with pytest.raises(ValueError, match="counts must be finite"):
        S.cell_interval([1.0, 2.0], [1, -1], pseudo=False)
    with pytest.raises(ValueError, match="1-D"):
        S.cell_interval(np.ones((3, 2)), np.ones((3, 2)), pseudo=False)
    with pytest.raises(ValueError, match="level"):
        S.cell_interval([1.0, 2.0], [1, 1], level=95)


# --------------------------------------------------------------------------
# overall_interval
# --------------------------------------------------------------------------
def test_overall_interval_small_n_is_t_on_respondent_overall_means():
    rng = np.random.default_rng(5)
    sums = rng.integers(1, 5, (12, 8)).astype(float)
    counts = np.ones((12, 8))
    low, high, method = S.overall_interval(sums, counts, pseudo=False)
    x = sums.mean(axis=1)  # each officer's own overall score
    ref = st.t.interval(0.95, 11, loc=x.mean(), scale=st.sem(x))
    assert method == "cluster_t"
    assert (low, high) == pytest.approx(ref, abs=1e-10)


def test_overall_interval_bootstrap_matches_naive_loop():
    rng = np.random.default_rng(6)
    sums, counts = gen_design(rng, 30, "provider")
    counts[0, 3] = 0
    sums[0, 3] = 0  # a respondent skipping a question
    B, seed = 500, 42
    low, high, method = S.overall_interval(sums, counts, n_boot=B, seed=seed, min_boot_n=2, pseudo=False)
    assert method == "bootstrap_percentile"
    # naive reference: the same random draws, one replicate at a time
    idx = np.random.default_rng(seed).integers(0, 30, size=(B, 30))
    reps = []
    for b in range(B):
        s, c = sums[idx[b]].sum(0), counts[idx[b]].sum(0)
        reps.append(np.mean([s[q] / c[q] for q in range(8) if c[q] > 0]))
    ref = np.quantile(reps, [0.025, 0.975])
    assert (low, high) == pytest.approx(tuple(ref), abs=1e-12)
    # reproducible, and seed-dependent
    assert S.overall_interval(sums, counts, n_boot=B, seed=seed, min_boot_n=2, pseudo=False) == (low, high, method)
    assert S.overall_interval(sums, counts, n_boot=B, seed=seed + 1, min_boot_n=2, pseudo=False) != (low, high, method)


def test_overall_interval_default_uses_bootstrap_from_min_boot_n():
    rng = np.random.default_rng(7)
    sums, counts = gen_design(rng, S.MIN_BOOT_N, "officer")
    assert S.overall_interval(sums, counts, n_boot=199, pseudo=False)[2] == "bootstrap_percentile"
    assert S.overall_interval(sums[:-1], counts[:-1], n_boot=199, pseudo=False)[2] == "cluster_t"
    low, high, _ = S.overall_interval(sums, counts, n_boot=1999, pseudo=False)
    tl, th, _ = S.overall_interval(sums, counts, min_boot_n=10**9, pseudo=False)
    assert abs(low - tl) < 0.03 and abs(high - th) < 0.03  # both valid at n = 100: they agree


def test_overall_interval_edge_cases():
    assert S.overall_interval(np.ones((1, 8)) * 3, np.ones((1, 8)), pseudo=False)[2] == "none"
    assert S.overall_interval(np.full((30, 8), 2.0), np.ones((30, 8)), min_boot_n=2, pseudo=False)[:2] == (2.0, 2.0)
    assert S.overall_interval(np.full((30, 8), 2.0), np.ones((30, 8)), pseudo=False)[2] == "zero_variance"
    # respondents with no rating at all are dropped
    s = np.vstack([np.full((1, 8), 0.0), np.arange(16, dtype=float).reshape(2, 8) % 4 + 1])
    c = np.vstack([np.zeros((1, 8)), np.ones((2, 8))])
    assert S.overall_interval(s, c) == S.overall_interval(s[1:], c[1:])


# --------------------------------------------------------------------------
# permutation_test
# --------------------------------------------------------------------------
def test_permutation_exact_by_hand_3_vs_3():
    # A = {1, 2, 3}, B = {4, 5, 6}; T = mean(A) - mean(B) = 2 - 5 = -3.
    # There are C(6, 3) = 20 ways to split the six respondents into two groups
    # of three. |T*| >= 3 needs the two groups' means 3 apart; the total is 21,
    # so a group of sum s has mean s/3 and the other (21 - s)/3, and
    # |T*| = |2s - 21| / 3 >= 3 only when s = 6 ({1,2,3}) or s = 15 ({4,5,6}).
    # Each is one split, so p = 2 / 20 = 0.1.
    r = S.permutation_test([1, 2, 3], [1, 1, 1], [4, 5, 6], [1, 1, 1], studentise=False)
    assert r.method == "exact" and r.n_perm == 20
    assert r.p == pytest.approx(2 / 20, abs=1e-15)
    assert r.diff == pytest.approx(-3.0)
    assert (r.n_a, r.n_b) == (3, 3)


def test_permutation_exact_by_hand_with_ties():
    # A = {1, 1, 2}, B = {2, 3, 3}: total 12, T = (2 s_A - 12) / 3 = -4/3.
    # |T*| >= 4/3 <=> s <= 4 or s >= 8 for the first group's sum s.
    # Label the values 1a 1b 2a 2b 3a 3b. Sums <= 4: {1a,1b,2a}, {1a,1b,2b};
    # sums >= 8: {2a,3a,3b}, {2b,3a,3b}. 4 of the 20 splits -> p = 0.2.
    r = S.permutation_test([1, 1, 2], [1, 1, 1], [2, 3, 3], [1, 1, 1], studentise=False)
    assert r.p == pytest.approx(4 / 20, abs=1e-15) and r.method == "exact"


def _brute_force_p(sa, ca, sb, cb):
    """Exact two-sided p by looping over every split, in exact rational arithmetic."""
    s = [Fraction(v) for v in list(sa) + list(sb)]
    c = [Fraction(v) for v in list(ca) + list(cb)]
    n, na = len(s), len(sa)

    def stat(rows):
        return sum(s[i] for i in rows) / sum(c[i] for i in rows)

    obs = abs(stat(range(na)) - stat(range(na, n)))
    hits = total = 0
    for combo in itertools.combinations(range(n), na):
        rest = [i for i in range(n) if i not in combo]
        total += 1
        hits += abs(stat(combo) - stat(rest)) >= obs
    return hits / total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permutation_exact_clustered_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    ids, y = ratings_long(rng, 11, kmax=4)
    sums, counts = to_sums(ids, y, 11)
    r = S.permutation_test(sums[:5], counts[:5], sums[5:], counts[5:], studentise=False)
    assert r.method == "exact" and r.n_perm == math.comb(11, 5)
    assert r.p == pytest.approx(_brute_force_p(sums[:5], counts[:5], sums[5:], counts[5:]), abs=1e-15)


def test_permutation_float_ties_count():
    # With exact (rational) arithmetic 6 of the C(7,3) = 35 splits have
    # |T*| >= |T_obs|; in floating point three of them come out a hair below
    # |T_obs| (e.g. 12/5 - 12/5 style cancellations computed two ways), so a
    # plain >= finds only 3. The 1e-12 tolerance must find all 6.
    sa, ca = np.array([2.0, 7.0, 3.0]), np.array([1.0, 3.0, 1.0])
    sb, cb = np.array([4.0, 2.0, 4.0, 2.0]), np.array([2.0, 1.0, 3.0, 1.0])
    r = S.permutation_test(sa, ca, sb, cb, studentise=False)
    assert r.n_perm == 35
    assert _brute_force_p(sa, ca, sb, cb) == pytest.approx(6 / 35, abs=1e-15)
    assert r.p == pytest.approx(6 / 35, abs=1e-15)


@pytest.mark.parametrize("seed,na,nb", [(3, 4, 6), (4, 6, 7), (5, 2, 9)])
def test_permutation_matches_scipy_exact(seed, na, nb):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 5, na).astype(float)
    b = rng.integers(1, 5, nb).astype(float)

    def stat(x, y, axis=-1):
        return np.abs(np.mean(x, axis=axis) - np.mean(y, axis=axis))

    ref = st.permutation_test(
        (a, b), stat, permutation_type="independent", alternative="greater", n_resamples=np.inf, vectorized=True
    )
    r = S.permutation_test(a, np.ones(na), b, np.ones(nb), studentise=False)
    assert r.method == "exact"
    assert r.p == pytest.approx(ref.pvalue, abs=1e-10)


def test_permutation_monte_carlo_close_to_exact_and_plus_one_formula():
    rng = np.random.default_rng(8)
    a = rng.integers(1, 5, 9).astype(float)
    b = (rng.integers(1, 5, 10) + (rng.random(10) < 0.4)).clip(1, 4).astype(float)
    exact = S.permutation_test(a, np.ones(9), b, np.ones(10), exact_threshold=10**6, studentise=False)
    mc = S.permutation_test(
        a, np.ones(9), b, np.ones(10), n_resamples=4999, seed=1, exact_threshold=10, studentise=False
    )
    assert exact.method == "exact" and exact.n_perm == math.comb(19, 9)
    assert mc.method == "monte carlo" and mc.n_perm == 4999
    se = math.sqrt(exact.p * (1 - exact.p) / 4999)
    assert abs(mc.p - exact.p) < 4 * se + 1 / 5000
    # the most extreme possible split (about 1 in 4e11): no resample reaches it,
    # so p = (1 + 0) / (B + 1)
    r = S.permutation_test(
        np.full(10, 4.0), np.ones(10), np.full(60, 1.0), np.ones(60), studentise=False, n_resamples=999, seed=3
    )
    assert r.p == pytest.approx(1 / 1000, abs=1e-15)
    # repeatable with the same seed
    assert (
        S.permutation_test(a, np.ones(9), b, np.ones(10), n_resamples=999, seed=5, exact_threshold=10).p
        == S.permutation_test(a, np.ones(9), b, np.ones(10), n_resamples=999, seed=5, exact_threshold=10).p
    )


def test_random_subsets_are_uniform():
    rng = np.random.default_rng(0)
    idx = S._random_subsets(rng, 6, 2, 60000)
    assert idx.shape == (60000, 2) and (idx[:, 0] != idx[:, 1]).all()
    # each of the C(6,2) = 15 subsets should appear ~4000 times
    codes = (1 << idx).sum(1)
    _, freq = np.unique(codes, return_counts=True)
    assert freq.size == 15
    chi2 = ((freq - 4000) ** 2 / 4000).sum()
    assert chi2 < st.chi2.ppf(0.999, 14)


def test_splits_of_either_side_agree():
    # enumerating the smaller side (B here) must give the same exact p as A
    rng = np.random.default_rng(3)
    sums, counts = gen_design(rng, 13, "provider")
    a = S.permutation_test(sums[:9, 2], counts[:9, 2], sums[9:, 2], counts[9:, 2], studentise=False)
    b = S.permutation_test(sums[9:, 2], counts[9:, 2], sums[:9, 2], counts[:9, 2], studentise=False)
    assert a.method == b.method == "exact"
    assert a.p == pytest.approx(b.p, abs=1e-15) and a.diff == pytest.approx(-b.diff, abs=1e-15)


def test_permutation_overall_2d_matches_brute_force():
    rng = np.random.default_rng(9)
    sums, counts = gen_design(rng, 9, "provider")
    counts[2, :4] = 0
    sums[2, :4] = 0
    counts[:, 7] = 0  # nobody answered the last question
    sums[:, 7] = 0
    counts[1, 6] = 0
    sums[1, 6] = 0

    def overall(rows):
        s, c = sums[list(rows)].sum(0), counts[list(rows)].sum(0)
        return np.mean([s[q] / c[q] for q in range(8) if c[q] > 0])

    obs = abs(overall(range(4)) - overall(range(4, 9)))
    hits = 0
    combos = list(itertools.combinations(range(9), 4))
    for combo in combos:
        hits += abs(overall(combo) - overall([i for i in range(9) if i not in combo])) >= obs - 1e-12
    r = S.permutation_test(sums[:4], counts[:4], sums[4:], counts[4:], studentise=False)
    assert r.method == "exact" and r.p == pytest.approx(hits / len(combos), abs=1e-15)
    assert r.diff == pytest.approx(overall(range(4)) - overall(range(4, 9)), abs=1e-12)


def test_permutation_empty_group():
    r = S.permutation_test([3.0, 2.0], [1, 1], [0.0], [0], studentise=False)
    assert r.method == "none" and np.isnan(r.p) and r.n_b == 0


# --------------------------------------------------------------------------
# diff_interval, compare_two
# --------------------------------------------------------------------------
@pytest.mark.parametrize("seed,na,nb", [(1, 5, 9), (2, 12, 7), (3, 30, 80)])
def test_diff_interval_officers_is_welch(seed, na, nb):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 5, na).astype(float)
    b = rng.integers(1, 5, nb).astype(float)
    d, low, high, m = S.diff_interval(a, np.ones(na), b, np.ones(nb))
    ref = st.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert m == "welch_cluster_t"
    assert d == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert (low, high) == pytest.approx((ref.low, ref.high), abs=1e-10)


def test_diff_interval_providers_from_statsmodels_se():
    rng = np.random.default_rng(4)
    ia, ya = ratings_long(rng, 8)
    ib, yb = ratings_long(rng, 14)
    sa, ca = to_sums(ia, ya, 8)
    sb, cb = to_sums(ib, yb, 14)
    ra = sm.OLS(ya, np.ones_like(ya)).fit(cov_type="cluster", cov_kwds={"groups": ia}, use_t=True)
    rb = sm.OLS(yb, np.ones_like(yb)).fit(cov_type="cluster", cov_kwds={"groups": ib}, use_t=True)
    va, vb = ra.bse[0] ** 2, rb.bse[0] ** 2
    df = (va + vb) ** 2 / (va**2 / 7 + vb**2 / 13)
    half = st.t.ppf(0.975, df) * math.sqrt(va + vb)
    d, low, high, _ = S.diff_interval(sa, ca, sb, cb, df_method="clusters")
    assert d == pytest.approx(ra.params[0] - rb.params[0], abs=1e-12)
    assert (low, high) == pytest.approx((d - half, d + half), abs=1e-10)


def test_diff_interval_edge_cases():
    assert S.diff_interval([3.0], [1], [2.0, 3.0], [1, 1])[3] == "none"
    assert S.diff_interval([3.0, 3.0], [1, 1], [2.0, 2.0], [1, 1]) == (1.0, 1.0, 1.0, "zero_variance")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_compare_two_alongside_tests_match_scipy_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    ia, ya = ratings_long(rng, 9)
    ib, yb = ratings_long(rng, 13)
    sa, ca = to_sums(ia, ya, 9)
    sb, cb = to_sums(ib, yb, 13)
    r = S.compare_two(sa, ca, sb, cb, n_resamples=999, seed=1)
    xa, xb = sa / ca, sb / cb  # respondent-level means
    assert r["welch_p"] == pytest.approx(st.ttest_ind(xa, xb, equal_var=False).pvalue, abs=1e-10)
    bm = rank_compare_2indep(xa, xb)
    assert r["bm_p"] == pytest.approx(bm.pvalue, abs=1e-10)
    assert r["bm_p"] == pytest.approx(st.brunnermunzel(xa, xb).pvalue, abs=1e-10)
    assert r["prob_sup"] == pytest.approx(bm.prob1, abs=1e-12)
    assert r["diff"] == pytest.approx(sa.sum() / ca.sum() - sb.sum() / cb.sum(), abs=1e-12)
    assert (r["n_a"], r["n_b"]) == (9, 13)
    assert r["p_method"] == "monte carlo"
    assert r["diff_low"] < r["diff"] < r["diff_high"]


def test_compare_two_overall_uses_respondent_overall_means():
    rng = np.random.default_rng(11)
    sa, ca = gen_design(rng, 7, "officer")
    sb, cb = gen_design(rng, 8, "officer")
    r = S.compare_two(sa, ca, sb, cb)
    with np.errstate(invalid="ignore"):
        xa = np.nanmean(np.where(ca > 0, sa / np.where(ca > 0, ca, 1), np.nan), axis=1)
        xb = np.nanmean(np.where(cb > 0, sb / np.where(cb > 0, cb, 1), np.nan), axis=1)
    assert r["welch_p"] == pytest.approx(st.ttest_ind(xa, xb, equal_var=False).pvalue, abs=1e-10)
    assert r["bm_p"] == pytest.approx(rank_compare_2indep(xa, xb).pvalue, abs=1e-10)
    assert r["p_method"] == "exact"


@pytest.mark.filterwarnings("error")
def test_compare_two_degenerate_cases_return_nan_without_warnings():
    one = S.compare_two([3.0], [1], [2.0, 3.0, 4.0], [1, 1, 1])
    assert np.isnan(one["welch_p"]) and np.isnan(one["bm_p"]) and np.isnan(one["diff_low"])
    assert one["prob_sup"] == pytest.approx(0.5)  # 3 vs {2,3,4}: (1 + 0.5) / 3
    same = S.compare_two([2.0, 2.0, 2.0], [1, 1, 1], [2.0, 2.0], [1, 1])
    assert np.isnan(same["welch_p"]) and np.isnan(same["bm_p"]) and same["p"] == 1.0
    assert same["prob_sup"] == 0.5
    sep = S.compare_two([1.0, 1.0, 1.0], [1, 1, 1], [3.0, 3.0, 3.0], [1, 1, 1])
    assert np.isnan(sep["bm_p"]) and sep["prob_sup"] == 0.0 and np.isnan(sep["welch_p"])
    assert sep["p"] == pytest.approx(0.1)
    empty = S.compare_two([0.0], [0], [2.0, 3.0], [1, 1])
    assert np.isnan(empty["p"]) and empty["n_a"] == 0


# --------------------------------------------------------------------------
# adjust_pvalues
# --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjust_pvalues_matches_multipletests_with_nans(method):
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.random(15) ** 3
        p[rng.random(15) < 0.2] = np.nan
        p[3] = p[5] = 0.02  # ties
        out = S.adjust_pvalues(p, method)
        ok = ~np.isnan(p)
        assert np.array_equal(np.isnan(out), ~ok)
        assert np.allclose(out[ok], multipletests(p[ok], method=method)[1], atol=1e-15, rtol=0)


def test_adjust_pvalues_nan_handling_and_types():
    # statsmodels alone does not leave NaNs out of the family (depending on the
    # version it returns NaN everywhere, or counts the NaN in m: 0.04 * 2 = 0.08);
    # filtered first, the family is the two real p-values: 0.01 * 2, 0.04 * 1.
    naive = multipletests([0.01, np.nan, 0.04], method="holm")[1]
    assert np.isnan(naive).all() or naive[2] == pytest.approx(0.08)
    assert np.allclose(S.adjust_pvalues([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04], equal_nan=True)
    out = S.adjust_pvalues([0.01, np.nan, 0.04, 0.03])
    # Holm by hand on (0.01, 0.03, 0.04), m = 3: 0.03, max(0.06, 0.03), max(0.04, 0.06)
    assert out[0] == pytest.approx(0.03) and np.isnan(out[1])
    assert out[2] == pytest.approx(0.06) and out[3] == pytest.approx(0.06)
    s = pd.Series([0.5, np.nan], index=["x", "y"], name="p")
    r = S.adjust_pvalues(s, "fdr_bh")
    assert isinstance(r, pd.Series) and list(r.index) == ["x", "y"] and r["x"] == 0.5 and np.isnan(r["y"])
    assert np.isnan(S.adjust_pvalues([np.nan, np.nan])).all()
    assert S.adjust_pvalues([]).size == 0
    assert S.adjust_pvalues([0.9, 0.8], "holm").max() <= 1.0
    with pytest.raises(ValueError, match="fdr_bh.*holm"):
        S.adjust_pvalues([0.1], "bonferroni")


# --------------------------------------------------------------------------
# table drivers
# --------------------------------------------------------------------------
def make_year(seed, n_off=24, n_prov=20, prefix=""):
    """Long respondent sums + memberships + a plain-pandas cell table."""
    rng = np.random.default_rng(seed)
    rows, mem, rl = [], [], []
    for group, n in (("officer", n_off), ("provider", n_prov)):
        for i in range(n):
            rid = f"{prefix}{group[0].upper()}{i:03d}"
            mu = 2.4 + 0.5 * rng.standard_normal()
            k = 1 if group == "officer" else int(rng.integers(1, 5))
            for q in QUESTIONS:
                sc = np.clip(np.rint(mu + 0.7 * rng.standard_normal(k)), 1, 4)
                valid = rng.random(k) > 0.1
                rows.append((rid, group, q, float(sc[valid].sum()), int(valid.sum())))
                for d in range(k):
                    if group == "provider":
                        rl.append(
                            (
                                rid,
                                group,
                                q,
                                "rated_department",
                                f"d{d}",
                                float(sc[d]) if valid[d] else 0.0,
                                int(valid[d]),
                            )
                        )
            mem.append((rid, "quadrant", ["North", "South", "East"][i % 3]))
            if i == 3:
                mem.append((rid, "quadrant", "South"))  # a multi-select answer (North + South)
    resp = pd.DataFrame(rows, columns=["respondent_id", "group", "question", "sum", "count"])
    memberships = pd.DataFrame(mem, columns=["respondent_id", "attribute", "category"])
    rl = pd.DataFrame(rl, columns=["respondent_id", "group", "question", "attribute", "category", "sum", "count"])
    return resp, memberships, rl


def crosstab(resp, memberships, rl, groups=("officer", "provider")):
    m = memberships[memberships.groupby(["respondent_id", "attribute"])["category"].transform("size") == 1]
    out = []

    def add(df, table, group, attribute, category):
        g = df.groupby("question")[["sum", "count"]].sum()
        qm = (g["sum"] / g["count"].where(g["count"] > 0)).reindex(list(QUESTIONS))
        for q in QUESTIONS:
            out.append(
                (
                    table,
                    group,
                    attribute,
                    category,
                    q,
                    qm[q],
                    df.loc[(df["question"] == q) & (df["count"] > 0), "respondent_id"].nunique(),
                )
            )
        tot = df.groupby("respondent_id")["count"].sum()
        out.append((table, group, attribute, category, "overall", qm.mean(), int((tot > 0).sum())))

    for group in groups:
        gdf = resp[resp["group"] == group]
        add(gdf, f"{group}_by_quadrant", group, "all", "All")
        for cat, cdf in m.groupby("category"):
            add(gdf[gdf["respondent_id"].isin(cdf["respondent_id"])], f"{group}_by_quadrant", group, "quadrant", cat)
    add(resp[resp["group"] == "provider"], "provider_by_department", "provider", "all", "All")
    for cat, cdf in rl.groupby("category"):
        add(cdf, "provider_by_department", "provider", "rated_department", cat)
    return pd.DataFrame(out, columns=["table", "group", "attribute", "category", "question", "mean", "n"])


@pytest.fixture(scope="module")
def year_data():
    resp, mem, rl = make_year(1)
    cells = crosstab(resp, mem, rl)
    return resp, mem, rl, cells


def _subset(resp, ids, q):
    d = resp[(resp["question"] == q) & resp["respondent_id"].isin(ids) & (resp["count"] > 0)]
    return d["sum"].to_numpy(float), d["count"].to_numpy(float)


def test_add_intervals_matches_direct_calls(year_data):
    resp, mem, rl, cells = year_data
    out = S.add_intervals(cells, pd.concat([resp, rl]), mem, n_boot=499, seed=3)
    assert list(out.index) == list(cells.index)
    assert {"ci_low", "ci_high", "ci_method"} <= set(out.columns)
    # officers in the North, trust: the t interval on their scores with two pseudo-respondents at
    # mean +- 1 (sum of squares + 2, df n + 1), written out with scipy
    north = set(mem.loc[mem["category"] == "North", "respondent_id"]) - {"O003"}  # O003 chose two
    s, c = _subset(resp[resp["group"] == "officer"], north, "trust")
    row = out[(out["table"] == "officer_by_quadrant") & (out["category"] == "North") & (out["question"] == "trust")]
    n = len(s)
    ref = st.t.interval(0.95, n + 1, loc=s.mean(), scale=np.sqrt((((s - s.mean()) ** 2).sum() + 2) / (n * (n - 1))))
    assert (row["ci_low"].item(), row["ci_high"].item()) == pytest.approx(ref, abs=1e-10)
    # a rating-level cell: providers' ratings of department d0
    d0 = rl[(rl["category"] == "d0") & (rl["question"] == "roles") & (rl["count"] > 0)]
    row = out[(out["category"] == "d0") & (out["question"] == "roles")]
    ref = S.cell_interval(d0["sum"].to_numpy(float), d0["count"].to_numpy(float))
    assert (row["ci_low"].item(), row["ci_high"].item(), row["ci_method"].item()) == ref
    # overall rows get the overall interval (cluster t below 100 respondents)
    assert set(out.loc[out["question"] == "overall", "ci_method"]) <= {"pseudo_t", "none"}
    # small cells get none
    assert (out.loc[out["n"] < 5, "ci_method"] == "none").all()
    # order of rows does not matter (seeds come from the cell, not the row)
    shuffled = cells.sample(frac=1, random_state=0)
    out2 = S.add_intervals(shuffled, pd.concat([resp, rl]), mem, n_boot=499, seed=3)
    pd.testing.assert_frame_equal(out2.loc[out.index], out)


def test_add_intervals_checks_consistency(year_data):
    resp, mem, rl, cells = year_data
    bad = cells.copy()
    bad.loc[bad.index[3], "mean"] += 0.1
    with pytest.raises(ValueError, match="disagree"):
        S.add_intervals(bad, pd.concat([resp, rl]), mem)
    with pytest.warns(UserWarning, match="disagree"):
        S.add_intervals(bad, pd.concat([resp, rl]), mem, check="warn")
    # the "any" multi-select rule puts O003 in two quadrants: n no longer matches
    with pytest.raises(ValueError, match="disagree"):
        S.add_intervals(cells, pd.concat([resp, rl]), mem, multi_select_rule="any")
    with pytest.raises(ValueError, match="multi_select_rule"):
        S.add_intervals(cells, resp, mem, multi_select_rule="some")
    with pytest.raises(ValueError, match="missing columns"):
        S.add_intervals(cells.drop(columns="question"), resp, mem)


def test_compare_cells_rest_matches_compare_two(year_data):
    resp, mem, rl, cells = year_data
    out = S.compare_cells(cells, pd.concat([resp, rl]), mem, kinds=["rest"], n_resamples=999, seed=1)
    north = set(mem.loc[mem["category"] == "North", "respondent_id"]) - {"O003"}
    off = resp[resp["group"] == "officer"]
    rest_ids = set(off["respondent_id"]) - north
    for q in ("trust", "direction"):
        sa, ca = _subset(off, north, q)
        sb, cb = _subset(off, rest_ids, q)
        ref = S.compare_two(sa, ca, sb, cb)
        row = out[(out["table"] == "officer_by_quadrant") & (out["category"] == "North") & (out["question"] == q)]
        for k in ("diff", "diff_low", "diff_high", "welch_p", "bm_p", "prob_sup"):
            assert row[f"rest_{k}"].item() == pytest.approx(ref[k], abs=1e-12, nan_ok=True)
        assert row["rest_n_other"].item() == ref["n_b"]
        assert row["rest_mean_other"].item() == pytest.approx(ref["mean_b"], abs=1e-12)
        # Monte Carlo p with 999 resamples: close to the reference's 9999
        assert abs(row["rest_p"].item() - ref["p"]) < 0.06
    # whole-group rows have no "rest" test; rating-level breakdowns a paired one (tests/test_stats_inference.py)
    assert out.loc[out["attribute"] == "all", "rest_p"].isna().all()
    rd = out.loc[(out["attribute"] == "rated_department") & out["rest_p"].notna(), "rest_p_method"]
    assert len(rd) and rd.str.startswith("sign_flip").all()
    assert (out.loc[out["attribute"] == "all", "rest_p_method"] == "none").all()


def test_compare_cells_exact_p_equals_permutation_test():
    resp, mem, rl = make_year(2, n_off=18, n_prov=6)
    cells = crosstab(resp, mem, rl, groups=("officer",))
    cells = cells[cells["group"] == "officer"]
    out = S.compare_cells(cells, resp, mem, kinds=["rest"], n_resamples=999)
    north = set(mem.loc[mem["category"] == "North", "respondent_id"]) - {"O003"}
    off = resp[resp["group"] == "officer"]
    sa, ca = _subset(off, north, "share")
    sb, cb = _subset(off, set(off["respondent_id"]) - north, "share")
    ref = S.permutation_test(sa, ca, sb, cb)
    assert ref.method == "exact"
    row = out[(out["category"] == "North") & (out["question"] == "share")]
    assert row["rest_p"].item() == pytest.approx(ref.p, abs=1e-15)
    assert row["rest_p_method"].item() == "exact"


@pytest.mark.slow
def test_compare_cells_holm_per_family_and_significance(year_data):
    resp, mem, rl, cells = year_data
    out = S.compare_cells(
        cells, pd.concat([resp, rl]), mem, kinds=["rest", "groups"], n_resamples=499, correction="holm"
    )
    # Holm family of "rest": one group and one attribute (here: one table); each distinct comparison once
    for _, df in out.groupby(["group", "attribute"]):
        d = df.drop_duplicates(["category", "question"])
        d = d[d["rest_p"].notna()]
        if d.empty:
            continue
        exp = multipletests(d["rest_p"].to_numpy(), method="holm")[1]
        assert np.allclose(d["rest_p_adj"].to_numpy(), exp, rtol=0, atol=1e-12)
    for _, df in out.groupby("table"):
        sig = df["rest_significant"]
        tested = df["rest_p_adj"].notna()
        assert sig[~tested].isna().all()
        assert (sig[tested].astype(bool) == (df.loc[tested, "rest_p_adj"] < 0.05)).all()
    # groups: providers vs officers on the whole-group rows, opposite signs
    a = out[(out["table"] == "officer_by_quadrant") & (out["attribute"] == "all") & (out["question"] == "trust")]
    b = out[(out["table"] == "provider_by_quadrant") & (out["attribute"] == "all") & (out["question"] == "trust")]
    assert a["groups_diff"].item() == pytest.approx(-b["groups_diff"].item(), abs=1e-12)
    assert a["groups_p"].item() == b["groups_p"].item()
    assert a["groups_prob_sup"].item() == pytest.approx(1 - b["groups_prob_sup"].item(), abs=1e-12)
    # rating-level cells have no counterpart in the other group
    assert out.loc[out["attribute"] == "rated_department", "groups_p"].isna().all()


def test_compare_cells_groups_in_one_table_counted_once():
    resp, mem, rl = make_year(3)
    cells = crosstab(resp, mem, rl)
    cells = cells[cells["table"] != "provider_by_department"].copy()
    cells["table"] = "both_groups"
    out = S.compare_cells(cells, resp, mem, kinds=["groups"], n_resamples=499)
    off = out[out["group"] == "officer"]
    # default: Benjamini-Hochberg over the distinct comparisons (one per attribute/category/question),
    # the provider and officer rows of a comparison being one test with one verdict
    d = off[off["groups_p"].notna()].drop_duplicates(["attribute", "category", "question"])
    exp = multipletests(d["groups_p"].to_numpy(), method="fdr_bh")[1]
    assert np.allclose(d["groups_p_adj"].to_numpy(), exp, rtol=0, atol=1e-12)
    prov = out[out["group"] == "provider"].set_index(["attribute", "category", "question"])
    o = off.set_index(["attribute", "category", "question"])
    both = o.index.intersection(prov.index)
    assert (o.loc[both, "groups_id"] == prov.loc[both, "groups_id"]).all()
    assert np.allclose(o.loc[both, "groups_p_adj"], prov.loc[both, "groups_p_adj"], equal_nan=True)


def test_compare_cells_last_year_and_min_cell_n(year_data):
    resp, mem, rl, cells = year_data
    resp_l, mem_l, rl_l = make_year(9, n_off=10, n_prov=30, prefix="L")
    out = S.compare_cells(
        cells,
        pd.concat([resp, rl]),
        mem,
        kinds=["last_year"],
        resp_last=pd.concat([resp_l, rl_l]),
        memberships_last=mem_l,
        n_resamples=499,
        seed=2,
    )
    row = out[(out["table"] == "provider_by_quadrant") & (out["attribute"] == "all") & (out["question"] == "trust")]
    sa, ca = _subset(resp[resp["group"] == "provider"], set(resp["respondent_id"]), "trust")
    sb, cb = _subset(resp_l[resp_l["group"] == "provider"], set(resp_l["respondent_id"]), "trust")
    assert row["last_year_diff"].item() == pytest.approx(sa.sum() / ca.sum() - sb.sum() / cb.sum(), abs=1e-12)
    # last year's officer quadrants have about 3 respondents: below min_cell_n -> no test
    small = out[(out["group"] == "officer") & (out["attribute"] == "quadrant")]
    assert small["last_year_p"].isna().all()
    assert (small["last_year_p_method"] == "none").all()
    # no last-year data: NaN columns, no error
    out2 = S.compare_cells(cells, resp, mem, kinds=["last_year"], check="ignore")
    assert out2["last_year_p"].isna().all()
    # min_cell_n: cells under it are never tested
    out3 = S.compare_cells(cells, resp, mem, kinds=["rest"], min_cell_n=8, check="ignore", n_resamples=199)
    assert out3.loc[out3["n"] < 8, "rest_p"].isna().all()
    with pytest.raises(ValueError, match="kinds"):
        S.compare_cells(cells, resp, mem, kinds=["vs_mean"])
    with pytest.raises(ValueError, match="correction"):
        S.compare_cells(cells, resp, mem, correction="bonferroni")


def test_compare_cells_reproducible_and_order_free(year_data):
    resp, mem, rl, cells = year_data
    a = S.compare_cells(cells, resp, mem, kinds=["rest"], n_resamples=499, seed=5, check="ignore")
    b = S.compare_cells(cells.iloc[::-1], resp, mem, kinds=["rest"], n_resamples=499, seed=5, check="ignore")
    pd.testing.assert_frame_equal(b.loc[a.index], a)


def test_rating_level_sums():
    r = pd.DataFrame(
        {
            "respondent_id": ["P1", "P1", "P1", "P2", "O1"],
            "group": ["provider"] * 4 + ["officer"],
            "question": "trust",
            "department": ["finance", "quality", "finance", "finance", ""],
            "score": [3.0, np.nan, 2.0, 4.0, 3.0],
        }
    )
    out = S.rating_level_sums(r, labels={"finance": "Finance Officers"})
    got = out.set_index(["respondent_id", "category"])[["sum", "count"]].to_dict("index")
    assert got == {
        ("P1", "Finance Officers"): {"sum": 5.0, "count": 2},
        ("P1", "quality"): {"sum": 0.0, "count": 0},
        ("P2", "Finance Officers"): {"sum": 4.0, "count": 1},
    }
    assert (out["attribute"] == "rated_department").all()


# --------------------------------------------------------------------------
# power
# --------------------------------------------------------------------------
def _power_by_hand(n1, n2, d, alpha=0.05):
    """Power of the two-sided two-sample t test from the noncentral t."""
    df = n1 + n2 - 2
    nc = d * math.sqrt(n1 * n2 / (n1 + n2))
    tc = st.t.ppf(1 - alpha / 2, df)
    return st.nct.sf(tc, df, nc) + st.nct.cdf(-tc, df, nc)


@pytest.mark.parametrize("na,nb,sd", [(12, 70, 0.6), (5, 80, 0.8), (30, 30, 0.5)])
def test_min_detectable_difference(na, nb, sd):
    mdd = S.min_detectable_difference(na, nb, sd)
    ref = TTestIndPower().solve_power(effect_size=None, nobs1=na, ratio=nb / na, alpha=0.05, power=0.8)
    assert mdd == pytest.approx(ref * sd, rel=1e-10)
    assert _power_by_hand(na, nb, mdd / sd) == pytest.approx(0.8, abs=1e-5)  # root-finder tolerance
    # normal-approximation hand check: (z_.975 + z_.8) * sd * sqrt(1/na + 1/nb), a little smaller
    approx = (st.norm.ppf(0.975) + st.norm.ppf(0.8)) * sd * math.sqrt(1 / na + 1 / nb)
    assert approx < mdd < approx * 1.15
    assert np.isnan(S.min_detectable_difference(1, 10, 0.5))
    assert np.isnan(S.min_detectable_difference(10, 10, 0.0))


def test_responses_needed():
    n = S.responses_needed(0.25, sd=0.6)
    ref = TTestIndPower().solve_power(effect_size=0.25 / 0.6, nobs1=None, ratio=1, alpha=0.05, power=0.8)
    assert n == math.ceil(ref)
    assert _power_by_hand(n, n, 0.25 / 0.6) >= 0.8 > _power_by_hand(n - 1, n - 1, 0.25 / 0.6)
    # hand: 2 (z_.975 + z_.8)^2 / d^2 = 2 * 7.849 / 0.1736 = 90.4 (normal), t adds about one
    assert n in (91, 92)
    n3 = S.responses_needed(0.25, sd=0.6, ratio=3)
    assert _power_by_hand(n3, 3 * n3, 0.25 / 0.6) >= 0.8 > _power_by_hand(n3 - 1, 3 * (n3 - 1), 0.25 / 0.6)
    with pytest.raises(ValueError):
        S.responses_needed(0.0, sd=0.6)


def test_power_table(year_data):
    resp, mem, rl, cells = year_data
    pt = S.power_table(cells, pd.concat([resp, rl]), mem)
    assert list(pt.columns) == [
        "table",
        "group",
        "attribute",
        "category",
        "question",
        "n",
        "n_rest",
        "sd",
        "alpha",
        "mdd",
        "n_needed",
    ]
    assert (pt["attribute"] == "quadrant").all()  # no whole-group or rating-level rows
    row = pt[(pt["group"] == "officer") & (pt["category"] == "North") & (pt["question"] == "trust")].iloc[0]
    off = resp[(resp["group"] == "officer") & (resp["question"] == "trust") & (resp["count"] > 0)]
    sd = off["sum"].std(ddof=1)  # officers: one rating each
    assert row["sd"] == pytest.approx(sd, abs=1e-12)
    assert row["n"] + row["n_rest"] == len(off)  # the rest includes the multi-selector O003
    assert row["mdd"] == pytest.approx(S.min_detectable_difference(row["n"], row["n_rest"], sd), abs=1e-12)
    assert row["n_needed"] == S.responses_needed(0.25, sd=sd)
    cell_n = cells[
        (cells["table"] == "officer_by_quadrant") & (cells["category"] == "North") & (cells["question"] == "trust")
    ]["n"].item()
    assert row["n"] == cell_n


# --------------------------------------------------------------------------
# describe_finding
# --------------------------------------------------------------------------
BASE = {
    "group": "officer",
    "attribute": "quadrant",
    "category": "North",
    "question": "trust",
    "mean": 2.93,
    "n": 12,
    "rest_diff": 0.51,
    "rest_diff_low": 0.12,
    "rest_diff_high": 0.88,
    "rest_p_adj": 0.01,
    "rest_significant": True,
    "rest_mean_other": 2.42,
    "rest_n_other": 70,
}


def test_describe_finding_significant():
    s = S.describe_finding(BASE)
    assert s == (
        "Officers whose quadrant is North scored higher than other officers on trust "
        "(2.9 vs 2.4, n = 12 vs 70; difference 0.5, 95% CI 0.1 to 0.9; significant after correction)."
    )
    low = dict(BASE, rest_diff=-0.51, rest_diff_low=-0.88, rest_diff_high=-0.12, mean=1.91)
    assert "scored lower than other officers" in S.describe_finding(low)


def test_describe_finding_not_significant_and_small():
    ns = dict(BASE, rest_significant=False, rest_p_adj=0.3, rest_diff_low=-0.1)
    s = S.describe_finding(ns)
    assert s.startswith("No clear difference between officers whose quadrant is North and other officers")
    assert s.endswith("not significant after correction).")
    assert S.describe_finding(dict(BASE, n=3, mean=np.nan)) == "Too few responses to tell (fewer than 5)."
    assert "fewer than 5" in S.describe_finding(dict(BASE, rest_diff=np.nan, rest_n_other=2))
    comp = dict(BASE, suppressed=True, suppression="complementary")
    assert S.describe_finding(comp).startswith("Not shown")


def test_describe_finding_other_kinds():
    row = {
        "group": "provider",
        "attribute": "all",
        "category": "All",
        "question": "overall",
        "mean": 2.65,
        "n": 97,
        "last_year_diff": 0.19,
        "last_year_diff_low": 0.05,
        "last_year_diff_high": 0.33,
        "last_year_significant": True,
        "last_year_mean_other": 2.46,
        "last_year_n_other": 111,
        "groups_diff": 0.1,
        "groups_diff_low": -0.05,
        "groups_diff_high": 0.25,
        "groups_significant": False,
        "groups_mean_other": 2.55,
        "groups_n_other": 85,
    }
    assert S.describe_finding(row, "last_year").startswith(
        "Providers scored higher than last year on the overall score (2.6 vs 2.5, n = 97 vs 111"
    )
    g = S.describe_finding(row, "groups", decimals=2)
    assert g.startswith("No clear difference between providers and officers on the overall score (2.65 vs 2.55")
    with pytest.raises(ValueError):
        S.describe_finding(row, "vs_mean")


# --------------------------------------------------------------------------
# small null simulation (the larger one: benchmarks/null_simulation.py)
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_null_false_positive_rate_of_permutation_test():
    rng = np.random.default_rng(2024)
    reps, alpha = 200, 0.05
    limit = alpha + 3 * math.sqrt(alpha * (1 - alpha) / reps)
    for n in range(2, 11):
        rejections = 0
        for _ in range(reps):
            sa, ca = gen_design(rng, n, "provider")
            sb, cb = gen_design(rng, n, "provider")
            r = S.permutation_test(sa[:, 1], ca[:, 1], sb[:, 1], cb[:, 1], n_resamples=499, seed=rng)
            rejections += r.p < alpha
        assert rejections / reps <= limit, f"n = {n}: {rejections / reps:.3f} > {limit:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("design", ["officer", "provider"])
def test_cell_interval_coverage_from_n5(design):
    truth_rng = np.random.default_rng(99)
    s, c = gen_design(truth_rng, 200_000, design)
    target = s[:, 2].sum() / c[:, 2].sum()
    rng = np.random.default_rng(7)
    reps = 1000
    for n in (5, 10, 20):
        hits = 0
        for _ in range(reps):
            s, c = gen_design(rng, n, design)
            low, high, _ = S.cell_interval(s[:, 2], c[:, 2])
            hits += low <= target <= high
        assert hits / reps >= 0.93, f"{design}, n = {n}: coverage {hits / reps:.3f}"


@pytest.mark.slow
def test_overall_interval_coverage_from_n5():
    truth_rng = np.random.default_rng(98)
    s, c = gen_design(truth_rng, 200_000, "provider")
    target = np.mean(s.sum(0) / c.sum(0))
    rng = np.random.default_rng(8)
    reps = 400
    for n in (5, 20, 100):
        hits = 0
        for _ in range(reps):
            s, c = gen_design(rng, n, "provider")
            low, high, _ = S.overall_interval(s, c, n_boot=499, seed=rng)
            hits += low <= target <= high
        assert hits / reps >= 0.92, f"n = {n}: coverage {hits / reps:.3f}"


def test_probability_of_superiority_equals_brute_force_pair_count():
    """The rank formula (O(n log n)) against counting every pair, with ties, to 1e-12."""
    from rmlib.stats import _prob_superiority

    rng = np.random.default_rng(7)
    for _ in range(100):
        x = rng.integers(1, 5, rng.integers(1, 25)).astype(float) / rng.integers(1, 3)
        y = rng.integers(1, 5, rng.integers(1, 25)).astype(float)
        d = x[:, None] - y[None, :]
        assert _prob_superiority(x, y) == pytest.approx(((d > 0).sum() + 0.5 * (d == 0).sum()) / d.size, abs=1e-12)


# --------------------------------------------------------------------------
# permutation sums by gathering the small side's rows; large-sample switch
# --------------------------------------------------------------------------
@pytest.mark.parametrize("seed,overall", [(0, False), (1, False), (2, True)])
def test_permutation_small_side_of_many_matches_brute_force(seed, overall):
    # 2 of 21 respondents: 8 k < n, so the splits' sums are gathered row by row
    # (not the 0/1-matrix product the tests above exercise); exact, 210 splits
    rng = np.random.default_rng(seed)
    if overall:
        s, c = gen_design(rng, 21, "provider")
        r = S.permutation_test(s[:2], c[:2], s[2:], c[2:], studentise=False)
        ref = S.permutation_test(s[:2], c[:2], s[2:], c[2:], exact_threshold=0, n_resamples=1, studentise=False)
        assert ref.method == "monte carlo"
        # brute force on the overall statistic in floating point, every split
        obs = abs(S._stat(s[:2].sum(0), c[:2].sum(0)) - S._stat(s[2:].sum(0), c[2:].sum(0)))
        hits = 0
        for combo in itertools.combinations(range(21), 2):
            m = np.zeros(21, bool)
            m[list(combo)] = True
            t = abs(S._stat(s[m].sum(0), c[m].sum(0)) - S._stat(s[~m].sum(0), c[~m].sum(0)))
            hits += t >= obs - 1e-12 * max(obs, 1)
        expected = hits / math.comb(21, 2)
    else:
        ids, y = ratings_long(rng, 21, kmax=4)
        s, c = to_sums(ids, y, 21)
        r = S.permutation_test(s[:2], c[:2], s[2:], c[2:], studentise=False)
        expected = _brute_force_p(s[:2], c[:2], s[2:], c[2:])
    assert r.method == "exact" and r.n_perm == math.comb(21, 2)
    assert r.p == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    "design,q,shift", [("officer", 0, 0.0), ("officer", None, 0.08), ("provider", 0, 0.08), ("provider", None, 0.0)]
)
def test_large_sample_methods_agree_with_resampling_at_the_threshold(design, q, shift):
    # At LARGE_SAMPLE_N respondents per side the cluster-robust Welch t p-value
    # is the permutation p-value to within Monte Carlo error, and the t interval
    # is the bootstrap interval: the reason compare_cells / overall_interval
    # switch there (rmlib.stats module notes). Measured: |dp| <= 0.012 and
    # interval ends within 0.003 (widths ~0.07-0.11) over 16 such cases.
    n = S.LARGE_SAMPLE_N
    rng = np.random.default_rng(11)
    sa, ca = gen_design(rng, n, design)
    sb, cb = gen_design(rng, 2 * n, design)
    sa = sa + shift * ca
    A = (sa[:, q], ca[:, q]) if q is not None else (sa, ca)
    B = (sb[:, q], cb[:, q]) if q is not None else (sb, cb)
    perm = S.permutation_test(*A, *B, n_resamples=4999, seed=1)
    # the large-sample rule refers the very statistic of the studentised permutation test to the t
    d, low, high, method, p_t = S._diff_t(*S._active(*S._as_2d(*A)), *S._active(*S._as_2d(*B)), 0.95, pseudo=True)
    assert method == "welch_cluster_t"
    assert abs(perm.p - p_t) <= 0.02
    # a p-value and its own interval agree on "significant at 5%"
    assert (p_t < 0.05) == (low > 0 or high < 0)
    if q is None:
        blo, bhi, bm = S.overall_interval(*A, n_boot=4999, seed=2, large_n=None)
        tlo, thi, tm = S.overall_interval(*A)
        assert (bm, tm) == ("bootstrap_percentile", "pseudo_t")
        assert abs(blo - tlo) <= 0.05 * (thi - tlo) and abs(bhi - thi) <= 0.05 * (thi - tlo)


def test_compare_cells_switches_to_welch_t_only_when_both_sides_are_large(year_data):
    resp, mem, rl, cells = year_data
    full = pd.concat([resp, rl])
    out = S.compare_cells(cells, full, mem, kinds=["rest", "groups"], n_resamples=199, large_n=15)
    perm = S.compare_cells(cells, full, mem, kinds=["rest", "groups"], n_resamples=199, large_n=None)
    switched = 0
    for kind in ("rest", "groups"):
        paired = out["attribute"] == "rated_department"
        tested = out[f"{kind}_p"].notna() & ~paired
        big = tested & (out["n"] >= 15) & (out[f"{kind}_n_other"] >= 15)
        assert (out.loc[big, f"{kind}_p_method"] == "welch_cluster_t").all()
        assert out.loc[tested & ~big, f"{kind}_p_method"].isin(["exact", "monte carlo"]).all()
        assert perm.loc[tested, f"{kind}_p_method"].isin(["exact", "monte carlo"]).all()
        # paired comparisons: the paired t from 15 pairs, sign-flipping below
        pt = out[paired & out[f"{kind}_p"].notna()]
        assert ((pt[f"{kind}_p_method"] == "paired_t") == (pt[f"{kind}_n_other"] >= 15)).all()
        # unchanged where the permutation test is kept; same difference everywhere
        keep = ~big & ~paired
        pd.testing.assert_series_equal(out.loc[keep, f"{kind}_p"], perm.loc[keep, f"{kind}_p"])
        for col in ("diff", "welch_p", "bm_p"):
            assert np.allclose(out[f"{kind}_{col}"], perm[f"{kind}_{col}"], equal_nan=True, rtol=0, atol=1e-12)
        # either way a p-value and its interval agree: p < 0.05 exactly when 0 is outside it
        for w in (out[out[f"{kind}_p"].notna()], perm[perm[f"{kind}_p"].notna()]):
            assert ((w[f"{kind}_p"] < 0.05) == ((w[f"{kind}_diff_low"] > 0) | (w[f"{kind}_diff_high"] < 0))).all()
        switched += int(big.sum())
    assert switched > 0


def test_large_samples_without_variance_are_tested():
    # 1000 vs 1000 officers, every score 4 on one side and 3 on the other: no spread on either side.
    # The plain Welch t would be undefined; with the tests' pseudo pair (0.5 points^2) per side it is
    # d / sqrt(2 * (1000/999) * 0.5 / 1000**2) = 1 / 0.0010005 on 2 x 999 df: p ~ 0.
    n = S.LARGE_SAMPLE_N
    ids = [f"O{i:04d}" for i in range(2 * n)]
    resp = pd.DataFrame(
        {"respondent_id": ids, "group": "officer", "question": "share", "sum": [4.0] * n + [3.0] * n, "count": 1}
    )
    mem = pd.DataFrame({"respondent_id": ids, "attribute": "quadrant", "category": ["North"] * n + ["South"] * n})
    cells = pd.DataFrame(
        {
            "table": "t",
            "group": "officer",
            "attribute": "quadrant",
            "category": ["North", "South"],
            "question": "share",
            "n": [n, n],
        }
    )
    out = S.compare_cells(cells, resp, mem, kinds=["rest"], n_resamples=199)
    assert out["rest_p_method"].tolist() == ["welch_cluster_t"] * 2
    v = 2 * (n / (n - 1)) * 0.5 / n**2
    df = 2 * (n - 1)
    assert out["rest_p"].tolist() == pytest.approx([2 * st.t.sf(1 / np.sqrt(v), df)] * 2, abs=1e-300)
    assert out["rest_diff"].tolist() == [1.0, -1.0] and out["rest_significant"].all()
    assert (out["rest_diff_low"] * out["rest_diff_high"] > 0).all()


def test_year_index_edge_cases_agree_with_plain_pandas():
    # rows without a respondent are left out (as by groupby); an unused question category outside
    # QUESTIONS is harmless; a missing category in memberships still makes the respondent's other
    # choice not their only one (solely_one), as the plain-pandas table counts it
    resp, mem, rl = make_year(4)
    mem = pd.concat([mem, pd.DataFrame([("O001", "quadrant", None)], columns=mem.columns)], ignore_index=True)
    cells = crosstab(resp, mem, rl)
    odd = pd.concat([resp, pd.DataFrame([(None, "officer", "share", 4.0, 1)], columns=resp.columns)], ignore_index=True)
    odd["question"] = pd.Categorical(odd["question"], categories=[*QUESTIONS, "unused"])
    # check="raise": every cell's n and mean must equal the plain-pandas table's
    out = S.add_intervals(cells, pd.concat([odd, rl], ignore_index=True), mem, n_boot=199, min_cell_n=2, check="raise")

    # O001 (South + a missing answer) is out of South; with the missing answer gone it is back in
    def south(c):
        return c.loc[(c["group"] == "officer") & (c["category"] == "South") & (c["question"] == "overall"), "n"].item()

    assert south(crosstab(resp, mem.dropna(), rl)) == south(cells) + 1
    assert len(out) == len(cells) and out["ci_low"].notna().any()
