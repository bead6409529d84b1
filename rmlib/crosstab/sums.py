"""Respondent-level sums for the intervals and tests, and the providers' 'no contact' table.

Both are summed on integer codes (no sort, no string key per row): a national
survey has ~10 M rating rows (benchmarks/README.md).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .._coding import text_codes
from ..constants import ALL_ATTRIBUTE, ALL_CATEGORY, DEPARTMENTS, QUESTIONS, RATED_DEPARTMENT
from .cells import _labels


def resampling_sums(ratings: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Respondent sums for ``rmlib.stats`` covering every report table, rated departments included.

    Whole-group rows (``attribute == "all"``: per respondent, group and
    question, the sum of valid scores, their count and 'no contact'
    answers) plus one row per provider, question and rated department
    (``attribute == "rated_department"``, ``category`` = the department label
    used in the tables). Pass it as ``resp`` to ``stats.add_intervals`` / ``compare_cells``:
    without the rated-department rows their consistency check fails for
    ``provider_by_rated_department``.

    Summed on integer codes (:func:`_sum_by`, no sort, no string key) and
    returned with categorical text columns: a national survey has ~10 M
    rows here, and string keys cost ~10 s and ~3 GB more (benchmarks/README.md).
    Rows whose respondent, group, question (or department) is missing are
    left out, as a groupby leaves them out.
    """
    lab = _labels(labels)
    rc, rtext = text_codes(ratings["respondent_id"])
    gc, gtext = _ordered_codes(ratings["group"])
    qc, qtext = _ordered_codes(ratings["question"])
    dc, dtext = text_codes(ratings["department"])
    score = ratings["score"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(score)
    weights = {
        "s": np.where(valid, score, 0.0),
        "c": valid,
        "nc": ratings["no_contact"].fillna(False).to_numpy(dtype=bool),
    }
    del score, valid
    nG, nQ, nD = len(gtext), len(qtext), len(dtext)
    ok = (rc >= 0) & (gc >= 0) & (qc >= 0)
    # whole groups: per (respondent, group, question)
    r_t, sub, tot = _sum_by(rc, gc * nQ + qc, nG * nQ, ok, weights)
    g_t, q_t = np.divmod(sub, nQ)
    # rated departments (not "" and not missing): per (respondent, group, department, question)
    rated = ok & (dc >= 0) & np.append(dtext != "", False)[dc]
    r_d, sub, dep = _sum_by(rc, (gc * nD + dc) * nQ + qc, nG * nD * nQ, rated, weights)
    g_d, sub = np.divmod(sub, nD * nQ)
    d_d, q_d = np.divmod(sub, nQ)
    dlabels = np.asarray([lab.get(d, d) for d in dtext], dtype=object)
    lcode, ltext = pd.factorize(pd.Series(dlabels, dtype=object), sort=True)
    names = list(dict.fromkeys([ALL_CATEGORY, *ltext]))  # a department labelled "All" shares the name
    label_pos = np.array([names.index(t) for t in ltext], dtype=np.int64)
    n_tot = len(r_t)
    cats = np.concatenate([np.full(n_tot, 0), label_pos[np.asarray(lcode, dtype=np.int64)[d_d]]])

    def _cat(codes, names) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))

    out = pd.DataFrame(
        {
            "respondent_id": _cat(np.concatenate([r_t, r_d]), rtext),
            "group": _cat(np.concatenate([g_t, g_d]), gtext),
            "question": _cat(np.concatenate([q_t, q_d]), qtext),
            "attribute": _cat(np.repeat([0, 1], [n_tot, len(r_d)]), [ALL_ATTRIBUTE, RATED_DEPARTMENT]),
            "category": _cat(cats, names),
            "sum": np.concatenate([tot["s"], dep["s"]]).astype(float),
            "count": np.concatenate([tot["c"], dep["c"]]).astype(np.int64),
            "no_contact": np.concatenate([tot["nc"], dep["nc"]]).astype(np.int64),
        }
    )
    out["category"] = out["category"].cat.remove_unused_categories()
    return out


