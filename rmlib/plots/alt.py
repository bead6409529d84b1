"""Alternative text: :func:`alt_text` describes a figure from the same data and keywords that drew it."""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from ..disclosure import DEFAULT_MIN_CELL_N
from .bars import _alt_change, _prep_change
from .dots import _alt_dots, _prep_dots
from .heatmaps import _alt_heat, _prep_heat
from .trends import _alt_trend, _prep_trend

FIGURE_KINDS = ("question_means", "subgroup_heatmap", "change_bars", "trend_lines", "providers_vs_officers")


def alt_text(kind: str | Callable, data: pd.DataFrame, **kwargs: Any) -> str:
    """Alternative text for a figure of ``kind`` drawn from ``data``.

    ``kind`` is a figure function's name (see ``FIGURE_KINDS``) or the
    function itself; ``kwargs`` are the same keywords given to the figure
    function (``hue=``, ``y=``, ``value=``, ``table=`` ...), so the text
    describes exactly what is drawn: what the chart shows, then the highest
    and lowest values with their numbers, significant results and what is
    not shown. ``min_cell_n=`` (the run's threshold) sets the "fewer than N"
    wording, as for the figure.
    """
    if callable(kind):
        kind = kind.__name__
    kw = {k: v for k, v in kwargs.items() if k not in ("title", "cmap", "ylim")}
    k = int(kw.get("min_cell_n", DEFAULT_MIN_CELL_N))
    if kind == "question_means":
        p = _prep_dots(
            data,
            y=kw.get("y", "question"),
            hue=kw.get("hue", "group"),
            order=kw.get("order"),
            hue_order=kw.get("hue_order"),
            func=kind,
            min_cell_n=k,
        )
        return _alt_dots(p, "Dot chart of average scores", None)
    if kind == "providers_vs_officers":
        p = _prep_dots(
            data,
            y=kw.get("y", "question"),
            hue=kw.get("hue", "group"),
            order=kw.get("order"),
            hue_order=kw.get("hue_order"),
            func=kind,
            sig_col="groups_significant",
            min_cell_n=k,
        )
        return _alt_dots(
            p,
            "Dot chart comparing providers' and officers' average scores",
            "Significant differences between the groups: ",
        )
    if kind == "subgroup_heatmap":
        p = _prep_heat(data, table=kw.get("table"), questions=kw.get("questions"), order=kw.get("order"), min_cell_n=k)
        return _alt_heat(p)
    if kind == "change_bars":
        p = _prep_change(
            data,
            value=kw.get("value", "change_pct"),
            y=kw.get("y", "question"),
            hue=kw.get("hue"),
            order=kw.get("order"),
            hue_order=kw.get("hue_order"),
            omit_missing=kw.get("omit_missing", False),
            min_cell_n=k,
        )
        return _alt_change(p)
    if kind == "trend_lines":
        p = _prep_trend(
            data, x=kw.get("x", "year"), hue=kw.get("hue", "question"), hue_order=kw.get("hue_order"), min_cell_n=k
        )
        return _alt_trend(p)
    raise ValueError(f"alt_text: unknown kind {kind!r}; expected one of {FIGURE_KINDS}")
