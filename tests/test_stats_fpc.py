"""Finite-population correction of cell intervals: hand-worked cases and a sampling simulation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from rmlib.narrative import populations
from rmlib.stats import FPC_MIN_FRACTION, finite_population_correction


def _cells(**kw):
    base = {
        "group": ["officer"],
        "attribute": ["all"],
        "category": ["All"],
        "question": ["trust"],
        "mean": [2.5],
        "n": [50],
        "ci_low": [2.0],
        "ci_high": [3.0],
        "ci_method": ["pseudo_t"],
    }
    base.update({k: [v] for k, v in kw.items()})
    return pd.DataFrame(base)


def test_half_width_shrinks_by_sqrt_one_minus_fraction():
    out = finite_population_correction(_cells(), {("officer", "all", "All"): 200})
    f = np.sqrt(1 - 50 / 200)  # hand-worked: 0.8660
    assert out.fpc[0] == pytest.approx(0.8660254)
    assert (out.ci_low[0], out.ci_high[0]) == pytest.approx((2.5 - 0.5 * f, 2.5 + 0.5 * f))
    assert out.ci_method[0] == "pseudo_t+fpc"


def test_asymmetric_bootstrap_interval_keeps_its_shape():
    out = finite_population_correction(
        _cells(ci_low=2.2, ci_high=3.0, ci_method="bootstrap_percentile"), {("officer", "all", "All"): 100}
    )
    f = np.sqrt(0.5)
    assert (out.ci_low[0], out.ci_high[0]) == pytest.approx((2.5 - 0.3 * f, 2.5 + 0.5 * f))


def test_small_fraction_unknown_population_and_missing_interval_are_left_alone():
    cells = pd.concat(
        [_cells(n=4), _cells(category="West", attribute="quadrant"), _cells(ci_low=np.nan, ci_high=np.nan)],
        ignore_index=True,
    )
    pop = {("officer", "all", "All"): int(4 / FPC_MIN_FRACTION) + 1}
    out = finite_population_correction(cells, pop)
    assert out.fpc.tolist() == [1.0, 1.0, 1.0]
    assert out.ci_method.tolist() == ["pseudo_t"] * 3
    pd.testing.assert_frame_equal(out.drop(columns="fpc"), cells)


def test_more_respondents_than_invited_is_an_error_naming_the_cell():
    with pytest.raises(ValueError, match="officer all 'All': 50 respondents but only 40 invited"):
        finite_population_correction(_cells(), {("officer", "all", "All"): 40})


def test_no_population_no_change():
    out = finite_population_correction(_cells(), {})
    assert out.fpc[0] == 1.0 and out.ci_low[0] == 2.0


def test_populations_from_the_officers_file():
    doc = {"invited": {"provider": 300, "officer": 220, "by_category": {"officer": {"quadrant": {"North": 40}}}}}
    assert populations(doc) == {
        ("provider", "all", "All"): 300,
        ("officer", "all", "All"): 220,
        ("officer", "quadrant", "North"): 40,
    }
    assert populations(None) == {} and populations({"year": 2018}) == {}


def test_corrected_interval_covers_the_population_mean_at_its_nominal_rate():
    """Sampling 45 of a finite population of 60 without replacement: the plain t interval over-covers;
    with the correction coverage is close to 95% (2000 draws; MC SE about 0.005)."""
    rng = np.random.default_rng(20181127)
    population = rng.choice([1, 2, 3, 4], size=60, p=[0.15, 0.3, 0.35, 0.2]).astype(float)
    mu, n, N, reps = population.mean(), 45, 60, 2000
    plain = fpc = 0
    rows = []
    for _ in range(reps):
        x = rng.choice(population, size=n, replace=False)
        m, se = x.mean(), x.std(ddof=1) / np.sqrt(n)
        h = st.t.ppf(0.975, n - 1) * se
        rows.append((m, m - h, m + h))
        plain += m - h <= mu <= m + h
    cells = pd.DataFrame(
        {
            "group": "officer",
            "attribute": "all",
            "category": "All",
            "question": "trust",
            "mean": [r[0] for r in rows],
            "n": n,
            "ci_low": [r[1] for r in rows],
            "ci_high": [r[2] for r in rows],
            "ci_method": "cluster_t",
        }
    )
    out = finite_population_correction(cells, {("officer", "all", "All"): N})
    fpc = ((out.ci_low <= mu) & (mu <= out.ci_high)).mean()
    assert plain / reps > 0.98  # without the correction: far too wide
    assert 0.93 <= fpc <= 0.97