def _sum_by(
    major: np.ndarray, minor: np.ndarray, n_minor: int, rows: np.ndarray, weights: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Sum ``weights`` over ``rows`` per observed (major, minor) pair, pairs sorted.

    ``major`` (e.g. respondent codes) and ``minor`` (a code in ``range(n_minor)``)
    are integer codes. The minor codes seen are renumbered densely, then each
    pair is one bin of ``np.bincount``: linear time, no sort, where a groupby on
    string keys of ~10 M rows takes seconds. Falls back to ``np.unique`` when the
    bins would far outnumber the rows. Returns (major, minor, sums per weight).
    """
    mj, mn = major[rows], minor[rows]
    if not len(mj):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, {k: np.empty(0) for k in weights}
    seen = np.bincount(mn, minlength=n_minor) > 0
    dense = np.cumsum(seen) - 1  # minor code -> 0..L-1 among those seen
    L = int(seen.sum())
    key = mj.astype(np.int64) * L + dense[mn]
    size = (int(mj.max()) + 1) * L
    if size <= max(4 * len(key), 1 << 20):
        present = np.flatnonzero(np.bincount(key, minlength=size))
        inv, nbins = None, size
    else:
        present, inv = np.unique(key, return_inverse=True)
        key, nbins = inv.reshape(-1), len(present)
    sums = {k: np.bincount(key, weights=v[rows], minlength=nbins) for k, v in weights.items()}
    if inv is None:
        sums = {k: v[present] for k, v in sums.items()}
    out_major, lo = np.divmod(present, L)
    return out_major, np.flatnonzero(seen)[lo], sums


def _ordered_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`text_codes`, but keeping a categorical's own category order (e.g. questions as asked)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return (
            values.cat.codes.to_numpy().astype(np.int64),
            np.asarray(values.cat.categories.astype(str), dtype=object),
        )
    return text_codes(values)


def no_contact_table(ratings: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Providers' 'no contact' answers by ECC department and question, with the average per question.

    The 2016 review reported the average number of 'no contact' answers per
    question for each department (e.g. Procurement 12) and which questions
    drew the most (the column totals). Same counts as the ``no_contact``
    column of ``provider_by_rated_department``; this is its display form.
    """
    lab = _labels(labels)
    # providers' rows with a rated department, summed per department label x question on integer codes
    gc, gtext = text_codes(ratings["group"])
    dc, dtext = text_codes(ratings["department"])
    qc, qtext = text_codes(ratings["question"])
    sel = np.append(gtext == "provider", False)[gc] & np.append(dtext != "", False)[dc] & (qc >= 0)
    nc = pd.Series(ratings["no_contact"].to_numpy()[sel]).astype(int).to_numpy()
    lcode, ltext = pd.factorize(pd.Series([lab.get(d, d) for d in dtext], dtype=object))
    lc = np.asarray(lcode, dtype=np.int64)[dc[sel]]
    nl, nq = len(ltext), len(qtext)
    sums = np.bincount(lc * nq + qc[sel], weights=nc, minlength=nl * nq).reshape(nl, nq)
    seen = np.bincount(lc, minlength=nl) > 0
    row_of = {t: i for i, t in enumerate(ltext) if seen[i]}
    col_of = {t: j for j, t in enumerate(qtext)}
    rows = [lab[d] for d in DEPARTMENTS if lab[d] in row_of]
    counts = pd.DataFrame(
        [[int(sums[row_of[r], col_of[q]]) if q in col_of else 0 for q in QUESTIONS] for r in rows],
        index=pd.Index(rows, name="department", dtype=str),
        columns=list(QUESTIONS),
        dtype=int,
    )
    counts["mean_per_question"] = counts[list(QUESTIONS)].mean(axis=1)
    counts.index.name = "department"
    counts.columns.name = None
    return counts.reset_index()
