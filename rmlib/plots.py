"""Figures for the Relationship Management Survey report.

One function per figure type. Every function

* takes a tidy frame as ``data=`` (the cell table of ``docs/contracts.md``, or
  for :func:`trend_lines` a long multi-year frame) and names its columns with
  the same keywords: ``y=`` the column down the rows of a horizontal chart
  (``"question"`` or ``"category"``), ``x=`` the column along the x axis of a
  line chart (``"year"``), ``hue=`` the column that splits the series
  (``"group"``, ``"question"``, ``"category"`` ...), ``order=`` /
  ``hue_order=`` to fix their order, ``title=`` (``None``: a generated plain
  English title, ``""``: none);
* returns a :class:`matplotlib.figure.Figure` that is *not* registered with
  pyplot (no ``plt.show()``, nothing left open, nothing shown twice in a
  notebook) and is drawn with the Agg renderer;
* draws inside :func:`plot_style`, a context manager, so no global matplotlib
  or seaborn state is changed.

Disclosure rules: a cell with ``suppressed`` True is never plotted as a value,
whatever its estimate columns hold (they are blanked here again, defensively);
it is shown blank and labelled "fewer than N" (``"<N"`` inside heat-map cells;
N is the run's ``min_cell_n``, set with :func:`disclosure_threshold`), or "hidden"
when it was hidden to protect a smaller neighbour, and its ``n`` is never printed. ``caution`` cells are marked with a dagger.

Print: colours come from colour-blind-safe palettes, and every colour
distinction is doubled by a marker shape, line style, glyph or direct label so
the figures survive greyscale printing.

:func:`alt_text` writes the ``<img alt>`` text for each figure kind, and
:func:`figure_to_data_uri` turns a figure into a PNG ``data:`` URI for the
self-contained HTML report.
"""
from __future__ import annotations

import base64
import io
import math
import textwrap
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .disclosure import DEFAULT_MIN_CELL_N
from .constants import ATTRIBUTE_LABEL, GROUP_LABEL, GROUPS, QUESTION_LABEL, QUESTIONS

__all__ = [
    "plot_style",
    "question_means",
    "subgroup_heatmap",
    "change_bars",
    "trend_lines",
    "providers_vs_officers",
    "alt_text",
    "figure_to_data_uri",
    "FIGURE_KINDS",
    "SUPPRESSED_LABEL",
    "SUPPRESSED_SHORT",
    "CAUTION_MARK",
    "UP_MARK",
    "DOWN_MARK",
    "SIG_MARK",
]

# ---------------------------------------------------------------------------
# Vocabulary shared by every figure
# ---------------------------------------------------------------------------

SCALE: tuple[int, int] = (1, 4)
SCALE_LABEL = "Average score (1 = poor, 4 = good)"
OVERALL_LABEL = "Overall score"
#: The small-cell threshold the labels quote: the run's ``min_cell_n``, set for a block of
#: figures with :func:`disclosure_threshold` (the report does); default Params' default.
_THRESHOLD: ContextVar[int] = ContextVar("min_cell_n", default=DEFAULT_MIN_CELL_N)


@contextmanager
def disclosure_threshold(min_cell_n: int) -> Iterator[None]:
    """Draw and describe figures with labels quoting ``min_cell_n`` ("fewer than 10")."""
    token = _THRESHOLD.set(int(min_cell_n))
    try:
        yield
    finally:
        _THRESHOLD.reset(token)


def _k() -> int:
    return _THRESHOLD.get()


def _sup_label() -> str:
    return f"fewer than {_k()}"


def _sup_short() -> str:
    return f"<{_k()}"


def _sup_note() -> str:
    return (f"'{_sup_label()}': figure withheld to protect small groups (fewer than {_k()} respondents); "
            f"'{HIDDEN_SHORT}': hidden so that a small group's answers cannot be worked out.")


SUPPRESSED_LABEL = f"fewer than {DEFAULT_MIN_CELL_N}"   # at the default threshold (see _sup_label)
SUPPRESSED_SHORT = f"<{DEFAULT_MIN_CELL_N}"
HIDDEN_SHORT = "hidden"
NO_DATA_LABEL = "no data"
NOT_ASKED_LABEL = "not asked last year"
CAUTION_MARK = "\u2020"      # dagger
UP_MARK = "\u25b2"           # black up-pointing triangle
DOWN_MARK = "\u25bc"         # black down-pointing triangle
SIG_MARK = "*"
MINUS = "\u2212"

CAUTION_NOTE = f"{CAUTION_MARK} few respondents: interpret with caution."

#: Estimate columns blanked for suppressed cells (contract: every estimate).
_ESTIMATE_COLUMNS = (
    "mean", "ci_low", "ci_high", "change_pts", "change_pct",
    *(f"{k}_{s}" for k in ("rest", "last_year", "groups")
      for s in ("diff", "diff_low", "diff_high", "p", "p_adj", "welch_p", "bm_p", "prob_sup")),
)
_FLAG_COLUMNS = ("rest_significant", "last_year_significant", "groups_significant")

_PALETTE = sns.color_palette("colorblind")
#: Colour-blind palette without its yellow (index 8, too light on white paper).
_LINE_COLOURS = [_PALETTE[i] for i in (0, 1, 2, 3, 4, 5, 7, 9, 6)]
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h", "<", ">")
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 3)), (0, (3, 1, 1, 1)))
_GROUP_STYLE = {
    "provider": (_PALETTE[0], "o"),
    "officer": (_PALETTE[1], "s"),
}
#: Sign colours of change bars (blue up, vermilion down).
_UP_COLOUR = _PALETTE[0]
_DOWN_COLOUR = _PALETTE[3]
_NOTE_COLOUR = "#444444"
_DEFAULT_HEATMAP_CMAP = "viridis"

FIGURE_KINDS = ("question_means", "subgroup_heatmap", "change_bars", "trend_lines",
                "providers_vs_officers")


# ---------------------------------------------------------------------------
# Style
# ---------------------------------------------------------------------------

def _rc() -> dict[str, Any]:
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook", font_scale=0.85))
    rc.update({
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Liberation Sans"],
        "axes.edgecolor": "#666666",
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "figure.titlesize": 12,
        "figure.titleweight": "bold",
        "grid.color": "#dddddd",
        "legend.frameon": False,
        "savefig.facecolor": "white",
        "figure.facecolor": "white",
        "svg.hashsalt": "rmlib",
        "axes.unicode_minus": True,
        "hatch.color": "#bbbbbb",
    })
    return rc


@contextmanager
def plot_style() -> Iterator[None]:
    """Temporarily apply the report's figure style (restored on exit)."""
    with mpl.rc_context(_rc()):
        yield


