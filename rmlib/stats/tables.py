"""Table drivers: intervals and comparisons for every cell of a long cell table.

:func:`add_intervals` and :func:`compare_cells` locate each cell's respondents
(``_Year``: dense respondent x question arrays on integer codes) and apply
the single-cell functions of :mod:`rmlib.stats.intervals` and
:mod:`rmlib.stats.tests`; :mod:`rmlib.stats.multiplicity` then gives every
distinct comparison one adjusted p-value and one verdict.
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._coding import text_codes
from ..constants import QUESTIONS
from ._base import (ALL, DEFAULT_MIN_CELL_N, LARGE_SAMPLE_N, MIN_BOOT_N, _active, _check_level, _seed_for,
                    _seed_int, _stat)
from .intervals import _t_interval, overall_interval
from .multiplicity import CORRECTIONS, adjust_comparisons, comparison_id
from .tests import PermutationResult, _assemble, _inverted, _perm_pvalues, _splits, sign_flip_test

#: Comparison kinds produced by :func:`compare_cells`.
COMPARISON_KINDS: tuple[str, ...] = ("rest", "last_year", "groups")
#: Suffixes of the columns each comparison kind adds (``f"{kind}_{suffix}"``).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "diff", "diff_low", "diff_high", "p", "p_adj", "significant",
    "welch_p", "bm_p", "prob_sup", "mean_other", "n_other", "p_method", "id",
)


def rating_level_sums(ratings: pd.DataFrame, attribute: str = "rated_department", by: str = "department",
                      labels: Mapping[str, str] | None = None) -> pd.DataFrame:
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
    seen = np.bincount(rid) > 0                   # respondents present, numbered densely by counting
    ids = np.flatnonzero(seen)
    inv = (np.cumsum(seen) - 1)[rid]
    flat = inv * len(QUESTIONS) + q
    size = len(ids) * len(QUESTIONS)
    cc = np.bincount(flat, weights=c, minlength=size).reshape(len(ids), len(QUESTIONS))
    ss = np.bincount(flat, weights=s, minlength=size).reshape(len(ids), len(QUESTIONS))
    return ids, np.where(cc > 0, ss, 0.0), cc


class _Year:
    """Respondent-level arrays of one year, indexed for fast cell look-ups.

    ``resp`` is coded once (respondents numbered in sorted-id order,
    questions by their position in ``QUESTIONS``) and split into dense
    respondent x question arrays: one per group (whole-group rows) and one per
    (group, attribute, category) of rating-level rows. A respondent subgroup
    is a boolean mask over a group's rows, from ``memberships`` coded into
    the same respondent numbers. Costs O(rows) in numpy, no Python loop over
    rows or respondents.
    """

    def __init__(self, resp: pd.DataFrame, memberships: pd.DataFrame | None, multi_select: str):
        if multi_select not in ("solely_one", "any"):
            raise ValueError(f"multi_select must be 'solely_one' or 'any'; got {multi_select!r}")
        need = {"respondent_id", "group", "question", "sum", "count"}
        missing = need - set(resp.columns)
        if missing:
            raise ValueError(f"resp is missing columns {sorted(missing)}; expected {sorted(need)}")
        qc, qtext = text_codes(resp["question"])
        unknown = set(qtext[_present(qc)]) - set(QUESTIONS)
        if unknown or (qc < 0).any():
            raise ValueError(f"resp has unknown questions {sorted(map(str, unknown)) or ['(missing)']}; "
                             f"expected {QUESTIONS}")
        # (an unused category outside QUESTIONS maps to -1; used ones were refused above)
        qpos = np.array([QUESTIONS.index(t) if t in QUESTIONS else -1 for t in qtext], dtype=np.int8)[qc] \
            if len(qc) else qc
        del qc
        rid, self._ids = text_codes(resp["respondent_id"])
        gc, gtext = text_codes(resp["group"])
        has_id = rid >= 0                                  # rows without a respondent are left out, as by groupby
        # as a groupby sum would: a missing sum or count adds nothing
        s = resp["sum"].to_numpy(dtype=float, na_value=np.nan)
        c = resp["count"].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(s).any() or np.isnan(c).any():
            s, c = np.nan_to_num(s), np.nan_to_num(c)
        if "attribute" in resp.columns:
            ac, atext = text_codes(resp["attribute"])
            total_code = np.isin(atext, [ALL, ""])
            is_total = (ac < 0) | np.append(total_code, False)[ac]
        else:
            is_total = np.ones(len(resp), dtype=bool)
        self.groups: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for g in _present(gc[is_total & has_id]):
            rows = is_total & has_id & (gc == g)
            self.groups[str(gtext[g])] = _dense(rid[rows], qpos[rows], s[rows], c[rows])
        self.rating_level: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.rating_attrs: set[str] = set()
        if not is_total.all():
            self.rating_attrs = {str(atext[a]) for a in _present(ac[~is_total])}
            cc_, ctext = text_codes(resp["category"])
            part = ~is_total & has_id & (gc >= 0) & (cc_ >= 0)     # rows with a respondent, group and category
            key = ((gc[part].astype(np.int64) * (len(atext) + 1) + ac[part]) * (len(ctext) + 1)
                   + cc_[part])
            # the few (group, attribute, category) keys numbered densely by counting, and the rows
            # ordered by key with a stable sort of 16-bit codes (a radix sort): O(rows), no comparison sort
            seen = np.bincount(key)
            uniq = np.flatnonzero(seen)
            inv = (np.cumsum(seen > 0) - 1)[key]
            order = np.argsort(inv.astype(np.uint16 if len(uniq) < 2**16 else np.int64), kind="stable")
            bounds = np.concatenate([[0], np.cumsum(seen[uniq])])
            idx = np.flatnonzero(part)[order]
            for i, k in enumerate(uniq):
                sel = idx[bounds[i]:bounds[i + 1]]
                g, rest = divmod(int(k), (len(atext) + 1) * (len(ctext) + 1))
                a, cat = divmod(rest, len(ctext) + 1)
                name = (str(gtext[g]), str(atext[a]), str(ctext[cat]))
                self.rating_level[name] = _dense(rid[sel], qpos[sel], s[sel], c[sel])
        # memberships: per (attribute, category), the sorted codes of its respondents
        self.members: dict[tuple[str, str], np.ndarray] = {}
        if memberships is not None and len(memberships):
            # on integer codes: one row per distinct (respondent, attribute, category) ...
            code = pd.Index(self._ids).get_indexer(memberships["respondent_id"].astype(str))
            ma, mat = text_codes(memberships["attribute"])
            mc, mct = text_codes(memberships["category"])
            # a missing category is a choice of its own (code nC): it makes a respondent's other
            # choice not their only one, as in crosstab.select_members; it is dropped below
            nA, nC = len(mat), len(mct) + 1
            mc = np.where(mc < 0, nC - 1, mc)
            ok = (code >= 0) & (ma >= 0)
            key = np.sort((code[ok].astype(np.int64) * nA + ma[ok]) * nC + mc[ok])
            key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key   # (np.unique hashes: slower)
            pair, cat_m = np.divmod(key, nC)
            if multi_select == "solely_one":
                # ... keeping a respondent in an attribute's category only if it is their only one
                first = np.r_[True, pair[1:] != pair[:-1]]
                size = np.diff(np.r_[np.flatnonzero(first), len(pair)])
                keep = np.repeat(size == 1, size)
                pair, cat_m = pair[keep], cat_m[keep]
            resp_m, attr_m = np.divmod(pair, nA)
            resp_m, attr_m, cat_m = resp_m[cat_m < nC - 1], attr_m[cat_m < nC - 1], cat_m[cat_m < nC - 1]
            # sorted by (attribute, category, respondent) and split: each a sorted array of codes
            cell = attr_m * nC + cat_m
            order = np.lexsort((resp_m, cell))
            cell, resp_m = cell[order], resp_m[order]
            starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.empty(0, int)
            for lo, hi in zip(starts, np.r_[starts[1:], len(cell)]):
                a, cat = divmod(int(cell[lo]), nC)
                self.members[(str(mat[a]), str(mct[cat]))] = resp_m[lo:hi]
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
            self._masks[key] = (pos < len(member)) & (member[np.minimum(pos, len(member) - 1)] == ids) \
                if len(member) else np.zeros(len(ids), dtype=bool)
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
    return s[keep, j:j + 1], c[keep, j:j + 1]


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


def _check_consistency(cells: pd.DataFrame, year: _Year, check: str, mean_col="mean", n_col="n",
                       what="this year") -> None:
    """Compare the cell table's n and mean with those recomputed from ``resp``."""
    if check not in ("raise", "warn", "ignore"):
        raise ValueError(f"check must be 'raise', 'warn' or 'ignore'; got {check!r}")
    if check == "ignore" or n_col not in cells.columns:
        return
    bad = []
    seen = {}
    for row in cells[["group", "attribute", "category", "question", n_col]
                     + ([mean_col] if mean_col in cells.columns else [])].itertuples(index=False):
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
        msg = (f"{len(bad)} cell(s) disagree with the respondent-level data for {what} (are the same "
               f"multi_select rule and data used?); first: " + "; ".join(bad[:3]))
        if check == "raise":
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)



