"""Table drivers: every cell of a long cell table located in the respondent-level data, and its interval.

:func:`add_intervals` and :func:`rmlib.stats.compare.compare_cells` locate
each cell's respondents (``_Year``: dense respondent x question arrays on
integer codes, subgroups under the multi-select rule of
:func:`rmlib.scoring.select_members`) and apply the single-cell functions of
:mod:`rmlib.stats.intervals` and :mod:`rmlib.stats.tests`.
"""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from .._coding import text_codes
from ..constants import QUESTIONS
from ..scoring import check_multi_select_rule, select_members
from ._base import (
    ALL,
    DEFAULT_MIN_CELL_N,
    LARGE_SAMPLE_N,
    MIN_BOOT_N,
    _active,
    _check_level,
    _seed_for,
    _seed_int,
    _stat,
)
from .intervals import _t_interval, overall_interval

#: Comparison kinds produced by :func:`compare_cells`.
COMPARISON_KINDS: tuple[str, ...] = ("rest", "last_year", "groups")
#: Suffixes of the columns each comparison kind adds (``f"{kind}_{suffix}"``).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "diff",
    "diff_low",
    "diff_high",
    "p",
    "p_adj",
    "significant",
    "welch_p",
    "bm_p",
    "prob_sup",
    "mean_other",
    "n_other",
    "p_method",
    "id",
)


def rating_level_sums(
    ratings: pd.DataFrame,
    attribute: str = "rated_department",
    by: str = "department",
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Respondent sums for a breakdown of *ratings* (not of respondents).

    A provider's ratings of one ECC department form the cell "providers'
    ratings of that department": the subset is of ratings, so it cannot be
    expressed as a set of respondents in ``memberships``. This returns, per
    respondent, question and value of ``by``, the ``sum`` and ``count`` of
    valid scores, labelled ``attribute`` / ``category`` so that it can be
    appended to the ``resp`` frame given to :func:`add_intervals` and
    :func:`compare_cells`.

    Parameters
    ----------
    ratings : DataFrame
        The processed ``ratings`` table (``respondent_id, group, question,
        department, score``).
    attribute : str
        Attribute name of the breakdown in the cell table.
    by : str
        Column of ``ratings`` defining the categories.
    labels : mapping, optional
        Maps values of ``by`` to the category labels used in the cell table.

    Returns
    -------
    DataFrame
        ``respondent_id, group, question, attribute, category, sum, count``.

    Examples
    --------
    >>> r = pd.DataFrame({"respondent_id": ["P1", "P1", "P2"], "group": "provider",
    ...                   "question": "trust", "department": ["finance", "quality", "finance"],
    ...                   "score": [3.0, np.nan, 2.0]})
    >>> rating_level_sums(r)[["respondent_id", "category", "sum", "count"]].values.tolist()
    [['P1', 'finance', 3.0, 1], ['P1', 'quality', 0.0, 0], ['P2', 'finance', 2.0, 1]]
    """
    df = ratings[ratings[by].notna() & (ratings[by].astype(str) != "")]
    g = df.groupby(["respondent_id", "group", "question", by], sort=True, observed=True)["score"]
    out = pd.DataFrame({"sum": g.sum(min_count=1).fillna(0.0), "count": g.count()}).reset_index()
    out = out.rename(columns={by: "category"})
    if labels is not None:
        out["category"] = out["category"].map(lambda v: labels.get(v, v))
    out.insert(3, "attribute", attribute)
    return out[["respondent_id", "group", "question", "attribute", "category", "sum", "count"]]


def _present(codes: np.ndarray) -> np.ndarray:
    """The distinct non-negative values of small integer codes, ascending (by counting, not sorting)."""
    codes = codes[codes >= 0]
    return np.flatnonzero(np.bincount(codes)) if len(codes) else np.empty(0, dtype=np.int64)


def _dense(rid: np.ndarray, q: np.ndarray, s: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(respondent codes, sums N x 8, counts N x 8) of long rows, respondents in code order."""
    seen = np.bincount(rid) > 0  # respondents present, numbered densely by counting
    ids = np.flatnonzero(seen)
    inv = (np.cumsum(seen) - 1)[rid]
    flat = inv * len(QUESTIONS) + q
    size = len(ids) * len(QUESTIONS)
    cc = np.bincount(flat, weights=c, minlength=size).reshape(len(ids), len(QUESTIONS))
    ss = np.bincount(flat, weights=s, minlength=size).reshape(len(ids), len(QUESTIONS))
    return ids, np.where(cc > 0, ss, 0.0), cc


def _question_positions(resp: pd.DataFrame) -> np.ndarray:
    """Each row's question as its position in ``QUESTIONS`` (int8); unknown or missing questions are refused."""
    qc, qtext = text_codes(resp["question"])
    unknown = set(qtext[_present(qc)]) - set(QUESTIONS)
    if unknown or (qc < 0).any():
        raise ValueError(
            f"resp has unknown questions {sorted(map(str, unknown)) or ['(missing)']}; expected {QUESTIONS}"
        )
    # (an unused category outside QUESTIONS maps to -1; used ones were refused above)
    return np.array([QUESTIONS.index(t) if t in QUESTIONS else -1 for t in qtext], dtype=np.int8)[qc] if len(qc) else qc


def _rating_level(resp: pd.DataFrame, rid, gc, gtext, ac, atext, is_total, has_id, qpos, s, c) -> dict:
    """(group, attribute, category) -> dense arrays of the rating-level rows (those not whole-group)."""
    out: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    cc_, ctext = text_codes(resp["category"])
    part = ~is_total & has_id & (gc >= 0) & (cc_ >= 0)  # rows with a respondent, group and category
    key = (gc[part].astype(np.int64) * (len(atext) + 1) + ac[part]) * (len(ctext) + 1) + cc_[part]
    # the few (group, attribute, category) keys numbered densely by counting, and the rows
    # ordered by key with a stable sort of 16-bit codes (a radix sort): O(rows), no comparison sort
    seen = np.bincount(key)
    uniq = np.flatnonzero(seen)
    inv = (np.cumsum(seen > 0) - 1)[key]
    order = np.argsort(inv.astype(np.uint16 if len(uniq) < 2**16 else np.int64), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(seen[uniq])])
    idx = np.flatnonzero(part)[order]
    for i, k in enumerate(uniq):
        sel = idx[bounds[i] : bounds[i + 1]]
        g, rest = divmod(int(k), (len(atext) + 1) * (len(ctext) + 1))
        a, cat = divmod(rest, len(ctext) + 1)
        out[(str(gtext[g]), str(atext[a]), str(ctext[cat]))] = _dense(rid[sel], qpos[sel], s[sel], c[sel])
    return out


