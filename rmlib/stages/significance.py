"""Stage 4, significance: intervals, comparisons, correction, suppression, power (``notebooks/04_significance``).

The unit of inference is the respondent (a provider's ratings of ten
departments are one cluster). Every cell is compared with the rest of its
group, with last year and providers with officers; each distinct comparison
is adjusted once (``correction``), so *significant* always means after
correction. Cells with fewer than ``min_cell_n`` respondents show no mean
(:mod:`rmlib.disclosure`), and no side of a test has fewer than
``max(min_cell_n, stats.compare.MIN_TEST_N)`` respondents.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import artefacts, crosstab, disclosure, narrative, report, stats
from ..dataset import YearData
from ..params import Params
from .cross_analysis import load

KEY = "significance"


def sums(this: YearData, last: YearData | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Per respondent sums of each year's ratings, what every resampling draws from."""
    return crosstab.resampling_sums(this.ratings), crosstab.resampling_sums(last.ratings) if last is not None else None


def _settings(P: Params) -> dict:
    return dict(seed=P.seed, min_cell_n=P.min_cell_n, multi_select_rule=P.multi_select_rule)


def population(P: Params) -> dict[tuple[str, str, str], int]:
    """How many were invited, per (group, attribute, category), where the year's narrative file says
    (``params/narrative/<year>.yaml``; empty without one)."""
    return narrative.populations(narrative.load(P.year))


def intervals(
    P: Params, cells: pd.DataFrame, resp: pd.DataFrame, this: YearData, invited: dict[tuple[str, str, str], int]
) -> pd.DataFrame:
    """95% intervals for every cell (cluster bootstrap or t, by n), with the finite-population correction
    where ``invited`` (:func:`population`) says how many were invited and a large share answered."""
    cells = stats.add_intervals(cells, resp, this.memberships, n_boot=P.n_resamples, **_settings(P))
    return stats.finite_population_correction(cells, invited)


def compare(
    P: Params,
    cells: pd.DataFrame,
    resp: pd.DataFrame,
    this: YearData,
    resp_last: pd.DataFrame | None,
    last: YearData | None,
) -> pd.DataFrame:
    """Every comparison (rest of group, last year, providers with officers), tested and corrected."""
    return stats.compare_cells(
        cells,
        resp,
        this.memberships,
        resp_last=resp_last,
        memberships_last=last.memberships if last is not None else None,
        correction=P.correction,
        alpha=P.alpha,
        n_resamples=P.n_resamples,
        **_settings(P),
    )


def families(P: Params, cells: pd.DataFrame) -> pd.DataFrame:
    """Comparisons per family and the raw level the correction implies (before any tested cell is hidden)."""
    return stats.effective_alpha(cells, P.correction, P.alpha)


def protect(P: Params, cells: pd.DataFrame) -> pd.DataFrame:
    """The disclosure rule: small cells lose their mean and tests, caution marks below ``caution_n``."""
    return disclosure.apply_disclosure(cells, min_cell_n=P.min_cell_n, caution_n=P.caution_n)


def findings(P: Params, cells: pd.DataFrame) -> pd.DataFrame:
    """Every significant comparison (after correction) as a plain-language sentence, once."""
    return report.findings(cells, min_cell_n=P.min_cell_n)


def power(P: Params, cells: pd.DataFrame, resp: pd.DataFrame, this: YearData, fams: pd.DataFrame) -> pd.DataFrame:
    """Smallest difference detectable with 80% power, and responses needed for 0.25 points, at the raw level
    the correction implies."""
    return stats.power_table(
        cells,
        resp,
        this.memberships,
        diff=0.25,
        alpha=P.alpha,
        alphas=fams,
        correction=P.correction,
        multi_select_rule=P.multi_select_rule,
    )


def write(
    P: Params,
    cells: pd.DataFrame,
    power_table: pd.DataFrame,
    found: pd.DataFrame,
    fams: pd.DataFrame,
    head: pd.DataFrame,
) -> dict[str, Path]:
    """The tested cells, power, findings and families to the audit area; power (no base of a hidden cell),
    findings and families published; ``headlines.json`` from the cells and stage 2's ``head``."""
    tables = {"cells_tested": cells, "power": power_table, "findings": found, "comparison_families": fams}
    out = {name: artefacts.write(P, name, table) for name, table in tables.items()}
    out["published_power"] = artefacts.publish(P, "power", power_table, cells=cells)
    out["published_findings"] = artefacts.publish(P, "findings", found)
    out["published_comparison_families"] = artefacts.publish(P, "comparison_families", fams)
    out["headlines"] = report.write_headlines(cells, head, P, artefacts.path(P, "headlines"))
    return out


def run(P: Params) -> dict[str, Path]:
    """The significance stage: each step in order, then :func:`write`."""
    this, last = load(P)
    resp, resp_last = sums(this, last)
    cells = intervals(P, artefacts.read(P, "cells"), resp, this, population(P))
    cells = compare(P, cells, resp, this, resp_last, last)
    fams = families(P, cells)
    cells = protect(P, cells)
    found = findings(P, cells)
    return write(P, cells, power(P, cells, resp, this, fams), found, fams, artefacts.read(P, "headline"))
