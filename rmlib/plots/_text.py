"""The words and numbers the figures print: labels, marks and number formats.

Every label of a withheld cell comes from :mod:`rmlib.labels` at the
threshold the caller passes (the run's ``min_cell_n``); nothing here holds a
threshold of its own.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np

from ..constants import ATTRIBUTE_LABEL, GROUP_LABEL, QUESTION_LABEL
from ..disclosure import DEFAULT_MIN_CELL_N
from ..labels import CAUTION_MARK, HIDDEN_LABEL, fewer_than, fewer_than_short

OVERALL_LABEL = "Overall score"
#: The labels at the default threshold (constants for callers; the figures quote the run's ``min_cell_n``).
SUPPRESSED_LABEL = fewer_than(DEFAULT_MIN_CELL_N)
SUPPRESSED_SHORT = fewer_than_short(DEFAULT_MIN_CELL_N)
HIDDEN_SHORT = HIDDEN_LABEL
NO_DATA_LABEL = "no data"
NOT_ASKED_LABEL = "not asked last year"
UP_MARK = "\u25b2"  # black up-pointing triangle
DOWN_MARK = "\u25bc"  # black down-pointing triangle
SIG_MARK = "*"
MINUS = "\u2212"
CAUTION_NOTE = f"{CAUTION_MARK} few respondents: interpret with caution."


def _sup_note(min_cell_n: int) -> str:
    """Footnote of a figure that shows a withheld cell: what the two labels mean."""
    return (
        f"'{fewer_than(min_cell_n)}': figure withheld to protect small groups "
        f"({fewer_than(min_cell_n)} respondents); "
        f"'{HIDDEN_SHORT}': hidden so that a small group's answers cannot be worked out."
    )


def _fmt_mean(v: float) -> str:
    """A mean score as printed: two decimals."""
    return f"{v:.2f}"


def _fmt_n(n: Any, min_cell_n: int) -> str:
    """A base as printed in a figure: the number, or "<N" below ``min_cell_n`` (never the small number)."""
    if n is None or not np.isfinite(n):
        return "?"
    n = int(round(float(n)))
    return fewer_than_short(min_cell_n) if n < min_cell_n else str(n)


def _fmt_change(v: float, value: str, unicode_minus: bool = True) -> str:
    """A change on last year, signed: "+2.5%" (``change_pct``) or "\u22120.12" (``change_pts``)."""
    minus = MINUS if unicode_minus else "-"
    if round(v, 1 if value == "change_pct" else 2) == 0:
        v = 0.0  # a change that rounds to nothing reads 0.0, never -0.0
    sign = "+" if v > 0 else (minus if v < 0 else "")
    if value == "change_pct":
        return f"{sign}{abs(v):.1f}%"
    return f"{sign}{abs(v):.2f}"


def _finite(v: Any) -> bool:
    """True for a value that is a finite number (None, NaN, text: False)."""
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _wrap(text: str, width: int) -> str:
    """Break ``text`` into lines of at most ``width`` characters, never inside a word."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _cap(text: str) -> str:
    """Upper-case the first letter only (keeps "ECC" and names)."""
    return text[:1].upper() + text[1:]


def _plural(what: str) -> str:
    """ "category" -> "categories", "question" -> "questions"."""
    return what[:-1] + "ies" if what.endswith("y") else what + "s"


def _extremes(recs: list[dict], key: str = "mean"):
    """The records with the highest and lowest finite ``key`` (None, None when there is none)."""
    ok = [r for r in recs if _finite(r.get(key))]
    if not ok:
        return None, None
    hi = max(ok, key=lambda r: r[key])
    lo = min(ok, key=lambda r: r[key])
    return hi, lo


def _label(col: str | None, value: Any) -> str:
    """The reader's label of a value of column ``col`` ("trust" -> "Trust", "officer" -> "Officers")."""
    if col == "question":
        if value == "overall":
            return OVERALL_LABEL
        return QUESTION_LABEL.get(value, str(value))
    if col == "group":
        return GROUP_LABEL.get(value, str(value))
    if col == "attribute":
        return ATTRIBUTE_LABEL.get(value, str(value))
    return str(value)


def _lower_first(text: str) -> str:
    """'Provider size' -> 'provider size', but 'ECC team' stays."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]
