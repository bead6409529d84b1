"""The frames the figures draw from: checks, types, order and the names of what they hold.

:func:`_prepare` is the defensive copy every figure starts from: it checks
the columns, coerces the types and blanks every estimate of a suppressed cell
again, whatever the caller passed.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..constants import GROUPS, QUESTIONS
from ._text import _label, _lower_first

#: Estimate columns blanked for suppressed cells (contract: every estimate).
_ESTIMATE_COLUMNS = (
    "mean",
    "ci_low",
    "ci_high",
    "change_pts",
    "change_pct",
    *(
        f"{k}_{s}"
        for k in ("rest", "last_year", "groups")
        for s in ("diff", "diff_low", "diff_high", "p", "p_adj", "welch_p", "bm_p", "prob_sup")
    ),
)
_FLAG_COLUMNS = ("rest_significant", "last_year_significant", "groups_significant")


def _require(df: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    """Raise a message naming ``func`` if ``df`` is not a frame or lacks one of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{func}: data must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"{func}: data is missing column(s) {missing}; has {list(df.columns)}")


def _bool(series: pd.Series) -> pd.Series:
    """A flag column as plain bool, missing read as False."""
    return series.astype("object").where(series.notna(), False).astype(bool)


def _prepare(data: pd.DataFrame, required: Sequence[str], func: str) -> pd.DataFrame:
    """Copy, check columns, coerce types, and blank suppressed estimates."""
    _require(data, required, func)
    df = data.copy()
    for col in ("suppressed", "caution", *_FLAG_COLUMNS):
        df[col] = _bool(df[col]) if col in df.columns else False
    for col in (
        "mean",
        "n",
        "ratings",
        "mean_last",
        "n_last",
        "ci_low",
        "ci_high",
        "change_pts",
        "change_pct",
        "rest_diff",
        "last_year_diff",
        "groups_diff",
    ):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    sup = df["suppressed"].to_numpy()
    if sup.any():
        for col in _ESTIMATE_COLUMNS:
            if col in df.columns:
                df.loc[sup, col] = np.nan
        for col in _FLAG_COLUMNS:
            df.loc[sup, col] = False
        df.loc[sup, "caution"] = False
    return df.reset_index(drop=True)


def _order(df: pd.DataFrame, col: str | None, order: Sequence | None, default_questions: bool = True) -> list:
    """The levels of ``col`` in drawing order: ``order`` if given, else the survey's order, else data order."""
    if col is None:
        return [None]
    if order is not None:
        return list(order)
    present = list(pd.unique(df[col].dropna()))
    if col == "question":
        if default_questions:
            return list(QUESTIONS)
        known = [q for q in (*QUESTIONS, "overall") if q in present]
        return known + [q for q in present if q not in known]
    if col == "group":
        known = [g for g in GROUPS if g in present]
        return known + [g for g in present if g not in known]
    return present


def _check_unique(df: pd.DataFrame, keys: Sequence[str], func: str) -> None:
    """Raise if ``df`` has more than one row per ``keys`` (saying which column differs)."""
    keys = [k for k in keys if k is not None]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        extra = [
            c
            for c in ("table", "group", "attribute", "category", "year")
            if c in df.columns and c not in keys and df.loc[dup, c].nunique() > 1
        ]
        hint = f" (rows differ in {extra}; filter data first or pass hue=)" if extra else ""
        first = df.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(f"{func}: expected one row per {keys}, found several for {first}{hint}")


def _single(df: pd.DataFrame, col: str, ignore: tuple = ()) -> Any:
    """The one value of ``col`` in ``df`` (ignoring ``ignore``), else None."""
    if col not in df.columns:
        return None
    values = [v for v in pd.unique(df[col].dropna()) if v not in ignore]
    return values[0] if len(values) == 1 else None


def _what(df: pd.DataFrame, y: str) -> str:
    """Plain-English name of the row variable: 'question', 'quadrant', ..."""
    if y == "question":
        return "question"
    if y == "category":
        attr = _single(df, "attribute", ("all", ""))
        return _lower_first(_label("attribute", attr)) if attr else "category"
    return _lower_first(_label("attribute", y))


def _context_label(df: pd.DataFrame, y: str | None = None) -> str:
    """'Providers', 'Officers, Trust', ... from the values the frame holds only one of."""
    parts = []
    group = _single(df, "group")
    if group is not None:
        parts.append(_label("group", group))
    if y != "question":
        q = _single(df, "question")
        if q is not None:
            parts.append(_label("question", q))
    if y != "category":
        cat = _single(df, "category")
        if cat not in (None, "All", ""):
            parts.append(str(cat))
    return ", ".join(parts)


def _flag_true(v: Any) -> bool:
    """True for a set flag (missing is False)."""
    try:
        return bool(v) and not pd.isna(v)
    except (TypeError, ValueError):
        return bool(v)
