"""Tests of a difference: studentised permutation, within-respondent sign-flip, and alongside tests.

Studentised permutation test (:func:`permutation_test`, :func:`compare_two`)
    The statistic is the cluster-robust Welch t of the very difference shown:
    ``T = (m_A - m_B) / sqrt(v_A + v_B)``, with ``m`` the ratio mean (or mean
    of question means) and ``v`` its linearised CR1 variance, respondents as
    clusters (``_linearise``; the standard error of
    :func:`rmlib.stats.diff_interval`). Respondents are permuted between the
    two sides and T recomputed for every split, its variance included
    (exactly every split when there are at most ``exact_threshold``, else
    ``n_resamples`` random ones). Permuting the raw difference is exact only
    when the two sides are exchangeable, which they are not for providers
    (about ten ratings each) against officers (one) or for a small subgroup
    whose spread differs from the rest's: the raw test's false-positive rate
    reached 6-28 % at a nominal 5 %. Studentising makes the test
    asymptotically valid without exchangeability while staying exact under
    it (Janssen 1997, Stat. Probab. Lett. 36: 9-21; Chung and Romano 2013,
    Ann. Statist. 41: 484-507). ``T`` is defined for every split: with no
    spread on either side it is 0 if the difference is 0, else +-inf.
The guard: the t reference must agree
    A permutation test of a studentised statistic is exact when the sides
    are exchangeable but only asymptotically valid when they are not, and
    with 5-10 respondents on one side it is not yet valid: in
    ``benchmarks/null_simulation.py`` it gave 7-13 % false positives at a
    nominal 5 % for providers against 5 officers and for a small subgroup
    with 5 times the rest's variance. The same statistic referred to the t
    distribution with Welch-Satterthwaite df (each side's df that of its
    cluster-robust variance) is the classical small-sample answer to unequal
    variances, but is not exact either. So the p-value used is the *larger*
    of the two, and the critical value the larger of the two: "significant"
    needs both to agree. That test is valid whenever either reference is
    (its rejections are a subset of each one's), at the price of power where
    the permutation alone would have been exact (heavy ties, equal spreads,
    5 respondents; numbers in ``benchmarks/README.md``). ``guard=False``
    gives the permutation alone.
Interval (the test inverted)
    ``diff +- c * se``, where ``c`` is the larger of the permutation
    distribution's critical value of ``|T|`` at the interval's level and the
    t reference's, so that the interval excludes 0 exactly when the (guarded)
    p-value is below ``1 - level``
    (the agreement is enforced at floating-point ties too). From
    ``LARGE_SAMPLE_N`` respondents on both sides the same statistic is
    referred to the t distribution with Welch-Satterthwaite df instead, and
    the interval is :func:`rmlib.stats.diff_interval`: the same agreement.
Within-respondent comparisons (:func:`sign_flip_test`)
    Providers rate several departments, so "this department against the
    others" compares two sets of ratings by the same providers. Each
    provider's difference (their rating of the department minus the mean of
    their ratings of the other departments) is one paired observation; the
    test flips the signs of these differences (every sign pattern when
    ``2**n <= exact_threshold``, else random ones) and recomputes the one-
    sample t statistic (studentised, as above), guarded by the paired t
    reference with ``n - 1`` df in the same way. Interval: inverted likewise.
Alongside
    Welch's t and Brunner-Munzel on respondent-level means and the
    probability of superiority are reported, never used for "significant".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._base import (
    _MAX_KEEP,
    _MAX_MASK,
    _MAX_MATRIX,
    _REL_ZERO,
    _TIE_RTOL,
    _active,
    _as_2d,
    _check_level,
    _linearise,
    _respondent_means,
    _rng,
    _stat,
    _welch_df,
)
from .intervals import TEST_PSEUDO_SS, _diff_t


@dataclass(frozen=True)
class PermutationResult:
    """Result of :func:`permutation_test` and :func:`sign_flip_test`.

    Attributes
    ----------
    diff : float
        Observed statistic of A minus that of B (sign-flip: mean difference).
    p : float
        Two-sided p-value: share of splits with ``|T*| >= |T_obs|``.
    method : str
        ``"exact"``, ``"monte carlo"`` or ``"none"`` (a set is empty).
    n_a, n_b : int
        Respondents in each set (sign-flip: pairs, twice).
    n_perm : int
        Splits enumerated (exact) or drawn (Monte Carlo).
    low, high : float
        The inverted interval (``diff +- crit * se``); NaN when the test is
        not studentised.
    se, crit : float
        Observed standard error and the critical value of ``|T|``.
    """

    diff: float
    p: float
    method: str
    n_a: int
    n_b: int
    n_perm: int
    low: float = np.nan
    high: float = np.nan
    se: float = np.nan
    crit: float = np.nan

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
            small[lo : lo + step] = X[idx[lo : lo + step]].sum(axis=1)
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
            chunks.append(
                np.fromiter(
                    itertools.chain.from_iterable(itertools.islice(combos, b)), dtype=np.intp, count=b * k
                ).reshape(b, k)
            )
            done += b
        return _Splits(n, chunks, small_is_a, "exact", n_splits)
    rng = _rng(rng)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        chunks.append(_random_subsets(rng, n, k, b))
        done += b
    return _Splits(n, chunks, small_is_a, "monte carlo", n_resamples)


# --------------------------------------------------------------------------
# studentised statistics from linear sums
# --------------------------------------------------------------------------
class _Features:
    """Columns whose per-side sums give each statistic's value and CR1 variance.

    For a statistic over columns J the side's CR1 variance needs, besides the
    sums ``S_q`` and counts ``C_q``, the side's Gram matrices of
    ``[s_iq, c_iq]`` over its respondents: ``sum s_ia s_ib``, ``sum s_ia c_ib``
    and ``sum c_ia c_ib`` (one question: ``s^2, s c, c^2``). They are sums over
    respondents, so a split's A side is a sum of rows (``_Splits.sums``) and B
    the totals minus A, as for the means. Products of integer scores and
    counts are integers, exact in floating point.
    """

    def __init__(self, S: np.ndarray, C: np.ndarray, col_sets: Sequence[Sequence[int]], pseudo: bool = True):
        q = S.shape[1]
        self.pseudo = pseudo
        cols: dict[tuple, int] = {}

        def col(kind, a, b=None):
            key = (kind, a, b)
            if key not in cols:
                cols[key] = len(cols)
            return cols[key]

        self.plans = []
        for cs in col_sets:
            cs = list(cs)
            si = [col("s", a) for a in cs]
            ci = [col("c", a) for a in cs]
            k = len(cs)
            ss = np.empty((k, k), dtype=np.intp)
            sc = np.empty((k, k), dtype=np.intp)
            cc = np.empty((k, k), dtype=np.intp)
            for x, a in enumerate(cs):
                for y, b in enumerate(cs):
                    lo, hi = min(a, b), max(a, b)
                    ss[x, y] = col("ss", lo, hi)
                    cc[x, y] = col("cc", lo, hi)
                    sc[x, y] = col("sc", a, b)
            self.plans.append((np.array(si), np.array(ci), ss, sc, cc))
        X = np.empty((S.shape[0], len(cols)))
        for (kind, a, b), j in cols.items():
            if kind == "s":
                X[:, j] = S[:, a]
            elif kind == "c":
                X[:, j] = C[:, a]
            elif kind == "ss":
                X[:, j] = S[:, a] * S[:, b]
            elif kind == "cc":
                X[:, j] = C[:, a] * C[:, b]
            else:
                X[:, j] = S[:, a] * C[:, b]
        self.X = X
        self.q = q

    def stats(self, F: np.ndarray, G: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(statistic, CR1 variance) of statistic j for rows of side sums F (b x features), G respondents."""
        si, ci, ss, sc, cc = self.plans[j]
        if len(si) == 1:  # one question: 1-D arithmetic on column views (the common case, fast)
            S1, C1 = F[:, si[0]], F[:, ci[0]]
            with np.errstate(invalid="ignore", divide="ignore"):
                m1 = np.where(C1 > 0, S1 / C1, np.nan)
                inv2 = 1.0 / (C1 * C1)
            Gss, Gsc, Gcc = F[:, ss[0, 0]], F[:, sc[0, 0]], F[:, cc[0, 0]]
            q = (Gss - 2 * m1 * Gsc + m1 * m1 * Gcc) * inv2
            q = np.where(q <= _REL_ZERO * (Gss + m1 * m1 * Gcc) * inv2, 0.0, q)
            if self.pseudo and G >= 1:
                q = q + TEST_PSEUDO_SS / (G * G)
            var = (G / (G - 1) * q) if G >= 2 else np.full(q.shape, np.nan)
            return m1, var
        Sq, Cq = F[:, si], F[:, ci]
        valid = Cq > 0
        k = valid.sum(1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(valid, 1.0 / (np.maximum(k, 1) * np.where(valid, Cq, 1.0)), 0.0)
            m = np.where(valid, Sq / np.where(valid, Cq, 1.0), 0.0)
        est = np.where(k[:, 0] > 0, (w * Sq).sum(1), np.nan)
        a, b = w, -w * m
        if len(si) == 1:
            Gss, Gsc, Gcc = F[:, ss[0, 0]], F[:, sc[0, 0]], F[:, cc[0, 0]]
            a1, b1 = a[:, 0], b[:, 0]
            q = a1 * a1 * Gss + 2 * a1 * b1 * Gsc + b1 * b1 * Gcc
            scale = a1 * a1 * Gss + b1 * b1 * Gcc
        else:
            Gss, Gsc, Gcc = F[:, ss], F[:, sc], F[:, cc]
            q = (
                np.einsum("bi,bij,bj->b", a, Gss, a)
                + 2 * np.einsum("bi,bij,bj->b", a, Gsc, b)
                + np.einsum("bi,bij,bj->b", b, Gcc, b)
            )
            aa, bb = np.abs(a), np.abs(b)
            scale = np.einsum("bi,bij,bj->b", aa, Gss, aa) + np.einsum("bi,bij,bj->b", bb, Gcc, bb)
        q = np.where(q <= _REL_ZERO * scale, 0.0, q)
        if self.pseudo and G >= 1:
            q = q + TEST_PSEUDO_SS / (G * G)
        var = (G / (G - 1) * q) if G >= 2 else np.full(q.shape, np.nan)
        return est, var


def _t_of(d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Studentised statistic d / sqrt(v); without spread (v == 0) 0 for d == 0, else +-inf."""
    d = np.where(np.abs(d) <= 1e-12, 0.0, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v > 0, d / np.sqrt(np.where(v > 0, v, 1.0)), np.where(d == 0, 0.0, np.sign(d) * np.inf))


def _crit(absT: np.ndarray, method: str, alpha: float) -> float:
    """Critical |T|: p < alpha exactly when |T_obs| exceeds it (see the module notes).

    Exact: ``p = #{|T*| >= |T_obs|} / N < alpha`` iff at most ``K = ceil(alpha N) - 1``
    splits reach |T_obs|, i.e. iff |T_obs| > the (K+1)-th largest |T*|. Monte
    Carlo: ``(1 + #) / (B + 1) < alpha`` iff ``# <= K = ceil(alpha (B + 1) - 1) - 1``.
    """
    N = absT.size
    K = math.ceil(alpha * N - 1e-9) - 1 if method == "exact" else math.ceil(alpha * (N + 1) - 1 - 1e-9) - 1
    if K < 0 or N == 0:
        return np.inf
    return float(-np.partition(-absT, K)[K])


def _perm_pvalues(
    S: np.ndarray,
    C: np.ndarray,
    n_a: int,
    col_sets: Sequence[Sequence[int]],
    splits: _Splits,
    studentise: bool = True,
    level: float = 0.95,
    df_method: str = "satterthwaite",
    guard: bool = True,
):
    """Observed differences, permutation p-values, observed SEs and critical values of several statistics.

    Rows ``:n_a`` of ``S``/``C`` are set A, the rest set B; each entry of
    ``col_sets`` is a statistic (the mean over those columns of ratio
    means). ``studentise=False`` permutes the raw difference (the test used
    before the studentised one; kept for comparison): SE and critical value
    are then NaN. ``guard`` (studentised only): p-value and critical value are
    the larger of the permutation's and the Welch-Satterthwaite t reference's
    (module notes); ``guard=False`` gives the permutation alone.
    """
    k = len(col_sets)
    n = S.shape[0]
    n_b = n - n_a
    feats = _Features(S, C, col_sets, pseudo=studentise)
    tot = feats.X.sum(0)
    FA = feats.X[:n_a].sum(0)[None, :]
    FB = tot[None, :] - FA
    obs, se, tobs = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    var_a, var_b = np.full(k, np.nan), np.full(k, np.nan)  # the observed sides' variances (the guard's df)
    for j in range(k):
        ea, va = feats.stats(FA, n_a, j)
        eb, vb = feats.stats(FB, n_b, j)
        var_a[j], var_b[j] = va[0], vb[0]
        obs[j] = float(ea[0] - eb[0])
        se[j] = float(np.sqrt(va[0] + vb[0])) if n_a >= 2 and n_b >= 2 else np.nan
        tobs[j] = float(_t_of(ea - eb, va + vb)[0]) if studentise else obs[j]
    if splits.method == "none":
        return obs, np.full(k, np.nan), se, np.full(k, np.nan)
    if studentise and (n_a < 2 or n_b < 2):
        return obs, np.full(k, np.nan), se, np.full(k, np.nan)
    a_tobs = np.abs(tobs)
    target = np.where(np.isinf(a_tobs), np.inf, a_tobs - _TIE_RTOL * np.maximum(a_tobs, 1.0))
    hits = np.zeros(k, dtype=np.int64)
    keep = [[] for _ in range(k)] if studentise else None
    for i in range(len(splits.chunks)):
        FA_ = splits.sums(i, feats.X, tot)  # A's feature sums, one row per split
        FB_ = tot - FA_
        for j in range(k):
            ea, va = feats.stats(FA_, n_a, j)
            eb, vb = feats.stats(FB_, n_b, j)
            T = np.abs(_t_of(ea - eb, va + vb) if studentise else ea - eb)
            hits[j] += np.count_nonzero(T >= target[j])
            if keep is not None:
                keep[j].append(T)
    p = hits / splits.n_perm if splits.method == "exact" else (1 + hits) / (splits.n_perm + 1)
    crit = np.full(k, np.nan)
    if keep is not None:
        alpha = round(1 - level, 12)
        for j in range(k):
            crit[j] = _crit(np.concatenate(keep[j]), splits.method, alpha)
            if not guard:
                continue
            # the guard (module notes): significant only if the Welch-Satterthwaite t reference agrees; each
            # side's df is that of its cluster-robust variance (G - 1 for one rating each, fewer when
            # respondents give unequal numbers of ratings)
            cols = list(col_sets[j])
            dfa = _linearise(S[:n_a, cols], C[:n_a, cols], df_method)[3]
            dfb = _linearise(S[n_a:, cols], C[n_a:, cols], df_method)[3]
            df = _welch_df(var_a[j], dfa, var_b[j], dfb)
            if np.isfinite(df):
                p[j] = max(p[j], float(2 * _st.t.sf(abs(tobs[j]), df)))
                crit[j] = max(crit[j], float(_st.t.ppf(1 - alpha / 2, df)))
    return obs, p, se, crit


def _inverted(d: float, se: float, crit: float, p: float, level: float) -> tuple[float, float]:
    """``d +- crit * se``, made to agree with the test: 0 outside iff ``p < 1 - level``."""
    if not (np.isfinite(d) and np.isfinite(se) and np.isfinite(p)):
        return np.nan, np.nan
    h = crit * se if np.isfinite(crit) else np.inf
    if se == 0:
        h = 0.0 if np.isfinite(crit) else np.inf
    alpha = round(1 - level, 12)  # 1 - 0.95 is 0.05000000000000004 in floating point
    if p < alpha and not h < abs(d):
        h = abs(d) * (1 - 1e-12)
    elif p >= alpha and h < abs(d):
        h = abs(d)
    return (d - h, d + h) if np.isfinite(h) else (-np.inf, np.inf)


def permutation_test(
    sums_a,
    counts_a,
    sums_b,
    counts_b,
    n_resamples: int = 9999,
    seed=0,
    exact_threshold: int = 20000,
    studentise: bool = True,
    level: float = 0.95,
    guard: bool = True,
) -> PermutationResult:
    """Two-sided studentised permutation test of a difference of ratio means, A minus B.

    Respondent labels are permuted between A and B and the statistic
    recomputed for every split (module notes): by default the cluster-robust
    Welch t of the difference, ``studentise=False`` the raw difference. For
    1-D input the statistic is the ratio mean ``sum(sums) / sum(counts)``,
    for 2-D input the overall score (mean over questions of the ratio means).
    When ``C(nA + nB, nA) <= exact_threshold`` all splits are enumerated and
    ``p = #{|T*| >= |T_obs|} / C(nA + nB, nA)``; otherwise ``n_resamples``
    random splits give ``p = (1 + #{|T*| >= |T_obs|}) / (n_resamples + 1)``.
    A relative tolerance of 1e-9 counts floating-point ties as ties. A
    split's sums are gathered from the smaller side (``_Splits``), so it
    costs O(smaller side x columns). The studentised test needs 2 respondents
    on each side (else p is NaN).

    Examples
    --------
    >>> r = permutation_test([1, 2, 3], [1, 1, 1], [4, 5, 6], [1, 1, 1], studentise=False)
    >>> r.method, r.n_perm, round(r.p, 4)
    ('exact', 20, 0.1)
    >>> round(permutation_test([1, 2, 3], [1, 1, 1], [4, 5, 6], [1, 1, 1]).p, 4)
    0.1
    """
    _check_level(level)
    sa, ca = _as_2d(sums_a, counts_a, "a: ")
    sb, cb = _as_2d(sums_b, counts_b, "b: ")
    if sa.shape[1] != sb.shape[1]:
        raise ValueError(f"A and B must have the same number of questions; got {sa.shape[1]} and {sb.shape[1]}")
    sa, ca = _active(sa, ca)
    sb, cb = _active(sb, cb)
    S, C = np.vstack([sa, sb]), np.vstack([ca, cb])
    cols = list(range(S.shape[1]))
    splits = _splits(S.shape[0], sa.shape[0], n_resamples, seed, exact_threshold)
    obs, p, se, crit = _perm_pvalues(S, C, sa.shape[0], [cols], splits, studentise, level, guard=guard)
    diff = float(obs[0]) if sa.shape[0] and sb.shape[0] else np.nan
    low, high = _inverted(diff, se[0], crit[0], p[0], level) if studentise else (np.nan, np.nan)
    return PermutationResult(
        diff,
        float(p[0]),
        splits.method,
        sa.shape[0],
        sb.shape[0],
        splits.n_perm,
        low,
        high,
        float(se[0]),
        float(crit[0]),
    )


# --------------------------------------------------------------------------
# within-respondent (paired) comparisons
# --------------------------------------------------------------------------
def sign_flip_test(
    d,
    n_resamples: int = 9999,
    seed=0,
    exact_threshold: int = 20000,
    level: float = 0.95,
    large_n: int | None = None,
    guard: bool = True,
) -> PermutationResult:
    """Studentised sign-flip test that paired differences have mean 0, with its inverted interval.

    ``d``: one difference per respondent (e.g. a provider's rating of a
    department minus the mean of their ratings of the other departments).
    Statistic: the one-sample t, ``mean(d) / (sd(d) / sqrt(n))``. Under the
    null each difference is as likely positive as negative, so its sign is
    flipped at random (every one of the ``2**n`` patterns when
    ``2**n <= exact_threshold``) and t recomputed; the sum of squares does not
    change under a flip, so a flip costs O(n). The interval is
    ``mean +- crit * se`` (module notes). With ``large_n`` and ``n >= large_n``
    the t distribution with ``n - 1`` df replaces the flips (``method =
    "t"``): the same statistic, the paired t-test (``scipy.stats.ttest_1samp``).

    Examples
    --------
    >>> r = sign_flip_test([0.5, 1.0, 0.25, 0.75, 1.0])
    >>> r.method, r.n_perm, r.p
    ('exact', 32, 0.0625)
    """
    _check_level(level)
    d = np.asarray(d, dtype=float)
    if d.ndim != 1 or not np.isfinite(d).all():
        raise ValueError("sign_flip_test: d must be a 1-D array of finite differences")
    n = d.size
    if n < 2:
        return PermutationResult(float(d.mean()) if n else np.nan, np.nan, "none", n, n, 0)
    mean = float(d.mean())
    ss = float(np.dot(d, d))

    def t_of(m):
        q = ss - n * m * m
        q = np.where(q <= _REL_ZERO * max(ss, 1e-300), 0.0, q)
        v = (q + TEST_PSEUDO_SS) / (n * (n - 1))
        return _t_of(m, v), v

    t_obs, v_obs = t_of(np.array([mean]))
    se = float(np.sqrt(v_obs[0]))
    if large_n is not None and n >= large_n:
        p = float(2 * _st.t.sf(abs(mean) / se, n - 1))
        crit = float(_st.t.ppf(0.5 + level / 2, n - 1))
        low, high = _inverted(mean, se, crit, p, level)
        return PermutationResult(mean, p, "t", n, n, 0, low, high, se, crit)
    if 2.0**n <= exact_threshold:
        signs = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1)
        method = "exact"
    else:
        signs = 1.0 - 2.0 * (_rng(seed).random((n_resamples, n)) < 0.5)
        method = "monte carlo"
    T = np.empty(len(signs))
    step = max(1, _MAX_MATRIX // n)
    for lo in range(0, len(signs), step):
        T[lo : lo + step] = np.abs(t_of(signs[lo : lo + step] @ d / n)[0])
    a = abs(float(t_obs[0]))
    target = np.inf if np.isinf(a) else a - _TIE_RTOL * max(a, 1.0)
    hits = int(np.count_nonzero(T >= target))
    p = hits / len(T) if method == "exact" else (1 + hits) / (len(T) + 1)
    alpha = round(1 - level, 12)
    # the guard (module notes): the paired t reference must agree
    crit = _crit(T, method, alpha)
    if guard:
        p = max(p, float(2 * _st.t.sf(abs(float(t_obs[0])), n - 1)))
        crit = max(crit, float(_st.t.ppf(1 - alpha / 2, n - 1)))
    low, high = _inverted(mean, se, crit, p, level)
    return PermutationResult(mean, float(p), method, n, n, len(T), low, high, se, crit)


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
    return (np.bincount(codes[: x.size], minlength=len(uniq)), np.bincount(codes[x.size :], minlength=len(uniq)))


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


def compare_two(
    sums_a,
    counts_a,
    sums_b,
    counts_b,
    level: float = 0.95,
    n_resamples: int = 9999,
    seed=0,
    exact_threshold: int = 20000,
    df_method: str = "satterthwaite",
) -> dict[str, Any]:
    """Compare two independent sets of respondents on a cell's statistic.

    Runs the studentised :func:`permutation_test` (the p-value used for
    "significant") and its inverted interval (``diff_low``, ``diff_high``:
    excludes 0 exactly when p < 1 - level), and, alongside, Welch's t (as
    ``scipy.stats.ttest_ind(equal_var=False)``) and Brunner-Munzel (as
    ``statsmodels.stats.nonparametric.rank_compare_2indep``) on
    respondent-level means, and ``prob_sup`` (Brunner-Munzel's ``prob1``).
    Where a test is undefined (fewer than 2 respondents in a set, no
    variance, complete separation for BM) its p-value is NaN; nothing raises.
    ``df_method`` is that of the Welch cluster t (the large-sample rule in
    :func:`rmlib.stats.compare_cells`); it does not enter the permutation test.

    Returns
    -------
    dict
        ``diff, diff_low, diff_high, p, p_method, welch_p, bm_p, prob_sup,
        n_a, n_b, mean_a, mean_b``.

    Examples
    --------
    >>> r = compare_two([3, 4, 3, 4, 4], [1] * 5, [2, 2, 3, 1, 2], [1] * 5)
    >>> r["p_method"], round(r["diff"], 2), round(r["prob_sup"], 2), bool(r["diff_low"] > 0)
    ('exact', 1.6, 0.96, True)
    """
    sa, ca = _as_2d(sums_a, counts_a, "a: ")
    sb, cb = _as_2d(sums_b, counts_b, "b: ")
    sa, ca = _active(sa, ca)
    sb, cb = _active(sb, cb)
    perm = permutation_test(
        sa, ca, sb, cb, n_resamples=n_resamples, seed=seed, exact_threshold=exact_threshold, level=level
    )
    return _assemble(sa, ca, sb, cb, perm, level, df_method)


def _assemble(sa, ca, sb, cb, perm: PermutationResult | None, level, df_method="satterthwaite") -> dict[str, Any]:
    """Result row of one comparison; ``perm=None``: the Welch cluster t (large-sample rule)."""
    if perm is None:
        d, low, high, t_method, p = _diff_t(sa, ca, sb, cb, level, df_method, pseudo=True)
        p_method = t_method if t_method == "welch_cluster_t" else "none"
    else:
        d, low, high, p, p_method = perm.diff, perm.low, perm.high, perm.p, perm.method
    xa, xb = _respondent_means(sa, ca), _respondent_means(sb, cb)
    bm_p, ps = _brunner_munzel(xa, xb)
    return {
        "diff": float(d),
        "diff_low": float(low),
        "diff_high": float(high),
        "p": float(p),
        "p_method": p_method,
        "welch_p": _welch_p(xa, xb),
        "bm_p": bm_p,
        "prob_sup": ps,
        "n_a": int(sa.shape[0]),
        "n_b": int(sb.shape[0]),
        "mean_a": float(_stat(sa.sum(0), ca.sum(0))) if sa.shape[0] else np.nan,
        "mean_b": float(_stat(sb.sum(0), cb.sum(0))) if sb.shape[0] else np.nan,
    }
