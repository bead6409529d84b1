"""Example quotes: a deterministic pick of redacted comments per group and theme, checked again."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from ._base import OTHER_THEME, _check_comments, _group_key
from .redact import structured_leaks
from .themes import is_informative


def _check_quote_inputs(
    coded: pd.DataFrame, redacted_comments: pd.DataFrame, per_theme: int, min_words: int, max_words: int
) -> None:
    """Refuse comments that have not been through :func:`redact_comments`, and bad arguments."""
    if "redactions" not in getattr(redacted_comments, "columns", ()):
        raise ValueError(
            "example_quotes needs redacted comments: pass the output of "
            "redact_comments() (it has a 'redactions' column); got columns "
            f"{list(getattr(redacted_comments, 'columns', []))}"
        )
    _check_comments(redacted_comments, "redacted_comments", extra=("redactions",))
    for col in ("respondent_id", "group", "field", "theme"):
        if col not in coded.columns:
            raise ValueError(f"coded is missing column {col!r}; pass the output of code_themes()")
    if not isinstance(per_theme, (int, np.integer)) or per_theme < 1:
        raise ValueError(f"per_theme must be a positive int, got {per_theme!r}")
    if not (0 < min_words <= max_words):
        raise ValueError(f"need 0 < min_words <= max_words, got {min_words}, {max_words}")


def _candidates(coded: pd.DataFrame, redacted_comments: pd.DataFrame, include_other: bool) -> pd.DataFrame:
    """Coded comments with their redacted text, informative ones only; raises if any still holds
    pattern-found personal data (the raw comments were passed)."""
    cand = coded.merge(
        redacted_comments[["respondent_id", "group", "field", "text", "redactions"]],
        on=["respondent_id", "group", "field"],
        how="inner",
    )
    if not include_other:
        cand = cand[cand["theme"] != OTHER_THEME]
    cand = cand[cand["text"].map(is_informative).astype(bool)]
    for text in cand["text"].drop_duplicates():
        leaks = structured_leaks(text)
        if leaks:
            raise ValueError(
                f"redacted_comments still contains personal data ({', '.join(leaks)}): "
                "pass the output of redact_comments(), not the raw comments"
            )
    return cand


def _pick(sub: pd.DataFrame, group, theme, per_theme: int, seed: int, min_words: int, max_words: int) -> list[tuple]:
    """Up to ``per_theme`` quotes of one group x theme: seeded shuffle, comments without a
    placeholder first, one per respondent, long ones cut to ``max_words`` words."""
    sub = sub.sort_values(["respondent_id", "field"], kind="mergesort").reset_index(drop=True)
    words = sub["text"].str.split().str.len()
    fits = (words >= min_words) & (words <= max_words)
    pool = sub[fits] if fits.any() else sub
    rng = np.random.default_rng([int(seed), zlib.crc32(str(group).encode()), zlib.crc32(str(theme).encode())])
    perm = rng.permutation(len(pool))
    pool = pool.iloc[perm]
    pool = pool.assign(_has=(pool["redactions"] > 0)).sort_values("_has", kind="mergesort")
    rows: list[tuple] = []
    seen: set[str] = set()
    for rec in pool.itertuples(index=False):
        if rec.respondent_id in seen:
            continue
        seen.add(rec.respondent_id)
        quote = rec.text  # normalised before redaction: published exactly as redacted
        ws = quote.split(" ")
        if len(ws) > max_words:
            quote = " ".join(ws[:max_words]) + " ..."
        rows.append((group, theme, len(rows) + 1, rec.respondent_id, rec.field, quote, int(rec.redactions)))
        if len(rows) >= per_theme:
            break
    return rows


def example_quotes(
    coded: pd.DataFrame,
    redacted_comments: pd.DataFrame,
    per_theme: int = 2,
    seed: int = 0,
    min_words: int = 5,
    max_words: int = 60,
    include_other: bool = False,
) -> pd.DataFrame:
    """Pick up to ``per_theme`` redacted quotes for each group and theme.

    Selection is deterministic for a given ``seed``: within a group x theme
    the candidate comments are ordered by (respondent_id, field), shuffled by
    a generator seeded with ``(seed, crc32(group), crc32(theme))``, and
    comments without any placeholder are preferred; at most one quote per
    respondent per theme. Comments of ``min_words`` to ``max_words`` words
    are used; if a theme has none, longer ones are cut to ``max_words``
    words and end with " ...".

    Parameters
    ----------
    coded : DataFrame
        Output of :func:`code_themes`.
    redacted_comments : DataFrame
        Output of :func:`redact_comments` (must carry the ``redactions``
        column). As a second guard, the candidate quotes are scanned for
        e-mails, URLs, NI numbers, phone numbers and postcodes; any hit raises
        ``ValueError`` (raw text was passed).
    per_theme : int
        Quotes per group and theme.
    seed : int
        Seed for the shuffle.
    include_other : bool
        Also quote comments coded ``other``.

    Returns
    -------
    DataFrame
        ``group, theme, rank, respondent_id, field, quote, redactions``.
    """
    _check_quote_inputs(coded, redacted_comments, per_theme, min_words, max_words)
    cand = _candidates(coded, redacted_comments, include_other)
    cols = ["group", "theme", "rank", "respondent_id", "field", "quote", "redactions"]
    rows = []
    keys = sorted(
        cand[["group", "theme"]].drop_duplicates().itertuples(index=False, name=None),
        key=lambda k: (_group_key(k[0]), k[1] == OTHER_THEME, k[1]),
    )
    for group, theme in keys:
        sub = cand[(cand["group"] == group) & (cand["theme"] == theme)]
        rows += _pick(sub, group, theme, per_theme, seed, min_words, max_words)
    out = pd.DataFrame(rows, columns=cols)
    out["rank"] = out["rank"].astype("int64")
    out["redactions"] = out["redactions"].astype("int64")
    return out