def add_intervals(cells: pd.DataFrame, resp: pd.DataFrame, memberships: pd.DataFrame | None = None, *,
                  level: float = 0.95, n_boot: int = 9999, seed=0, min_cell_n: int = DEFAULT_MIN_CELL_N,
                  min_boot_n: int = MIN_BOOT_N, df_method: str = "satterthwaite",
                  multi_select: str = "solely_one", check: str = "raise",
                  large_n: int | None = LARGE_SAMPLE_N, pseudo: bool = True) -> pd.DataFrame:
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
        question (``rmlib.scoring.respondent_sums``), optionally with rows
        from :func:`rating_level_sums` (columns ``attribute, category``).
    memberships : DataFrame, optional
        ``respondent_id, attribute, category``.
    level, n_boot, seed, min_boot_n, df_method, large_n, pseudo
        As in :func:`overall_interval` and :func:`cell_interval` (``pseudo``: the two
        pseudo-respondents of the bounded-scale interval, default on).
    min_cell_n : int
        Cells with fewer respondents get no interval (``ci_method="none"``);
        they are suppressed anyway.
    multi_select : {"solely_one", "any"}
        The multi-select rule the cell table was built with: "solely_one"
        keeps a respondent in an attribute's category only if they chose
        exactly one category of that attribute.
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
    year = _Year(resp, memberships, multi_select)
    _check_consistency(cells, year, check)
    base = _seed_int(seed)
    memo: dict[tuple, tuple[float, float, str]] = {}
    lows, highs, methods = [], [], []
    for row in cells[["group", "attribute", "category", "question"]].astype(str).itertuples(index=False):
        key = tuple(row)
        if key not in memo:
            sc = year.cell(*key[:3])
            if sc is None:
                memo[key] = (np.nan, np.nan, "none")
            else:
                s, c = _pick(sc, key[3])
                if s.shape[0] < max(min_cell_n, 2):
                    memo[key] = (np.nan, np.nan, "none")
                elif key[3] == "overall":
                    memo[key] = overall_interval(s, c, level=level, n_boot=n_boot,
                                                 seed=_seed_for(base, "ci", *key), min_boot_n=min_boot_n,
                                                 df_method=df_method, large_n=large_n, pseudo=pseudo)
                else:
                    memo[key] = _t_interval(s, c, level, df_method, pseudo)
        lo, hi, me = memo[key]
        lows.append(lo)
        highs.append(hi)
        methods.append(me)
    out = cells.copy()
    out["ci_low"] = np.asarray(lows, float)
    out["ci_high"] = np.asarray(highs, float)
    out["ci_method"] = methods
    return out


