"""Every breakdown table of the annual report, in long (tidy) form; the trend; the caveats.

One generic operation - cell means of the ratings of the respondents in each
category of an attribute (:func:`by_attribute`) - produces every table;
:data:`REPORT_TABLES` lists them with the chart titles they serve in the 2018
report and the analyses of the 2016 review (section 10) they reproduce, and
:data:`OTHER_OUTPUTS` the outputs that are not cell tables (headline, responses
by year, trend, no-contact table, maturity, caveats). ``docs/report_tables.md``
maps each title to its table id, file and function.

Multi-select attributes (quadrant, service area) follow ``rule``:
``solely_one`` counts a respondent only if they chose exactly one category
(as the 2018 report did), ``any`` counts them in every category they chose.

The researcher's API::

    import rmlib
    this, last = rmlib.load_year(2018), rmlib.load_year(2017)
    rmlib.crosstab.build_table(rmlib.crosstab.TABLE_INDEX["officer_by_quadrant"], this, last)
    tables = rmlib.crosstab.build_tables(this, last)           # every report table, long form
    rmlib.crosstab.wide(tables["officer_by_quadrant"])          # display form
    rmlib.crosstab.trend(rmlib.dataset.load_years())            # every processed year
    rmlib.crosstab.caveats(tables, this, last)                  # generated caveats
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._coding import text_codes
from .constants import (ALL_ATTRIBUTE, ALL_CATEGORY, ATTRIBUTE_LABEL, CATEGORY_ORDER, DEPARTMENTS, GROUP_LABEL,
                        QUESTIONS, RATED_DEPARTMENT)
from .dataset import YearData, department_labels
from .scoring import (MULTI_SELECT_RULES, add_change, cell_mean, change_pts, overall_score, pct_change,
                      respondent_sums)

RULES = MULTI_SELECT_RULES
CELL_KEYS = ["group", "attribute", "category", "question"]
#: Columns of every long cell table (docs/contracts.md), in order.
CELL_COLUMNS = ["table", "group", "attribute", "category", "question", "mean", "n", "ratings", "no_contact",
                "mean_last", "n_last", "change_pts", "change_pct"]
#: Columns of :func:`trend`.
TREND_COLUMNS = ["table", "year", "group", "attribute", "category", "question", "mean", "n", "ratings", "no_contact",
                 "year_prev", "mean_prev", "n_prev", "change_pts", "change_pct"]
#: Columns of :func:`caveats`.
CAVEAT_COLUMNS = ["table", "group", "attribute", "category", "kind", "text"]
#: Kinds of caveat :func:`caveats` generates, in the order it lists them.
CAVEAT_KINDS = ("no_comparison", "compare_year_gap", "year_missing", "multi_select", "relabelled", "not_asked",
                "no_data_last_year", "dropped_category", "single_respondent", "single_respondent_last_year")


@dataclass(frozen=True)
class TableSpec:
    """One report table: which groups, broken down by which attribute.

    ``questions`` limits the rows to some questions (``None``: the eight and
    the overall). ``report_titles`` are the chart titles of the 2018 report the
    table serves (exactly as printed: each breakdown has an "Average score"
    chart, from ``mean``, and a "% Score change ... vs 2017" chart, from
    ``change_pct``); ``review_2016`` the analyses of the 2016 review it
    reproduces.
    """

    id: str
    title: str
    groups: tuple[str, ...]
    attribute: str  # "all" for by-question tables; "rated_department" for providers' department ratings
    questions: tuple[str, ...] | None = None
    report_titles: tuple[str, ...] = ()
    review_2016: tuple[str, ...] = ()


REPORT_TABLES: tuple[TableSpec, ...] = (
    TableSpec("officer_by_question", "Officers: average score by question, vs last year", ("officer",), "all",
              report_titles=("Average Score by Question", "Survey Comparison by previous results"),
              review_2016=("Fig 8 (ECC column)", "10.7 b, f: lowest-scoring questions for officers")),
    TableSpec("officer_by_quadrant", "Officers: average score by question and quadrant", ("officer",), "quadrant",
              report_titles=("Average Score by question and quadrant",
                             "% Score Comparison by question and quadrant vs 2017"),
              review_2016=("10.9: officers covering the North lowest; South and Mid 2 responses",)),
    TableSpec("officer_by_role", "Officers: average score by question and role", ("officer",), "role",
              report_titles=("Average Score by question and role", "% Score Comparison by question and role vs 2017"),
              review_2016=("10.7 a, c, d: the more senior the officer, the lower the score",)),
    TableSpec("officer_by_department", "Officers: average score by question and department", ("officer",),
              "department",
              report_titles=("Average Score by question and Department",
                             "% Score Comparison by question and Department vs 2017"),
              review_2016=("10.7 e: Commercial most positive, then Adult Operations, then Commissioning",)),
    TableSpec("officer_by_service_area", "Officers: average score by service area and question", ("officer",),
              "service_area",
              report_titles=("Average score by Service Area and question",
                             "% Score Comparison by question and Service Area vs 2017")),
    TableSpec("provider_by_question", "Providers: score by question and survey year", ("provider",), "all",
              report_titles=("Score comparison by question and survey year",),
              review_2016=("Fig 7: Provider Responses to RM Questionnaire",
                           "10.6: highest and lowest scoring questions")),
    TableSpec("provider_by_service_area", "Providers: average score by question and service area", ("provider",),
              "service_area",
              report_titles=("Average score by question and Service Area",
                             "% Score change by question and Service Area\u2013 vs 2017 results")),
    TableSpec("provider_by_quadrant", "Providers: average score by question and quadrant", ("provider",), "quadrant",
              report_titles=("Average score by question and quadrant",
                             "% Score change by question and quadrant \u2013 vs 2017 results"),
              review_2016=("10.5: some areas as low as two responses",
                           "10.6: North highest, Countywide also high; West lowest, then Mid")),
    TableSpec("provider_by_size", "Providers: average score by question and size of provider", ("provider",), "size",
              report_titles=("Average Score by question and size of provider",
                             "% Score change by question and provider size \u2013 vs 2017 results"),
              review_2016=("10.6: small providers highest",)),
    TableSpec("provider_by_ecc_share", "Providers: average score by question and % of business with ECC",
              ("provider",), "ecc_share",
              report_titles=("Average score by question and % of commissioned business with ECC",
                             "% Score difference by % of commissioned business with ECC - vs 2017 results"),
              review_2016=("10.6: 0-25% ECC service users highest, 25-50% lowest",)),
    TableSpec("provider_by_age_range", "Providers: average score by question and age range of service", ("provider",),
              "age_range",
              report_titles=("Average Score by question and age range of service 2018",
                             "% Score difference by age range of service - vs 2017")),
    TableSpec("provider_by_rated_department", "Providers: average score by question and ECC department rated",
              ("provider",), RATED_DEPARTMENT,
              report_titles=("Average score by question and department",
                             "% Score difference by question and department \u2013 vs 2017"),
              review_2016=("10.6: Safeguarding highest overall, Finance lowest",
                           "10.6: 'no contact' answers by department (column no_contact)")),
    TableSpec("provider_by_service_type", "Providers: average score by question and service type (2016 review)",
              ("provider",), "service_type", review_2016=("10.6: Homecare marginally above Residential",)),
    TableSpec("provider_by_provider_role", "Providers: average score by respondent's role (2016 review)",
              ("provider",), "provider_role",
              review_2016=("10.6: Directors/Senior managers above owners and care managers",)),
    TableSpec("compare_by_question", "Providers vs officers: average score by question", ("provider", "officer"),
              "all",
              report_titles=("Average Score by Question - Providers vs Officers",
                             "% Score difference by question vs 2017 results"),
              review_2016=("Fig 8: Officer Response to RM Questionnaire (ECC vs Providers)", "10.8")),
    TableSpec("compare_by_service_area", "Providers vs officers: average score by service area",
              ("provider", "officer"), "service_area",
              report_titles=("Average Scores by Service area* - Providers vs Officers",)),
    TableSpec("compare_by_quadrant", "Providers vs officers: average score by quadrant", ("provider", "officer"),
              "quadrant",
              report_titles=("Average Score by Quadrant** \u2013 Providers vs Officers",),
              review_2016=("10.9: providers from the North highest, officers covering the North lowest",)),
    TableSpec("compare_overall", "Providers vs officers: overall score, this year vs last", ("provider", "officer"),
              "all", questions=("overall",),
              report_titles=("Average Overall Scores 2018 vs 2017 results",),
              review_2016=("Fig 8: Overall row (2.15 published for officers; ours is the mean of question means)",)),
)
TABLE_INDEX = {t.id: t for t in REPORT_TABLES}


@dataclass(frozen=True)
class OutputSpec:
    """A report output that is not a long cell table: what it is, which function makes it, what it serves."""

    id: str
    title: str
    function: str
    report_titles: tuple[str, ...] = ()
    review_2016: tuple[str, ...] = ()


OTHER_OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("headline", "Headline: respondents and overall score per group, vs last year", "rmlib.crosstab.headline",
               report_titles=("2018 Survey Headline Data Officers", "2018 Survey Headline Data Providers")),
    OutputSpec("responses_by_year", "Respondents per group and survey year", "rmlib.crosstab.responses_by_year",
               report_titles=("Total ECC Staff Responses", "Total Provider Responses")),
    OutputSpec("trend_by_question", "Question means per group and survey year (every processed year)",
               "rmlib.crosstab.trend",
               report_titles=("Survey Comparison by previous results", "Score comparison by question and survey year")),
    OutputSpec("provider_no_contact", "Providers' 'no contact' answers by ECC department and question",
               "rmlib.crosstab.no_contact_table",
               review_2016=("10.6: average 'no contact' answers per question by department",
                            "10.6: questions with the most 'no contact' answers")),
    OutputSpec("maturity", "Maturity level of the five elements (questions 1-5) per group",
               "rmlib.scoring.maturity_table", review_2016=("Appendix H: the five elements and four levels",
                                                            "16.6 / Fig 10: five elements to improve partnering")),
    OutputSpec("caveats", "Caveats generated from the data", "rmlib.crosstab.caveats",
               report_titles=("*Scores above are from those working solely in one of the quadrant areas",
                              "Note: Scores comparisons for social workers are not possible")),
)


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------
def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"multi-select rule must be one of {RULES}, got {rule!r}")


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Department id -> label: the given labels, falling back to the 2018 ones for ids they lack."""
    out = dict(DEPARTMENTS)
    if labels:
        out.update({str(k): str(v) for k, v in labels.items()})
    return out


