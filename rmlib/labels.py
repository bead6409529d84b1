"""How a withheld figure reads wherever it is published: one wording for every layer.

A cell with fewer than ``min_cell_n`` respondents shows no estimate and its
base is published only as "fewer than N"; a cell hidden to protect a small
neighbour reads "hidden". The tables, the workbook (which shades the rows
that carry these labels), the report, the figures and their descriptions, and
the findings sentences all take the wording from here, so it is changed in
one place and a reader meets the same words everywhere.

A core module: it imports nothing from the package, so every layer may use it.
The threshold is always passed in (the run's ``min_cell_n``); nothing here
holds state.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FEWER_THAN", "HIDDEN_LABEL", "CAUTION_MARK", "fewer_than", "fewer_than_short", "is_withheld_label"]

#: Opening words of the label of a small cell's base ("fewer than 5").
FEWER_THAN = "fewer than"
#: Label of a cell hidden by complementary suppression (its base is not small).
HIDDEN_LABEL = "hidden"
#: Mark appended to an estimate whose base is below ``caution_n``.
CAUTION_MARK = "\u2020"


def fewer_than(min_cell_n: int) -> str:
    """The label of a small cell's base: ``"fewer than 5"`` at ``min_cell_n = 5``.

    >>> fewer_than(10)
    'fewer than 10'
    """
    return f"{FEWER_THAN} {int(min_cell_n)}"


def fewer_than_short(min_cell_n: int) -> str:
    """The same label where there is room for three characters (a heat-map cell): ``"<5"``.

    >>> fewer_than_short(5)
    '<5'
    """
    return f"<{int(min_cell_n)}"


def is_withheld_label(value: Any) -> bool:
    """True for a published value that says a figure is withheld ("fewer than N" or "hidden").

    The workbook shades the rows that carry one.

    >>> is_withheld_label("fewer than 5"), is_withheld_label("hidden"), is_withheld_label("12"), is_withheld_label(3)
    (True, True, False, False)
    """
    return isinstance(value, str) and (value.startswith(FEWER_THAN) or value == HIDDEN_LABEL)
