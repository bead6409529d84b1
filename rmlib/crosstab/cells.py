"""The computation behind every cell table: a year's ratings reduced once, summed per category.

:func:`by_attribute` is the one generic operation (cell means of the ratings
of the respondents in each category of an attribute) every report table is
built from; the cell mean and the overall score are those of
:mod:`rmlib.scoring`, the multi-select rule its :func:`~rmlib.scoring.select_members`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .._coding import text_codes
from ..constants import ALL_ATTRIBUTE, ALL_CATEGORY, CATEGORY_ORDER, DEPARTMENTS, QUESTIONS, RATED_DEPARTMENT
from ..dataset import YearData
from ..scoring import cell_mean, check_multi_select_rule, overall_score, select_members


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Department id -> label: the given labels, falling back to the 2018 ones for ids they lack."""
    out = dict(DEPARTMENTS)
    if labels:
        out.update({str(k): str(v) for k, v in labels.items()})
    return out


def order_categories(frame: pd.DataFrame, attribute: str, order: list[str] | None = None) -> pd.DataFrame:
    """Sort rows by group, the report's category order (``order`` or CATEGORY_ORDER), then question order."""
    known = list(order) if order is not None else CATEGORY_ORDER.get(attribute, [])
    extra = sorted(set(frame["category"]) - set(known) - {ALL_CATEGORY})
    cat_order = {c: i for i, c in enumerate([ALL_CATEGORY, *known, *extra])}
    q_order = {q: i for i, q in enumerate([*QUESTIONS, "overall"])}
    key = frame["category"].map(cat_order) * 100 + frame["question"].map(q_order)
    return (
        frame.assign(_k=key.to_numpy())
        .sort_values(["group", "_k"], kind="stable")
        .drop(columns="_k")
        .reset_index(drop=True)
    )


def _empty_cells(attribute: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            c: pd.Series(dtype=t)
            for c, t in (
                ("group", object),
                ("category", object),
                ("question", object),
                ("mean", float),
                ("n", np.int64),
                ("ratings", np.int64),
                ("no_contact", np.int64),
            )
        }
    )
    out.insert(1, "attribute", pd.Series(dtype=object))
    return out


