"""Intervals, tests, multiple-comparison control, effect sizes and power.

The unit of inference is the respondent
---------------------------------------
A cell's statistic is the mean of all valid ratings in it, which is a *ratio*:
``sum(scores) / count(ratings)``, summed over the cell's respondents. A
provider rates up to ten ECC departments per question and those ratings are
not independent, so every interval and test here resamples or permutes
*respondents* (clusters), always for that very statistic. A cell is therefore
fully described by one row per respondent: the sum and the count of that
respondent's valid scores in the cell (``docs/contracts.md``).

The *overall* statistic of a set of respondents is the mean, over the eight
questions, of each question's ratio mean (questions without any rating are
skipped). Functions taking ``sums``/``counts`` accept 1-D arrays (one
question: shape ``(N,)``) or 2-D arrays (overall: shape ``(N, 8)``, or any
``(N, Q)``); a 1-D input is the one-column special case, because the mean of
one question mean is that question's mean.

Respondents without any valid rating in the cell (``count == 0`` for a
question, all counts 0 for overall) are not in the cell (the contract's ``n``
counts respondents with at least one valid rating) and are dropped before
anything is computed.

Methods (and why)
-----------------
Cell interval (one question): the linearised (delta-method) variance of the
    ratio estimator with the cluster-robust small-sample factor
    ``G / (G - 1)`` (G = respondents): exactly the standard error of
    statsmodels' OLS of the individual ratings on a constant with
    ``cov_type="cluster"``. The t reference has ``G - 1`` degrees of freedom
    when every respondent gives the same number of ratings - so for officers
    it is exactly the classical one-sample t interval - and fewer when the
    numbers differ (a Satterthwaite correction, see :func:`cell_interval`):
    with statsmodels' ``G - 1`` the simulated coverage for providers-like
    data is 91-94 % at n = 3-20, with the correction 95-97 %.
    ``df_method="clusters"`` gives statsmodels' interval exactly (tested to
    1e-10). No resampling, so it is fast and deterministic.
Overall interval: a respondent-cluster percentile bootstrap of the mean of
    question means from ``MIN_BOOT_N`` (100) respondents. Below that the
    percentile bootstrap is too narrow (simulated coverage 47-93 % at
    n = 2-20, 92-94 % at n = 30-50), so the same linearised cluster-t interval
    as for a cell is used, applied to the overall statistic (for respondents
    who answered every question once this is the t interval on
    respondent-level overall means); it covers 94.5-96.5 % at every n
    simulated (2-100).
Difference of two independent sets: linearised cluster-robust variance for
    each set, added, with Welch-Satterthwaite degrees of freedom; for
    one-rating-per-respondent data this is exactly Welch's interval.
Tests: a permutation test of the difference of the statistic itself,
    permuting respondents between the two sets (exact enumeration when
    feasible); Welch's t and Brunner-Munzel on respondent-level means are
    reported alongside, never used for "significant".
Large samples (``LARGE_SAMPLE_N``, 1000 respondents): resampling costs
    resamples x respondents per statistic, which for a national survey
    (10^5 respondents, thousands of cells, 9 999 resamples) is hours. From
    1000 respondents the overall interval's bootstrap is replaced by the
    cluster t interval, and in :func:`compare_cells` a comparison whose
    *both* sides have 1000 respondents or more is tested with the
    cluster-robust Welch t (the difference over the standard error of
    :func:`diff_interval`, so test and interval always agree; where it is
    undefined, with no variance on either side, the permutation test is
    kept). At that size the resampling distribution is normal to within its
    own Monte Carlo error: ``tests/test_stats.py`` checks permutation and
    Welch-t p-values, and bootstrap and t intervals, agree on data built at
    the threshold.
    The method used is recorded per row (``ci_method``, ``*_p_method``).
Intervals are not clipped to the 1-4 scale: a t interval for a tiny cell may
    run past 4 or below 1, which honestly says that it is wide; clipping
    would hide that and make the interval look more precise than it is. The
    report may clip for display, saying so.
"""
from __future__ import annotations

import itertools
import math
import warnings
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._coding import text_codes
from .constants import ATTRIBUTE_LABEL, GROUP_LABEL, QUESTION_LABEL, QUESTIONS

__all__ = [
    "cell_interval",
    "overall_interval",
    "permutation_test",
    "PermutationResult",
    "diff_interval",
    "compare_two",
    "adjust_pvalues",
    "rating_level_sums",
    "add_intervals",
    "compare_cells",
    "min_detectable_difference",
    "responses_needed",
    "power_table",
    "describe_finding",
    "CORRECTIONS",
    "COMPARISON_KINDS",
    "COMPARISON_COLUMNS",
    "DF_METHODS",
    "MIN_BOOT_N",
    "LARGE_SAMPLE_N",
]

#: Multiple-comparison corrections accepted by :func:`adjust_pvalues`.
CORRECTIONS: tuple[str, ...] = ("holm", "fdr_bh")
#: Comparison kinds produced by :func:`compare_cells`.
COMPARISON_KINDS: tuple[str, ...] = ("rest", "last_year", "groups")
#: Suffixes of the columns each comparison kind adds (``f"{kind}_{suffix}"``).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "diff", "diff_low", "diff_high", "p", "p_adj", "significant",
    "welch_p", "bm_p", "prob_sup", "mean_other", "n_other", "p_method",
)
#: Attribute value of whole-group rows in a cell table.
ALL = "all"

