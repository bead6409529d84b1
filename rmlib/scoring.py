"""The survey's definitions, each in one documented function.

* **Cell mean** - the mean of all valid scores (1-4) in a cell. "No contact"
  and unanswered items are not scores. A provider's ratings of different ECC
  departments each count, as in the hand-made reports.
* **Overall score** - the mean of the eight question means (this reproduces
  the 2016 review's published 2.23 for providers).
* **Change on last year** - ``(this / last - 1) * 100`` on means, and the
  difference in points ``this - last``.
* **Maturity level** - the band of the 1-4 scale a mean falls in, for the
  five elements of the 2016 review's Appendix H (questions 1-5).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .constants import MATURITY_ELEMENTS, MATURITY_LEVELS, QUESTIONS

DEFINITIONS = {
    "cell_mean": "mean of all valid scores (1-4) in the cell; 'no contact' and unanswered items excluded; "
                 "each department a provider rates counts as one rating",
    "overall": "mean of the eight question means",
    "change_pct": "(this year's mean / last year's mean - 1) x 100",
    "change_pts": "this year's mean - last year's mean, in points on the 1-4 scale",
    "n": "respondents with at least one valid score in the cell",
    "maturity_level": "the quarter of the 1-4 scale the mean falls in: 1 below 1.75, 2 from 1.75, 3 from 2.5, 4 from 3.25",
    "unit_of_inference": "the respondent: a provider's ratings of ten departments are one cluster",
}

#: lower bounds of maturity levels 2, 3 and 4 on the 1-4 scale (four equal bands)
MATURITY_BANDS = (1.75, 2.5, 3.25)


def respondent_sums(ratings: pd.DataFrame, by: tuple[str, ...] = ("group", "question")) -> pd.DataFrame:
    """Per respondent and cell key: sum of valid scores, their count and no-contact answers.

    This is the sufficient statistic for every cell mean and for resampling
    respondents (docs/contracts.md).
    """
    keys = ["respondent_id", *by]
    valid = ratings["score"].notna()
    frame = ratings.assign(_s=ratings["score"].fillna(0.0), _c=valid.astype(np.int64),
                           _nc=ratings["no_contact"].astype(np.int64))
    out = frame.groupby(keys, observed=True, sort=True)[["_s", "_c", "_nc"]].sum()
    return out.rename(columns={"_s": "sum", "_c": "count", "_nc": "no_contact"}).reset_index()


def cell_table(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Cell means from respondent sums: mean, n (respondents), ratings, no_contact per ``by`` + question."""
    keys = [*by, "question"]
    has = sums.assign(_r=(sums["count"] > 0).astype(np.int64))
    agg = has.groupby(keys, observed=True, sort=True).agg(sum=("sum", "sum"), ratings=("count", "sum"),
                                                          n=("_r", "sum"), no_contact=("no_contact", "sum"))
    agg["mean"] = np.where(agg["ratings"] > 0, agg["sum"] / agg["ratings"].where(agg["ratings"] > 0), np.nan)
    return agg.drop(columns="sum").reset_index()[[*keys, "mean", "n", "ratings", "no_contact"]]


def overall_rows(cells: pd.DataFrame, sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The ``question == "overall"`` row of each cell: mean of its question means.

    ``n`` is the respondents with any valid score in the cell; ``ratings`` and
    ``no_contact`` are totals over the eight questions.
    """
    q = cells[cells["question"].isin(QUESTIONS)]
    g = q.groupby(by, observed=True, sort=True)
    out = g.agg(mean=("mean", "mean"), ratings=("ratings", "sum"), no_contact=("no_contact", "sum")).reset_index()
    resp = sums[sums["count"] > 0].groupby(by, observed=True)["respondent_id"].nunique().rename("n").reset_index()
    out = out.merge(resp, on=by, how="left")
    out["n"] = out["n"].fillna(0).astype(np.int64)
    out["question"] = "overall"
    return out[[*by, "question", "mean", "n", "ratings", "no_contact"]]


def overall_score(question_means: pd.Series | np.ndarray) -> float:
    """Overall score: the mean of the (available) question means.

    >>> overall_score([1.91, 2.32, 1.92, 2.23, 2.48, 2.38, 2.27, 2.35])  # 2016 providers, published 2.23
    2.2325
    """
    return float(np.nanmean(np.asarray(question_means, dtype=float)))


def pct_change(this: float | np.ndarray | pd.Series, last: float | np.ndarray | pd.Series):
    """% change on last year: ``(this / last - 1) * 100`` (NaN when last is missing or zero).

    >>> round(pct_change(2.55, 2.36), 1)  # 2018 officers overall: published as "+7%"
    8.1
    """
    this = np.asarray(this, dtype=float)
    last = np.asarray(last, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(last > 0, (this / last - 1.0) * 100.0, np.nan)
    return float(out) if out.ndim == 0 else out


def add_change(cells: pd.DataFrame, last: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame:
    """Join last year's ``mean`` and ``n`` on ``keys``; add ``change_pts`` and ``change_pct``."""
    out = cells.copy()
    if last is None or last.empty:
        out["mean_last"] = np.nan
        out["n_last"] = np.nan
    else:
        prev = last[[*keys, "mean", "n"]].rename(columns={"mean": "mean_last", "n": "n_last"})
        out = out.merge(prev, on=keys, how="left")
    out["change_pts"] = out["mean"] - out["mean_last"]
    out["change_pct"] = pct_change(out["mean"], out["mean_last"])
    return out


def maturity_level(mean: float | np.ndarray | pd.Series, bands: tuple[float, float, float] = MATURITY_BANDS):
    """Appendix H maturity level (1-4) of a mean score; NaN stays NaN.

    >>> maturity_level(2.55), maturity_level(1.91), maturity_level(3.3)
    (3, 2, 4)
    """
    m = np.asarray(mean, dtype=float)
    lvl = np.where(np.isnan(m), np.nan, 1 + np.searchsorted(np.asarray(bands), m, side="right"))
    if lvl.ndim == 0:
        return int(lvl) if not np.isnan(lvl) else np.nan
    return lvl


def maturity_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Maturity level of each element (questions 1-5) per group from a by-question cell table."""
    q = cells[cells["question"].isin(list(MATURITY_ELEMENTS))].copy()
    q["element"] = q["question"].map(MATURITY_ELEMENTS)
    q["level"] = maturity_level(q["mean"])
    q["level_name"] = q["level"].map(MATURITY_LEVELS)
    return q