def select_members(memberships: pd.DataFrame, attribute: str, rule: str = "solely_one") -> pd.DataFrame:
    """Respondent -> category for one attribute under the multi-select ``rule``.

    >>> m = pd.DataFrame({"respondent_id": ["a", "b", "b", "c"], "attribute": "quadrant",
    ...                   "category": ["North", "North", "South", "Mid"]})
    >>> sorted(select_members(m, "quadrant")["respondent_id"])        # b chose two: left out
    ['a', 'c']
    >>> len(select_members(m, "quadrant", rule="any"))
    4
    """
    _check_rule(rule)
    m = memberships.loc[memberships["attribute"].astype(str) == attribute, ["respondent_id", "category"]]
    m = m.astype({"category": str}).drop_duplicates()
    if rule == "solely_one":
        m = m[~m["respondent_id"].duplicated(keep=False)]  # respondents listed once
    return m.reset_index(drop=True)


def order_categories(frame: pd.DataFrame, attribute: str, order: list[str] | None = None) -> pd.DataFrame:
    """Sort rows by group, the report's category order (``order`` or CATEGORY_ORDER), then question order."""
    known = list(order) if order is not None else CATEGORY_ORDER.get(attribute, [])
    extra = sorted(set(frame["category"]) - set(known) - {ALL_CATEGORY})
    cat_order = {c: i for i, c in enumerate([ALL_CATEGORY, *known, *extra])}
    q_order = {q: i for i, q in enumerate([*QUESTIONS, "overall"])}
    key = frame["category"].map(cat_order) * 100 + frame["question"].map(q_order)
    return (frame.assign(_k=key.to_numpy()).sort_values(["group", "_k"], kind="stable").drop(columns="_k")
            .reset_index(drop=True))