_TIE_RTOL = 1e-12          # relative tolerance when comparing |T*| >= |T_obs|
_ZERO_VAR = 1e-24          # a variance below this (scores are 1-4) is zero
_MAX_MATRIX = 4_000_000    # elements of a resampling matrix built at once
_MAX_MASK = 32_000_000     # booleans of the membership mask used to draw random splits
_MAX_KEEP = 16_000_000     # elements of 0/1 split matrices kept for reuse across tests
#: Default smallest n for the bootstrap in :func:`overall_interval` (below: cluster t).
MIN_BOOT_N = 100
#: Default number of respondents from which resampling gives way to its large-sample
#: equivalent: the overall interval's bootstrap to the cluster t interval, and in
#: :func:`compare_cells` the permutation test to the cluster-robust Welch t test when
#: *both* sides have at least this many respondents (see the module notes).
LARGE_SAMPLE_N = 1000


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------
def _as_2d(sums, counts, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate respondent-level sums/counts and return 2-D float arrays."""
    s = np.asarray(sums, dtype=float)
    c = np.asarray(counts, dtype=float)
    if s.shape != c.shape:
        raise ValueError(f"{name}sums and counts must have the same shape; got {s.shape} and {c.shape}")
    if s.ndim == 1:
        s, c = s[:, None], c[:, None]
    elif s.ndim != 2:
        raise ValueError(f"{name}sums must be 1-D (one question) or 2-D (respondents x questions); got {s.ndim}-D")
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"{name}counts must be finite and >= 0")
    bad = (c > 0) & ~np.isfinite(s)
    if bad.any():
        raise ValueError(f"{name}sums must be finite wherever counts > 0")
    s = np.where(c > 0, s, 0.0)
    return s, c


def _active(s: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep respondents with at least one valid rating."""
    keep = (c > 0).any(axis=1)
    return s[keep], c[keep]


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _stat(S: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Mean over questions (last axis) of ratio means S/C, skipping C == 0."""
    valid = C > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(valid, S / np.where(valid, C, 1.0), 0.0)
    k = valid.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, r.sum(axis=-1) / np.maximum(k, 1), np.nan)


def _respondent_means(s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Each respondent's own statistic (mean of their question means)."""
    return _stat(s, c)


DF_METHODS: tuple[str, ...] = ("satterthwaite", "clusters")


def _linearise(s: np.ndarray, c: np.ndarray, df_method: str = "satterthwaite") -> tuple[float, float, int, float]:
    """Statistic, linearised cluster-robust variance, clusters and degrees of freedom.

    For the statistic ``T = mean_q (S_q / C_q)`` over questions with ratings,
    respondent ``i``'s influence is ``u_i = mean_q (s_iq - m_q c_iq) / C_q``
    and ``Var(T) = G / (G - 1) * sum_i u_i**2``. With one question this is the
    cluster-robust (CR1) variance of an intercept-only OLS of the ratings.

    Degrees of freedom: ``"clusters"`` gives ``G - 1`` (statsmodels);
    ``"satterthwaite"`` gives ``(G - 1) / G * (sum a_i**2)**2 / sum a_i**4``
    where ``a_i = mean_q c_iq / C_q`` is respondent i's weight in the
    statistic. That is the Satterthwaite df of the variance estimator when a
    respondent's own mean is what varies (``Var(u_i)`` proportional to
    ``a_i**2``): respondents giving many ratings dominate, so there is less
    information than G clusters suggest. With equal weights (every officer
    answering) it is exactly ``G - 1``.
    """
    if df_method not in DF_METHODS:
        raise ValueError(f"df_method must be one of {DF_METHODS}; got {df_method!r}")
    s, c = _active(s, c)
    G = s.shape[0]
    if G == 0:
        return np.nan, np.nan, 0, np.nan
    Cq = c.sum(axis=0)
    valid = Cq > 0
    m = s[:, valid].sum(axis=0) / Cq[valid]
    est = float(m.mean())
    if G < 2:
        return est, np.nan, G, np.nan
    u = ((s[:, valid] - m * c[:, valid]) / Cq[valid]).mean(axis=1)
    var = float(G / (G - 1) * np.sum(u * u))
    if df_method == "clusters":
        df = float(G - 1)
    else:
        a2 = ((c[:, valid] / Cq[valid]).mean(axis=1)) ** 2
        a2 = a2 / a2.max()
        df = float((G - 1) / G * a2.sum() ** 2 / np.sum(a2 * a2))
        if np.ptp(a2) <= 1e-12:
            df = float(G - 1)
    return est, var, G, df


# --------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------
def cell_interval(sums, counts, level: float = 0.95, df_method: str = "satterthwaite") -> tuple[float, float, str]:
    """Confidence interval for a cell's mean rating, respondents as clusters.

    The cell mean is the ratio ``sum(sums) / sum(counts)``. Its standard
    error is the linearised cluster-robust (CR1) one, identical to the
    ``bse`` of statsmodels' ``OLS(ratings, 1).fit(cov_type="cluster",
    cov_kwds={"groups": respondent}, use_t=True)``. The t reference has
    ``G - 1`` degrees of freedom (G = respondents) when every respondent gives
    the same number of ratings - so for officers this is exactly the
    classical one-sample t interval - and, by default, fewer when they do
    not: ``df = (G - 1) / G * (sum c_i**2)**2 / sum c_i**4`` (Satterthwaite
    for respondent-level variation, see :func:`_linearise`). With equal-ish
    cluster sizes this changes little; with very unequal ones it widens the
    interval, which simulation shows is needed for nominal coverage at
    n = 5-20 (``benchmarks/null_simulation.py``). ``df_method="clusters"``
    reproduces statsmodels' interval exactly.

    Parameters
    ----------
    sums, counts : array_like, shape (N,)
        Per respondent: sum and number of their valid scores in the cell.
        Respondents with ``count == 0`` are ignored.
    level : float
        Confidence level.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the t reference.

    Returns
    -------
    low, high : float
        Interval ends, not clipped to the 1-4 scale (see module notes).
    method : str
        ``"cluster_t"``; ``"zero_variance"`` when every respondent's mean
        equals the cell mean (the interval is the point twice); ``"none"``
        (NaN ends) with fewer than 2 respondents.

    Examples
    --------
    >>> low, high, method = cell_interval([3, 2, 4, 3], [1, 1, 1, 1])
    >>> round(float(low), 3), round(float(high), 3), method
    (1.701, 4.299, 'cluster_t')
    """
    _check_level(level)
    s, c = _as_2d(sums, counts)
    if s.shape[1] != 1:
        raise ValueError("cell_interval takes one question (1-D sums/counts); use overall_interval for 2-D")
    return _t_interval(s, c, level, df_method)


def _t_interval(s, c, level, df_method="satterthwaite") -> tuple[float, float, str]:
    est, var, G, df = _linearise(s, c, df_method)
    if G < 2:
        return np.nan, np.nan, "none"
    if var <= _ZERO_VAR:
        return float(est), float(est), "zero_variance"
    t = _st.t.ppf(0.5 + level / 2, df)
    half = t * math.sqrt(var)
    return float(est - half), float(est + half), "cluster_t"


def overall_interval(sums, counts, level: float = 0.95, n_boot: int = 9999, seed=0,
                     min_boot_n: int = MIN_BOOT_N, df_method: str = "satterthwaite",
                     large_n: int | None = LARGE_SAMPLE_N) -> tuple[float, float, str]:
    """Confidence interval for the overall score (mean of question means).

    With at least ``min_boot_n`` respondents (default 100): respondent-cluster
    percentile bootstrap. Each replicate draws N respondents with
    replacement, as a (B x N) matrix of multiplicities W, so the replicate
    sums and counts are ``W @ sums`` and ``W @ counts`` (B x Q); the statistic
    is the mean over questions of their ratios. With 2 to ``min_boot_n - 1``
    respondents the linearised cluster-t interval (as in
    :func:`cell_interval`, applied to the overall statistic; for respondents
    who answered every question once it is the t interval on their overall
    means) is used instead, because the percentile bootstrap is too narrow
    there: it acts like a z interval with the variance shrunk by
    ``(n - 1) / n``, and in ``benchmarks/null_simulation.py`` it covers
    47-93 % at n = 2-20 and 92-94 % at n = 30-50, while the cluster t covers
    94.5-96.5 % at every n; the two agree by n = 100. From ``large_n``
    respondents (default 1000) the cluster t interval is used again: the
    bootstrap costs ``n_boot`` x n and no longer differs from it (module
    notes).

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
        Degrees of freedom of the t fallback (see :func:`cell_interval`).
    large_n : int or None
        Smallest number of respondents for which the t interval replaces the
        bootstrap again (None: bootstrap at any size from ``min_boot_n``).

    Returns
    -------
    low, high : float
    method : str
        ``"bootstrap_percentile"``, ``"cluster_t"``, ``"zero_variance"`` or
        ``"none"`` (fewer than 2 respondents).

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
        return _t_interval(s, c, level, df_method)
    rng = _rng(seed)
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
    T = T[np.isfinite(T)]
    if T.size == 0 or np.ptp(T) <= 1e-12:
        est = float(_stat(s.sum(0), c.sum(0)))
        return est, est, "zero_variance"
    a = (1 - level) / 2
    low, high = np.quantile(T, [a, 1 - a])
    return float(low), float(high), "bootstrap_percentile"


def diff_interval(sums_a, counts_a, sums_b, counts_b, level: float = 0.95,
                  df_method: str = "satterthwaite") -> tuple[float, float, float, str]:
    """Interval for the difference A - B of two independent sets' statistic.

    Each set's linearised cluster-robust variance (as in
    :func:`cell_interval`; for 2-D input, of the overall statistic) is added
    and the t reference uses Welch-Satterthwaite degrees of freedom
    ``(vA + vB)**2 / (vA**2 / dfA + vB**2 / dfB)``, where ``dfA``, ``dfB``
    are each set's degrees of freedom (``n - 1`` with one rating per
    respondent; see :func:`cell_interval`). With one rating per respondent
    this is exactly Welch's interval
    (``scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval()``).

    Parameters
    ----------
    sums_a, counts_a, sums_b, counts_b : array_like
        Respondent-level sums and counts of the two sets, shape (N,) for one
        question or (N, Q) for the overall score.
    level : float
        Confidence level.
    df_method : {"satterthwaite", "clusters"}
        Per-set degrees of freedom (see :func:`cell_interval`).

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


def _diff_t(sa, ca, sb, cb, level, df_method="satterthwaite") -> tuple[float, float, float, str, float]:
    """:func:`diff_interval` plus the two-sided p-value of its t statistic (NaN unless ``"welch_cluster_t"``)."""
    ea, va, ga, dfa = _linearise(sa, ca, df_method)
    eb, vb, gb, dfb = _linearise(sb, cb, df_method)
    d = float(ea - eb) if (ga and gb) else np.nan
    if ga < 2 or gb < 2:
        return d, np.nan, np.nan, "none", np.nan
    v = va + vb
    if v <= _ZERO_VAR:
        return d, d, d, "zero_variance", np.nan
    df = v * v / (va * va / dfa + vb * vb / dfb)
    half = float(_st.t.ppf(0.5 + level / 2, df)) * math.sqrt(v)
    p = float(2 * _st.t.sf(abs(d) / math.sqrt(v), df))
    return d, d - half, d + half, "welch_cluster_t", p


# --------------------------------------------------------------------------
# permutation test
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class PermutationResult:
    """Result of :func:`permutation_test`.

    Attributes
    ----------
    diff : float
        Observed statistic of A minus that of B.
    p : float
        Two-sided p-value: share of splits with ``|T*| >= |T_obs|``.
    method : str
        ``"exact"``, ``"monte carlo"`` or ``"none"`` (a set is empty).
    n_a, n_b : int
        Respondents in each set (with at least one rating).
    n_perm : int
        Splits enumerated (exact) or drawn (Monte Carlo).
    """

    diff: float
    p: float
    method: str
    n_a: int
    n_b: int
    n_perm: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _random_subsets(rng: np.random.Generator, n: int, k: int, b: int) -> np.ndarray:
    """(b x k) indices, each row a uniform random k-subset of ``range(n)``.

    Robert Floyd's algorithm, vectorised over rows: k steps of b draws each,
    so drawing the small side of a split costs O(b k), not O(b n log n).
    """
    mask = np.zeros((b, n), dtype=bool)
    idx = np.empty((b, k), dtype=np.intp)
    rows = np.arange(b)
    for step, j in enumerate(range(n - k, n)):
        t = rng.integers(0, j + 1, size=b)
        pick = np.where(mask[rows, t], j, t)
        mask[rows, pick] = True
        idx[:, step] = pick
    return idx


