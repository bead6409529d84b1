"""Comparisons for every cell of a long cell table: tests, inverted intervals, effect sizes, one verdict each.

:func:`compare_cells` adds, per comparison kind, the columns ``{kind}_diff,
_diff_low, _diff_high, _p, _p_adj, _significant, _welch_p, _bm_p, _prob_sup,
_mean_other, _n_other, _p_method, _id`` (``rmlib.stats.COMPARISON_COLUMNS``).

Kinds (:data:`COMPARISON_KINDS`)
--------------------------------
``rest``
    A respondent subgroup against everyone else in its group with a rating
    (``diff = cell - rest``; studentised permutation test). For a
    rating-level breakdown (providers' ratings of one department) the same
    providers are on both sides, so it is a *paired* comparison: each
    provider's rating of the department minus the mean of their ratings of the
    other departments, tested by studentised sign-flipping
    (``sign_flip_test``; ``diff`` = mean of those differences, ``n_other`` =
    providers with both, ``mean_other`` = their mean rating of the other
    departments). Not defined for whole-group rows.
``last_year``
    The cell against the same cell last year (``diff = this year - last
    year``), the two years treated as independent samples (respondent ids are
    pseudonymous within a year; overlap would make the test conservative).
    NaN when there is no last year's data.
``groups``
    The cell against the same attribute/category/question in the other group
    (``diff = this row's group - other group``): one test, shown from either
    side.

Methods
-------
Independent comparisons use the studentised permutation test (the
cluster-robust Welch t of the difference, respondents permuted; exact when
feasible; comparisons with the same numbers of respondents share one set of
random splits, seeded by ``seed`` and those numbers) and its inverted
interval, which excludes 0 exactly when p < 1 - level. When both sides have at
least ``large_n`` respondents the same statistic is referred to the t
distribution (``p_method = "welch_cluster_t"``, interval
:func:`rmlib.stats.diff_interval`); without variance on either side the
permutation test is kept. Welch / Brunner-Munzel p on respondent means and the
probability of superiority are reported alongside. Comparisons with fewer than
``max(min_cell_n, MIN_TEST_N)`` respondents on either side are not made.

One comparison, one verdict: every distinct comparison has an id
(``{kind}_id``, :func:`rmlib.stats.multiplicity.comparison_id`), is computed
once however many tables show it, and gets one adjusted p-value
(``correction``: ``"fdr_bh"``, Benjamini-Hochberg over all distinct
comparisons, default; ``"holm"``, Holm per family;
:mod:`rmlib.stats.multiplicity`). ``{kind}_significant`` means *adjusted* p <
``alpha`` (NA when not tested); since the adjusted p is at least the raw one,
a significant comparison's interval never contains 0 when ``alpha <= 1 -
level``.

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

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..constants import QUESTIONS
from ..scoring import cell_mean, overall_score
from ._base import ALL, DEFAULT_MIN_CELL_N, LARGE_SAMPLE_N, _check_level, _seed_for, _seed_int
from .multiplicity import CORRECTIONS, adjust_comparisons, comparison_id
from .tables import COMPARISON_KINDS, _check_consistency, _validate_cells, _Year
from .tests import PermutationResult, _assemble, _inverted, _perm_pvalues, _splits, sign_flip_test

Key = tuple[str, str, str]  # (group, attribute, category)

#: Fewest respondents (pairs) on each side for any test, whatever ``min_cell_n`` says: with 3, even the
#: guarded test gave 12 % false positives at a nominal 5 % (a subgroup whose answers spread five times as
#: widely as the rest's; ``benchmarks/README.md``), and from 5 every simulated case is within target.
MIN_TEST_N = 5


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
    s_o, c_o = gs[pos] - s, gc[pos] - c  # the same respondents' other ratings
    both = (c > 0) & (c_o > 0)
    own = np.where(both, cell_mean(s, c), np.nan)  # each respondent's cell means, where both exist
    oth = np.where(both, cell_mean(s_o, c_o), np.nan)
    if question == "overall":
        keep = both.any(1)
        own_m, oth_m = overall_score(own[keep]), overall_score(oth[keep])
        return own_m - oth_m, own_m, oth_m
    j = QUESTIONS.index(question)
    keep = both[:, j]
    return own[keep, j] - oth[keep, j], own[keep, j], oth[keep, j]


def _paired_result(d, own, oth, level, n_resamples, seed, exact_threshold, large_n) -> dict[str, Any]:
    r = sign_flip_test(
        d, n_resamples=n_resamples, seed=seed, exact_threshold=exact_threshold, level=level, large_n=large_n
    )
    method = {"exact": "sign_flip exact", "monte carlo": "sign_flip monte carlo", "t": "paired_t"}.get(r.method, "none")
    return {
        "diff": r.diff,
        "diff_low": r.low,
        "diff_high": r.high,
        "p": r.p,
        "p_method": method,
        "welch_p": np.nan,
        "bm_p": np.nan,
        "prob_sup": float(np.mean(d > 0) + 0.5 * np.mean(d == 0)) if len(d) else np.nan,
        "n_a": len(d),
        "n_b": len(d),
        "mean_a": float(np.mean(own)),
        "mean_b": float(np.mean(oth)),
    }


@dataclass(frozen=True)
class _Settings:
    """The test settings of one :func:`compare_cells` call (``base``: the integer base seed)."""

    level: float
    n_resamples: int
    exact_threshold: int
    base: int
    min_cell_n: int
    df_method: str
    large_n: int | None


def compare_cells(
    cells: pd.DataFrame,
    resp: pd.DataFrame,
    memberships: pd.DataFrame | None = None,
    *,
    kinds: Iterable[str] = COMPARISON_KINDS,
    resp_last: pd.DataFrame | None = None,
    memberships_last: pd.DataFrame | None = None,
    correction: str = "fdr_bh",
    alpha: float = 0.05,
    level: float = 0.95,
    n_resamples: int = 9999,
    exact_threshold: int = 20000,
    seed=0,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
    df_method: str = "satterthwaite",
    multi_select_rule: str = "solely_one",
    check: str = "raise",
    large_n: int | None = LARGE_SAMPLE_N,
) -> pd.DataFrame:
    """Add comparison columns (tests, intervals, effect sizes) to a cell table (kinds and methods: module notes).

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
        Level for ``*_significant`` (on the adjusted p-value).
    level : float
        Confidence level of the difference intervals.
    n_resamples, exact_threshold, seed
        Permutation settings (see :func:`permutation_test`).
    min_cell_n : int
        Smallest number of respondents on each side (pairs, for paired
        comparisons) for a test; never below :data:`MIN_TEST_N`.
    df_method : {"satterthwaite", "clusters"}
        Degrees of freedom of the large-sample Welch cluster t.
    multi_select_rule, check
        As in :func:`add_intervals`.
    large_n : int or None
        Smallest number of respondents on *each* side (pairs) for the t
        reference to replace resampling (None: always resample).

    Returns
    -------
    DataFrame
        A copy of ``cells`` with the columns added (same index).
    """
    kinds = list(kinds)
    for k in kinds:
        if k not in COMPARISON_KINDS:
            raise ValueError(f"kinds must be among {COMPARISON_KINDS}; got {k!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}")
    _check_level(level)
    _validate_cells(cells)
    year = _Year(resp, memberships, multi_select_rule)
    _check_consistency(cells, year, check)
    last = None
    if "last_year" in kinds and resp_last is not None:
        last = _Year(resp_last, memberships_last, multi_select_rule)
        if "n_last" in cells.columns:
            _check_consistency(cells, last, check, mean_col="mean_last", n_col="n_last", what="last year")
    keys = cells[["group", "attribute", "category", "question"]].astype(str)
    settings = _Settings(level, n_resamples, exact_threshold, _seed_int(seed), min_cell_n, df_method, large_n)
    wanted = _wanted(keys)
    per_kind = {kind: _compare_kind(kind, year, last, wanted, keys, settings) for kind in kinds}
    return _with_columns(cells, kinds, per_kind, correction, alpha, level)


def _wanted(keys: pd.DataFrame) -> dict[Key, list[str]]:
    """One block of questions per (group, attribute, category), in the order the cells list them."""
    wanted: dict[Key, list[str]] = {}
    for g, a, c, q in keys.itertuples(index=False):
        lst = wanted.setdefault((g, a, c), [])
        if q not in lst:
            lst.append(q)
    return wanted


def _todo(kind: str, wanted: dict[Key, list[str]], groups_present: list[str]) -> tuple[dict, dict]:
    """What to compute for ``kind``: key -> questions, and the keys shown flipped.

    For ``groups`` each pair is computed once, from the alphabetically first
    group's side, and flipped for the other group's rows.
    """
    todo: dict[Key, list[str]] = {}
    flip: dict[Key, Key] = {}
    for (g, a, c), qs in wanted.items():
        key = (g, a, c)
        if kind == "groups":
            others = [o for o in groups_present if o != g]
            if len(others) == 1 and others[0] < g:
                key = (others[0], a, c)
                flip[(g, a, c)] = key
        lst = todo.setdefault(key, [])
        lst.extend(q for q in qs if q not in lst)
    return todo, flip


def _paired_block(year: _Year, key: Key, qs: list[str], st: _Settings) -> dict[str, Any]:
    """``rest`` for a rating-level cell: the same respondents' ratings of this category against their others."""
    out = {}
    for q in qs:
        pr = _paired(year, *key, q)
        if pr is None or len(pr[0]) < max(st.min_cell_n, MIN_TEST_N):
            out[q] = None
            continue
        out[q] = _paired_result(
            *pr, st.level, st.n_resamples, _seed_for(st.base, "flip", *key, q), st.exact_threshold, st.large_n
        )
    return out


