"""rmlib.scoring: the definitions, checked against numbers worked out by hand in this file.

Every expected value below is written out as arithmetic in a comment, never produced by the code.
"""

import math

import numpy as np
import pandas as pd
import pytest

from rmlib import crosstab, scoring
from rmlib.constants import MATURITY_ELEMENTS, MATURITY_LEVELS

NC = "nc"  # marker for a "no contact" answer in the fixture below
BLANK = None


def _ratings(rows):
    """(respondent, group, question, department, answer) -> the processed ``ratings`` table."""
    out = []
    for rid, group, q, dep, ans in rows:
        out.append(
            {
                "respondent_id": rid,
                "group": group,
                "question": q,
                "department": dep,
                "score": np.nan if ans in (NC, BLANK) else float(ans),
                "no_contact": ans == NC,
            }
        )
    return pd.DataFrame(out)


# Three providers rating two departments on two questions.
#   P1: share finance 4, quality 2 | trust finance 3, quality no contact
#   P2: share finance 1, quality blank | trust finance no contact, quality no contact
#   P3: no contact everywhere (a "no-contact-only" respondent)
RATINGS = _ratings(
    [
        ("P1", "provider", "share", "finance", 4),
        ("P1", "provider", "share", "quality", 2),
        ("P1", "provider", "trust", "finance", 3),
        ("P1", "provider", "trust", "quality", NC),
        ("P2", "provider", "share", "finance", 1),
        ("P2", "provider", "share", "quality", BLANK),
        ("P2", "provider", "trust", "finance", NC),
        ("P2", "provider", "trust", "quality", NC),
        ("P3", "provider", "share", "finance", NC),
        ("P3", "provider", "share", "quality", NC),
        ("P3", "provider", "trust", "finance", NC),
        ("P3", "provider", "trust", "quality", NC),
    ]
)


def test_respondent_sums_by_hand():
    # the respondent sums the intervals and tests use (rmlib.crosstab.resampling_sums), whole-group rows
    s = crosstab.resampling_sums(RATINGS)
    s = (
        s[s["attribute"] == "all"]
        .astype({"respondent_id": str, "question": str})
        .set_index(["respondent_id", "question"])
    )
    # P1 share: 4 + 2 = 6 over 2 ratings; P1 trust: 3 over 1 rating, 1 no contact
    assert s.loc[("P1", "share"), ["sum", "count", "no_contact"]].tolist() == [6, 2, 0]
    assert s.loc[("P1", "trust"), ["sum", "count", "no_contact"]].tolist() == [3, 1, 1]
    # P2 share: 1 over 1 rating (the blank is neither a score nor no contact); P2 trust: 2 no contact
    assert s.loc[("P2", "share"), ["sum", "count", "no_contact"]].tolist() == [1, 1, 0]
    assert s.loc[("P2", "trust"), ["sum", "count", "no_contact"]].tolist() == [0, 0, 2]
    # P3: a row per question with count 0 and 2 no contact
    assert s.loc[("P3", "share"), ["sum", "count", "no_contact"]].tolist() == [0, 0, 2]


def test_cell_table_mean_n_ratings_no_contact_by_hand():
    cells = crosstab.by_attribute(RATINGS, None, "all").set_index("question")
    # share: (4 + 2 + 1) / 3 ratings = 7/3; n = 2 (P1, P2; P3 answered only no contact); no contact: P3's 2
    assert cells.loc["share", "mean"] == pytest.approx(7 / 3)
    assert cells.loc["share", ["n", "ratings", "no_contact"]].tolist() == [2, 3, 2]
    # trust: 3 / 1 rating = 3.0; n = 1 (P1); no contact: P1 1 + P2 2 + P3 2 = 5
    assert cells.loc["trust", "mean"] == pytest.approx(3.0)
    assert cells.loc["trust", ["n", "ratings", "no_contact"]].tolist() == [1, 1, 5]


def test_overall_is_mean_of_question_means_not_pooled_mean():
    ov = crosstab.by_attribute(RATINGS, None, "all").set_index("question").loc["overall"]
    # mean of question means: (7/3 + 3) / 2 = 2.6667; the pooled mean would be (7 + 3) / (3 + 1) = 2.5
    assert ov["mean"] == pytest.approx((7 / 3 + 3) / 2)
    assert ov["mean"] != pytest.approx(10 / 4)
    # n: P1 and P2 have a valid score; P3 (no contact only) is not counted, but its 4 no-contact answers are:
    # ratings 3 + 1 = 4; no contact 2 + 5 = 7
    assert ov[["n", "ratings", "no_contact"]].tolist() == [2, 4, 7]