class _Splits:
    """The splits a permutation test uses, as indices of the smaller side.

    ``chunks`` hold (b x k) index arrays of the smaller set (A if
    ``small_is_a``). :meth:`sums` returns A's column sums for one chunk by
    adding up the k rows of each split: O(b k) per column, so a test of a
    small subgroup against the rest of a large group costs what the subgroup
    costs, not what the group does. Where the smaller side is a sizeable
    share of the respondents (k >= n / 8; ``_splits`` then makes chunks of
    b x n <= 4e6) a product with the chunk's b x n 0/1 membership matrix
    (BLAS) is faster; the matrices are kept for the next test with the same
    numbers of respondents (which uses the same splits) while they total at
    most 16e6 elements. Sums of integer scores and counts are exact in
    floating point, so the two ways give identical p-values.
    """

    def __init__(self, n: int, chunks: list, small_is_a: bool, method: str, n_perm: int):
        self.n, self.chunks, self.small_is_a = n, chunks, small_is_a
        self.method, self.n_perm = method, n_perm
        self._masks: dict[int, np.ndarray] = {}

    def sums(self, i: int, X: np.ndarray, tot: np.ndarray) -> np.ndarray:
        idx = self.chunks[i]
        b, k = idx.shape
        if 8 * k >= self.n:
            M = self._masks.get(i)
            if M is None:
                M = np.zeros((b, self.n))
                np.put_along_axis(M, idx, 1.0, axis=1)
                if self.n_perm * self.n <= _MAX_KEEP:
                    self._masks[i] = M
            small = M @ X
            return small if self.small_is_a else tot - small
        step = max(1, _MAX_MATRIX // max(1, k * X.shape[1]))
        small = np.empty((b, X.shape[1]))
        for lo in range(0, b, step):
            small[lo:lo + step] = X[idx[lo:lo + step]].sum(axis=1)
        return small if self.small_is_a else tot - small


def _splits(n: int, n_a: int, n_resamples: int, rng, exact_threshold: int) -> _Splits:
    """All splits of n respondents into n_a + (n - n_a) if few enough, else random ones."""
    n_b = n - n_a
    if n_a < 1 or n_b < 1:
        return _Splits(n, [], True, "none", 0)
    k, small_is_a = (n_a, True) if n_a <= n_b else (n_b, False)
    # chunk: the 0/1 matrix of a chunk (when used, see _Splits) or the mask that draws it stays small
    chunk = max(1, (_MAX_MATRIX if 8 * k >= n else _MAX_MASK) // n)
    n_splits = math.comb(n, n_a)
    chunks = []
    if n_splits <= exact_threshold:
        # every k-subset of the smaller side is one split (its complement the other side)
        combos = itertools.combinations(range(n), k)
        done = 0
        while done < n_splits:
            b = min(chunk, n_splits - done)
            chunks.append(np.fromiter(itertools.chain.from_iterable(itertools.islice(combos, b)),
                                      dtype=np.intp, count=b * k).reshape(b, k))
            done += b
        return _Splits(n, chunks, small_is_a, "exact", n_splits)
    rng = _rng(rng)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        chunks.append(_random_subsets(rng, n, k, b))
        done += b
    return _Splits(n, chunks, small_is_a, "monte carlo", n_resamples)


def _observed(S: np.ndarray, C: np.ndarray, n_a: int, col_sets) -> np.ndarray:
    return np.array([
        _stat(S[:n_a, cols].sum(0), C[:n_a, cols].sum(0)) - _stat(S[n_a:, cols].sum(0), C[n_a:, cols].sum(0))
        for cols in col_sets
    ], dtype=float)


def _perm_pvalues(S: np.ndarray, C: np.ndarray, n_a: int, col_sets: Sequence[Sequence[int]],
                  splits: _Splits) -> tuple[np.ndarray, np.ndarray]:
    """Observed differences and permutation p-values of several statistics.

    Rows ``:n_a`` of ``S``/``C`` are set A, the rest set B; each entry of
    ``col_sets`` is a statistic (the mean over those columns of ratio
    means). For each batch of splits, A's sums and counts are the sums of
    its rows (:meth:`_Splits.sums`) and B's the totals minus those.
    """
    obs = _observed(S, C, n_a, col_sets)
    k = len(col_sets)
    if splits.method == "none":
        return obs, np.full(k, np.nan)
    used = sorted({j for cols in col_sets for j in cols})
    pos = {j: i for i, j in enumerate(used)}
    q = len(used)
    SC = np.hstack([S[:, used], C[:, used]])
    tot = SC.sum(0)
    Stot, Ctot = tot[:q], tot[q:]
    target = np.abs(obs) - _TIE_RTOL * np.maximum(np.abs(obs), 1.0)
    hits = np.zeros(k, dtype=np.int64)
    for i in range(len(splits.chunks)):
        R = splits.sums(i, SC, tot)               # A's sums and counts
        SA, CA = R[:, :q], R[:, q:]
        SB, CB = Stot - SA, Ctot - CA
        for j, cols in enumerate(col_sets):
            if len(cols) == 1:
                j1 = pos[cols[0]]
                with np.errstate(invalid="ignore", divide="ignore"):
                    T = SA[:, j1] / CA[:, j1] - SB[:, j1] / CB[:, j1]
            else:
                ii = [pos[c] for c in cols]
                T = _stat(SA[:, ii], CA[:, ii]) - _stat(SB[:, ii], CB[:, ii])
            hits[j] += np.count_nonzero(np.abs(T) >= target[j])
    if splits.method == "exact":
        return obs, hits / splits.n_perm
    return obs, (1 + hits) / (splits.n_perm + 1)


def permutation_test(sums_a, counts_a, sums_b, counts_b, n_resamples: int = 9999, seed=0,
                     exact_threshold: int = 20000) -> PermutationResult:
    """Two-sided permutation test of a difference of ratio means, A minus B.

    Respondent labels are permuted between A and B (the respondent is the
    unit), and the statistic recomputed for every split: for 1-D input the
    ratio mean ``sum(sums) / sum(counts)``, for 2-D input the overall score
    (mean over questions of the ratio means). When the number of splits
    ``C(nA + nB, nA)`` is at most ``exact_threshold`` all are enumerated and
    ``p = #{|T*| >= |T_obs|} / C(nA + nB, nA)`` (the observed split is one of
    them); otherwise ``n_resamples`` random splits are drawn and
    ``p = (1 + #{|T*| >= |T_obs|}) / (n_resamples + 1)``. A relative
    tolerance of 1e-12 (floor 1e-12 absolute) counts floating-point ties as
    ties. Fully vectorised: for each batch of splits the smaller side's sums
    and counts are added up from its rows (see ``_Splits``) and the other
    side's are the totals minus those, so a split costs O(smaller side).

    Parameters
    ----------
    sums_a, counts_a, sums_b, counts_b : array_like
        Respondent-level sums and counts, shape (N,) or (N, Q). Respondents
        with no rating are dropped.
    n_resamples : int
        Random splits when enumeration is too large.
    seed : int, numpy.random.Generator or None
        Random seed for the Monte Carlo case.
    exact_threshold : int
        Largest number of splits enumerated exactly.

    Returns
    -------
    PermutationResult

    Examples
    --------
    >>> r = permutation_test([1, 2, 3], [1, 1, 1], [4, 5, 6], [1, 1, 1])
    >>> r.method, r.n_perm, round(r.p, 4)
    ('exact', 20, 0.1)
    """
    sa, ca = _as_2d(sums_a, counts_a, "a: ")
    sb, cb = _as_2d(sums_b, counts_b, "b: ")
    if sa.shape[1] != sb.shape[1]:
        raise ValueError(f"A and B must have the same number of questions; got {sa.shape[1]} and {sb.shape[1]}")
    sa, ca = _active(sa, ca)
    sb, cb = _active(sb, cb)
    S, C = np.vstack([sa, sb]), np.vstack([ca, cb])
    cols = list(range(S.shape[1]))
    splits = _splits(S.shape[0], sa.shape[0], n_resamples, seed, exact_threshold)
    obs, p = _perm_pvalues(S, C, sa.shape[0], [cols], splits)
    diff = float(obs[0]) if sa.shape[0] and sb.shape[0] else np.nan
    return PermutationResult(diff, float(p[0]), splits.method, sa.shape[0], sb.shape[0], splits.n_perm)


# --------------------------------------------------------------------------
# alongside tests
# --------------------------------------------------------------------------
def _tie_counts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many values of x and of y equal each distinct pooled value (ascending).

    Every rank statistic here (mid-ranks in the pooled sample and within each
    set) is a function of these counts, so one sort of the distinct values
    replaces ranking n values three times: what matters when a national
    survey puts 10^5 respondents on each side of a comparison. The distinct
    values are found by hashing (``pandas.factorize``, O(n)) and only they are
    sorted; respondent means take few distinct values.
    """
    codes, uniq = pd.factorize(np.concatenate([x, y]))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(uniq, kind="stable")] = np.arange(len(uniq))
    codes = rank[codes]
    return (np.bincount(codes[:x.size], minlength=len(uniq)),
            np.bincount(codes[x.size:], minlength=len(uniq)))


def _midranks(counts: np.ndarray) -> np.ndarray:
    """Mid-rank (1-based, ties averaged, as ``scipy.stats.rankdata``) of each distinct value."""
    return np.cumsum(counts) - (counts - 1) / 2.0


def _prob_superiority(x: np.ndarray, y: np.ndarray, ties=None) -> float:
    """P(X > Y) + 0.5 P(X = Y) for one random member of each set.

    From the midranks of the pooled values (the Mann-Whitney identity
    ``(R_x - n_x (n_x + 1) / 2) / (n_x n_y)``), in O(n log n) time and O(n)
    memory: the n_x x n_y matrix of pairwise differences would need gigabytes
    for a national survey. ``ties``: :func:`_tie_counts` of (x, y) if known.
    """
    nx, ny = x.size, y.size
    if nx == 0 or ny == 0:
        return np.nan
    cx, cy = _tie_counts(x, y) if ties is None else ties
    rx = float(np.dot(cx, _midranks(cx + cy)))
    return float((rx - nx * (nx + 1) / 2.0) / (nx * ny))


def _welch_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Welch t-test p-value (as ``scipy.stats.ttest_ind(equal_var=False)``).

    Written out (a test checks it against scipy to 1e-10) because scipy's
    wrapper costs ~2 ms a call, which matters over thousands of cells.
    NaN with fewer than 2 values in a set or no variance in either.
    """
    na, nb = x.size, y.size
    if na < 2 or nb < 2:
        return np.nan
    va, vb = x.var(ddof=1) / na, y.var(ddof=1) / nb
    v = va + vb
    if not v > 0:
        return np.nan
    df = v * v / (va * va / (na - 1) + vb * vb / (nb - 1))
    t = (x.mean() - y.mean()) / math.sqrt(v)
    return float(2 * _st.t.sf(abs(t), df))


def _brunner_munzel(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(p-value, prob1) of the Brunner-Munzel test, t approximation.

    The same computation as ``statsmodels.stats.nonparametric.
    rank_compare_2indep(x, y)`` (``pvalue``, ``prob1``; tested to 1e-10),
    written out for speed and so that degenerate cases return NaN instead of
    dividing by zero: fewer than 2 values in a set, or zero rank variance
    within both sets (e.g. all values equal, or complete separation with no
    spread inside each set). ``prob1`` is defined whenever both sets are
    non-empty.
    """
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        return np.nan, np.nan
    cx, cy = _tie_counts(x, y)
    ps = _prob_superiority(x, y, ties=(cx, cy))
    if n1 < 2 or n2 < 2:
        return np.nan, ps
    # per distinct value: pooled mid-rank, and mid-rank within x and within y
    r, rx, ry = _midranks(cx + cy), _midranks(cx), _midranks(cy)
    m1, m2 = np.dot(cx, r) / n1, np.dot(cy, r) / n2
    s1 = np.dot(cx, (r - rx - m1 + (n1 + 1) / 2.0) ** 2) / (n1 - 1)
    s2 = np.dot(cy, (r - ry - m2 + (n2 + 1) / 2.0) ** 2) / (n2 - 1)
    v = n1 * s1 + n2 * s2
    if not v > 0:
        return np.nan, ps
    w = n1 * n2 * (m1 - m2) / ((n1 + n2) * math.sqrt(v))
    df = v * v / ((n1 * s1) ** 2 / (n1 - 1) + (n2 * s2) ** 2 / (n2 - 1))
    p = float(2 * _st.t.sf(abs(w), df))
    return (p if np.isfinite(p) else np.nan), ps


def compare_two(sums_a, counts_a, sums_b, counts_b, level: float = 0.95, n_resamples: int = 9999,
                seed=0, exact_threshold: int = 20000, df_method: str = "satterthwaite") -> dict[str, Any]:
    """Compare two independent sets of respondents on a cell's statistic.

    Runs :func:`permutation_test` (the p-value used for "significant"),
    :func:`diff_interval`, and, alongside, Welch's t
    (as ``scipy.stats.ttest_ind(equal_var=False)``) and Brunner-Munzel
    (as ``statsmodels.stats.nonparametric.rank_compare_2indep``) on
    respondent-level means (each respondent's mean rating; for 2-D input,
    their mean of question means). ``prob_sup`` is Brunner-Munzel's
    ``prob1``: the probability that a random respondent of A has a higher
    mean than a random respondent of B, ties counting half (0.5 = no
    difference). Where Welch or Brunner-Munzel is undefined (fewer than 2
    respondents in a set, no variance, complete separation for BM) its
    p-value is NaN; nothing raises.

    Parameters
    ----------
    sums_a, counts_a, sums_b, counts_b : array_like
        Respondent-level sums and counts, shape (N,) or (N, Q).
    level : float
        Confidence level of the difference interval.
    n_resamples, seed, exact_threshold
        Passed to :func:`permutation_test`.
    df_method : {"satterthwaite", "clusters"}
        Passed to :func:`diff_interval`.

    Returns
    -------
    dict
        ``diff, diff_low, diff_high, p, p_method, welch_p, bm_p, prob_sup,
        n_a, n_b, mean_a, mean_b``.

    Examples
    --------
    >>> r = compare_two([3, 4, 3, 4, 4], [1] * 5, [2, 2, 3, 1, 2], [1] * 5)
    >>> r["p_method"], round(r["diff"], 2), round(r["prob_sup"], 2)
    ('exact', 1.6, 0.96)
    """
    sa, ca = _as_2d(sums_a, counts_a, "a: ")
    sb, cb = _as_2d(sums_b, counts_b, "b: ")
    sa, ca = _active(sa, ca)
    sb, cb = _active(sb, cb)
    perm = permutation_test(sa, ca, sb, cb, n_resamples=n_resamples, seed=seed,
                            exact_threshold=exact_threshold)
    return _assemble(sa, ca, sb, cb, perm.diff, perm.p, perm.method, level, df_method)


def _assemble(sa, ca, sb, cb, diff, p, p_method, level, df_method="satterthwaite") -> dict[str, Any]:
    """Result row of one comparison; ``p=None`` takes the p-value of the cluster-robust Welch t."""
    d, low, high, t_method, p_t = _diff_t(sa, ca, sb, cb, level, df_method)
    if p is None:
        diff, p, p_method = d, p_t, (t_method if t_method == "welch_cluster_t" else "none")
    xa, xb = _respondent_means(sa, ca), _respondent_means(sb, cb)
    bm_p, ps = _brunner_munzel(xa, xb)
    return {
        "diff": float(diff), "diff_low": float(low), "diff_high": float(high),
        "p": float(p), "p_method": p_method,
        "welch_p": _welch_p(xa, xb), "bm_p": bm_p, "prob_sup": ps,
        "n_a": int(sa.shape[0]), "n_b": int(sb.shape[0]),
        "mean_a": float(_stat(sa.sum(0), ca.sum(0))) if sa.shape[0] else np.nan,
        "mean_b": float(_stat(sb.sum(0), cb.sum(0))) if sb.shape[0] else np.nan,
    }


# --------------------------------------------------------------------------
# multiple comparisons
# --------------------------------------------------------------------------
def adjust_pvalues(p, method: str = "holm"):
    """Adjust a family of p-values, leaving NaNs where they are.

    ``statsmodels.stats.multitest.multipletests`` returns NaN for every
    entry as soon as one is NaN, so NaNs (untested cells) are filtered out
    first and the rest adjusted as one family.

    Parameters
    ----------
    p : array_like or pandas.Series
        Raw p-values; NaN for "not tested".
    method : {"holm", "fdr_bh"}
        Holm (family-wise error) or Benjamini-Hochberg (false discovery rate).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values, same shape (and index, for a Series) as ``p``.

    Examples
    --------
    >>> adjust_pvalues([0.01, np.nan, 0.04, 0.03]).round(2).tolist()
    [0.03, nan, 0.06, 0.06]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"method must be one of {CORRECTIONS}; got {method!r}")
    index = p.index if isinstance(p, pd.Series) else None
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    if ok.any():
        out[ok] = _multipletests(arr[ok], method)
    return pd.Series(out, index=index, name=getattr(p, "name", None)) if index is not None else out


def _multipletests(p: np.ndarray, method: str) -> np.ndarray:
    """Holm / Benjamini-Hochberg adjusted p-values, as statsmodels computes them.

    Same formulas as ``statsmodels.stats.multitest.multipletests(p,
    method=method)[1]`` (a test checks equality on random and tied inputs);
    written out because statsmodels' Holm branch calls ``gc.collect()``,
    which costs ~30 ms per family in a notebook with a large heap.
    """
    m = p.size
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ps * np.arange(m, 0, -1))
    else:  # fdr_bh
        adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
    adj = np.minimum(adj, 1.0)
    out = np.empty(m)
    out[order] = adj
    return out


# --------------------------------------------------------------------------
# respondent-level data for the table driver
# --------------------------------------------------------------------------
def rating_level_sums(ratings: pd.DataFrame, attribute: str = "rated_department", by: str = "department",
                      labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Respondent sums for a breakdown of *ratings* (not of respondents).

    A provider's ratings of one ECC department form the cell "providers'
    ratings of that department": the subset is of ratings, so it cannot be
    expressed as a set of respondents in ``memberships``. This returns, per
    respondent, question and value of ``by``, the ``sum`` and ``count`` of
    valid scores, labelled ``attribute`` / ``category`` so that it can be
    appended to the ``resp`` frame given to :func:`add_intervals` and
    :func:`compare_cells`.

    Parameters
    ----------
    ratings : DataFrame
        The processed ``ratings`` table (``respondent_id, group, question,
        department, score``).
    attribute : str
        Attribute name of the breakdown in the cell table.
    by : str
        Column of ``ratings`` defining the categories.
    labels : mapping, optional
        Maps values of ``by`` to the category labels used in the cell table.

    Returns
    -------
    DataFrame
        ``respondent_id, group, question, attribute, category, sum, count``.

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": ["P1", "P1", "P2"], "group": "provider",
    ...                   "question": "trust", "department": ["finance", "quality", "finance"],
    ...                   "score": [3.0, np.nan, 2.0]})
    >>> rating_level_sums(r)[["respondent_id", "category", "sum", "count"]].values.tolist()
    [['P1', 'finance', 3.0, 1], ['P1', 'quality', 0.0, 0], ['P2', 'finance', 2.0, 1]]
    """
    df = ratings[ratings[by].notna() & (ratings[by].astype(str) != "")]
    g = df.groupby(["respondent_id", "group", "question", by], sort=True, observed=True)["score"]
    out = pd.DataFrame({"sum": g.sum(min_count=1).fillna(0.0), "count": g.count()}).reset_index()
    out = out.rename(columns={by: "category"})
    if labels is not None:
        out["category"] = out["category"].map(lambda v: labels.get(v, v))
    out.insert(3, "attribute", attribute)
    return out[["respondent_id", "group", "question", "attribute", "category", "sum", "count"]]


def _present(codes: np.ndarray) -> np.ndarray:
    """The distinct non-negative values of small integer codes, ascending (by counting, not sorting)."""
    codes = codes[codes >= 0]
    return np.flatnonzero(np.bincount(codes)) if len(codes) else np.empty(0, dtype=np.int64)


def _dense(rid: np.ndarray, q: np.ndarray, s: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(respondent codes, sums N x 8, counts N x 8) of long rows, respondents in code order."""
    seen = np.bincount(rid) > 0                   # respondents present, numbered densely by counting
    ids = np.flatnonzero(seen)
    inv = (np.cumsum(seen) - 1)[rid]
    flat = inv * len(QUESTIONS) + q
    size = len(ids) * len(QUESTIONS)
    cc = np.bincount(flat, weights=c, minlength=size).reshape(len(ids), len(QUESTIONS))
    ss = np.bincount(flat, weights=s, minlength=size).reshape(len(ids), len(QUESTIONS))
    return ids, np.where(cc > 0, ss, 0.0), cc


