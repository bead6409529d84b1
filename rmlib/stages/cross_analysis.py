"""Stage 3, cross-analysis: every breakdown table of the report, no-contact answers, caveats
(``notebooks/03_cross_analysis``).

Each table is one :func:`rmlib.crosstab.build_table` call; the list with the
2018 report's titles is :data:`rmlib.crosstab.REPORT_TABLES`. Multi-select
attributes follow ``multi_select_rule``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import artefacts, crosstab
from ..dataset import YearData, load_codebooks, load_year
from ..disclosure import merge_year
from ..params import Params

KEY = "cross_analysis"


def load(P: Params) -> tuple[YearData, YearData | None]:
    """This year's and the compare year's processed data, with the category merges (``merges``) applied."""
    this = load_year(P.year, P.processed_dir)
    last = load_year(P.compare_year, P.processed_dir) if P.compare_year else None
    return merge_year(this, P.merges), merge_year(last, P.merges)


def tables(this: YearData, last: YearData | None, multi_select_rule: str) -> dict[str, pd.DataFrame]:
    """Every table of :data:`rmlib.crosstab.REPORT_TABLES`, by id."""
    return crosstab.build_tables(this, last, multi_select_rule)


def no_contact(this: YearData) -> pd.DataFrame:
    """Providers' 'no contact' answers by ECC department (2016 review, para 10.6)."""
    return crosstab.no_contact_table(this.ratings)


def caveats(
    P: Params, built: dict[str, pd.DataFrame], this: YearData, last: YearData | None, trend: pd.DataFrame
) -> pd.DataFrame:
    """Caveats generated from the data: categories not asked last year, cells of one respondent, relabelled
    departments, respondents the multi-select rule leaves out, missing years (``trend``: stage 2's trend)."""
    codebooks = load_codebooks([y for y in (P.year, P.compare_year) if y])
    return crosstab.caveats(built, this, last, multi_select_rule=P.multi_select_rule, codebooks=codebooks, trend=trend)


def cells(built: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """All tables' cells as one frame (unsuppressed: for the significance stage and auditors only)."""
    return pd.concat(built.values(), ignore_index=True)


def write(
    P: Params, cell_table: pd.DataFrame, no_contact_table: pd.DataFrame, caveat_table: pd.DataFrame
) -> dict[str, Path]:
    """The cells to the audit area; the no-contact table and the caveats to the audit area and published
    (the caveats lose small counts on the way out)."""
    out = {"cells": artefacts.write(P, "cells", cell_table)}
    for name, table in {"provider_no_contact": no_contact_table, "caveats": caveat_table}.items():
        out[name] = artefacts.write(P, name, table)
        out[f"published_{name}"] = artefacts.publish(P, name, table)
    return out


def run(P: Params) -> dict[str, Path]:
    """The cross-analysis stage: :func:`load`, :func:`tables`, :func:`no_contact`, :func:`caveats`, :func:`write`."""
    this, last = load(P)
    built = tables(this, last, P.multi_select_rule)
    found = caveats(P, built, this, last, artefacts.read(P, "trend_by_question"))
    return write(P, cells(built), no_contact(this), found)
