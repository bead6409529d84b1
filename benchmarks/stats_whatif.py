"""Proposed changes to rmlib.stats, applied in memory only, to measure what they would save.

rmlib/stats.py is not edited by the benchmark (another issue owns it). The hot
spots ``benchmarks/run.py`` found at 1e4-1e5 respondents, with drop-in
replacements:

``_prob_superiority(x, y)`` - ADOPTED in rmlib.stats (a7a61be)
    built the n_a x n_b matrix ``x[:, None] - y[None, :]`` (providers vs
    officers at 1e5: ~140 GB); now mid-ranks, O(n log n). The swap here is the
    same computation, kept so that ``--whatif`` also works on older checkouts.
``_Year.cell(...)`` - NOT a hot spot; revert 19d7de2
    the generator it had (``np.fromiter(i in member for i in ids)``) runs over an
    object ndarray with a set: 8 ms per look-up at 1e5. 19d7de2 replaced it
    with ``pd.Index(ids).isin(list(member))``, which for Arrow strings builds
    one pyarrow scalar per member: 70-190 ms per look-up (measured on the 1e5
    data; same masks), and stats.power_table went from 13 s to 27 s at 1e5.
    The Arrow iteration seen in profiles is in ``_Year.__init__`` instead:
    ``set(rl["attribute"].astype(str))`` walks the 8 M rating-level rows in
    Python (4.0 s per ``_Year``; ``.unique()`` takes 0.04 s), and splitting the
    9.5 M-row frame with ``groupby(...)`` iteration costs another 4.4 s.
``_random_subsets(rng, n, k, b)`` (Monte Carlo permutation splits) - open
    Floyd's algorithm vectorised over the b rows but looping k times in
    Python; chunks hold ``4e6 / n`` rows, so a test costs
    ``k * R * n / 4e6`` Python iterations: quadratic in n. Replacement for
    large k: the k smallest of b x n uniform keys (``argpartition``), O(b n) in
    C. Same distribution (uniform k-subsets), *different random stream*: the
    Monte Carlo p-values change within their Monte Carlo error, so adopting
    it is a decision for the owner of rmlib.stats.

Use: ``with proposed(): ...`` or ``run.py --whatif``. Never used by the pipeline.
"""
from __future__ import annotations

import contextlib

import numpy as np

from rmlib import stats

#: below this subset size Floyd's loop is cheap enough; above it, argpartition
FLOYD_MAX_K = 64


def prob_superiority(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + 0.5 P(X = Y) from mid-ranks (Mann-Whitney U / (n_a n_b))."""
    if x.size == 0 or y.size == 0:
        return np.nan
    r = stats._avg_ranks(np.concatenate([x, y]))
    return float((r[:x.size].sum() - x.size * (x.size + 1) / 2.0) / (x.size * y.size))


def random_subsets(rng: np.random.Generator, n: int, k: int, b: int) -> np.ndarray:
    """(b x k) uniform random k-subsets of range(n): Floyd for small k, argpartition of random keys otherwise."""
    if k <= FLOYD_MAX_K:
        return _ORIGINAL["_random_subsets"](rng, n, k, b)
    keys = rng.random((b, n))
    return np.argpartition(keys, k - 1, axis=1)[:, :k]


_ORIGINAL = {"_prob_superiority": stats._prob_superiority, "_random_subsets": stats._random_subsets}


@contextlib.contextmanager
def proposed(which=("_prob_superiority", "_random_subsets")):
    """Swap the proposed implementations into rmlib.stats for the duration of the block."""
    swaps = {"_prob_superiority": (stats, "_prob_superiority", prob_superiority),
             "_random_subsets": (stats, "_random_subsets", random_subsets)}
    try:
        for name in which:
            obj, attr, new = swaps[name]
            setattr(obj, attr, new)
        yield
    finally:
        stats._prob_superiority = _ORIGINAL["_prob_superiority"]
        stats._random_subsets = _ORIGINAL["_random_subsets"]
