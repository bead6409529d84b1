"""The report tables of two years with the change between them, the headline, the trend, the display form."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..constants import ALL_ATTRIBUTE, QUESTIONS
from ..dataset import YearData
from ..scoring import add_change, change_pts, check_multi_select_rule, pct_change
from .cells import _year_cells, _year_cubes, by_attribute
from .specs import CELL_COLUMNS, CELL_KEYS, REPORT_TABLES, TREND_COLUMNS, TableSpec


def _table_labels(this: YearData | None, labels: Mapping[str, str] | None) -> Mapping[str, str] | None:
    if labels is not None:
        return labels
    return getattr(this, "department_labels", None)


def build_table(
    spec: TableSpec,
    this: YearData,
    last: YearData | None,
    multi_select_rule: str = "solely_one",
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One report table with last year's same cells joined (mean_last, n_last, change_pts, change_pct).

    Both years use the same department labels (``labels``, else
    ``this.department_labels``, else the 2018 labels), so departments line up
    by id even where the surveys labelled them differently.
    """
    return _build_table(spec, this, last, multi_select_rule, labels, {})


def _build_table(
    spec: TableSpec,
    this: YearData,
    last: YearData | None,
    multi_select_rule: str,
    labels: Mapping[str, str] | None,
    cubes: dict,
) -> pd.DataFrame:
    check_multi_select_rule(multi_select_rule)
    lab = _table_labels(this, labels)
    cells = _year_cells(
        *_year_cubes(this, spec.attribute, lab, cubes),
        this.memberships,
        spec.attribute,
        multi_select_rule,
        spec.groups,
        lab,
        cubes,
    )
    prev = (
        _year_cells(
            *_year_cubes(last, spec.attribute, lab, cubes),
            last.memberships,
            spec.attribute,
            multi_select_rule,
            spec.groups,
            lab,
            cubes,
        )
        if last is not None
        else None
    )
    if spec.questions is not None:
        cells = cells[cells["question"].isin(spec.questions)]
        prev = prev[prev["question"].isin(spec.questions)] if prev is not None else None
    out = add_change(cells, prev, CELL_KEYS)
    out.insert(0, "table", spec.id)
    return out[CELL_COLUMNS].reset_index(drop=True)


def build_tables(
    this: YearData,
    last: YearData | None,
    multi_select_rule: str = "solely_one",
    specs: tuple[TableSpec, ...] = REPORT_TABLES,
    labels: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every report table, keyed by table id (long form)."""
    cubes: dict = {}  # each year's ratings are reduced once for all the tables (see _cube)
    return {s.id: _build_table(s, this, last, multi_select_rule, labels, cubes) for s in specs}


def headline(this: YearData, last: YearData | None) -> pd.DataFrame:
    """n (respondents) and overall score per group, this year and last, with the change.

    Columns: ``group, n, overall, n_last, overall_last, change_pts,
    change_pct, n_change_pct``.
    """
    cubes: dict = {}

    def overall(data: YearData, group: str) -> float:
        cur = _year_cells(
            *_year_cubes(data, ALL_ATTRIBUTE, None, cubes), None, ALL_ATTRIBUTE, "solely_one", (group,), None
        )
        row = cur.loc[cur["question"] == "overall", "mean"]
        return float(row.iloc[0]) if len(row) else np.nan

    rows = []
    for group in ("officer", "provider"):
        row = {
            "group": group,
            "n": this.n(group),
            "overall": overall(this, group),
            "n_last": np.nan,
            "overall_last": np.nan,
        }
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
def wide(
    cells: pd.DataFrame, value: str | list[str] = "mean", index: tuple[str, ...] = ("group", "category")
) -> pd.DataFrame:
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


# ---------------------------------------------------------------------------
# the trend over every processed year
# ---------------------------------------------------------------------------
def _years(data: Mapping[int, YearData] | Iterable[YearData]) -> dict[int, YearData]:
    items = data.values() if isinstance(data, Mapping) else data
    out = {int(d.year): d for d in items}
    return dict(sorted(out.items()))


def trend(
    data: Mapping[int, YearData] | Iterable[YearData],
    attribute: str = "all",
    multi_select_rule: str = "solely_one",
    groups: tuple[str, ...] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    fill_gaps: bool = False,
    table: str | None = None,
) -> pd.DataFrame:
    """Cell means per survey year: one long table over every year given.

    Parameters
    ----------
    data : mapping {year: YearData} or iterable of YearData
        E.g. ``rmlib.dataset.load_years()`` (every year in data/processed).
    attribute, multi_select_rule, groups, labels
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
        t = by_attribute(d.ratings, d.memberships, attribute, multi_select_rule, groups, labels)
        parts.append(t.assign(year=y))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in TREND_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    ylist = list(years)
    prev_year = {y: (ylist[i - 1] if i else np.nan) for i, y in enumerate(ylist)}
    out["year_prev"] = out["year"].map(prev_year).astype(float)
    keys = ["group", "attribute", "category", "question"]
    prev = out[[*keys, "year", "mean", "n"]].rename(columns={"year": "year_prev", "mean": "mean_prev", "n": "n_prev"})
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
    out = (
        out.assign(_g=out["group"], _c=out["category"].map(cat_first), _q=out["question"].map(q_order))
        .sort_values(["_g", "_c", "_q", "year"], kind="stable")
        .drop(columns=["_g", "_c", "_q"])
    )
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
            rows.append(
                {
                    "table": "responses_by_year",
                    "year": y,
                    "group": g,
                    "n": d.n(g),
                    "year_prev": ylist[i - 1] if i else np.nan,
                    "n_prev": prev.n(g) if prev is not None else np.nan,
                }
            )
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
