"""Heat map: :func:`subgroup_heatmap` (category x question) and its description.

A withheld cell is a hatched grey box reading "<N" (or "hidden"); a cell
significantly above or below the rest of its group carries a triangle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..constants import QUESTIONS
from ..disclosure import DEFAULT_MIN_CELL_N
from ..labels import fewer_than, fewer_than_short
from ._data import _check_unique, _context_label, _prepare, _require, _single, _what
from ._style import _DEFAULT_HEATMAP_CMAP, SCALE, SCALE_LABEL, _add_note, _new_figure, _styled, _title
from ._text import (
    CAUTION_MARK,
    CAUTION_NOTE,
    DOWN_MARK,
    HIDDEN_SHORT,
    SIG_MARK,
    UP_MARK,
    _extremes,
    _finite,
    _fmt_mean,
    _fmt_n,
    _label,
    _wrap,
)


@dataclass
class _Heat:
    """What a heat map draws: the checked frame, its rows and columns, one record per cell, row bases."""

    df: pd.DataFrame
    rows: list
    cols: list
    lookup: dict
    row_n: dict
    title_ctx: str
    what: str
    min_cell_n: int = DEFAULT_MIN_CELL_N


def _prep_heat(
    data, *, table, questions, order, func="subgroup_heatmap", min_cell_n: int = DEFAULT_MIN_CELL_N
) -> _Heat:
    """Check and order the data of a heat map (shared by the figure and its alt text)."""
    df = _prepare(data, ["category", "question", "mean", "n"], func)
    if table is not None:
        _require(df, ["table"], func)
        df = df[df["table"] == table]
        if df.empty:
            raise ValueError(f"{func}: no rows for table {table!r}")
    for col in ("table", "group"):
        if col in df.columns and df[col].nunique() > 1:
            raise ValueError(
                f"{func}: data holds several {col}s {sorted(df[col].unique())}; pass table= or filter to one"
            )
    cols = (
        list(questions)
        if questions is not None
        else (list(QUESTIONS) + (["overall"] if (df["question"] == "overall").any() else []))
    )
    df = df[df["question"].isin(cols)]
    rows = list(order) if order is not None else list(pd.unique(df["category"]))
    if order is None and "All" in rows:
        rows.remove("All")
        rows.insert(0, "All")
    df = df[df["category"].isin(rows)]
    _check_unique(df, ["category", "question"], func)
    lookup = {(r["category"], r["question"]): r for r in df.to_dict("records")}
    row_n = {}
    for cat in rows:
        ns = [r["n"] for (c, _), r in lookup.items() if c == cat and not r["suppressed"] and _finite(r["n"])]
        row_n[cat] = max(ns) if ns else None
        kinds = {r.get("suppression") for (c, _), r in lookup.items() if c == cat and r["suppressed"]}
        if row_n[cat] is None and kinds == {"complementary"}:
            row_n[cat] = "hidden"  # not small itself: hidden so a small neighbour cannot be worked out
    ctx = _context_label(df, "category")
    what = _what(df, "category")
    if what == "category" and _single(df, "table") is not None:
        ctx = ", ".join(x for x in (ctx, str(_single(df, "table"))) if x)
    return _Heat(df, rows, cols, lookup, row_n, ctx, what, int(min_cell_n))


def _heat_row_label(cat: Any, n: Any, min_cell_n: int) -> str:
    """A row's label: the category and its base ("hidden", "n=40", or "n<5" when every cell is small)."""
    n_text = (
        "hidden"
        if n == "hidden"
        else f"n={_fmt_n(n, min_cell_n)}"
        if n is not None
        else f"n{fewer_than_short(min_cell_n)}"
    )
    return f"{_wrap(str(cat), 30)} ({n_text})"


def _heat_matrix(p: _Heat) -> np.ndarray:
    """The shown means as a rows x questions array (NaN where withheld or missing)."""
    mat = np.full((len(p.rows), len(p.cols)), np.nan)
    for i, cat in enumerate(p.rows):
        for j, q in enumerate(p.cols):
            rec = p.lookup.get((cat, q))
            if rec is not None and _finite(rec["mean"]):
                mat[i, j] = rec["mean"]
    return mat


