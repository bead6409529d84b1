"""Normalisation: applied before any pattern, and nothing transforms the text after it."""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_ANY_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The form of a comment that is redacted and then published unchanged.

    Unicode NFKC (full-width digits and letters, ligatures, no-break and
    other compatibility spaces become their plain forms), zero-width and
    other invisible format characters removed (so ``077\u200b00 900123`` is
    a phone number), every run of whitespace of any kind (tab, CR/LF,
    no-break space, line/paragraph separator) made one space, ends stripped.
    :func:`redact` calls it first; nothing changes the text after redaction,
    so the patterns see exactly what is published.

    Examples
    --------
    >>> normalise_text("07700\u00a0900123\tcall  me\u200b")
    '07700 900123 call me'
    """
    t = unicodedata.normalize("NFKC", text)
    t = _ZERO_WIDTH.sub("", t)
    return _ANY_SPACE.sub(" ", t).strip()
