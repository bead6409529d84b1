"""Shared pieces of :mod:`rmlib.stats`: input checks, the ratio statistic and its linearised variance.

The statistic is the report's own: the cell mean and the overall score of
:mod:`rmlib.scoring` (one implementation each), applied to respondent-level
sums and counts.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..params import SPECS
from ..scoring import cell_mean, overall_score

#: the run's default disclosure threshold (rmlib.params), for callers that pass none
DEFAULT_MIN_CELL_N: int = SPECS["min_cell_n"].default

#: Attribute value of whole-group rows in a cell table.
ALL = "all"
#: Default smallest n for the bootstrap in :func:`overall_interval` (below: cluster t).
MIN_BOOT_N = 100
#: Default number of respondents from which resampling gives way to its large-sample
#: equivalent: the overall interval's bootstrap to the cluster t interval, and in
#: :func:`compare_cells` the permutation (sign-flip) test to the t reference of the same
#: studentised statistic when *both* sides (all pairs) have at least this many respondents.
LARGE_SAMPLE_N = 1000
DF_METHODS: tuple[str, ...] = ("satterthwaite", "clusters")

_TIE_RTOL = 1e-9  # relative tolerance when comparing |T*| >= |T_obs|
_ZERO_VAR = 1e-24  # a variance below this (scores are 1-4) is zero
_REL_ZERO = 1e-10  # a sum of squares below this share of its terms' size is zero (rounding)
_MAX_MATRIX = 4_000_000  # elements of a resampling matrix built at once
_MAX_MASK = 32_000_000  # booleans of the membership mask used to draw random splits
_MAX_KEEP = 16_000_000  # elements of 0/1 split matrices kept for reuse across tests


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


def _stat(S: np.ndarray, C: np.ndarray) -> np.ndarray | float:
    """The overall score of the cell means S/C over questions (last axis), skipping C == 0 (``rmlib.scoring``).

    With one question it is that question's cell mean; rows of a 2-D input
    (e.g. bootstrap replicates) give one statistic each.
    """
    return overall_score(cell_mean(S, C))


def _respondent_means(s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Each respondent's own statistic (mean of their question means)."""
    return _stat(s, c)


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
    m = cell_mean(s[:, valid].sum(axis=0), Cq[valid])  # the questions' cell means
    est = float(overall_score(m))
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


def _welch_df(va: float, dfa: float, vb: float, dfb: float) -> float:
    """Welch-Satterthwaite df of ``va + vb``, each side's variance with its own df; NaN without variance."""
    den = va * va / dfa + vb * vb / dfb
    return (va + vb) ** 2 / den if den > 0 else np.nan


def _check_level(level):
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}")


def _seed_for(base: int, *parts) -> np.random.Generator:
    """A random stream determined by a base seed and a key (not by row order)."""
    key = "|".join(map(str, parts)).encode()
    return np.random.default_rng([int(base), zlib.crc32(key)])


def _seed_int(seed) -> int:
    """An integer base seed from an int, a Generator (one draw) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63 - 1))
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    return int(seed)
