"""Caveats the report must print, generated from the data (never typed): one small function per kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..constants import ALL_ATTRIBUTE, ALL_CATEGORY, ATTRIBUTE_LABEL, DEPARTMENTS, GROUP_LABEL, RATED_DEPARTMENT
from ..dataset import YearData, department_labels
from ..scoring import check_multi_select_rule, select_members
from .cells import _labels, _year_cells, _year_cubes
from .specs import CAVEAT_COLUMNS, CAVEAT_KINDS
from .tables import missing_years


# ---------------------------------------------------------------------------
# department labels and what a year asked
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
    """A cell's respondents in ``col`` (``n`` or ``n_last``): its overall row, else its largest question, else 0."""
    ov = rows.loc[rows["question"] == "overall", col]
    if len(ov):
        v = ov.iloc[0]
    else:
        v = rows[col].max() if len(rows) else np.nan
    return 0.0 if pd.isna(v) else float(v)


def _as_tables(tables) -> dict[str, pd.DataFrame]:
    """Table id -> long cell table, from a dict of them or one concatenated table."""
    if tables is None:
        return {}
    if isinstance(tables, pd.DataFrame):
        return {str(t): f for t, f in tables.groupby("table", sort=False)} if len(tables) else {}
    return {str(k): v for k, v in tables.items()}


def caveats(
    tables: Mapping[str, pd.DataFrame] | pd.DataFrame | None = None,
    this: YearData | None = None,
    last: YearData | None = None,
    *,
    multi_select_rule: str = "solely_one",
    codebooks: Mapping[int, object] | None = None,
    trend: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
    expected_years: Iterable[int] | None = None,
    year: int | None = None,
    compare_year: int | None = None,
) -> pd.DataFrame:
    """Caveats the report must print, generated from the data (never typed).

    Parameters
    ----------
    tables : dict of long cell tables, or one concatenated long table
        Output of :func:`build_tables` (columns of docs/contracts.md).
    this, last : YearData, optional
        The two years compared: needed for the multi-select note, for
        categories dropped since last year, and (without codebooks) to tell
        "not asked" from "no respondents".
    multi_select_rule : {"solely_one", "any"}
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
        (:data:`CAVEAT_KINDS`, one function each below): ``no_comparison``,
        ``compare_year_gap``, ``year_missing``, ``multi_select``,
        ``relabelled``, ``not_asked``, ``no_data_last_year``,
        ``dropped_category``, ``single_respondent``,
        ``single_respondent_last_year``.
    """
    check_multi_select_rule(multi_select_rule)
    sc = _scope(tables, this, last, multi_select_rule, codebooks, trend, year, compare_year)
    blocks = _blocks(sc.tabs)
    rows = [
        *_no_comparison(sc),
        *_compare_year_gap(sc),
        *_year_missing(sc, expected_years),
        *_relabelled(sc),
        *_multi_select(sc, blocks),
        *_not_asked_or_no_data(sc, blocks),
        *_single_respondent(sc, blocks),
        *_single_respondent_last_year(sc, blocks),
        *_dropped_category(sc, blocks),
    ]
    return _ordered(pd.DataFrame(rows, columns=CAVEAT_COLUMNS), sc)


# ---------------------------------------------------------------------------
# what every kind of caveat reads
# ---------------------------------------------------------------------------
@dataclass
class _Scope:
    """The inputs of one :func:`caveats` call, normalised once (years, tables, trends, department labels)."""

    tabs: dict[str, pd.DataFrame]
    trends: list[pd.DataFrame]
    this: YearData | None
    last: YearData | None
    multi_select_rule: str
    codebooks: dict[int, object]
    year: int | None
    compare_year: int | None
    has_last: bool  # last year's numbers are there to compare with
    labels_by_year: dict[int, dict[str, str]]
    shown: dict[str, str]  # department id -> the label the tables show
    label_to_id: dict[str, str]  # any year's department label -> its id


@dataclass
class _Block:
    """The rows of one table for one attribute and group, split by category (in the table's order)."""

    table: str
    attribute: str
    group: str
    rows: pd.DataFrame
    categories: list[tuple[str, pd.DataFrame]]