def _member_codes(
    ids: np.ndarray, memberships: pd.DataFrame | None, multi_select_rule: str
) -> dict[tuple[str, str], np.ndarray]:
    """(attribute, category) -> sorted codes (positions in ``ids``) of its respondents under the multi-select rule.

    The rule is :func:`rmlib.scoring.select_members`, as for the tables;
    respondents not in ``ids`` are left out.
    """
    out: dict[tuple[str, str], np.ndarray] = {}
    if memberships is None or not len(memberships):
        return out
    sel = select_members(memberships, None, multi_select_rule)
    code = pd.Index(ids).get_indexer(sel["respondent_id"])
    ok = code >= 0
    ac, atext = text_codes(sel["attribute"][ok])
    cc, ctext = text_codes(sel["category"][ok])
    cell = ac * len(ctext) + cc
    resp_m = code[ok]
    order = np.lexsort((resp_m, cell))  # by (attribute, category), then respondent
    cell, resp_m = cell[order], resp_m[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.empty(0, int)
    for lo, hi in zip(starts, np.r_[starts[1:], len(cell)]):
        a, cat = divmod(int(cell[lo]), len(ctext))
        out[(str(atext[a]), str(ctext[cat]))] = resp_m[lo:hi]
    return out


class _Year:
    """Respondent-level arrays of one year, indexed for fast cell look-ups.

    ``resp`` is coded once (respondents numbered in sorted-id order,
    questions by their position in ``QUESTIONS``) and split into dense
    respondent x question arrays: one per group (whole-group rows) and one per
    (group, attribute, category) of rating-level rows. A respondent subgroup
    is a boolean mask over a group's rows, from ``memberships`` (under the
    multi-select rule) coded into the same respondent numbers. Costs O(rows)
    in numpy, no Python loop over rows or respondents.
    """

    def __init__(self, resp: pd.DataFrame, memberships: pd.DataFrame | None, multi_select_rule: str):
        check_multi_select_rule(multi_select_rule)
        need = {"respondent_id", "group", "question", "sum", "count"}
        missing = need - set(resp.columns)
        if missing:
            raise ValueError(f"resp is missing columns {sorted(missing)}; expected {sorted(need)}")
        qpos = _question_positions(resp)
        rid, self._ids = text_codes(resp["respondent_id"])
        gc, gtext = text_codes(resp["group"])
        has_id = rid >= 0  # rows without a respondent are left out, as by groupby
        # as a groupby sum would: a missing sum or count adds nothing
        s = resp["sum"].to_numpy(dtype=float, na_value=np.nan)
        c = resp["count"].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(s).any() or np.isnan(c).any():
            s, c = np.nan_to_num(s), np.nan_to_num(c)
        ac, atext = text_codes(resp["attribute"]) if "attribute" in resp.columns else (None, None)
        is_total = (
            (ac < 0) | np.append(np.isin(atext, [ALL, ""]), False)[ac]
            if ac is not None
            else np.ones(len(resp), dtype=bool)
        )
        self.groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for g in _present(gc[is_total & has_id]):
            rows = is_total & has_id & (gc == g)
            self.groups[str(gtext[g])] = _dense(rid[rows], qpos[rows], s[rows], c[rows])
        self.rating_level: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.rating_attrs: set[str] = set()
        if not is_total.all():
            self.rating_attrs = {str(atext[a]) for a in _present(ac[~is_total])}
            self.rating_level = _rating_level(resp, rid, gc, gtext, ac, atext, is_total, has_id, qpos, s, c)
        self.members = _member_codes(self._ids, memberships, multi_select_rule)
        self._masks: dict[tuple[str, str, str], np.ndarray] = {}
        self._recent: dict[tuple[str, str, str, bool], tuple[np.ndarray, np.ndarray]] = {}

    def cell(self, group: str, attribute: str, category: str, rest: bool = False):
        """(S, C) of the cell's respondents (or of the rest of the group), or None.

        The arrays of a subgroup are copies (``S[mask]``); the last few are
        kept, since callers ask for the same cell once per question.
        """
        if attribute == ALL:
            if group in self.groups and not rest:
                return self.groups[group][1:]
            return None
        if attribute in self.rating_attrs:
            sc = self.rating_level.get((group, attribute, category))
            return sc[1:] if sc is not None and not rest else None
        if group not in self.groups:
            return None
        if (group, attribute, category, rest) in self._recent:
            return self._recent[(group, attribute, category, rest)]
        ids, s, c = self.groups[group]
        key = (group, attribute, category)
        if key not in self._masks:
            member = self.members.get((attribute, category), np.empty(0, dtype=np.int64))
            pos = np.searchsorted(member, ids)
            self._masks[key] = (
                (pos < len(member)) & (member[np.minimum(pos, len(member) - 1)] == ids)
                if len(member)
                else np.zeros(len(ids), dtype=bool)
            )
        mask = ~self._masks[key] if rest else self._masks[key]
        if len(self._recent) >= 4:
            self._recent.pop(next(iter(self._recent)))
        out = self._recent[(group, attribute, category, rest)] = (s[mask], c[mask])
        return out


def _pick(sc, question: str):
    """(s, c) arrays of one statistic (a question column, or all for overall), active rows only."""
    s, c = sc
    if question == "overall":
        return _active(s, c)
    j = QUESTIONS.index(question)
    keep = c[:, j] > 0
    return s[keep, j : j + 1], c[keep, j : j + 1]


def _n_active(sc, question: str) -> int:
    """Respondents of (S, C) with a rating for ``question`` (any question for overall): ``len(_pick(...)[0])``."""
    c = sc[1]
    return int((c > 0).any(axis=1).sum() if question == "overall" else (c[:, QUESTIONS.index(question)] > 0).sum())


def _validate_cells(cells: pd.DataFrame) -> None:
    need = {"table", "group", "attribute", "category", "question", "n"}
    missing = need - set(cells.columns)
    if missing:
        raise ValueError(f"cells is missing columns {sorted(missing)}; expected at least {sorted(need)}")
    bad = set(cells["question"].astype(str)) - set(QUESTIONS) - {"overall"}
    if bad:
        raise ValueError(f"cells has unknown questions {sorted(bad)}; expected {QUESTIONS} or 'overall'")


def _check_consistency(
    cells: pd.DataFrame, year: _Year, check: str, mean_col="mean", n_col="n", what="this year"
) -> None:
    """Compare the cell table's n and mean with those recomputed from ``resp``."""
    if check not in ("raise", "warn", "ignore"):
        raise ValueError(f"check must be 'raise', 'warn' or 'ignore'; got {check!r}")
    if check == "ignore" or n_col not in cells.columns:
        return
    bad = []
    seen = {}
    for row in cells[
        ["group", "attribute", "category", "question", n_col] + ([mean_col] if mean_col in cells.columns else [])
    ].itertuples(index=False):
        key = (str(row[0]), str(row[1]), str(row[2]), str(row[3]))
        if key not in seen:
            sc = year.cell(*key[:3])
            if sc is None:
                seen[key] = (0, np.nan)
            else:
                s, c = _pick(sc, key[3])
                seen[key] = (s.shape[0], float(_stat(s.sum(0), c.sum(0))) if s.shape[0] else np.nan)
        n, m = seen[key]
        n_cell = row[4]
        m_cell = row[5] if len(row) > 5 else np.nan
        if pd.isna(n_cell):
            continue
        if int(n_cell) != n or (np.isfinite(m_cell) and np.isfinite(m) and abs(m_cell - m) > 1e-9):
            bad.append(f"{key}: cell n={n_cell}, mean={m_cell!r}; respondent data n={n}, mean={m!r}")
    if bad:
        msg = (
            f"{len(bad)} cell(s) disagree with the respondent-level data for {what} (are the same "
            f"multi_select_rule and data used?); first: " + "; ".join(bad[:3])
        )
        if check == "raise":
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


def add_intervals(
    cells: pd.DataFrame,
    resp: pd.DataFrame,
    memberships: pd.DataFrame | None = None,
    *,
    level: float = 0.95,
    n_boot: int = 9999,
    seed=0,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
    min_boot_n: int = MIN_BOOT_N,
    df_method: str = "satterthwaite",
    multi_select_rule: str = "solely_one",
    check: str = "raise",
    large_n: int | None = LARGE_SAMPLE_N,
    pseudo: bool = True,
) -> pd.DataFrame:
    """Add ``ci_low, ci_high, ci_method`` to a long cell table.

    Each cell is located in the respondent-level data by ``(group,
    attribute, category)``: ``attribute == "all"`` is the whole group;
    attributes present in ``resp``'s optional ``attribute`` column are
    rating-level breakdowns (see :func:`rating_level_sums`); any other
    attribute is a respondent subgroup taken from ``memberships``. Question
    cells get :func:`cell_interval`, ``overall`` cells
    :func:`overall_interval`. Identical cells appearing in several tables are
    computed once; each overall cell's bootstrap seed is derived from
    ``seed`` and the cell's key, so results do not depend on row order.

    Parameters
    ----------
    cells : DataFrame
        Cell table (``docs/contracts.md``): at least ``table, group,
        attribute, category, question, n`` (and ``mean`` for the check).
    resp : DataFrame
        ``respondent_id, group, question, sum, count`` per respondent and
        question (``rmlib.crosstab.resampling_sums``), optionally with rows
        from :func:`rating_level_sums` (columns ``attribute, category``).
    memberships : DataFrame, optional
        ``respondent_id, attribute, category``.
    level, n_boot, seed, min_boot_n, df_method, large_n, pseudo
        As in :func:`overall_interval` and :func:`cell_interval` (``pseudo``: the two
        pseudo-respondents of the bounded-scale interval, default on).
    min_cell_n : int
        Cells with fewer respondents get no interval (``ci_method="none"``);
        they are suppressed anyway.
    multi_select_rule : {"solely_one", "any"}
        The multi-select rule the cell table was built with
        (:func:`rmlib.scoring.select_members`): "solely_one" keeps a
        respondent in an attribute's category only if they chose exactly one
        category of that attribute.
    check : {"raise", "warn", "ignore"}
        What to do when a cell's ``n`` or ``mean`` differs from the value
        recomputed from ``resp`` (a sign the inputs do not match).

    Returns
    -------
    DataFrame
        A copy of ``cells`` with the three columns added (same index).

    Examples
    --------
    >>> resp = pd.DataFrame({"respondent_id": [f"O{i}" for i in range(6)], "group": "officer",
    ...                      "question": "trust", "sum": [2., 3, 3, 2, 4, 3], "count": 1})
    >>> cells = pd.DataFrame({"table": "t", "group": "officer", "attribute": "all",
    ...                       "category": "All", "question": ["trust"], "mean": [17 / 6], "n": [6]})
    >>> add_intervals(cells, resp)[["ci_low", "ci_high", "ci_method"]].round(2).values.tolist()
    [[1.88, 3.78, 'pseudo_t']]
    """
    _check_level(level)
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select_rule)
    _check_consistency(cells, year, check)
    found = _cell_intervals(
        cells, year, level, n_boot, _seed_int(seed), min_cell_n, min_boot_n, df_method, large_n, pseudo
    )
    return _with_intervals(cells, found)


