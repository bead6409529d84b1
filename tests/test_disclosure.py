"""Tests for rmlib.disclosure: primary and complementary suppression, flags, display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rmlib.constants import QUESTIONS
from rmlib.disclosure import apply_disclosure, display_n, display_value, estimate_columns


def cells_from_scores(
    scores: dict[str, list[float]], question="trust", table="officer_by_role", group="officer", attribute="role"
) -> pd.DataFrame:
    """A published-style breakdown (whole group + categories) from respondents' scores."""
    rows = []
    allv = [v for vals in scores.values() for v in vals]
    rows.append((table, group, "all", "All", question, float(np.mean(allv)), len(allv), len(allv)))
    for cat, vals in scores.items():
        rows.append((table, group, attribute, cat, question, float(np.mean(vals)), len(vals), len(vals)))
    return pd.DataFrame(rows, columns=["table", "group", "attribute", "category", "question", "mean", "n", "ratings"])


def work_back(df: pd.DataFrame, target: str) -> float:
    """What a reader can compute for ``target`` from the shown total and other cells."""
    total = df[df["attribute"] == "all"].iloc[0]
    others = df[(df["attribute"] != "all") & (df["category"] != target)]
    known = total["mean"] * total["ratings"] - (others["mean"] * others["ratings"]).sum(skipna=False)
    return known / df.loc[df["category"] == target, "ratings"].item()


LEAKY = {
    "A": [1.0, 2.0, 1.0],
    "B": [3.0, 2.0, 3.0, 2.0, 3.0, 3.0, 2.0],
    "C": [3.0, 3.0, 2.0, 4.0, 3.0, 2.0, 3.0, 3.0, 2.0, 3.0, 4.0, 3.0],
    "D": [2.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0, 2.0, 2.0, 3.0, 3.0, 2.0, 4.0, 3.0, 2.0],
}


def test_built_to_leak_without_complementary_suppression():
    # Primary suppression alone: A (n = 3) is hidden but can be worked back exactly.
    df = cells_from_scores(LEAKY)
    primary_only = df.copy()
    primary_only.loc[primary_only["n"] < 5, "mean"] = np.nan
    assert work_back(primary_only, "A") == pytest.approx(np.mean(LEAKY["A"]), abs=1e-12)


def test_complementary_suppression_stops_the_leak():
    df = cells_from_scores(LEAKY)
    out = apply_disclosure(df)
    status = dict(zip(out["category"], out["suppression"]))
    assert status == {"All": "", "A": "primary", "B": "complementary", "C": "", "D": ""}
    assert out.loc[out["category"].isin(["A", "B"]), "mean"].isna().all()
    assert np.isnan(work_back(out, "A"))
    # Two different data sets give exactly the same published table but
    # different means for A: what remains cannot determine A.
    other = {k: list(v) for k, v in LEAKY.items()}
    other["A"][0] += 1.0  # A: 1, 2, 1 -> 2, 2, 1
    other["B"][0] -= 1.0  # B keeps the total unchanged
    out2 = apply_disclosure(cells_from_scores(other))
    pd.testing.assert_frame_equal(out, out2)
    assert np.mean(other["A"]) != np.mean(LEAKY["A"])


def test_ratio_means_leak_and_are_protected_too():
    # Provider-style cells: means are ratios (sum / ratings), ratings shown.
    rows = [
        ("t", "provider", "all", "All", "trust", 60 / 25, 12, 25),
        ("t", "provider", "size", "Small", "trust", 9 / 6, 3, 6),
        ("t", "provider", "size", "Medium", "trust", 21 / 8, 4 + 4, 8),
        ("t", "provider", "size", "Large", "trust", 30 / 11, 1 + 0, 11),
    ]
    df = pd.DataFrame(rows, columns=["table", "group", "attribute", "category", "question", "mean", "n", "ratings"])
    df.loc[3, "n"] = 6
    df.loc[0, "n"] = 17
    prim = df.copy()
    prim.loc[prim["n"] < 5, "mean"] = np.nan
    assert work_back(prim, "Small") == pytest.approx(9 / 6, abs=1e-12)
    out = apply_disclosure(df)
    # Large (n = 6) is smaller than Medium (n = 8): it is the complementary cell
    assert dict(zip(out["category"], out["suppression"]))["Large"] == "complementary"
    assert np.isnan(work_back(out, "Small"))


