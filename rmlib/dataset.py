"""Load a processed year: the researcher's entry point (``rmlib.load_year(2018)``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .paths import resolve

TABLES = ("respondents", "memberships", "ratings", "comments")


@dataclass
class YearData:
    """The tidy tables of one year (DESIGN.md section 3). ``comments`` holds raw text: redact before showing."""

    year: int
    respondents: pd.DataFrame
    memberships: pd.DataFrame
    ratings: pd.DataFrame
    comments: pd.DataFrame

    def n(self, group: str) -> int:
        """Respondents in a group."""
        return int((self.respondents["group"] == group).sum())


def load_year(year: int, processed_dir: str | Path = "data/processed") -> YearData:
    """Read ``<processed_dir>/<year>/*.parquet`` (run the clean stage first).

    Examples
    --------
    >>> data = load_year(2018)            # doctest: +SKIP
    >>> data.ratings.groupby("question", observed=True)["score"].mean()   # doctest: +SKIP
    """
    folder = resolve(processed_dir) / str(year)
    missing = [t for t in TABLES if not (folder / f"{t}.parquet").is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: no processed data for {year} (missing {missing}); "
                                f"run: python -m rmlib run params/{year}.yaml")
    frames = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}
    return YearData(year=year, **frames)


def available_years(processed_dir: str | Path = "data/processed") -> list[int]:
    """Years with processed data, ascending."""
    root = resolve(processed_dir)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir()
                  if p.is_dir() and p.name.isdigit() and (p / "ratings.parquet").is_file())