class _Year:
    """Respondent-level arrays of one year, indexed for fast cell look-ups.

    ``resp`` is coded once (respondents numbered in sorted-id order,
    questions by their position in ``QUESTIONS``) and split into dense
    respondent x question arrays: one per group (whole-group rows) and one per
    (group, attribute, category) of rating-level rows. A respondent subgroup
    is a boolean mask over a group's rows, from ``memberships`` coded into
    the same respondent numbers. Costs O(rows) in numpy, no Python loop over
    rows or respondents.
    """

    def __init__(self, resp: pd.DataFrame, memberships: pd.DataFrame | None, multi_select: str):
        if multi_select not in ("solely_one", "any"):
            raise ValueError(f"multi_select must be 'solely_one' or 'any'; got {multi_select!r}")
        need = {"respondent_id", "group", "question", "sum", "count"}
        missing = need - set(resp.columns)
        if missing:
            raise ValueError(f"resp is missing columns {sorted(missing)}; expected {sorted(need)}")
        qc, qtext = text_codes(resp["question"])
        unknown = set(qtext[_present(qc)]) - set(QUESTIONS)
        if unknown or (qc < 0).any():
            raise ValueError(f"resp has unknown questions {sorted(map(str, unknown)) or ['(missing)']}; "
                             f"expected {QUESTIONS}")
        # (an unused category outside QUESTIONS maps to -1; used ones were refused above)
        qpos = np.array([QUESTIONS.index(t) if t in QUESTIONS else -1 for t in qtext], dtype=np.int8)[qc] \
            if len(qc) else qc
        del qc
        rid, self._ids = text_codes(resp["respondent_id"])
        gc, gtext = text_codes(resp["group"])
        has_id = rid >= 0                                  # rows without a respondent are left out, as by groupby
        # as a groupby sum would: a missing sum or count adds nothing
        s = resp["sum"].to_numpy(dtype=float, na_value=np.nan)
        c = resp["count"].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(s).any() or np.isnan(c).any():
            s, c = np.nan_to_num(s), np.nan_to_num(c)
        if "attribute" in resp.columns:
            ac, atext = text_codes(resp["attribute"])
            total_code = np.isin(atext, [ALL, ""])
            is_total = (ac < 0) | np.append(total_code, False)[ac]
        else:
            is_total = np.ones(len(resp), dtype=bool)
        self.groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for g in _present(gc[is_total & has_id]):
            rows = is_total & has_id & (gc == g)
            self.groups[str(gtext[g])] = _dense(rid[rows], qpos[rows], s[rows], c[rows])
        self.rating_level: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.rating_attrs: set[str] = set()
        if not is_total.all():
            self.rating_attrs = {str(atext[a]) for a in _present(ac[~is_total])}
            cc_, ctext = text_codes(resp["category"])
            part = ~is_total & has_id & (gc >= 0) & (cc_ >= 0)     # rows with a respondent, group and category
            key = ((gc[part].astype(np.int64) * (len(atext) + 1) + ac[part]) * (len(ctext) + 1)
                   + cc_[part])
            # the few (group, attribute, category) keys numbered densely by counting, and the rows
            # ordered by key with a stable sort of 16-bit codes (a radix sort): O(rows), no comparison sort
            seen = np.bincount(key)
            uniq = np.flatnonzero(seen)
            inv = (np.cumsum(seen > 0) - 1)[key]
            order = np.argsort(inv.astype(np.uint16 if len(uniq) < 2**16 else np.int64), kind="stable")
            bounds = np.concatenate([[0], np.cumsum(seen[uniq])])
            idx = np.flatnonzero(part)[order]
            for i, k in enumerate(uniq):
                sel = idx[bounds[i]:bounds[i + 1]]
                g, rest = divmod(int(k), (len(atext) + 1) * (len(ctext) + 1))
                a, cat = divmod(rest, len(ctext) + 1)
                name = (str(gtext[g]), str(atext[a]), str(ctext[cat]))
                self.rating_level[name] = _dense(rid[sel], qpos[sel], s[sel], c[sel])
        # memberships: per (attribute, category), the sorted codes of its respondents
        self.members: dict[tuple[str, str], np.ndarray] = {}
        if memberships is not None and len(memberships):
            # on integer codes: one row per distinct (respondent, attribute, category) ...
            code = pd.Index(self._ids).get_indexer(memberships["respondent_id"].astype(str))
            ma, mat = text_codes(memberships["attribute"])
            mc, mct = text_codes(memberships["category"])
            # a missing category is a choice of its own (code nC): it makes a respondent's other
            # choice not their only one, as in crosstab.select_members; it is dropped below
            nA, nC = len(mat), len(mct) + 1
            mc = np.where(mc < 0, nC - 1, mc)
            ok = (code >= 0) & (ma >= 0)
            key = np.sort((code[ok].astype(np.int64) * nA + ma[ok]) * nC + mc[ok])
            key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key   # (np.unique hashes: slower)
            pair, cat_m = np.divmod(key, nC)
            if multi_select == "solely_one":
                # ... keeping a respondent in an attribute's category only if it is their only one
                first = np.r_[True, pair[1:] != pair[:-1]]
                size = np.diff(np.r_[np.flatnonzero(first), len(pair)])
                keep = np.repeat(size == 1, size)
                pair, cat_m = pair[keep], cat_m[keep]
            resp_m, attr_m = np.divmod(pair, nA)
            resp_m, attr_m, cat_m = resp_m[cat_m < nC - 1], attr_m[cat_m < nC - 1], cat_m[cat_m < nC - 1]
            # sorted by (attribute, category, respondent) and split: each a sorted array of codes
            cell = attr_m * nC + cat_m
            order = np.lexsort((resp_m, cell))
            cell, resp_m = cell[order], resp_m[order]
            starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.empty(0, int)
            for lo, hi in zip(starts, np.r_[starts[1:], len(cell)]):
                a, cat = divmod(int(cell[lo]), nC)
                self.members[(str(mat[a]), str(mct[cat]))] = resp_m[lo:hi]
        self._masks: dict[tuple[str, str, str], np.ndarray] = {}
        self._recent: dict[tuple[str, str, str, bool], tuple[np.ndarray, np.ndarray]] = {}

    def cell(self, group: str, attribute: str, category: str, rest: bool = False):
        """(S, C) of the cell's respondents (or of the rest of the group), or None.

        The arrays of a subgroup are copies (``S[mask]``); the last few are
        kept, since callers ask for the same cell once per question.
        """
        if attribute == ALL:
            if group in self.groups and not rest:
                return self.groups[group][1:]
            return None
        if attribute in self.rating_attrs:
            sc = self.rating_level.get((group, attribute, category))
            return sc[1:] if sc is not None and not rest else None
        if group not in self.groups:
            return None
        if (group, attribute, category, rest) in self._recent:
            return self._recent[(group, attribute, category, rest)]
        ids, s, c = self.groups[group]
        key = (group, attribute, category)
        if key not in self._masks:
            member = self.members.get((attribute, category), np.empty(0, dtype=np.int64))
            pos = np.searchsorted(member, ids)
            self._masks[key] = (pos < len(member)) & (member[np.minimum(pos, len(member) - 1)] == ids) \
                if len(member) else np.zeros(len(ids), dtype=bool)
        mask = ~self._masks[key] if rest else self._masks[key]
        if len(self._recent) >= 4:
            self._recent.pop(next(iter(self._recent)))
        out = self._recent[(group, attribute, category, rest)] = (s[mask], c[mask])
        return out


