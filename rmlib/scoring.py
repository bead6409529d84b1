"""The survey's definitions, each in one documented function.

=================  ==========================================================  =======================
quantity           definition                                                  function
=================  ==========================================================  =======================
cell mean          sum of the valid scores (1-4) in a cell / their number;     :func:`cell_mean`
                   "no contact" and unanswered items are not scores; each ECC
                   department a provider rates counts as one rating (as in the
                   hand-made reports)
n                  respondents with at least one valid score in the cell       ``rmlib.crosstab``
                   (a respondent who only answered "no contact" is not in
                   ``n``, but their answers are in ``no_contact``)
overall score      mean of the eight question means (NOT the pooled mean of    :func:`overall_score`
                   every rating: that would weight questions by how many
                   ratings they got); reproduces 2016's published 2.23
change, points     this year's mean - last year's mean                         :func:`change_pts`
change, %          ``(this / last - 1) * 100`` on means                        :func:`pct_change`
maturity level     the Appendix H level (1-4) whose score point is nearest     :func:`maturity_level`
                   the mean: bands ``[1, 1.5) [1.5, 2.5) [2.5, 3.5) [3.5, 4]``
multi-select rule  ``solely_one``: a respondent who chose several categories   :func:`select_members`
                   of a multi-select attribute (quadrant, service area) is     (``multi_select_rule=``)
                   left out of that breakdown (the 2018 report's rule);
                   ``any``: counted in every category chosen
=================  ==========================================================  =======================

Every function takes and returns plain numbers, arrays or data frames; the
strings in :data:`DEFINITIONS` are what the report prints. The tables
(``rmlib.crosstab``) and the statistic of the intervals and tests
(``rmlib.stats``) call the cell mean, the overall score and the multi-select
rule defined here rather than computing their own.

Why the maturity bands are the nearest level
--------------------------------------------
Appendix H of the 2016 review describes four levels for each of five elements
(questions 1-5), and the survey asks respondents for a score 1-4 on the same
question: a score *is* a level. The mean of a cell is therefore an average
level, and the level it "falls in" is the level it is nearest to. Boundaries
lie half-way between adjacent levels (1.5, 2.5, 3.5), so that

* a cell where every respondent gave ``k`` is level ``k`` (1.0 -> 1, 4.0 -> 4);
* each interior level is symmetric around its own score point: level 2 is
  2 +- 0.5, so a mean of 1.7 (70% answered 2, 30% answered 1) is level 2 and
  3.3 (70% answered 3, 30% answered 4) is level 3.

The earlier mapping (four equal quarters of the 1-4 range: 1.75, 2.5, 3.25)
has interior bands that are lopsided around their own level (level 3 was
``[2.5, 3.25)``: half a point below 3 but only a quarter above), so a cell in
which most respondents answered 3 and a minority 4 (mean 3.3) was called level
4, "Sustaining high performance", and a cell where most answered 2 (mean 1.7)
was level 1. It is kept as :data:`MATURITY_BANDS_EQUAL` for a sensitivity
check; the two mappings differ only for means in ``[1.5, 1.75)`` and
``[3.25, 3.5)``. A "floor" reading (level reached only when the mean is at
least k) was rejected: level 4 would need every respondent to answer 4.
A mean exactly on a boundary goes up (2.5 -> 3), like rounding half up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._coding import text_codes
from .constants import MATURITY_ELEMENTS, MATURITY_LEVELS
from .params import MULTI_SELECT_RULES

#: Lower bounds of maturity levels 2, 3 and 4: half-way between score points (the nearest level).
MATURITY_BANDS: tuple[float, float, float] = (1.5, 2.5, 3.5)
#: The alternative: four equal quarters of the 1-4 range (for a sensitivity check only).
MATURITY_BANDS_EQUAL: tuple[float, float, float] = (1.75, 2.5, 3.25)

DEFINITIONS = {
    "cell_mean": "mean of all valid scores (1-4) in the cell; 'no contact' and unanswered items excluded; "
    "each department a provider rates counts as one rating",
    "overall": "mean of the eight question means (not the pooled mean of all ratings)",
    "change_pct": "(this year's mean / last year's mean - 1) x 100",
    "change_pts": "this year's mean - last year's mean, in points on the 1-4 scale",
    "n": "respondents with at least one valid score in the cell (respondents answering only 'no contact' "
    "are not counted in n; their answers are counted in no_contact)",
    "no_contact": "number of 'no contact' answers in the cell",
    "maturity_level": "Appendix H level (1-4) nearest the mean score: 1 below 1.5, 2 from 1.5, 3 from 2.5, "
    "4 from 3.5 (a score point is a level; boundaries half-way between levels)",
    "multi_select_rule": "solely_one: a respondent who chose several categories of a multi-select attribute "
    "(quadrant, service area) is left out of that breakdown; any: counted in each category chosen",
    "unit_of_inference": "the respondent: a provider's ratings of ten departments are one cluster",
}


# ---------------------------------------------------------------------------
# the definitions
# ---------------------------------------------------------------------------
def cell_mean(sums, counts):
    """Cell mean: sum of valid scores / number of valid scores; NaN when there is none.

    ``sums`` and ``counts`` are totals over the cell (or arrays of them). A
    provider's ratings of several departments all count, so the mean is over
    *ratings*, not over respondents.

    >>> cell_mean(17.0, 6)
    2.8333333333333335
    >>> cell_mean([6.0, 0.0], [2, 0]).tolist()
    [3.0, nan]
    """
    s = np.asarray(sums, dtype=float)
    c = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(c > 0, s / np.where(c > 0, c, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def overall_score(question_means: pd.Series | np.ndarray) -> float | np.ndarray:
    """Overall score: the mean of the (available) question means.

    Questions without any valid score in the cell (NaN means) are skipped;
    NaN when there is none. This is not the pooled mean of all ratings, which
    weights each question by its number of ratings. A 2-D array (e.g.
    respondents or bootstrap replicates x questions) gives one score per row,
    over its last axis.

    >>> overall_score([1.91, 2.32, 1.92, 2.23, 2.48, 2.38, 2.27, 2.35])  # 2016 providers, published 2.23
    2.2325
    >>> overall_score([[2.0, np.nan], [np.nan, np.nan]]).tolist()
    [2.0, nan]
    """
    arr = np.asarray(question_means, dtype=float)
    valid = ~np.isnan(arr)
    k = valid.sum(axis=-1)
    total = np.where(valid, arr, 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(k > 0, total / np.maximum(k, 1), np.nan)
    return float(out) if out.ndim == 0 else out


def change_pts(this, last):
    """Change in points on the 1-4 scale: ``this - last`` (NaN when either is missing).

    >>> round(change_pts(2.55, 2.36), 2)
    0.19
    """
    out = np.asarray(this, dtype=float) - np.asarray(last, dtype=float)
    return float(out) if out.ndim == 0 else out


def pct_change(this: float | np.ndarray | pd.Series, last: float | np.ndarray | pd.Series):
    """% change on last year: ``(this / last - 1) * 100`` (NaN when last is missing or zero).

    >>> round(pct_change(2.55, 2.36), 1)  # 2018 officers overall: published as "+7%"
    8.1
    """
    this = np.asarray(this, dtype=float)
    last = np.asarray(last, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(last > 0, (this / np.where(last > 0, last, 1.0) - 1.0) * 100.0, np.nan)
    return float(out) if out.ndim == 0 else out


def maturity_level(mean: float | np.ndarray | pd.Series, bands: tuple[float, float, float] = MATURITY_BANDS):
    """Appendix H maturity level (1-4) of a mean score: the nearest level; NaN stays NaN.

    ``bands`` are the lower bounds of levels 2, 3 and 4 (default
    :data:`MATURITY_BANDS` = 1.5, 2.5, 3.5; a mean on a bound goes up). See
    the module docstring for why. Scalars give an ``int`` (or NaN), a Series
    a nullable ``Int64`` Series with the same index, anything else a float
    array.

    >>> maturity_level(2.55), maturity_level(1.91), maturity_level(3.3), maturity_level(3.5)
    (3, 2, 3, 4)
    >>> maturity_level(3.3, bands=MATURITY_BANDS_EQUAL)
    4
    """
    b = np.asarray(bands, dtype=float)
    if b.shape != (3,) or not np.all(np.diff(b) > 0):
        raise ValueError(f"bands must be three increasing lower bounds of levels 2-4, got {bands!r}")
    m = np.asarray(mean, dtype=float)
    # round away binary noise (a mean of question means can be 2.4999999999999996 for 2.5)
    lvl = np.where(np.isnan(m), np.nan, 1 + np.searchsorted(b, np.round(m, 9), side="right"))
    if isinstance(mean, pd.Series):
        return pd.Series(lvl, index=mean.index, name="level").astype("Int64")
    if lvl.ndim == 0:
        return int(lvl) if not np.isnan(lvl) else np.nan
    return lvl


# ---------------------------------------------------------------------------
# the multi-select rule
# ---------------------------------------------------------------------------
def check_multi_select_rule(multi_select_rule: str) -> None:
    """Refuse a multi-select rule that is not one of :data:`MULTI_SELECT_RULES` (naming the allowed ones)."""
    if multi_select_rule not in MULTI_SELECT_RULES:
        raise ValueError(f"multi_select_rule must be one of {MULTI_SELECT_RULES}; got {multi_select_rule!r}")


def select_members(
    memberships: pd.DataFrame, attribute: str | None = None, multi_select_rule: str = "solely_one"
) -> pd.DataFrame:
    """Respondent -> category of an attribute (every attribute if ``None``) under the multi-select rule.

    The one implementation of the rule, used by the tables (``rmlib.crosstab``),
    their caveats and the respondent-level arrays of ``rmlib.stats``, so that
    every part of a run counts the same respondents. ``solely_one`` keeps a
    respondent in an attribute's category only if it is their only category of
    that attribute; ``any`` keeps every category they chose. A missing
    category is a choice of its own (it makes a respondent's other choice not
    their only one) but no category of the output; rows without a respondent or
    an attribute are left out. Ids, attributes and categories are compared as
    text, on integer codes (``rmlib._coding.text_codes``: no Python loop, no
    string key per row).

    Returns
    -------
    DataFrame
        ``respondent_id, attribute, category`` (text), one row per distinct
        kept choice, sorted by respondent, attribute and category.

    >>> m = pd.DataFrame({"respondent_id": ["a", "b", "b", "c"], "attribute": "quadrant",
    ...                   "category": ["North", "North", "South", "Mid"]})
    >>> select_members(m, "quadrant")["respondent_id"].tolist()        # b chose two: left out
    ['a', 'c']
    >>> len(select_members(m, "quadrant", multi_select_rule="any"))
    4
    """
    check_multi_select_rule(multi_select_rule)
    m = memberships if attribute is None else memberships[memberships["attribute"].astype(str) == attribute]
    rc, rtext = text_codes(m["respondent_id"])
    ac, atext = text_codes(m["attribute"])
    cc, ctext = text_codes(m["category"])
    n_a, n_c = len(atext), len(ctext) + 1
    cc = np.where(cc < 0, n_c - 1, cc)  # a missing category: code n_c - 1
    ok = (rc >= 0) & (ac >= 0)
    key = np.sort((rc[ok].astype(np.int64) * n_a + ac[ok]) * n_c + cc[ok])
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key  # distinct choices
    pair, cat = np.divmod(key, n_c)
    if multi_select_rule == "solely_one":  # a (respondent, attribute) pair listed once
        first = np.r_[True, pair[1:] != pair[:-1]] if len(pair) else np.empty(0, dtype=bool)
        size = np.diff(np.r_[np.flatnonzero(first), len(pair)])
        keep = np.repeat(size == 1, size)
        pair, cat = pair[keep], cat[keep]
    named = cat < n_c - 1
    resp, attr = np.divmod(pair[named], n_a)
    return pd.DataFrame(
        {
            "respondent_id": np.asarray(rtext, dtype=object)[resp],
            "attribute": np.asarray(atext, dtype=object)[attr],
            "category": np.asarray(ctext, dtype=object)[cat[named]],
        }
    )


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------
def add_change(cells: pd.DataFrame, last: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame:
    """Join last year's ``mean`` and ``n`` on ``keys``; add ``change_pts`` and ``change_pct``.

    Cells with no counterpart last year get NaN. ``last`` must have one row
    per key (a duplicate would silently multiply cells, so it raises).
    """
    out = cells.drop(columns=[c for c in ("mean_last", "n_last", "change_pts", "change_pct") if c in cells.columns])
    if last is None or last.empty:
        out["mean_last"] = np.nan
        out["n_last"] = np.nan
    else:
        prev = last[[*keys, "mean", "n"]].rename(columns={"mean": "mean_last", "n": "n_last"})
        if prev.duplicated(keys).any():
            raise ValueError(
                f"add_change: last year's cells repeat a key {keys}: "
                f"{prev[prev.duplicated(keys)][keys].iloc[0].tolist()}"
            )
        out = out.merge(prev, on=keys, how="left")
    out["n_last"] = out["n_last"].astype(float)
    out["change_pts"] = change_pts(out["mean"], out["mean_last"])
    out["change_pct"] = pct_change(out["mean"], out["mean_last"])
    return out


def maturity_table(cells: pd.DataFrame, bands: tuple[float, float, float] = MATURITY_BANDS) -> pd.DataFrame:
    """Maturity level of each element (questions 1-5) for every cell of a long cell table.

    Works on any cell table (by question, or broken down by an attribute):
    keeps its columns and adds ``element``, ``level``, ``level_name`` and,
    when the table has ``mean_last``, ``level_last``.
    """
    q = cells[cells["question"].astype(str).isin(list(MATURITY_ELEMENTS))].copy()
    q["element"] = q["question"].astype(str).map(MATURITY_ELEMENTS)
    q["level"] = maturity_level(q["mean"].astype(float), bands)
    q["level_name"] = q["level"].map(MATURITY_LEVELS).astype(object)
    if "mean_last" in q.columns:
        q["level_last"] = maturity_level(q["mean_last"].astype(float), bands)
    return q.reset_index(drop=True)