def _blank_cell(ax, i: int, j: int, rec: dict | None, min_cell_n: int) -> bool:
    """Draw a cell with no value: hatched "<N" / "hidden" when withheld, "\u2013" when empty.

    Returns True when the cell was withheld (False: no answers).
    """
    sup = rec is not None and rec["suppressed"]
    ax.add_patch(
        Rectangle(
            (j, i), 1, 1, facecolor="#eeeeee", edgecolor="white", lw=1.5, hatch="///" if sup else None, zorder=0.5
        )
    )
    comp = sup and rec.get("suppression") == "complementary"
    ax.text(
        j + 0.5,
        i + 0.5,
        (HIDDEN_SHORT if comp else fewer_than_short(min_cell_n)) if sup else "\u2013",
        ha="center",
        va="center",
        fontsize=7 if comp else 9,
        color="#333333",
        bbox=dict(boxstyle="round,pad=0.15", fc="#eeeeee", ec="none"),
    )
    return sup


def _value_text(rec: dict) -> tuple[str, bool, bool]:
    """A shown cell's text: the mean, a triangle if it differs from the rest, a dagger if few answered.

    Returns ``(text, significant, caution)``.
    """
    text = _fmt_mean(rec["mean"])
    sig = bool(rec["rest_significant"])
    if sig:
        diff = rec.get("rest_diff")
        text += UP_MARK if (_finite(diff) and diff > 0) else (DOWN_MARK if _finite(diff) and diff < 0 else SIG_MARK)
    caution = bool(rec["caution"])
    if caution:
        text += CAUTION_MARK
    return text, sig, caution


def _annotate_cells(ax, p: _Heat, colormap, norm) -> dict[str, bool]:
    """Write every cell's text (in black or white, whichever contrasts more with its colour).

    Returns which marks appeared: ``sup``, ``caution``, ``sig``, ``missing``.
    """
    seen = {"sup": False, "caution": False, "sig": False, "missing": False}
    for i, cat in enumerate(p.rows):
        for j, q in enumerate(p.cols):
            rec = p.lookup.get((cat, q))
            if rec is None or rec["suppressed"] or not _finite(rec["mean"]):
                sup = _blank_cell(ax, i, j, rec, p.min_cell_n)
                seen["sup"] |= sup
                seen["missing"] |= not sup
                continue
            text, sig, caution = _value_text(rec)
            seen["sig"] |= sig
            seen["caution"] |= caution
            # black or white, whichever contrasts more (WCAG ratio crossover at L = 0.179)
            lum = sns.utils.relative_luminance(colormap(norm(rec["mean"])))
            ax.text(
                j + 0.5,
                i + 0.5,
                text,
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold" if sig else "normal",
                color="black" if lum > 0.179 else "white",
            )
    return seen


def _heat_axes(ax, p: _Heat) -> None:
    """A rule under the "All" row, row labels with their bases, question labels on top."""
    n_rows, n_cols = len(p.rows), len(p.cols)
    if "All" in p.rows and p.rows.index("All") == 0 and n_rows > 1:
        ax.axhline(1, color="black", lw=1.2)
    ax.set_yticks(
        np.arange(n_rows) + 0.5, labels=[_heat_row_label(c, p.row_n[c], p.min_cell_n) for c in p.rows], rotation=0
    )
    ax.set_xticks(
        np.arange(n_cols) + 0.5, labels=[_wrap(_label("question", q), 12) for q in p.cols], rotation=0, fontsize=8
    )
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xlabel("")
    ax.set_ylabel("")


def _heat_notes(seen: dict[str, bool], min_cell_n: int) -> list[str]:
    """The footnote lines of a heat map: what the marks mean, only those that appear."""
    notes = [
        "Cells show the average score (1 = poor, 4 = good); n = respondents in the row (largest across questions)."
    ]
    if seen["sig"]:
        notes.append(f"{UP_MARK}/{DOWN_MARK} (bold) significantly higher/lower than the rest of the group.")
    if seen["caution"]:
        notes.append(CAUTION_NOTE)
    if seen["sup"]:
        notes.append(
            f"{fewer_than_short(min_cell_n)} (hatched): {fewer_than(min_cell_n)} respondents, not shown; "
            f"{HIDDEN_SHORT}: hidden so that a small group's answers cannot be worked out."
        )
    if seen["missing"]:
        notes.append("\u2013 no answers in this cell.")
    return notes


