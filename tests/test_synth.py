"""The synthetic example data: deterministic, labelled, and calibrated to every published figure.

Reference numbers come from tests/published_figures.yaml (the ECC documents), never from the code.
"""

import hashlib

import numpy as np
import pytest

from rmlib import crosstab, synth
from rmlib.clean import clean_year
from rmlib.dataset import YearData
from rmlib.io import read_manifest
from rmlib.params import load_params

QUESTIONS = ["share", "trust", "inclusion", "integration", "conflicts", "roles", "direction", "responsive"]


@pytest.fixture(scope="module")
def cleaned():
    out = {}
    for year in (2016, 2017, 2018):
        r = clean_year(load_params(f"params/{year}.yaml"))
        out[year] = YearData(year, r.respondents, r.memberships, r.ratings, r.comments)
    return out


def _by_question(data: YearData, group: str):
    t = crosstab.by_attribute(data.ratings, None, "all", groups=(group,))
    return t.set_index("question")["mean"]


def test_regeneration_is_byte_identical(root, tmp_path):
    synth.generate_all(out_dir=tmp_path)
    for year in (2016, 2017, 2018):
        committed = read_manifest(root / "data" / "raw" / str(year))
        assert committed, f"data/raw/{year}/MANIFEST.sha256 missing"
        for name, digest in committed.items():
            fresh = hashlib.sha256((tmp_path / str(year) / name).read_bytes()).hexdigest()
            assert fresh == digest, f"regenerating {year}/{name} gave different bytes"


def test_raw_readme_says_synthetic(root):
    text = (root / "data" / "raw" / "README.md").read_text().lower()
    assert "synthetic" in text and "calibrated" in text


@pytest.mark.parametrize("year", [2017, 2018])
def test_n_and_overall_per_group(cleaned, published, year):
    pub = published["years"][year]
    for group, key in (("officer", "officers"), ("provider", "providers")):
        assert cleaned[year].n(group) == pub[key]["n"]
        overall = _by_question(cleaned[year], group)["overall"]
        assert abs(overall - pub[key]["overall"]) < 0.005, (year, group, overall)


@pytest.mark.parametrize("group, key", [("provider", "providers"), ("officer", "officers")])
def test_2016_question_means(cleaned, published, group, key):
    means = _by_question(cleaned[2016], group)
    for q, value in published["years"][2016][key]["mean_by_question"].items():
        assert abs(means[q] - value) < 0.005, (group, q, means[q], value)


def test_2016_provider_overall_and_officer_note(cleaned, published):
    prov = _by_question(cleaned[2016], "provider")["overall"]
    assert round(prov, 2) == published["years"][2016]["providers"]["overall"]
    # officers' published 2.15 is not the mean of the published question means (2.156): ours is the latter
    q = published["years"][2016]["officers"]["mean_by_question"]
    off = _by_question(cleaned[2016], "officer")["overall"]
    assert abs(off - np.mean(list(q.values()))) < 0.005
    assert round(off, 2) == 2.16


def test_2016_no_contact_by_department(cleaned, published):
    table = crosstab.no_contact_table(cleaned[2016].ratings).set_index("department")["mean_per_question"]
    old_to_new = {
        "Procurement (aka Category Management)": "Procurement - Category Officers",
        "Community Agents": "Community Agents",
        "Commissioning Officers": "Commissioning Officers",
        "Adult Operations - Senior Managers": "Adult Operations - Senior Managers",
        "Adult Operations - Service Teams": "Adult Operations - Service Teams (including social workers)",
        "Adult Operations - Service Placement Team": "Service Placement Team",
        "Safeguarding": "Adults Safeguarding Team",
    }
    for dep, value in published["years"][2016]["providers"]["no_contact_mean_per_question"].items():
        assert round(table[old_to_new[dep]]) == value, dep


def test_realistic_small_cells(cleaned):
    m = cleaned[2018].memberships
    roles = m[m.attribute == "role"].category.value_counts()
    assert roles["Head of Service"] == 1
    quad = crosstab.select_members(m, "quadrant")
    officers = set(cleaned[2018].respondents.query("group == 'officer'").respondent_id)
    sole = quad[quad.respondent_id.isin(officers)].category.value_counts()
    assert sole["South"] < 5 and sole["Mid"] < 5
