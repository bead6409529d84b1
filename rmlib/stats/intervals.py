"""Confidence intervals: a cell's mean, a set's overall score, a difference of two sets.

Cell interval (:func:`cell_interval`): the linearised cluster-robust (CR1)
t interval of the ratio mean with two *pseudo-respondents* added, one a scale
point above and one a scale point below the cell mean (``PSEUDO_SS`` = 2
points^2 added to the sum of squared respondent deviations, and 2 degrees of
freedom). Why: on a bounded 1-4 scale a small cell often has every
respondent giving the same score; the plain t interval then has zero width
and, with heavy ties (scores 3 and 4 only), covers 40-84 % at n = 5. The two
pseudo-respondents are the bounded-scale analogue of the Agresti-Coull /
Wilson "add pseudo-observations" fix for a binomial proportion: the
interval is never of zero width, and its coverage is at least 0.93 for
n >= 5 in every scenario of ``benchmarks/null_simulation.py`` (exact
binomial computation for 3/4 scores, worst case over P(4) in 0.03-0.5: 0.938
at n = 200, 0.95-1.0 at n = 5-50). The cost is width in small cells (at
n = 5 and a respondent SD of 0.7, 1.3 times the plain t interval; at n = 30,
1.03 times). ``pseudo=False`` gives the plain interval (statsmodels' exactly,
with ``df_method="clusters"``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from ._base import (
    _MAX_MATRIX,
    _ZERO_VAR,
    LARGE_SAMPLE_N,
    MIN_BOOT_N,
    _active,
    _as_2d,
    _check_level,
    _linearise,
    _rng,
    _stat,
    _welch_df,
)

#: Sum of squares (points^2) of the two pseudo-respondents added to a cell's interval.
PSEUDO_SS = 2.0
#: Degrees of freedom the two pseudo-respondents add.
PSEUDO_DF = 2
#: Sum of squares (points^2) of the pseudo pair in the *tests'* studentisation: one pseudo-respondent
#: half a scale point either side of the mean. It keeps a side without spread (every respondent
#: alike, common on a 1-4 scale) from counting as infinitely precise, which made the studentised
#: permutation test lose most of its power with heavy ties; being O(1/n^2) it vanishes with n, so the
#: statistic is still asymptotically the cluster-robust Welch t. Smaller values (0.1, 0.02) changed the
#: simulated false-positive rates by less than their Monte Carlo error and cost power with ties; the
#: interval's value (2) made the test anti-conservative for a 5-respondent subgroup with 5 times the
#: rest's variance (11 % instead of 7 %).
TEST_PSEUDO_SS = 0.5


def cell_interval(
    sums, counts, level: float = 0.95, df_method: str = "satterthwaite", pseudo: bool = True
) -> tuple[float, float, str]:
    """Confidence interval for a cell's mean rating, respondents as clusters.

    The cell mean is the ratio ``sum(sums) / sum(counts)``. Its standard
    error is the linearised cluster-robust (CR1) one, identical to the
    ``bse`` of statsmodels' ``OLS(ratings, 1).fit(cov_type="cluster",
    cov_kwds={"groups": respondent}, use_t=True)``; the t reference has
    ``G - 1`` degrees of freedom (G = respondents) when every respondent gives
    the same number of ratings and, by default, fewer (Satterthwaite, see
    ``_linearise``) when they do not.

    With ``pseudo=True`` (default) two pseudo-respondents are added, one
    scale point above and one below the cell mean, each with the average
    number of ratings: the variance becomes ``G / (G - 1) * (sum u_i**2 +
    PSEUDO_SS / G**2)`` and the degrees of freedom grow by 2 (module notes:
    never a zero-width interval, coverage >= 0.93 from n = 5 even for
    all-tied cells). For officers (one rating each) this is the t interval
    with ``(SS + 2) / (n (n - 1))`` as the squared standard error and
    ``n + 1`` df.

    Parameters
    ----------
    sums, counts : array_like, shape (N,)
        Per respondent: sum and number of their valid scores in the cell.
        Respondents with ``count == 0`` are ignored.
    level : float
        Confidence level.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the t reference.
    pseudo : bool
        Add the two pseudo-respondents.

    Returns
    -------
    low, high : float
        Interval ends, not clipped to the 1-4 scale (a wide interval says so).
    method : str
        ``"pseudo_t"`` (default), ``"cluster_t"`` (``pseudo=False``),
        ``"zero_variance"`` (``pseudo=False`` and every respondent's mean equals
        the cell mean) or ``"none"`` (NaN ends) with fewer than 2 respondents.

    Examples
    --------
    >>> low, high, method = cell_interval([3, 2, 4, 3], [1, 1, 1, 1], pseudo=False)
    >>> round(float(low), 3), round(float(high), 3), method
    (1.701, 4.299, 'cluster_t')
    >>> low, high, method = cell_interval([3, 3, 3, 3, 3], [1] * 5)
    >>> round(float(low), 3), round(float(high), 3), method
    (2.226, 3.774, 'pseudo_t')
    """
    _check_level(level)
    s, c = _as_2d(sums, counts)
    if s.shape[1] != 1:
        raise ValueError("cell_interval takes one question (1-D sums/counts); use overall_interval for 2-D")
    return _t_interval(s, c, level, df_method, pseudo)


def _t_interval(s, c, level, df_method="satterthwaite", pseudo: bool = True) -> tuple[float, float, str]:
    est, var, G, df = _linearise(s, c, df_method)
    if G < 2:
        return np.nan, np.nan, "none"
    if pseudo:
        var = var + G / (G - 1) * PSEUDO_SS / (G * G)
        df = df + PSEUDO_DF
    elif var <= _ZERO_VAR:
        return float(est), float(est), "zero_variance"
    t = _st.t.ppf(0.5 + level / 2, df)
    half = t * math.sqrt(var)
    return float(est - half), float(est + half), "pseudo_t" if pseudo else "cluster_t"


def overall_interval(
    sums,
    counts,
    level: float = 0.95,
    n_boot: int = 9999,
    seed=0,
    min_boot_n: int = MIN_BOOT_N,
    df_method: str = "satterthwaite",
    large_n: int | None = LARGE_SAMPLE_N,
    pseudo: bool = True,
) -> tuple[float, float, str]:
    """Confidence interval for the overall score (mean of question means).

    With ``min_boot_n`` (100) to ``large_n - 1`` (999) respondents:
    respondent-cluster percentile bootstrap. Each replicate draws N
    respondents with replacement, as a (B x N) matrix of multiplicities W, so
    the replicate sums and counts are ``W @ sums`` and ``W @ counts`` (B x Q);
    the statistic is the mean over questions of their ratios. Otherwise the
    linearised cluster-t interval of :func:`cell_interval` applied to the
    overall statistic, with the same two pseudo-respondents (``pseudo``):
    below 100 the percentile bootstrap is too narrow (simulated coverage
    47-93 % at n = 2-20), and from 1000 it costs ``n_boot`` x n and no longer
    differs from the t interval. A bootstrap without spread (every
    respondent alike) gives way to the t interval too.

    Parameters
    ----------
    sums, counts : array_like, shape (N, Q)
        Per respondent and question: sum and number of valid scores.
        Respondents with no rating at all are ignored. 1-D input is treated as
        one question.
    level : float
        Confidence level.
    n_boot : int
        Bootstrap replicates.
    seed : int, numpy.random.Generator or None
        Random seed (passed explicitly; the default 0 makes runs repeatable).
    min_boot_n : int
        Smallest number of respondents for which the bootstrap is used.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the t interval (see :func:`cell_interval`).
    large_n : int or None
        Smallest number of respondents for which the t interval replaces the
        bootstrap again (None: bootstrap at any size from ``min_boot_n``).
    pseudo : bool
        Two pseudo-respondents in the t interval (see :func:`cell_interval`).

    Returns
    -------
    low, high : float
    method : str
        ``"bootstrap_percentile"``, ``"pseudo_t"`` / ``"cluster_t"``,
        ``"zero_variance"`` (only with ``pseudo=False``) or ``"none"`` (fewer
        than 2 respondents).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> counts = np.ones((120, 8))
    >>> sums = rng.integers(1, 5, size=(120, 8)).astype(float)
    >>> low, high, method = overall_interval(sums, counts, n_boot=999, seed=2)
    >>> method, bool(low < sums.mean() < high)
    ('bootstrap_percentile', True)
    """
    _check_level(level)
    s, c = _as_2d(sums, counts)
    s, c = _active(s, c)
    G = s.shape[0]
    if G < 2:
        return np.nan, np.nan, "none"
    if G < min_boot_n or (large_n is not None and G >= large_n):
        return _t_interval(s, c, level, df_method, pseudo)
    T = _bootstrap(s, c, n_boot, _rng(seed))
    if T.size == 0 or np.ptp(T) <= 1e-12:
        return _t_interval(s, c, level, df_method, pseudo)
    a = (1 - level) / 2
    low, high = np.quantile(T, [a, 1 - a])
    return float(low), float(high), "bootstrap_percentile"


def _bootstrap(s: np.ndarray, c: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """The finite statistics of ``n_boot`` respondent-cluster bootstrap replicates (module notes of
    :func:`overall_interval`), built in chunks of at most ``_MAX_MATRIX`` multiplicities."""
    G = s.shape[0]
    reps = []
    done = 0
    chunk = max(1, _MAX_MATRIX // G)
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, G, size=(b, G))
        flat = (np.arange(b)[:, None] * G + idx).ravel()
        W = np.bincount(flat, minlength=b * G).reshape(b, G).astype(float)
        reps.append(_stat(W @ s, W @ c))
        done += b
    T = np.concatenate(reps)
    return T[np.isfinite(T)]


def diff_interval(
    sums_a, counts_a, sums_b, counts_b, level: float = 0.95, df_method: str = "satterthwaite"
) -> tuple[float, float, float, str]:
    """Welch-type interval for the difference A - B of two independent sets' statistic.

    Each set's linearised cluster-robust variance (as in
    :func:`cell_interval` without pseudo-respondents; for 2-D input, of the
    overall statistic) is added and the t reference uses Welch-Satterthwaite
    degrees of freedom ``(vA + vB)**2 / (vA**2 / dfA + vB**2 / dfB)``. With
    one rating per respondent this is exactly Welch's interval
    (``scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval()``).
    It is the large-sample counterpart of the studentised permutation
    interval that :func:`rmlib.stats.compare_two` reports (the same
    statistic, with the t reference instead of the permutation distribution).

    Returns
    -------
    diff, low, high : float
    method : str
        ``"welch_cluster_t"``, ``"zero_variance"`` or ``"none"`` (a set with
        fewer than 2 respondents).

    Examples
    --------
    >>> d, low, high, m = diff_interval([3, 4, 3, 4], [1, 1, 1, 1], [2, 2, 3, 1], [1, 1, 1, 1])
    >>> float(d), m
    (1.5, 'welch_cluster_t')
    """
    _check_level(level)
    sa, ca = _as_2d(sums_a, counts_a, "a: ")
    sb, cb = _as_2d(sums_b, counts_b, "b: ")
    return _diff_t(sa, ca, sb, cb, level, df_method)[:4]


def _diff_t(
    sa, ca, sb, cb, level, df_method="satterthwaite", pseudo: bool = False
) -> tuple[float, float, float, str, float]:
    """:func:`diff_interval` plus the two-sided p-value of its t statistic (NaN unless ``"welch_cluster_t"``).

    ``pseudo``: each side's variance with the pseudo pair of the tests
    (``TEST_PSEUDO_SS``), the studentisation of the permutation test; the
    large-sample rule of ``compare_cells`` uses it so that both refer the very
    same statistic to their reference distributions.
    """
    ea, va, ga, dfa = _linearise(sa, ca, df_method)
    eb, vb, gb, dfb = _linearise(sb, cb, df_method)
    d = float(ea - eb) if (ga and gb) else np.nan
    if ga < 2 or gb < 2:
        return d, np.nan, np.nan, "none", np.nan
    if pseudo:
        va, vb = va + ga / (ga - 1) * TEST_PSEUDO_SS / ga**2, vb + gb / (gb - 1) * TEST_PSEUDO_SS / gb**2
    v = va + vb
    if v <= _ZERO_VAR:
        return d, d, d, "zero_variance", np.nan
    df = _welch_df(va, dfa, vb, dfb)
    half = float(_st.t.ppf(0.5 + level / 2, df)) * math.sqrt(v)
    p = float(2 * _st.t.sf(abs(d) / math.sqrt(v), df))
    return d, d - half, d + half, "welch_cluster_t", p


#: sampling fraction from which the finite-population correction is applied (below it the correction is
#: under 2.5% of the interval's width, the usual rule of thumb of survey texts)
FPC_MIN_FRACTION = 0.05


def finite_population_correction(cells, population, min_fraction: float = FPC_MIN_FRACTION):
    """Narrow each cell interval where a known share of a finite population answered.

    A survey of n of the N people invited samples without replacement: the
    standard error of a mean is ``sqrt(1 - n/N)`` times the one for an
    unlimited population (Cochran, *Sampling Techniques*, 3rd ed., Theorem 2.2;
    no library applies it to a cluster interval, so it is written here). For
    every row whose ``(group, attribute, category)`` has a population size in
    ``population`` and whose ``n / N`` is at least ``min_fraction``, the
    interval is shrunk about the mean by that factor (a t interval exactly;
    a bootstrap interval's two half-widths alike), ``ci_method`` gains
    ``+fpc`` and ``fpc`` holds the factor (1 where not applied). Tests are not
    changed: they compare the processes behind the answers, not the invited
    population's own means.

    Raises ``ValueError`` naming the cell where more respondents answered
    than were invited (the invited count is wrong).

    >>> import pandas as pd
    >>> c = pd.DataFrame({"group": ["officer"], "attribute": ["all"], "category": ["All"], "question": ["trust"],
    ...                   "mean": [2.5], "n": [50], "ci_low": [2.0], "ci_high": [3.0], "ci_method": ["pseudo_t"]})
    >>> out = finite_population_correction(c, {("officer", "all", "All"): 100})
    >>> [round(float(v), 4) for v in (out.fpc[0], out.ci_low[0], out.ci_high[0])], out.ci_method[0]
    ([0.7071, 2.1464, 2.8536], 'pseudo_t+fpc')
    """
    import pandas as pd

    out = cells.copy()
    out["fpc"] = 1.0
    if not population:
        return out
    keys = list(zip(out["group"].astype(str), out["attribute"].astype(str), out["category"].astype(str)))
    big_n = pd.Series([population.get(k) for k in keys], index=out.index, dtype="float64")
    n = pd.to_numeric(out["n"], errors="coerce")
    over = big_n.notna() & (n > big_n)
    if over.any():
        r = out[over].iloc[0]
        raise ValueError(
            f"{r['group']} {r['attribute']} {r['category']!r}: {int(r['n'])} respondents but only "
            f"{int(big_n[over].iloc[0])} invited; correct the invited count"
        )
    use = big_n.notna() & (big_n > 0) & (n / big_n >= min_fraction) & out["ci_low"].notna() & out["ci_high"].notna()
    factor = np.sqrt(1.0 - n[use] / big_n[use])
    m = out.loc[use, "mean"]
    out.loc[use, "ci_low"] = m - (m - out.loc[use, "ci_low"]) * factor
    out.loc[use, "ci_high"] = m + (out.loc[use, "ci_high"] - m) * factor
    out.loc[use, "fpc"] = factor
    out.loc[use, "ci_method"] = out.loc[use, "ci_method"].astype(str) + "+fpc"
    return out
