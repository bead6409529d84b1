"""The one definition of a run's parameter set: load, validate, resolve paths.

Every notebook's ``parameters`` cell declares exactly these names (a test
checks it), ``params/<year>.yaml`` gives their values, and papermill injects
them. Validation happens here and nowhere else, with messages that say which
parameter, what was expected and what was given.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from .paths import repo_root, resolve

CORRECTIONS = ("fdr_bh", "holm")
MULTI_SELECT_RULES = ("solely_one", "any")


class ParamsError(ValueError):
    """A parameter file or value is not what a run needs."""


@dataclass(frozen=True)
class Params:
    """One year's run parameters (see ``params/2018.yaml`` for a documented example)."""

    year: int
    compare_year: int | None
    codebook: str
    raw_dir: str
    processed_dir: str = "data/processed"
    output_dir: str = "outputs/{year}"
    audit_dir: str = "audit/{year}"
    fieldwork_start: str | None = None
    fieldwork_end: str | None = None
    multi_select_rule: str = "solely_one"
    min_cell_n: int = 5
    caution_n: int = 10
    correction: str = "fdr_bh"
    alpha: float = 0.05
    n_resamples: int = 9999
    seed: int = 2018
    themes: str = "params/themes.yaml"
    redaction: str = "params/redaction.yaml"
    synthetic: bool = True

    # ----------------------------------------------------------------- helpers
    def path(self, name: str) -> Path:
        """Absolute path of a path-valued parameter (``{year}`` filled in)."""
        value = getattr(self, name)
        return resolve(str(value).format(year=self.year))

    @property
    def processed_year_dir(self) -> Path:
        return self.path("processed_dir") / str(self.year)

    @property
    def compare_processed_dir(self) -> Path | None:
        if self.compare_year is None:
            return None
        return self.path("processed_dir") / str(self.compare_year)

    @property
    def fieldwork(self) -> tuple[dt.date | None, dt.date | None]:
        return _as_date(self.fieldwork_start), _as_date(self.fieldwork_end)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the declared parameters (what papermill injects)."""
        return dataclasses.asdict(self)


#: Names a notebook's ``parameters`` cell must declare, in order.
PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Params))


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Params)}


def _as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _check(problems: list[str], ok: bool, name: str, expected: str, given: Any) -> None:
    if not ok:
        problems.append(f"'{name}' must be {expected}, got {given!r}")


def validate(values: Mapping[str, Any], source: str = "parameters") -> Params:
    """Validate a mapping of parameters and return a :class:`Params`.

    All problems are reported at once.

    Examples
    --------
    >>> validate({"year": 2018, "compare_year": 2017, "codebook": "c.yaml", "raw_dir": "r"}).min_cell_n
    5
    """
    problems: list[str] = []
    values = dict(values)
    unknown = sorted(set(values) - set(PARAM_NAMES))
    if unknown:
        problems.append(f"unknown parameter(s) {unknown}; expected only {list(PARAM_NAMES)}")
    for required in ("year", "codebook", "raw_dir"):
        if values.get(required) in (None, ""):
            problems.append(f"'{required}' is required")
    if "compare_year" not in values:
        problems.append("'compare_year' is required (use null when there is no earlier year)")
    year = values.get("year")
    _check(problems, isinstance(year, int) and not isinstance(year, bool) and 2000 <= year <= 2100,
           "year", "a four-digit year such as 2018", year)
    cy = values.get("compare_year")
    if cy is not None:
        _check(problems, isinstance(cy, int) and not isinstance(cy, bool) and isinstance(year, int) and cy < year,
               "compare_year", f"an earlier year than year={year!r}, or null", cy)
    for name in ("min_cell_n", "caution_n", "n_resamples", "seed"):
        if name in values:
            v = values[name]
            _check(problems, isinstance(v, int) and not isinstance(v, bool) and v >= (0 if name == "seed" else 1),
                   name, "a positive whole number", v)
    min_n = values.get("min_cell_n", _DEFAULTS["min_cell_n"])
    caution = values.get("caution_n", _DEFAULTS["caution_n"])
    if isinstance(min_n, int) and isinstance(caution, int):
        _check(problems, caution >= min_n, "caution_n", f"at least min_cell_n ({min_n})", caution)
    if "n_resamples" in values and isinstance(values["n_resamples"], int):
        _check(problems, values["n_resamples"] >= 999, "n_resamples", "at least 999", values["n_resamples"])
    if "alpha" in values:
        a = values["alpha"]
        _check(problems, isinstance(a, (int, float)) and not isinstance(a, bool) and 0 < a < 1, "alpha",
               "a number between 0 and 1", a)
    if "correction" in values:
        _check(problems, values["correction"] in CORRECTIONS, "correction", f"one of {CORRECTIONS}", values["correction"])
    if "multi_select_rule" in values:
        _check(problems, values["multi_select_rule"] in MULTI_SELECT_RULES, "multi_select_rule",
               f"one of {MULTI_SELECT_RULES}", values["multi_select_rule"])
    if "synthetic" in values:
        _check(problems, isinstance(values["synthetic"], bool), "synthetic", "true or false", values["synthetic"])
    dates = {}
    for name in ("fieldwork_start", "fieldwork_end"):
        v = values.get(name)
        if v not in (None, ""):
            try:
                dates[name] = _as_date(v)
            except ValueError:
                problems.append(f"'{name}' must be a date written YYYY-MM-DD, got {v!r}")
    if len(dates) == 2 and dates["fieldwork_start"] > dates["fieldwork_end"]:
        problems.append(f"'fieldwork_start' ({dates['fieldwork_start']}) is after 'fieldwork_end' ({dates['fieldwork_end']})")
    if problems:
        raise ParamsError(f"{source}: " + "; ".join(problems))
    clean = {k: (str(v) if k in ("fieldwork_start", "fieldwork_end") and v is not None else v)
             for k, v in values.items() if k in PARAM_NAMES}
    return Params(**clean)


def load_params(path: str | Path) -> Params:
    """Read and validate ``params/<year>.yaml``."""
    p = resolve(path)
    if not p.is_file():
        raise ParamsError(f"parameter file not found: {p}")
    try:
        values = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise ParamsError(f"{p}: expected a mapping of parameter names to values, got {type(values).__name__}")
    return validate(values, source=str(p.relative_to(repo_root()) if p.is_relative_to(repo_root()) else p))


def from_notebook(namespace: Mapping[str, Any]) -> Params:
    """Build Params from a notebook's globals (after papermill injection)."""
    return validate({k: namespace[k] for k in PARAM_NAMES if k in namespace}, source="notebook parameters")