@_styled
def subgroup_heatmap(
    data: pd.DataFrame,
    *,
    table: str | None = None,
    questions: Sequence[str] | None = None,
    order: Sequence | None = None,
    cmap: str = _DEFAULT_HEATMAP_CMAP,
    title: str | None = None,
    min_cell_n: int = DEFAULT_MIN_CELL_N,
) -> Figure:
    """Category x question heat map of mean scores for one table.

    ``data``: cell-table rows of one table (or pass ``table=``) with columns
    ``category``, ``question``, ``mean``, ``n``; optional ``suppressed``
    (blank grey cell, text "<N", or "hidden" for complementary suppression), ``caution`` (dagger), ``rest_significant``
    with ``rest_diff`` (up/down triangle and bold text), ``group`` and
    ``attribute`` (for the title). Columns: the eight questions, plus
    "overall" when present. Rows: categories in data order ("All" first);
    the row label carries the largest unsuppressed ``n`` of the row.
    Colours run from 1 to 4 on a fixed scale (so tables are comparable) with
    a perceptually uniform, colour-blind-safe map whose lightness rises with
    the score (readable in greyscale). ``min_cell_n``: the run's threshold, quoted
    by the "<N" labels.
    """
    p = _prep_heat(data, table=table, questions=questions, order=order, min_cell_n=min_cell_n)
    width = 2.5 + 0.76 * len(p.cols) + 0.8
    height = 2.2 + 0.42 * len(p.rows)
    fig, axes = _new_figure(width, height)
    ax = axes[0, 0]
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    norm = Normalize(vmin=SCALE[0], vmax=SCALE[1])
    frame = pd.DataFrame(_heat_matrix(p))
    sns.heatmap(
        frame,
        ax=ax,
        cmap=colormap,
        vmin=SCALE[0],
        vmax=SCALE[1],
        mask=frame.isna(),
        linewidths=1.5,
        linecolor="white",
        square=False,
        annot=False,
        cbar_kws={
            "label": SCALE_LABEL,
            "ticks": [1, 2, 3, 4],
            "shrink": 0.9,
            "aspect": 30,
            "pad": 0.015,
            "fraction": 0.04,
        },
    )
    seen = _annotate_cells(ax, p, colormap, norm)
    _heat_axes(ax, p)
    _add_note(fig, ax, _heat_notes(seen, p.min_cell_n))
    _title(fig, title, f"Average score by question and {p.what}" + (f": {p.title_ctx}" if p.title_ctx else ""))
    return fig


def _alt_heat(p: _Heat) -> str:
    """Alt text of a heat map: its shape, extreme cells and questions, significant cells, what is withheld."""
    recs = [r for r in p.lookup.values() if _finite(r["mean"])]
    ctx = f" for {p.title_ctx}" if p.title_ctx else ""
    out = [
        f"Heat map of average scores (1 = poor, 4 = good){ctx} by {p.what}: {len(p.rows)} "
        f"rows ({', '.join(map(str, p.rows))}) by {len(p.cols)} questions (columns)."
    ]
    hi, lo = _extremes(recs)
    if hi is not None:
        out.append(
            f"Highest: {hi['category']}, {_label('question', hi['question'])} "
            f"{_fmt_mean(hi['mean'])} (n={_fmt_n(hi['n'], p.min_cell_n)}). Lowest: {lo['category']}, "
            f"{_label('question', lo['question'])} {_fmt_mean(lo['mean'])} "
            f"(n={_fmt_n(lo['n'], p.min_cell_n)})."
        )
    qmeans = {}
    for q in p.cols:
        vals = [r["mean"] for r in recs if r["question"] == q and r["category"] != "All"]
        if vals:
            qmeans[q] = float(np.mean(vals))
    if len(qmeans) > 1:
        qh = max(qmeans, key=qmeans.get)
        ql = min(qmeans, key=qmeans.get)
        out.append(
            f"Across categories the highest question is {_label('question', qh)} "
            f"(average {_fmt_mean(qmeans[qh])}) and the lowest {_label('question', ql)} "
            f"({_fmt_mean(qmeans[ql])})."
        )
    sig = [r for r in recs if r["rest_significant"]]
    if sig:
        out.append(
            "Significantly different from the rest of the group: "
            + "; ".join(
                f"{r['category']}, {_label('question', r['question'])} "
                + (
                    "higher"
                    if _finite(r.get("rest_diff")) and r["rest_diff"] > 0
                    else "lower"
                    if _finite(r.get("rest_diff"))
                    else "different"
                )
                for r in sig
            )
            + "."
        )
    n_sup = sum(1 for r in p.lookup.values() if r["suppressed"] and r.get("suppression") != "complementary")
    n_comp = sum(1 for r in p.lookup.values() if r["suppressed"] and r.get("suppression") == "complementary")
    if n_sup:
        out.append(f"{n_sup} cell{'s' if n_sup != 1 else ''} not shown ({fewer_than(p.min_cell_n)} respondents).")
    if n_comp:
        out.append(
            f"{n_comp} cell{'s' if n_comp != 1 else ''} hidden so that a smaller group's answers cannot be worked out."
        )
    return " ".join(out)