def _styled(func: Callable) -> Callable:
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plot_style():
            return func(*args, **kwargs)
    return wrapper


def _new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw):
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


# ---------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------

def _require(df: pd.DataFrame, columns: Sequence[str], func: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{func}: data must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"{func}: data is missing column(s) {missing}; has {list(df.columns)}")


def _bool(series: pd.Series) -> pd.Series:
    return series.astype("object").where(series.notna(), False).astype(bool)


def _prepare(data: pd.DataFrame, required: Sequence[str], func: str) -> pd.DataFrame:
    """Copy, check columns, coerce types, and blank suppressed estimates."""
    _require(data, required, func)
    df = data.copy()
    for col in ("suppressed", "caution", *_FLAG_COLUMNS):
        df[col] = _bool(df[col]) if col in df.columns else False
    for col in ("mean", "n", "ratings", "mean_last", "n_last", "ci_low", "ci_high",
                "change_pts", "change_pct", "rest_diff", "last_year_diff", "groups_diff"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    sup = df["suppressed"].to_numpy()
    if sup.any():
        for col in _ESTIMATE_COLUMNS:
            if col in df.columns:
                df.loc[sup, col] = np.nan
        for col in _FLAG_COLUMNS:
            df.loc[sup, col] = False
        df.loc[sup, "caution"] = False
    return df.reset_index(drop=True)


def _label(col: str | None, value: Any) -> str:
    if col == "question":
        if value == "overall":
            return OVERALL_LABEL
        return QUESTION_LABEL.get(value, str(value))
    if col == "group":
        return GROUP_LABEL.get(value, str(value))
    if col == "attribute":
        return ATTRIBUTE_LABEL.get(value, str(value))
    return str(value)


def _order(df: pd.DataFrame, col: str | None, order: Sequence | None,
           default_questions: bool = True) -> list:
    if col is None:
        return [None]
    if order is not None:
        return list(order)
    present = list(pd.unique(df[col].dropna()))
    if col == "question":
        if default_questions:
            return list(QUESTIONS)
        known = [q for q in (*QUESTIONS, "overall") if q in present]
        return known + [q for q in present if q not in known]
    if col == "group":
        known = [g for g in GROUPS if g in present]
        return known + [g for g in present if g not in known]
    return present


def _check_unique(df: pd.DataFrame, keys: Sequence[str], func: str) -> None:
    keys = [k for k in keys if k is not None]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        extra = [c for c in ("table", "group", "attribute", "category", "year")
                 if c in df.columns and c not in keys and df.loc[dup, c].nunique() > 1]
        hint = f" (rows differ in {extra}; filter data first or pass hue=)" if extra else ""
        first = df.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(f"{func}: expected one row per {keys}, found several for {first}{hint}")


def _fmt_mean(v: float) -> str:
    return f"{v:.2f}"


def _fmt_n(n: Any) -> str:
    if n is None or not np.isfinite(n):
        return "?"
    n = int(round(float(n)))
    return _sup_short() if n < _k() else str(n)


def _fmt_change(v: float, value: str, unicode_minus: bool = True) -> str:
    minus = MINUS if unicode_minus else "-"
    if round(v, 1 if value == "change_pct" else 2) == 0:
        v = 0.0   # a change that rounds to nothing reads 0.0, never -0.0
    sign = "+" if v > 0 else (minus if v < 0 else "")
    if value == "change_pct":
        return f"{sign}{abs(v):.1f}%"
    return f"{sign}{abs(v):.2f}"


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def _series_style(hue: str | None, level: Any, index: int):
    if hue == "group" and level in _GROUP_STYLE:
        return _GROUP_STYLE[level]
    if hue == "question" and level in QUESTIONS:
        index = QUESTIONS.index(level)
    return _LINE_COLOURS[index % len(_LINE_COLOURS)], _MARKERS[index % len(_MARKERS)]


def _linestyle(hue: str | None, level: Any, index: int):
    if hue == "question" and level in QUESTIONS:
        index = QUESTIONS.index(level)
    if hue == "group" and level in GROUPS:
        index = GROUPS.index(level)
    return _LINESTYLES[index % len(_LINESTYLES)]


def _dodge(k: int, width: float = 0.62) -> list[float]:
    if k <= 1:
        return [0.0]
    step = width / k
    return [(i - (k - 1) / 2) * step for i in range(k)]


def _add_note(fig: Figure, ax, lines: Sequence[str], width_chars: int | None = None,
              offset: float = 6) -> None:
    """Footnote under the axes' x label (kept inside the figure by the layout)."""
    lines = [ln for ln in lines if ln]
    if not lines:
        return
    width_chars = width_chars or int(fig.get_figwidth() * 14)
    text = "\n".join(_wrap(ln, width_chars) for ln in lines)
    ax.annotate(text, xy=(0, 0), xycoords=("figure fraction", ax.xaxis.label),
                xytext=(4, -offset), textcoords="offset points", ha="left", va="top",
                fontsize=8, color=_NOTE_COLOUR, annotation_clip=False)


def _legend_above(ax, handles, k: int) -> None:
    """Legend in one row between the figure title and the plot."""
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=min(k, 4),
              borderaxespad=0.4, handletextpad=0.4, columnspacing=1.4, frameon=False)


def _title(fig: Figure, title: str | None, default: str) -> None:
    text = default if title is None else title
    if text:
        fig.suptitle(text, x=0.01, ha="left")


def _single(df: pd.DataFrame, col: str, ignore: tuple = ()) -> Any:
    """The one value of ``col`` in ``df`` (ignoring ``ignore``), else None."""
    if col not in df.columns:
        return None
    values = [v for v in pd.unique(df[col].dropna()) if v not in ignore]
    return values[0] if len(values) == 1 else None


