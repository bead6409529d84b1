"""Theme coding: which themes each informative comment carries, and how often each theme occurs."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ._base import _PLACEHOLDER_RE, OTHER_LABEL, OTHER_THEME, Theme, _check_comments, _group_key
from .config import parse_theme_dictionary
from .patterns import _EMPTY_COMMENT


def is_informative(text: Any) -> bool:
    """False for blank or content-free answers ("n/a", "none", "no comment", "-")."""
    if not isinstance(text, str):
        return False
    return not _EMPTY_COMMENT.match(text.strip())


def _informative(comments: pd.DataFrame) -> pd.DataFrame:
    """The rows whose text says something (:func:`is_informative`)."""
    keep = comments["text"].map(is_informative).astype(bool)
    return comments.loc[keep]


def _as_themes(themes: Sequence[Theme] | Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Theme]:
    """Themes as Theme records: parsed and validated when given as a mapping or list of mappings."""
    if isinstance(themes, Mapping):
        return parse_theme_dictionary(themes)
    themes = list(themes)
    if all(isinstance(t, Theme) for t in themes):
        return themes
    return parse_theme_dictionary({"themes": themes})


def code_themes(comments: pd.DataFrame, themes: Sequence[Theme]) -> pd.DataFrame:
    """Code each informative comment with every matching theme.

    Parameters
    ----------
    comments : DataFrame
        ``respondent_id, group, field, text`` (raw or redacted; one row per
        respondent and field).
    themes : list of Theme
        From :func:`load_theme_dictionary` (a parsed mapping is accepted).

    Returns
    -------
    DataFrame
        Long form ``respondent_id, group, field, theme``: one row per comment
        and theme, ``theme == "other"`` when no applicable theme matched.
        Blank and content-free comments (:func:`is_informative`) get no row.
        Sorted by group (providers first), respondent, field, then theme in
        dictionary order.

    Examples
    --------
    >>> t = [Theme("money", "Money", "", ("provider", "officer"), (r"fund\\w*",))]
    >>> df = pd.DataFrame({"respondent_id": ["P1", "P2"], "group": "provider",
    ...                    "field": "c", "text": ["Underfunded? No: funding cut", "Lovely staff"]})
    >>> code_themes(df, t)["theme"].tolist()
    ['money', 'other']
    """
    _check_comments(comments)
    theme_list = _as_themes(themes)
    dup = comments.duplicated(["respondent_id", "field"], keep=False)
    if dup.any():
        pairs = comments.loc[dup, ["respondent_id", "field"]].drop_duplicates().head(5)
        raise ValueError(
            "comments must have one row per respondent and field; duplicated "
            f"(respondent_id, field): {list(map(tuple, pairs.to_numpy()))}"
        )
    order = {t.id: i for i, t in enumerate(theme_list)}
    order[OTHER_THEME] = len(theme_list)
    rows = []
    informative = _informative(comments)
    for rid, group, field, raw in zip(
        informative["respondent_id"], informative["group"], informative["field"], informative["text"]
    ):
        text = _PLACEHOLDER_RE.sub(" ", raw)
        found = [t.id for t in theme_list if t.applies_to(group) and t.matches(text)]
        rows.extend((rid, group, field, theme) for theme in found or [OTHER_THEME])
    rows.sort(key=lambda r: (_group_key(r[1]), str(r[0]), str(r[2]), order[r[3]]))
    return pd.DataFrame(rows, columns=["respondent_id", "group", "field", "theme"], dtype=object)


def theme_labels(themes: Sequence[Theme]) -> dict[str, str]:
    """``{theme id: label}`` including ``other``."""
    labels = {t.id: t.label for t in _as_themes(themes)}
    labels[OTHER_THEME] = OTHER_LABEL
    return labels


def theme_counts(coded: pd.DataFrame, comments: pd.DataFrame, themes: Sequence[Theme] | None = None) -> pd.DataFrame:
    """Frequency of each theme per group.

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`code_themes`.
    comments : DataFrame
        The comments that were coded (gives the base: respondents in the
        group with at least one informative comment).
    themes : list of Theme, optional
        If given, every theme applicable to a group appears (with zeros),
        and ``label`` comes from the dictionary.

    Returns
    -------
    DataFrame
        ``group, theme, label, comments, respondents, base, pct_respondents``
        where ``comments`` counts coded comments (respondent x field),
        ``respondents`` distinct respondents, ``base`` the commenting
        respondents of the group and ``pct_respondents = 100 * respondents /
        base``. A respondent with several themes counts once in each theme,
        so percentages add up to more than 100. Sorted by group, then
        respondents (descending), then theme id, ``other`` last.
    """
    _check_comments(comments)
    for col in ("respondent_id", "group", "field", "theme"):
        if col not in coded.columns:
            raise ValueError(f"coded is missing column {col!r}; pass the output of code_themes()")
    informative = _informative(comments)
    base = informative.groupby("group")["respondent_id"].nunique()
    known = set(map(tuple, informative[["respondent_id", "group"]].drop_duplicates().to_numpy()))
    stray = [k for k in map(tuple, coded[["respondent_id", "group"]].drop_duplicates().to_numpy()) if k not in known]
    if stray:
        raise ValueError(
            "coded has respondents with no informative comment in `comments` "
            f"(were different frames passed?): {stray[:5]}"
        )
    uniq = coded.drop_duplicates(["respondent_id", "group", "field", "theme"])
    counts = (
        uniq.groupby(["group", "theme"])
        .agg(comments=("field", "size"), respondents=("respondent_id", "nunique"))
        .reset_index()
    )
    labels: dict[str, str] = {OTHER_THEME: OTHER_LABEL}
    if themes is not None:
        theme_list = _as_themes(themes)
        labels.update(theme_labels(theme_list))
        # every group that appears in `comments`, even with no informative comment
        groups = sorted(set(comments["group"].dropna()) | set(counts["group"]), key=_group_key)
        full = [(g, t.id) for g in groups for t in theme_list if t.applies_to(g)]
        full += [(g, OTHER_THEME) for g in groups]
        idx = pd.MultiIndex.from_tuples(full, names=["group", "theme"])
        extra = set(map(tuple, counts[["group", "theme"]].to_numpy())) - set(full)
        if extra:
            raise ValueError(f"coded has themes not in the theme dictionary: {sorted(extra)[:5]}")
        counts = counts.set_index(["group", "theme"]).reindex(idx, fill_value=0).reset_index()
    counts["label"] = counts["theme"].map(lambda t: labels.get(t, t))
    counts["comments"] = counts["comments"].astype("int64")
    counts["respondents"] = counts["respondents"].astype("int64")
    counts["base"] = counts["group"].map(base).fillna(0).astype("int64")
    counts["pct_respondents"] = np.where(
        counts["base"] > 0, 100.0 * counts["respondents"] / counts["base"].where(counts["base"] > 0, 1), np.nan
    )
    counts = counts.assign(_g=counts["group"].map(_group_key), _o=counts["theme"] == OTHER_THEME)
    counts = counts.sort_values(
        ["_g", "_o", "respondents", "theme"], ascending=[True, True, False, True], kind="mergesort"
    )
    cols = ["group", "theme", "label", "comments", "respondents", "base", "pct_respondents"]
    return counts[cols].reset_index(drop=True)