def _scope(tables, this, last, multi_select_rule, codebooks, trend, year, compare_year) -> _Scope:
    """Normalise :func:`caveats`' arguments; the department labels of each year and those the tables show."""
    year = year if year is not None else (this.year if this is not None else None)
    compare_year = compare_year if compare_year is not None else (last.year if last is not None else None)
    codebooks = {int(k): v for k, v in (codebooks or {}).items()}
    tabs = _as_tables(tables)
    trends = [] if trend is None else ([trend] if isinstance(trend, pd.DataFrame) else list(trend))
    has_last = compare_year is not None and (
        last is not None or any("mean_last" in f.columns and f["mean_last"].notna().any() for f in tabs.values())
    )
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
    return _Scope(
        tabs,
        trends,
        this,
        last,
        multi_select_rule,
        codebooks,
        year,
        compare_year,
        has_last,
        labels_by_year,
        shown,
        label_to_id,
    )


def _blocks(tabs: Mapping[str, pd.DataFrame]) -> list[_Block]:
    """Every (table, attribute, group) of the cell tables with its rows per category, split once for all kinds."""
    out = []
    for tid, frame in tabs.items():
        if not {"group", "attribute", "category", "question", "n"} <= set(frame.columns) or frame.empty:
            continue
        groups = list(dict.fromkeys(frame["group"].astype(str)))
        for attr in dict.fromkeys(frame["attribute"].astype(str)):
            f_attr = frame[frame["attribute"].astype(str) == attr]
            for g in groups:
                fg = f_attr[f_attr["group"].astype(str) == g]
                text = fg["category"].astype(str)
                out.append(_Block(tid, attr, g, fg, [(cat, fg[text == cat]) for cat in dict.fromkeys(text)]))
    return out


def _caveat(table, group, attribute, category, kind, text) -> dict:
    return {"table": table, "group": group, "attribute": attribute, "category": category, "kind": kind, "text": text}


