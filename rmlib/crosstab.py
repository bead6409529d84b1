"""Every breakdown table of the annual report, in long (tidy) form.

One generic operation - cell means of the ratings of the respondents in each
category of an attribute - produces every table; :data:`REPORT_TABLES` lists
them with the title they have in the 2018 report. Multi-select attributes
(quadrant, service area) follow ``rule``: ``solely_one`` counts a respondent
only if they chose exactly one category (as the 2018 report did), ``any``
counts them in every category they chose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .constants import CATEGORY_ORDER, DEPARTMENTS, QUESTIONS
from .dataset import YearData
from .scoring import add_change, cell_table, overall_rows, respondent_sums

RULES = ("solely_one", "any")
CELL_KEYS = ["group", "attribute", "category", "question"]


@dataclass(frozen=True)
class TableSpec:
    """One report table: which groups, broken down by which attribute."""

    id: str
    title: str
    groups: tuple[str, ...]
    attribute: str  # "all" for by-question tables; "rated_department" for providers' department ratings


REPORT_TABLES: tuple[TableSpec, ...] = (
    TableSpec("officer_by_question", "Officers: average score by question, vs last year", ("officer",), "all"),
    TableSpec("officer_by_quadrant", "Officers: average score by question and quadrant", ("officer",), "quadrant"),
    TableSpec("officer_by_role", "Officers: average score by question and role", ("officer",), "role"),
    TableSpec("officer_by_department", "Officers: average score by question and department", ("officer",), "department"),
    TableSpec("officer_by_service_area", "Officers: average score by service area and question", ("officer",), "service_area"),
    TableSpec("provider_by_question", "Providers: score by question and survey year", ("provider",), "all"),
    TableSpec("provider_by_service_area", "Providers: average score by question and service area", ("provider",), "service_area"),
    TableSpec("provider_by_quadrant", "Providers: average score by question and quadrant", ("provider",), "quadrant"),
    TableSpec("provider_by_size", "Providers: average score by question and size of provider", ("provider",), "size"),
    TableSpec("provider_by_ecc_share", "Providers: average score by question and % of business with ECC", ("provider",), "ecc_share"),
    TableSpec("provider_by_age_range", "Providers: average score by question and age range of service", ("provider",), "age_range"),
    TableSpec("provider_by_rated_department", "Providers: average score by question and ECC department rated", ("provider",), "rated_department"),
    TableSpec("provider_by_service_type", "Providers: average score by question and service type (2016 review)", ("provider",), "service_type"),
    TableSpec("provider_by_provider_role", "Providers: average score by respondent's role (2016 review)", ("provider",), "provider_role"),
    TableSpec("compare_by_question", "Providers vs officers: average score by question", ("provider", "officer"), "all"),
    TableSpec("compare_by_service_area", "Providers vs officers: average score by service area", ("provider", "officer"), "service_area"),
    TableSpec("compare_by_quadrant", "Providers vs officers: average score by quadrant", ("provider", "officer"), "quadrant"),
)
TABLE_INDEX = {t.id: t for t in REPORT_TABLES}


def select_members(memberships: pd.DataFrame, attribute: str, rule: str = "solely_one") -> pd.DataFrame:
    """Respondent -> category for one attribute under the multi-select ``rule``.

    >>> m = pd.DataFrame({"respondent_id": ["a", "b", "b", "c"], "attribute": "quadrant",
    ...                   "category": ["North", "North", "South", "Mid"]})
    >>> sorted(select_members(m, "quadrant")["respondent_id"])        # b chose two: left out
    ['a', 'c']
    >>> len(select_members(m, "quadrant", rule="any"))
    4
    """
    if rule not in RULES:
        raise ValueError(f"multi-select rule must be one of {RULES}, got {rule!r}")
    m = memberships.loc[memberships["attribute"] == attribute, ["respondent_id", "category"]].drop_duplicates()
    if rule == "solely_one":
        counts = m["respondent_id"].map(m["respondent_id"].value_counts())
        m = m[counts == 1]
    return m.reset_index(drop=True)


def order_categories(frame: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """Sort rows by the report's category order, then question order."""
    known = CATEGORY_ORDER.get(attribute, [])
    extra = sorted(set(frame["category"]) - set(known) - {"All"})
    cat_order = {c: i for i, c in enumerate(["All", *known, *extra])}
    q_order = {q: i for i, q in enumerate([*QUESTIONS, "overall"])}
    key = frame["category"].map(cat_order) * 100 + frame["question"].map(q_order)
    return frame.assign(_k=key.to_numpy()).sort_values(["group", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)


def by_attribute(ratings: pd.DataFrame, memberships: pd.DataFrame | None, attribute: str,
                 rule: str = "solely_one", groups: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Cell table of question means (and the overall) per category of ``attribute``.

    ``attribute="all"`` gives the whole group; ``"rated_department"`` breaks
    providers' ratings down by the ECC department they rated.

    Returns long form: group, attribute, category, question, mean, n, ratings, no_contact.
    """
    r = ratings if groups is None else ratings[ratings["group"].isin(groups)]
    if attribute == "rated_department":
        r = r[r["department"].astype(str) != ""]
        sums = respondent_sums(r, by=("group", "department", "question"))
        sums["category"] = sums["department"].astype(str).map(DEPARTMENTS)
        sums = sums.drop(columns="department")
    else:
        sums = respondent_sums(r)
        if attribute == "all":
            sums["category"] = "All"
        else:
            sums = sums.merge(select_members(memberships, attribute, rule), on="respondent_id", how="inner")
    sums["group"] = sums["group"].astype(str)
    sums["question"] = sums["question"].astype(str)
    by = ["group", "category"]
    cells = cell_table(sums, by)
    out = pd.concat([cells, overall_rows(cells, sums, by)], ignore_index=True)
    out.insert(1, "attribute", attribute)
    return order_categories(out, attribute)


def no_contact_table(ratings: pd.DataFrame) -> pd.DataFrame:
    """Providers' 'no contact' answers by ECC department and question, with the average per question.

    The 2016 review reported the average number of 'no contact' answers per
    question for each department (e.g. Procurement 12).
    """
    r = ratings[(ratings["group"].astype(str) == "provider") & (ratings["department"].astype(str) != "")]
    counts = (r.assign(department=r["department"].astype(str).map(DEPARTMENTS), question=r["question"].astype(str))
              .pivot_table(index="department", columns="question", values="no_contact", aggfunc="sum", observed=True))
    counts = counts.reindex(index=[d for d in DEPARTMENTS.values() if d in counts.index], columns=list(QUESTIONS)).fillna(0)
    counts = counts.astype(int)
    counts["mean_per_question"] = counts[list(QUESTIONS)].mean(axis=1)
    counts.index.name = "department"
    return counts.reset_index()


def build_table(spec: TableSpec, this: YearData, last: YearData | None, rule: str = "solely_one") -> pd.DataFrame:
    """One report table with last year's same cells joined (mean_last, n_last, change_pts, change_pct)."""
    cells = by_attribute(this.ratings, this.memberships, spec.attribute, rule, spec.groups)
    prev = by_attribute(last.ratings, last.memberships, spec.attribute, rule, spec.groups) if last is not None else None
    out = add_change(cells, prev, CELL_KEYS)
    out.insert(0, "table", spec.id)
    return out


def build_tables(this: YearData, last: YearData | None, rule: str = "solely_one",
                 specs: tuple[TableSpec, ...] = REPORT_TABLES) -> dict[str, pd.DataFrame]:
    """Every report table, keyed by table id (long form)."""
    return {s.id: build_table(s, this, last, rule) for s in specs}


def headline(this: YearData, last: YearData | None) -> pd.DataFrame:
    """n and overall per group, this year and last, with the change."""
    rows = []
    for group in ("officer", "provider"):
        cur = by_attribute(this.ratings, None, "all", groups=(group,))
        ov = cur[cur["question"] == "overall"].iloc[0]
        row = {"group": group, "n": this.n(group), "overall": ov["mean"], "n_last": np.nan, "overall_last": np.nan}
        if last is not None:
            prev = by_attribute(last.ratings, None, "all", groups=(group,))
            row["n_last"] = last.n(group)
            row["overall_last"] = prev.loc[prev["question"] == "overall", "mean"].iloc[0]
        rows.append(row)
    out = pd.DataFrame(rows)
    out["change_pts"] = out["overall"] - out["overall_last"]
    out["change_pct"] = (out["overall"] / out["overall_last"] - 1) * 100
    out["n_change_pct"] = (out["n"] / out["n_last"] - 1) * 100
    return out


def wide(cells: pd.DataFrame, value: str = "mean") -> pd.DataFrame:
    """Display form: one row per (group, category), one column per question (+ overall)."""
    cols = [*QUESTIONS, "overall"]
    w = cells.pivot_table(index=["group", "category"], columns="question", values=value, aggfunc="first", sort=False)
    return w.reindex(columns=[c for c in cols if c in w.columns]).reset_index()