def _pick(sc, question: str):
    """(s, c) arrays of one statistic (a question column, or all for overall), active rows only."""
    s, c = sc
    if question == "overall":
        return _active(s, c)
    j = QUESTIONS.index(question)
    keep = c[:, j] > 0
    return s[keep, j:j + 1], c[keep, j:j + 1]


def _n_active(sc, question: str) -> int:
    """Respondents of (S, C) with a rating for ``question`` (any question for overall): ``len(_pick(...)[0])``."""
    c = sc[1]
    return int((c > 0).any(axis=1).sum() if question == "overall" else (c[:, QUESTIONS.index(question)] > 0).sum())


def _seed_for(base: int, *parts) -> np.random.Generator:
    """A random stream determined by a base seed and a key (not by row order)."""
    key = "|".join(map(str, parts)).encode()
    return np.random.default_rng([int(base), zlib.crc32(key)])


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}")


def _validate_cells(cells: pd.DataFrame) -> None:
    need = {"table", "group", "attribute", "category", "question", "n"}
    missing = need - set(cells.columns)
    if missing:
        raise ValueError(f"cells is missing columns {sorted(missing)}; expected at least {sorted(need)}")
    bad = set(cells["question"].astype(str)) - set(QUESTIONS) - {"overall"}
    if bad:
        raise ValueError(f"cells has unknown questions {sorted(bad)}; expected {QUESTIONS} or 'overall'")


def _check_consistency(cells: pd.DataFrame, year: _Year, check: str, mean_col="mean", n_col="n",
                       what="this year") -> None:
    """Compare the cell table's n and mean with those recomputed from ``resp``."""
    if check not in ("raise", "warn", "ignore"):
        raise ValueError(f"check must be 'raise', 'warn' or 'ignore'; got {check!r}")
    if check == "ignore" or n_col not in cells.columns:
        return
    bad = []
    seen = {}
    for row in cells[["group", "attribute", "category", "question", n_col]
                     + ([mean_col] if mean_col in cells.columns else [])].itertuples(index=False):
        key = (str(row[0]), str(row[1]), str(row[2]), str(row[3]))
        if key not in seen:
            sc = year.cell(*key[:3])
            if sc is None:
                seen[key] = (0, np.nan)
            else:
                s, c = _pick(sc, key[3])
                seen[key] = (s.shape[0], float(_stat(s.sum(0), c.sum(0))) if s.shape[0] else np.nan)
        n, m = seen[key]
        n_cell = row[4]
        m_cell = row[5] if len(row) > 5 else np.nan
        if pd.isna(n_cell):
            continue
        if int(n_cell) != n or (np.isfinite(m_cell) and np.isfinite(m) and abs(m_cell - m) > 1e-9):
            bad.append(f"{key}: cell n={n_cell}, mean={m_cell!r}; respondent data n={n}, mean={m!r}")
    if bad:
        msg = (f"{len(bad)} cell(s) disagree with the respondent-level data for {what} (are the same "
               f"multi_select rule and data used?); first: " + "; ".join(bad[:3]))
        if check == "raise":
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


