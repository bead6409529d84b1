"""Integer codes for text columns: the one way rmlib turns millions of labels into numbers.

Shared by :mod:`rmlib.crosstab` (the cubes every table is summed from) and
:mod:`rmlib.stats` (the respondent-level arrays of the tests), so both number
respondents, groups and categories alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (int64) of a column's values read as text, with the distinct texts sorted (-1: missing).

    Categorical columns use their codes, others are factorised once; only the
    distinct values are converted to text and sorted, never one Python string
    per row. Values with the same text (e.g. ``1`` and ``"1"``) share a code.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        text = pd.Index(values.cat.categories.astype(str), dtype=object)
    else:
        codes, uniq = pd.factorize(values)
        text = pd.Index(pd.Index(uniq).astype(str), dtype=object)
    if text.is_monotonic_increasing and text.is_unique:  # already sorted (e.g. ids): no sort
        return codes.astype(np.int64, copy=False), np.asarray(text, dtype=object)
    srt, inv = np.unique(np.asarray(text, dtype=object), return_inverse=True)
    # renumber in sorted order; the appended -1 keeps missing values (code -1) missing
    return np.append(inv.reshape(-1), -1)[codes], srt
