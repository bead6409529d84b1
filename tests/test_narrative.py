"""The officers' narrative file: shape checks, carry-forward, response rates, and the main points."""

import pandas as pd
import pytest
import yaml

from rmlib import narrative as nv
from rmlib import report
from rmlib.constants import QUESTIONS
from rmlib.params import load_params

GOOD = {
    "year": 2018,
    "context": "Some context.",
    "recommendations": [{"title": "Share earlier", "text": "Do it."}],
    "actions_from_last_year": [{"action": "Bulletin", "status": "done", "note": "monthly"}],
    "invited": {"provider": 100, "officer": 50, "by_category": {"provider": {"size": {"Small": 40}}}},
}


def test_a_good_document_has_no_problems_and_the_bundled_2018_file_is_valid(root):
    assert nv.validate(GOOD, "x.yaml", 2018) == []
    doc = nv.load(2018, root)
    assert doc["year"] == 2018 and doc["recommendations"] and doc["example"] is True


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"year": "2018"}, "year: must be a year"),
        ({"year": 2017}, "year: is 2017 but the file is for 2018"),
        ({"recommendations": [{"text": "no title"}]}, "recommendations item 1: needs a title"),
        ({"recommendations": "do better"}, "recommendations: must be a list"),
        ({"actions_from_last_year": [{"action": "x", "status": "finished"}]}, "status 'finished' is not one of"),
        ({"actions_from_last_year": [{"action": "x", "status": "done", "owner": "me"}]}, "unknown key(s) owner"),
        ({"invited": {"provider": -3}}, "invited.provider: must be a whole number"),
        ({"invited": {"provider": True}}, "invited.provider: must be a whole number"),
        ({"invited": {"providers": 3}}, "invited: unknown key 'providers'"),
        ({"invited": {"by_category": {"provider": {"size": {"Small": "forty"}}}}}, "invited.by_category.provider.size"),
        ({"context": 3}, "context: must be text"),
        ({"recomendations": []}, "unknown key 'recomendations'"),
        ({"example": "yes"}, "example: must be true or false"),
    ],
)
def test_each_bad_shape_is_one_line_naming_file_and_key(change, needle):
    problems = nv.validate({**GOOD, **change}, "2018.yaml", 2018)
    assert any(needle in p for p in problems), problems
    assert all(p.startswith("2018.yaml: ") and "\n" not in p for p in problems)


def test_not_a_mapping_and_bad_yaml_are_clear(tmp_path):
    assert nv.validate(["a"], "f.yaml") == ["f.yaml: must be a mapping of keys (year, recommendations, ...), got list"]
    f = tmp_path / "2018.yaml"
    f.write_text("year: [2018\n")
    with pytest.raises(nv.NarrativeError, match=r"^2018.yaml: not valid YAML"):
        nv.load(2018, path=f)
    assert nv.load(2019, root=tmp_path) is None  # no file: None, and the report says so


def test_carry_forward_turns_recommendations_into_actions_and_template_never_overwrites(tmp_path):
    (tmp_path / "params" / "narrative").mkdir(parents=True)
    (tmp_path / "params" / "narrative" / "2018.yaml").write_text(yaml.safe_dump({**GOOD, "survey_tool": "Online"}))
    path = nv.write_template(2019, tmp_path)
    doc = yaml.safe_load(path.read_text())
    assert doc["year"] == 2019 and doc["survey_tool"] == "Online" and doc["recommendations"] == []
    assert doc["actions_from_last_year"] == [{"action": "Share earlier: Do it.", "status": "not yet reported"}]
    assert "invited" not in doc and doc["context"] is None
    assert nv.validate(doc, "2019.yaml", 2019) == []  # the template itself is valid
    with pytest.raises(nv.NarrativeError, match="already exists"):
        nv.write_template(2019, tmp_path)


def test_response_rates_by_hand_and_small_categories_show_no_base():
    responses = {("provider", "all", "All"): 85, ("officer", "all", "All"): 97, ("provider", "size", "Small"): 3}
    rows = nv.response_rates(GOOD, responses, 5)
    by = {(r["group"], r["category"]): r for r in rows}
    assert by[("provider", "All")]["rate_pct"] == pytest.approx(85.0)
    assert by[("officer", "All")]["rate_pct"] == pytest.approx(194.0)  # 97 / 50: shown, not hidden
    assert by[("provider", "Small")]["responses"] is None and by[("provider", "Small")]["rate_pct"] is None
    assert nv.response_rates(None, responses, 5) == [] and nv.response_rates({"year": 2018}, responses, 5) == []


# ----------------------------------------------------------------------------- main points and changes
def _cells(provider_means, officer_means, last=None, sig_last=(), sig_groups=(), rest=None):
    """A hand-made tested cell table: by-question tables for both groups and the comparison."""
    rows = []
    for g, means in (("provider", provider_means), ("officer", officer_means)):
        for q, m in zip((*QUESTIONS, "overall"), means):
            ml = None if last is None else last[g][(*QUESTIONS, "overall").index(q)]
            rows.append(
                {
                    "table": f"{g}_by_question",
                    "group": g,
                    "attribute": "all",
                    "category": "All",
                    "question": q,
                    "mean": m,
                    "n": 40,
                    "mean_last": ml,
                    "n_last": 40 if ml else None,
                    "suppressed": False,
                    "last_year_significant": (g, q) in sig_last if ml else None,
                    "last_year_p_adj": 0.01 if (g, q) in sig_last else 0.5,
                    "rest_significant": None,
                    "rest_diff": None,
                }
            )
            rows.append(
                {
                    "table": "compare_by_question",
                    "group": g,
                    "attribute": "all",
                    "category": "All",
                    "question": q,
                    "mean": m,
                    "n": 40,
                    "suppressed": False,
                    "groups_significant": q in sig_groups,
                    "groups_diff": provider_means[(*QUESTIONS, "overall").index(q)]
                    - officer_means[(*QUESTIONS, "overall").index(q)],
                }
            )
    rows += rest or []
    return pd.DataFrame(rows)


