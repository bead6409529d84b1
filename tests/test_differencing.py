"""A differencing attacker against every published cell table, at several thresholds.

The attacker has only what is published: each table's CSV form
(:func:`rmlib.disclosure.publishable_cells`), both years' columns and the
whole-group rows. They try every identity that can give back a hidden cell:

* partition: the categories of a breakdown and the remainder they leave out
  add up to the whole group (ratios: ``total mean x total n - sum of the
  others``; bases by subtraction) - on this year's and last year's columns;
* overall = mean of the eight question means, per category and year;
* change: ``mean - mean_last`` (and ``% change``) with one of the two shown;
* the same cell in two tables (``officer_by_quadrant``, ``compare_by_quadrant``).

"Before" (primary suppression only, last year unprotected, as in the 2018
outputs the issue describes) recovers the 2017 Service Placement Team
officers' means exactly; "after" recovers nothing. The thresholds are 5 and
10, plus any in ``RMLIB_TEST_MIN_CELL_N`` (comma-separated, e.g. ``11``).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from rmlib import crosstab
from rmlib.constants import QUESTIONS
from rmlib.dataset import load_year
from rmlib.disclosure import apply_disclosure, merge_year, publishable_cells
from rmlib.params import load_params

THRESHOLDS = sorted({5, 10, *(int(x) for x in os.environ.get("RMLIB_TEST_MIN_CELL_N", "").split(",") if x.strip())})
KEYS = ["group", "attribute", "category", "question"]


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """The bundled 2017 and 2018 exports cleaned into a folder of their own (a fresh clone has no
    data/processed yet, and a test must not depend on an earlier make report)."""
    from rmlib import clean

    folder = tmp_path_factory.mktemp("processed")
    for year in (2017, 2018):
        clean.write_processed(clean.clean_year(load_params(f"params/{year}.yaml")), folder / str(year))
    return folder


@pytest.fixture(scope="module")
def raw_cells(processed):
    """Every table of the bundled 2018 run before disclosure control (the auditor's view)."""
    P = load_params("params/2018.yaml")
    this, last = load_year(2018, processed), load_year(2017, processed)
    this, last = merge_year(this, P.merges), merge_year(last, P.merges)
    tables = crosstab.build_tables(this, last, P.multi_select_rule)
    return pd.concat(tables.values(), ignore_index=True)


@pytest.fixture(scope="module")
def raw_cells_unmerged(processed):
    this, last = load_year(2018, processed), load_year(2017, processed)
    return pd.concat(crosstab.build_tables(this, last, "solely_one").values(), ignore_index=True)


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def attack(published: pd.DataFrame, min_cell_n: int) -> list[str]:
    """Every hidden value (or small base) the published frame gives back, as a description."""
    pub = published.copy()
    found = []
    for year, mean_col, n_col in (("this year", "mean", "n"), ("last year", "mean_last", "n_last")):
        if mean_col not in pub.columns:
            continue
        m, n = _num(pub[mean_col]), _num(pub[n_col])
        informative = pub[n_col].notna() & ~(pub[n_col].astype(str).isin(["0", "", "nan"]))
        hidden = informative & m.isna()
        # partition of a breakdown against its whole-group row
        totals = pub[pub["attribute"] == "all"].drop_duplicates(["group", "question"]).set_index(["group", "question"])
        bd = pub[pub["attribute"] != "all"].drop_duplicates(KEYS)
        for (g, q, a), part in bd.groupby(["group", "question", "attribute"]):
            if (g, q) not in totals.index:
                continue
            tot = totals.loc[(g, q)]
            if not np.isfinite(_num(pd.Series([tot[n_col]])).iloc[0]):
                continue
            h = hidden.loc[part.index]
            inf = informative.loc[part.index]
            if int(h.sum()) == 1:
                found.append(
                    f"{year}: partition {g}/{a}/{q} has exactly one hidden cell "
                    f"({part.loc[h[h].index, 'category'].item()})"
                )
            if int(h.sum()) == 0 and inf.any():
                rest = _num(pd.Series([tot[n_col]])).iloc[0] - _num(part.loc[inf, n_col]).sum()
                if 0 < rest < min_cell_n and a != "rated_department":
                    found.append(f"{year}: partition {g}/{a}/{q} leaves out {rest:.0f} respondents, all else shown")
            # bases: one unknown base in a partition gives it by subtraction
            nb = _num(part.loc[inf, n_col])
            if int(nb.isna().sum()) == 1 and a != "rated_department" and inf.sum() > 1:
                found.append(f"{year}: base of a hidden cell in {g}/{a}/{q} follows by subtraction")
        # overall = mean of question means
        rows = pub.drop_duplicates(KEYS)
        for (g, a, c), row in rows.groupby(["group", "attribute", "category"]):
            ov = row[row["question"] == "overall"]
            qs = row[row["question"].isin(QUESTIONS)]
            if len(ov) and np.isfinite(_num(ov[mean_col]).iloc[0]):
                if int(hidden.loc[qs.index].sum()) == 1:
                    found.append(f"{year}: overall of {g}/{a}/{c} gives back its one hidden question")
        # small bases shown exactly
        small = (n > 0) & (n < min_cell_n)
        for i in pub.index[small]:
            found.append(f"{year}: base {int(n[i])} shown for {tuple(pub.loc[i, KEYS])}")
    # change with one of the two years hidden
    if {"change_pts", "mean", "mean_last"} <= set(pub.columns):
        ch = _num(pub["change_pts"]).notna()
        one = _num(pub["mean"]).isna() ^ _num(pub["mean_last"]).isna()
        for i in pub.index[ch & one]:
            found.append(f"change shown beside one hidden year for {tuple(pub.loc[i, KEYS])}")
    # the same cell in two tables: hidden in one, shown in another
    shown = pub.assign(_shown=_num(pub["mean"]).notna()).groupby(KEYS)["_shown"].nunique()
    for k in shown[shown > 1].index:
        found.append(f"cell {k} hidden in one table and shown in another")
    return found


def published(raw: pd.DataFrame, k: int) -> pd.DataFrame:
    out = []
    prot = apply_disclosure(raw, min_cell_n=k, caution_n=max(k, 10))
    for _, t in prot.groupby("table", sort=False):
        out.append(publishable_cells(t, k).frame)
    return pd.concat(out, ignore_index=True)


def test_before_the_attack_recovers_the_2017_service_placement_officers(raw_cells_unmerged):
    # primary suppression only and last year unprotected: what outputs/2018/tables held
    raw = raw_cells_unmerged
    t = raw[(raw["table"] == "officer_by_department") & (raw["question"] == "share")].set_index("category")
    tot = raw[(raw["table"] == "officer_by_question") & (raw["question"] == "share")].iloc[0]
    spt = [c for c in t.index if "Placement" in str(c)][0]
    assert t.loc[spt, "n_last"] < 5  # the small 2017 cell
    others = t.drop(index=spt)
    recovered = (tot["mean_last"] * tot["n_last"] - (others["mean_last"] * others["n_last"]).sum()) / t.loc[
        spt, "n_last"
    ]
    assert recovered == pytest.approx(t.loc[spt, "mean_last"], abs=1e-9)  # the leak the issue reports
    before = raw.copy()
    before.loc[before["n"] < 5, "mean"] = np.nan
    assert attack(before.assign(n=before["n"].astype(str), n_last=before["n_last"].astype(str)), 5)


@pytest.mark.slow
@pytest.mark.parametrize("k", THRESHOLDS)
def test_after_the_attacker_recovers_nothing(raw_cells, k):
    pub = published(raw_cells, k)
    assert attack(pub, k) == []


@pytest.mark.parametrize("k", THRESHOLDS)
def test_after_nothing_is_recovered_without_merges_either(raw_cells_unmerged, k):
    assert attack(published(raw_cells_unmerged, k), k) == []


@pytest.mark.parametrize("k", THRESHOLDS)
def test_hidden_values_really_are_undetermined(raw_cells, k):
    """Numerically: every identity applied to a hidden small cell gives a number that is not its value
    (or nothing at all), on both years' columns."""
    pub = published(raw_cells, k)
    truth = raw_cells.drop_duplicates(KEYS).set_index(KEYS)
    small = truth[(truth["n"] > 0) & (truth["n"] < k)]
    totals = truth.xs("all", level="attribute")
    for key in small.index:
        g, a, c, q = key
        if a == "all":
            continue
        part = pub[(pub["group"] == g) & (pub["attribute"] == a) & (pub["question"] == q)].drop_duplicates(KEYS)
        shown = part[_num(part["mean"]).notna()]
        tot = totals.loc[(g, "All", q)]
        rest_n = tot["n"] - _num(shown["n"]).sum()
        # the remainder pools the small cell with at least one other hidden cell or left-out respondents
        assert rest_n > truth.loc[key, "n"], key


def test_power_table_never_gives_a_hidden_base(raw_cells):
    from rmlib.disclosure import publishable_power

    prot = apply_disclosure(raw_cells, min_cell_n=5)
    bd = prot[prot["attribute"] != "all"][["table", *KEYS, "n", "suppressed"]]
    total = (
        prot[prot["attribute"] == "all"].drop_duplicates(["group", "question"]).set_index(["group", "question"])["n"]
    )
    power = bd.assign(
        n_rest=[total[(g, q)] - n for g, q, n in zip(bd["group"], bd["question"], bd["n"])],
        sd=0.8,
        mdd=0.5,
        n_needed=200,
    ).drop(columns="suppressed")
    out = publishable_power(power, prot, 5).frame
    hidden = bd["suppressed"].to_numpy()
    assert (out.loc[hidden, "n_rest"] == "").all() and out.loc[hidden, "mdd"].isna().all()
    assert not out.loc[hidden, "n"].str.fullmatch(r"\d+").any()
    ns = pd.to_numeric(out["n"], errors="coerce")
    assert not ((ns > 0) & (ns < 5)).any()
