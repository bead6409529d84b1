"""The look shared by every figure: style context, palettes, markers, layout helpers.

Colours come from colour-blind-safe palettes and every colour distinction is
doubled by a marker shape or line style, so the figures survive greyscale
printing. :func:`plot_style` applies the settings inside a context manager,
so no global matplotlib or seaborn state is changed.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import matplotlib as mpl
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..constants import GROUPS, QUESTIONS
from ._text import _wrap

SCALE: tuple[int, int] = (1, 4)
SCALE_LABEL = "Average score (1 = poor, 4 = good)"
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


def _rc() -> dict[str, Any]:
    """The report's matplotlib settings (seaborn whitegrid, small type, fixed SVG hash salt)."""
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook", font_scale=0.85))
    rc.update(
        {
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
        }
    )
    return rc


@contextmanager
def plot_style() -> Iterator[None]:
    """Temporarily apply the report's figure style (restored on exit)."""
    with mpl.rc_context(_rc()):
        yield


def _styled(func: Callable) -> Callable:
    """Decorator: draw the figure inside :func:`plot_style`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plot_style():
            return func(*args, **kwargs)

    return wrapper


def _new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw):
    """A figure with an Agg canvas of its own, not registered with pyplot, and its axes grid."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _series_style(hue: str | None, level: Any, index: int):
    """(colour, marker) of a series: fixed for each group and question, else by position."""
    if hue == "group" and level in _GROUP_STYLE:
        return _GROUP_STYLE[level]
    if hue == "question" and level in QUESTIONS:
        index = QUESTIONS.index(level)
    return _LINE_COLOURS[index % len(_LINE_COLOURS)], _MARKERS[index % len(_MARKERS)]


def _linestyle(hue: str | None, level: Any, index: int):
    """Line style of a series (doubles its colour for greyscale print)."""
    if hue == "question" and level in QUESTIONS:
        index = QUESTIONS.index(level)
    if hue == "group" and level in GROUPS:
        index = GROUPS.index(level)
    return _LINESTYLES[index % len(_LINESTYLES)]


def _dodge(k: int, width: float = 0.62) -> list[float]:
    """Offsets that spread ``k`` series across one row of ``width``."""
    if k <= 1:
        return [0.0]
    step = width / k
    return [(i - (k - 1) / 2) * step for i in range(k)]


def _add_note(fig: Figure, ax, lines: Sequence[str], width_chars: int | None = None, offset: float = 6) -> None:
    """Footnote under the axes' x label (kept inside the figure by the layout)."""
    lines = [ln for ln in lines if ln]
    if not lines:
        return
    width_chars = width_chars or int(fig.get_figwidth() * 14)
    text = "\n".join(_wrap(ln, width_chars) for ln in lines)
    ax.annotate(
        text,
        xy=(0, 0),
        xycoords=("figure fraction", ax.xaxis.label),
        xytext=(4, -offset),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8,
        color=_NOTE_COLOUR,
        annotation_clip=False,
    )


def _legend_above(ax, handles, k: int) -> None:
    """Legend in one row between the figure title and the plot."""
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=min(k, 4),
        borderaxespad=0.4,
        handletextpad=0.4,
        columnspacing=1.4,
        frameon=False,
    )


def _title(fig: Figure, title: str | None, default: str) -> None:
    """Figure title: ``default`` when ``title`` is None, none when it is ""."""
    text = default if title is None else title
    if text:
        fig.suptitle(text, x=0.01, ha="left")
