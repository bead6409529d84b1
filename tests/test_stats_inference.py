"""Studentised tests, paired comparisons, one verdict per comparison, bounded-scale intervals, power.

References: brute-force enumeration written here, scipy / statsmodels, and the
numbers in ``tests/results/stats_inference_references.json`` (each with its
source; see ``tests/results/README.md``).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
import statsmodels.api as sm
from conftest import ROOT
from statsmodels.stats.multitest import multipletests
from test_stats import crosstab, gen_design, make_year

from rmlib import stats as S

REF = json.loads((ROOT / "tests" / "results" / "stats_inference_references.json").read_text())
KAPPA = 0.5  # the tests' pseudo sum of squares (rmlib.stats.intervals.TEST_PSEUDO_SS)


def _welch_t_officers(a, b):
    """Studentised statistic for one rating per respondent, written out: Welch t with SS + 0.5 per side."""
    va = (((a - a.mean()) ** 2).sum() + KAPPA) / (a.size * (a.size - 1))
    vb = (((b - b.mean()) ** 2).sum() + KAPPA) / (b.size * (b.size - 1))
    return (a.mean() - b.mean()) / np.sqrt(va + vb)


def _welch_p_officers(a, b):
    """The guard's t reference for one rating each, written out: the statistic above, Welch df (G - 1 per side)."""
    va = (((a - a.mean()) ** 2).sum() + KAPPA) / (a.size * (a.size - 1))
    vb = (((b - b.mean()) ** 2).sum() + KAPPA) / (b.size * (b.size - 1))
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return 2 * st.t.sf(abs(_welch_t_officers(a, b)), df)


def _cr1_var_statsmodels(ids, y):
    """CR1 variance of a ratio mean from statsmodels' cluster OLS on the individual ratings."""
    res = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": ids})
    return float(res.params[0]), float(res.bse[0]) ** 2


def test_constant_matches_module():
    from rmlib.stats.intervals import TEST_PSEUDO_SS

    assert TEST_PSEUDO_SS == KAPPA


# --------------------------------------------------------------------------- studentised permutation test
@pytest.mark.parametrize("seed,na,nb", [(1, 3, 4), (2, 4, 5), (3, 5, 5), (4, 2, 6)])
def test_studentised_permutation_equals_brute_force_officers(seed, na, nb):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 5, na + nb).astype(float)
    t0 = abs(_welch_t_officers(x[:na], x[na:]))
    hits = tot = 0
    for ia in itertools.combinations(range(na + nb), na):
        mask = np.zeros(na + nb, bool)
        mask[list(ia)] = True
        hits += abs(_welch_t_officers(x[mask], x[~mask])) >= t0 * (1 - 1e-9)
        tot += 1
    r = S.permutation_test(x[:na], np.ones(na), x[na:], np.ones(nb), guard=False)
    assert r.method == "exact" and r.n_perm == tot
    assert r.p == pytest.approx(hits / tot, abs=1e-15)
    # guarded (the default): the larger of the permutation and the Welch-Satterthwaite t p-values
    g = S.permutation_test(x[:na], np.ones(na), x[na:], np.ones(nb))
    assert g.p == pytest.approx(max(hits / tot, _welch_p_officers(x[:na], x[na:])), abs=1e-12)


def test_studentised_permutation_clustered_equals_brute_force_with_statsmodels_se():
    # providers-like: several ratings per respondent; every split's CR1 variance from statsmodels
    rng = np.random.default_rng(7)
    n_a, n_b = 4, 4
    k = rng.integers(1, 5, n_a + n_b)
    ids = np.repeat(np.arange(n_a + n_b), k)
    y = rng.integers(1, 5, ids.size).astype(float)
    sums, counts = np.bincount(ids, y), np.bincount(ids).astype(float)

    def T(side_a):
        parts = []
        for side in (side_a, [i for i in range(n_a + n_b) if i not in side_a]):
            sel = np.isin(ids, side)
            m, v = _cr1_var_statsmodels(ids[sel], y[sel])
            G = len(side)
            parts.append((m, v + G / (G - 1) * KAPPA / G**2))
        return abs(parts[0][0] - parts[1][0]) / np.sqrt(parts[0][1] + parts[1][1])

    t0 = T(list(range(n_a)))
    Ts = [T(list(c)) for c in itertools.combinations(range(n_a + n_b), n_a)]
    ref = np.mean([t >= t0 * (1 - 1e-9) for t in Ts])
    r = S.permutation_test(sums[:n_a], counts[:n_a], sums[n_a:], counts[n_a:], guard=False)
    assert r.p == pytest.approx(ref, abs=1e-12)


