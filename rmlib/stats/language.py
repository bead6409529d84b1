"""Plain-language sentences about comparisons (the report's findings)."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..constants import ATTRIBUTE_LABEL, GROUP_LABEL, QUESTION_LABEL
from ._base import ALL, DEFAULT_MIN_CELL_N
from .tables import COMPARISON_KINDS


def _fmt(x: float, decimals: int) -> str:
    s = f"{x:.{decimals}f}"
    return "0" + s[2:] if s.startswith("-0") and float(s) == 0 else s


def _lower_label(label: str) -> str:
    """Lower-case a label for use mid-sentence, keeping acronyms such as ECC."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in label.split())


def describe_finding(row: Mapping[str, Any] | pd.Series, kind: str = "rest", decimals: int = 1,
                     level: float = 0.95, min_cell_n: int = DEFAULT_MIN_CELL_N) -> str:
    """One plain-language sentence about a comparison in a cell-table row.

    Parameters
    ----------
    row : mapping or Series
        A row of :func:`compare_cells` output (``group, attribute, category,
        question, mean, n`` and the ``{kind}_*`` columns; ``suppressed`` is
        honoured if present).
    kind : {"rest", "last_year", "groups"}
    decimals : int
        Decimals for means and differences.
    level : float
        Confidence level quoted for the interval.
    min_cell_n : int
        Threshold quoted for small cells (never prints a suppressed n).

    Returns
    -------
    str

    Examples
    --------
    >>> row = {"group": "officer", "attribute": "quadrant", "category": "North", "question": "trust",
    ...        "mean": 2.9, "n": 12, "rest_diff": 0.5, "rest_diff_low": 0.1, "rest_diff_high": 0.9,
    ...        "rest_p_adj": 0.01, "rest_significant": True, "rest_mean_other": 2.4, "rest_n_other": 70}
    >>> describe_finding(row)
    'Officers whose quadrant is North scored higher than other officers on trust (2.9 vs 2.4, n = 12 vs 70; difference 0.5, 95% CI 0.1 to 0.9; significant after correction).'
    """
    if kind not in COMPARISON_KINDS:
        raise ValueError(f"kind must be one of {COMPARISON_KINDS}; got {kind!r}")
    g = str(row.get("group"))
    a = str(row.get("attribute"))
    c = str(row.get("category"))
    q = str(row.get("question"))
    glabel = GROUP_LABEL.get(g, g.capitalize())
    other_g = {"provider": "officer", "officer": "provider"}.get(g, "others")
    qtext = "the overall score" if q == "overall" else QUESTION_LABEL.get(q, q).lower()
    n = row.get("n")
    n_other = row.get(f"{kind}_n_other")

    def _n(v) -> str:
        if v is None or pd.isna(v):
            return "?"
        return f"fewer than {min_cell_n}" if v < min_cell_n else str(int(v))

    if a == ALL:
        who = glabel
    elif a == "rated_department":
        who = f"{glabel}' ratings of {c}"
    else:
        who = f"{glabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"
    paired = kind == "rest" and a == "rated_department"
    if paired:
        them = "their ratings of the other departments"
    elif kind == "rest":
        them = f"other {glabel.lower()}"
    elif kind == "last_year":
        them = "last year"
    else:
        olabel = GROUP_LABEL.get(other_g, other_g).lower()
        them = olabel if a == ALL else f"{olabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"
    hidden = row.get("suppressed", False)
    hidden = False if hidden is None or pd.isna(hidden) else bool(hidden)
    if hidden and str(row.get("suppression", "")) == "complementary":
        return "Not shown, to protect a small group elsewhere in this table."
    if n is None or pd.isna(n) or n < min_cell_n or hidden:
        return f"Too few responses to tell ({_n(n)})." if _n(n).startswith("fewer") \
            else f"Too few responses to tell (n = {_n(n)})."
    d = row.get(f"{kind}_diff")
    if d is None or pd.isna(d):
        if n_other is not None and not pd.isna(n_other) and n_other < min_cell_n:
            return f"Too few responses to tell (n = {_n(n)} vs {_n(n_other)})."
        return f"No comparison with {them} is available for {qtext}."
    mean = row.get("mean")
    other = row.get(f"{kind}_mean_other")
    low, high = row.get(f"{kind}_diff_low"), row.get(f"{kind}_diff_high")
    sig = row.get(f"{kind}_significant")
    sig = bool(sig) if sig is not None and not pd.isna(sig) else False
    parts = []
    if paired:
        parts.append(f"the same providers, n = {_n(n_other)}")
    elif mean is not None and not pd.isna(mean) and other is not None and not pd.isna(other):
        parts.append(f"{_fmt(mean, decimals)} vs {_fmt(other, decimals)}, n = {_n(n)} vs {_n(n_other)}")
    else:
        parts.append(f"n = {_n(n)} vs {_n(n_other)}")
    ci = ""
    if low is not None and not pd.isna(low):
        # an interval that excludes 0 must not print as if it reached it ("0.0 to 0.9"): more decimals
        dec = decimals
        while dec < 4 and (low > 0 or high < 0) and float(_fmt(min(abs(low), abs(high)), dec)) == 0:
            dec += 1
        ci = f", {round(level * 100):d}% CI {_fmt(low, dec)} to {_fmt(high, dec)}"
    parts.append(f"{'mean within-provider difference' if paired else 'difference'} {_fmt(d, decimals)}{ci}")
    parts.append("significant after correction" if sig else "not significant after correction")
    detail = "; ".join(parts)
    if sig:
        direction = "higher" if d > 0 else "lower"
        if paired:
            return f"Providers rated {c} {direction} than {them} on {qtext} ({detail})."
        verb = f"scored {direction} than {them}"
        return f"{who} {verb} on {qtext} ({detail})."
    if paired:
        return f"No clear difference between providers' ratings of {c} and {them} on {qtext} ({detail})."
    if kind == "last_year":
        return f"No clear change since last year for {who[0].lower() + who[1:]} on {qtext} ({detail})."
    return f"No clear difference between {who[0].lower() + who[1:]} and {them} on {qtext} ({detail})."
