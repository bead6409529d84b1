"""Small-cell suppression that survives arithmetic, and the published forms of its results.

Rules (every one is stated in the report's methodology)
------------------------------------------------------
Two layers
    A cell table carries two years: this year's estimate (``mean``, ``n``)
    and last year's (``mean_last``, ``n_last``). Each layer is protected on
    its own, with the same rules; a change (``change_*``, ``last_year_*``) is
    shown only when both years' cells are shown, since ``change_pts = mean -
    mean_last`` gives either from the other.
Primary suppression
    A cell with ``0 < n < min_cell_n`` respondents shows no estimate; its
    base is published only as "fewer than N". Cells with ``n == 0`` carry no
    information.
One cell, every table
    A cell is identified by ``group, attribute, category, question``; the same
    cell appears in several tables (``officer_by_quadrant`` and
    ``compare_by_quadrant``), and it is hidden in all of them or in none.
Complementary suppression (partitions)
    The categories of a breakdown (one ``group, question, attribute``) and
    the group's whole-group row share a margin: cell means are ratios, so
    ``total mean x total ratings - sum of the other cells' mean x ratings``
    works back a single hidden cell exactly (and the bases by subtraction).
    When the categories do not cover the whole group (respondents who chose
    several categories, or none), the remainder is a hidden "cell" of its
    own; when it has fewer than ``min_cell_n`` respondents it counts as a
    small hidden cell. So whenever exactly one informative cell of a
    breakdown is hidden (or none is but the remainder is small), one more is
    hidden: the *least informative* one that protects, i.e. the shown cell
    with the fewest respondents (ties by category order). Two or more hidden
    cells reveal only their combined value.
Complementary suppression (overall score)
    The overall score is the mean of the eight question means: if a
    category's overall is shown and exactly one of its question cells is
    hidden, the overall is hidden too.
    The rules are applied repeatedly, across every table at once, until
    nothing changes.
Comparisons
    Every comparison column of a hidden cell is blanked, and so are the
    counts that would give its base back (``ratings``, ``no_contact``,
    ``*_n_other``); a ``groups_*`` comparison is blanked when the other
    group's same cell is hidden; a ``rest_*`` comparison when the rest of the
    group has fewer than ``min_cell_n`` respondents.
Caution
    ``caution`` is True for ``min_cell_n <= n < caution_n``: shown with †.

Only what :func:`publishable_cells` (and the other ``publishable_*``
functions here) return may leave the pipeline: :mod:`rmlib.publish` accepts
nothing else. Hand-written: no library implements complementary suppression
over this table layout (``sdcMicro``/``tau-argus`` work on cross-tabulations of
microdata, outside Python).
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .labels import CAUTION_MARK, HIDDEN_LABEL, fewer_than  # the published wording, one place
from .params import Params

__all__ = [
    "apply_disclosure",
    "display_value",
    "display_n",
    "estimate_columns",
    "CAUTION_MARK",
    "DEFAULT_MIN_CELL_N",
    "DEFAULT_CAUTION_N",
    "fewer_than",
    "HIDDEN_LABEL",
    "publishable_cells",
    "publishable_power",
    "publishable_caveats",
    "publishable_headlines",
    "merge_categories",
    "merge_note",
    "merge_year",
    "soften_counts",
    "Cleared",
    "clear",
    "PUBLISHED_CELL_COLUMNS",
]

#: The defaults, defined once (``rmlib.params.Params``); every caller passes the run's value.
DEFAULT_MIN_CELL_N: int = Params.__dataclass_fields__["min_cell_n"].default
DEFAULT_CAUTION_N: int = Params.__dataclass_fields__["caution_n"].default


_EXACT = {"mean", "mean_last", "ci_low", "ci_high", "ci_method", "change_pts", "change_pct"}
_PATTERN = re.compile(
    r"(^ci_|^change_|_diff$|_diff_low$|_diff_high$|_p$|_p_adj$|_p_method$|_significant$|_welch_p$"
    r"|_bm_p$|_prob_sup$|_mean_other$|maturity)"
)
#: counts that give a hidden cell's base back
_BASE_COUNTS = ("ratings", "no_contact")


def estimate_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Columns of a cell table that carry an estimate (blanked when suppressed).

    ``mean, mean_last, ci_*, change_*``, every comparison column
    (``*_diff*, *_p, *_p_adj, *_p_method, *_significant, *_welch_p, *_bm_p,
    *_prob_sup, *_mean_other``), anything mentioning ``maturity``, plus
    ``extra``. Counts (``n``, ``ratings``, ``*_n_other``) are not estimates
    (they are blanked separately when they would give a hidden base back).

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


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(float)


def _suppress_layer(
    units: pd.DataFrame, n: np.ndarray, count: np.ndarray, min_cell_n: int, question_key: str = "question"
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and complementary suppression over unique cells (one layer, one year).

    ``units``: one row per cell (``group, attribute, category, question``,
    ``_rank``); ``n`` respondents and ``count`` ratings per cell (NaN: no
    data). Returns (primary, suppressed) boolean arrays.
    """
    n0 = np.nan_to_num(n, nan=0.0)
    informative = n0 > 0
    primary = informative & (n0 < min_cell_n)
    suppressed = primary.copy()
    attr = units["attribute"].to_numpy()
    is_total = attr == "all"
    rank = units["_rank"].to_numpy()
    # whole-group rows by (group, question)
    total_at = {}
    for i in np.flatnonzero(is_total):
        total_at.setdefault((units["group"].iat[i], units[question_key].iat[i]), i)
    groups = []
    bd = units[~is_total]
    pos = np.flatnonzero(~is_total)
    for (g, q, a), idx in bd.groupby(["group", question_key, "attribute"], sort=False).indices.items():
        idx = pos[idx]
        members = idx[informative[idx]]
        small_rest = False
        t = total_at.get((g, q))
        if t is not None and informative[t]:
            # the remainder of the group that no category covers (a partition only if the sums fit)
            by = count if (a == "rated_department" or np.isnan(n[idx]).all()) else n
            rest = np.nan_to_num(by[t]) - np.nansum(by[idx])
            cnt_rest = np.nan_to_num(count[t]) - np.nansum(count[idx])
            if a != "rated_department":
                small_rest = bool(0 < rest < min_cell_n and cnt_rest >= 0)
            else:
                small_rest = bool(0 < cnt_rest < min_cell_n)
        groups.append((members, small_rest))
    overall_groups = []
    q = units[question_key].to_numpy()
    for idx in units.groupby(["group", "attribute", "category"], sort=False).indices.values():
        ov = idx[q[idx] == "overall"]
        qs = idx[(q[idx] != "overall") & informative[idx]]
        if len(ov) and len(qs):
            overall_groups.append((ov, qs))
    changed = True
    while changed:
        changed = False
        for members, small_rest in groups:
            hidden = np.count_nonzero(suppressed[members])
            if not (hidden == 1 or (hidden == 0 and small_rest)):
                continue
            candidates = members[~suppressed[members]]
            if not len(candidates):
                continue
            pick = candidates[np.lexsort((rank[candidates], n0[candidates]))[0]]
            suppressed[pick] = True
            changed = True
        for ov, qs in overall_groups:
            shown_ov = ov[~suppressed[ov] & informative[ov]]
            if len(shown_ov) and np.count_nonzero(suppressed[qs]) == 1:
                suppressed[shown_ov] = True
                changed = True
    return primary, suppressed