def _other_side(kind: str, year: _Year, last: _Year | None, key: Key, groups_present: list[str]):
    """(S, C) of the set the cell is compared with: the rest of its group, last year's cell, or the other group."""
    g, a, c = key
    if kind == "rest":
        return year.cell(g, a, c, rest=True) if a != ALL else None
    if kind == "last_year":
        return last.cell(g, a, c) if last is not None else None
    others = [o for o in groups_present if o != g]
    return year.cell(others[0], a, c) if len(others) == 1 else None


def _compare_kind(
    kind: str, year: _Year, last: _Year | None, wanted: dict[Key, list[str]], keys: pd.DataFrame, st: _Settings
) -> tuple[list, list]:
    """Every comparison of one kind: (result dict or None, comparison id or None) per row of the cells."""
    groups_present = sorted(set(year.groups))
    todo, flip = _todo(kind, wanted, groups_present)
    res: dict[Key, dict] = {}
    jobs = []
    for key, qs in todo.items():
        if kind == "rest" and key[1] in year.rating_attrs:
            res[key] = _paired_block(year, key, qs, st)
            continue
        A, B = year.cell(*key), _other_side(kind, year, last, key, groups_present)
        if A is None or B is None:
            res[key] = {}
            continue
        skipped, block_jobs = _plan_block(A, B, qs, max(st.min_cell_n, MIN_TEST_N))
        res[key] = dict(skipped)
        jobs.extend((key, *job) for job in block_jobs)
    _run_jobs(jobs, res, st)

    def result(g, a, c, q):
        if (g, a, c) in flip:
            r = res.get(flip[(g, a, c)], {}).get(q)
            return _flipped(r) if r else None
        return res.get((g, a, c), {}).get(q)

    rows = [result(g, a, c, q) for g, a, c, q in keys.itertuples(index=False)]
    ids = [
        comparison_id(kind, g, a, c, q) if r else None for (g, a, c, q), r in zip(keys.itertuples(index=False), rows)
    ]
    return rows, ids


