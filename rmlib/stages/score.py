"""Stage 2, score: question means, overall score, change on last year, maturity, trend (``notebooks/02_score``).

Definitions (each one function in :mod:`rmlib.scoring`, stated in the report):
the cell mean is the mean of all valid scores 1-4; the overall score is the
mean of the eight question means; % change is ``(this / last - 1) x 100``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import artefacts, crosstab, scoring
from ..dataset import YearData, available_years, load_year, load_years
from ..disclosure import merge_year
from ..params import Params

KEY = "score"
#: the tables this stage writes to the audit area and publishes, in writing order
TABLES = ("headline", "maturity", "responses_by_year", "trend_by_question")
BY_QUESTION = ("officer_by_question", "provider_by_question")


def load(P: Params) -> tuple[dict[int, YearData], YearData, YearData | None]:
    """Every processed year up to this one (read once; the trend needs them all), and this year and the
    compare year with the category merges (``merges``) applied; the trend and responses use the unmerged years.
    """
    years = load_years([y for y in available_years(P.processed_dir) if y <= P.year], P.processed_dir)
    this = years.get(P.year) or load_year(P.year, P.processed_dir)  # load_year says what is missing
    last = (years.get(P.compare_year) or load_year(P.compare_year, P.processed_dir)) if P.compare_year else None
    return years, merge_year(this, P.merges), merge_year(last, P.merges)


def headline(this: YearData, last: YearData | None) -> pd.DataFrame:
    """Respondents and overall score per group, this year and last, and the change."""
    return crosstab.headline(this, last)


def by_question(this: YearData, last: YearData | None, multi_select_rule: str) -> pd.DataFrame:
    """The officers' and the providers' by-question tables, from one reduction of each year's ratings."""
    specs = tuple(s for s in crosstab.REPORT_TABLES if s.id in BY_QUESTION)
    return pd.concat(crosstab.build_tables(this, last, multi_select_rule, specs=specs).values(), ignore_index=True)


def maturity(by_q: pd.DataFrame) -> pd.DataFrame:
    """Maturity level of the five elements per group (2016 review, Appendix H)."""
    return scoring.maturity_table(by_q)


def responses(years: dict[int, YearData]) -> pd.DataFrame:
    """Respondents per group in every processed year."""
    return crosstab.responses_by_year(years)


def trend(years: dict[int, YearData]) -> pd.DataFrame:
    """Question means of every processed year."""
    return crosstab.trend(years)


def write(P: Params, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Each of :data:`TABLES` to the audit area (for the later stages) and published through the gate."""
    out = {}
    for name in TABLES:
        out[name] = artefacts.write(P, name, tables[name])
        out[f"published_{name}"] = artefacts.publish(P, name, tables[name])
    return out


def compute(
    years: dict[int, YearData], this: YearData, last: YearData | None, multi_select_rule: str
) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLES`, in memory (the steps above in order; the benchmark times this)."""
    by_q = by_question(this, last, multi_select_rule)
    return {
        "headline": headline(this, last),
        "maturity": maturity(by_q),
        "responses_by_year": responses(years),
        "trend_by_question": trend(years),
    }


def run(P: Params) -> dict[str, Path]:
    """The score stage: :func:`load`, :func:`compute`, then :func:`write`."""
    years, this, last = load(P)
    return write(P, compute(years, this, last, P.multi_select_rule))