P8 = [2.1, 2.9, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5]
O8 = [2.6, 2.6, 2.6, 2.0, 2.6, 3.1, 2.6, 2.6, 2.6]


@pytest.fixture
def params(root):
    return load_params(root / "params" / "2018.yaml")


def test_main_points_state_lowest_highest_and_the_differences_that_are_not_there(params):
    cells = _cells(P8, O8, last={"provider": [2.0] * 9, "officer": [2.6] * 9}, sig_last={("provider", "trust")})
    pts = report.main_points(cells, params)
    assert 5 <= len(pts) <= 8, pts
    text = " ".join(pts)
    assert "Providers rated Trust highest (2.90) and Share information lowest (2.10)." in pts
    assert "Officers rated Clear roles highest (3.10) and Integration lowest (2.00)." in text.replace(
        report.QUESTION_LABEL["roles"], "Clear roles"
    ).replace(report.QUESTION_LABEL["integration"], "Integration")
    assert "Providers and officers do not differ significantly on any of the 8 questions" in text
    assert "for providers 1 of 8 questions changed significantly: Trust (up 0.90)" in text
    assert "No question changed significantly since 2017 for officers (largest: " in text
    assert "No subgroup" in text
    assert "overall score of 2.50 out of 4 (40 responses), up 0.50 on 2017 (2.00): not a significant change" in text


def test_main_points_name_significant_gaps_and_subgroups_and_never_a_hidden_cell(params):
    rest = [
        {
            "table": "provider_by_size",
            "group": "provider",
            "attribute": "size",
            "category": "Medium",
            "question": "overall",
            "mean": 2.2,
            "n": 20,
            "suppressed": False,
            "rest_significant": True,
            "rest_diff": -0.4,
            "rest_mean_other": 2.6,
        },
        {
            "table": "provider_by_size",
            "group": "provider",
            "attribute": "size",
            "category": "Tiny",
            "question": "overall",
            "mean": None,
            "n": 3,
            "suppressed": True,
            "rest_significant": True,
            "rest_diff": -0.9,
            "rest_mean_other": 2.6,
        },
    ]
    cells = _cells(P8, O8, sig_groups={"share"}, rest=rest)
    text = " ".join(report.main_points(cells, params))
    assert "differ significantly on 1 of 8 questions: Share information (providers lower by 0.50)" in text
    assert "1 subgroup result differs significantly" in text
    assert "providers whose size is Medium scored lower than the rest on the overall score (2.20 vs 2.60)" in text
    assert "Tiny" not in text


def test_change_marks_follow_the_tests_not_the_size_of_the_change():
    cells = _cells(P8, O8, last={"provider": [2.0] * 9, "officer": [2.6] * 9}, sig_last={("officer", "roles")})
    rows = {r["question"]: r["groups"] for r in report.change_table(cells)}
    assert rows["trust"]["provider"]["mark"] == "same"  # +0.90 but not significant: no arrow
    assert rows["roles"]["officer"]["mark"] == "up"
    assert rows["share"]["provider"]["change_pts"] == pytest.approx(0.1)
    cells.loc[(cells["group"] == "officer") & (cells["question"] == "roles"), "mean"] = 2.2
    rows = {r["question"]: r["groups"] for r in report.change_table(cells)}
    assert rows["roles"]["officer"]["mark"] == "down"
    cells.loc[(cells["group"] == "officer") & (cells["question"] == "roles"), "suppressed"] = True
    rows = {r["question"]: r["groups"] for r in report.change_table(cells)}
    assert rows["roles"]["officer"] == {
        "mark": "none",
        "text": "no comparison",
        "mean": None,
        "mean_last": None,
        "change_pts": None,
    }


def test_no_minus_zero_and_dates_in_words():
    assert report._signed(-0.004, 2) == "0.00" and report._signed(-0.3, 0) == "0" and report._signed(0.6, 0) == "+1"
    assert report._signed(-1.26, 1) == "-1.3"
    assert report.date_in_words("2018-11-27") == "27 November 2018"
    assert report.date_in_words("2019-01-04") == "4 January 2019"
    assert report.date_in_words("not a date") == "not a date"


def test_both_lists_are_checked_item_by_item_with_their_own_keys():
    """Recommendations and actions share one check: the required text key, the allowed keys, and the
    check that belongs to each list (a recommendation's text, an action's status), in that order."""
    doc = {
        **GOOD,
        "recommendations": [{"title": "A", "text": 3, "status": "done"}, "plain text", {"title": " "}],
        "actions_from_last_year": [{"action": "B", "status": "late", "text": 3}, {"status": "done"}],
    }
    assert nv.validate(doc, "f.yaml", 2018) == [
        "f.yaml: recommendations item 1: unknown key(s) status",
        "f.yaml: recommendations item 1: text must be text, got 3",
        "f.yaml: recommendations item 2: needs a title (text)",
        "f.yaml: recommendations item 3: needs a title (text)",
        "f.yaml: actions_from_last_year item 1: status 'late' is not one of " + ", ".join(nv.ACTION_STATUSES),
        "f.yaml: actions_from_last_year item 1: unknown key(s) text",
        "f.yaml: actions_from_last_year item 2: needs an action (text)",
    ]
    assert nv.validate({**GOOD, "actions_from_last_year": {"a": 1}}, "f.yaml", 2018) == [
        "f.yaml: actions_from_last_year: must be a list, got dict"
    ]