def _run_jobs(jobs: list, res: dict[Key, dict], st: _Settings) -> None:
    """Test every independent comparison planned, into ``res[key][question]``.

    Jobs with the same numbers of respondents share one set of splits (drawn
    from a stream seeded by seed, n and n_a): each p-value is still an exact
    or Monte Carlo permutation p-value; sharing only correlates their Monte
    Carlo errors and saves most of the time.
    """
    sizes = lambda j: (len(j[2][0]) + len(j[3][0]), len(j[2][0]))  # noqa: E731  (n, n_a)
    jobs.sort(key=sizes)
    for (n, n_a), grp in itertools.groupby(jobs, key=sizes):
        large = st.large_n is not None and min(n_a, n - n_a) >= st.large_n
        splits = None
        for key, qs, (sA, cA), (sB, cB), col_sets in grp:
            perm = None
            for i, q in enumerate(qs):
                # every row of the job has a rating in this statistic's columns (_plan_block)
                cols = slice(col_sets[i][0], col_sets[i][-1] + 1)
                sa, ca, sb, cb = sA[:, cols], cA[:, cols], sB[:, cols], cB[:, cols]
                r = _assemble(sa, ca, sb, cb, None, st.level, st.df_method) if large else None
                if r is None or r["p_method"] == "none":
                    # the permutation test: below the large-sample size, or where the t test is
                    # undefined (no variance on either side)
                    if perm is None:
                        splits = splits or _splits(
                            n, n_a, st.n_resamples, np.random.default_rng([st.base, n, n_a]), st.exact_threshold
                        )
                        perm = _perm_pvalues(
                            np.vstack([sA, sB]), np.vstack([cA, cB]), n_a, col_sets, splits, True, st.level
                        )
                    d, p, se, crit = perm[0][i], perm[1][i], perm[2][i], perm[3][i]
                    low, high = _inverted(d, se, crit, p, st.level)
                    pr = PermutationResult(
                        float(d),
                        float(p),
                        splits.method,
                        n_a,
                        n - n_a,
                        splits.n_perm,
                        low,
                        high,
                        float(se),
                        float(crit),
                    )
                    r = _assemble(sa, ca, sb, cb, pr, st.level, st.df_method)
                res[key][q] = r