def test_studentised_test_is_the_welch_t_of_the_difference_and_its_interval_agrees():
    rng = np.random.default_rng(3)
    for _ in range(30):
        na, nb = int(rng.integers(5, 12)), int(rng.integers(5, 40))
        a = rng.integers(1, 5, na).astype(float)
        b = np.clip(rng.integers(1, 5, nb) + rng.integers(0, 2, nb), 1, 4).astype(float)
        r = S.permutation_test(a, np.ones(na), b, np.ones(nb), n_resamples=999, seed=1)
        se = np.sqrt(
            ((((a - a.mean()) ** 2).sum() + KAPPA) / (na * (na - 1)))
            + ((((b - b.mean()) ** 2).sum() + KAPPA) / (nb * (nb - 1)))
        )
        assert r.se == pytest.approx(se, rel=1e-12)
        assert r.diff == pytest.approx(a.mean() - b.mean(), abs=1e-12)
        # the interval is diff +- crit * se, and it excludes 0 exactly when p < 0.05
        assert (r.p < 0.05) == (r.low > 0 or r.high < 0)
        assert r.high - r.low > 0


@pytest.mark.slow
def test_studentised_test_is_far_closer_to_its_level_where_the_raw_one_is_not():
    # a subgroup with 5 times the variance of the rest (scores 1 and 4 only against mostly 2 and 3,
    # the worst case for any t statistic): the raw permutation test rejects 27 % (n = 8) and 12 %
    # (n = 30) of the time at a nominal 5 %; the studentised one 8.5 % and 5 % (measured, 400
    # replications; the full table is in benchmarks/README.md). Monte Carlo SE about 0.011.
    p_hi = np.array([0.5, 0.0, 0.0, 0.5])  # variance 2.25
    p_lo = np.array([0.05, 0.45, 0.45, 0.05])  # variance 0.45
    reps = 400
    for na, raw_min, stud_max in ((8, 0.2, 0.11), (30, 0.09, 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps))):
        raw = stud = 0
        for rep in range(reps):
            rng = np.random.default_rng([5, rep])
            a = rng.choice([1.0, 2, 3, 4], na, p=p_hi)
            b = rng.choice([1.0, 2, 3, 4], 80, p=p_lo)
            raw += (
                S.permutation_test(a, np.ones(na), b, np.ones(80), n_resamples=199, seed=rep, studentise=False).p < 0.05
            )
            stud += S.permutation_test(a, np.ones(na), b, np.ones(80), n_resamples=199, seed=rep).p < 0.05
        assert raw / reps > raw_min and stud / reps <= stud_max, (na, raw / reps, stud / reps)


def test_heavy_ties_studentised_test_is_exact_and_defined():
    # every score 3 on both sides (no spread anywhere): T = 0 for every split, p = 1, no NaN
    r = S.permutation_test(np.full(5, 3.0), np.ones(5), np.full(6, 3.0), np.ones(6))
    assert r.p == 1.0 and r.method == "exact" and r.low <= 0 <= r.high
    # one side constant, the other not: finite statistic
    r = S.permutation_test(np.full(5, 3.0), np.ones(5), np.array([3.0, 4, 3, 3, 4, 3]), np.ones(6))
    assert np.isfinite(r.se) and r.se > 0 and 0 < r.p <= 1


def test_no_test_below_five_respondents_whatever_min_cell_n():
    # min_cell_n = 2 shows small cells, but a side of 2-4 respondents is never tested (MIN_TEST_N = 5)
    from rmlib.stats.compare import MIN_TEST_N

    resp, mem, rl = make_year(2, n_off=14, n_prov=10)
    cells = crosstab(resp, mem, rl)
    out = S.compare_cells(cells, pd.concat([resp, rl]), mem, kinds=["rest"], n_resamples=199, min_cell_n=2)
    assert MIN_TEST_N == 5
    small = out[out["n"] < MIN_TEST_N]
    assert len(small) and small["rest_p"].isna().all() and (small["rest_p_method"] == "none").all()
    assert out.loc[out["n"] >= MIN_TEST_N, "rest_p"].notna().any()