def test_complementary_ties_by_category_order_and_empty_cells():
    df = cells_from_scores({"A": [2.0] * 3, "B": [3.0] * 8, "C": [2.0] * 8, "D": [1.0] * 12})
    out = apply_disclosure(df)
    assert dict(zip(out["category"], out["suppression"]))["B"] == "complementary"  # first of the tied
    cat = df.copy()
    cat["category"] = pd.Categorical(cat["category"], categories=["All", "D", "C", "B", "A"], ordered=True)
    out = apply_disclosure(cat)
    status = dict(zip(out["category"].astype(str), out["suppression"]))
    assert status["C"] == "complementary" and status["B"] == ""
    # two primary cells: only their combined value is known, no complementary
    out = apply_disclosure(cells_from_scores({"A": [2.0] * 3, "B": [3.0] * 4, "C": [2.0] * 8}))
    assert "complementary" not in set(out["suppression"])
    # an empty category carries no information: one real small cell still needs a partner
    df = cells_from_scores({"A": [2.0] * 3, "C": [2.0] * 8, "D": [1.0] * 12})
    empty = df.iloc[[1]].assign(category="E", n=0, ratings=0, mean=np.nan)
    out = apply_disclosure(pd.concat([df, empty], ignore_index=True))
    assert dict(zip(out["category"], out["suppression"])) == {
        "All": "",
        "A": "primary",
        "C": "complementary",
        "D": "",
        "E": "primary",
    }


def test_breakdowns_are_separate_by_table_group_question_attribute():
    a = cells_from_scores(LEAKY, question="trust")
    b = cells_from_scores({"A": [2.0] * 6, "B": [3.0] * 8}, question="share")
    c = cells_from_scores({"X": [2.0] * 3, "Y": [3.0] * 20, "Z": [3.0] * 9}, attribute="size")
    out = apply_disclosure(pd.concat([a, b, c], ignore_index=True))
    assert (out["suppression"] != "").sum() == 4  # A+B in trust; X+Z in size; nothing in share
    assert out.loc[(out["category"] == "Z"), "suppression"].item() == "complementary"


def test_overall_rule_protects_a_single_hidden_question():
    # Category "North" has 5 respondents overall but only 4 answered
    # "inclusion": that question is hidden, the other seven are shown, and the
    # overall (mean of the eight question means) would give it away.
    rows = []
    for q in QUESTIONS:
        for cat, n in (("North", 4 if q == "inclusion" else 5), ("South", 30), ("East", 20)):
            rows.append(("t", "officer", "quadrant", cat, q, 2.0 + 0.1 * len(cat) + 0.01 * QUESTIONS.index(q), n))
    means = {r[4]: r[5] for r in rows if r[3] == "North"}
    overall = np.mean(list(means.values()))
    rows.append(("t", "officer", "quadrant", "North", "overall", overall, 5))
    rows.append(("t", "officer", "quadrant", "South", "overall", 2.5, 30))
    rows.append(("t", "officer", "quadrant", "East", "overall", 2.4, 20))
    df = pd.DataFrame(rows, columns=["table", "group", "attribute", "category", "question", "mean", "n"])
    shown = df[df["n"] >= 5]
    north = shown[(shown["category"] == "North") & (shown["question"] != "overall")]
    leaked = 8 * overall - north["mean"].sum()
    assert leaked == pytest.approx(means["inclusion"], abs=1e-12)  # the leak exists
    out = apply_disclosure(df)
    north_overall = out[(out["category"] == "North") & (out["question"] == "overall")]
    assert north_overall["suppression"].item() == "complementary"
    assert north_overall["mean"].isna().all()
    # inclusion breakdown: North primary, so the next smallest (East) goes too
    inc = out[out["question"] == "inclusion"].set_index("category")["suppression"]
    assert inc["North"] == "primary" and inc["East"] == "complementary"


