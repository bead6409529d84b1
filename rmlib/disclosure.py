"""Small-cell suppression and caution flags for cell tables.

Rules (DESIGN.md section 4; every one is stated in the report)
---------------------------------------------------------------
Primary suppression
    A cell with fewer than ``min_cell_n`` respondents (default 5) shows no
    estimate: its mean, interval, change and test columns are blanked, and
    displays show "fewer than 5" instead of a number or a base.
Complementary suppression (breakdowns)
    Within one breakdown - the rows of a table sharing ``by`` (default
    ``table, group, question``) and the same ``attribute``, whole-group rows
    (``attribute == "all"``) excluded - the group total and the other
    categories' means and rating counts let a reader work back a single
    hidden cell exactly (cell means are ratios: ``total mean x total ratings
    - sum of the other cells' mean x ratings``). So when *exactly one* cell
    with respondents (``n > 0``) is suppressed in a breakdown, the smallest
    other cell with respondents (by ``n``; ties broken by category order:
    the categorical order if ``category`` is categorical, else order of
    appearance) is suppressed too. Two or more hidden cells only reveal their
    combined value. Cells with ``n == 0`` carry no information and do not
    count.
Complementary suppression (overall score)
    The overall score is the mean of the eight question means, so if a
    category's overall is shown and exactly one of its question cells (in
    the same table) is suppressed, that question could be worked back; the
    overall is then suppressed too.
    Both complementary rules are applied repeatedly until nothing changes.
Comparisons against hidden cells
    A ``groups_*`` comparison is blanked when the other group's same cell
    (same attribute, category and question, any table) is suppressed, and
    last year's values (``mean_last``, ``change_*``, ``last_year_*``) when
    ``n_last < min_cell_n``; a ``rest_*`` comparison is blanked when the rest
    has fewer than ``min_cell_n`` respondents (``rest_n_other``).
Caution
    ``caution`` is True for ``min_cell_n <= n < caution_n`` (default 10):
    the estimate is shown with a mark (†).

The rules work within one cell table as given: apply them to the final
table (after :mod:`rmlib.stats`), and do not publish a suppressed value
elsewhere (e.g. in a chart made from the unsuppressed frame).
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["apply_disclosure", "display_value", "display_n", "estimate_columns", "CAUTION_MARK"]

#: Mark appended to an estimate whose base is below ``caution_n``.
CAUTION_MARK = "\u2020"

_EXACT = {"mean", "mean_last", "ci_low", "ci_high", "ci_method", "change_pts", "change_pct"}
_PATTERN = re.compile(
    r"(^ci_|^change_|_diff$|_diff_low$|_diff_high$|_p$|_p_adj$|_p_method$|_significant$|_welch_p$"
    r"|_bm_p$|_prob_sup$|_mean_other$|maturity)"
)


def estimate_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Columns of a cell table that carry an estimate (blanked when suppressed).

    ``mean, mean_last, ci_*, change_*``, every comparison column
    (``*_diff*, *_p, *_p_adj, *_p_method, *_significant, *_welch_p, *_bm_p,
    *_prob_sup, *_mean_other``), anything mentioning ``maturity``, plus
    ``extra``. Counts (``n``, ``ratings``, ``*_n_other``) are not estimates.

    Examples
    --------
    >>> estimate_columns(["table", "mean", "n", "ci_low", "rest_p_adj", "rest_n_other", "x"], extra=["x"])
    ['mean', 'ci_low', 'rest_p_adj', 'x']
    """
    extra = set(extra)
    return [c for c in columns if c in _EXACT or c in extra or _PATTERN.search(str(c))]


def _blank(df: pd.DataFrame, mask: np.ndarray, cols: Sequence[str]) -> None:
    """Set ``cols`` to missing on rows ``mask`` (in place), whatever their dtype."""
    if not mask.any():
        return
    for col in cols:
        if col not in df.columns:
            continue
        s = df[col]
        if pd.api.types.is_bool_dtype(s.dtype) and not isinstance(s.dtype, pd.BooleanDtype):
            df[col] = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            df[col] = s.astype("float64")
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            df.loc[mask, col] = np.nan
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            df.loc[mask, col] = pd.NA
        else:
            df.loc[mask, col] = None