def apply_disclosure(
    cells: pd.DataFrame,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
    caution_n: int = DEFAULT_CAUTION_N,
    by: Sequence[str] = ("table", "group", "question"),
    extra_estimate_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """Suppress small cells (primary and complementary, both years) and flag caution.

    Parameters
    ----------
    cells : DataFrame
        Long cell table (``docs/contracts.md``): at least ``group,
        attribute, category, question, n``, usually with ``mean``,
        ``ratings``, ``mean_last``, ``n_last`` and the columns
        :mod:`rmlib.stats` adds. Pass every table of the run at once: a
        cell shared by several tables, and the whole-group rows that are the
        margins of every breakdown, are then protected together.
    min_cell_n : int
        Cells with fewer respondents are suppressed (primary).
    caution_n : int
        Cells with ``min_cell_n <= n < caution_n`` get ``caution``.
    by : sequence of str
        Kept for compatibility; must include ``question``. A breakdown is
        ``group, question, attribute`` (over all tables).
    extra_estimate_columns : iterable of str
        More columns to blank on suppressed rows (see :func:`estimate_columns`).

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` (bool), ``suppression`` (``""``,
        ``"primary"``, ``"complementary"``), the same two for last year
        (``suppressed_last``, ``suppression_last``) and ``caution``; every
        estimate of a hidden cell blanked, and its base-revealing counts.
        ``n`` and ``n_last`` are kept for internal use: publish through
        :func:`publishable_cells`, which shows them only as text.

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
    _check_disclosure_args(cells, min_cell_n, caution_n, by)
    df = cells.copy().reset_index(drop=True)
    key_frame, key_id, units = _cell_units(df)
    n_all = _num(df, "n")
    suppressed, supp_last = _mark_suppression(df, units, key_id, n_all, min_cell_n)
    n = np.nan_to_num(n_all, nan=0.0)
    df["caution"] = (n >= min_cell_n) & (n < caution_n)
    _blank_hidden(df, suppressed, supp_last, extra_estimate_columns)
    _blank_comparisons(df, key_frame, suppressed, min_cell_n)
    return df


def _check_disclosure_args(cells: pd.DataFrame, min_cell_n, caution_n, by: Sequence[str]) -> None:
    """Refuse thresholds out of order, a ``by`` without ``question`` and a table without the cell keys."""
    if not isinstance(min_cell_n, (int, np.integer)) or min_cell_n < 1 or caution_n < min_cell_n:
        raise ValueError(f"need 1 <= min_cell_n <= caution_n; got min_cell_n={min_cell_n}, caution_n={caution_n}")
    if "question" not in by:
        raise ValueError(f"by must include 'question'; got {list(by)}")
    need = {"group", "attribute", "category", "question", "n"}
    missing = need - set(cells.columns)
    if missing:
        raise ValueError(f"cells is missing columns {sorted(missing)} needed for disclosure control")


def _cell_units(df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """One unit per cell identity (``group, attribute, category, question``), however many tables show it.

    Returns the key columns as text, each row's unit number, and the units (keys and category rank).
    """
    keys = ["group", "attribute", "category", "question"]
    key_frame = df[keys].astype(str)
    df_rank = _category_rank(df)
    key_id = pd.MultiIndex.from_frame(key_frame).factorize()[0] if len(df) else np.zeros(0, int)
    first = pd.Series(np.arange(len(df))).groupby(key_id).first().to_numpy() if len(df) else np.zeros(0, int)
    units = key_frame.iloc[first].reset_index(drop=True)
    units["_rank"] = df_rank[first]
    return key_frame, key_id, units


def _mark_suppression(
    df: pd.DataFrame, units: pd.DataFrame, key_id: np.ndarray, n_all: np.ndarray, min_cell_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Protect both years' layers over the units and write ``suppressed``/``suppression`` and their
    ``_last`` pair into ``df`` (in place). Returns this year's and last year's hidden rows."""
    n_u = pd.Series(n_all).groupby(key_id).max().to_numpy() if len(df) else np.zeros(0)
    cnt_all = _num(df, "ratings")
    cnt_u = pd.Series(cnt_all).groupby(key_id).max().to_numpy() if len(df) else np.zeros(0)
    if np.isnan(cnt_u).all():
        cnt_u = n_u.copy()
    primary_u, supp_u = _suppress_layer(units, n_u, cnt_u, min_cell_n)
    primary, suppressed = primary_u[key_id], supp_u[key_id]
    df["suppressed"] = suppressed
    # an empty cell (n == 0) has no estimate: labelled primary, but it protects nothing
    primary = primary | (np.nan_to_num(n_all, nan=0.0) < min_cell_n) & ~suppressed
    suppressed = suppressed | primary
    df["suppressed"] = suppressed
    df["suppression"] = np.where(primary, "primary", np.where(suppressed, "complementary", ""))
    if "n_last" in df.columns:
        nl_u = pd.Series(_num(df, "n_last")).groupby(key_id).max().to_numpy() if len(df) else np.zeros(0)
        pl_u, sl_u = _suppress_layer(units, nl_u, nl_u, min_cell_n)
        primary_last, supp_last = pl_u[key_id], sl_u[key_id]
    else:
        primary_last = supp_last = np.zeros(len(df), bool)
    df["suppressed_last"] = supp_last
    df["suppression_last"] = np.where(primary_last, "primary", np.where(supp_last, "complementary", ""))
    return suppressed, supp_last


def _blank_hidden(
    df: pd.DataFrame, suppressed: np.ndarray, supp_last: np.ndarray, extra_estimate_columns: Iterable[str]
) -> None:
    """Blank (in place) every estimate and base-revealing count of a hidden cell, and last year's
    value and the change wherever last year's cell is hidden (its own layer)."""
    est = estimate_columns(df.columns, extra_estimate_columns)
    n_other = [c for c in df.columns if str(c).endswith("_n_other")]
    # last year's value has its own layer: it stays when only this year's cell is hidden
    _blank(df, suppressed, [*(c for c in est if c != "mean_last"), *n_other, *_BASE_COUNTS])
    last_cols = [c for c in df.columns if c == "mean_last" or str(c).startswith(("change_", "last_year_"))]
    _blank(df, supp_last, last_cols)


def _blank_comparisons(df: pd.DataFrame, key_frame: pd.DataFrame, suppressed: np.ndarray, min_cell_n: int) -> None:
    """Blank (in place) a ``groups_*`` comparison whose other group's same cell is hidden, and a
    ``rest_*`` comparison whose rest of the group is small."""
    cols = list(df.columns)
    grp_cols = [c for c in cols if str(c).startswith("groups_")]
    if grp_cols:
        k3 = key_frame[["attribute", "category", "question"]].agg("|".join, axis=1).to_numpy()
        g = key_frame["group"].to_numpy()
        hidden = {(gg, kk) for gg, kk, s in zip(g, k3, suppressed) if s}
        partner = np.array(
            [any((o, kk) in hidden for o in ("provider", "officer") if o != gg) for gg, kk in zip(g, k3)], dtype=bool
        )
        _blank(df, partner, grp_cols)
    if "rest_n_other" in cols:
        n_rest = _num(df, "rest_n_other")
        _blank(df, np.isfinite(n_rest) & (n_rest < min_cell_n), [c for c in cols if str(c).startswith("rest_")])


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def display_value(
    mean,
    n,
    suppressed: bool,
    caution: bool,
    decimals: int = 2,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
    mark: str = CAUTION_MARK,
) -> str:
    """Text for one cell's estimate in a published table.

    Returns
    -------
    str
        ``"2.45"``, ``"2.45†"`` (small base), ``"fewer than N"`` (primary
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
            return fewer_than(min_cell_n)
        return "not shown"
    if _missing(n) or n < min_cell_n:
        return fewer_than(min_cell_n)
    if _missing(mean) or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    return f"{mean:.{decimals}f}" + (mark if bool(caution) else "")


def display_n(n, min_cell_n: int = DEFAULT_MIN_CELL_N, suppression: str = "") -> str:
    """Text for a cell's base: the number, "fewer than N" below the threshold,
    "hidden" for a cell hidden to protect another (its base would give the
    small one's back by subtraction).

    Examples
    --------
    >>> display_n(12), display_n(3), display_n(0), display_n(12, suppression="complementary")
    ('12', 'fewer than 5', 'fewer than 5', 'hidden')
    """
    if suppression == "complementary" and not (_missing(n) or n < min_cell_n):
        return HIDDEN_LABEL
    if _missing(n) or n < min_cell_n:
        return fewer_than(min_cell_n)
    return str(int(n))


# ----------------------------------------------------------------------------- the published forms
class Cleared:
    """A frame that has passed disclosure control, in the form that may be published.

    Made only by the ``publishable_*`` functions (and :func:`clear` for
    tables that carry no respondent-level statistic); :mod:`rmlib.publish`
    writes nothing else.
    """

    __slots__ = ("frame", "kind", "min_cell_n")

    def __init__(self, frame: pd.DataFrame, kind: str, min_cell_n: int, _token: object = None):
        if _token is not _TOKEN:
            raise TypeError("Cleared frames are made by rmlib.disclosure.publishable_* or clear(), not directly")
        self.frame = frame
        self.kind = kind
        self.min_cell_n = int(min_cell_n)

    def __repr__(self) -> str:
        return f"Cleared({self.kind}, {len(self.frame)} rows, min_cell_n={self.min_cell_n})"


_TOKEN = object()

#: Columns of a published cell table, in order (the rest stay in the audit area).
PUBLISHED_CELL_COLUMNS = (
    "table",
    "group",
    "attribute",
    "category",
    "question",
    "status",
    "mean",
    "n",
    "ratings",
    "no_contact",
    "ci_low",
    "ci_high",
    "ci_method",
    "caution",
    "mean_last",
    "n_last",
    "status_last",
    "change_pts",
    "change_pct",
    *(
        f"{k}_{c}"
        for k in ("rest", "last_year", "groups")
        for c in (
            "diff",
            "diff_low",
            "diff_high",
            "p",
            "p_adj",
            "significant",
            "welch_p",
            "bm_p",
            "prob_sup",
            "p_method",
        )
    ),
)


def _status(suppression: pd.Series, min_cell_n: int) -> pd.Series:
    return suppression.map({"primary": fewer_than(min_cell_n), "complementary": HIDDEN_LABEL}).fillna("")


def publishable_cells(cells: pd.DataFrame, min_cell_n: int) -> Cleared:
    """The published form of a protected cell table (output of :func:`apply_disclosure`).

    Bases are text (``"12"``, ``"fewer than N"``, ``"hidden"``), ``status``
    says why a value is missing, only :data:`PUBLISHED_CELL_COLUMNS` are kept,
    and every hidden estimate is checked to be blank.
    """
    if "suppressed" not in cells.columns or "suppression" not in cells.columns:
        raise ValueError(
            "publishable_cells needs the output of disclosure.apply_disclosure (columns 'suppressed' and 'suppression')"
        )
    df = cells.copy()
    sup = df["suppressed"].astype(bool).to_numpy()
    if "mean" in df.columns and df.loc[sup, "mean"].notna().any():
        raise ValueError("publishable_cells: a suppressed cell still has a mean; apply_disclosure was bypassed")
    n = _num(df, "n")
    if ((n > 0) & (n < min_cell_n) & ~sup).any():
        raise ValueError(
            f"publishable_cells: a cell of fewer than {min_cell_n} respondents is not suppressed "
            f"(was apply_disclosure run with min_cell_n={min_cell_n}?)"
        )
    df["status"] = _status(df["suppression"], min_cell_n)
    df["n"] = [display_n(v, min_cell_n, s) if v > 0 else "0" for v, s in zip(np.nan_to_num(n), df["suppression"])]
    if "n_last" in df.columns:
        sl = df.get("suppression_last", pd.Series("", index=df.index)).fillna("")
        nl = _num(df, "n_last")
        df["status_last"] = _status(sl, min_cell_n)
        df["n_last"] = [
            "" if not np.isfinite(v) else "0" if v == 0 else display_n(v, min_cell_n, s) for v, s in zip(nl, sl)
        ]
    cols = [c for c in PUBLISHED_CELL_COLUMNS if c in df.columns]
    return Cleared(df[cols].reset_index(drop=True), "cells", min_cell_n, _TOKEN)


def publishable_power(power: pd.DataFrame, cells: pd.DataFrame, min_cell_n: int) -> Cleared:
    """The power table with the bases of hidden cells (and of small rests) not given away.

    ``n`` becomes text as in :func:`display_n`; for a hidden cell ``n_rest``
    and ``mdd`` (which depend on ``n``) are blank: ``n_rest`` is the group
    total minus ``n``. A rest of fewer than ``min_cell_n`` shows "fewer than
    N" and no ``mdd``. ``n_needed`` depends only on the whole group's SD.
    """
    if power.empty:
        return Cleared(power.copy(), "power", min_cell_n, _TOKEN)
    keys = ["group", "attribute", "category", "question"]
    status = cells[[*keys, "suppression"]].astype(str).drop_duplicates(keys).set_index(keys)["suppression"]
    df = power.copy()
    idx = pd.MultiIndex.from_frame(df[keys].astype(str))
    sup = status.reindex(idx).fillna("").to_numpy()
    n = _num(df, "n")
    n_rest = _num(df, "n_rest")
    hidden = (sup != "") | ((n > 0) & (n < min_cell_n))
    small_rest = np.isfinite(n_rest) & (n_rest > 0) & (n_rest < min_cell_n)
    df["n"] = [
        display_n(v, min_cell_n, "complementary" if s else "") if h else display_n(v, min_cell_n)
        for v, s, h in zip(n, sup, hidden)
    ]
    df["n_rest"] = [
        "" if h else fewer_than(min_cell_n) if sr else ("" if not np.isfinite(r) else str(int(r)))
        for h, sr, r in zip(hidden, small_rest, n_rest)
    ]
    for col in ("mdd", "sd"):
        if col in df.columns:
            df.loc[hidden | small_rest, col] = np.nan
    return Cleared(df.reset_index(drop=True), "power", min_cell_n, _TOKEN)


_ONE_RESPONDENT = re.compile(r"\b(only|Only) 1 respondent\b")
_N_OF = re.compile(r"\bthe (\d+) of (\d+)\b")


def soften_counts(text: str, min_cell_n: int) -> str:
    """Replace small counts in a sentence by "fewer than N" (caveats, notes).

    Examples
    --------
    >>> soften_counts("Only 1 respondent in 'Head of Service'", 5)
    "Fewer than 5 respondents in 'Head of Service'"
    >>> soften_counts("the 2 of 85 who chose more than one", 5)
    'fewer than 5 of the 85 who chose more than one'
    """
    if min_cell_n <= 1:
        return text
    text = _ONE_RESPONDENT.sub(
        lambda m: ("Fewer" if m.group(1) == "Only" else "fewer") + f" than {min_cell_n} respondents", text
    )
    return _N_OF.sub(
        lambda m: f"{fewer_than(min_cell_n)} of the {m.group(2)}" if int(m.group(1)) < min_cell_n else m.group(0), text
    )


def publishable_caveats(caveats: pd.DataFrame, min_cell_n: int) -> Cleared:
    """Caveats without small counts: a caveat about a single respondent goes (its cell is
    already hidden and labelled "fewer than N"), other small counts read "fewer than N"."""
    df = caveats.copy()
    if not df.empty and "kind" in df.columns and min_cell_n > 1:
        df = df[~df["kind"].astype(str).str.startswith("single_respondent")]
    if not df.empty and "text" in df.columns:
        df["text"] = df["text"].astype(str).map(lambda t: soften_counts(t, min_cell_n))
    return Cleared(df.reset_index(drop=True), "caveats", min_cell_n, _TOKEN)


def publishable_headlines(headlines: dict, min_cell_n: int) -> dict:
    """``headlines.json`` with every small or hidden base as text, never a number below N."""
    out = json_copy(headlines)
    for g in out.get("groups", {}).values():
        for entry in g.get("questions", {}).values():
            n = entry.get("n")
            if entry.get("suppressed") or (isinstance(n, (int, float)) and 0 < n < min_cell_n):
                entry["n"] = (
                    fewer_than(min_cell_n) if not isinstance(n, (int, float)) or n < min_cell_n else HIDDEN_LABEL
                )
                entry["mean"] = None
                entry["ci95"] = [None, None]
    return out


def json_copy(obj):
    import json

    return json.loads(json.dumps(obj))


def clear(frame: pd.DataFrame, kind: str, min_cell_n: int, count_columns: Sequence[str] = ()) -> Cleared:
    """Clear a table that holds no respondent-level estimate (cleaning summary, responses by
    year, headline counts, comment theme counts, trend of whole groups).

    Every ``count_columns`` value below ``min_cell_n`` (and above 0) is
    published as "fewer than N". Raises if the frame looks like a cell table
    (it must go through :func:`publishable_cells`).
    """
    subgroups = {"attribute", "mean"} <= set(frame.columns) and (frame["attribute"].astype(str) != "all").any()
    if {"suppressed", "suppression"} & set(frame.columns) or subgroups:
        raise ValueError(f"clear({kind!r}): this is a cell table; publish it with publishable_cells()")
    df = frame.copy()
    for col in count_columns:
        if col in df.columns:
            v = _num(df, col)
            small = (v > 0) & (v < min_cell_n)
            if small.any():
                df[col] = [
                    fewer_than(min_cell_n) if s else ("" if not np.isfinite(x) else str(int(x)))
                    for x, s in zip(v, small)
                ]
    return Cleared(df.reset_index(drop=True), kind, min_cell_n, _TOKEN)


# ----------------------------------------------------------------------------- merges
def merge_categories(
    memberships: pd.DataFrame, merges: Mapping[str, Mapping[str, Sequence[str]]] | None
) -> pd.DataFrame:
    """Relabel categories per ``merges`` (``{attribute: {merged label: [category, ...]}}``).

    Applied to a year's memberships before any table is built, so a small
    category is reported together with a neighbour instead of hidden
    (``{"role": {"Head of Service or Manager": ["Head of Service", "Manager"]}}``).
    A respondent in two merged categories (multi-select) is in the merged one
    once. A category named in ``merges`` that is absent from the year is
    fine (merges can be kept across years).

    Examples
    --------
    >>> m = pd.DataFrame({"respondent_id": ["O1", "O2", "O3", "O3"], "attribute": "role",
    ...                   "category": ["Head of Service", "Manager", "Manager", "Head of Service"]})
    >>> merge_categories(m, {"role": {"HoS or Manager": ["Head of Service", "Manager"]}})["category"].tolist()
    ['HoS or Manager', 'HoS or Manager', 'HoS or Manager']
    """
    if not merges:
        return memberships
    out = memberships.copy()
    cat = out["category"].astype(object).to_numpy().copy()
    attr = out["attribute"].astype(str).to_numpy()
    for a, spec in merges.items():
        for label, members in spec.items():
            mask = (attr == a) & np.isin(cat.astype(str), [str(m) for m in members])
            cat[mask] = label
    out["category"] = pd.Series(cat, index=out.index).astype(
        memberships["category"].dtype if memberships["category"].dtype == object else str
    )
    return out.drop_duplicates(["respondent_id", "attribute", "category"]).reset_index(drop=True)


def merge_year(data, merges):
    """A year's data (:class:`rmlib.dataset.YearData`, or None) with :func:`merge_categories`
    applied to its memberships; unchanged without merges."""
    if data is None or not merges:
        return data
    import dataclasses

    return dataclasses.replace(data, memberships=merge_categories(data.memberships, merges))


def merge_note(merges: Mapping[str, Mapping[str, Sequence[str]]] | None) -> list[str]:
    """One sentence per merge, for the report (e.g. "Role: 'Head of Service' and 'Manager' are
    reported together as 'Head of Service or Manager'")."""
    from .constants import ATTRIBUTE_LABEL

    notes = []
    for a, spec in (merges or {}).items():
        for label, members in spec.items():
            names = [f"'{m}'" for m in members]
            joined = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
            notes.append(
                f"{ATTRIBUTE_LABEL.get(a, a)}: {joined} are reported together as '{label}' "
                "so that no group is too small to show."
            )
    return notes