def _plan_block(A, B, questions: Sequence[str], min_cell_n: int) -> tuple[dict, list]:
    """Group the statistics of one comparison by the respondents they involve.

    Returns ``(skipped, jobs)``: questions with too few respondents on a side
    map to None in ``skipped``; each job is ``(qs, (sa, ca), (sb, cb),
    col_sets)`` for the statistics whose active respondents (those with a
    rating) coincide, so they share one set of splits.
    """
    sA, cA = A
    sB, cB = B
    skipped: dict[str, None] = {}
    batches: dict[tuple[bytes, bytes], list[str]] = {}
    masks = {}
    for q in questions:
        if q == "overall":
            ka, kb = (cA > 0).any(1), (cB > 0).any(1)
        else:
            j = QUESTIONS.index(q)
            ka, kb = cA[:, j] > 0, cB[:, j] > 0
        if ka.sum() < max(min_cell_n, 1) or kb.sum() < max(min_cell_n, 1):
            skipped[q] = None
            continue
        key = (np.packbits(ka).tobytes(), np.packbits(kb).tobytes())
        batches.setdefault(key, []).append(q)
        masks[key] = (ka, kb)
    jobs = []
    for key, qs in batches.items():
        ka, kb = masks[key]
        # copy only the columns the batch's statistics use, renumbered 0..
        used = list(range(len(QUESTIONS))) if "overall" in qs else sorted(QUESTIONS.index(q) for q in qs)
        pos = {j: i for i, j in enumerate(used)}
        col_sets = [list(range(len(used))) if q == "overall" else [pos[QUESTIONS.index(q)]] for q in qs]
        pick_a = np.ix_(ka, used) if len(used) < len(QUESTIONS) else ka
        pick_b = np.ix_(kb, used) if len(used) < len(QUESTIONS) else kb
        jobs.append((qs, (sA[pick_a], cA[pick_a]), (sB[pick_b], cB[pick_b]), col_sets))
    return skipped, jobs


