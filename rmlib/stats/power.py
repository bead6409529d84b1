"""Power: minimum detectable difference and responses needed, at the alpha the correction implies.

A comparison is called significant when its *adjusted* p-value is below
``alpha``, so planning at the unadjusted ``alpha`` understated the detectable
difference. :func:`effective_alpha` gives, per family, the raw p-value a
comparison must reach:

Benjamini-Hochberg (one family of m distinct comparisons, R of them
    significant): BH calls a comparison significant when its raw p is at most
    ``k alpha / m`` for the largest such rank k, i.e. ``R alpha / m`` in this
    report; with no significant result, ``alpha / m`` (the Bonferroni level,
    which is also BH's threshold for a single discovery). This rank-based
    level is what the data needed; it is reported with the power table.
Holm (per family of m_f, R_f significant): the next comparison must beat
    ``alpha / (m_f - R_f)``; that level is used (``alpha / m_f`` if none).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._base import ALL, _respondent_means
from .multiplicity import CORRECTIONS, family_of
from .tables import _n_active, _pick, _validate_cells, _Year


def effective_alpha(
    cells: pd.DataFrame, correction: str = "fdr_bh", alpha: float = 0.05, kinds=("rest", "last_year", "groups")
) -> pd.DataFrame:
    """Per family of a :func:`compare_cells` output: ``family, m, significant, alpha`` (module notes).

    ``m`` counts distinct tested comparisons, ``significant`` those with
    adjusted p below ``alpha``. Call it on the output of ``compare_cells``
    (before disclosure hides any tested cell).

    Examples
    --------
    >>> cells = pd.DataFrame({"rest_id": ["rest|o|a|x|q", "rest|o|a|y|q", "rest|o|a|x|q"],
    ...                       "rest_p": [0.001, 0.2, 0.001], "rest_p_adj": [0.002, 0.2, 0.002]})
    >>> effective_alpha(cells).values.tolist()
    [['all', 2, 1, 0.025]]
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    rows = {}
    for k in kinds:
        if f"{k}_id" not in cells.columns:
            continue
        sub = cells[[f"{k}_id", f"{k}_p", f"{k}_p_adj"]].dropna().drop_duplicates(f"{k}_id")
        for cid, padj in zip(sub[f"{k}_id"], sub[f"{k}_p_adj"]):
            fam = family_of(str(cid), correction)
            m, r = rows.get(fam, (0, 0))
            rows[fam] = (m + 1, r + int(padj < alpha))
    out = []
    for fam, (m, r) in rows.items():
        a = alpha * max(r, 1) / m if correction == "fdr_bh" else alpha / max(m - r, 1)
        out.append({"family": fam, "m": m, "significant": r, "alpha": a})
    return pd.DataFrame(out, columns=["family", "m", "significant", "alpha"])


def min_detectable_difference(n_a: float, n_b: float, sd: float, alpha: float = 0.05, power: float = 0.8) -> float:
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
        Significance level of the raw p-value: pass the level the correction
        implies (:func:`effective_alpha`), not the nominal one.
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

    d = TTestIndPower().solve_power(
        effect_size=None, nobs1=n_a, alpha=alpha, power=power, ratio=n_b / n_a, alternative="two-sided"
    )
    return float(np.squeeze(d) * sd)


