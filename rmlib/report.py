"""Assemble the reviewers' report and export every table.

The HTML is rendered from a Jinja2 template (``rmlib/templates/report.html.j2``)
rather than by exporting a notebook: it holds no code, no script and no remote
resource at all (figures are embedded as data URIs), so it renders offline and
prints cleanly. Tables are written as CSV (one per table) and one XLSX
workbook; ``headlines.json`` follows the contract in DESIGN.md section 5.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .constants import GROUP_LABEL, QUESTION_LABEL, QUESTIONS
from .io import atomic_path, atomic_write_text
from .params import Params
from .scoring import DEFINITIONS


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write one table atomically; the format follows the suffix (.csv or .parquet)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            frame.to_csv(tmp, index=False, lineterminator="\n")
        else:
            raise ValueError(f"write_table: unsupported file type {path.suffix!r} (use .csv or .parquet)")
    return path


def export_tables(cells: pd.DataFrame, folder: str | Path) -> list[Path]:
    """One CSV per report table plus ``tables.xlsx`` with a sheet per table (suppressed cells blank)."""
    folder = Path(folder)
    written = []
    sheets = {}
    for table, frame in cells.groupby("table", sort=False):
        frame = frame.drop(columns="table").reset_index(drop=True)
        written.append(write_table(frame, folder / f"{table}.csv"))
        sheets[table[:31]] = frame
    with atomic_path(folder / "tables.xlsx") as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            for name, frame in sheets.items():
                frame.to_excel(xl, sheet_name=name, index=False)
    written.append(folder / "tables.xlsx")
    return written


def _num(x: Any) -> float | None:
    """JSON-safe float: NaN/NA -> None."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def headlines(cells: pd.DataFrame, head: pd.DataFrame, params: Params) -> dict:
    """The headline figures (DESIGN.md section 5 contract), unrounded; suppressed cells carry no mean."""
    out: dict[str, Any] = {"year": params.year, "compare_year": params.compare_year, "synthetic": params.synthetic,
                           "groups": {}}
    for _, h in head.iterrows():
        g = h["group"]
        tab = cells[(cells["table"] == f"{g}_by_question")]
        questions = {}
        for q in QUESTIONS:
            row = tab[tab["question"] == q]
            if row.empty:
                continue
            r = row.iloc[0]
            entry = {"mean": _num(r["mean"]), "n": int(r["n"]), "ci95": [_num(r.get("ci_low")), _num(r.get("ci_high"))]}
            if bool(r.get("suppressed", False)):
                entry = {"mean": None, "n": int(r["n"]), "ci95": [None, None],
                         "suppressed": f"fewer than {params.min_cell_n} respondents"}
            questions[q] = entry
        out["groups"][g] = {"n": int(h["n"]), "overall": _num(h["overall"]), "n_last_year": _num(h["n_last"]),
                            "overall_last_year": _num(h["overall_last"]), "change_pts": _num(h["change_pts"]),
                            "change_pct": _num(h["change_pct"]), "questions": questions}
    out["definitions"] = {**DEFINITIONS, "min_cell_n": params.min_cell_n, "caution_n": params.caution_n,
                          "correction": params.correction, "multi_select_rule": params.multi_select_rule}
    return out


def write_headlines(cells: pd.DataFrame, head: pd.DataFrame, params: Params, path: str | Path) -> Path:
    atomic_write_text(path, json.dumps(headlines(cells, head, params), indent=2, sort_keys=False) + "\n")
    return Path(path)


def _env() -> Environment:
    env = Environment(loader=PackageLoader("rmlib", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["f2"] = lambda x: "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"
    env.filters["pct"] = lambda x: "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.1f}%"
    return env


def render_report(cells: pd.DataFrame, head: pd.DataFrame, params: Params) -> str:
    """The reviewers' report as one self-contained HTML string."""
    q = cells[cells["table"].isin(["officer_by_question", "provider_by_question"])]
    rows = []
    for _, r in q.iterrows():
        rows.append({"group": GROUP_LABEL[r["group"]], "question": QUESTION_LABEL.get(r["question"], "Overall"),
                     "mean": r["mean"], "n": int(r["n"]), "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"),
                     "mean_last": r["mean_last"], "change_pct": r["change_pct"], "suppressed": bool(r.get("suppressed", False))})
    heads = [{"group": GROUP_LABEL[h["group"]], **{k: h[k] for k in ("n", "overall", "n_last", "overall_last", "change_pct")}}
             for _, h in head.iterrows()]
    return _env().get_template("report.html.j2").render(p=params, heads=heads, rows=rows, definitions=DEFINITIONS)


def write_report(html: str, path: str | Path) -> Path:
    atomic_write_text(path, html)
    return Path(path)