def _with_columns(
    cells: pd.DataFrame,
    kinds: list[str],
    per_kind: dict[str, tuple[list, list]],
    correction: str,
    alpha: float,
    level: float,
) -> pd.DataFrame:
    """The cells with every kind's columns; every distinct comparison of every kind adjusted once."""
    all_ids = [i for k in kinds for i in per_kind[k][1]]
    all_p = [r["p"] if r else np.nan for k in kinds for r in per_kind[k][0]]
    adj = adjust_comparisons(all_ids, all_p, correction)
    adj_map = dict(zip(adj["comparison"], adj["p_adj"]))
    out = cells.copy()
    for kind in kinds:
        rows, ids = per_kind[kind]

        def get(f, rows=rows):
            return np.array([r[f] if r else np.nan for r in rows], dtype=float)

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
            _check_verdicts(out, kind, sig, ids)
    return out


def _check_verdicts(out: pd.DataFrame, kind: str, sig, ids: list) -> None:
    """A significant comparison's interval must exclude 0 (the intervals are the tests inverted)."""
    lo, hi = out[f"{kind}_diff_low"].to_numpy(), out[f"{kind}_diff_high"].to_numpy()
    bad = sig.fillna(False).to_numpy(dtype=bool) & (lo <= 0) & (hi >= 0)
    if bad.any():  # cannot happen: a bug, not a data problem
        raise RuntimeError(
            f"{kind}: {int(bad.sum())} significant comparison(s) with an interval "
            f"containing 0, e.g. {ids[int(np.flatnonzero(bad)[0])]}"
        )
