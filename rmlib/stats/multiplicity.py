"""Multiple comparisons: one family, one adjusted p-value and one verdict per distinct comparison.

The same comparison can be shown in several tables (a provider subgroup's
change on last year appears in ``provider_by_*`` and in ``compare_by_*``; the
providers-vs-officers test of a cell in both groups' rows). Adjusting per
table gave one test two adjusted p-values and two verdicts. Here every
comparison has an id (``kind|group|attribute|category|question``;
``groups|attribute|category|question`` for providers vs officers, which is
one test seen from either group) and is adjusted once:

``correction="fdr_bh"`` (default)
    Benjamini-Hochberg at ``alpha`` over *all* distinct comparisons of the
    report (every kind, table and question): the false discovery rate
    convention of survey tabulation tools for exploratory breakdowns.
``correction="holm"``
    Holm (family-wise error) within each family: a kind of comparison for
    one group and one breakdown attribute (``rest|provider|quadrant``,
    ``last_year|officer|all``, ``groups|quadrant``...), each distinct
    comparison counted once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# the corrections accepted by adjust_pvalues and adjust_comparisons: the values of the parameter
# 'correction', declared once in rmlib.params
from ..params import CORRECTIONS

#: What each correction's family is, in words (the report's methods text).
FAMILY_TEXT = {
    "fdr_bh": "all distinct comparisons of the report (one family)",
    "holm": "each kind of comparison for one group and one breakdown (one family each)",
}
CORRECTION_NAME = {"fdr_bh": "Benjamini-Hochberg", "holm": "Holm"}


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


def comparison_id(kind: str, group: str, attribute: str, category: str, question: str) -> str:
    """The id of one distinct comparison (providers vs officers: the same id from either group's row)."""
    if kind == "groups":
        return f"groups|{attribute}|{category}|{question}"
    return f"{kind}|{group}|{attribute}|{category}|{question}"


def family_of(comparison: str, correction: str) -> str:
    """The family a comparison id is adjusted in: ``"all"`` for BH, kind + group + attribute for Holm."""
    if correction == "fdr_bh":
        return "all"
    parts = comparison.split("|")
    return "|".join(parts[:2]) if parts[0] == "groups" else "|".join(parts[:3])


def adjust_comparisons(ids, p, correction: str = "fdr_bh") -> pd.DataFrame:
    """One adjusted p-value per distinct comparison.

    ``ids`` and ``p`` are parallel (one entry per shown row, duplicates
    allowed; a repeated id must carry the same p, else ValueError). Returns one
    row per distinct id with a finite p: ``comparison, family, p, p_adj``
    (``family_of``; NaN p-values, untested, are not counted).

    Examples
    --------
    >>> adjust_comparisons(["a|x", "b|x", "a|x"], [0.01, 0.04, 0.01])[["comparison", "p_adj"]].values.tolist()
    [['a|x', 0.02], ['b|x', 0.04]]
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    df = pd.DataFrame({"comparison": np.asarray(ids, dtype=object), "p": np.asarray(p, dtype=float)})
    df = df[df["p"].notna() & df["comparison"].notna()]
    spread = df.groupby("comparison")["p"].agg(lambda v: float(v.max() - v.min()))
    if (spread > 1e-12).any():
        bad = spread[spread > 1e-12].index[0]
        raise ValueError(f"comparison {bad!r} carries different p-values in different rows")
    df = df.drop_duplicates("comparison").reset_index(drop=True)
    df["family"] = [family_of(c, correction) for c in df["comparison"]]
    df["p_adj"] = np.nan
    for _, idx in df.groupby("family", sort=False).groups.items():
        df.loc[idx, "p_adj"] = _multipletests(df.loc[idx, "p"].to_numpy(), correction)
    return df[["comparison", "family", "p", "p_adj"]]


def distinct_comparisons(cells: pd.DataFrame, kinds=("rest", "last_year", "groups")) -> pd.DataFrame:
    """Every distinct tested comparison of a :func:`compare_cells` output, once: ``comparison, kind, p, p_adj, significant``."""
    parts = []
    for k in kinds:
        if f"{k}_id" not in cells.columns:
            continue
        sub = cells[[f"{k}_id", f"{k}_p", f"{k}_p_adj", f"{k}_significant"]]
        sub.columns = ["comparison", "p", "p_adj", "significant"]
        sub = sub[sub["p"].notna()].drop_duplicates("comparison")
        parts.append(sub.assign(kind=k))
    if not parts:
        return pd.DataFrame(columns=["comparison", "kind", "p", "p_adj", "significant"])
    out = pd.concat(parts, ignore_index=True)
    return out[["comparison", "kind", "p", "p_adj", "significant"]]