# --------------------------------------------------------------------------- sign flip (paired)
def test_sign_flip_exact_reference_and_brute_force():
    d = np.array(REF["sign_flip_5"]["d"])
    r = S.sign_flip_test(d)
    assert r.method == "exact" and r.n_perm == 32
    assert r.p == pytest.approx(REF["sign_flip_5"]["p"], abs=1e-15)
    rng = np.random.default_rng(2)
    for n in (6, 9):
        d = np.round(rng.normal(0.2, 0.5, n), 2)
        n_ = d.size

        def t(m, d=d, n_=n_):
            return abs(m) / np.sqrt((d @ d - n_ * m * m + KAPPA) / (n_ * (n_ - 1)))

        t0 = t(d.mean())
        T = [t(np.dot(s, d) / n_) for s in itertools.product([1, -1], repeat=n_)]
        flips = np.mean([x >= t0 * (1 - 1e-9) for x in T])
        assert S.sign_flip_test(d, guard=False).p == pytest.approx(flips, abs=1e-15)
        # guarded: and the paired t reference with n - 1 df
        assert S.sign_flip_test(d).p == pytest.approx(max(flips, 2 * st.t.sf(t0, n_ - 1)), abs=1e-12)


def test_guard_binds_where_the_permutation_alone_is_not_valid():
    # 5 officers (4, 4, 4, 3, 2) against 80 mostly giving 2 and 3: the permutation alone says p = 0.044
    # ("significant"); with 5 answers the t reference (about 4 df) says 0.10, and the guard takes it
    a = np.array([4.0, 4, 4, 3, 2])
    b = np.repeat([1.0, 2, 3, 4], [4, 36, 36, 4])
    raw = S.permutation_test(a, np.ones(5), b, np.ones(80), n_resamples=999, seed=1, guard=False)
    g = S.permutation_test(a, np.ones(5), b, np.ones(80), n_resamples=999, seed=1)
    welch = _welch_p_officers(a, b)
    assert raw.p < 0.05 < welch
    assert g.p == pytest.approx(welch, abs=1e-12)
    # the interval is inverted at the larger critical value (the t one here) and agrees with the verdict
    va = (((a - a.mean()) ** 2).sum() + KAPPA) / 20
    vb = (((b - b.mean()) ** 2).sum() + KAPPA) / (80 * 79)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 79)
    assert g.crit == pytest.approx(st.t.ppf(0.975, df), rel=1e-12)
    assert g.low < 0 < g.high and raw.low > 0


def test_sign_flip_large_sample_is_the_paired_t():
    rng = np.random.default_rng(4)
    d = rng.normal(0.05, 0.6, 1500)
    r = S.sign_flip_test(d, large_n=1000)
    se = np.sqrt((((d - d.mean()) ** 2).sum() + KAPPA) / (d.size * (d.size - 1)))
    assert r.method == "t"
    assert r.p == pytest.approx(2 * st.t.sf(abs(d.mean()) / se, d.size - 1), abs=1e-12)
    # and with the pseudo term negligible at this size, scipy's paired / one-sample t
    assert r.p == pytest.approx(st.ttest_1samp(d, 0).pvalue, abs=1e-4)
    mc = S.sign_flip_test(d[:300], n_resamples=4999, seed=1)
    assert mc.method == "monte carlo" and abs(mc.p - st.ttest_1samp(d[:300], 0).pvalue) < 0.03


def test_compare_cells_department_vs_other_departments_is_paired():
    resp, mem, rl = make_year(1, n_prov=30)
    cells = crosstab(resp, mem, rl)
    out = S.compare_cells(cells, pd.concat([resp, rl]), mem, kinds=["rest"], n_resamples=999, seed=3)
    # reference in plain pandas: each provider's d0 rating minus the mean of their other departments' ratings
    q = "trust"
    r = rl[(rl["question"] == q) & (rl["count"] > 0)]
    per = r.assign(score=r["sum"] / r["count"])
    own = per[per["category"] == "d0"].set_index("respondent_id")["score"]
    oth = per[per["category"] != "d0"].groupby("respondent_id").apply(lambda g: g["sum"].sum() / g["count"].sum())
    both = own.index.intersection(oth.index)
    d = (own[both] - oth[both]).to_numpy()
    row = out[(out["category"] == "d0") & (out["question"] == q)].iloc[0]
    assert row["rest_diff"] == pytest.approx(d.mean(), abs=1e-12)
    assert row["rest_n_other"] == len(d)
    assert row["rest_mean_other"] == pytest.approx(oth[both].mean(), abs=1e-12)
    ref = S.sign_flip_test(
        d, n_resamples=999, seed=S._base._seed_for(3, "flip", "provider", "rated_department", "d0", q)
    )
    assert row["rest_p"] == pytest.approx(ref.p, abs=1e-15)
    assert row["rest_p_method"] == f"sign_flip {ref.method}"
    assert row["rest_id"] == "rest|provider|rated_department|d0|trust"


