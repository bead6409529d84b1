"""Change on last year: :func:`change_bars` (diverging bars) and its description.

A change is drawn only when both years' cells are shown; otherwise the row
says why ("fewer than N", "hidden", "not asked last year", "no data").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..disclosure import DEFAULT_MIN_CELL_N
from ..labels import fewer_than
from ._data import _check_unique, _context_label, _flag_true, _order, _prepare, _what
from ._style import (
    _DOWN_COLOUR,
    _NOTE_COLOUR,
    _UP_COLOUR,
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
    NOT_ASKED_LABEL,
    SIG_MARK,
    _cap,
    _extremes,
    _finite,
    _fmt_change,
    _fmt_mean,
    _fmt_n,
    _label,
    _sup_note,
    _wrap,
)


@dataclass
class _Change:
    """What a change chart draws: the checked frame, its rows and series, one record per (row, series)."""

    df: pd.DataFrame
    y: str
    hue: str | None
    value: str
    rows: list
    hues: list
    lookup: dict
    omitted: list
    min_cell_n: int = DEFAULT_MIN_CELL_N


def _status(rec: dict | None, value: str) -> str:
    """'ok', 'suppressed', 'not_asked' or 'no_data'."""
    if rec is None:
        return "no_data"
    if rec["suppressed"] or _flag_true(rec.get("suppressed_last")):
        return "suppressed"
    if _finite(rec.get(value)):
        return "ok"
    last = rec.get("mean_last")
    if not _finite(last):
        return "not_asked"
    return "no_data"


def _prep_change(
    data, *, value, y, hue, order, hue_order, omit_missing, func="change_bars", min_cell_n: int = DEFAULT_MIN_CELL_N
) -> _Change:
    """Check and order the data of a change chart (shared by the figure and its alt text)."""
    if value not in ("change_pct", "change_pts"):
        raise ValueError(f"{func}: value must be 'change_pct' or 'change_pts', got {value!r}")
    df = _prepare(data, [y, hue, value, "n"], func)
    if "mean_last" not in df.columns:
        df["mean_last"] = np.nan
    if "n_last" not in df.columns:
        df["n_last"] = np.nan
    rows = _order(df, y, order, default_questions=order is None and y == "question")
    hues = _order(df, hue, hue_order)
    df = df[df[y].isin(rows)]
    if hue is not None:
        df = df[df[hue].isin(hues)]
    _check_unique(df, [y, hue], func)
    lookup = {(r[y], r[hue] if hue else None): r for r in df.to_dict("records")}
    omitted = []
    if omit_missing:
        keep = []
        for lvl in rows:
            if all(_status(lookup.get((lvl, h)), value) == "not_asked" for h in hues):
                omitted.append(lvl)
            else:
                keep.append(lvl)
        rows = keep
    return _Change(df, y, hue, value, rows, hues, lookup, omitted, int(min_cell_n))


def _bar_limit(p: _Change) -> float:
    """Half-width of the x axis: the largest shown change, with room for the value labels."""
    vals = [r[p.value] for r in p.lookup.values() if _status(r, p.value) == "ok"]
    span = max([abs(v) for v in vals] + [5.0 if p.value == "change_pct" else 0.2])
    return span * (1.45 if len(p.hues) == 1 else 2.1)


def _no_bar_text(rec: dict | None, st: str, min_cell_n: int) -> str:
    """Why a row has no bar: "fewer than N", "hidden", "not asked last year" or "no data"."""
    if st == "suppressed":
        return HIDDEN_SHORT if rec is not None and rec.get("suppression") == "complementary" else fewer_than(min_cell_n)
    return {"not_asked": NOT_ASKED_LABEL, "no_data": NO_DATA_LABEL}[st]


def _draw_bar(ax, p: _Change, rec: dict, yy: float, colour, hatch, lim: float) -> tuple[bool, bool]:
    """One bar (solid and edged when significant, pale when not) and its value label.

    Returns ``(significant, caution)``.
    """
    k = len(p.hues)
    v = rec[p.value]
    sig = bool(rec["last_year_significant"])
    c = colour if k > 1 else (_UP_COLOUR if v >= 0 else _DOWN_COLOUR)
    ax.barh(
        yy,
        v,
        height=0.62 / k,
        color=c,
        alpha=1.0 if sig else 0.45,
        edgecolor="black" if sig else c,
        linewidth=1.2 if sig else 0.5,
        hatch=hatch,
        zorder=3,
    )
    label = _fmt_change(v, p.value) + (f" {SIG_MARK}" if sig else "")
    caution = bool(rec["caution"])
    if caution:
        label += f" {CAUTION_MARK}"
    if k > 1:
        last = _fmt_n(rec["n_last"], p.min_cell_n) if _finite(rec["n_last"]) else "\u2013"
        label += f"  (n={_fmt_n(rec['n'], p.min_cell_n)}/{last})"
    pad = lim * 0.015
    ax.text(
        v + (pad if v >= 0 else -pad),
        yy,
        label,
        ha="left" if v >= 0 else "right",
        va="center",
        fontsize=8,
        fontweight="bold" if sig else "normal",
    )
    return sig, caution


def _draw_bar_series(ax, p: _Change, j: int, h, offsets: list[float], lim: float, seen: dict) -> Patch | None:
    """Draw series ``h`` (the ``j``-th): a bar per row, or the reason there is none.

    Records the marks that appear in ``seen``; returns the legend handle (several series only).
    """
    k = len(p.hues)
    colour, _marker = _series_style(p.hue, h, j)
    hue_label = _label(p.hue, h) if p.hue else ""
    hatch = [None, "///", "...", "xx", "\\\\"][j % 5] if k > 1 else None
    prefix = f"{hue_label}: " if k > 1 else ""
    for i, lvl in enumerate(p.rows):
        yy = i + offsets[j]
        rec = p.lookup.get((lvl, h))
        st = _status(rec, p.value)
        if st != "ok":
            seen["sup"] |= st == "suppressed"
            seen["not_asked"] |= st == "not_asked"
            ax.text(
                lim * 0.02,
                yy,
                prefix + _no_bar_text(rec, st, p.min_cell_n),
                ha="left",
                va="center",
                fontsize=8,
                style="italic",
                color=_NOTE_COLOUR,
            )
            continue
        sig, caution = _draw_bar(ax, p, rec, yy, colour, hatch, lim)
        seen["sig"] |= sig
        seen["caution"] |= caution
    return Patch(facecolor=colour, edgecolor="black", hatch=hatch, label=hue_label) if k > 1 else None


def _bar_row_labels(p: _Change) -> list[str]:
    """Row labels; with one series they carry the bases, this year / last year."""
    labels = []
    for lvl in p.rows:
        text = _wrap(_label(p.y, lvl), 26)
        if len(p.hues) == 1:
            rec = p.lookup.get((lvl, p.hues[0]))
            if rec is not None and not rec["suppressed"]:
                last = _fmt_n(rec["n_last"], p.min_cell_n) if _finite(rec["n_last"]) else "\u2013"
                text += f"\n(n={_fmt_n(rec['n'], p.min_cell_n)} / {last})"
            elif rec is not None:
                text += (
                    f"\n(n {HIDDEN_SHORT})"
                    if rec.get("suppression") == "complementary"
                    else f"\n(n {fewer_than(p.min_cell_n)})"
                )
        labels.append(text)
    return labels


def _bar_axes(ax, p: _Change, lim: float) -> None:
    """The zero line, row labels, a symmetric signed x axis and its label."""
    n_rows = len(p.rows)
    ax.axvline(0, color="black", lw=1, zorder=4)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_yticks(range(n_rows), labels=_bar_row_labels(p))
    ax.set_ylim(max(n_rows, 1) - 0.5, -0.5)
    ax.set_xlim(-lim, lim)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(
        mpl.ticker.FuncFormatter(lambda v, _pos: _fmt_change(v, p.value) if abs(v) > 1e-12 else "0")
    )
    unit = "per cent" if p.value == "change_pct" else "points on the 1-4 scale"
    ax.set_xlabel(f"Change in average score on last year ({unit})")


def _bar_notes(p: _Change, seen: dict) -> list[str]:
    """The footnote lines of a change chart: colours, bases, and the marks that appear."""
    k, n_rows = len(p.hues), len(p.rows)
    notes = ["n = respondents this year / last year." if k > 1 or n_rows else ""]
    if k == 1:
        notes = [
            "Bars to the right (blue): score went up; to the left (orange): went down. "
            "n = respondents this year / last year."
        ]
    notes.append(
        f"Solid bars with {SIG_MARK}: statistically significant change; pale bars: change could be chance."
        if seen["sig"]
        else "Pale bars: no statistically significant change."
        if "last_year_significant" in p.df.columns
        else ""
    )
    if seen["caution"]:
        notes.append(CAUTION_NOTE)
    if seen["not_asked"]:
        notes.append(f"'{NOT_ASKED_LABEL}': no comparable figure last year.")
    if p.omitted:
        notes.append("Not asked last year, so not shown: " + ", ".join(_label(p.y, o) for o in p.omitted) + ".")
    if seen["sup"]:
        notes.append(_sup_note(p.min_cell_n))
    return notes


@_styled
def change_bars(
    data: pd.DataFrame,
    value: str = "change_pct",
    *,
    y: str = "question",
    hue: str | None = None,
    order: Sequence | None = None,
    hue_order: Sequence | None = None,
    omit_missing: bool = False,
    title: str | None = None,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> Figure:
    """Diverging horizontal bars of the change on last year, per question (or category).

    ``data``: cell-table rows with columns ``y`` (default ``question``; or
    ``category``), ``value`` (``change_pct`` or ``change_pts``), ``n``,
    ``n_last``, ``mean_last``; optional ``hue`` column, ``suppressed``,
    ``caution``, ``last_year_significant`` (solid bar with black edge and
    ``*``; non-significant changes are pale). Rows without last year's
    figure are labelled "not asked last year", or dropped with a note when
    ``omit_missing``. n this year / last year are shown in the row labels
    (or beside each bar when ``hue`` splits the rows). ``min_cell_n``: the run's
    threshold, quoted by the "fewer than N" labels.
    """
    p = _prep_change(
        data,
        value=value,
        y=y,
        hue=hue,
        order=order,
        hue_order=hue_order,
        omit_missing=omit_missing,
        min_cell_n=min_cell_n,
    )
    n_rows, k = len(p.rows), len(p.hues)
    height = 1.9 + max(n_rows, 1) * (0.28 + 0.2 * k) + (0.35 if k > 1 else 0)
    fig, axes = _new_figure(8.0, height)
    ax = axes[0, 0]
    offsets = _dodge(k, 0.72)
    lim = _bar_limit(p)
    seen = {"sig": False, "sup": False, "not_asked": False, "caution": False}
    handles = [_draw_bar_series(ax, p, j, h, offsets, lim, seen) for j, h in enumerate(p.hues)]
    _bar_axes(ax, p, lim)
    if k > 1:
        _legend_above(ax, handles, k)
    _add_note(fig, ax, _bar_notes(p, seen))
    ctx = _context_label(p.df.drop(columns=[hue]) if hue else p.df, y)
    _title(fig, title, f"Change on last year by {_what(p.df, y)}" + (f": {ctx}" if ctx else ""))
    return fig


def _alt_change(p: _Change) -> str:
    """Alt text of a change chart: largest rise and fall per series, significant changes, what is missing."""
    unit = "per cent" if p.value == "change_pct" else "points"
    what = _what(p.df, p.y)
    ctx = _context_label(p.df.drop(columns=[p.hue]) if p.hue else p.df, p.y)
    out = [
        f"Bar chart of the change in average score on last year ({unit}) by {what}"
        + (f", {' and '.join(_label(p.hue, h) for h in p.hues)}" if p.hue else "")
        + (f"; {ctx}" if ctx else "")
        + "."
    ]

    def describe(r):
        v = r[p.value]
        amount = _fmt_change(abs(v), p.value).lstrip("+")
        verb = "up" if v > 0 else "down" if v < 0 else "unchanged"
        sig = ", significant" if r["last_year_significant"] else ""
        last = f" from {_fmt_mean(r['mean_last'])}" if _finite(r.get("mean_last")) else ""
        now = f" to {_fmt_mean(r['mean'])}" if _finite(r.get("mean")) else ""
        return f"{_label(p.y, r[p.y])} {verb} {amount}{last}{now}{sig}"

    for h in p.hues:
        recs = [
            p.lookup[(lvl, h)]
            for lvl in p.rows
            if (lvl, h) in p.lookup and _status(p.lookup[(lvl, h)], p.value) == "ok"
        ]
        hi, lo = _extremes(recs, p.value)
        if hi is None:
            continue
        prefix = f"{_label(p.hue, h)}: " if p.hue else ""
        top = "largest rise" if hi[p.value] > 0 else "smallest fall"
        bottom = "largest fall" if lo[p.value] < 0 else "smallest rise"
        if hi is lo:
            out.append(_cap(f"{prefix}{describe(hi)}."))
        else:
            out.append(_cap(f"{prefix}{top}: {describe(hi)}; {bottom}: {describe(lo)}."))
        sig = [r for r in recs if r["last_year_significant"]]
        if sig:
            out.append(
                f"{len(sig)} significant change{'s' if len(sig) != 1 else ''}: "
                + ", ".join(_label(p.y, r[p.y]) for r in sig)
                + "."
            )
        elif "last_year_significant" in p.df.columns:
            out.append("No significant changes.")
    missing = [lvl for lvl in p.rows if all(_status(p.lookup.get((lvl, h)), p.value) == "not_asked" for h in p.hues)]
    missing += p.omitted
    if missing:
        out.append("Not asked last year: " + ", ".join(_label(p.y, m) for m in missing) + ".")
    n_sup = sum(1 for r in p.lookup.values() if r["suppressed"])
    if n_sup:
        out.append(
            f"{n_sup} change{'s' if n_sup != 1 else ''} not shown ({fewer_than(p.min_cell_n)} respondents, "
            "or hidden to protect a smaller group)."
        )
    return " ".join(out)