def _category_rank(df: pd.DataFrame) -> np.ndarray:
    cat = df["category"]
    if isinstance(cat.dtype, pd.CategoricalDtype):
        return cat.cat.codes.to_numpy()
    return np.arange(len(df))


def apply_disclosure(cells: pd.DataFrame, min_cell_n: int = 5, caution_n: int = 10,
                     by: Sequence[str] = ("table", "group", "question"),
                     extra_estimate_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Suppress small cells (primary and complementary) and flag caution.

    Parameters
    ----------
    cells : DataFrame
        Long cell table (``docs/contracts.md``): at least ``table, group,
        attribute, category, question, n``, usually with ``mean`` and the
        columns :mod:`rmlib.stats` adds.
    min_cell_n : int
        Cells with fewer respondents are suppressed (primary).
    caution_n : int
        Cells with ``min_cell_n <= n < caution_n`` get ``caution``.
    by : sequence of str
        Columns defining a breakdown (with ``attribute``) for the
        complementary rule. Must include ``question`` for the overall rule.
    extra_estimate_columns : iterable of str
        More columns to blank on suppressed rows (see
        :func:`estimate_columns` for the defaults).

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` (bool), ``suppression`` (``""``,
        ``"primary"``, ``"complementary"``) and ``caution`` (bool) added and
        every estimate column blanked on suppressed rows. ``n`` is kept
        (display it with :func:`display_n`).

    Examples
    --------
    >>> cells = pd.DataFrame({"table": "t", "group": "officer", "question": "trust",
    ...                       "attribute": ["all", "role", "role", "role"],
    ...                       "category": ["All", "A", "B", "C"], "n": [30, 3, 12, 15],
    ...                       "mean": [2.5, 2.0, 2.4, 2.7]})
    >>> out = apply_disclosure(cells)
    >>> out[["category", "suppression", "caution"]].values.tolist()
    [['All', '', False], ['A', 'primary', False], ['B', 'complementary', False], ['C', '', False]]
    >>> out["mean"].tolist()
    [2.5, nan, nan, 2.7]
    """
    if min_cell_n < 1 or caution_n < min_cell_n:
        raise ValueError(f"need 1 <= min_cell_n <= caution_n; got min_cell_n={min_cell_n}, caution_n={caution_n}")
    need = {"attribute", "category", "n", *by}
    missing = need - set(cells.columns)
    if missing:
        raise ValueError(f"cells is missing columns {sorted(missing)} needed for disclosure control")
    df = cells.copy()
    n = pd.to_numeric(df["n"], errors="coerce").fillna(0).to_numpy(float)
    primary = n < min_cell_n
    suppressed = primary.copy()
    complementary = np.zeros(len(df), dtype=bool)
    rank = _category_rank(df)
    is_breakdown = (df["attribute"].astype(str) != "all").to_numpy()
    pos = np.arange(len(df))
    keys_bd = [*by, "attribute"]
    bd_groups = [g for g in df[is_breakdown].groupby(keys_bd, sort=False, dropna=False).indices.values()]
    bd_groups = [pos[is_breakdown][g] for g in bd_groups]
    overall_groups = []
    if "question" in by:
        row_keys = [k for k in by if k != "question"] + ["attribute", "category"]
        q = df["question"].astype(str).to_numpy()
        for idx in df.groupby(row_keys, sort=False, dropna=False).indices.values():
            ov = idx[q[idx] == "overall"]
            qs = idx[q[idx] != "overall"]
            if len(ov) and len(qs):
                overall_groups.append((ov, qs))
    changed = True
    while changed:
        changed = False
        for idx in bd_groups:
            informative = idx[n[idx] > 0]
            hidden = informative[suppressed[informative]]
            if len(hidden) != 1:
                continue
            candidates = informative[~suppressed[informative]]
            if not len(candidates):
                continue
            pick = candidates[np.lexsort((rank[candidates], n[candidates]))[0]]
            suppressed[pick] = complementary[pick] = True
            changed = True
        for ov, qs in overall_groups:
            shown_ov = ov[~suppressed[ov]]
            if not len(shown_ov):
                continue
            informative = qs[n[qs] > 0]
            if np.count_nonzero(suppressed[informative]) == 1:
                suppressed[shown_ov] = complementary[shown_ov] = True
                changed = True
    df["suppressed"] = suppressed
    df["suppression"] = np.where(primary, "primary", np.where(complementary, "complementary", ""))
    df["caution"] = (n >= min_cell_n) & (n < caution_n)
    est = estimate_columns(df.columns, extra_estimate_columns)
    _blank(df, suppressed, est)
    # comparisons against hidden cells
    cols = list(df.columns)
    grp_cols = [c for c in est if str(c).startswith("groups_")]
    if grp_cols and "group" in df.columns:
        key = df[["attribute", "category", "question"]].astype(str).agg("|".join, axis=1)
        hidden_keys = {(g, k) for g, k, s in zip(df["group"].astype(str), key, suppressed) if s}
        partner_hidden = np.array([any((o, k) in hidden_keys for o in ("provider", "officer") if o != g)
                                   for g, k in zip(df["group"].astype(str), key)], dtype=bool)
        _blank(df, partner_hidden, grp_cols)
    if "n_last" in cols:
        n_last = pd.to_numeric(df["n_last"], errors="coerce").to_numpy(float)
        small_last = np.isfinite(n_last) & (n_last < min_cell_n)
        last_cols = [c for c in est if c in ("mean_last",) or str(c).startswith(("change_", "last_year_"))]
        _blank(df, small_last, last_cols)
    if "rest_n_other" in cols:
        n_rest = pd.to_numeric(df["rest_n_other"], errors="coerce").to_numpy(float)
        _blank(df, np.isfinite(n_rest) & (n_rest < min_cell_n), [c for c in est if str(c).startswith("rest_")])
    return df


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def display_value(mean, n, suppressed: bool, caution: bool, decimals: int = 2, min_cell_n: int = 5,
                  mark: str = CAUTION_MARK) -> str:
    """Text for one cell's estimate in a published table.

    Parameters
    ----------
    mean : float
        The estimate (ignored when suppressed).
    n : int
        Respondents in the cell.
    suppressed, caution : bool
        From :func:`apply_disclosure`.
    decimals : int
        Decimals shown.
    min_cell_n : int
        Threshold quoted in the "fewer than" label.
    mark : str
        Appended to estimates with ``caution``.

    Returns
    -------
    str
        ``"2.45"``, ``"2.45†"`` (small base), ``"fewer than 5"`` (primary
        suppression), ``"not shown"`` (complementary suppression: the base is
        large enough, the value is hidden to protect a small cell), or ``""``
        when there is no estimate.

    Examples
    --------
    >>> display_value(2.4467, 40, False, False), display_value(2.4467, 7, False, True)
    ('2.45', '2.45†')
    >>> display_value(float("nan"), 3, True, False), display_value(float("nan"), 12, True, False)
    ('fewer than 5', 'not shown')
    """
    if bool(suppressed):
        if _missing(n) or n < min_cell_n:
            return f"fewer than {min_cell_n}"
        return "not shown"
    if _missing(n) or n < min_cell_n:
        return f"fewer than {min_cell_n}"
    if _missing(mean) or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    return f"{mean:.{decimals}f}" + (mark if bool(caution) else "")


def display_n(n, min_cell_n: int = 5) -> str:
    """Text for a cell's base: the number, or "fewer than 5" below the threshold.

    Examples
    --------
    >>> display_n(12), display_n(3), display_n(0)
    ('12', 'fewer than 5', 'fewer than 5')
    """
    if _missing(n) or n < min_cell_n:
        return f"fewer than {min_cell_n}"
    return str(int(n))