def _ordered(out: pd.DataFrame, sc: _Scope) -> pd.DataFrame:
    """Distinct caveats: the run-wide ones first, then by table (trends, then tables), kinds in CAVEAT_KINDS order."""
    if out.empty:
        return out
    out = out.drop_duplicates().reset_index(drop=True)
    kind_order = {k: i for i, k in enumerate(CAVEAT_KINDS)}
    table_order = {
        t: i
        for i, t in enumerate(
            [
                "all",
                *[str(tr["table"].iloc[0]) for tr in sc.trends if tr is not None and not tr.empty and "table" in tr],
                *sc.tabs,
            ]
        )
    }
    return (
        out.assign(_t=out["table"].map(table_order).fillna(len(table_order)), _k=out["kind"].map(kind_order))
        .sort_values(["_t", "_k"], kind="stable")
        .drop(columns=["_t", "_k"])
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------------------
# one function per kind
# ---------------------------------------------------------------------------
def _no_comparison(sc: _Scope) -> list[dict]:
    """``no_comparison``: tables without a comparison year (none given, or no data for it)."""
    if not sc.tabs or sc.has_last:
        return []
    what = f"no processed data for {sc.compare_year}" if sc.compare_year is not None else "no comparison year"
    return [_caveat("all", "", "", "", "no_comparison", f"No change on last year is shown: {what}.")]


def _compare_year_gap(sc: _Scope) -> list[dict]:
    """``compare_year_gap``: change against a year that is not the one before."""
    if not (sc.has_last and sc.year is not None and sc.year - sc.compare_year > 1):
        return []
    gap = ", ".join(str(y) for y in range(sc.compare_year + 1, sc.year))
    return [
        _caveat(
            "all",
            "",
            "",
            "",
            "compare_year_gap",
            f"Change is against {sc.compare_year}, not the year before: there is no data for {gap}.",
        )
    ]


def _year_missing(sc: _Scope, expected_years: Iterable[int] | None) -> list[dict]:
    """``year_missing``: years absent from a trend, and how the trend bridges them."""
    rows = []
    for tr in sc.trends:
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
                how = (
                    f"the trend goes from {before[-1]} to {after[0]} directly and {after[0]}'s change is "
                    f"against {before[-1]}"
                )
            elif after:
                how = f"the trend starts in {after[0]}"
            else:
                how = f"the trend ends in {before[-1]}" if before else "the trend is empty"
            rows.append(_caveat(tid, "", attr, "", "year_missing", f"No data for {y}: {how}."))
    return rows


def _relabelled(sc: _Scope) -> list[dict]:
    """``relabelled``: departments labelled differently in a year the trend or table spans."""
    rows = []
    for tr in sc.trends:
        if tr is not None and not tr.empty and (tr["attribute"] == RATED_DEPARTMENT).any():
            dep_rows = tr[tr["attribute"] == RATED_DEPARTMENT]
            rows += _relabel_rows(sc, str(tr["table"].iloc[0]), dep_rows, sorted(set(int(y) for y in dep_rows["year"])))
    if sc.compare_year is None or sc.year is None:
        return rows
    years = [y for y in sorted(sc.labels_by_year) if y in (sc.year, sc.compare_year)]
    for tid, frame in sc.tabs.items():
        if not {"group", "attribute", "category", "question", "n"} <= set(frame.columns) or frame.empty:
            continue
        f_attr = frame[frame["attribute"].astype(str) == RATED_DEPARTMENT]
        if len(f_attr):
            rows += _relabel_rows(sc, tid, f_attr, years)
    return rows


def _relabel_rows(sc: _Scope, table: str, frame: pd.DataFrame, years: list[int]) -> list[dict]:
    """A department whose label in one of ``years`` differs from the label the table shows."""
    rows = []
    cats = set(frame["category"].astype(str))
    groups = list(dict.fromkeys(frame["group"].astype(str)))
    for dep in DEPARTMENTS:
        label = next(
            (
                c
                for c in [sc.shown[dep], *[sc.labels_by_year[y].get(dep, "") for y in years if y in sc.labels_by_year]]
                if c in cats
            ),
            None,
        )
        if label is None:
            continue
        other: dict[str, list[int]] = {}
        for y in years:
            lab = sc.labels_by_year.get(y, {}).get(dep)
            if lab is not None and lab != label:
                other.setdefault(lab, []).append(y)
        if not other:
            continue
        was = "; ".join(f"'{lab}' in {', '.join(map(str, ys))}" for lab, ys in other.items())
        rows += [
            _caveat(
                table,
                g,
                RATED_DEPARTMENT,
                label,
                "relabelled",
                f"'{label}' was labelled {was}: the same department (id {dep}), compared across years as one.",
            )
            for g in groups
        ]
    return rows


def _multi_select(sc: _Scope, blocks: list[_Block]) -> list[dict]:
    """``multi_select``: respondents who chose several categories, left out (``solely_one``) or in each (``any``)."""
    if sc.this is None:
        return []
    members: dict[tuple[str, str], set] = {}
    rows = []
    for b in blocks:
        if b.attribute in (ALL_ATTRIBUTE, RATED_DEPARTMENT):
            continue
        for rule in ("any", "solely_one"):
            if (b.attribute, rule) not in members:
                sel = select_members(sc.this.memberships, b.attribute, rule)
                members[(b.attribute, rule)] = set(sel["respondent_id"])
        r = sc.this.respondents
        ids = set(r.loc[r["group"].astype(str) == b.group, "respondent_id"].astype(str))
        total = len(members[(b.attribute, "any")] & ids)
        multi = total - len(members[(b.attribute, "solely_one")] & ids)  # who the solely_one rule leaves out
        if multi == 0:
            continue
        who = GROUP_LABEL.get(b.group, b.group).lower()
        label = ATTRIBUTE_LABEL.get(b.attribute, b.attribute).lower()
        if sc.multi_select_rule == "solely_one":
            text = (
                f"Scores are from {who} who chose only one {label}: the {multi} of {total} who chose "
                f"more than one are not reflected."
            )
        else:
            text = (
                f"The {multi} of {total} {who} who chose more than one {label} are counted in each "
                f"one they chose: categories overlap and do not add up to the total."
            )
        rows.append(_caveat(b.table, b.group, b.attribute, "", "multi_select", text))
    return rows


def _asked_in(sc: _Scope, y: int, g: str, attr: str, cat: str) -> bool | None:
    """Was ``cat`` asked in year ``y``? The year's codebook decides; else (or if it cannot tell) last year's data."""
    for source in (sc.codebooks.get(y), sc.last if sc.last is not None and y == sc.compare_year else None):
        answer = _asked(source, g, attr, cat, sc.label_to_id)
        if answer is not None:
            return answer
    return None


def _not_asked_or_no_data(sc: _Scope, blocks: list[_Block]) -> list[dict]:
    """``not_asked`` / ``no_data_last_year``: a category with respondents now and none in the comparison year.

    One decision gives the one or the other kind: the category was not an
    option that year (codebook, else last year's data), or it was and nobody
    in this breakdown chose it.
    """
    if not sc.has_last:
        return []
    rows = []
    for b in blocks:
        for cat, rows_c in b.categories:
            if (
                cat == ALL_CATEGORY
                or "n_last" not in rows_c.columns
                or _overall_n(rows_c, "n") == 0
                or _overall_n(rows_c, "n_last") != 0
            ):
                continue
            checked = (
                sorted(
                    y for y in set(sc.codebooks) | ({sc.compare_year} if sc.last is not None else set()) if y < sc.year
                )
                if sc.year is not None
                else []
            )
            asked = {y: _asked_in(sc, y, b.group, b.attribute, cat) for y in checked}
            if asked.get(sc.compare_year) is False:
                earlier = [y for y, a in asked.items() if a]
                if earlier:
                    text = (
                        f"'{cat}' was not asked in {sc.compare_year} (last asked in {max(earlier)}): "
                        f"no comparison with {sc.compare_year}."
                    )
                else:
                    text = f"'{cat}' was not asked before {sc.year}: no comparison with {sc.compare_year}."
                rows.append(_caveat(b.table, b.group, b.attribute, cat, "not_asked", text))
            else:
                who = GROUP_LABEL.get(b.group, b.group).lower()
                rows.append(
                    _caveat(
                        b.table,
                        b.group,
                        b.attribute,
                        cat,
                        "no_data_last_year",
                        f"'{cat}' had no {who} respondents in {sc.compare_year} in this breakdown: "
                        f"no comparison with {sc.compare_year}.",
                    )
                )
    return rows


def _single_respondent(sc: _Scope, blocks: list[_Block]) -> list[dict]:
    """``single_respondent``: a category of one respondent, or a question only one respondent answered."""
    rows = []
    for b in blocks:
        for cat, rows_c in b.categories:
            n_now = _overall_n(rows_c, "n")
            qn = rows_c[rows_c["question"] != "overall"]
            ones = qn.loc[qn["n"] == 1, "question"].astype(str).tolist()
            if n_now == 1:
                year = f" in {sc.year}" if sc.year else ""
                text = f"Only 1 respondent in '{cat}'{year}: the scores are one person's; compare with caution."
            elif ones and n_now != 0:
                text = f"In '{cat}', only 1 respondent answered {', '.join(ones)}: compare with caution."
            else:
                continue
            rows.append(_caveat(b.table, b.group, b.attribute, cat, "single_respondent", text))
    return rows


def _single_respondent_last_year(sc: _Scope, blocks: list[_Block]) -> list[dict]:
    """``single_respondent_last_year``: this year's category had one respondent in the comparison year."""
    if not sc.has_last:
        return []
    return [
        _caveat(
            b.table,
            b.group,
            b.attribute,
            cat,
            "single_respondent_last_year",
            f"'{cat}' had only 1 respondent in {sc.compare_year}: its change on {sc.compare_year} "
            f"compares with one person.",
        )
        for b in blocks
        for cat, rows_c in b.categories
        if "n_last" in rows_c.columns and _overall_n(rows_c, "n") != 0 and _overall_n(rows_c, "n_last") == 1
    ]


def _dropped_category(sc: _Scope, blocks: list[_Block]) -> list[dict]:
    """``dropped_category``: categories with respondents last year and none this year (absent from the table)."""
    if sc.last is None:
        return []
    last_cells: dict[tuple[str, str], pd.DataFrame] = {}
    cubes: dict = {}  # last year's ratings reduced once (see cells._cube)
    rows = []
    for b in blocks:
        if b.attribute == ALL_ATTRIBUTE:
            continue
        key = (b.group, b.attribute)
        if key not in last_cells:
            lab = sc.shown if b.attribute == RATED_DEPARTMENT else None
            last_cells[key] = _year_cells(
                *_year_cubes(sc.last, b.attribute, lab, cubes),
                sc.last.memberships,
                b.attribute,
                sc.multi_select_rule,
                (b.group,),
                lab,
                cubes,
            )
        lt = last_cells[key]
        lt = lt[lt["question"] == "overall"]
        now = set(b.rows.loc[b.rows["n"] > 0, "category"].astype(str))
        for _, r in lt[(lt["n"] > 0) & ~lt["category"].isin(now)].iterrows():
            k = int(r["n"])
            who = GROUP_LABEL.get(b.group, b.group).lower().rstrip("s") + (" respondent" if k == 1 else " respondents")
            rows.append(
                _caveat(
                    b.table,
                    b.group,
                    b.attribute,
                    r["category"],
                    "dropped_category",
                    f"'{r['category']}' had {k} {who} in {sc.compare_year} but none in {sc.year}: not in this table.",
                )
            )
    return rows