def _empty_cells(attribute: str) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                        (("group", object), ("category", object), ("question", object), ("mean", float),
                         ("n", np.int64), ("ratings", np.int64), ("no_contact", np.int64))})
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
# sorted text of ids and labels, so cells come out in, and are summed in, the order the definitions
# in rmlib.scoring (respondent_sums -> cell_table -> overall_rows) use; scores are whole numbers, so
# the sums are exact whatever the order.
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

    ids: pd.Index            # respondent ids (sorted) -> index on axis 0
    groups: np.ndarray       # group names (sorted), axis 1
    categories: np.ndarray   # axis 2: ["All"], or the rated departments (ids, sorted)
    labels: np.ndarray       # the category label of each entry of axis 2 (a department's label)
    questions: np.ndarray    # question names (sorted), axis 3
    sums: np.ndarray         # float, sum of valid scores
    counts: np.ndarray       # int, number of valid scores
    no_contact: np.ndarray   # int, 'no contact' answers
    present: np.ndarray      # bool, the respondent has at least one rating row there

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
    labels_ = (np.array([_labels(labels).get(d, d) for d in cats], dtype=object) if departments
               else cats)
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


def _cells(cube: _Cube, attribute: str, members: pd.DataFrame | None = None,
           groups: tuple[str, ...] | None = None, order: list[str] | None = None) -> pd.DataFrame:
    """The cell table (questions and overall) of a cube, per category of the cube or of ``members``.

    ``members`` (respondent_id, category; :func:`select_members`) regroups
    the respondents of a one-category cube; otherwise the cube's own
    categories are used, summing over respondents.
    """
    if cube.empty:
        return _empty_cells(attribute)
    g_keep = (np.ones(len(cube.groups), dtype=bool) if groups is None
              else np.isin(cube.groups.astype(str), np.asarray(list(groups), dtype=object).astype(str)))
    S, C, NC, P = (a[:, g_keep, 0, :] if members is not None else a[:, g_keep]
                   for a in (cube.sums, cube.counts, cube.no_contact, cube.present))
    gnames = cube.groups[g_keep]
    has = C > 0
    if members is not None:
        # (respondent, category) pairs -> sums over each category's respondents, in respondent order
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
        s, c, nc, pr = agg(S), agg(C), agg(NC), agg(P, True)      # category x group x question
        n, n_any = agg(has), agg(has.any(axis=-1))                 # category x group (x question)
        s, c, nc, pr, n = (np.moveaxis(a, 0, 1) for a in (s, c, nc, pr, n))   # group x category x question
        n_any = n_any.T
    elif not len(cube.labels):
        return _empty_cells(attribute)
    else:
        # categories are labels: departments sharing a label form one category (each department's
        # respondents counted in the question's n, each respondent once in the overall n)
        lcode, cats = pd.factorize(pd.Series(cube.labels, dtype=object).astype(str), sort=True)
        cats = np.asarray(cats, dtype=object)
        korder = np.argsort(lcode, kind="stable")
        _, kstart = np.unique(lcode[korder], return_index=True)

        def by_label(a, axis):
            a = np.take(a, korder, axis=axis)
            return np.add.reduceat(a.astype(np.int64) if a.dtype == bool else a, kstart, axis=axis)
        s, c, nc = (by_label(a.sum(0), 1) for a in (S, C, NC))     # group x category x question
        pr = by_label(P.any(0), 1) > 0
        n = by_label(has.sum(0), 1)
        n_any = (by_label(has.any(-1), 2) > 0).sum(0)               # respondents x group x category -> g x c
    if not pr.size or not pr.any():
        return _empty_cells(attribute)
    qnames = cube.questions
    gi, ki, qi = np.nonzero(pr)                                    # lexicographic: group, category, question
    cell = pd.DataFrame({"group": gnames[gi], "category": cats[ki], "question": qnames[qi],
                         "mean": cell_mean(s[gi, ki, qi], c[gi, ki, qi]), "n": n[gi, ki, qi],
                         "ratings": c[gi, ki, qi], "no_contact": nc[gi, ki, qi]})
    # the overall row of each (group, category) with a cell on one of the eight questions
    in_q = np.isin(qnames.astype(str), list(QUESTIONS))
    rows = []
    for g, k in zip(*np.nonzero((pr & in_q).any(-1))):
        qs = np.flatnonzero(pr[g, k] & in_q)
        rows.append((gnames[g], cats[k], "overall", overall_score(cell_mean(s[g, k, qs], c[g, k, qs])),
                     int(n_any[g, k]), int(c[g, k, qs].sum()), int(nc[g, k, qs].sum())))
    ov = pd.DataFrame(rows, columns=["group", "category", "question", "mean", "n", "ratings", "no_contact"])
    out = pd.concat([cell, ov], ignore_index=True)
    for col in ("group", "category", "question"):
        out[col] = out[col].astype(object).astype(str)
    out = out.astype({"mean": float, "n": np.int64, "ratings": np.int64, "no_contact": np.int64})
    out.insert(1, "attribute", attribute)
    return order_categories(out, attribute, order)


def _year_cells(cube: _Cube, dep_cube: _Cube | None, memberships: pd.DataFrame | None, attribute: str,
                rule: str, groups: tuple[str, ...] | None, labels: Mapping[str, str] | None,
                cache: dict | None = None) -> pd.DataFrame:
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
    key = ("members", id(memberships), attribute, rule)
    if key not in cache:
        cache[key] = select_members(memberships, attribute, rule)
    return _cells(cube, attribute, members=cache[key], groups=groups)


def by_attribute(ratings: pd.DataFrame, memberships: pd.DataFrame | None, attribute: str,
                 rule: str = "solely_one", groups: tuple[str, ...] | None = None,
                 labels: Mapping[str, str] | None = None) -> pd.DataFrame:
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
    rule : {"solely_one", "any"}
        The multi-select rule.
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
    _check_rule(rule)
    dep = attribute == RATED_DEPARTMENT
    cube = _cube(ratings, departments=dep, labels=labels)
    return _year_cells(None if dep else cube, cube if dep else None, memberships, attribute, rule, groups, labels)