def _cell_intervals(
    cells: pd.DataFrame,
    year: _Year,
    level: float,
    n_boot: int,
    base: int,
    min_cell_n: int,
    min_boot_n: int,
    df_method: str,
    large_n: int | None,
    pseudo: bool,
) -> list[tuple[float, float, str]]:
    """(low, high, method) for each row of ``cells``, in row order.

    Identical cells (same group, attribute, category and question) appearing
    in several tables are computed once; the seed ``base`` is passed to
    :func:`_interval`, which derives each overall cell's seed from its key.
    """
    memo: dict[tuple, tuple[float, float, str]] = {}
    found = []
    for row in cells[["group", "attribute", "category", "question"]].astype(str).itertuples(index=False):
        key = tuple(row)
        if key not in memo:
            memo[key] = _interval(
                year,
                key,
                level=level,
                n_boot=n_boot,
                base=base,
                min_cell_n=min_cell_n,
                min_boot_n=min_boot_n,
                df_method=df_method,
                large_n=large_n,
                pseudo=pseudo,
            )
        found.append(memo[key])
    return found


def _with_intervals(cells: pd.DataFrame, found: list[tuple[float, float, str]]) -> pd.DataFrame:
    """A copy of ``cells`` (same index) with ``ci_low, ci_high, ci_method`` from ``found``, one per row."""
    out = cells.copy()
    out["ci_low"] = np.asarray([f[0] for f in found], float)
    out["ci_high"] = np.asarray([f[1] for f in found], float)
    out["ci_method"] = [f[2] for f in found]
    return out


def _interval(
    year: _Year,
    key: tuple[str, str, str, str],
    *,
    level,
    n_boot,
    base,
    min_cell_n,
    min_boot_n,
    df_method,
    large_n,
    pseudo,
) -> tuple[float, float, str]:
    """One cell's interval: :func:`overall_interval` for ``overall`` (bootstrap seeded by ``base`` and the
    cell's key, not by row order), the cell t interval for a question."""
    sc = year.cell(*key[:3])
    if sc is None:
        return np.nan, np.nan, "none"
    s, c = _pick(sc, key[3])
    if s.shape[0] < max(min_cell_n, 2):
        return np.nan, np.nan, "none"
    if key[3] == "overall":
        return overall_interval(
            s,
            c,
            level=level,
            n_boot=n_boot,
            seed=_seed_for(base, "ci", *key),
            min_boot_n=min_boot_n,
            df_method=df_method,
            large_n=large_n,
            pseudo=pseudo,
        )
    return _t_interval(s, c, level, df_method, pseudo)