# --------------------------------------------------------------------------
# table-level drivers
# --------------------------------------------------------------------------
def add_intervals(cells: pd.DataFrame, resp: pd.DataFrame, memberships: pd.DataFrame | None = None, *,
                  level: float = 0.95, n_boot: int = 9999, seed=0, min_cell_n: int = 5,
                  min_boot_n: int = MIN_BOOT_N, df_method: str = "satterthwaite",
                  multi_select: str = "solely_one", check: str = "raise",
                  large_n: int | None = LARGE_SAMPLE_N) -> pd.DataFrame:
    """Add ``ci_low, ci_high, ci_method`` to a long cell table.

    Each cell is located in the respondent-level data by ``(group,
    attribute, category)``: ``attribute == "all"`` is the whole group;
    attributes present in ``resp``'s optional ``attribute`` column are
    rating-level breakdowns (see :func:`rating_level_sums`); any other
    attribute is a respondent subgroup taken from ``memberships``. Question
    cells get :func:`cell_interval`, ``overall`` cells
    :func:`overall_interval`. Identical cells appearing in several tables are
    computed once; each overall cell's bootstrap seed is derived from
    ``seed`` and the cell's key, so results do not depend on row order.

    Parameters
    ----------
    cells : DataFrame
        Cell table (``docs/contracts.md``): at least ``table, group,
        attribute, category, question, n`` (and ``mean`` for the check).
    resp : DataFrame
        ``respondent_id, group, question, sum, count`` per respondent and
        question (``rmlib.scoring.respondent_sums``), optionally with rows
        from :func:`rating_level_sums` (columns ``attribute, category``).
    memberships : DataFrame, optional
        ``respondent_id, attribute, category``.
    level, n_boot, seed, min_boot_n, df_method, large_n
        As in :func:`overall_interval` and :func:`cell_interval`.
    min_cell_n : int
        Cells with fewer respondents get no interval (``ci_method="none"``);
        they are suppressed anyway.
    multi_select : {"solely_one", "any"}
        The multi-select rule the cell table was built with: "solely_one"
        keeps a respondent in an attribute's category only if they chose
        exactly one category of that attribute.
    check : {"raise", "warn", "ignore"}
        What to do when a cell's ``n`` or ``mean`` differs from the value
        recomputed from ``resp`` (a sign the inputs do not match).

    Returns
    -------
    DataFrame
        A copy of ``cells`` with the three columns added (same index).

    Examples
    --------
    >>> resp = pd.DataFrame({"respondent_id": [f"O{i}" for i in range(6)], "group": "officer",
    ...                      "question": "trust", "sum": [2., 3, 3, 2, 4, 3], "count": 1})
    >>> cells = pd.DataFrame({"table": "t", "group": "officer", "attribute": "all",
    ...                       "category": "All", "question": ["trust"], "mean": [17 / 6], "n": [6]})
    >>> add_intervals(cells, resp)[["ci_low", "ci_high", "ci_method"]].round(2).values.tolist()
    [[2.04, 3.62, 'cluster_t']]
    """
    _check_level(level)
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select)
    _check_consistency(cells, year, check)
    base = _seed_int(seed)
    memo: dict[tuple, tuple[float, float, str]] = {}
    lows, highs, methods = [], [], []
    for row in cells[["group", "attribute", "category", "question"]].astype(str).itertuples(index=False):
        key = tuple(row)
        if key not in memo:
            sc = year.cell(*key[:3])
            if sc is None:
                memo[key] = (np.nan, np.nan, "none")
            else:
                s, c = _pick(sc, key[3])
                if s.shape[0] < max(min_cell_n, 2):
                    memo[key] = (np.nan, np.nan, "none")
                elif key[3] == "overall":
                    memo[key] = overall_interval(s, c, level=level, n_boot=n_boot,
                                                 seed=_seed_for(base, "ci", *key), min_boot_n=min_boot_n,
                                                 df_method=df_method, large_n=large_n)
                else:
                    memo[key] = _t_interval(s, c, level, df_method)
        lo, hi, me = memo[key]
        lows.append(lo)
        highs.append(hi)
        methods.append(me)
    out = cells.copy()
    out["ci_low"] = np.asarray(lows, float)
    out["ci_high"] = np.asarray(highs, float)
    out["ci_method"] = methods
    return out


def _seed_int(seed) -> int:
    """An integer base seed from an int, a Generator (one draw) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63 - 1))
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    return int(seed)


def _plan_block(A, B, questions: Sequence[str], min_cell_n: int) -> tuple[dict, list]:
    """Group the statistics of one comparison by the respondents they involve.

    Returns ``(skipped, jobs)``: questions with too few respondents on a side
    map to None in ``skipped``; each job is ``(qs, (sa, ca), (sb, cb),
    col_sets)`` for the statistics whose active respondents (those with a
    rating) coincide, so they share one set of splits.
    """
    sA, cA = A
    sB, cB = B
    skipped: dict[str, None] = {}
    batches: dict[tuple[bytes, bytes], list[str]] = {}
    masks = {}
    for q in questions:
        if q == "overall":
            ka, kb = (cA > 0).any(1), (cB > 0).any(1)
        else:
            j = QUESTIONS.index(q)
            ka, kb = cA[:, j] > 0, cB[:, j] > 0
        if ka.sum() < max(min_cell_n, 1) or kb.sum() < max(min_cell_n, 1):
            skipped[q] = None
            continue
        key = (np.packbits(ka).tobytes(), np.packbits(kb).tobytes())
        batches.setdefault(key, []).append(q)
        masks[key] = (ka, kb)
    jobs = []
    for key, qs in batches.items():
        ka, kb = masks[key]
        # copy only the columns the batch's statistics use, renumbered 0..
        used = list(range(len(QUESTIONS))) if "overall" in qs else sorted(QUESTIONS.index(q) for q in qs)
        pos = {j: i for i, j in enumerate(used)}
        col_sets = [list(range(len(used))) if q == "overall" else [pos[QUESTIONS.index(q)]] for q in qs]
        pick_a = np.ix_(ka, used) if len(used) < len(QUESTIONS) else ka
        pick_b = np.ix_(kb, used) if len(used) < len(QUESTIONS) else kb
        jobs.append((qs, (sA[pick_a], cA[pick_a]), (sB[pick_b], cB[pick_b]), col_sets))
    return skipped, jobs


def _flipped(r: dict[str, Any]) -> dict[str, Any]:
    """The same comparison seen from set B's side (B minus A)."""
    out = dict(r)
    out["diff"] = -r["diff"]
    out["diff_low"], out["diff_high"] = -r["diff_high"], -r["diff_low"]
    out["prob_sup"] = 1 - r["prob_sup"]
    out["n_a"], out["n_b"] = r["n_b"], r["n_a"]
    out["mean_a"], out["mean_b"] = r["mean_b"], r["mean_a"]
    return out


