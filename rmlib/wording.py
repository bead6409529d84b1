"""How header and answer-label wording is compared: case, whitespace, quotes and dashes folded, never spelling.

One definition shared by everything that matches what an export says to what
a codebook says (:mod:`rmlib.layouts`, :mod:`rmlib.codebook`, :mod:`rmlib.io`,
:mod:`rmlib.clean`, :mod:`rmlib.draft`). It lives in a module of its own, with
no project imports, so that the ingest modules can all use it while importing
one another in one direction only (layouts <- codebook <- io <- clean).
"""

from __future__ import annotations

import re
from typing import Any

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\ufeff": None,
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
    }
)


def squash(text: Any) -> str:
    """Quotes, dashes and whitespace folded, case kept (what a message quotes back: the export's own letters).

    >>> squash("  Finance \u2013  How well\u00a0do we trust each other\u2019s? ")
    "Finance - How well do we trust each other's?"
    """
    if text is None:
        return ""
    return re.sub(r"\s+", " ", str(text).translate(_FOLD)).strip()


def normalise(text: Any) -> str:
    """Canonical form used to match headers and labels: case, spaces, quotes and dashes folded.

    Examples
    --------
    >>> normalise("  How  well do we TRUST each other\u2019s ")
    "how well do we trust each other's"
    >>> normalise("4 \u2013 Good") == normalise("4 - good")
    True
    """
    return squash(text).casefold()
