"""The vocabulary every comment module shares: placeholders, the theme record, errors, checks."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import pandas as pd

#: Placeholder written in place of each kind of personal data.
PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "url": "[url]",
    "ni": "[NI number]",
    "phone": "[phone]",
    "postcode": "[postcode]",
    "name": "[name]",
}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
#: Theme given to an informative comment that matches no theme.
OTHER_THEME = "other"
OTHER_LABEL = "Other / not coded"
_GROUP_ORDER = ("provider", "officer")
_COMMENT_COLUMNS = ("respondent_id", "group", "field", "text")


class CommentsConfigError(ValueError):
    """A theme dictionary or redaction list is malformed.

    The message names the file, the offending key and what was expected.
    """


class RedactionLists(NamedTuple):
    """The two lists :func:`redact` takes, as read from ``params/redaction.yaml``.

    Unpacks in argument order: ``redact_comments(df, *lists)``.
    """

    deny_names: tuple[str, ...]
    allow_words: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    """One entry of the theme dictionary.

    Attributes
    ----------
    id : str
        Stable snake_case id used in tables (``money``).
    label : str
        Short label for reports.
    description : str
        What the theme covers (printed in the methods section).
    groups : tuple of str
        Groups whose comments can carry it (``provider``, ``officer``).
    keywords : tuple of str
        Lower-case regular expressions, matched case-insensitively at word
        boundaries.
    sources : tuple of str
        Where the theme comes from (2016 review Appendix D, 2018 report).
    """

    id: str
    label: str
    description: str
    groups: tuple[str, ...]
    keywords: tuple[str, ...]
    sources: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        """All keywords as one compiled, case-insensitive pattern."""
        return _compile_keywords(self.keywords)

    def applies_to(self, group: str) -> bool:
        """True if comments of ``group`` can carry this theme."""
        return group in self.groups

    def matches(self, text: str) -> bool:
        """True if any keyword occurs in ``text``."""
        return bool(self.pattern.search(text))


def _keyword_regex(keyword: str) -> str:
    """One keyword as a word-bounded pattern (a space matches any run of whitespace)."""
    return r"\b(?:" + re.sub(r" +", r"\\s+", keyword.strip()) + r")\b"


@functools.lru_cache(maxsize=None)
def _compile_keywords(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """All keywords of a theme as one case-insensitive pattern (cached: themes are matched per comment)."""
    return re.compile("|".join(_keyword_regex(k) for k in keywords), re.IGNORECASE)


def _group_key(group: str) -> tuple[int, str]:
    """Sort key: providers, then officers, then any other group by name."""
    return (_GROUP_ORDER.index(group) if group in _GROUP_ORDER else len(_GROUP_ORDER), str(group))


def _check_comments(comments: pd.DataFrame, name: str = "comments", extra: Sequence[str] = ()) -> None:
    """Raise unless ``comments`` is a frame with the comment columns (and ``extra``)."""
    if not isinstance(comments, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame, got {type(comments).__name__}")
    missing = [c for c in (*_COMMENT_COLUMNS, *extra) if c not in comments.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; expected "
            f"{list(_COMMENT_COLUMNS) + list(extra)}, got {list(comments.columns)}"
        )