def _lower_first(text: str) -> str:
    """'Provider size' -> 'provider size', but 'ECC team' stays."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]


def _what(df: pd.DataFrame, y: str) -> str:
    """Plain-English name of the row variable: 'question', 'quadrant', ..."""
    if y == "question":
        return "question"
    if y == "category":
        attr = _single(df, "attribute", ("all", ""))
        return _lower_first(_label("attribute", attr)) if attr else "category"
    return _lower_first(_label("attribute", y))


def _context_label(df: pd.DataFrame, y: str | None = None) -> str:
    """'Providers', 'Officers, Trust', ... from the values the frame holds only one of."""
    parts = []
    group = _single(df, "group")
    if group is not None:
        parts.append(_label("group", group))
    if y != "question":
        q = _single(df, "question")
        if q is not None:
            parts.append(_label("question", q))
    if y != "category":
        cat = _single(df, "category")
        if cat not in (None, "All", ""):
            parts.append(str(cat))
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# Dot charts: question_means and providers_vs_officers
# ---------------------------------------------------------------------------

@dataclass
class _Dots:
    df: pd.DataFrame
    y: str
    hue: str | None
    rows: list
    hues: list
    lookup: dict
    sig_col: str | None = None
    sig_rows: set = field(default_factory=set)
    has_ci: bool = False


def _prep_dots(data, *, y, hue, order, hue_order, func, sig_col=None) -> _Dots:
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
    return _Dots(df, y, hue, rows, hues, lookup, sig_col, sig_rows, has_ci)


def _draw_dots(p: _Dots, *, title: str | None, default_title: str,
               sig_note: str | None = None) -> Figure:
    n_rows, k = len(p.rows), len(p.hues)
    row_h = 0.30 + 0.20 * k
    height = 1.9 + n_rows * row_h + (0.35 if k > 1 else 0)
    fig, axes = _new_figure(8.0, height)
    ax = axes[0, 0]
    offsets = _dodge(k)
    any_caution = any_sup = False
    handles = []
    for j, h in enumerate(p.hues):
        colour, marker = _series_style(p.hue, h, j)
        hue_label = _label(p.hue, h) if p.hue else ""
        xs, ys, lo, hi = [], [], [], []
        for i, lvl in enumerate(p.rows):
            yy = i + offsets[j]
            rec = p.lookup.get((lvl, h))
            prefix = f"{hue_label}: " if k > 1 else ""
            if rec is None or (not rec["suppressed"] and not _finite(rec["mean"])):
                ax.text(1.03, yy, prefix + NO_DATA_LABEL, va="center", ha="left", fontsize=8,
                        style="italic", color=_NOTE_COLOUR)
                continue
            if rec["suppressed"]:
                any_sup = True
                ax.text(1.03, yy, prefix + (HIDDEN_SHORT if rec.get("suppression") == "complementary"
                                            else _sup_label()), va="center", ha="left", fontsize=8,
                        style="italic", color=_NOTE_COLOUR)
                continue
            m = rec["mean"]
            l_, h_ = (rec.get("ci_low"), rec.get("ci_high")) if p.has_ci else (None, None)
            l_ = l_ if _finite(l_) else m
            h_ = h_ if _finite(h_) else m
            xs.append(m), ys.append(yy), lo.append(max(m - l_, 0.0)), hi.append(max(h_ - m, 0.0))
            caution = bool(rec["caution"])
            any_caution |= caution
            label = f"n={_fmt_n(rec['n'])}" + (f" {CAUTION_MARK}" if caution else "")
            ax.text(max(h_, m) + 0.04, yy, label, va="center", ha="left", fontsize=8,
                    color="#222222")
        if xs:
            cont = ax.errorbar(xs, ys, xerr=[lo, hi], fmt=marker, color=colour, ms=7,
                               mec="black", mew=0.6, ecolor=colour, elinewidth=1.6,
                               capsize=3, capthick=1.6, zorder=3, label=hue_label or None)
            handles.append(cont)
        else:
            handles.append(Line2D([], [], marker=marker, color=colour, ls="", ms=7,
                                  mec="black", mew=0.6, label=hue_label))
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
    if k > 1:
        _legend_above(ax, handles, k)
    notes = []
    interval = "lines show 95% confidence intervals; " if p.has_ci else ""
    notes.append(f"Points show the average score; {interval}n = number of respondents.")
    if sig_note and p.sig_rows:
        notes.append(sig_note)
    if any_caution:
        notes.append(CAUTION_NOTE)
    if any_sup:
        notes.append(_sup_note())
    _add_note(fig, ax, notes)
    _title(fig, title, default_title)
    return fig


@_styled
def question_means(data: pd.DataFrame, hue: str | None = "group", *, y: str = "question",
                   order: Sequence | None = None, hue_order: Sequence | None = None,
                   title: str | None = None) -> Figure:
    """Dot chart of mean scores per question (rows) with 95% intervals and n.

    ``data``: cell-table rows with columns ``y`` (default ``question``),
    ``hue`` (default ``group``; ``None`` for one series), ``mean``, ``n``;
    optional ``ci_low``/``ci_high`` (error bars), ``suppressed``, ``caution``.
    One row per (y, hue) pair: filter to one table/category first. Rows run in
    ``QUESTIONS`` order (all eight, "no data" where missing) unless ``order``
    is given (e.g. ``[*QUESTIONS, "overall"]``).
    """
    p = _prep_dots(data, y=y, hue=hue, order=order, hue_order=hue_order, func="question_means")
    ctx = _context_label(p.df.drop(columns=[hue]) if hue else p.df, y)
    default = f"Average score by {_what(p.df, y)}" + (f": {ctx}" if ctx else "")
    return _draw_dots(p, title=title, default_title=default)


@_styled
def providers_vs_officers(data: pd.DataFrame, *, y: str = "question", hue: str = "group",
                          order: Sequence | None = None, hue_order: Sequence | None = None,
                          title: str | None = None) -> Figure:
    """Providers and officers side by side (dodged dots, joined) per question.

    ``data``: cell-table rows for both groups with columns ``y`` (default
    ``question``; or ``category`` for one question), ``group``, ``mean``,
    ``n``; optional ``ci_low``/``ci_high``, ``suppressed``, ``caution``,
    ``groups_significant`` (rows where it is True on either group get a bold
    label and ``*``). One row per (y, group).
    """
    p = _prep_dots(data, y=y, hue=hue, order=order, hue_order=hue_order,
                   func="providers_vs_officers", sig_col="groups_significant")
    ctx = _context_label(p.df.drop(columns=[hue]), y)
    default = f"Providers and officers compared, by {_what(p.df, y)}" + (f": {ctx}" if ctx else "")
    return _draw_dots(p, title=title, default_title=default,
                      sig_note=f"{SIG_MARK} statistically significant difference between providers and officers.")


# ---------------------------------------------------------------------------
# Heat map
# ---------------------------------------------------------------------------

@dataclass
class _Heat:
    df: pd.DataFrame
    rows: list
    cols: list
    lookup: dict
    row_n: dict
    title_ctx: str
    what: str


def _prep_heat(data, *, table, questions, order, func="subgroup_heatmap") -> _Heat:
    df = _prepare(data, ["category", "question", "mean", "n"], func)
    if table is not None:
        _require(df, ["table"], func)
        df = df[df["table"] == table]
        if df.empty:
            raise ValueError(f"{func}: no rows for table {table!r}")
    for col in ("table", "group"):
        if col in df.columns and df[col].nunique() > 1:
            raise ValueError(f"{func}: data holds several {col}s {sorted(df[col].unique())}; "
                             f"pass table= or filter to one")
    cols = list(questions) if questions is not None else (
        list(QUESTIONS) + (["overall"] if (df["question"] == "overall").any() else []))
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
        ns = [r["n"] for (c, _), r in lookup.items() if c == cat and not r["suppressed"]
              and _finite(r["n"])]
        row_n[cat] = max(ns) if ns else None
        kinds = {r.get("suppression") for (c, _), r in lookup.items() if c == cat and r["suppressed"]}
        if row_n[cat] is None and kinds == {"complementary"}:
            row_n[cat] = "hidden"  # not small itself: hidden so a small neighbour cannot be worked out
    ctx = _context_label(df, "category")
    what = _what(df, "category")
    if what == "category" and _single(df, "table") is not None:
        ctx = ", ".join(x for x in (ctx, str(_single(df, "table"))) if x)
    return _Heat(df, rows, cols, lookup, row_n, ctx, what)


def _heat_row_label(cat: Any, n: Any) -> str:
    n_text = "hidden" if n == "hidden" else f"n={_fmt_n(n)}" if n is not None else f"n{_sup_short()}"
    return f"{_wrap(str(cat), 30)} ({n_text})"


@_styled
def subgroup_heatmap(data: pd.DataFrame, *, table: str | None = None,
                     questions: Sequence[str] | None = None, order: Sequence | None = None,
                     cmap: str = _DEFAULT_HEATMAP_CMAP, title: str | None = None) -> Figure:
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
    the score (readable in greyscale).
    """
    p = _prep_heat(data, table=table, questions=questions, order=order)
    n_rows, n_cols = len(p.rows), len(p.cols)
    mat = np.full((n_rows, n_cols), np.nan)
    for i, cat in enumerate(p.rows):
        for j, q in enumerate(p.cols):
            rec = p.lookup.get((cat, q))
            if rec is not None and _finite(rec["mean"]):
                mat[i, j] = rec["mean"]
    width = 2.5 + 0.76 * n_cols + 0.8
    height = 2.2 + 0.42 * n_rows
    fig, axes = _new_figure(width, height)
    ax = axes[0, 0]
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    norm = Normalize(vmin=SCALE[0], vmax=SCALE[1])
    frame = pd.DataFrame(mat)
    sns.heatmap(frame, ax=ax, cmap=colormap, vmin=SCALE[0], vmax=SCALE[1], mask=frame.isna(),
                linewidths=1.5, linecolor="white", square=False, annot=False,
                cbar_kws={"label": SCALE_LABEL, "ticks": [1, 2, 3, 4], "shrink": 0.9,
                          "aspect": 30, "pad": 0.015, "fraction": 0.04})
    any_sup = any_caution = any_sig = any_missing = False
    for i, cat in enumerate(p.rows):
        for j, q in enumerate(p.cols):
            rec = p.lookup.get((cat, q))
            cx, cy = j + 0.5, i + 0.5
            if rec is None or rec["suppressed"] or not _finite(rec["mean"]):
                sup = rec is not None and rec["suppressed"]
                any_sup |= sup
                any_missing |= not sup
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#eeeeee", edgecolor="white",
                                       lw=1.5, hatch="///" if sup else None, zorder=0.5))
                comp = sup and rec.get("suppression") == "complementary"
                ax.text(cx, cy, (HIDDEN_SHORT if comp else _sup_short()) if sup else "\u2013", ha="center",
                        va="center", fontsize=7 if comp else 9, color="#333333",
                        bbox=dict(boxstyle="round,pad=0.15", fc="#eeeeee", ec="none"))
                continue
            m = rec["mean"]
            text = _fmt_mean(m)
            bold = False
            if rec["rest_significant"]:
                diff = rec.get("rest_diff")
                text += UP_MARK if (_finite(diff) and diff > 0) else (
                    DOWN_MARK if _finite(diff) and diff < 0 else SIG_MARK)
                bold = any_sig = True
            if rec["caution"]:
                text += CAUTION_MARK
                any_caution = True
            # black or white, whichever contrasts more (WCAG ratio crossover at L = 0.179)
            lum = sns.utils.relative_luminance(colormap(norm(m)))
            ax.text(cx, cy, text, ha="center", va="center", fontsize=9,
                    fontweight="bold" if bold else "normal",
                    color="black" if lum > 0.179 else "white")
    if "All" in p.rows and p.rows.index("All") == 0 and n_rows > 1:
        ax.axhline(1, color="black", lw=1.2)
    ax.set_yticks(np.arange(n_rows) + 0.5,
                  labels=[_heat_row_label(c, p.row_n[c]) for c in p.rows], rotation=0)
    ax.set_xticks(np.arange(n_cols) + 0.5, labels=[_wrap(_label("question", q), 12) for q in p.cols],
                  rotation=0, fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    notes = ["Cells show the average score (1 = poor, 4 = good); n = respondents in the row "
             "(largest across questions)."]
    if any_sig:
        notes.append(f"{UP_MARK}/{DOWN_MARK} (bold) significantly higher/lower than the rest of the group.")
    if any_caution:
        notes.append(CAUTION_NOTE)
    if any_sup:
        notes.append(f"{_sup_short()} (hatched): fewer than {_k()} respondents, not shown; "
                     f"{HIDDEN_SHORT}: hidden so that a small group's answers cannot be worked out.")
    if any_missing:
        notes.append("\u2013 no answers in this cell.")
    _add_note(fig, ax, notes)
    _title(fig, title, f"Average score by question and {p.what}"
           + (f": {p.title_ctx}" if p.title_ctx else ""))
    return fig


# ---------------------------------------------------------------------------
# Change on last year
# ---------------------------------------------------------------------------

@dataclass
class _Change:
    df: pd.DataFrame
    y: str
    hue: str | None
    value: str
    rows: list
    hues: list
    lookup: dict
    omitted: list


def _flag_true(v: Any) -> bool:
    try:
        return bool(v) and not pd.isna(v)
    except (TypeError, ValueError):
        return bool(v)


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


def _prep_change(data, *, value, y, hue, order, hue_order, omit_missing,
                 func="change_bars") -> _Change:
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
    return _Change(df, y, hue, value, rows, hues, lookup, omitted)


@_styled
def change_bars(data: pd.DataFrame, value: str = "change_pct", *, y: str = "question",
                hue: str | None = None, order: Sequence | None = None,
                hue_order: Sequence | None = None, omit_missing: bool = False,
                title: str | None = None) -> Figure:
    """Diverging horizontal bars of the change on last year, per question (or category).

    ``data``: cell-table rows with columns ``y`` (default ``question``; or
    ``category``), ``value`` (``change_pct`` or ``change_pts``), ``n``,
    ``n_last``, ``mean_last``; optional ``hue`` column, ``suppressed``,
    ``caution``, ``last_year_significant`` (solid bar with black edge and
    ``*``; non-significant changes are pale). Rows without last year's
    figure are labelled "not asked last year", or dropped with a note when
    ``omit_missing``. n this year / last year are shown in the row labels
    (or beside each bar when ``hue`` splits the rows).
    """
    p = _prep_change(data, value=value, y=y, hue=hue, order=order, hue_order=hue_order,
                     omit_missing=omit_missing)
    n_rows, k = len(p.rows), len(p.hues)
    height = 1.9 + max(n_rows, 1) * (0.28 + 0.2 * k) + (0.35 if k > 1 else 0)
    fig, axes = _new_figure(8.0, height)
    ax = axes[0, 0]
    offsets = _dodge(k, 0.72)
    bar_h = 0.62 / k
    vals = [r[value] for r in p.lookup.values() if _status(r, value) == "ok"]
    span = max([abs(v) for v in vals] + [5.0 if value == "change_pct" else 0.2])
    lim = span * (1.45 if k == 1 else 2.1)  # room for the value labels
    any_sig = any_sup = any_not_asked = any_caution = False
    handles = []
    for j, h in enumerate(p.hues):
        colour, _marker = _series_style(hue, h, j)
        hue_label = _label(hue, h) if hue else ""
        hatch = [None, "///", "...", "xx", "\\\\"][j % 5] if k > 1 else None
        for i, lvl in enumerate(p.rows):
            yy = i + offsets[j]
            rec = p.lookup.get((lvl, h))
            st = _status(rec, value)
            prefix = f"{hue_label}: " if k > 1 else ""
            if st != "ok":
                text = {"suppressed": (HIDDEN_SHORT if rec is not None and rec.get("suppression") == "complementary"
                                       else _sup_label()), "not_asked": NOT_ASKED_LABEL,
                        "no_data": NO_DATA_LABEL}[st]
                any_sup |= st == "suppressed"
                any_not_asked |= st == "not_asked"
                ax.text(lim * 0.02, yy, prefix + text, ha="left", va="center", fontsize=8,
                        style="italic", color=_NOTE_COLOUR)
                continue
            v = rec[value]
            sig = bool(rec["last_year_significant"])
            any_sig |= sig
            c = colour if k > 1 else (_UP_COLOUR if v >= 0 else _DOWN_COLOUR)
            ax.barh(yy, v, height=bar_h, color=c, alpha=1.0 if sig else 0.45,
                    edgecolor="black" if sig else c, linewidth=1.2 if sig else 0.5,
                    hatch=hatch, zorder=3)
            label = _fmt_change(v, value) + (f" {SIG_MARK}" if sig else "")
            if rec["caution"]:
                label += f" {CAUTION_MARK}"
                any_caution = True
            if k > 1:
                last = _fmt_n(rec["n_last"]) if _finite(rec["n_last"]) else "\u2013"
                label += f"  (n={_fmt_n(rec['n'])}/{last})"
            pad = lim * 0.015
            ax.text(v + (pad if v >= 0 else -pad), yy, label, ha="left" if v >= 0 else "right",
                    va="center", fontsize=8, fontweight="bold" if sig else "normal")
        if k > 1:
            handles.append(Patch(facecolor=colour, edgecolor="black", hatch=hatch, label=hue_label))
    ax.axvline(0, color="black", lw=1, zorder=4)
    ax.spines[["top", "right"]].set_visible(False)
    labels = []
    for lvl in p.rows:
        text = _wrap(_label(y, lvl), 26)
        if k == 1:
            rec = p.lookup.get((lvl, p.hues[0]))
            if rec is not None and not rec["suppressed"]:
                last = _fmt_n(rec["n_last"]) if _finite(rec["n_last"]) else "\u2013"
                text += f"\n(n={_fmt_n(rec['n'])} / {last})"
            elif rec is not None:
                text += (f"\n(n {HIDDEN_SHORT})" if rec.get("suppression") == "complementary"
                         else f"\n(n {_sup_label()})")
        labels.append(text)
    ax.set_yticks(range(n_rows), labels=labels)
    ax.set_ylim(max(n_rows, 1) - 0.5, -0.5)
    ax.set_xlim(-lim, lim)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(
        lambda v, _pos: _fmt_change(v, value) if abs(v) > 1e-12 else "0"))
    unit = "per cent" if value == "change_pct" else "points on the 1-4 scale"
    ax.set_xlabel(f"Change in average score on last year ({unit})")
    if k > 1:
        _legend_above(ax, handles, k)
    notes = ["n = respondents this year / last year." if k > 1 or n_rows else ""]
    if k == 1:
        notes = ["Bars to the right (blue): score went up; to the left (orange): went down. "
                 "n = respondents this year / last year."]
    notes.append(f"Solid bars with {SIG_MARK}: statistically significant change; pale bars: "
                 "change could be chance." if any_sig else
                 "Pale bars: no statistically significant change." if "last_year_significant"
                 in p.df.columns else "")
    if any_caution:
        notes.append(CAUTION_NOTE)
    if any_not_asked:
        notes.append(f"'{NOT_ASKED_LABEL}': no comparable figure last year.")
    if p.omitted:
        notes.append("Not asked last year, so not shown: "
                     + ", ".join(_label(y, o) for o in p.omitted) + ".")
    if any_sup:
        notes.append(_sup_note())
    _add_note(fig, ax, notes)
    ctx = _context_label(p.df.drop(columns=[hue]) if hue else p.df, y)
    _title(fig, title, f"Change on last year by {_what(p.df, y)}" + (f": {ctx}" if ctx else ""))
    return fig