def resampling_sums(ratings: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Respondent sums for ``rmlib.stats`` covering every report table, rated departments included.

    Whole-group rows (``attribute == "all"``: per respondent, group and
    question, as :func:`rmlib.scoring.respondent_sums`) plus one row per
    provider, question and rated department (``attribute ==
    "rated_department"``, ``category`` = the department label used in the
    tables). Pass it as ``resp`` to ``stats.add_intervals`` / ``compare_cells``:
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
    weights = {"s": np.where(valid, score, 0.0), "c": valid,
               "nc": ratings["no_contact"].fillna(False).to_numpy(dtype=bool)}
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
    names = list(dict.fromkeys([ALL_CATEGORY, *ltext]))        # a department labelled "All" shares the name
    label_pos = np.array([names.index(t) for t in ltext], dtype=np.int64)
    n_tot = len(r_t)
    cats = np.concatenate([np.full(n_tot, 0), label_pos[np.asarray(lcode, dtype=np.int64)[d_d]]])

    def _cat(codes, names) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))

    out = pd.DataFrame({
        "respondent_id": _cat(np.concatenate([r_t, r_d]), rtext),
        "group": _cat(np.concatenate([g_t, g_d]), gtext),
        "question": _cat(np.concatenate([q_t, q_d]), qtext),
        "attribute": _cat(np.repeat([0, 1], [n_tot, len(r_d)]), [ALL_ATTRIBUTE, RATED_DEPARTMENT]),
        "category": _cat(cats, names),
        "sum": np.concatenate([tot["s"], dep["s"]]).astype(float),
        "count": np.concatenate([tot["c"], dep["c"]]).astype(np.int64),
        "no_contact": np.concatenate([tot["nc"], dep["nc"]]).astype(np.int64),
    })
    out["category"] = out["category"].cat.remove_unused_categories()
    return out