def responses_needed(
    diff: float = 0.25, *, sd: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> int:
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

    n = TTestIndPower().solve_power(
        effect_size=diff / sd, nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
    )
    return int(math.ceil(float(np.squeeze(n)) - 1e-9))


_POWER_COLUMNS = [
    "table",
    "group",
    "attribute",
    "category",
    "question",
    "n",
    "n_rest",
    "sd",
    "alpha",
    "mdd",
    "n_needed",
]


def _power_row(
    year: _Year,
    keys: tuple[str, str, str, str, str],
    memos: tuple[dict, dict, dict],
    diff: float,
    alpha: float,
    power: float,
    alphas: Mapping[str, float] | None,
    correction: str,
) -> dict | None:
    """The power row of one breakdown cell (table, group, attribute, category, question); None to skip it.

    Cells of the whole group or of a rating-level attribute, and cells with no
    respondents, have no "cell vs rest" comparison. ``memos`` (SD, MDD, needed)
    live for one call: statsmodels solves each power equation numerically
    (~2 ms) and many rows share their inputs.
    """
    t, g, a, c, q = keys
    sd_memo, mdd_memo, need_memo = memos
    if a == ALL or a in year.rating_attrs:
        return None
    cell, rest = year.cell(g, a, c), year.cell(g, a, c, rest=True)
    if cell is None:
        return None
    n, n_rest = _n_active(cell, q), _n_active(rest, q)
    sd = _memo(sd_memo, (g, q), _group_sd, year, g, q)
    a_row = _row_alpha(alpha, alphas, correction, f"rest|{g}|{a}|{c}|{q}")
    mdd = _memo(mdd_memo, (n, n_rest, sd, a_row), min_detectable_difference, n, n_rest, sd, a_row, power)
    need = _memo(need_memo, (sd, a_row), _needed, diff, sd, a_row, power)
    return {
        "table": t,
        "group": g,
        "attribute": a,
        "category": c,
        "question": q,
        "n": n,
        "n_rest": n_rest,
        "sd": sd,
        "alpha": a_row,
        "mdd": mdd,
        "n_needed": need,
    }


def power_table(
    cells: pd.DataFrame,
    resp: pd.DataFrame,
    memberships: pd.DataFrame | None = None,
    *,
    diff: float = 0.25,
    alpha: float = 0.05,
    power: float = 0.8,
    multi_select_rule: str = "solely_one",
    alphas: pd.DataFrame | Mapping[str, float] | None = None,
    correction: str = "fdr_bh",
) -> pd.DataFrame:
    """Power of the "cell vs rest" comparison for each breakdown cell.

    For every row of ``cells`` with ``attribute != "all"`` (respondent
    subgroups; rating-level breakdowns are skipped): the observed ``n``, the
    rest of the group ``n_rest``, the respondent-level SD ``sd`` (of
    respondent means, over the *whole group* for that question: a tiny
    cell's own SD is too noisy to plan with), the minimum detectable
    difference at the observed sizes (``mdd``, points) and the responses
    needed in each of two equal groups to detect ``diff`` points
    (``n_needed``).

    The test behind "significant" must reach the level the multiple-comparison
    correction implies: with ``alphas`` (the :func:`effective_alpha` frame, or
    a mapping family -> level; families as ``correction`` forms them) each
    row uses its family's level (column ``alpha``), else ``alpha`` itself.

    Parameters
    ----------
    cells, resp, memberships, multi_select_rule
        As in :func:`add_intervals`.
    diff, alpha, power : float
    alphas : DataFrame or mapping, optional
        Effective levels per family (:func:`effective_alpha`).
    correction : {"fdr_bh", "holm"}
        How ``alphas``' families are formed.

    Returns
    -------
    DataFrame
        ``table, group, attribute, category, question, n, n_rest, sd, alpha,
        mdd, n_needed``.

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
    year = _Year(resp, memberships, multi_select_rule)
    if isinstance(alphas, pd.DataFrame):
        alphas = dict(zip(alphas["family"], alphas["alpha"]))
    sd_memo: dict[tuple[str, str], float] = {}
    mdd_memo: dict[tuple[int, int, float, float], float] = {}
    need_memo: dict[tuple[float, float], Any] = {}
    memos = (sd_memo, mdd_memo, need_memo)
    keys = cells[["table", "group", "attribute", "category", "question"]].astype(str).itertuples(index=False)
    rows = [
        row
        for k in keys
        if (row := _power_row(year, tuple(k), memos, diff, alpha, power, alphas, correction)) is not None
    ]
    out = pd.DataFrame(rows, columns=_POWER_COLUMNS)
    out["n_needed"] = out["n_needed"].astype("Int64")
    return out


def _memo(memo: dict, key, compute, *args):
    """``memo[key]``, computed by ``compute(*args)`` the first time (a memo living for one call)."""
    if key not in memo:
        memo[key] = compute(*args)
    return memo[key]


def _needed(diff: float, sd: float, alpha: float, power: float):
    """Respondents per side needed to detect ``diff`` (NA where the group has no spread)."""
    return responses_needed(diff, sd=sd, alpha=alpha, power=power) if sd > 0 else pd.NA


def _group_sd(year: _Year, group: str, question: str) -> float:
    """SD of the whole group's respondent means for a question (any question for ``overall``); NaN below 2."""
    allg = year.cell(group, ALL, "All")
    x = _respondent_means(*_pick(allg, question)) if allg is not None else np.array([])
    return float(np.std(x, ddof=1)) if x.size >= 2 else np.nan


def _row_alpha(alpha: float, alphas: Mapping[str, float] | None, correction: str, comparison: str) -> float:
    """The raw level a comparison must reach: its family's effective level, else ``alpha``."""
    if not alphas:
        return alpha
    return float(alphas.get(family_of(comparison, correction), min(alphas.values())))