def _flipped(r: dict[str, Any]) -> dict[str, Any]:
    """The same comparison seen from set B's side (B minus A)."""
    out = dict(r)
    out["diff"] = -r["diff"]
    out["diff_low"], out["diff_high"] = -r["diff_high"], -r["diff_low"]
    out["prob_sup"] = 1 - r["prob_sup"]
    out["n_a"], out["n_b"] = r["n_b"], r["n_a"]
    out["mean_a"], out["mean_b"] = r["mean_b"], r["mean_a"]
    return out


def _paired(year: _Year, group: str, attribute: str, category: str, question: str):
    """Within-respondent differences for a rating-level cell against the respondents' other ratings.

    For each respondent with a rating in the cell (e.g. their ratings of one
    department) *and* in the rest of their ratings of that question (the
    other departments): their cell mean minus their mean over the rest. For
    ``overall`` the mean over the questions where both exist. Returns
    ``(d, own, other)`` arrays over those respondents, or None.
    """
    sc = year.rating_level.get((group, attribute, category))
    if sc is None or group not in year.groups:
        return None
    ids, s, c = sc
    gids, gs, gc = year.groups[group]
    pos = np.searchsorted(gids, ids)
    s_o, c_o = gs[pos] - s, gc[pos] - c                 # the same respondents' other ratings
    both = (c > 0) & (c_o > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(both, s / np.where(both, c, 1), np.nan)
        oth = np.where(both, s_o / np.where(both, c_o, 1), np.nan)
    if question == "overall":
        k = both.sum(1)
        keep = k > 0
        with np.errstate(invalid="ignore"):
            own_m = np.nansum(own[keep], 1) / k[keep]
            oth_m = np.nansum(oth[keep], 1) / k[keep]
        return own_m - oth_m, own_m, oth_m
    j = QUESTIONS.index(question)
    keep = both[:, j]
    return own[keep, j] - oth[keep, j], own[keep, j], oth[keep, j]


def _paired_result(d, own, oth, level, n_resamples, seed, exact_threshold, large_n) -> dict[str, Any]:
    r = sign_flip_test(d, n_resamples=n_resamples, seed=seed, exact_threshold=exact_threshold, level=level,
                       large_n=large_n)
    method = {"exact": "sign_flip exact", "monte carlo": "sign_flip monte carlo", "t": "paired_t"}.get(r.method,
                                                                                                       "none")
    return {"diff": r.diff, "diff_low": r.low, "diff_high": r.high, "p": r.p, "p_method": method,
            "welch_p": np.nan, "bm_p": np.nan,
            "prob_sup": float(np.mean(d > 0) + 0.5 * np.mean(d == 0)) if len(d) else np.nan,
            "n_a": len(d), "n_b": len(d), "mean_a": float(np.mean(own)), "mean_b": float(np.mean(oth))}


def compare_cells(cells: pd.DataFrame, resp: pd.DataFrame, memberships: pd.DataFrame | None = None, *,
                  kinds: Iterable[str] = COMPARISON_KINDS, resp_last: pd.DataFrame | None = None,
                  memberships_last: pd.DataFrame | None = None, correction: str = "fdr_bh",
                  alpha: float = 0.05, level: float = 0.95, n_resamples: int = 9999,
                  exact_threshold: int = 20000, seed=0, min_cell_n: int = DEFAULT_MIN_CELL_N,
                  df_method: str = "satterthwaite", multi_select: str = "solely_one",
                  check: str = "raise", large_n: int | None = LARGE_SAMPLE_N) -> pd.DataFrame:
    """Add comparison columns (tests, intervals, effect sizes) to a cell table.

    Comparison kinds (each adds ``{kind}_diff, _diff_low, _diff_high, _p,
    _p_adj, _significant, _welch_p, _bm_p, _prob_sup, _mean_other, _n_other,
    _p_method, _id``):

    ``rest``
        A respondent subgroup against everyone else in its group with a
        rating (``diff = cell - rest``; studentised permutation test). For a
        rating-level breakdown (providers' ratings of one department) the
        same providers are on both sides, so it is a *paired* comparison:
        each provider's rating of the department minus the mean of their
        ratings of the other departments, tested by studentised sign-flipping
        (``sign_flip_test``; ``diff`` = mean of those differences, ``n_other``
        = providers with both, ``mean_other`` = their mean rating of the other
        departments). Not defined for whole-group rows.
    ``last_year``
        The cell against the same cell last year (``diff = this year - last
        year``), the two years treated as independent samples (respondent ids
        are pseudonymous within a year; overlap would make the test
        conservative). NaN when ``resp_last`` is None.
    ``groups``
        The cell against the same attribute/category/question in the other
        group (``diff = this row's group - other group``): one test, shown
        from either side.

    Independent comparisons use the studentised permutation test (the
    cluster-robust Welch t of the difference, respondents permuted; exact
    when feasible; comparisons with the same numbers of respondents share one
    set of random splits, seeded by ``seed`` and those numbers) and its
    inverted interval, which excludes 0 exactly when p < 1 - level. When
    both sides have at least ``large_n`` respondents the same statistic is
    referred to the t distribution (``p_method = "welch_cluster_t"``, interval
    :func:`rmlib.stats.diff_interval`); without variance on either side the
    permutation test is kept. Welch / Brunner-Munzel p on respondent means
    and the probability of superiority are reported alongside. Comparisons
    with fewer than ``min_cell_n`` respondents on either side are not made.

    One comparison, one verdict: every distinct comparison has an id
    (``{kind}_id``, :func:`rmlib.stats.multiplicity.comparison_id`), is
    computed once however many tables show it, and gets one adjusted p-value
    (``correction``: ``"fdr_bh"``, Benjamini-Hochberg over all distinct
    comparisons, default; ``"holm"``, Holm per family;
    :mod:`rmlib.stats.multiplicity`). ``{kind}_significant`` means *adjusted*
    p < ``alpha`` (NA when not tested); since the adjusted p is at least the
    raw one, a significant comparison's interval never contains 0 when
    ``alpha <= 1 - level``.

    Parameters
    ----------
    cells : DataFrame
        Long cell table (``docs/contracts.md``).
    resp, memberships : DataFrame
        This year's respondent-level data, as in :func:`add_intervals`.
    kinds : iterable of str
        Subset of ``("rest", "last_year", "groups")``.
    resp_last, memberships_last : DataFrame, optional
        Last year's respondent-level data.
    correction : {"fdr_bh", "holm"}
    alpha : float
        Level for ``*_significant``.
    level : float
        Confidence level of the difference intervals.
    n_resamples, exact_threshold, seed
        Permutation settings (see :func:`permutation_test`).
    min_cell_n : int
        Smallest number of respondents on each side (pairs, for paired
        comparisons) for a test.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the large-sample Welch cluster t.
    multi_select, check
        As in :func:`add_intervals`.
    large_n : int or None
        Smallest number of respondents on *each* side (pairs) for the t
        reference to replace resampling (None: always resample).

    Returns
    -------
    DataFrame
        A copy of ``cells`` with the columns added (same index).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ids = [f"O{i:02d}" for i in range(20)]
    >>> resp = pd.DataFrame({"respondent_id": ids, "group": "officer", "question": "trust",
    ...                      "sum": rng.integers(1, 5, 20).astype(float), "count": 1})
    >>> mem = pd.DataFrame({"respondent_id": ids, "attribute": "quadrant",
    ...                     "category": ["North"] * 8 + ["South"] * 12})
    >>> cells = pd.DataFrame({"table": "officer_by_quadrant", "group": "officer",
    ...                       "attribute": "quadrant", "category": ["North", "South"],
    ...                       "question": "trust", "n": [8, 12]})
    >>> out = compare_cells(cells, resp, mem, kinds=["rest"], n_resamples=999)
    >>> out[["rest_diff", "rest_p_method"]].round(3).values.tolist()
    [[-1.042, 'monte carlo'], [1.042, 'monte carlo']]
    >>> out["rest_id"].nunique(), float(out["rest_p_adj"].iloc[0]) == float(out["rest_p_adj"].iloc[1])
    (2, True)
    """
    kinds = list(kinds)
    for k in kinds:
        if k not in COMPARISON_KINDS:
            raise ValueError(f"kinds must be among {COMPARISON_KINDS}; got {k!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    _check_level(level)
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select)
    _check_consistency(cells, year, check)
    last = None
    if "last_year" in kinds and resp_last is not None:
        last = _Year(resp_last, memberships_last, multi_select)
        if "n_last" in cells.columns:
            _check_consistency(cells, last, check, mean_col="mean_last", n_col="n_last", what="last year")
    groups_present = sorted(set(year.groups))
    keys = cells[["group", "attribute", "category", "question"]].astype(str)
    out = cells.copy()
    # one block of questions per (group, attribute, category)
    wanted: dict[tuple[str, str, str], list[str]] = {}
    for g, a, c, q in keys.itertuples(index=False):
        lst = wanted.setdefault((g, a, c), [])
        if q not in lst:
            lst.append(q)
    base = _seed_int(seed)
    per_kind_rows = {}
    for kind in kinds:
        # what to compute: (group, attribute, category) -> questions. For
        # "groups" each pair is computed once, from the alphabetically first
        # group's side, and flipped for the other group's rows.
        todo: dict[tuple[str, str, str], list[str]] = {}
        flip: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for (g, a, c), qs in wanted.items():
            key = (g, a, c)
            if kind == "groups":
                others = [o for o in groups_present if o != g]
                if len(others) == 1 and others[0] < g:
                    key = (others[0], a, c)
                    flip[(g, a, c)] = key
            lst = todo.setdefault(key, [])
            lst.extend(q for q in qs if q not in lst)
        res: dict[tuple[str, str, str], dict] = {}
        jobs = []
        for (g, a, c), qs in todo.items():
            if kind == "rest" and a in year.rating_attrs:
                # paired: the same respondents' ratings of this category against their other ratings
                res[(g, a, c)] = {}
                for q in qs:
                    pr = _paired(year, g, a, c, q)
                    if pr is None or len(pr[0]) < max(min_cell_n, 2):
                        res[(g, a, c)][q] = None
                        continue
                    res[(g, a, c)][q] = _paired_result(*pr, level, n_resamples,
                                                       _seed_for(base, "flip", g, a, c, q), exact_threshold,
                                                       large_n)
                continue
            A = year.cell(g, a, c)
            if kind == "rest":
                B = year.cell(g, a, c, rest=True) if a != ALL else None
            elif kind == "last_year":
                B = last.cell(g, a, c) if last is not None else None
            else:
                others = [o for o in groups_present if o != g]
                B = year.cell(others[0], a, c) if len(others) == 1 else None
            if A is None or B is None:
                res[(g, a, c)] = {}
                continue
            skipped, block_jobs = _plan_block(A, B, qs, max(min_cell_n, 2))
            res[(g, a, c)] = dict(skipped)
            jobs.extend(((g, a, c), *job) for job in block_jobs)
        # Jobs with the same numbers of respondents share one set of splits
        # (drawn from a stream seeded by seed, n and n_a): each p-value is
        # still an exact or Monte Carlo permutation p-value; sharing only
        # correlates their Monte Carlo errors and saves most of the time.
        sizes = lambda j: (len(j[2][0]) + len(j[3][0]), len(j[2][0]))  # noqa: E731  (n, n_a)
        jobs.sort(key=sizes)
        for (n, n_a), grp in itertools.groupby(jobs, key=sizes):
            large = large_n is not None and min(n_a, n - n_a) >= large_n
            splits = None
            for key, qs, (sA, cA), (sB, cB), col_sets in grp:
                perm = None
                for i, q in enumerate(qs):
                    # every row of the job has a rating in this statistic's columns (_plan_block)
                    cols = slice(col_sets[i][0], col_sets[i][-1] + 1)
                    sa, ca, sb, cb = sA[:, cols], cA[:, cols], sB[:, cols], cB[:, cols]
                    r = _assemble(sa, ca, sb, cb, None, level, df_method) if large else None
                    if r is None or r["p_method"] == "none":
                        # the permutation test: below the large-sample size, or where the t test is
                        # undefined (no variance on either side)
                        if perm is None:
                            splits = splits or _splits(n, n_a, n_resamples, np.random.default_rng([base, n, n_a]),
                                                       exact_threshold)
                            perm = _perm_pvalues(np.vstack([sA, sB]), np.vstack([cA, cB]), n_a, col_sets, splits,
                                                 True, level)
                        d, p, se, crit = perm[0][i], perm[1][i], perm[2][i], perm[3][i]
                        low, high = _inverted(d, se, crit, p, level)
                        pr = PermutationResult(float(d), float(p), splits.method, n_a, n - n_a, splits.n_perm,
                                               low, high, float(se), float(crit))
                        r = _assemble(sa, ca, sb, cb, pr, level, df_method)
                    res[key][q] = r

        def _result(g, a, c, q, res=res, flip=flip):
            if (g, a, c) in flip:
                r = res.get(flip[(g, a, c)], {}).get(q)
                return _flipped(r) if r else None
            return res.get((g, a, c), {}).get(q)

        rows = [_result(g, a, c, q) for g, a, c, q in keys.itertuples(index=False)]
        ids = [comparison_id(kind, g, a, c, q) if r else None
               for (g, a, c, q), r in zip(keys.itertuples(index=False), rows)]
        per_kind_rows[kind] = (rows, ids)
    # one comparison, one adjusted p: every distinct comparison of every kind adjusted once
    all_ids = [i for k in kinds for i in per_kind_rows[k][1]]
    all_p = [r["p"] if r else np.nan for k in kinds for r in per_kind_rows[k][0]]
    adj = adjust_comparisons(all_ids, all_p, correction)
    adj_map = dict(zip(adj["comparison"], adj["p_adj"]))
    for kind in kinds:
        rows, ids = per_kind_rows[kind]
        get = lambda f: np.array([r[f] if r else np.nan for r in rows], dtype=float)  # noqa: E731
        padj = np.array([adj_map.get(i, np.nan) if i is not None else np.nan for i in ids], dtype=float)
        out[f"{kind}_diff"] = get("diff")
        out[f"{kind}_diff_low"] = get("diff_low")
        out[f"{kind}_diff_high"] = get("diff_high")
        out[f"{kind}_p"] = get("p")
        out[f"{kind}_p_adj"] = padj
        sig = pd.array([pd.NA if not np.isfinite(v) else bool(v < alpha) for v in padj], dtype="boolean")
        out[f"{kind}_significant"] = sig
        out[f"{kind}_welch_p"] = get("welch_p")
        out[f"{kind}_bm_p"] = get("bm_p")
        out[f"{kind}_prob_sup"] = get("prob_sup")
        out[f"{kind}_mean_other"] = get("mean_b")
        out[f"{kind}_n_other"] = pd.array([r["n_b"] if r else pd.NA for r in rows], dtype="Int64")
        out[f"{kind}_p_method"] = [r["p_method"] if r else "none" for r in rows]
        out[f"{kind}_id"] = pd.array([i if i is not None else pd.NA for i in ids], dtype="string")
        if alpha <= 1 - level:
            lo, hi = out[f"{kind}_diff_low"].to_numpy(), out[f"{kind}_diff_high"].to_numpy()
            bad = sig.fillna(False).to_numpy(dtype=bool) & (lo <= 0) & (hi >= 0)
            if bad.any():   # cannot happen (the intervals are the tests inverted): a bug, not a data problem
                raise RuntimeError(f"{kind}: {int(bad.sum())} significant comparison(s) with an interval "
                                   f"containing 0, e.g. {ids[int(np.flatnonzero(bad)[0])]}")
    return out
