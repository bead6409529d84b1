"""Stage 1, clean: the raw exports validated and tidied into the processed tables (``notebooks/01_clean``).

Steps: :func:`clean_year` (read, validate against the codebook, apply the
data policy), :func:`summary` (rows in = kept + excluded), :func:`write`
(the processed tables, the cleaning summary and the auditors' log).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import artefacts, clean
from ..params import Params

KEY = "clean"


def clean_year(P: Params) -> clean.CleanResult:
    """Read and validate the year's raw exports and tidy them (raises ValidationFailed listing every problem)."""
    return clean.clean_year(P)


def summary(result: clean.CleanResult) -> pd.DataFrame:
    """Rows in = kept + excluded, per file and reason; checked to add up (the methods section quotes it)."""
    table = result.summary()
    assert (table.rows_in == table.kept + table.excluded).all(), "cleaning summary: rows in != kept + excluded"
    return table


def write(P: Params, result: clean.CleanResult, table: pd.DataFrame) -> dict[str, Path]:
    """The processed tables (one atomic swap), the summary (audit and published) and the auditors' log.

    The auditors' log has no pseudonym: raw row + pseudonym would link a published
    respondent id to a raw export line.
    """
    clean.write_processed(result, P.processed_year_dir)
    out = {a.name: artefacts.path(P, a.name) for a in artefacts.produced_by(KEY) if a.area == "processed"}
    out["cleaning_summary"] = artefacts.write(P, "cleaning_summary", table)
    out["published_cleaning_summary"] = artefacts.publish(P, "cleaning_summary", table)
    out["cleaning_log"] = artefacts.write(P, "cleaning_log", result.log.drop(columns="respondent_id"))
    return out


def run(P: Params) -> dict[str, Path]:
    """The clean stage: :func:`clean_year`, :func:`summary`, :func:`write`."""
    result = clean_year(P)
    return write(P, result, summary(result))
