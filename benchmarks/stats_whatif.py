"""Proposed changes to rmlib.stats, applied in memory only, to measure what they would save.

rmlib/stats.py is not edited by the benchmark (another issue owns it). These
are the three hot spots ``benchmarks/run.py`` finds at 1e4-1e5 respondents,
each with a drop-in replacement:

``_prob_superiority(x, y)`` (called by ``_brunner_munzel`` for every comparison)
    builds the n_a x n_b matrix ``x[:, None] - y[None, :]``: O(n_a n_b) time
    and memory (providers vs officers at 1e5 respondents: ~70 GB). The same
    number is the Mann-Whitney U from mid-ranks, O(n log n):
    ``(sum of x's mid-ranks in the pooled sample - n_a (n_a + 1) / 2) / (n_a n_b)``.
    Bit-for-bit equal (both numerators are exact multiples of 0.5).
``_random_subsets(rng, n, k, b)`` (Monte Carlo permutation splits)
    is Floyd's algorithm vectorised over the b rows but looping k times in
    Python; chunks hold ``4e6 / n`` rows, so a test costs
    ``k * R * n / 4e6`` Python iterations: quadratic in n. Replacement for
    large k: the k smallest of b x n uniform keys (``argpartition``), O(b n) in
    C. Same distribution (uniform k-subsets), *different random stream*: the
    Monte Carlo p-values change within their Monte Carlo error.
``_Year.cell(...)`` (every cell, and every cell's "rest")
    tests membership with a Python generator over all of the group's ids
    (``np.fromiter(i in member for i in ids)``), iterating an Arrow string
    array element by element. Replacement: one hash look-up
    (``pd.Index(ids).get_indexer``). Same result.

Use: ``with proposed(): ...`` or ``run.py --whatif``. Never used by the pipeline.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

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


def year_cell(self, group: str, attribute: str, category: str, rest: bool = False):
    """stats._Year.cell with the membership mask from one hash look-up."""
    key = (group, attribute, category, rest)
    if key in self._rows:
        return self._rows[key]
    if attribute in (stats.ALL,) or attribute in self.rating_attrs or group not in self.groups:
        return _ORIGINAL["cell"](self, group, attribute, category, rest)
    ids, s, c = self.groups[group]
    index = self.__dict__.setdefault("_whatif_index", {})
    if group not in index:
        index[group] = pd.Index(ids)
    member = self.members.get((attribute, category), set())
    pos = index[group].get_indexer(list(member)) if member else np.array([], dtype=np.intp)
    mask = np.zeros(len(ids), dtype=bool)
    mask[pos[pos >= 0]] = True
    if rest:
        mask = ~mask
    out = (s[mask], c[mask])
    self._rows[key] = out
    return out


_ORIGINAL = {"_prob_superiority": stats._prob_superiority, "_random_subsets": stats._random_subsets,
             "cell": stats._Year.cell}


@contextlib.contextmanager
def proposed(which=("_prob_superiority", "_random_subsets", "cell")):
    """Swap the proposed implementations into rmlib.stats for the duration of the block."""
    swaps = {"_prob_superiority": (stats, "_prob_superiority", prob_superiority),
             "_random_subsets": (stats, "_random_subsets", random_subsets),
             "cell": (stats._Year, "cell", year_cell)}
    try:
        for name in which:
            obj, attr, new = swaps[name]
            setattr(obj, attr, new)
        yield
    finally:
        stats._prob_superiority = _ORIGINAL["_prob_superiority"]
        stats._random_subsets = _ORIGINAL["_random_subsets"]
        stats._Year.cell = _ORIGINAL["cell"]
