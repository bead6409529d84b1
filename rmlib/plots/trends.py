"""Trends over the years: :func:`trend_lines` and its description.

One line per question (or group), one panel per group (or question); a
withheld year is a gap in its line, and the bases are printed under the years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..disclosure import DEFAULT_MIN_CELL_N
from ..labels import fewer_than
from ._data import _check_unique, _order, _prepare, _single
from ._style import SCALE, SCALE_LABEL, _add_note, _linestyle, _new_figure, _series_style, _styled, _title
from ._text import _cap, _extremes, _fmt_mean, _fmt_n, _label


@dataclass
class _Trend:
    """What a trend chart draws: the checked long frame, its panels, lines and years."""

    df: pd.DataFrame
    x: str
    hue: str
    facet: str | None
    facets: list
    hues: list
    years: list
    has_ci: bool
    min_cell_n: int = DEFAULT_MIN_CELL_N


def _prep_trend(data, *, x, hue, hue_order, func="trend_lines", min_cell_n: int = DEFAULT_MIN_CELL_N) -> _Trend:
    """Check the data of a trend chart and choose its panels (shared by the figure and its alt text)."""
    df = _prepare(data, [x, hue, "mean", "n"], func)
    facet = {"question": "group", "group": "question"}.get(hue)
    if facet is not None and (facet not in df.columns or df[facet].nunique() <= 1):
        facet = None
    facets = _order(df, facet, None, default_questions=False) if facet else [None]
    hues = _order(df, hue, hue_order, default_questions=False)
    df = df[df[hue].isin(hues)]
    _check_unique(df, [x, hue, facet], func)
    years = sorted(pd.unique(df[x].dropna()))
    has_ci = {"ci_low", "ci_high"} <= set(df.columns)
    return _Trend(df, x, hue, facet, facets, hues, years, has_ci, int(min_cell_n))


def _trend_tick(sub: pd.DataFrame, x: str, hue: str, hues: list, year: Any, few: bool, min_cell_n: int) -> str:
    """Year tick label with n: per line when there are few lines, else the largest n."""
    at = sub[(sub[x] == year) & ~sub["suppressed"]]
    head = str(int(year))
    if few:
        lines = []
        for h in hues:
            ns = at.loc[at[hue] == h, "n"].dropna()
            if len(ns):
                short = _label(hue, h) if len(hues) > 1 else ""
                lines.append(f"{short} n={_fmt_n(ns.max(), min_cell_n)}".strip())
        return "\n".join([head, *lines])
    ns = at["n"].dropna()
    return f"{head}\n(n={_fmt_n(ns.max(), min_cell_n)})" if len(ns) else head


def _trend_grid(p: _Trend) -> tuple[int, int, float, float]:
    """Panel grid and figure size: ``(ncols, nrows, width, height)``."""
    nf = len(p.facets)
    ncols = min(nf, 2) if p.hue == "question" else min(nf, 3)
    nrows = math.ceil(nf / ncols)
    width = 8.0 if ncols <= 2 else 9.0
    height = 1.4 + nrows * (3.4 if ncols > 1 else 4.2) + 0.3 * math.ceil(len(p.hues) / 4)
    return ncols, nrows, width, height


def _draw_trend_line(ax, p: _Trend, sub_f: pd.DataFrame, j: int, h, few: bool):
    """One line over the years: solid markers, hollow ones for caution, a gap where withheld, a CI band.

    Returns ``(legend handle, any caution, any gap)``; the handle is None when the line has no value.
    """
    colour, marker = _series_style(p.hue, h, j)
    ls = _linestyle(p.hue, h, j)
    s = sub_f[sub_f[p.hue] == h].set_index(p.x).reindex(p.years)
    if s["mean"].notna().sum() == 0:
        return None, False, False
    xs = np.asarray(p.years, dtype=float)
    ys = s["mean"].to_numpy(dtype=float)
    gap = bool(s["suppressed"].fillna(False).astype(bool).any())
    ax.plot(xs, ys, color=colour, ls=ls, lw=1.8, zorder=3)
    caution = s["caution"].fillna(False).astype(bool).to_numpy()
    ok = np.isfinite(ys)
    ax.plot(
        xs[ok & ~caution], ys[ok & ~caution], ls="", marker=marker, ms=6.5, color=colour, mec="black", mew=0.5, zorder=4
    )
    ax.plot(
        xs[ok & caution], ys[ok & caution], ls="", marker=marker, ms=6.5, mfc="white", mec=colour, mew=1.5, zorder=4
    )
    if p.has_ci:
        lo = s["ci_low"].to_numpy(dtype=float)
        hi = s["ci_high"].to_numpy(dtype=float)
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.16 if few else 0.06, lw=0, zorder=1)
    handle = Line2D(
        [], [], color=colour, ls=ls, lw=1.8, marker=marker, ms=6.5, mec="black", mew=0.5, label=_label(p.hue, h)
    )
    return handle, bool(caution.any()), gap


def _trend_panel(ax, p: _Trend, fval, first_col: bool, few: bool, ylim, handles: dict) -> tuple[bool, bool]:
    """One panel (facet ``fval``): its lines, year ticks with bases, the scale and labels.

    Adds each line's legend handle to ``handles``; returns ``(any caution, any gap)``.
    """
    sub_f = p.df if fval is None else p.df[p.df[p.facet] == fval]
    any_caution = any_gap = False
    for j, h in enumerate(p.hues):
        handle, caution, gap = _draw_trend_line(ax, p, sub_f, j, h, few)
        if handle is None:
            continue
        any_caution |= caution
        any_gap |= gap
        handles[h] = handle
    ax.set_xticks(p.years, labels=[_trend_tick(sub_f, p.x, p.hue, p.hues, yr, few, p.min_cell_n) for yr in p.years])
    pad = 0.35 if len(p.years) > 1 else 0.6
    ax.set_xlim(p.years[0] - pad, p.years[-1] + pad)
    ax.set_ylim(*ylim)
    ax.set_yticks(range(int(ylim[0]), int(ylim[1]) + 1))
    ax.grid(axis="x", visible=False)
    if fval is not None:
        ax.set_title(_label(p.facet, fval))
    if first_col:
        ax.set_ylabel(SCALE_LABEL)
    ax.set_xlabel("Survey year")
    return any_caution, any_gap


def _trend_notes(p: _Trend, few: bool, any_caution: bool, any_gap: bool) -> list[str]:
    """The footnote lines of a trend chart: bands, hollow markers, gaps, what n means."""
    notes = []
    if p.has_ci:
        notes.append("Shaded bands: 95% confidence intervals.")
    if any_caution:
        notes.append("Hollow markers: few respondents, interpret with caution.")
    if any_gap:
        notes.append(f"Gaps: {fewer_than(p.min_cell_n)} respondents that year, not shown.")
    if not few:
        notes.insert(0, "n under each year: most respondents to any one question.")
    return notes


def _trend_title(p: _Trend) -> str:
    """Default title: "Average score by year, 2016\u20132018: Trust" (the one group or question, if one)."""
    ctx = ""
    if p.facet is None:
        other = "group" if p.hue == "question" else "question"
        if other in p.df.columns and p.df[other].nunique() == 1:
            ctx = ": " + _label(other, p.df[other].iloc[0])
    if not p.years:
        return "Average score by year"
    if len(p.years) == 1:
        return f"Average score, {int(p.years[0])}{ctx}"
    return f"Average score by year, {int(p.years[0])}\u2013{int(p.years[-1])}{ctx}"


@_styled
def trend_lines(
    data: pd.DataFrame,
    *,
    x: str = "year",
    hue: str = "question",
    hue_order: Sequence | None = None,
    title: str | None = None,
    ylim: tuple[float, float] = SCALE,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> Figure:
    """Mean score over the years, one line per question (or per group).

    ``data``: long frame with columns ``year`` (``x``), ``group``,
    ``question``, ``mean``, ``n``; optional ``ci_low``/``ci_high`` (bands),
    ``suppressed`` (gap in the line), ``caution`` (hollow marker). One row
    per (year, group, question). With ``hue="question"`` and both groups
    present, one panel per group; with ``hue="group"`` and several questions,
    one panel per question. n is printed under each year: per line when there
    are at most three lines, else the largest n of the year. ``min_cell_n``: the
    run's threshold, quoted by the labels.
    """
    p = _prep_trend(data, x=x, hue=hue, hue_order=hue_order, min_cell_n=min_cell_n)
    ncols, nrows, width, height = _trend_grid(p)
    few = len(p.hues) <= 3
    fig, axes = _new_figure(width, height, nrows, ncols, sharey=True)
    any_caution = any_gap = False
    handles: dict = {}
    for fi, fval in enumerate(p.facets):
        caution, gap = _trend_panel(axes[fi // ncols, fi % ncols], p, fval, fi % ncols == 0, few, ylim, handles)
        any_caution |= caution
        any_gap |= gap
    for fi in range(len(p.facets), nrows * ncols):
        axes[fi // ncols, fi % ncols].set_visible(False)
    fig.legend(handles=list(handles.values()), loc="outside lower center", ncols=min(len(handles), 4), handlelength=3.2)
    notes = _trend_notes(p, few, any_caution, any_gap)
    if notes:
        # wrapped to one panel's width so the note does not push the panels apart
        _add_note(fig, axes[-1, 0], notes, width_chars=int(width / ncols * 13), offset=4)
    _title(fig, title, _trend_title(p))
    return fig


def _alt_trend(p: _Trend) -> str:
    """Alt text of a trend chart: per panel, the latest year's extremes and the biggest change."""
    if not p.years:
        return "Line chart of average scores by year: no data."
    y0, y1 = int(p.years[0]), int(p.years[-1])
    ctx = ""
    if p.facet is None:
        other = "group" if p.hue == "question" else "question"
        if _single(p.df, other) is not None:
            ctx = f" ({_label(other, _single(p.df, other))})"
    out = [
        f"Line chart of average scores (1 = poor, 4 = good) by survey year, {y0} to {y1}"
        f"{ctx}, one line per {p.hue}" + (f", one panel per {p.facet}" if p.facet else "") + "."
    ]
    for fval in p.facets:
        sub = p.df if fval is None else p.df[p.df[p.facet] == fval]
        prefix = f"{_label(p.facet, fval)}: " if fval is not None else ""
        latest = sub[(sub[p.x] == p.years[-1])]
        hi, lo = _extremes(latest.to_dict("records"))
        if hi is None:
            continue
        text = _cap(
            f"{prefix}in {y1} highest {_label(p.hue, hi[p.hue])} {_fmt_mean(hi['mean'])}, "
            f"lowest {_label(p.hue, lo[p.hue])} {_fmt_mean(lo['mean'])}"
        )
        changes = []
        for h in p.hues:
            s = sub[(sub[p.hue] == h) & sub["mean"].notna()].sort_values(p.x)
            if len(s) >= 2:
                changes.append(
                    (
                        s["mean"].iloc[-1] - s["mean"].iloc[0],
                        h,
                        int(s[p.x].iloc[0]),
                        s["mean"].iloc[0],
                        int(s[p.x].iloc[-1]),
                        s["mean"].iloc[-1],
                    )
                )
        if changes:
            c = max(changes, key=lambda t: abs(t[0]))
            text += (
                f"; biggest change {_label(p.hue, c[1])}, {_fmt_mean(c[3])} in {c[2]} to {_fmt_mean(c[5])} in {c[4]}"
            )
        out.append(text + ".")
    return " ".join(out)