def test_estimate_columns_blanked_counts_kept():
    df = cells_from_scores({"A": [2.0] * 3, "B": [3.0] * 8, "C": [2.0] * 12})
    n = len(df)
    df = df.assign(
        ci_low=1.0,
        ci_high=3.0,
        ci_method="cluster_t",
        mean_last=2.0,
        n_last=20,
        change_pts=0.1,
        change_pct=5.0,
        maturity_level=2,
        rest_diff=0.1,
        rest_diff_low=-0.1,
        rest_diff_high=0.3,
        rest_p=0.2,
        rest_p_adj=0.4,
        rest_significant=pd.array([False] * n, dtype="boolean"),
        rest_welch_p=0.2,
        rest_bm_p=0.3,
        rest_prob_sup=0.6,
        rest_mean_other=2.1,
        rest_n_other=pd.array([20] * n, dtype="Int64"),
        rest_p_method="exact",
        flag=np.array([True] * n),
    )
    before = df.copy()
    out = apply_disclosure(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    hidden = out[out["suppressed"]]
    est = estimate_columns(out.columns)
    assert {
        "mean",
        "ci_low",
        "ci_method",
        "maturity_level",
        "rest_significant",
        "rest_p_method",
        "rest_mean_other",
        "change_pct",
    } <= set(est)
    assert not {"n", "ratings", "rest_n_other", "n_last", "flag"} & set(est)
    assert hidden[[c for c in est if c != "mean_last"]].isna().all().all()
    # last year's value is its own layer (n_last = 20 here): it stays, but no change is shown beside it
    assert (hidden["mean_last"] == 2.0).all() and hidden["change_pts"].isna().all()
    assert hidden[["ratings", "rest_n_other"]].isna().all().all()  # they would give the base back
    assert (hidden["n"] == [3, 8]).all()
    shown = out[~out["suppressed"]]
    assert shown[est].notna().all().all()
    assert out["rest_significant"].dtype == "boolean"


def test_caution_flag():
    out = apply_disclosure(cells_from_scores({"A": [2.0] * 6, "B": [3.0] * 9, "C": [2.0] * 10}))
    assert dict(zip(out["category"], out["caution"])) == {"All": False, "A": True, "B": True, "C": False}
    assert not out["suppressed"].any()
    out = apply_disclosure(cells_from_scores({"A": [2.0] * 6, "B": [3.0] * 12}), min_cell_n=3, caution_n=7)
    assert dict(zip(out["category"], out["caution"]))["A"]


def test_comparisons_against_hidden_cells_are_blanked():
    off = cells_from_scores({"A": [2.0] * 3, "B": [3.0] * 8, "C": [2.0] * 12}, table="officer_by_x", attribute="x")
    prov = cells_from_scores(
        {"A": [2.0] * 9, "B": [3.0] * 8, "C": [2.0] * 12}, table="provider_by_x", group="provider", attribute="x"
    )
    df = pd.concat([off, prov], ignore_index=True).assign(
        groups_diff=0.2,
        groups_p=0.3,
        n_last=[20, 20, 4, 20] * 2,
        mean_last=2.0,
        change_pts=0.1,
        last_year_diff=0.1,
        rest_n_other=[0, 20, 20, 3] * 2,
        rest_diff=0.5,
    )
    out = apply_disclosure(df)
    p = out[out["group"] == "provider"].set_index("category")
    # the provider rows A and B are shown, but their officer partners are hidden
    assert not p.loc["A", "suppressed"] and np.isnan(p.loc["A", "groups_diff"])
    assert np.isnan(p.loc["B", "groups_diff"]) and p.loc["C", "groups_diff"] == 0.2
    # last year's cell had 4 respondents: its mean and the change are not shown
    assert np.isnan(p.loc["B", "mean_last"]) and np.isnan(p.loc["B", "change_pts"])
    assert np.isnan(p.loc["B", "last_year_diff"])
    # ... and last year's breakdown gets its own complementary cell (A, first of the tied 20s)
    assert p.loc["B", "suppression_last"] == "primary" and p.loc["A", "suppression_last"] == "complementary"
    assert np.isnan(p.loc["A", "mean_last"]) and p.loc["C", "mean_last"] == 2.0
    assert not p.loc["A", "suppressed"]  # this year's value of A is still shown
    # the rest of the group had 3 respondents
    assert np.isnan(p.loc["C", "rest_diff"]) and p.loc["B", "rest_diff"] == 0.5


def test_validation():
    df = cells_from_scores(LEAKY)
    with pytest.raises(ValueError, match="missing columns"):
        apply_disclosure(df.drop(columns="n"))
    with pytest.raises(ValueError, match="min_cell_n"):
        apply_disclosure(df, min_cell_n=10, caution_n=5)


def test_display_value_and_n():
    assert display_value(2.4467, 40, False, False) == "2.45"
    assert display_value(2.4467, 7, False, True) == "2.45\u2020"
    assert display_value(2.4467, 40, False, False, decimals=1) == "2.4"
    assert display_value(np.nan, 3, True, False) == "fewer than 5"
    assert display_value(2.1, 3, False, False) == "fewer than 5"  # never a small base's value
    assert display_value(np.nan, 4, True, False, min_cell_n=10) == "fewer than 10"
    assert display_value(np.nan, 12, True, True) == "not shown"
    assert display_value(None, 12, False, False) == ""
    assert display_n(12) == "12" and display_n(4) == "fewer than 5" and display_n(np.nan) == "fewer than 5"
    out = apply_disclosure(cells_from_scores(LEAKY))
    shown = [
        display_value(m, n, s, c) for m, n, s, c in out[["mean", "n", "suppressed", "caution"]].itertuples(index=False)
    ]
    assert shown[1:3] == ["fewer than 5", "not shown"] and shown[3].replace(".", "").isdigit()


def test_one_fewer_than_wording_in_every_layer():
    """The label of a small base is written once (rmlib.labels) and reads the same in the tables, the
    findings sentences, the report's cells, the figures' descriptions and the workbook's shading."""
    import rmlib.plots as plots
    from rmlib import disclosure, labels, report
    from rmlib.stats.language import describe_finding

    k = 7
    assert labels.fewer_than(k) == "fewer than 7" and labels.fewer_than_short(k) == "<7"
    assert disclosure.fewer_than is labels.fewer_than and disclosure.HIDDEN_LABEL == labels.HIDDEN_LABEL == "hidden"
    assert display_n(6, k) == display_value(np.nan, 6, True, False, min_cell_n=k) == "fewer than 7"
    row = {
        "group": "officer",
        "attribute": "role",
        "category": "A",
        "question": "trust",
        "n": 6,
        "suppressed": True,
        "suppression": "primary",
    }
    assert describe_finding(row, min_cell_n=k) == "Too few responses to tell (fewer than 7)."
    cell = report._cell(pd.Series({**row, "mean": np.nan}), "mean", k)
    assert cell["text"] == "fewer than 7" and cell["title"] == "fewer than 7 respondents: not shown"
    figure_cells = pd.DataFrame(
        {
            "question": list(QUESTIONS),
            "group": "officer",
            "mean": 2.5,
            "n": 20,
            "suppressed": [True] + [False] * 7,
            "suppression": ["primary"] + [""] * 7,
        }
    )
    assert "Not shown (fewer than 7 respondents): Share information." in plots.alt_text(
        "question_means", figure_cells, hue=None, min_cell_n=k
    )
    assert disclosure.soften_counts("the 3 of 85", k) == "fewer than 7 of the 85"
    # the workbook shades exactly the rows whose base or status carries one of the two labels
    assert [labels.is_withheld_label(v) for v in ("fewer than 7", "hidden", "12", "", None, 6, "Fewer")] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
