"""Figures for the Relationship Management Survey report, one module per figure family.

* :mod:`~rmlib.plots.dots`: :func:`question_means`, :func:`providers_vs_officers`;
* :mod:`~rmlib.plots.heatmaps`: :func:`subgroup_heatmap`;
* :mod:`~rmlib.plots.bars`: :func:`change_bars`;
* :mod:`~rmlib.plots.trends`: :func:`trend_lines`;
* :mod:`~rmlib.plots.alt`: :func:`alt_text`, the ``<img alt>`` text of each kind;
* :mod:`~rmlib.plots.export`: :func:`figure_to_data_uri` (a PNG ``data:`` URI for
  the self-contained HTML report) and :func:`figure_files` (PNG and SVG files);
* ``_style``, ``_text``, ``_data``: the look, the words and number formats, and
  the data checks shared by every family.

Every figure function

* takes a tidy frame as ``data=`` (the cell table of ``docs/contracts.md``, or
  for :func:`trend_lines` a long multi-year frame) and names its columns with
  the same keywords: ``y=`` the column down the rows of a horizontal chart
  (``"question"`` or ``"category"``), ``x=`` the column along the x axis of a
  line chart (``"year"``), ``hue=`` the column that splits the series
  (``"group"``, ``"question"``, ``"category"`` ...), ``order=`` /
  ``hue_order=`` to fix their order, ``title=`` (``None``: a generated plain
  English title, ``""``: none), ``min_cell_n=`` the run's small-cell threshold;
* returns a :class:`matplotlib.figure.Figure` that is *not* registered with
  pyplot (no ``plt.show()``, nothing left open, nothing shown twice in a
  notebook) and is drawn with the Agg renderer;
* draws inside :func:`plot_style`, a context manager, so no global matplotlib
  or seaborn state is changed.

Disclosure rules: a cell with ``suppressed`` True is never plotted as a value,
whatever its estimate columns hold (they are blanked here again, defensively);
it is shown blank and labelled "fewer than N" (``"<N"`` inside heat-map cells;
N is the ``min_cell_n`` passed to the figure, and to :func:`alt_text` for its
description; the wording is :mod:`rmlib.labels`'), or "hidden" when it was
hidden to protect a smaller neighbour, and its ``n`` is never printed.
``caution`` cells are marked with a dagger. No threshold is held here between
calls: each figure quotes the one it is given.

Print: colours come from colour-blind-safe palettes, and every colour
distinction is doubled by a marker shape, line style, glyph or direct label so
the figures survive greyscale printing.
"""

from __future__ import annotations

from ._style import SCALE, SCALE_LABEL, plot_style
from ._text import (
    CAUTION_MARK,
    CAUTION_NOTE,
    DOWN_MARK,
    HIDDEN_SHORT,
    MINUS,
    NO_DATA_LABEL,
    NOT_ASKED_LABEL,
    OVERALL_LABEL,
    SIG_MARK,
    SUPPRESSED_LABEL,
    SUPPRESSED_SHORT,
    UP_MARK,
)
from .alt import FIGURE_KINDS, alt_text
from .bars import change_bars
from .dots import providers_vs_officers, question_means
from .export import figure_files, figure_to_data_uri
from .heatmaps import subgroup_heatmap
from .trends import trend_lines

__all__ = [
    "plot_style",
    "question_means",
    "subgroup_heatmap",
    "change_bars",
    "trend_lines",
    "providers_vs_officers",
    "alt_text",
    "figure_to_data_uri",
    "figure_files",
    "FIGURE_KINDS",
    "SCALE",
    "SCALE_LABEL",
    "OVERALL_LABEL",
    "SUPPRESSED_LABEL",
    "SUPPRESSED_SHORT",
    "HIDDEN_SHORT",
    "NO_DATA_LABEL",
    "NOT_ASKED_LABEL",
    "CAUTION_MARK",
    "CAUTION_NOTE",
    "UP_MARK",
    "DOWN_MARK",
    "SIG_MARK",
    "MINUS",
]
