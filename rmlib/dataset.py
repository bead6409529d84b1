"""Load processed years: the researcher's entry point (``rmlib.load_year(2018)``).

>>> import rmlib                                                   # doctest: +SKIP
>>> data = rmlib.load_year(2018)                                   # doctest: +SKIP
>>> years = rmlib.dataset.load_years()          # every processed year, {year: YearData}   # doctest: +SKIP
>>> rmlib.crosstab.trend(years)                 # question means per year and group        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .paths import resolve

TABLES = ("respondents", "memberships", "ratings", "comments")


@dataclass
class YearData:
    """The tidy tables of one year (docs/contracts.md, "Processed tables"). ``comments`` holds raw text: redact before showing.

    ``department_labels`` (optional) maps the stable department ids to the
    labels this year's survey used (from its codebook); tables then show
    this year's labels. Without it, the 2018 labels
    (``rmlib.constants.DEPARTMENTS``) are used for every year.
    """

    year: int
    respondents: pd.DataFrame
    memberships: pd.DataFrame
    ratings: pd.DataFrame
    comments: pd.DataFrame
    department_labels: dict[str, str] | None = None

    def n(self, group: str) -> int:
        """Respondents in a group."""
        return int((self.respondents["group"] == group).sum())


def department_labels(codebook) -> dict[str, str]:
    """Department id -> label from a codebook, or from its ``departments`` mapping ({label: id}).

    >>> department_labels({"Finance": "finance", "Safeguarding": "safeguarding"})
    {'finance': 'Finance', 'safeguarding': 'Safeguarding'}
    """
    deps = getattr(codebook, "departments", codebook)
    out: dict[str, str] = {}
    for label, dep_id in dict(deps).items():
        out.setdefault(str(dep_id), str(label))
    return out


def load_year(year: int, processed_dir: str | Path = "data/processed", codebook=None) -> YearData:
    """Read ``<processed_dir>/<year>/*.parquet`` (run the clean stage first).

    Parameters
    ----------
    year : int
    processed_dir : str or Path
        Relative paths resolve from the repository root.
    codebook : Codebook, path, mapping or None
        This year's codebook (a ``rmlib.codebook.Codebook``, a path to one,
        or its ``departments`` mapping ``{label: id}``): sets
        ``department_labels`` so tables show this year's department names.

    Examples
    --------
    >>> data = load_year(2018)            # doctest: +SKIP
    >>> data.ratings.groupby("question", observed=True)["score"].mean()   # doctest: +SKIP
    """
    folder = resolve(processed_dir) / str(year)
    missing = [t for t in TABLES if not (folder / f"{t}.parquet").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder}: no processed data for {year} (missing {missing}); run: python -m rmlib run params/{year}.yaml"
        )
    frames = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}
    labels = None
    if codebook is not None:
        if isinstance(codebook, (str, Path)):
            from .codebook import load_codebook

            codebook = load_codebook(resolve(codebook))
        labels = department_labels(codebook)
    return YearData(year=year, department_labels=labels, **frames)


def available_years(processed_dir: str | Path = "data/processed") -> list[int]:
    """Years with processed data, ascending."""
    root = resolve(processed_dir)
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit() and (p / "ratings.parquet").is_file()
    )


def load_years(
    years: Iterable[int] | None = None,
    processed_dir: str | Path = "data/processed",
    codebook_dir: str | Path | None = None,
) -> dict[int, YearData]:
    """Several processed years as ``{year: YearData}`` (default: :func:`available_years`).

    With ``codebook_dir`` (e.g. ``"params/codebooks"``), each year whose
    ``<codebook_dir>/<year>.yaml`` exists gets its ``department_labels``.
    """
    years = available_years(processed_dir) if years is None else sorted(int(y) for y in years)
    out = {}
    for y in years:
        cb = None
        if codebook_dir is not None:
            path = resolve(codebook_dir) / f"{y}.yaml"
            cb = path if path.is_file() else None
        out[y] = load_year(y, processed_dir, codebook=cb)
    return out


def load_codebooks(years: Iterable[int], codebook_dir: str | Path = "params/codebooks") -> dict:
    """``{year: Codebook}`` for the years whose ``<codebook_dir>/<year>.yaml`` exists (for caveats)."""
    from .codebook import load_codebook

    out = {}
    for y in years:
        path = resolve(codebook_dir) / f"{int(y)}.yaml"
        if path.is_file():
            out[int(y)] = load_codebook(path)
    return out