# ---------------------------------------------------------------------------
# the computation behind every cell table
# ---------------------------------------------------------------------------
# A year's ratings are reduced once to arrays indexed respondent x group x category x question
# (sum of valid scores, their number, 'no contact' answers, and whether the respondent has any row
# there): one pass over the ratings, with integer codes instead of the text of ids and labels. Every
# table of that year is then a sum of those arrays over the respondents in each category, so a run
# of many tables reads the (millions of) ratings once per year, not once per table. Codes follow the
# sorted text of ids and labels, so cells come out sorted by group, category and question (then put
# in the report's order); scores are whole numbers, so the sums are exact whatever the order.
def _used(codes: np.ndarray, names: np.ndarray, ok: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Drop the names no kept row uses (e.g. unused categories) and renumber the codes to match."""
    used = np.bincount(codes if ok is None else codes[ok], minlength=len(names)) > 0
    if used.all():
        return codes, names
    remap = np.append(np.where(used, np.cumsum(used) - 1, -1), -1)
    return remap[codes], names[used]


@dataclass(frozen=True)
class _Cube:
    """One year's ratings summed per respondent x group x category x question (see above)."""

    ids: pd.Index  # respondent ids (sorted) -> index on axis 0
    groups: np.ndarray  # group names (sorted), axis 1
    categories: np.ndarray  # axis 2: ["All"], or the rated departments (ids, sorted)
    labels: np.ndarray  # the category label of each entry of axis 2 (a department's label)
    questions: np.ndarray  # question names (sorted), axis 3
    sums: np.ndarray  # float, sum of valid scores
    counts: np.ndarray  # int, number of valid scores
    no_contact: np.ndarray  # int, 'no contact' answers
    present: np.ndarray  # bool, the respondent has at least one rating row there

    @property
    def empty(self) -> bool:
        return not self.present.any()


def _cube(ratings: pd.DataFrame, departments: bool = False, labels: Mapping[str, str] | None = None) -> _Cube:
    """Reduce ratings to a :class:`_Cube`: by group and question, or (``departments``) by rated department label."""
    r = ratings
    rc, ids = text_codes(r["respondent_id"])
    gc, groups = text_codes(r["group"])
    qc, questions = text_codes(r["question"])
    ok = (rc >= 0) & (gc >= 0) & (qc >= 0)
    if departments:  # rows with a rated department only
        kc, cats = text_codes(r["department"])
        ok &= (kc >= 0) & ~np.append(cats == "", False)[kc]  # "" (officers) and missing: not a department
    else:
        cats = np.array([ALL_CATEGORY], dtype=object)
        kc = np.zeros(len(r), dtype=np.int64)
    keep = None if ok.all() else ok
    if keep is not None or isinstance(r["respondent_id"].dtype, pd.CategoricalDtype):
        rc, ids = _used(rc, ids, keep)  # (factorized codes of every row are all used)
    gc, groups = _used(gc, groups, keep)
    qc, questions = _used(qc, questions, keep)
    if departments or keep is not None:
        kc, cats = _used(kc, cats, keep)
    labels_ = np.array([_labels(labels).get(d, d) for d in cats], dtype=object) if departments else cats
    shape = (len(ids), len(groups), len(cats), len(questions))
    size = int(np.prod(shape))
    key = ((rc * shape[1] + gc) * shape[2] + kc) * shape[3] + qc
    score = r["score"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(score)
    nc = r["no_contact"].fillna(False).to_numpy(dtype=bool)
    if keep is not None:
        valid = valid & ok
        nc = nc & ok
    kv = key[valid]
    sums = np.bincount(kv, weights=score[valid], minlength=size).reshape(shape)
    counts = np.bincount(kv, minlength=size).reshape(shape)
    no_contact = np.bincount(key[nc], minlength=size).reshape(shape)
    present = (np.bincount(key if keep is None else key[keep], minlength=size) > 0).reshape(shape)
    return _Cube(pd.Index(ids), groups, cats, labels_, questions, sums, counts, no_contact, present)


def _group_slices(
    cube: _Cube, groups: tuple[str, ...] | None, by_members: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sums, counts, no_contact, present, group names) of the cube restricted to ``groups`` (None: all).

    When regrouping by members, the cube has one category, which is dropped:
    the arrays are respondent x group x question.
    """
    g_keep = (
        np.ones(len(cube.groups), dtype=bool)
        if groups is None
        else np.isin(cube.groups.astype(str), np.asarray(list(groups), dtype=object).astype(str))
    )
    S, C, NC, P = (
        a[:, g_keep, 0, :] if by_members else a[:, g_keep]
        for a in (cube.sums, cube.counts, cube.no_contact, cube.present)
    )
    return S, C, NC, P, cube.groups[g_keep]


def _member_totals(cube: _Cube, members: pd.DataFrame, S, C, NC, P) -> tuple:
    """(categories, sums, counts, no_contact, present, n, n_any), summed over each category's respondents.

    ``members`` holds (respondent, category) pairs; respondents not in the cube
    are ignored. The arrays are group x category x question (``n_any``: group x category).
    """
    has = C > 0
    rpos = cube.ids.get_indexer(members["respondent_id"].astype(str))
    ccode, cats = pd.factorize(members["category"].astype(str), sort=True)
    keep = rpos >= 0
    rpos, ccode = rpos[keep], ccode[keep]
    order_ = np.lexsort((rpos, ccode))
    rpos, ccode = rpos[order_], ccode[order_]
    used, starts = np.unique(ccode, return_index=True)
    cats = np.asarray(cats, dtype=object)[used]

    def agg(a, reduce_any=False):
        if not len(rpos):
            return np.zeros((0, *a.shape[1:]), dtype=a.dtype)
        out = np.add.reduceat(a[rpos].astype(np.int64) if a.dtype == bool else a[rpos], starts, axis=0)
        return out > 0 if reduce_any else out

    s, c, nc, pr = agg(S), agg(C), agg(NC), agg(P, True)  # category x group x question
    n, n_any = agg(has), agg(has.any(axis=-1))  # category x group (x question)
    s, c, nc, pr, n = (np.moveaxis(a, 0, 1) for a in (s, c, nc, pr, n))  # group x category x question
    return cats, s, c, nc, pr, n, n_any.T


def _label_totals(cube: _Cube, S, C, NC, P) -> tuple:
    """(categories, sums, counts, no_contact, present, n, n_any) with the cube's labels as the categories.

    Departments sharing a label form one category: each department's
    respondents are counted in the question's n, each respondent once in the
    overall n. The arrays are group x category x question (``n_any``: group x category).
    """
    has = C > 0
    lcode, cats = pd.factorize(pd.Series(cube.labels, dtype=object).astype(str), sort=True)
    cats = np.asarray(cats, dtype=object)
    korder = np.argsort(lcode, kind="stable")
    _, kstart = np.unique(lcode[korder], return_index=True)

    def by_label(a, axis):
        a = np.take(a, korder, axis=axis)
        return np.add.reduceat(a.astype(np.int64) if a.dtype == bool else a, kstart, axis=axis)

    s, c, nc = (by_label(a.sum(0), 1) for a in (S, C, NC))  # group x category x question
    pr = by_label(P.any(0), 1) > 0
    n = by_label(has.sum(0), 1)
    n_any = (by_label(has.any(-1), 2) > 0).sum(0)  # respondents x group x category -> g x c
    return cats, s, c, nc, pr, n, n_any


def _question_rows(gnames, cats, qnames, s, c, nc, pr, n) -> pd.DataFrame:
    """One row per present (group, category, question) cell, in that lexicographic order."""
    gi, ki, qi = np.nonzero(pr)  # lexicographic: group, category, question
    return pd.DataFrame(
        {
            "group": gnames[gi],
            "category": cats[ki],
            "question": qnames[qi],
            "mean": cell_mean(s[gi, ki, qi], c[gi, ki, qi]),
            "n": n[gi, ki, qi],
            "ratings": c[gi, ki, qi],
            "no_contact": nc[gi, ki, qi],
        }
    )


def _overall_rows(gnames, cats, qnames, s, c, nc, pr, n_any) -> pd.DataFrame:
    """The overall row of each (group, category) with a cell on one of the eight questions."""
    in_q = np.isin(qnames.astype(str), list(QUESTIONS))
    rows = []
    for g, k in zip(*np.nonzero((pr & in_q).any(-1))):
        qs = np.flatnonzero(pr[g, k] & in_q)
        rows.append(
            (
                gnames[g],
                cats[k],
                "overall",
                overall_score(cell_mean(s[g, k, qs], c[g, k, qs])),
                int(n_any[g, k]),
                int(c[g, k, qs].sum()),
                int(nc[g, k, qs].sum()),
            )
        )
    return pd.DataFrame(rows, columns=["group", "category", "question", "mean", "n", "ratings", "no_contact"])


def _cells(
    cube: _Cube,
    attribute: str,
    members: pd.DataFrame | None = None,
    groups: tuple[str, ...] | None = None,
    order: list[str] | None = None,
) -> pd.DataFrame:
    """The cell table (questions and overall) of a cube, per category of the cube or of ``members``.

    ``members`` (respondent_id, category; :func:`rmlib.scoring.select_members`) regroups
    the respondents of a one-category cube; otherwise the cube's own
    categories are used, summing over respondents.
    """
    if cube.empty:
        return _empty_cells(attribute)
    S, C, NC, P, gnames = _group_slices(cube, groups, members is not None)
    if members is not None:
        cats, s, c, nc, pr, n, n_any = _member_totals(cube, members, S, C, NC, P)
    elif not len(cube.labels):
        return _empty_cells(attribute)
    else:
        cats, s, c, nc, pr, n, n_any = _label_totals(cube, S, C, NC, P)
    if not pr.size or not pr.any():
        return _empty_cells(attribute)
    qnames = cube.questions
    cell = _question_rows(gnames, cats, qnames, s, c, nc, pr, n)
    ov = _overall_rows(gnames, cats, qnames, s, c, nc, pr, n_any)
    out = pd.concat([cell, ov], ignore_index=True)
    for col in ("group", "category", "question"):
        out[col] = out[col].astype(object).astype(str)
    out = out.astype({"mean": float, "n": np.int64, "ratings": np.int64, "no_contact": np.int64})
    out.insert(1, "attribute", attribute)
    return order_categories(out, attribute, order)


def _year_cells(
    cube: _Cube,
    dep_cube: _Cube | None,
    memberships: pd.DataFrame | None,
    attribute: str,
    multi_select_rule: str,
    groups: tuple[str, ...] | None,
    labels: Mapping[str, str] | None,
    cache: dict | None = None,
) -> pd.DataFrame:
    """:func:`by_attribute` from cubes already built (``dep_cube`` for ``rated_department``).

    ``cache`` (a dict living for one call of a public function) keeps each
    attribute's :func:`select_members` for the other tables of that call.
    """
    if attribute == RATED_DEPARTMENT:
        lab = _labels(labels)
        return _cells(dep_cube, attribute, groups=groups, order=[lab[d] for d in DEPARTMENTS])
    if attribute == ALL_ATTRIBUTE:
        return _cells(cube, attribute, groups=groups)
    if memberships is None:
        raise ValueError(f"by_attribute: attribute {attribute!r} needs the memberships table")
    if cache is None:
        cache = {}
    key = ("members", id(memberships), attribute, multi_select_rule)
    if key not in cache:
        cache[key] = select_members(memberships, attribute, multi_select_rule)
    return _cells(cube, attribute, members=cache[key], groups=groups)


def by_attribute(
    ratings: pd.DataFrame,
    memberships: pd.DataFrame | None,
    attribute: str,
    multi_select_rule: str = "solely_one",
    groups: tuple[str, ...] | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Cell table of question means (and the overall) per category of ``attribute``.

    Parameters
    ----------
    ratings, memberships : DataFrame
        The processed tables (``memberships`` may be None for ``"all"`` and
        ``"rated_department"``).
    attribute : str
        ``"all"`` gives the whole group (category ``"All"``);
        ``"rated_department"`` breaks providers' ratings down by the ECC
        department they rated; anything else is an attribute of
        ``memberships`` (quadrant, role, ...).
    multi_select_rule : {"solely_one", "any"}
        The multi-select rule (:func:`rmlib.scoring.select_members`).
    groups : tuple of str, optional
        Keep only these groups.
    labels : mapping, optional
        Department id -> label for ``rated_department`` categories (default:
        the 2018 labels). Ids are stable across years, so two years built
        with the same labels line up whatever each survey called them.

    Returns
    -------
    DataFrame
        Long form: ``group, attribute, category, question, mean, n, ratings,
        no_contact`` (no ``table`` and no change columns: see
        :func:`build_table`).
    """
    check_multi_select_rule(multi_select_rule)
    dep = attribute == RATED_DEPARTMENT
    cube = _cube(ratings, departments=dep, labels=labels)
    return _year_cells(
        None if dep else cube, cube if dep else None, memberships, attribute, multi_select_rule, groups, labels
    )


def _year_cubes(data: YearData, attribute: str, labels, cubes: dict) -> tuple[_Cube | None, _Cube | None]:
    """The cube(s) ``attribute`` needs for one year, built once per year and kept in ``cubes`` (one call's scope)."""
    dep = attribute == RATED_DEPARTMENT
    key = (id(data), dep)
    if key not in cubes:
        cubes[key] = _cube(data.ratings, departments=dep, labels=labels)
    return (None, cubes[key]) if dep else (cubes[key], None)