# --------------------------------------------------------------------------- one comparison, one verdict
def test_the_corrections_are_the_declared_parameter_values():
    # one list of allowed values: the parameter's choices (rmlib.params), which stats accepts and refuses by
    from rmlib.params import SPECS

    assert S.CORRECTIONS is SPECS["correction"].choices
    with pytest.raises(ValueError, match="fdr_bh"):
        S.adjust_pvalues([0.01, 0.2], method="bonferroni")


def test_adjust_comparisons_reference_and_dedup():
    ref = REF["bh_example"]
    p = np.array(ref["p"])
    ids = [f"rest|officer|quadrant|c{i}|trust" for i in range(p.size)]
    out = S.adjust_comparisons(ids + ids[:3], np.r_[p, p[:3]], "fdr_bh")  # duplicates count once
    assert len(out) == p.size
    assert np.allclose(out["p_adj"], ref["p_adj"], rtol=0, atol=1e-15)
    out = S.adjust_comparisons(ids, p, "holm")  # one family here
    assert np.allclose(out["p_adj"], ref["holm_p_adj"], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="different p-values"):
        S.adjust_comparisons(["a|b", "a|b"], [0.1, 0.2])
    with pytest.raises(ValueError, match="correction"):
        S.adjust_comparisons(["a|b"], [0.1], "bonferroni")
    assert S.family_of("groups|quadrant|North|trust", "holm") == "groups|quadrant"
    assert S.family_of("last_year|provider|size|Large|overall", "holm") == "last_year|provider|size"
    assert S.family_of("last_year|provider|size|Large|overall", "fdr_bh") == "all"


@pytest.fixture(scope="module")
def tested():
    resp, mem, rl = make_year(1)
    resp_l, mem_l, rl_l = make_year(9, n_off=30, n_prov=30, prefix="L")
    cells = crosstab(resp, mem, rl)
    # the same comparisons in a second table, as provider_by_* and compare_by_* share cells
    dup = cells[cells["table"].isin(["officer_by_quadrant", "provider_by_quadrant"])].assign(
        table="compare_by_quadrant"
    )
    cells = pd.concat([cells, dup], ignore_index=True)
    out = S.compare_cells(
        cells,
        pd.concat([resp, rl]),
        mem,
        resp_last=pd.concat([resp_l, rl_l]),
        memberships_last=mem_l,
        n_resamples=499,
        seed=2,
        check="ignore",
    )
    return out


def test_bh_over_all_distinct_comparisons_of_every_kind(tested):
    d = S.distinct_comparisons(tested)
    assert d["comparison"].is_unique
    exp = multipletests(d["p"].to_numpy(), method="fdr_bh")[1]
    assert np.allclose(d["p_adj"].to_numpy(), exp, rtol=0, atol=1e-12)
    assert set(d["kind"]) == {"rest", "last_year", "groups"}


def test_one_comparison_one_verdict_everywhere(tested):
    for k in S.COMPARISON_KINDS:
        sub = tested[tested[f"{k}_p"].notna()]
        g = sub.groupby(f"{k}_id")
        for col in ("p", "p_adj"):
            assert (g[f"{k}_{col}"].nunique() == 1).all(), (k, col)
        assert (g[f"{k}_significant"].nunique() == 1).all()
        # rows of the second table carry the same verdicts as the first
        assert sub["table"].eq("compare_by_quadrant").any()
        # a significant difference never shows an interval containing 0; p < 0.05 <=> 0 outside
        outside = (sub[f"{k}_diff_low"] > 0) | (sub[f"{k}_diff_high"] < 0)
        assert not (sub[f"{k}_significant"].astype(bool) & ~outside).any()
        assert ((sub[f"{k}_p"] < 0.05) == outside).all()