# ---------------------------------------------------------------------------
# Trends over years
# ---------------------------------------------------------------------------

@dataclass
class _Trend:
    df: pd.DataFrame
    x: str
    hue: str
    facet: str | None
    facets: list
    hues: list
    years: list
    has_ci: bool


def _prep_trend(data, *, x, hue, hue_order, func="trend_lines") -> _Trend:
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
    return _Trend(df, x, hue, facet, facets, hues, years, has_ci)


def _trend_tick(sub: pd.DataFrame, x: str, hue: str, hues: list, year: Any, few: bool) -> str:
    """Year tick label with n: per line when there are few lines, else the largest n."""
    at = sub[(sub[x] == year) & ~sub["suppressed"]]
    head = str(int(year))
    if few:
        lines = []
        for h in hues:
            ns = at.loc[at[hue] == h, "n"].dropna()
            if len(ns):
                short = _label(hue, h) if len(hues) > 1 else ""
                lines.append(f"{short} n={_fmt_n(ns.max())}".strip())
        return "\n".join([head, *lines])
    ns = at["n"].dropna()
    return f"{head}\n(n={_fmt_n(ns.max())})" if len(ns) else head


@_styled
def trend_lines(data: pd.DataFrame, *, x: str = "year", hue: str = "question",
                hue_order: Sequence | None = None, title: str | None = None,
                ylim: tuple[float, float] = SCALE) -> Figure:
    """Mean score over the years, one line per question (or per group).

    ``data``: long frame with columns ``year`` (``x``), ``group``,
    ``question``, ``mean``, ``n``; optional ``ci_low``/``ci_high`` (bands),
    ``suppressed`` (gap in the line), ``caution`` (hollow marker). One row
    per (year, group, question). With ``hue="question"`` and both groups
    present, one panel per group; with ``hue="group"`` and several questions,
    one panel per question. n is printed under each year: per line when there
    are at most three lines, else the largest n of the year.
    """
    p = _prep_trend(data, x=x, hue=hue, hue_order=hue_order)
    nf = len(p.facets)
    ncols = min(nf, 2) if hue == "question" else min(nf, 3)
    nrows = math.ceil(nf / ncols)
    few = len(p.hues) <= 3
    width = 8.0 if ncols <= 2 else 9.0
    height = 1.4 + nrows * (3.4 if ncols > 1 else 4.2) + 0.3 * math.ceil(len(p.hues) / 4)
    fig, axes = _new_figure(width, height, nrows, ncols, sharey=True)
    any_caution = any_gap = False
    handles = {}
    for fi, fval in enumerate(p.facets):
        ax = axes[fi // ncols, fi % ncols]
        sub_f = p.df if fval is None else p.df[p.df[p.facet] == fval]
        for j, h in enumerate(p.hues):
            colour, marker = _series_style(hue, h, j)
            ls = _linestyle(hue, h, j)
            s = sub_f[sub_f[hue] == h].set_index(x).reindex(p.years)
            if s["mean"].notna().sum() == 0:
                continue
            xs = np.asarray(p.years, dtype=float)
            ys = s["mean"].to_numpy(dtype=float)
            any_gap |= bool(s["suppressed"].fillna(False).astype(bool).any())
            ax.plot(xs, ys, color=colour, ls=ls, lw=1.8, zorder=3)
            caution = s["caution"].fillna(False).astype(bool).to_numpy()
            any_caution |= bool(caution.any())
            ok = np.isfinite(ys)
            ax.plot(xs[ok & ~caution], ys[ok & ~caution], ls="", marker=marker, ms=6.5,
                    color=colour, mec="black", mew=0.5, zorder=4)
            ax.plot(xs[ok & caution], ys[ok & caution], ls="", marker=marker, ms=6.5,
                    mfc="white", mec=colour, mew=1.5, zorder=4)
            if p.has_ci:
                lo = s["ci_low"].to_numpy(dtype=float)
                hi = s["ci_high"].to_numpy(dtype=float)
                ax.fill_between(xs, lo, hi, color=colour, alpha=0.16 if few else 0.06,
                                lw=0, zorder=1)
            handles[h] = Line2D([], [], color=colour, ls=ls, lw=1.8, marker=marker, ms=6.5,
                                mec="black", mew=0.5, label=_label(hue, h))
        ax.set_xticks(p.years, labels=[_trend_tick(sub_f, x, hue, p.hues, yr, few)
                                       for yr in p.years])
        pad = 0.35 if len(p.years) > 1 else 0.6
        ax.set_xlim(p.years[0] - pad, p.years[-1] + pad)
        ax.set_ylim(*ylim)
        ax.set_yticks(range(int(ylim[0]), int(ylim[1]) + 1))
        ax.grid(axis="x", visible=False)
        if fval is not None:
            ax.set_title(_label(p.facet, fval))
        if fi % ncols == 0:
            ax.set_ylabel(SCALE_LABEL)
        ax.set_xlabel("Survey year")
    for fi in range(nf, nrows * ncols):
        axes[fi // ncols, fi % ncols].set_visible(False)
    fig.legend(handles=list(handles.values()), loc="outside lower center",
               ncols=min(len(handles), 4), handlelength=3.2)
    notes = []
    if p.has_ci:
        notes.append("Shaded bands: 95% confidence intervals.")
    if any_caution:
        notes.append("Hollow markers: few respondents, interpret with caution.")
    if any_gap:
        notes.append(f"Gaps: fewer than {_k()} respondents that year, not shown.")
    if not few:
        notes.insert(0, "n under each year: most respondents to any one question.")
    if notes:
        # wrapped to one panel's width so the note does not push the panels apart
        _add_note(fig, axes[-1, 0], notes, width_chars=int(width / ncols * 13), offset=4)
    ctx = ""
    if p.facet is None:
        other = "group" if hue == "question" else "question"
        if other in p.df.columns and p.df[other].nunique() == 1:
            ctx = ": " + _label(other, p.df[other].iloc[0])
    if not p.years:
        default = "Average score by year"
    elif len(p.years) == 1:
        default = f"Average score, {int(p.years[0])}{ctx}"
    else:
        default = f"Average score by year, {int(p.years[0])}\u2013{int(p.years[-1])}{ctx}"
    _title(fig, title, default)
    return fig


# ---------------------------------------------------------------------------
# Alt text
# ---------------------------------------------------------------------------

def _extremes(recs: list[dict], key: str = "mean"):
    ok = [r for r in recs if _finite(r.get(key))]
    if not ok:
        return None, None
    hi = max(ok, key=lambda r: r[key])
    lo = min(ok, key=lambda r: r[key])
    return hi, lo


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(what: str) -> str:
    return what[:-1] + "ies" if what.endswith("y") else what + "s"


def _alt_dots(p: _Dots, chart: str, sig_text: str | None) -> str:
    what = _what(p.df, p.y)
    rows = f"{len(p.rows)} {_plural(what)}" if p.y == "question" else (
        f"{len(p.rows)} {_plural(what)} ({', '.join(map(str, p.rows))})")
    series = " and ".join(_label(p.hue, h) for h in p.hues) if p.hue else ""
    ctx = _context_label(p.df.drop(columns=[p.hue]) if p.hue else p.df, p.y)
    ci = ", with 95% confidence intervals" if p.has_ci else ""
    out = [f"{chart} (1 = poor, 4 = good) for {rows}"
           + (f", {series}" if series and len(p.hues) > 1 else "")
           + (f"; {ctx}" if ctx else "") + f"{ci}."]
    suppressed = []
    for h in p.hues:
        recs = [p.lookup[(lvl, h)] for lvl in p.rows if (lvl, h) in p.lookup]
        suppressed += [(lvl, h) for lvl in p.rows
                       if (lvl, h) in p.lookup and p.lookup[(lvl, h)]["suppressed"]]
        hi, lo = _extremes(recs)
        if hi is None:
            continue
        prefix = f"{_label(p.hue, h)}: " if p.hue and len(p.hues) > 1 else ""
        out.append(_cap(f"{prefix}highest {_label(p.y, hi[p.y])} {_fmt_mean(hi['mean'])} "
                   f"(n={_fmt_n(hi['n'])}), lowest {_label(p.y, lo[p.y])} "
                   f"{_fmt_mean(lo['mean'])} (n={_fmt_n(lo['n'])})."))
    if p.hue and len(p.hues) == 2:
        gaps = []
        for lvl in p.rows:
            a, b = p.lookup.get((lvl, p.hues[0])), p.lookup.get((lvl, p.hues[1]))
            if a and b and _finite(a["mean"]) and _finite(b["mean"]):
                gaps.append((abs(a["mean"] - b["mean"]), lvl, a["mean"], b["mean"]))
        if gaps:
            g = max(gaps, key=lambda t: t[0])
            out.append(f"Largest gap: {_label(p.y, g[1])} ({_label(p.hue, p.hues[0])} "
                       f"{_fmt_mean(g[2])}, {_label(p.hue, p.hues[1])} {_fmt_mean(g[3])}).")
    if sig_text is not None and p.sig_rows:
        out.append(sig_text + ", ".join(_label(p.y, r) for r in p.rows if r in p.sig_rows) + ".")
    def _names(pairs):
        return ", ".join((f"{_label(p.hue, h)} " if p.hue and len(p.hues) > 1 else "") + _label(p.y, lvl)
                         for lvl, h in pairs)

    small = [(lvl, h) for lvl, h in suppressed if p.lookup[(lvl, h)].get("suppression") != "complementary"]
    comp = [(lvl, h) for lvl, h in suppressed if p.lookup[(lvl, h)].get("suppression") == "complementary"]
    if small:
        out.append(f"Not shown (fewer than {_k()} respondents): " + _names(small) + ".")
    if comp:
        out.append("Hidden so that a smaller group's answers cannot be worked out: " + _names(comp) + ".")
    return " ".join(out)


def _alt_heat(p: _Heat) -> str:
    recs = [r for r in p.lookup.values() if _finite(r["mean"])]
    ctx = f" for {p.title_ctx}" if p.title_ctx else ""
    out = [f"Heat map of average scores (1 = poor, 4 = good){ctx} by {p.what}: {len(p.rows)} "
           f"rows ({', '.join(map(str, p.rows))}) by {len(p.cols)} questions (columns)."]
    hi, lo = _extremes(recs)
    if hi is not None:
        out.append(f"Highest: {hi['category']}, {_label('question', hi['question'])} "
                   f"{_fmt_mean(hi['mean'])} (n={_fmt_n(hi['n'])}). Lowest: {lo['category']}, "
                   f"{_label('question', lo['question'])} {_fmt_mean(lo['mean'])} "
                   f"(n={_fmt_n(lo['n'])}).")
    qmeans = {}
    for q in p.cols:
        vals = [r["mean"] for r in recs if r["question"] == q and r["category"] != "All"]
        if vals:
            qmeans[q] = float(np.mean(vals))
    if len(qmeans) > 1:
        qh = max(qmeans, key=qmeans.get)
        ql = min(qmeans, key=qmeans.get)
        out.append(f"Across categories the highest question is {_label('question', qh)} "
                   f"(average {_fmt_mean(qmeans[qh])}) and the lowest {_label('question', ql)} "
                   f"({_fmt_mean(qmeans[ql])}).")
    sig = [r for r in recs if r["rest_significant"]]
    if sig:
        out.append("Significantly different from the rest of the group: " + "; ".join(
            f"{r['category']}, {_label('question', r['question'])} "
            + ("higher" if _finite(r.get("rest_diff")) and r["rest_diff"] > 0 else
               "lower" if _finite(r.get("rest_diff")) else "different")
            for r in sig) + ".")
    n_sup = sum(1 for r in p.lookup.values() if r["suppressed"] and r.get("suppression") != "complementary")
    n_comp = sum(1 for r in p.lookup.values() if r["suppressed"] and r.get("suppression") == "complementary")
    if n_sup:
        out.append(f"{n_sup} cell{'s' if n_sup != 1 else ''} not shown (fewer than {_k()} respondents).")
    if n_comp:
        out.append(f"{n_comp} cell{'s' if n_comp != 1 else ''} hidden so that a smaller group's answers "
                   "cannot be worked out.")
    return " ".join(out)


def _alt_change(p: _Change) -> str:
    unit = "per cent" if p.value == "change_pct" else "points"
    what = _what(p.df, p.y)
    ctx = _context_label(p.df.drop(columns=[p.hue]) if p.hue else p.df, p.y)
    out = [f"Bar chart of the change in average score on last year ({unit}) by {what}"
           + (f", {' and '.join(_label(p.hue, h) for h in p.hues)}" if p.hue else "")
           + (f"; {ctx}" if ctx else "") + "."]

    def describe(r):
        v = r[p.value]
        amount = _fmt_change(abs(v), p.value).lstrip("+")
        verb = "up" if v > 0 else "down" if v < 0 else "unchanged"
        sig = ", significant" if r["last_year_significant"] else ""
        last = f" from {_fmt_mean(r['mean_last'])}" if _finite(r.get("mean_last")) else ""
        now = f" to {_fmt_mean(r['mean'])}" if _finite(r.get("mean")) else ""
        return f"{_label(p.y, r[p.y])} {verb} {amount}{last}{now}{sig}"

    for h in p.hues:
        recs = [p.lookup[(lvl, h)] for lvl in p.rows if (lvl, h) in p.lookup
                and _status(p.lookup[(lvl, h)], p.value) == "ok"]
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
            out.append(f"{len(sig)} significant change{'s' if len(sig) != 1 else ''}: "
                       + ", ".join(_label(p.y, r[p.y]) for r in sig) + ".")
        elif "last_year_significant" in p.df.columns:
            out.append("No significant changes.")
    missing = [lvl for lvl in p.rows
               if all(_status(p.lookup.get((lvl, h)), p.value) == "not_asked" for h in p.hues)]
    missing += p.omitted
    if missing:
        out.append("Not asked last year: " + ", ".join(_label(p.y, m) for m in missing) + ".")
    n_sup = sum(1 for r in p.lookup.values() if r["suppressed"])
    if n_sup:
        out.append(f"{n_sup} change{'s' if n_sup != 1 else ''} not shown (fewer than {_k()} respondents, "
                   "or hidden to protect a smaller group).")
    return " ".join(out)


def _alt_trend(p: _Trend) -> str:
    if not p.years:
        return "Line chart of average scores by year: no data."
    y0, y1 = int(p.years[0]), int(p.years[-1])
    ctx = ""
    if p.facet is None:
        other = "group" if p.hue == "question" else "question"
        if _single(p.df, other) is not None:
            ctx = f" ({_label(other, _single(p.df, other))})"
    out = [f"Line chart of average scores (1 = poor, 4 = good) by survey year, {y0} to {y1}"
           f"{ctx}, one line per {p.hue}" + (f", one panel per {p.facet}" if p.facet else "") + "."]
    for fval in p.facets:
        sub = p.df if fval is None else p.df[p.df[p.facet] == fval]
        prefix = f"{_label(p.facet, fval)}: " if fval is not None else ""
        latest = sub[(sub[p.x] == p.years[-1])]
        hi, lo = _extremes(latest.to_dict("records"))
        if hi is None:
            continue
        text = _cap(f"{prefix}in {y1} highest {_label(p.hue, hi[p.hue])} {_fmt_mean(hi['mean'])}, "
                f"lowest {_label(p.hue, lo[p.hue])} {_fmt_mean(lo['mean'])}")
        changes = []
        for h in p.hues:
            s = sub[(sub[p.hue] == h) & sub["mean"].notna()].sort_values(p.x)
            if len(s) >= 2:
                changes.append((s["mean"].iloc[-1] - s["mean"].iloc[0], h, int(s[p.x].iloc[0]),
                                s["mean"].iloc[0], int(s[p.x].iloc[-1]), s["mean"].iloc[-1]))
        if changes:
            c = max(changes, key=lambda t: abs(t[0]))
            text += (f"; biggest change {_label(p.hue, c[1])}, {_fmt_mean(c[3])} in {c[2]} to "
                     f"{_fmt_mean(c[5])} in {c[4]}")
        out.append(text + ".")
    return " ".join(out)


def alt_text(kind: str | Callable, data: pd.DataFrame, **kwargs: Any) -> str:
    """Alternative text for a figure of ``kind`` drawn from ``data``.

    ``kind`` is a figure function's name (see ``FIGURE_KINDS``) or the
    function itself; ``kwargs`` are the same keywords given to the figure
    function (``hue=``, ``y=``, ``value=``, ``table=`` ...), so the text
    describes exactly what is drawn: what the chart shows, then the highest
    and lowest values with their numbers, significant results and what is
    not shown.
    """
    if callable(kind):
        kind = kind.__name__
    kw = {k: v for k, v in kwargs.items() if k not in ("title", "cmap", "ylim")}
    if kind == "question_means":
        p = _prep_dots(data, y=kw.get("y", "question"), hue=kw.get("hue", "group"),
                       order=kw.get("order"), hue_order=kw.get("hue_order"), func=kind)
        return _alt_dots(p, "Dot chart of average scores", None)
    if kind == "providers_vs_officers":
        p = _prep_dots(data, y=kw.get("y", "question"), hue=kw.get("hue", "group"),
                       order=kw.get("order"), hue_order=kw.get("hue_order"), func=kind,
                       sig_col="groups_significant")
        return _alt_dots(p, "Dot chart comparing providers' and officers' average scores",
                         "Significant differences between the groups: ")
    if kind == "subgroup_heatmap":
        p = _prep_heat(data, table=kw.get("table"), questions=kw.get("questions"),
                       order=kw.get("order"))
        return _alt_heat(p)
    if kind == "change_bars":
        p = _prep_change(data, value=kw.get("value", "change_pct"), y=kw.get("y", "question"),
                         hue=kw.get("hue"), order=kw.get("order"), hue_order=kw.get("hue_order"),
                         omit_missing=kw.get("omit_missing", False))
        return _alt_change(p)
    if kind == "trend_lines":
        p = _prep_trend(data, x=kw.get("x", "year"), hue=kw.get("hue", "question"),
                        hue_order=kw.get("hue_order"))
        return _alt_trend(p)
    raise ValueError(f"alt_text: unknown kind {kind!r}; expected one of {FIGURE_KINDS}")


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------

def figure_to_data_uri(fig: Figure, dpi: int = 110, *, max_bytes: int | None = 150_000) -> str:
    """PNG ``data:`` URI of ``fig`` (for a self-contained HTML page); closes ``fig``.

    The PNG carries no timestamp or software metadata, so the same figure
    gives the same bytes on every run. If it is over ``max_bytes`` it is
    re-encoded with a 256-colour palette (no dithering: flat fills and text
    stay crisp), which typically halves the size.
    """
    buf = io.BytesIO()
    try:
        with plot_style():
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.12,
                        facecolor="white", metadata={"Software": None},
                        pil_kwargs={"optimize": True})
    finally:
        import matplotlib.pyplot as plt  # only to release a pyplot-managed figure
        plt.close(fig)
    png = buf.getvalue()
    if max_bytes is not None and len(png) > max_bytes:
        png = _palette_png(png)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _palette_png(png: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def figure_files(fig: Figure, dpi: int = 110, file_dpi: int = 200) -> dict[str, Any]:
    """One figure as the report's PNG ``data:`` URI and as PNG and SVG file contents; closes ``fig``.

    Returns ``{"uri": str, "png": bytes, "svg": bytes}``. The files carry no
    timestamp or software metadata (same figure, same bytes); the SVG keeps its
    text as text (``svg.fonttype: none``), so it stays editable, searchable and
    can be checked by the publication scan.
    """
    import matplotlib

    out: dict[str, Any] = {}
    try:
        with plot_style():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=file_dpi, bbox_inches="tight", pad_inches=0.12, facecolor="white",
                        metadata={"Software": None}, pil_kwargs={"optimize": True})
            out["png"] = buf.getvalue()
            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rmlib"}):
                fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.12, facecolor="white",
                            metadata={"Date": None, "Creator": None})
            out["svg"] = buf.getvalue()
        out["uri"] = figure_to_data_uri(fig, dpi=dpi)   # closes fig
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