def compare_cells(cells: pd.DataFrame, resp: pd.DataFrame, memberships: pd.DataFrame | None = None, *,
                  kinds: Iterable[str] = COMPARISON_KINDS, resp_last: pd.DataFrame | None = None,
                  memberships_last: pd.DataFrame | None = None, correction: str = "holm",
                  alpha: float = 0.05, level: float = 0.95, n_resamples: int = 9999,
                  exact_threshold: int = 20000, seed=0, min_cell_n: int = 5,
                  df_method: str = "satterthwaite", multi_select: str = "solely_one",
                  check: str = "raise", large_n: int | None = LARGE_SAMPLE_N) -> pd.DataFrame:
    """Add comparison columns (tests, intervals, effect sizes) to a cell table.

    Comparison kinds (each adds ``{kind}_diff, _diff_low, _diff_high, _p,
    _p_adj, _significant, _welch_p, _bm_p, _prob_sup`` and also
    ``_mean_other, _n_other, _p_method``):

    ``rest``
        The cell's respondents against everyone else in its group with a
        rating (``diff = cell - rest``). Not defined for whole-group rows or
        rating-level breakdowns (the same respondents are on both sides).
    ``last_year``
        The cell against the same cell last year, computed from
        ``resp_last``/``memberships_last`` (``diff = this year - last
        year``). The two years are treated as independent samples:
        respondent ids are pseudonymous within a year, so people answering
        both years cannot be linked; such overlap would make the test
        conservative. NaN when ``resp_last`` is None.
    ``groups``
        The cell against the same attribute/category/question in the other
        group (``diff = this row's group - other group``), e.g. providers vs
        officers overall.

    For each comparison: p is from :func:`permutation_test` (respondents
    permuted, exact when feasible; comparisons with the same numbers of
    respondents share one set of random splits, drawn from a stream seeded
    by ``seed`` and those numbers), the interval from :func:`diff_interval`,
    and Welch / Brunner-Munzel p and the probability of superiority
    (:func:`compare_two`) are reported alongside. When both sides have at
    least ``large_n`` respondents, p is instead that of the cluster-robust
    Welch t of :func:`diff_interval` (``p_method = "welch_cluster_t"``; see
    the module notes; without variance on either side the permutation test
    is kept). Comparisons with fewer than
    ``min_cell_n`` respondents on either side are not made (NaN): a
    suppressed cell is never tested, nor compared against. p-values are
    adjusted with ``correction`` within each ``table`` and kind (one family
    each; the same comparison appearing twice in a table, e.g. the provider
    and officer rows of a ``groups`` comparison, counts once);
    ``{kind}_significant`` means *adjusted* p < ``alpha`` (NA when not
    tested).

    Parameters
    ----------
    cells : DataFrame
        Long cell table (``docs/contracts.md``).
    resp, memberships : DataFrame
        This year's respondent-level data, as in :func:`add_intervals`.
    kinds : iterable of str
        Subset of ``("rest", "last_year", "groups")``.
    resp_last, memberships_last : DataFrame, optional
        Last year's respondent-level data.
    correction : {"holm", "fdr_bh"}
    alpha : float
        Level for ``*_significant``.
    level : float
        Confidence level of the difference intervals.
    n_resamples, exact_threshold, seed
        Permutation settings (see :func:`permutation_test`). Each
        comparison's random stream is derived from ``seed`` and its key.
    min_cell_n : int
        Smallest number of respondents on each side for a test.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the difference intervals (:func:`diff_interval`).
    multi_select, check
        As in :func:`add_intervals`.
    large_n : int or None
        Smallest number of respondents on *each* side for the Welch t test
        to replace the permutation test (None: always permute).

    Returns
    -------
    DataFrame
        A copy of ``cells`` with the columns added (same index).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ids = [f"O{i:02d}" for i in range(20)]
    >>> resp = pd.DataFrame({"respondent_id": ids, "group": "officer", "question": "trust",
    ...                      "sum": rng.integers(1, 5, 20).astype(float), "count": 1})
    >>> mem = pd.DataFrame({"respondent_id": ids, "attribute": "quadrant",
    ...                     "category": ["North"] * 8 + ["South"] * 12})
    >>> cells = pd.DataFrame({"table": "officer_by_quadrant", "group": "officer",
    ...                       "attribute": "quadrant", "category": ["North", "South"],
    ...                       "question": "trust", "n": [8, 12]})
    >>> out = compare_cells(cells, resp, mem, kinds=["rest"], n_resamples=999)
    >>> out[["rest_diff", "rest_p_method"]].round(3).values.tolist()
    [[-1.042, 'monte carlo'], [1.042, 'monte carlo']]
    """
    kinds = list(kinds)
    for k in kinds:
        if k not in COMPARISON_KINDS:
            raise ValueError(f"kinds must be among {COMPARISON_KINDS}; got {k!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    _check_level(level)
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select)
    _check_consistency(cells, year, check)
    last = None
    if "last_year" in kinds and resp_last is not None:
        last = _Year(resp_last, memberships_last, multi_select)
        if "n_last" in cells.columns:
            _check_consistency(cells, last, check, mean_col="mean_last", n_col="n_last", what="last year")
    groups_present = sorted(set(year.groups))
    keys = cells[["group", "attribute", "category", "question"]].astype(str)
    out = cells.copy()
    # one block of questions per (group, attribute, category)
    wanted: dict[tuple[str, str, str], list[str]] = {}
    for g, a, c, q in keys.itertuples(index=False):
        lst = wanted.setdefault((g, a, c), [])
        if q not in lst:
            lst.append(q)
    base = _seed_int(seed)
    for kind in kinds:
        # what to compute: (group, attribute, category) -> questions. For
        # "groups" each pair is computed once, from the alphabetically first
        # group's side, and flipped for the other group's rows, so both rows
        # carry the same test.
        todo: dict[tuple[str, str, str], list[str]] = {}
        flip: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for (g, a, c), qs in wanted.items():
            key = (g, a, c)
            if kind == "groups":
                others = [o for o in groups_present if o != g]
                if len(others) == 1 and others[0] < g:
                    key = (others[0], a, c)
                    flip[(g, a, c)] = key
            lst = todo.setdefault(key, [])
            lst.extend(q for q in qs if q not in lst)
        res: dict[tuple[str, str, str], dict] = {}
        jobs = []
        for (g, a, c), qs in todo.items():
            A = year.cell(g, a, c)
            if kind == "rest":
                B = year.cell(g, a, c, rest=True) if a != ALL else None
            elif kind == "last_year":
                B = last.cell(g, a, c) if last is not None else None
            else:
                others = [o for o in groups_present if o != g]
                B = year.cell(others[0], a, c) if len(others) == 1 else None
            if A is None or B is None:
                res[(g, a, c)] = {}
                continue
            skipped, block_jobs = _plan_block(A, B, qs, min_cell_n)
            res[(g, a, c)] = dict(skipped)
            jobs.extend(((g, a, c), *job) for job in block_jobs)
        # Jobs with the same numbers of respondents share one set of splits
        # (drawn from a stream seeded by seed, n and n_a): each p-value is
        # still an exact or Monte Carlo permutation p-value; sharing only
        # correlates their Monte Carlo errors and saves most of the time.
        sizes = lambda j: (len(j[2][0]) + len(j[3][0]), len(j[2][0]))  # noqa: E731  (n, n_a)
        jobs.sort(key=sizes)
        for (n, n_a), grp in itertools.groupby(jobs, key=sizes):
            large = large_n is not None and min(n_a, n - n_a) >= large_n
            splits = None if large else _splits(n, n_a, n_resamples, np.random.default_rng([base, n, n_a]),
                                                exact_threshold)
            for key, qs, (sA, cA), (sB, cB), col_sets in grp:
                perm = None
                for i, q in enumerate(qs):
                    # every row of the job has a rating in this statistic's columns (_plan_block)
                    cols = slice(col_sets[i][0], col_sets[i][-1] + 1)
                    sa, ca, sb, cb = sA[:, cols], cA[:, cols], sB[:, cols], cB[:, cols]
                    r = _assemble(sa, ca, sb, cb, None, None, None, level, df_method) if large else None
                    if r is None or r["p_method"] == "none":
                        # the permutation test: below the large-sample size, or where the t test is
                        # undefined (no variance on either side)
                        if perm is None:
                            splits = splits or _splits(n, n_a, n_resamples, np.random.default_rng([base, n, n_a]),
                                                       exact_threshold)
                            perm = _perm_pvalues(np.vstack([sA, sB]), np.vstack([cA, cB]), n_a, col_sets, splits)
                        r = _assemble(sa, ca, sb, cb, perm[0][i], perm[1][i], splits.method, level, df_method)
                    res[key][q] = r

        def _result(g, a, c, q):
            if (g, a, c) in flip:
                r = res.get(flip[(g, a, c)], {}).get(q)
                return _flipped(r) if r else None
            return res.get((g, a, c), {}).get(q)

        rows = [_result(g, a, c, q) for g, a, c, q in keys.itertuples(index=False)]
        get = lambda f: np.array([r[f] if r else np.nan for r in rows], dtype=float)  # noqa: E731
        praw = get("p")
        # multiple-comparison correction: one family per table and kind,
        # each distinct comparison counted once
        padj = np.full(len(out), np.nan)
        if kind == "groups":
            dedupe = keys[["attribute", "category", "question"]].agg("|".join, axis=1).to_numpy()
        else:
            dedupe = keys.agg("|".join, axis=1).to_numpy()
        tables = out["table"].astype(str).to_numpy()
        for t in pd.unique(tables):
            pos = np.flatnonzero(tables == t)
            fam = pd.Series(praw[pos], index=dedupe[pos])
            fam = fam[~fam.index.duplicated()]
            adj = pd.Series(adjust_pvalues(fam.to_numpy(), correction), index=fam.index)
            padj[pos] = adj.reindex(dedupe[pos]).to_numpy()
        out[f"{kind}_diff"] = get("diff")
        out[f"{kind}_diff_low"] = get("diff_low")
        out[f"{kind}_diff_high"] = get("diff_high")
        out[f"{kind}_p"] = praw
        out[f"{kind}_p_adj"] = padj
        out[f"{kind}_significant"] = pd.array(
            [pd.NA if not np.isfinite(v) else bool(v < alpha) for v in padj], dtype="boolean")
        out[f"{kind}_welch_p"] = get("welch_p")
        out[f"{kind}_bm_p"] = get("bm_p")
        out[f"{kind}_prob_sup"] = get("prob_sup")
        out[f"{kind}_mean_other"] = get("mean_b")
        out[f"{kind}_n_other"] = pd.array([r["n_b"] if r else pd.NA for r in rows], dtype="Int64")
        out[f"{kind}_p_method"] = [r["p_method"] if r else "none" for r in rows]
    return out


