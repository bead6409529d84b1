"""Plain-language sentences about comparisons (the report's findings)."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..constants import ATTRIBUTE_LABEL, GROUP_LABEL, QUESTION_LABEL
from ..labels import FEWER_THAN, fewer_than
from ._base import ALL, DEFAULT_MIN_CELL_N
from .tables import COMPARISON_KINDS


def _fmt(x: float, decimals: int) -> str:
    s = f"{x:.{decimals}f}"
    return "0" + s[2:] if s.startswith("-0") and float(s) == 0 else s


def _lower_label(label: str) -> str:
    """Lower-case a label for use mid-sentence, keeping acronyms such as ECC."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in label.split())


def _base(v, min_cell_n: int) -> str:
    """A base as a sentence prints it: the number, "fewer than N" below the threshold, "?" if missing."""
    if v is None or pd.isna(v):
        return "?"
    return fewer_than(min_cell_n) if v < min_cell_n else str(int(v))


def _who(g: str, a: str, c: str) -> str:
    """The subject: "Officers", "Providers' ratings of Finance", "Officers whose quadrant is North"."""
    glabel = GROUP_LABEL.get(g, g.capitalize())
    if a == ALL:
        return glabel
    if a == "rated_department":
        return f"{glabel}' ratings of {c}"
    return f"{glabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"


def _them(kind: str, g: str, a: str, c: str) -> str:
    """What the subject is compared with: the rest of its group, last year, or the other group."""
    glabel = GROUP_LABEL.get(g, g.capitalize())
    if kind == "rest" and a == "rated_department":
        return "their ratings of the other departments"
    if kind == "rest":
        return f"other {glabel.lower()}"
    if kind == "last_year":
        return "last year"
    other_g = {"provider": "officer", "officer": "provider"}.get(g, "others")
    olabel = GROUP_LABEL.get(other_g, other_g).lower()
    return olabel if a == ALL else f"{olabel} whose {_lower_label(ATTRIBUTE_LABEL.get(a, a))} is {c}"


def _withheld(row: Mapping[str, Any] | pd.Series, kind: str, them: str, qtext: str, min_cell_n: int) -> str | None:
    """The sentence for a comparison that cannot be shown (hidden cell, too few responses on
    either side, no comparison made), or None when there is one to describe."""
    n = row.get("n")
    n_other = row.get(f"{kind}_n_other")
    hidden = row.get("suppressed", False)
    hidden = False if hidden is None or pd.isna(hidden) else bool(hidden)
    if hidden and str(row.get("suppression", "")) == "complementary":
        return "Not shown, to protect a small group elsewhere in this table."
    if n is None or pd.isna(n) or n < min_cell_n or hidden:
        base = _base(n, min_cell_n)
        return (
            f"Too few responses to tell ({base})."
            if base.startswith(FEWER_THAN)
            else f"Too few responses to tell (n = {base})."
        )
    d = row.get(f"{kind}_diff")
    if d is None or pd.isna(d):
        if n_other is not None and not pd.isna(n_other) and n_other < min_cell_n:
            return f"Too few responses to tell (n = {_base(n, min_cell_n)} vs {_base(n_other, min_cell_n)})."
        return f"No comparison with {them} is available for {qtext}."
    return None


def _detail(
    row: Mapping[str, Any] | pd.Series, kind: str, paired: bool, sig: bool, decimals: int, level: float, min_cell_n: int
) -> str:
    """The parenthesis of a finding: means and bases, the difference with its interval, the verdict."""
    n, n_other = row.get("n"), row.get(f"{kind}_n_other")
    mean, other = row.get("mean"), row.get(f"{kind}_mean_other")
    d = row.get(f"{kind}_diff")
    low, high = row.get(f"{kind}_diff_low"), row.get(f"{kind}_diff_high")
    parts = []
    if paired:
        parts.append(f"the same providers, n = {_base(n_other, min_cell_n)}")
    elif mean is not None and not pd.isna(mean) and other is not None and not pd.isna(other):
        parts.append(
            f"{_fmt(mean, decimals)} vs {_fmt(other, decimals)}, "
            f"n = {_base(n, min_cell_n)} vs {_base(n_other, min_cell_n)}"
        )
    else:
        parts.append(f"n = {_base(n, min_cell_n)} vs {_base(n_other, min_cell_n)}")
    ci = ""
    if low is not None and not pd.isna(low):
        # an interval that excludes 0 must not print as if it reached it ("0.0 to 0.9"): more decimals
        dec = decimals
        while dec < 4 and (low > 0 or high < 0) and float(_fmt(min(abs(low), abs(high)), dec)) == 0:
            dec += 1
        ci = f", {round(level * 100):d}% CI {_fmt(low, dec)} to {_fmt(high, dec)}"
    parts.append(f"{'mean within-provider difference' if paired else 'difference'} {_fmt(d, decimals)}{ci}")
    parts.append("significant after correction" if sig else "not significant after correction")
    return "; ".join(parts)


def describe_finding(
    row: Mapping[str, Any] | pd.Series,
    kind: str = "rest",
    decimals: int = 1,
    level: float = 0.95,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> str:
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
    g, a, c, q = (str(row.get(k)) for k in ("group", "attribute", "category", "question"))
    qtext = "the overall score" if q == "overall" else QUESTION_LABEL.get(q, q).lower()
    who, them = _who(g, a, c), _them(kind, g, a, c)
    paired = kind == "rest" and a == "rated_department"
    withheld = _withheld(row, kind, them, qtext, min_cell_n)
    if withheld is not None:
        return withheld
    d = row.get(f"{kind}_diff")
    sig = row.get(f"{kind}_significant")
    sig = bool(sig) if sig is not None and not pd.isna(sig) else False
    detail = _detail(row, kind, paired, sig, decimals, level, min_cell_n)
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