def _sum_by(major: np.ndarray, minor: np.ndarray, n_minor: int, rows: np.ndarray,
            weights: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
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
    dense = np.cumsum(seen) - 1                  # minor code -> 0..L-1 among those seen
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
        return (values.cat.codes.to_numpy().astype(np.int64),
                np.asarray(values.cat.categories.astype(str), dtype=object))
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
    counts = pd.DataFrame([[int(sums[row_of[r], col_of[q]]) if q in col_of else 0 for q in QUESTIONS] for r in rows],
                          index=pd.Index(rows, name="department", dtype=str), columns=list(QUESTIONS), dtype=int)
    counts["mean_per_question"] = counts[list(QUESTIONS)].mean(axis=1)
    counts.index.name = "department"
    counts.columns.name = None
    return counts.reset_index()


def _table_labels(this: YearData | None, labels: Mapping[str, str] | None) -> Mapping[str, str] | None:
    if labels is not None:
        return labels
    return getattr(this, "department_labels", None)


def build_table(spec: TableSpec, this: YearData, last: YearData | None, rule: str = "solely_one",
                labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One report table with last year's same cells joined (mean_last, n_last, change_pts, change_pct).

    Both years use the same department labels (``labels``, else
    ``this.department_labels``, else the 2018 labels), so departments line up
    by id even where the surveys labelled them differently.
    """
    return _build_table(spec, this, last, rule, labels, {})


def _year_cubes(data: YearData, attribute: str, labels, cubes: dict) -> tuple[_Cube | None, _Cube | None]:
    """The cube(s) ``attribute`` needs for one year, built once per year and kept in ``cubes`` (one call's scope)."""
    dep = attribute == RATED_DEPARTMENT
    key = (id(data), dep)
    if key not in cubes:
        cubes[key] = _cube(data.ratings, departments=dep, labels=labels)
    return (None, cubes[key]) if dep else (cubes[key], None)


def _build_table(spec: TableSpec, this: YearData, last: YearData | None, rule: str,
                 labels: Mapping[str, str] | None, cubes: dict) -> pd.DataFrame:
    _check_rule(rule)
    lab = _table_labels(this, labels)
    cells = _year_cells(*_year_cubes(this, spec.attribute, lab, cubes), this.memberships, spec.attribute, rule,
                        spec.groups, lab, cubes)
    prev = (_year_cells(*_year_cubes(last, spec.attribute, lab, cubes), last.memberships, spec.attribute, rule,
                        spec.groups, lab, cubes) if last is not None else None)
    if spec.questions is not None:
        cells = cells[cells["question"].isin(spec.questions)]
        prev = prev[prev["question"].isin(spec.questions)] if prev is not None else None
    out = add_change(cells, prev, CELL_KEYS)
    out.insert(0, "table", spec.id)
    return out[CELL_COLUMNS].reset_index(drop=True)


def build_tables(this: YearData, last: YearData | None, rule: str = "solely_one",
                 specs: tuple[TableSpec, ...] = REPORT_TABLES,
                 labels: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Every report table, keyed by table id (long form)."""
    cubes: dict = {}  # each year's ratings are reduced once for all the tables (see _cube)
    return {s.id: _build_table(s, this, last, rule, labels, cubes) for s in specs}


def headline(this: YearData, last: YearData | None) -> pd.DataFrame:
    """n (respondents) and overall score per group, this year and last, with the change.

    Columns: ``group, n, overall, n_last, overall_last, change_pts,
    change_pct, n_change_pct``.
    """
    cubes: dict = {}

    def overall(data: YearData, group: str) -> float:
        cur = _year_cells(*_year_cubes(data, ALL_ATTRIBUTE, None, cubes), None, ALL_ATTRIBUTE, "solely_one",
                          (group,), None)
        row = cur.loc[cur["question"] == "overall", "mean"]
        return float(row.iloc[0]) if len(row) else np.nan

    rows = []
    for group in ("officer", "provider"):
        row = {"group": group, "n": this.n(group), "overall": overall(this, group), "n_last": np.nan,
               "overall_last": np.nan}
        if last is not None:
            row["n_last"] = last.n(group)
            row["overall_last"] = overall(last, group)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["change_pts"] = change_pts(out["overall"], out["overall_last"])
    out["change_pct"] = pct_change(out["overall"], out["overall_last"])
    out["n_change_pct"] = pct_change(out["n"], out["n_last"])
    return out


# ---------------------------------------------------------------------------
# display form
# ---------------------------------------------------------------------------
def wide(cells: pd.DataFrame, value: str | list[str] = "mean",
         index: tuple[str, ...] = ("group", "category")) -> pd.DataFrame:
    """Display form: one row per (group, category), one column per question (+ overall).

    Rows keep the order of ``cells`` (the report's category order) and rows
    with no value (e.g. a category with no data last year when ``value`` is
    ``change_pct``) are kept. A list of values gives two-level columns
    ``(value, question)``.
    """
    values = [value] if isinstance(value, str) else list(value)
    idx = list(index)
    cols = [q for q in [*QUESTIONS, "overall"] if q in set(cells["question"].astype(str))]
    d = cells.assign(question=cells["question"].astype(str)).drop_duplicates([*idx, "question"])
    rows = pd.MultiIndex.from_frame(d[idx].drop_duplicates())
    w = d.set_index([*idx, "question"])[values].unstack("question")
    w = w.reindex(index=rows, columns=pd.MultiIndex.from_product([values, cols], names=[None, "question"]))
    if isinstance(value, str):
        w.columns = w.columns.droplevel(0)
    return w.reset_index()


def display_table(cells: pd.DataFrame, decimals: int = 2, show_n: bool = True, show_change: bool = False,
                  suppressed_label: str = "fewer than 5") -> pd.DataFrame:
    """Wide table of strings for the report: ``"2.55 (85)"``, optionally ``"2.55 (85) +8%"``.

    The base (n) is printed next to every figure; a cell marked
    ``suppressed`` (``rmlib.disclosure``) shows ``suppressed_label`` instead of
    its mean; a cell without ratings is blank.
    """
    def fmt(r) -> str:
        if bool(r.get("suppressed", False)):
            return suppressed_label
        if pd.isna(r["mean"]):
            return ""
        s = f"{r['mean']:.{decimals}f}"
        if show_n:
            s += f" ({int(r['n'])})"
        if show_change and pd.notna(r.get("change_pct", np.nan)):
            s += f" {r['change_pct']:+.0f}%"
        return s

    text = cells.assign(display=cells.apply(fmt, axis=1) if len(cells) else pd.Series(dtype=str))
    return wide(text, "display")


# ---------------------------------------------------------------------------
# the trend over every processed year
# ---------------------------------------------------------------------------
def _years(data: Mapping[int, YearData] | Iterable[YearData]) -> dict[int, YearData]:
    items = data.values() if isinstance(data, Mapping) else data
    out = {int(d.year): d for d in items}
    return dict(sorted(out.items()))


def trend(data: Mapping[int, YearData] | Iterable[YearData], attribute: str = "all", rule: str = "solely_one",
          groups: tuple[str, ...] | None = None, *, labels: Mapping[str, str] | None = None,
          fill_gaps: bool = False, table: str | None = None) -> pd.DataFrame:
    """Cell means per survey year: one long table over every year given.

    Parameters
    ----------
    data : mapping {year: YearData} or iterable of YearData
        E.g. ``rmlib.dataset.load_years()`` (every year in data/processed).
    attribute, rule, groups, labels
        As in :func:`by_attribute` (``labels`` default: the latest year's
        ``department_labels``, else the 2018 labels; one set for every year
        so departments line up by id).
    fill_gaps : bool
        Add rows (mean and n NaN) for years missing between the first and the
        last, so that a plot shows the gap instead of joining across it.
    table : str, optional
        Table id (default ``"trend_by_question"`` for ``"all"``, else
        ``"trend_by_<attribute>"``).

    Returns
    -------
    DataFrame
        ``table, year, group, attribute, category, question, mean, n, ratings,
        no_contact, year_prev, mean_prev, n_prev, change_pts, change_pct``.
        ``year_prev`` is the previous year *with data* (a year missing from the
        data makes the change span two years; :func:`caveats` says so).
    """
    years = _years(data)
    table = table or ("trend_by_question" if attribute == ALL_ATTRIBUTE else f"trend_by_{attribute}")
    if labels is None and years:
        labels = getattr(years[max(years)], "department_labels", None)
    parts = []
    for y, d in years.items():
        t = by_attribute(d.ratings, d.memberships, attribute, rule, groups, labels)
        parts.append(t.assign(year=y))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in TREND_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    ylist = list(years)
    prev_year = {y: (ylist[i - 1] if i else np.nan) for i, y in enumerate(ylist)}
    out["year_prev"] = out["year"].map(prev_year).astype(float)
    keys = ["group", "attribute", "category", "question"]
    prev = out[[*keys, "year", "mean", "n"]].rename(columns={"year": "year_prev", "mean": "mean_prev",
                                                             "n": "n_prev"})
    prev["year_prev"] = prev["year_prev"].astype(float)
    out = out.merge(prev, on=[*keys, "year_prev"], how="left")
    out["n_prev"] = out["n_prev"].astype(float)
    out["change_pts"] = change_pts(out["mean"], out["mean_prev"])
    out["change_pct"] = pct_change(out["mean"], out["mean_prev"])
    if fill_gaps and ylist:
        gaps = [y for y in range(ylist[0], ylist[-1] + 1) if y not in years]
        if gaps:
            cells = out[keys].drop_duplicates()
            filler = pd.concat([cells.assign(year=y) for y in gaps], ignore_index=True)
            out = pd.concat([out, filler], ignore_index=True)
    out["table"] = table
    out["year"] = out["year"].astype(np.int64)
    q_order = {q: i for i, q in enumerate([*QUESTIONS, "overall"])}
    cat_first = {c: i for i, c in enumerate(dict.fromkeys(out["category"]))}
    out = (out.assign(_g=out["group"], _c=out["category"].map(cat_first), _q=out["question"].map(q_order))
           .sort_values(["_g", "_c", "_q", "year"], kind="stable").drop(columns=["_g", "_c", "_q"]))
    return out[TREND_COLUMNS].reset_index(drop=True)


def responses_by_year(data: Mapping[int, YearData] | Iterable[YearData]) -> pd.DataFrame:
    """Respondents per group and survey year, with the change on the previous year with data.

    Columns: ``table, year, group, n, year_prev, n_prev, n_change, n_change_pct``
    (2018 officers: 85 vs 29, +193%).
    """
    years = _years(data)
    rows = []
    ylist = list(years)
    for i, (y, d) in enumerate(years.items()):
        for g in ("officer", "provider"):
            prev = years[ylist[i - 1]] if i else None
            rows.append({"table": "responses_by_year", "year": y, "group": g, "n": d.n(g),
                         "year_prev": ylist[i - 1] if i else np.nan,
                         "n_prev": prev.n(g) if prev is not None else np.nan})
    out = pd.DataFrame(rows, columns=["table", "year", "group", "n", "year_prev", "n_prev"])
    out["n_change"] = out["n"] - out["n_prev"]
    out["n_change_pct"] = pct_change(out["n"], out["n_prev"])
    return out


def missing_years(years: Iterable[int], expected: Iterable[int] | None = None) -> list[int]:
    """Years absent from ``years``: from ``expected``, else every year between the first and the last.

    >>> missing_years([2016, 2018])
    [2017]
    >>> missing_years([2017, 2018], expected=[2016, 2017, 2018])
    [2016]
    """
    have = sorted({int(y) for y in years})
    if expected is None:
        expected = range(have[0], have[-1] + 1) if have else []
    return [int(y) for y in expected if int(y) not in have]


# ---------------------------------------------------------------------------
# caveats, generated from the data
# ---------------------------------------------------------------------------
def department_relabels(labels_by_year: Mapping[int, Mapping[str, str]]) -> pd.DataFrame:
    """Departments whose label changed between years: ``dep_id, year, label`` for every year, changed ids only.

    ``labels_by_year`` maps year -> {dep_id: label}, or year -> a codebook /
    its ``departments`` ({label: id}); both are accepted.
    """
    norm = {int(y): _as_id_labels(v) for y, v in labels_by_year.items() if v is not None}
    rows = []
    for dep in DEPARTMENTS:
        seen = {y: lab[dep] for y, lab in sorted(norm.items()) if dep in lab}
        if len(set(seen.values())) > 1:
            rows += [{"dep_id": dep, "year": y, "label": lab} for y, lab in seen.items()]
    return pd.DataFrame(rows, columns=["dep_id", "year", "label"])


def _as_id_labels(obj) -> dict[str, str]:
    """{id: label} from a codebook, {label: id} or {id: label}."""
    if hasattr(obj, "departments"):
        return department_labels(obj)
    d = {str(k): str(v) for k, v in dict(obj).items()}
    if d and set(d) <= set(DEPARTMENTS):
        return d
    return department_labels(d)


def _asked(source, group: str, attribute: str, category: str, label_to_id: Mapping[str, str]) -> bool | None:
    """Was ``category`` of ``attribute`` an option for ``group`` in a year? True/False, None if unknown.

    ``source`` is that year's codebook (authoritative) or YearData (the
    category occurs in its data, any group, before any multi-select rule).
    """
    if source is None:
        return None
    if attribute == RATED_DEPARTMENT:
        dep = label_to_id.get(category, category)
        if hasattr(source, "departments"):
            return dep in set(map(str, dict(source.departments).values()))
        if isinstance(source, YearData):
            return dep in set(source.ratings["department"].astype(str))
        if isinstance(source, Mapping):
            return dep in set(_as_id_labels(source))
        return None
    if hasattr(source, "attribute_columns"):
        cats = set()
        for spec in source.attribute_columns(group):
            if spec.attribute == attribute:
                cats |= set(spec.categories.values())
        return category in cats
    if isinstance(source, YearData):
        m = source.memberships
        return bool(((m["attribute"].astype(str) == attribute) & (m["category"].astype(str) == category)).any())
    return None


def _overall_n(rows: pd.DataFrame, col: str) -> float:
    ov = rows.loc[rows["question"] == "overall", col]
    if len(ov):
        v = ov.iloc[0]
    else:
        v = rows[col].max() if len(rows) else np.nan
    return 0.0 if pd.isna(v) else float(v)


def _as_tables(tables) -> dict[str, pd.DataFrame]:
    if tables is None:
        return {}
    if isinstance(tables, pd.DataFrame):
        return {str(t): f for t, f in tables.groupby("table", sort=False)} if len(tables) else {}
    return {str(k): v for k, v in tables.items()}


def caveats(tables: Mapping[str, pd.DataFrame] | pd.DataFrame | None = None, this: YearData | None = None,
            last: YearData | None = None, *, rule: str = "solely_one",
            codebooks: Mapping[int, object] | None = None,
            trend: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
            expected_years: Iterable[int] | None = None,
            year: int | None = None, compare_year: int | None = None) -> pd.DataFrame:
    """Caveats the report must print, generated from the data (never typed).

    Parameters
    ----------
    tables : dict of long cell tables, or one concatenated long table
        Output of :func:`build_tables` (columns of docs/contracts.md).
    this, last : YearData, optional
        The two years compared: needed for the multi-select note, for
        categories dropped since last year, and (without codebooks) to tell
        "not asked" from "no respondents".
    rule : {"solely_one", "any"}
        The multi-select rule the tables were built with.
    codebooks : {year: Codebook or {label: id}}, optional
        The years' codebooks (``rmlib.dataset.load_codebooks``): authoritative
        for whether a category was asked, and for department relabelling.
    trend : DataFrame or list of them, optional
        Output of :func:`trend`, checked for years missing from the data.
    expected_years : iterable of int, optional
        Years the trend should have (default: every year from first to last).
    year, compare_year : int, optional
        Override the years (default: ``this.year`` and ``last.year``).

    Returns
    -------
    DataFrame
        ``table, group, attribute, category, kind, text``, one row per
        caveat. ``table == "all"`` applies to every table; an empty ``group``
        / ``category`` applies to the whole table. Kinds
        (:data:`CAVEAT_KINDS`): ``no_comparison``, ``compare_year_gap``,
        ``year_missing``, ``multi_select``, ``relabelled``, ``not_asked``,
        ``no_data_last_year``, ``dropped_category``, ``single_respondent``,
        ``single_respondent_last_year``.
    """
    _check_rule(rule)
    year = year if year is not None else (this.year if this is not None else None)
    compare_year = compare_year if compare_year is not None else (last.year if last is not None else None)
    codebooks = {int(k): v for k, v in (codebooks or {}).items()}
    tabs = _as_tables(tables)
    rows: list[dict] = []

    def add(table, group, attribute, category, kind, text):
        rows.append({"table": table, "group": group, "attribute": attribute, "category": category,
                     "kind": kind, "text": text})

    # -- comparison year -------------------------------------------------------------------------------
    has_last = compare_year is not None and (last is not None or any(
        "mean_last" in f.columns and f["mean_last"].notna().any() for f in tabs.values()))
    if tabs and not has_last:
        what = f"no processed data for {compare_year}" if compare_year is not None else "no comparison year"
        add("all", "", "", "", "no_comparison", f"No change on last year is shown: {what}.")
    if has_last and year is not None and year - compare_year > 1:
        gap = ", ".join(str(y) for y in range(compare_year + 1, year))
        add("all", "", "", "", "compare_year_gap",
            f"Change is against {compare_year}, not the year before: there is no data for {gap}.")

    # -- the trend: years missing ----------------------------------------------------------------------
    trends = [] if trend is None else ([trend] if isinstance(trend, pd.DataFrame) else list(trend))
    for tr in trends:
        if tr is None or tr.empty:
            continue
        present = tr.loc[tr["mean"].notna() | tr["n"].notna(), "year"] if "n" in tr.columns else tr["year"]
        have = sorted(set(int(y) for y in present))
        tid = str(tr["table"].iloc[0]) if "table" in tr.columns else "trend"
        attr = str(tr["attribute"].iloc[0]) if "attribute" in tr.columns else ""
        for y in missing_years(have, expected_years):
            before = [h for h in have if h < y]
            after = [h for h in have if h > y]
            if before and after:
                how = f"the trend goes from {before[-1]} to {after[0]} directly and {after[0]}'s change is against {before[-1]}"
            elif after:
                how = f"the trend starts in {after[0]}"
            else:
                how = f"the trend ends in {before[-1]}" if before else "the trend is empty"
            add(tid, "", attr, "", "year_missing", f"No data for {y}: {how}.")

    # -- labels ----------------------------------------------------------------------------------------
    labels_by_year: dict[int, dict[str, str]] = {y: _as_id_labels(cb) for y, cb in codebooks.items()}
    for d in (this, last):
        if d is not None and d.department_labels and d.year not in labels_by_year:
            labels_by_year[d.year] = dict(d.department_labels)
    # the labels the tables show: build_table uses this.department_labels, else the 2018 labels
    shown = _labels(getattr(this, "department_labels", None))
    label_to_id = {v: k for k, v in DEPARTMENTS.items()}
    for labs in labels_by_year.values():
        label_to_id.update({v: k for k, v in labs.items()})
    label_to_id.update({v: k for k, v in shown.items()})

    def relabel_rows(table: str, frame: pd.DataFrame, years: list[int]):
        """A department whose label in one of ``years`` differs from the label the table shows."""
        cats = set(frame["category"].astype(str))
        groups = list(dict.fromkeys(frame["group"].astype(str)))
        for dep in DEPARTMENTS:
            label = next((c for c in [shown[dep], *[labels_by_year[y].get(dep, "") for y in years
                                                    if y in labels_by_year]] if c in cats), None)
            if label is None:
                continue
            other: dict[str, list[int]] = {}
            for y in years:
                lab = labels_by_year.get(y, {}).get(dep)
                if lab is not None and lab != label:
                    other.setdefault(lab, []).append(y)
            if not other:
                continue
            was = "; ".join(f"'{lab}' in {', '.join(map(str, ys))}" for lab, ys in other.items())
            for g in groups:
                add(table, g, RATED_DEPARTMENT, label, "relabelled",
                    f"'{label}' was labelled {was}: the same department (id {dep}), compared across years as one.")

    for tr in trends:
        if tr is not None and not tr.empty and (tr["attribute"] == RATED_DEPARTMENT).any():
            dep_rows = tr[tr["attribute"] == RATED_DEPARTMENT]
            relabel_rows(str(tr["table"].iloc[0]), dep_rows, sorted(set(int(y) for y in dep_rows["year"])))

    def _asked_in(y: int, g: str, attr: str, cat: str) -> bool | None:
        """The year's codebook decides; else (or if it cannot tell) last year's data."""
        for source in (codebooks.get(y), last if last is not None and y == compare_year else None):
            answer = _asked(source, g, attr, cat, label_to_id)
            if answer is not None:
                return answer
        return None

    # -- per table ---------------------------------------------------------------------------------------
    cache_last: dict[tuple, pd.DataFrame] = {}
    cubes_last: dict = {}  # last year's ratings reduced once (see _cube)
    member_of: dict[str, np.ndarray] = {}

    def in_group(g: str) -> np.ndarray:
        """Rows of this year's memberships whose respondent is in group ``g`` (a hash look-up, once per group)."""
        if g not in member_of:
            ids = pd.Index(this.respondents.loc[this.respondents["group"].astype(str) == g, "respondent_id"]).unique()
            member_of[g] = ids.get_indexer(this.memberships["respondent_id"]) >= 0
        return member_of[g]
    multi_memo: dict[tuple[str, str], tuple[int, int]] = {}

    def multi_count(attr: str, g: str) -> tuple[int, int]:
        """(respondents of group g choosing more than one category of attr, all choosing any): once per pair."""
        if (attr, g) not in multi_memo:
            in_attr = (this.memberships["attribute"].astype(str) == attr).to_numpy()
            mg = this.memberships[in_attr & in_group(g)].drop_duplicates(["respondent_id", "category"])
            k_per = mg.groupby("respondent_id").size()
            multi_memo[(attr, g)] = int((k_per > 1).sum()), int(len(k_per))
        return multi_memo[(attr, g)]

    for tid, frame in tabs.items():
        if not {"group", "attribute", "category", "question", "n"} <= set(frame.columns) or frame.empty:
            continue
        groups = list(dict.fromkeys(frame["group"].astype(str)))
        attrs = list(dict.fromkeys(frame["attribute"].astype(str)))
        for attr in attrs:
            f_attr = frame[frame["attribute"].astype(str) == attr]
            label = ATTRIBUTE_LABEL.get(attr, attr).lower()
            # multi-select note
            if this is not None and attr not in (ALL_ATTRIBUTE, RATED_DEPARTMENT):
                for g in groups:
                    multi, total = multi_count(attr, g)
                    if multi == 0:
                        continue
                    who = GROUP_LABEL.get(g, g).lower()
                    if rule == "solely_one":
                        text = (f"Scores are from {who} who chose only one {label}: the {multi} of {total} who chose "
                                f"more than one are not reflected.")
                    else:
                        text = (f"The {multi} of {total} {who} who chose more than one {label} are counted in each "
                                f"one they chose: categories overlap and do not add up to the total.")
                    add(tid, g, attr, "", "multi_select", text)
            if attr == RATED_DEPARTMENT and compare_year is not None and year is not None:
                relabel_rows(tid, f_attr, [y for y in sorted(labels_by_year) if y in (year, compare_year)])
            for g in groups:
                fg = f_attr[f_attr["group"].astype(str) == g]
                cats = list(dict.fromkeys(fg["category"].astype(str)))
                for cat in cats:
                    rows_c = fg[fg["category"].astype(str) == cat]
                    n_now = _overall_n(rows_c, "n")
                    if n_now == 0:
                        continue
                    # no comparison with last year
                    if has_last and "n_last" in rows_c.columns and cat != ALL_CATEGORY:
                        n_then = _overall_n(rows_c, "n_last")
                        if n_then == 0:
                            checked = sorted(y for y in set(codebooks) | ({compare_year} if last is not None else set())
                                             if y < year) if year is not None else []
                            asked = {y: _asked_in(y, g, attr, cat) for y in checked}
                            if asked.get(compare_year) is False:
                                earlier = [y for y, a in asked.items() if a]
                                if earlier:
                                    text = (f"'{cat}' was not asked in {compare_year} (last asked in {max(earlier)}): "
                                            f"no comparison with {compare_year}.")
                                else:
                                    text = f"'{cat}' was not asked before {year}: no comparison with {compare_year}."
                                add(tid, g, attr, cat, "not_asked", text)
                            else:
                                add(tid, g, attr, cat, "no_data_last_year",
                                    f"'{cat}' had no {GROUP_LABEL.get(g, g).lower()} respondents in {compare_year} in "
                                    f"this breakdown: no comparison with {compare_year}.")
                    # one respondent
                    qn = rows_c[rows_c["question"] != "overall"]
                    ones = qn.loc[qn["n"] == 1, "question"].astype(str).tolist()
                    if n_now == 1:
                        add(tid, g, attr, cat, "single_respondent",
                            f"Only 1 respondent in '{cat}'" + (f" in {year}" if year else "") +
                            ": the scores are one person's; compare with caution.")
                    elif ones:
                        add(tid, g, attr, cat, "single_respondent",
                            f"In '{cat}', only 1 respondent answered {', '.join(ones)}: compare with caution.")
                    if has_last and "n_last" in rows_c.columns and _overall_n(rows_c, "n_last") == 1:
                        add(tid, g, attr, cat, "single_respondent_last_year",
                            f"'{cat}' had only 1 respondent in {compare_year}: its change on {compare_year} "
                            f"compares with one person.")
                # categories with data last year, none this year
                if last is not None and attr != ALL_ATTRIBUTE:
                    key = (g, attr)
                    if key not in cache_last:
                        lab = shown if attr == RATED_DEPARTMENT else None
                        _check_rule(rule)
                        cache_last[key] = _year_cells(*_year_cubes(last, attr, lab, cubes_last), last.memberships,
                                                      attr, rule, (g,), lab, cubes_last)
                    lt = cache_last[key]
                    lt = lt[lt["question"] == "overall"]
                    now = set(fg.loc[fg["n"] > 0, "category"].astype(str))
                    for _, r in lt[(lt["n"] > 0) & ~lt["category"].isin(now)].iterrows():
                        k = int(r["n"])
                        who = GROUP_LABEL.get(g, g).lower().rstrip("s") + (" respondent" if k == 1 else " respondents")
                        add(tid, g, attr, r["category"], "dropped_category",
                            f"'{r['category']}' had {k} {who} in {compare_year} but none in {year}: "
                            f"not in this table.")
    out = pd.DataFrame(rows, columns=CAVEAT_COLUMNS)
    if out.empty:
        return out
    out = out.drop_duplicates().reset_index(drop=True)
    kind_order = {k: i for i, k in enumerate(CAVEAT_KINDS)}
    table_order = {t: i for i, t in enumerate(["all", *[str(tr["table"].iloc[0]) for tr in trends
                                                          if tr is not None and not tr.empty and "table" in tr], *tabs])}
    out = (out.assign(_t=out["table"].map(table_order).fillna(len(table_order)), _k=out["kind"].map(kind_order))
           .sort_values(["_t", "_k"], kind="stable").drop(columns=["_t", "_k"]).reset_index(drop=True))
    return out


__all__ = [
    "RULES", "CELL_KEYS", "CELL_COLUMNS", "TREND_COLUMNS", "CAVEAT_COLUMNS", "CAVEAT_KINDS",
    "TableSpec", "REPORT_TABLES", "TABLE_INDEX", "OutputSpec", "OTHER_OUTPUTS",
    "select_members", "order_categories", "by_attribute", "resampling_sums", "no_contact_table",
    "build_table", "build_tables", "headline", "wide", "display_table", "trend", "responses_by_year",
    "missing_years", "department_relabels", "caveats",
]