# --------------------------------------------------------------------------
# power
# --------------------------------------------------------------------------
def min_detectable_difference(n_a: float, n_b: float, sd: float, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """Smallest difference in points detectable between two sets of respondents.

    Two-sided two-sample t test (``statsmodels.stats.power.TTestIndPower``)
    on respondent-level means with standard deviation ``sd``: the solved
    standardised effect times ``sd``. Returns NaN when either set has fewer
    than 2 respondents or ``sd`` is not positive.

    Parameters
    ----------
    n_a, n_b : float
        Respondents in each set.
    sd : float
        Respondent-level standard deviation (in points).
    alpha : float
        Significance level (unadjusted; a Holm correction over a table makes
        the real threshold smaller, so this is optimistic).
    power : float
        Desired power.

    Returns
    -------
    float

    Examples
    --------
    >>> round(min_detectable_difference(12, 70, sd=0.6), 2)
    0.53
    """
    if not (n_a >= 2 and n_b >= 2 and sd > 0):
        return np.nan
    from statsmodels.stats.power import TTestIndPower

    d = TTestIndPower().solve_power(effect_size=None, nobs1=n_a, alpha=alpha, power=power,
                                    ratio=n_b / n_a, alternative="two-sided")
    return float(np.squeeze(d) * sd)


def responses_needed(diff: float = 0.25, *, sd: float, alpha: float = 0.05, power: float = 0.8,
                     ratio: float = 1.0) -> int:
    """Respondents needed in a subgroup to detect a difference of ``diff`` points.

    Two-sided two-sample t test (``TTestIndPower.solve_power``) with the
    comparison group ``ratio`` times as large; rounded up.

    Parameters
    ----------
    diff : float
        Difference to detect, in points on the 1-4 scale.
    sd : float
        Respondent-level standard deviation.
    alpha, power : float
    ratio : float
        Size of the comparison group relative to the subgroup.

    Returns
    -------
    int

    Examples
    --------
    >>> responses_needed(0.25, sd=0.6)
    92
    """
    if not (diff > 0 and sd > 0):
        raise ValueError(f"diff and sd must be positive; got diff={diff!r}, sd={sd!r}")
    from statsmodels.stats.power import TTestIndPower

    n = TTestIndPower().solve_power(effect_size=diff / sd, nobs1=None, alpha=alpha, power=power,
                                    ratio=ratio, alternative="two-sided")
    return int(math.ceil(float(np.squeeze(n)) - 1e-9))


def power_table(cells: pd.DataFrame, resp: pd.DataFrame, memberships: pd.DataFrame | None = None, *,
                diff: float = 0.25, alpha: float = 0.05, power: float = 0.8,
                multi_select: str = "solely_one") -> pd.DataFrame:
    """Power of the "cell vs rest" comparison for each breakdown cell.

    For every row of ``cells`` with ``attribute != "all"`` (respondent
    subgroups; rating-level breakdowns are skipped): the observed ``n``, the
    rest of the group ``n_rest``, the respondent-level SD ``sd`` (of
    respondent means, over the *whole group* for that question: a tiny
    cell's own SD is too noisy to plan with), the minimum detectable
    difference at the observed sizes (``mdd``, points) and the responses
    needed in each of two equal groups to detect ``diff`` points
    (``n_needed``).

    Parameters
    ----------
    cells, resp, memberships, multi_select
        As in :func:`add_intervals`.
    diff, alpha, power : float

    Returns
    -------
    DataFrame
        ``table, group, attribute, category, question, n, n_rest, sd, mdd,
        n_needed``.

    Examples
    --------
    >>> ids = [f"O{i:02d}" for i in range(20)]
    >>> resp = pd.DataFrame({"respondent_id": ids, "group": "officer", "question": "trust",
    ...                      "sum": [1., 2, 3, 4] * 5, "count": 1})
    >>> mem = pd.DataFrame({"respondent_id": ids, "attribute": "role", "category": ["A"] * 5 + ["B"] * 15})
    >>> cells = pd.DataFrame({"table": "t", "group": "officer", "attribute": "role",
    ...                       "category": ["A"], "question": "trust", "n": [5]})
    >>> power_table(cells, resp, mem)[["n", "n_rest", "n_needed"]].values.tolist()
    [[5, 15, 332]]
    """
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select)
    rows = []
    sd_memo: dict[tuple[str, str], float] = {}
    # statsmodels solves each power equation numerically (~2 ms); many rows share their inputs
    mdd_memo: dict[tuple[int, int, float], float] = {}
    need_memo: dict[float, Any] = {}
    for r in cells[["table", "group", "attribute", "category", "question"]].astype(str).itertuples(index=False):
        t, g, a, c, q = r
        if a == ALL or a in year.rating_attrs:
            continue
        cell, rest = year.cell(g, a, c), year.cell(g, a, c, rest=True)
        if cell is None:
            continue
        n, n_rest = _n_active(cell, q), _n_active(rest, q)
        if (g, q) not in sd_memo:
            allg = year.cell(g, ALL, "All")
            x = _respondent_means(*_pick(allg, q)) if allg is not None else np.array([])
            sd_memo[(g, q)] = float(np.std(x, ddof=1)) if x.size >= 2 else np.nan
        sd = sd_memo[(g, q)]
        if (n, n_rest, sd) not in mdd_memo:
            mdd_memo[(n, n_rest, sd)] = min_detectable_difference(n, n_rest, sd, alpha, power)
        if sd not in need_memo:
            need_memo[sd] = responses_needed(diff, sd=sd, alpha=alpha, power=power) if sd > 0 else pd.NA
        rows.append({
            "table": t, "group": g, "attribute": a, "category": c, "question": q,
            "n": n, "n_rest": n_rest, "sd": sd, "mdd": mdd_memo[(n, n_rest, sd)], "n_needed": need_memo[sd],
        })
    cols = ["table", "group", "attribute", "category", "question", "n", "n_rest", "sd", "mdd", "n_needed"]
    out = pd.DataFrame(rows, columns=cols)
    out["n_needed"] = out["n_needed"].astype("Int64")
    return out


# --------------------------------------------------------------------------
# plain language
# --------------------------------------------------------------------------
def _fmt(x: float, decimals: int) -> str:
    s = f"{x:.{decimals}f}"
    return "0" + s[2:] if s.startswith("-0") and float(s) == 0 else s


def _lower_label(label: str) -> str:
    """Lower-case a label for use mid-sentence, keeping acronyms such as ECC."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in label.split())


def describe_finding(row: Mapping[str, Any] | pd.Series, kind: str = "rest", decimals: int = 1,
                     level: float = 0.95, min_cell_n: int = 5) -> str:
    """One plain-language sentence about a comparison in a cell-table row.

    Parameters
    ----------
    row : mapping or Series
        A row of :func:`compare_cells` output (``group, attribute, category,
        question, mean, n`` and the ``{kind}_*`` columns; ``suppressed`` is
        honoured if present).
    kind : {"rest", "last_year", "groups"}
    decimals : int
        Decimals for means and differences.
    level : float
        Confidence level quoted for the interval.
    min_cell_n : int
        Threshold quoted for small cells (never prints a suppressed n).

    Returns
    -------
    str

    Examples
    --------
    >>> row = {"group": "officer", "attribute": "quadrant", "category": "North", "question": "trust",
    ...        "mean": 2.9, "n": 12, "rest_diff": 0.5, "rest_diff_low": 0.1, "rest_diff_high": 0.9,
    ...        "rest_p_adj": 0.01, "rest_significant": True, "rest_mean_other": 2.4, "rest_n_other": 70}
    >>> describe_finding(row)
    'Officers whose quadrant is North scored higher than other officers on trust (2.9 vs 2.4, n = 12 vs 70; difference 0.5, 95% CI 0.1 to 0.9; significant after correction).'
    """
    if kind not in COMPARISON_KINDS:
        raise ValueError(f"kind must be one of {COMPARISON_KINDS}; got {kind!r}")
    g = str(row.get("group"))
    a = str(row.get("attribute"))
    c = str(row.get("category"))
    q = str(row.get("question"))
    glabel = GROUP_LABEL.get(g, g.capitalize())
    other_g = {"provider": "officer", "officer": "provider"}.get(g, "others")
    qtext = "the overall score" if q == "overall" else QUESTION_LABEL.get(q, q).lower()
    n = row.get("n")
    n_other = row.get(f"{kind}_n_other")

    def _n(v) -> str:
        if v is None or pd.isna(v):
            return "?"
        return f"fewer than {min_cell_n}" if v < min_cell_n else str(int(v))

    if a == ALL:
        who = glabel
    elif a == "rated_department":
        who = f"{glabel}' ratings of {c}"
    else:
        who = f"{glabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"
    if kind == "rest":
        them = f"other {glabel.lower()}"
    elif kind == "last_year":
        them = "last year"
    else:
        olabel = GROUP_LABEL.get(other_g, other_g).lower()
        them = olabel if a == ALL else f"{olabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"
    hidden = row.get("suppressed", False)
    hidden = False if hidden is None or pd.isna(hidden) else bool(hidden)
    if hidden and str(row.get("suppression", "")) == "complementary":
        return "Not shown, to protect a small group elsewhere in this table."
    if n is None or pd.isna(n) or n < min_cell_n or hidden:
        return f"Too few responses to tell ({_n(n)})." if _n(n).startswith("fewer") \
            else f"Too few responses to tell (n = {_n(n)})."
    d = row.get(f"{kind}_diff")
    if d is None or pd.isna(d):
        if n_other is not None and not pd.isna(n_other) and n_other < min_cell_n:
            return f"Too few responses to tell (n = {_n(n)} vs {_n(n_other)})."
        return f"No comparison with {them} is available for {qtext}."
    mean = row.get("mean")
    other = row.get(f"{kind}_mean_other")
    low, high = row.get(f"{kind}_diff_low"), row.get(f"{kind}_diff_high")
    sig = row.get(f"{kind}_significant")
    sig = bool(sig) if sig is not None and not pd.isna(sig) else False
    parts = []
    if mean is not None and not pd.isna(mean) and other is not None and not pd.isna(other):
        parts.append(f"{_fmt(mean, decimals)} vs {_fmt(other, decimals)}, n = {_n(n)} vs {_n(n_other)}")
    else:
        parts.append(f"n = {_n(n)} vs {_n(n_other)}")
    ci = ""
    if low is not None and not pd.isna(low):
        ci = f", {round(level * 100):d}% CI {_fmt(low, decimals)} to {_fmt(high, decimals)}"
    parts.append(f"difference {_fmt(d, decimals)}{ci}")
    parts.append("significant after correction" if sig else "not significant after correction")
    detail = "; ".join(parts)
    if sig:
        direction = "higher" if d > 0 else "lower"
        verb = f"scored {direction} than {them}"
        return f"{who} {verb} on {qtext} ({detail})."
    if kind == "last_year":
        return f"No clear change since last year for {who[0].lower() + who[1:]} on {qtext} ({detail})."
    return f"No clear difference between {who[0].lower() + who[1:]} and {them} on {qtext} ({detail})."