def test_cell_table_by_department_each_rating_counts():
    labels = {"finance": "finance", "quality": "quality"}  # department id -> the label shown
    cells = crosstab.by_attribute(RATINGS, None, "rated_department", labels=labels).set_index(["category", "question"])
    # finance share: P1 4, P2 1 -> 5/2 = 2.5, n 2, P3's no contact 1
    assert cells.loc[("finance", "share"), ["mean", "n", "ratings", "no_contact"]].tolist() == [2.5, 2, 2, 1]
    # quality trust: nobody scored it -> mean NaN, n 0, no contact P1 + P2 + P3 = 3
    row = cells.loc[("quality", "trust")]
    assert math.isnan(row["mean"]) and row[["n", "ratings", "no_contact"]].tolist() == [0, 0, 3]
    # quality overall: only share has a mean (P1's 2) -> overall 2.0 over the available question; n 1
    assert cells.loc[("quality", "overall"), "mean"] == pytest.approx(2.0)
    assert cells.loc[("quality", "overall"), "n"] == 1


def test_overall_of_eight_questions():
    # eight question means 1..4 in steps: (1 + 1.5 + 2 + 2.5 + 3 + 3.5 + 4 + 2) / 8 = 19.5 / 8 = 2.4375
    assert scoring.overall_score([1, 1.5, 2, 2.5, 3, 3.5, 4, 2]) == pytest.approx(2.4375)
    # a question without any score is skipped: (2 + 3) / 2
    assert scoring.overall_score([2, np.nan, 3]) == pytest.approx(2.5)
    assert math.isnan(scoring.overall_score([np.nan, np.nan]))
    # 2016 providers, Figure 7: 17.86 / 8 = 2.2325, published 2.23
    assert scoring.overall_score([1.91, 2.32, 1.92, 2.23, 2.48, 2.38, 2.27, 2.35]) == pytest.approx(2.2325)


def test_cell_mean_definition():
    assert scoring.cell_mean(17.0, 6) == pytest.approx(17 / 6)
    out = scoring.cell_mean([6.0, 0.0], [2, 0])
    assert out[0] == 3.0 and math.isnan(out[1])


def test_overall_score_per_row_of_a_matrix():
    # rows: (2 + 3) / 2 = 2.5; only the second question: 4; no question at all: NaN
    out = scoring.overall_score(np.array([[2.0, 3.0], [np.nan, 4.0], [np.nan, np.nan]]))
    assert out[:2].tolist() == [2.5, 4.0] and math.isnan(out[2])
    # the statistic of rmlib.stats is the overall score of cell means: sums (6, 3) over counts (2, 1) -> (3 + 3) / 2
    assert scoring.overall_score(scoring.cell_mean([[6.0, 3.0]], [[2, 1]])).tolist() == [3.0]


def _members(rows):
    return pd.DataFrame(rows, columns=["respondent_id", "attribute", "category"])


def test_multi_select_rule_by_hand():
    m = _members(
        [
            ("a", "quadrant", "North"),
            ("b", "quadrant", "North"),
            ("b", "quadrant", "South"),
            ("c", "quadrant", "Mid"),
            ("c", "quadrant", "Mid"),  # a repeated choice is one choice
            ("d", "quadrant", None),
            ("d", "quadrant", "West"),  # a missing choice is a choice
            ("b", "role", "Manager"),
            ("e", "role", None),
        ]
    )
    sole = scoring.select_members(m, "quadrant")
    # a and c chose one quadrant; b two; d West and a missing one
    assert sole.values.tolist() == [["a", "quadrant", "North"], ["c", "quadrant", "Mid"]]
    both = scoring.select_members(m, "quadrant", multi_select_rule="any")
    assert both.values.tolist() == [
        ["a", "quadrant", "North"],
        ["b", "quadrant", "North"],
        ["b", "quadrant", "South"],
        ["c", "quadrant", "Mid"],
        ["d", "quadrant", "West"],
    ]
    # every attribute at once: b's only role is kept although b chose two quadrants; e's missing role is no row
    every = scoring.select_members(m)
    assert every.values.tolist() == [["a", "quadrant", "North"], ["b", "role", "Manager"], ["c", "quadrant", "Mid"]]
    assert scoring.select_members(m.iloc[:0], "quadrant").empty


def test_multi_select_rule_values_come_from_params():
    from rmlib.params import MULTI_SELECT_RULES, SPECS

    assert scoring.MULTI_SELECT_RULES is MULTI_SELECT_RULES
    assert SPECS["multi_select_rule"].default == MULTI_SELECT_RULES[0] == "solely_one"
    with pytest.raises(ValueError, match="multi_select_rule must be one of"):
        scoring.select_members(_members([]), "quadrant", multi_select_rule="some")


def test_change_definitions():
    # 2018 officers: 2.55 vs 2.36 -> 0.19 points; (2.55 / 2.36 - 1) x 100 = 8.05%
    assert scoring.change_pts(2.55, 2.36) == pytest.approx(0.19)
    assert scoring.pct_change(2.55, 2.36) == pytest.approx((2.55 / 2.36 - 1) * 100)
    assert scoring.pct_change(3.0, 2.0) == pytest.approx(50.0)  # 3 / 2 - 1 = 0.5
    assert math.isnan(scoring.pct_change(3.0, np.nan)) and math.isnan(scoring.pct_change(3.0, 0.0))
    arr = scoring.pct_change(np.array([2.0, 1.0]), np.array([1.0, 2.0]))
    assert arr.tolist() == [100.0, -50.0]  # 2/1 - 1 = +100%; 1/2 - 1 = -50%