def test_holm_option_and_effective_alpha(tested):
    fam = S.effective_alpha(tested, "fdr_bh", 0.05)
    d = S.distinct_comparisons(tested)
    m, r = len(d), int((d["p_adj"] < 0.05).sum())
    assert fam.values.tolist() == [["all", m, r, 0.05 * max(r, 1) / m]]
    # hand case: 2 comparisons, 1 significant under BH -> 0.05 * 1 / 2; Holm per family -> 0.05 / (m - r)
    cells = pd.DataFrame(
        {
            "rest_id": ["rest|o|a|x|q", "rest|o|a|y|q", "rest|o|b|x|q"],
            "rest_p": [0.001, 0.2, 0.3],
            "rest_p_adj": [0.003, 0.3, 0.3],
        }
    )
    assert S.effective_alpha(cells, "fdr_bh").values.tolist() == [["all", 3, 1, 0.05 / 3]]
    holm = S.effective_alpha(cells, "holm").set_index("family")
    assert holm.loc["rest|o|a", "alpha"] == 0.05 and holm.loc["rest|o|b", "alpha"] == 0.05


def test_power_table_uses_the_corrected_alpha(tested):
    resp, mem, rl = make_year(1)
    cells = crosstab(resp, mem, rl)
    fam = pd.DataFrame({"family": ["all"], "m": [100], "significant": [2], "alpha": [0.001]})
    pt = S.power_table(cells, pd.concat([resp, rl]), mem, alphas=fam)
    plain = S.power_table(cells, pd.concat([resp, rl]), mem)
    assert (pt["alpha"] == 0.001).all() and (plain["alpha"] == 0.05).all()
    row = pt.iloc[0]
    assert row["mdd"] == pytest.approx(
        S.min_detectable_difference(row["n"], row["n_rest"], row["sd"], 0.001), abs=1e-12
    )
    assert (pt["mdd"] > plain["mdd"]).all() and (pt["n_needed"] > plain["n_needed"]).all()


# --------------------------------------------------------------------------- intervals that cover
def test_pseudo_interval_reference_and_never_zero_width():
    ref = REF["pseudo_interval_all_3_n5"]
    low, high, m = S.cell_interval(np.full(5, 3.0), np.ones(5))
    assert (low, high) == pytest.approx((ref["low"], ref["high"]), abs=1e-12) and m == "pseudo_t"
    # providers all giving the same score: not zero width either
    low, high, _ = S.cell_interval([6.0, 3.0, 9.0, 12.0, 3.0], [2, 1, 3, 4, 1])
    assert low < 3 < high
    low, high, m = S.overall_interval(np.full((30, 8), 2.0), np.ones((30, 8)))
    assert low < 2 < high and m == "pseudo_t"


def test_pseudo_interval_coverage_exact_binomial_heavy_ties():
    # scores 3 or 4 with P(4) = 0.1: the exact coverage of the interval, summed over the binomial
    for n, cov in REF["pseudo_interval_coverage_p4_0.1"]["coverage"].items():
        n = int(n)
        hits = 0.0
        for k in range(n + 1):
            x = np.r_[np.full(k, 4.0), np.full(n - k, 3.0)]
            low, high, _ = S.cell_interval(x, np.ones(n))
            hits += st.binom.pmf(k, n, 0.1) * (low <= 3.1 <= high)
        assert hits == pytest.approx(cov, abs=1e-12)
        assert hits >= 0.93


@pytest.mark.slow
def test_pseudo_interval_coverage_clustered_from_n5():
    rng = np.random.default_rng(8)
    for design in ("officer", "provider"):
        big_s, big_c = gen_design(np.random.default_rng(99), 200_000, design)
        target = big_s[:, 2].sum() / big_c[:, 2].sum()
        hits = 0
        reps = 300
        for _ in range(reps):
            s, c = gen_design(rng, 5, design)
            low, high, _ = S.cell_interval(s[:, 2], c[:, 2])
            hits += low <= target <= high
        assert hits / reps >= 0.93


# --------------------------------------------------------------------------- the simulation runs
@pytest.mark.benchmark
def test_null_simulation_smoke():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "null_simulation.py"), "--code", "after", "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for col in ("fpr", "mc_se", "power", "cov_a", "diff_cov", "disagree"):
        assert col in out
    lines = [
        ln.split()
        for ln in out.splitlines()
        if ln.split()[:1] in (["subgroup"], ["providers"], ["ties"], ["last_year"])
    ]
    assert len(lines) == 4
