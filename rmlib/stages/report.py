"""Stage 5, report: the comments analysed, the reviewers' HTML report, every table as CSV and one workbook
(``notebooks/05_report``).

The report is assembled from the audit tables of stages 1-4
(:func:`rmlib.report.build_context` reads them by their registered names);
comments are redacted before anything is shown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import artefacts, publish, report
from ..dataset import YearData, load_year
from ..params import Params

KEY = "report"
COMMENT_TABLES = ("summary", "counts", "quotes")


def load(P: Params) -> YearData:
    """This year's processed data (the comments; no category merges: the comments are not tabulated by them)."""
    return load_year(P.year, P.processed_dir)


def comments(P: Params, this: YearData) -> dict[str, pd.DataFrame]:
    """Redact, theme-code and count the comments (``summary``, ``counts``, ``quotes``); raw text stays inside."""
    return report.analyse_comments(this.comments, P)


def context(P: Params, analysed: dict[str, pd.DataFrame], figures: bool = True) -> dict:
    """Everything the report shows, from the audit tables of stages 1-4 (``figures``: each figure also
    published as PNG and SVG under ``figures/``)."""
    return report.build_context(P, P.path("output_dir"), analysed, figures=figures)


def render(ctx: dict) -> str:
    """The report as one self-contained HTML string (no script, no remote resource)."""
    return report.render_report(ctx)


def write_report(P: Params, html: str) -> Path:
    """Publish ``report.html`` (refused if it holds a script, a remote or audit link, or personal data)."""
    return report.write_report(html, artefacts.path(P, "report"), P.min_cell_n)


def export(P: Params, analysed: dict[str, pd.DataFrame], cells: pd.DataFrame) -> dict[str, Path | list[Path]]:
    """The comments tables published; one CSV per cell table and the workbook of every published table."""
    out: dict[str, Path | list[Path]] = {}
    for name in COMMENT_TABLES:
        out[f"published_comments_{name}"] = artefacts.publish(P, f"comments_{name}", analysed[name])
    extra = report.workbook_extras(P, cells, analysed)  # every other published table, for the workbook
    written = report.export_tables(cells, artefacts.path(P, "workbook").parent, P.min_cell_n, extra=extra)
    out["cell_tables"] = [p for p in written if p.suffix == ".csv"]
    out["workbook"] = artefacts.path(P, "workbook")
    assert out["workbook"] in written, "export_tables wrote no workbook where the registry says"
    return out


def scan(P: Params, cells: pd.DataFrame) -> list[str]:
    """The end-of-stage scan: every published file read back (personal data, a small base, a suppressed value,
    an active cell or an audit link fail the run); the files published, relative."""
    out = P.path("output_dir")
    publish.scan_published(out, P.min_cell_n, suppressed_cells=cells)
    return publish.published_files(out)


def run(P: Params) -> dict[str, Path | list[Path]]:
    """The report stage: :func:`load`, :func:`comments`, :func:`context`, :func:`render`, :func:`write_report`,
    :func:`export`, :func:`scan`."""
    analysed = comments(P, load(P))
    written = {"report": write_report(P, render(context(P, analysed)))}
    cells = artefacts.read(P, "cells_tested")
    written.update(export(P, analysed, cells))
    scan(P, cells)
    return written
