"""Dot charts: :func:`question_means` and :func:`providers_vs_officers`, and their descriptions.

One row per question (or category), one dot per series (group) with its 95%
interval and its base; a withheld cell reads "fewer than N" or "hidden" in
place of its dot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..disclosure import DEFAULT_MIN_CELL_N
from ..labels import fewer_than
from ._data import _check_unique, _context_label, _order, _prepare, _what
from ._style import (
    _NOTE_COLOUR,
    SCALE,
    SCALE_LABEL,
    _add_note,
    _dodge,
    _legend_above,
    _new_figure,
    _series_style,
    _styled,
    _title,
)
from ._text import (
    CAUTION_MARK,
    CAUTION_NOTE,
    HIDDEN_SHORT,
    NO_DATA_LABEL,
    SIG_MARK,
    _cap,
    _extremes,
    _finite,
    _fmt_mean,
    _fmt_n,
    _label,
    _plural,
    _sup_note,
    _wrap,
)


@dataclass
class _Dots:
    """What a dot chart draws: the checked frame, its rows and series, one record per (row, series)."""

    df: pd.DataFrame
    y: str
    hue: str | None
    rows: list
    hues: list
    lookup: dict
    sig_col: str | None = None
    sig_rows: set = field(default_factory=set)
    has_ci: bool = False
    min_cell_n: int = DEFAULT_MIN_CELL_N


def _prep_dots(data, *, y, hue, order, hue_order, func, sig_col=None, min_cell_n: int = DEFAULT_MIN_CELL_N) -> _Dots:
    """Check and order the data of a dot chart (shared by the figure and its alt text)."""
    df = _prepare(data, [y, hue, "mean", "n"], func)
    rows = _order(df, y, order)
    hues = _order(df, hue, hue_order)
    df = df[df[y].isin(rows)]
    if hue is not None:
        df = df[df[hue].isin(hues)]
    _check_unique(df, [y, hue], func)
    lookup = {(r[y], r[hue] if hue else None): r for r in df.to_dict("records")}
    sig_rows: set = set()
    if sig_col and sig_col in df.columns:
        sig_rows = set(df.loc[df[sig_col], y])
    has_ci = {"ci_low", "ci_high"} <= set(df.columns)
    return _Dots(df, y, hue, rows, hues, lookup, sig_col, sig_rows, has_ci, int(min_cell_n))


def _draw_dot_series(ax, p: _Dots, j: int, h, offsets: list[float]):
    """Draw series ``h`` (the ``j``-th): a dot, interval and base per row, or the reason there is none.

    Returns ``(legend handle, any cell withheld, any caution mark)``.
    """
    k = len(p.hues)
    colour, marker = _series_style(p.hue, h, j)
    hue_label = _label(p.hue, h) if p.hue else ""
    prefix = f"{hue_label}: " if k > 1 else ""
    any_caution = any_sup = False
    xs, ys, lo, hi = [], [], [], []
    for i, lvl in enumerate(p.rows):
        yy = i + offsets[j]
        rec = p.lookup.get((lvl, h))
        if rec is None or (not rec["suppressed"] and not _finite(rec["mean"])):
            ax.text(
                1.03, yy, prefix + NO_DATA_LABEL, va="center", ha="left", fontsize=8, style="italic", color=_NOTE_COLOUR
            )
            continue
        if rec["suppressed"]:
            any_sup = True
            ax.text(
                1.03,
                yy,
                prefix + (HIDDEN_SHORT if rec.get("suppression") == "complementary" else fewer_than(p.min_cell_n)),
                va="center",
                ha="left",
                fontsize=8,
                style="italic",
                color=_NOTE_COLOUR,
            )
            continue
        m = rec["mean"]
        l_, h_ = (rec.get("ci_low"), rec.get("ci_high")) if p.has_ci else (None, None)
        l_ = l_ if _finite(l_) else m
        h_ = h_ if _finite(h_) else m
        xs.append(m), ys.append(yy), lo.append(max(m - l_, 0.0)), hi.append(max(h_ - m, 0.0))
        caution = bool(rec["caution"])
        any_caution |= caution
        label = f"n={_fmt_n(rec['n'], p.min_cell_n)}" + (f" {CAUTION_MARK}" if caution else "")
        ax.text(max(h_, m) + 0.04, yy, label, va="center", ha="left", fontsize=8, color="#222222")
    if xs:
        handle = ax.errorbar(
            xs,
            ys,
            xerr=[lo, hi],
            fmt=marker,
            color=colour,
            ms=7,
            mec="black",
            mew=0.6,
            ecolor=colour,
            elinewidth=1.6,
            capsize=3,
            capthick=1.6,
            zorder=3,
            label=hue_label or None,
        )
    else:
        handle = Line2D([], [], marker=marker, color=colour, ls="", ms=7, mec="black", mew=0.6, label=hue_label)
    return handle, any_sup, any_caution


def _dot_axes(ax, p: _Dots) -> None:
    """Row labels (bold with ``*`` where significant), the 1-4 scale and the row separators."""
    n_rows = len(p.rows)
    labels = []
    for lvl in p.rows:
        text = _wrap(_label(p.y, lvl), 26)
        if lvl in p.sig_rows:
            text += f" {SIG_MARK}"
        labels.append(text)
    ax.set_yticks(range(n_rows), labels=labels)
    for tick, lvl in zip(ax.get_yticklabels(), p.rows):
        if lvl in p.sig_rows:
            tick.set_fontweight("bold")
    ax.set_ylim(n_rows - 0.5, -0.5)
    # room right of 4 for the n labels; the scale itself stops at 4 (no tick or grid beyond)
    ax.set_xlim(SCALE[0] - 0.08, SCALE[1] + 0.42)
    ax.set_xticks(range(SCALE[0], SCALE[1] + 1), labels=["1\npoor", "2", "3", "4\ngood"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines["bottom"].set_bounds(SCALE[0] - 0.08, SCALE[1] + 0.08)
    ax.grid(axis="y", visible=False)
    for i in range(n_rows - 1):
        ax.axhline(i + 0.5, color="#e6e6e6", lw=0.8, zorder=0)
    ax.set_xlabel(SCALE_LABEL)
    ax.set_ylabel("")
    ax.tick_params(axis="y", length=0)


def _dot_notes(p: _Dots, sig_note: str | None, any_caution: bool, any_sup: bool) -> list[str]:
    """The footnote lines of a dot chart: what the marks mean, only those that appear."""
    interval = "lines show 95% confidence intervals; " if p.has_ci else ""
    notes = [f"Points show the average score; {interval}n = number of respondents."]
    if sig_note and p.sig_rows:
        notes.append(sig_note)
    if any_caution:
        notes.append(CAUTION_NOTE)
    if any_sup:
        notes.append(_sup_note(p.min_cell_n))
    return notes


def _draw_dots(p: _Dots, *, title: str | None, default_title: str, sig_note: str | None = None) -> Figure:
    """Draw a prepared dot chart: the series, the axes, the legend (several series), notes and title."""
    n_rows, k = len(p.rows), len(p.hues)
    row_h = 0.30 + 0.20 * k
    height = 1.9 + n_rows * row_h + (0.35 if k > 1 else 0)
    fig, axes = _new_figure(8.0, height)
    ax = axes[0, 0]
    offsets = _dodge(k)
    any_caution = any_sup = False
    handles = []
    for j, h in enumerate(p.hues):
        handle, sup, caution = _draw_dot_series(ax, p, j, h, offsets)
        handles.append(handle)
        any_sup |= sup
        any_caution |= caution
    _dot_axes(ax, p)
    if k > 1:
        _legend_above(ax, handles, k)
    _add_note(fig, ax, _dot_notes(p, sig_note, any_caution, any_sup))
    _title(fig, title, default_title)
    return fig


@_styled
def question_means(
    data: pd.DataFrame,
    hue: str | None = "group",
    *,
    y: str = "question",
    order: Sequence | None = None,
    hue_order: Sequence | None = None,
    title: str | None = None,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> Figure:
    """Dot chart of mean scores per question (rows) with 95% intervals and n.

    ``data``: cell-table rows with columns ``y`` (default ``question``),
    ``hue`` (default ``group``; ``None`` for one series), ``mean``, ``n``;
    optional ``ci_low``/``ci_high`` (error bars), ``suppressed``, ``caution``.
    One row per (y, hue) pair: filter to one table/category first. Rows run in
    ``QUESTIONS`` order (all eight, "no data" where missing) unless ``order``
    is given (e.g. ``[*QUESTIONS, "overall"]``). ``min_cell_n``: the run's
    threshold, quoted by the "fewer than N" labels.
    """
    p = _prep_dots(data, y=y, hue=hue, order=order, hue_order=hue_order, func="question_means", min_cell_n=min_cell_n)
    ctx = _context_label(p.df.drop(columns=[hue]) if hue else p.df, y)
    default = f"Average score by {_what(p.df, y)}" + (f": {ctx}" if ctx else "")
    return _draw_dots(p, title=title, default_title=default)


@_styled
def providers_vs_officers(
    data: pd.DataFrame,
    *,
    y: str = "question",
    hue: str = "group",
    order: Sequence | None = None,
    hue_order: Sequence | None = None,
    title: str | None = None,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> Figure:
    """Providers and officers side by side (dodged dots, joined) per question.

    ``data``: cell-table rows for both groups with columns ``y`` (default
    ``question``; or ``category`` for one question), ``group``, ``mean``,
    ``n``; optional ``ci_low``/``ci_high``, ``suppressed``, ``caution``,
    ``groups_significant`` (rows where it is True on either group get a bold
    label and ``*``). One row per (y, group). ``min_cell_n``: the run's
    threshold, quoted by the "fewer than N" labels.
    """
    p = _prep_dots(
        data,
        y=y,
        hue=hue,
        order=order,
        hue_order=hue_order,
        func="providers_vs_officers",
        sig_col="groups_significant",
        min_cell_n=min_cell_n,
    )
    ctx = _context_label(p.df.drop(columns=[hue]), y)
    default = f"Providers and officers compared, by {_what(p.df, y)}" + (f": {ctx}" if ctx else "")
    return _draw_dots(
        p,
        title=title,
        default_title=default,
        sig_note=f"{SIG_MARK} statistically significant difference between providers and officers.",
    )


def _largest_gap(p: _Dots) -> str | None:
    """The sentence on the row where two series differ most, or None."""
    gaps = []
    for lvl in p.rows:
        a, b = p.lookup.get((lvl, p.hues[0])), p.lookup.get((lvl, p.hues[1]))
        if a and b and _finite(a["mean"]) and _finite(b["mean"]):
            gaps.append((abs(a["mean"] - b["mean"]), lvl, a["mean"], b["mean"]))
    if not gaps:
        return None
    g = max(gaps, key=lambda t: t[0])
    return (
        f"Largest gap: {_label(p.y, g[1])} ({_label(p.hue, p.hues[0])} "
        f"{_fmt_mean(g[2])}, {_label(p.hue, p.hues[1])} {_fmt_mean(g[3])})."
    )


def _alt_dots(p: _Dots, chart: str, sig_text: str | None) -> str:
    """Alt text of a dot chart: what it shows, extremes per series, the largest gap, what is withheld."""
    what = _what(p.df, p.y)
    rows = (
        f"{len(p.rows)} {_plural(what)}"
        if p.y == "question"
        else (f"{len(p.rows)} {_plural(what)} ({', '.join(map(str, p.rows))})")
    )
    series = " and ".join(_label(p.hue, h) for h in p.hues) if p.hue else ""
    ctx = _context_label(p.df.drop(columns=[p.hue]) if p.hue else p.df, p.y)
    ci = ", with 95% confidence intervals" if p.has_ci else ""
    out = [
        f"{chart} (1 = poor, 4 = good) for {rows}"
        + (f", {series}" if series and len(p.hues) > 1 else "")
        + (f"; {ctx}" if ctx else "")
        + f"{ci}."
    ]
    suppressed = []
    for h in p.hues:
        recs = [p.lookup[(lvl, h)] for lvl in p.rows if (lvl, h) in p.lookup]
        suppressed += [(lvl, h) for lvl in p.rows if (lvl, h) in p.lookup and p.lookup[(lvl, h)]["suppressed"]]
        hi, lo = _extremes(recs)
        if hi is None:
            continue
        prefix = f"{_label(p.hue, h)}: " if p.hue and len(p.hues) > 1 else ""
        out.append(
            _cap(
                f"{prefix}highest {_label(p.y, hi[p.y])} {_fmt_mean(hi['mean'])} "
                f"(n={_fmt_n(hi['n'], p.min_cell_n)}), lowest {_label(p.y, lo[p.y])} "
                f"{_fmt_mean(lo['mean'])} (n={_fmt_n(lo['n'], p.min_cell_n)})."
            )
        )
    gap = _largest_gap(p) if p.hue and len(p.hues) == 2 else None
    if gap:
        out.append(gap)
    if sig_text is not None and p.sig_rows:
        out.append(sig_text + ", ".join(_label(p.y, r) for r in p.rows if r in p.sig_rows) + ".")

    def _names(pairs):
        return ", ".join(
            (f"{_label(p.hue, h)} " if p.hue and len(p.hues) > 1 else "") + _label(p.y, lvl) for lvl, h in pairs
        )

    small = [(lvl, h) for lvl, h in suppressed if p.lookup[(lvl, h)].get("suppression") != "complementary"]
    comp = [(lvl, h) for lvl, h in suppressed if p.lookup[(lvl, h)].get("suppression") == "complementary"]
    if small:
        out.append(f"Not shown ({fewer_than(p.min_cell_n)} respondents): " + _names(small) + ".")
    if comp:
        out.append("Hidden so that a smaller group's answers cannot be worked out: " + _names(comp) + ".")
    return " ".join(out)