def test_add_change_joins_last_year_on_keys():
    this = pd.DataFrame(
        {"group": ["officer", "officer"], "question": ["share", "trust"], "mean": [2.4, 2.5], "n": [5, 4]}
    )
    last = pd.DataFrame({"group": ["officer"], "question": ["share"], "mean": [2.0], "n": [4]})
    out = scoring.add_change(this, last, ["group", "question"]).set_index("question")
    # share: 2.4 - 2.0 = 0.4 points; 2.4 / 2.0 - 1 = +20%
    assert out.loc["share", "mean_last"] == 2.0 and out.loc["share", "n_last"] == 4
    assert out.loc["share", "change_pts"] == pytest.approx(0.4)
    assert out.loc["share", "change_pct"] == pytest.approx(20.0)
    # trust: no counterpart last year
    assert out.loc["trust", ["mean_last", "n_last", "change_pts", "change_pct"]].isna().all()
    with pytest.raises(ValueError, match="repeat"):
        scoring.add_change(this, pd.concat([last, last]), ["group", "question"])
    # no last year at all
    none = scoring.add_change(this, None, ["group", "question"])
    assert none[["mean_last", "n_last", "change_pts", "change_pct"]].isna().all().all()


@pytest.mark.parametrize(
    "mean, level",
    [
        (1.0, 1),
        (1.4999, 1),
        (1.5, 2),
        (2.0, 2),
        (2.4999, 2),
        (2.5, 3),
        (3.0, 3),
        (3.4999, 3),
        (3.5, 4),
        (4.0, 4),
    ],
)
def test_maturity_level_band_edges(mean, level):
    # nearest level: bounds half-way between the score points, a mean on a bound goes up
    assert scoring.maturity_level(mean) == level


def test_maturity_level_float_noise_and_nan_and_alternative():
    # (2.2 + 2.8) / 2 is 2.5 on paper; binary noise must not drop it to level 2
    assert scoring.maturity_level(2.5 - 1e-12) == 3
    assert math.isnan(scoring.maturity_level(np.nan))
    # equal quarters of the 1-4 range (1.75, 2.5, 3.25): 3.3 is level 4 there, level 3 by the nearest level
    assert scoring.maturity_level(3.3) == 3
    assert scoring.maturity_level(3.3, bands=scoring.MATURITY_BANDS_EQUAL) == 4
    assert scoring.maturity_level(1.7) == 2 and scoring.maturity_level(1.7, bands=scoring.MATURITY_BANDS_EQUAL) == 1
    s = scoring.maturity_level(pd.Series([1.2, np.nan, 3.6], index=[5, 6, 7]))
    assert s.index.tolist() == [5, 6, 7] and s.iloc[0] == 1 and pd.isna(s.iloc[1]) and s.iloc[2] == 4
    with pytest.raises(ValueError, match="increasing"):
        scoring.maturity_level(2.0, bands=(2.5, 1.5, 3.5))


def test_maturity_table_elements_and_levels():
    cells = pd.DataFrame(
        {
            "group": "provider",
            "category": "All",
            "question": ["share", "trust", "inclusion", "integration", "conflicts", "roles", "overall"],
            "mean": [1.91, 2.32, 1.49, 2.5, 3.5, 2.38, 2.23],
            "mean_last": [1.4, np.nan, 1.6, 2.4, 3.2, 2.0, 2.0],
        }
    )
    t = scoring.maturity_table(cells)
    # only the five elements (questions 1-5): roles and overall dropped
    assert t["question"].tolist() == ["share", "trust", "inclusion", "integration", "conflicts"]
    assert t["element"].tolist() == [MATURITY_ELEMENTS[q] for q in t["question"]]
    # 1.91 -> 2; 2.32 -> 2; 1.49 -> 1; 2.5 -> 3; 3.5 -> 4
    assert t["level"].tolist() == [2, 2, 1, 3, 4]
    assert t["level_name"].tolist() == [MATURITY_LEVELS[k] for k in (2, 2, 1, 3, 4)]
    # last year: 1.4 -> 1; NaN; 1.6 -> 2; 2.4 -> 2; 3.2 -> 3
    assert t["level_last"].iloc[0] == 1 and pd.isna(t["level_last"].iloc[1])
    assert t["level_last"].iloc[2:].tolist() == [2, 2, 3]


def test_definitions_are_stated():
    for key in ("cell_mean", "overall", "change_pct", "change_pts", "n", "maturity_level", "multi_select_rule"):
        assert scoring.DEFINITIONS[key]
    assert scoring.DEFINITIONS["overall"].startswith("mean of the eight question means")
    assert "1.5" in scoring.DEFINITIONS["maturity_level"] and "3.5" in scoring.DEFINITIONS["maturity_level"]
