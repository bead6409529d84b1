"""Assemble the reviewers' report and export every table.

The HTML is rendered from a Jinja2 template (``rmlib/templates/report.html.j2``)
rather than by exporting a notebook: it holds no code, no script and no remote
resource at all (figures are embedded as data URIs), so it renders offline and
prints cleanly. Tables are written as CSV (one per table) and one XLSX
workbook; ``headlines.json`` follows the contract in docs/contracts.md.

Everything published is written through :mod:`rmlib.publish` from frames
that passed :mod:`rmlib.disclosure` (:func:`publish_table`,
:func:`export_tables`, :func:`write_headlines`, :func:`write_report`); the
report is built from the run's audit area (``audit_dir``: intermediate
parquet), never linked to it.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from . import disclosure, publish
from .constants import GROUP_LABEL, QUESTION_LABEL, QUESTIONS
from .disclosure import DEFAULT_MIN_CELL_N
from .io import atomic_path, staging_target
from .labels import HIDDEN_LABEL, fewer_than
from .params import Params
from .paths import repo_root
from .scoring import DEFINITIONS


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write one *audit* table atomically (.parquet, or .csv); never into the published folder:
    published tables go through :func:`publish_table` / :func:`export_tables`."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            frame.to_csv(tmp, index=False, lineterminator="\n")
        else:
            raise ValueError(f"write_table: unsupported file type {path.suffix!r} (use .csv or .parquet)")
    return path


def audit_data(params: Params) -> Path:
    """The run's intermediate data folder, ``<audit_dir>/data`` (never published)."""
    return params.path("audit_dir") / "data"


#: published count tables -> the columns whose small values read "fewer than N"
COUNT_TABLES = {
    "headline": ("n", "n_last"),
    "responses_by_year": ("n", "respondents", "providers", "officers"),
    "cleaning_summary": (),
    "maturity": ("n", "n_last"),
    "trend_by_question": ("n",),
    "provider_no_contact": (),
    "comments_summary": (),
    "comments_counts": (),
    "comments_quotes": (),
    "findings": (),
    "comparison_families": (),
}


def publish_table(
    name: str, frame: pd.DataFrame, params: Params, out_dir: str | Path, cells: pd.DataFrame | None = None
) -> Path:
    """Publish one table as ``<out_dir>/tables/<name>.csv`` through the gate.

    ``power`` needs ``cells`` (the protected cell table) to hide the bases of
    hidden cells; ``caveats`` loses small counts; a protected cell table
    (with ``suppressed``) is published in its display form; the count tables
    of :data:`COUNT_TABLES` hold no respondent-level estimate.
    """
    return publish.write_csv(cleared_table(name, frame, params, cells), Path(out_dir) / "tables" / f"{name}.csv")


def cleared_table(name: str, frame: pd.DataFrame, params: Params, cells: pd.DataFrame | None = None):
    """A table in its published form (the disclosure rule of :func:`publish_table`), for any writer."""
    k = params.min_cell_n
    if name == "power":
        if cells is None:
            raise ValueError("publish_table('power') needs cells= (the protected cell table)")
        cleared = disclosure.publishable_power(frame, cells, k)
    elif name == "caveats":
        cleared = disclosure.publishable_caveats(frame, k)
    elif "suppressed" in frame.columns:
        cleared = disclosure.publishable_cells(frame, k)
    elif name in COUNT_TABLES:
        cleared = disclosure.clear(frame, name, k, COUNT_TABLES[name])
    else:
        raise publish.PublishError(
            f"publish_table: no disclosure rule for a table named {name!r}; "
            f"add it to rmlib.report.COUNT_TABLES only if it holds no estimate of a subgroup"
        )
    return cleared


#: tables of the audit area that are also published (one CSV each), in workbook order
AUDIT_TABLES = (
    "headline",
    "responses_by_year",
    "findings",
    "maturity",
    "trend_by_question",
    "provider_no_contact",
    "power",
    "caveats",
    "cleaning_summary",
    "comparison_families",
)


def workbook_extras(
    params: Params,
    cells: pd.DataFrame,
    comments_analysis: dict[str, pd.DataFrame] | None = None,
    audit_dir: str | Path | None = None,
) -> dict:
    """Every published table that is not a cell table, cleared for the workbook.

    Read from the run's audit area and cleared with the same rules as their
    CSV (:func:`cleared_table`), plus the comments tables when given; so the
    workbook holds every published table, not only the cell tables.
    """
    audit = Path(audit_dir) if audit_dir is not None else audit_data(params)
    out = {}
    for name in AUDIT_TABLES:
        frame = _read_audit(audit, name)
        if not frame.empty:
            out[name] = cleared_table(name, frame, params, cells)
    for name, frame in (comments_analysis or {}).items():
        out[f"comments_{name}"] = cleared_table(f"comments_{name}", frame, params)
    return out


def definitions_sheet(columns: Iterable[str]) -> pd.DataFrame:
    """``column, meaning`` for every column name used in the workbook (rmlib.dictionary)."""
    from .dictionary import describe

    seen = list(dict.fromkeys(str(c) for c in columns))
    rows = [{"column": c, "meaning": describe(c) or ""} for c in seen]
    head = [
        {
            "column": "(reading this workbook)",
            "meaning": "One sheet per published table, as in tables/*.csv. "
            "Numbers are stored unrounded and shown rounded; grey rows are cells not published because they "
            "hold too few respondents or would let a smaller group be worked out.",
        }
    ]
    return pd.DataFrame(head + rows, columns=["column", "meaning"])


def export_tables(
    cells: pd.DataFrame, folder: str | Path, min_cell_n: int = DEFAULT_MIN_CELL_N, extra: dict | None = None
) -> list[Path]:
    """One CSV per report table plus ``tables.xlsx`` with a sheet per table, in their published
    form (:func:`rmlib.disclosure.publishable_cells`: hidden cells blank, small bases as text).

    ``extra`` (``{name: Cleared}``, from :func:`workbook_extras`) adds the other published
    tables to the workbook (their CSVs are written by the stage that makes them); the workbook
    opens with a definitions sheet of every column.
    """
    folder = Path(folder)
    written = []
    sheets = {}
    for table, frame in cells.groupby("table", sort=False):
        cleared = disclosure.publishable_cells(frame.reset_index(drop=True), min_cell_n)
        written.append(publish.write_csv(cleared, folder / f"{table}.csv"))
        sheets[str(table)[:31]] = cleared
    for name, cleared in (extra or {}).items():
        sheets[str(name)[:31]] = cleared
    cols = [c for c_ in sheets.values() for c in c_.frame.columns]
    written.append(publish.write_xlsx(sheets, folder / "tables.xlsx", definitions=definitions_sheet(cols)))
    return written


FINDING_KINDS = {
    "rest": "subgroup vs rest of group",
    "last_year": "change on last year",
    "groups": "providers vs officers",
}


def findings(
    cells: pd.DataFrame, kinds: tuple[str, ...] = tuple(FINDING_KINDS), min_cell_n: int = DEFAULT_MIN_CELL_N
) -> pd.DataFrame:
    """Every significant comparison (after correction) as a plain-language sentence, once.

    One row per *distinct* comparison (``comparison``: the ``{kind}_id`` of
    ``stats.compare_cells``), however many tables show it: ``table`` is the
    first of them, ``tables`` all of them ("; "-separated), and its p, adjusted
    p and verdict are the same in each. A ``groups`` comparison is worded from
    the provider row. Rows are ordered by table, kind and the size of the
    difference.
    """
    from .stats import describe_finding

    rows: dict[str, dict] = {}
    for kind in kinds:
        col = f"{kind}_significant"
        if col not in cells.columns:
            continue
        sig = cells[cells[col].fillna(False).astype(bool) & ~cells.get("suppressed", False)]
        if kind == "groups":
            sig = sig[sig["group"] == "provider"]
        for _, r in sig.iterrows():
            cid = r.get(f"{kind}_id")
            cid = (
                "|".join(map(str, (r["table"], kind, r["group"], r["attribute"], r["category"], r["question"])))
                if _missing(cid)
                else str(cid)
            )
            if cid in rows:
                if r["table"] not in rows[cid]["tables"]:
                    rows[cid]["tables"].append(r["table"])
                continue
            rows[cid] = {
                "comparison": cid,
                "table": r["table"],
                "tables": [r["table"]],
                "kind": kind,
                "group": r["group"],
                "attribute": r["attribute"],
                "category": r["category"],
                "question": r["question"],
                "diff": r[f"{kind}_diff"],
                "p_adj": r[f"{kind}_p_adj"],
                "text": describe_finding(r, kind=kind, min_cell_n=min_cell_n),
            }
    cols = [
        "comparison",
        "table",
        "tables",
        "kind",
        "group",
        "attribute",
        "category",
        "question",
        "diff",
        "p_adj",
        "text",
    ]
    out = pd.DataFrame(list(rows.values()), columns=cols)
    if out.empty:
        return out
    out["tables"] = out["tables"].map("; ".join)
    out["_abs"] = out["diff"].abs()
    return (
        out.sort_values(["table", "kind", "_abs"], ascending=[True, True, False])
        .drop(columns="_abs")
        .reset_index(drop=True)
    )


def _in_tables(fnd: pd.DataFrame, tables) -> pd.Series:
    """Rows of a findings frame shown in any of ``tables`` (``tables`` column; older frames: ``table``)."""
    wanted = {tables} if isinstance(tables, str) else set(tables)
    if "tables" not in fnd.columns:
        return fnd["table"].isin(wanted)
    return fnd["tables"].astype(str).map(lambda t: bool(wanted & set(t.split("; "))))


def _num(x: Any) -> float | None:
    """JSON-safe float: NaN/NA -> None."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def headlines(cells: pd.DataFrame, head: pd.DataFrame, params: Params) -> dict:
    """The headline figures (the contract in docs/contracts.md), unrounded; suppressed cells carry no mean."""
    out: dict[str, Any] = {
        "year": params.year,
        "compare_year": params.compare_year,
        "synthetic": params.synthetic,
        "groups": {},
    }
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
                small = r.get("suppression") != "complementary"
                entry = {
                    "mean": None,
                    "n": fewer_than(params.min_cell_n) if small else HIDDEN_LABEL,
                    "ci95": [None, None],
                    "suppressed": (
                        f"{fewer_than(params.min_cell_n)} respondents"
                        if small
                        else "hidden so that a smaller group cannot be worked out"
                    ),
                }
            questions[q] = entry
        n_last = _num(h["n_last"])
        ov = tab[tab["question"] == "overall"]
        ov = ov.iloc[0] if len(ov) else {}
        sig = ov.get("last_year_significant") if len(ov) else None
        out["groups"][g] = {
            "n": int(h["n"]),
            "overall": _num(h["overall"]),
            "overall_ci95": [_num(ov.get("ci_low")), _num(ov.get("ci_high"))],
            "n_last_year": None if n_last is None else int(n_last),
            "overall_last_year": _num(h["overall_last"]),
            "change_pts": _num(h["change_pts"]),
            "change_pct": _num(h["change_pct"]),
            "change_p_adjusted": _num(ov.get("last_year_p_adj")),
            "change_significant": None if _missing(sig) else bool(sig),
            "questions": questions,
        }
    out["definitions"] = {
        **DEFINITIONS,
        "min_cell_n": params.min_cell_n,
        "caution_n": params.caution_n,
        "correction": params.correction,
        "multi_select_rule": params.multi_select_rule,
    }
    return out


def write_headlines(cells: pd.DataFrame, head: pd.DataFrame, params: Params, path: str | Path) -> Path:
    """Publish ``headlines.json`` (through :func:`rmlib.publish.write_json`: no small base in it)."""
    doc = disclosure.publishable_headlines(headlines(cells, head, params), params.min_cell_n)
    return publish.write_json(doc, path, params.min_cell_n)


# ----------------------------------------------------------------------------- comments
def analyse_comments(comments: pd.DataFrame, params: Params) -> dict[str, pd.DataFrame]:
    """Redact, theme-code and count the free-text comments; only redacted text leaves this function.

    Returns ``counts`` (group x theme), ``quotes`` (example quotes, redacted, no
    respondent ids) and ``summary`` (comments and commenting respondents per group).
    """
    from . import comments as cm

    lists = cm.load_redaction_lists(params.path("redaction"))
    themes = cm.load_theme_dictionary(params.path("themes"))
    red = cm.redact_comments(comments, lists.deny_names, lists.allow_words)
    coded = cm.code_themes(red, themes)
    counts = cm.theme_counts(coded, red, themes)
    quotes = cm.example_quotes(coded, red, per_theme=2, seed=params.seed)
    quotes = quotes.drop(columns=[c for c in ("respondent_id",) if c in quotes.columns])
    informative = red[red["text"].map(cm.is_informative)]
    summary = (
        informative.groupby("group")
        .agg(comments=("text", "size"), respondents=("respondent_id", "nunique"), redactions=("redactions", "sum"))
        .reset_index()
    )
    return {"counts": counts, "quotes": quotes, "summary": summary}


# ----------------------------------------------------------------------------- report context
SECTIONS = (
    ("main-points", "Main points"),
    ("recommendations", "Recommendations and actions (by officers)"),
    ("headlines", "Headlines"),
    ("introduction", "Introduction and method"),
    ("officers", "Officers"),
    ("providers", "Providers"),
    ("comparison", "Providers vs officers"),
    ("comments", "Comments"),
    ("trend", "Trend since the first survey"),
    ("maturity", "Maturity of the partnership"),
    ("caveats", "Caveats"),
    ("methodology", "Methodology and definitions"),
    ("provenance", "Provenance"),
    ("appendix", "Appendix A: scores by subgroup"),
    ("power", "Appendix B: responses and statistical power"),
)
OFFICER_BREAKDOWNS = ("officer_by_quadrant", "officer_by_role", "officer_by_department", "officer_by_service_area")
PROVIDER_BREAKDOWNS = (
    "provider_by_service_area",
    "provider_by_quadrant",
    "provider_by_size",
    "provider_by_ecc_share",
    "provider_by_age_range",
    "provider_by_rated_department",
    "provider_by_service_type",
    "provider_by_provider_role",
)
COMPARISON_TABLES = ("compare_by_service_area", "compare_by_quadrant")
COLUMNS = (*QUESTIONS, "overall")


def _signed(x: float, decimals: int) -> str:
    """A signed number that never reads ``-0`` or ``+0.00``: a value that rounds to zero is ``0``."""
    if round(float(x), decimals) == 0:
        return f"{0:.{decimals}f}"
    return f"{float(x):+.{decimals}f}"


def reader_text(text: str) -> str:
    """A generated sentence as a reader sees it: internal ids in brackets, such as ``(id procurement)``,
    left out (they stay in the published tables for analysts)."""
    import re

    return re.sub(r"\s*\(id [\w.-]+\)", "", str(text))


def date_in_words(x: Any) -> str:
    """``2018-11-27`` -> ``27 November 2018`` (a date, or text in ISO form); other text unchanged."""
    import datetime as dt

    if _missing(x):
        return ""
    if isinstance(x, str):
        try:
            x = dt.date.fromisoformat(x.strip()[:10])
        except ValueError:
            return x
    return f"{x.day} {x:%B %Y}"


def _missing(x: Any) -> bool:
    return (
        x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or (not isinstance(x, str) and pd.isna(x))
    )


def _flag(x: Any) -> bool:
    return not _missing(x) and bool(x)


def _cell(r: pd.Series | None, value: str, min_cell_n: int, mark: str = "rest") -> dict:
    """One table cell for the template: text, base, marks and a tooltip."""
    if r is None or int(r["n"]) == 0:
        return {"text": "", "n": "", "cls": "empty", "title": "no ratings"}
    if _flag(r.get("suppressed")):
        if r.get("suppression") == "complementary":
            return {
                "text": HIDDEN_LABEL,
                "n": "",
                "cls": "suppressed",
                "title": "hidden so that a smaller group's answers cannot be worked out from the totals",
            }
        return {
            "text": fewer_than(min_cell_n),
            "n": "",
            "cls": "suppressed",
            "title": f"{fewer_than(min_cell_n)} respondents: not shown",
        }
    marks, cls, title = "", [], []
    if value == "mean":
        v = r["mean"]
        text = "" if _missing(v) else f"{v:.2f}"
        if mark == "rest" and _flag(r.get("rest_significant")):
            up = (r.get("rest_diff") or 0) > 0
            marks += "▲" if up else "▼"
            cls.append("sig-up" if up else "sig-down")
            title.append(
                f"significantly {'higher' if up else 'lower'} than the rest of the group (adjusted p = {r['rest_p_adj']:.3f})"
            )
        if mark == "groups" and _flag(r.get("groups_significant")):
            marks += "◆"
            cls.append("sig-groups")
            title.append(f"providers and officers differ significantly here (adjusted p = {r['groups_p_adj']:.3f})")
        if not _missing(r.get("ci_low")):
            title.append(f"95% interval {r['ci_low']:.2f} to {r['ci_high']:.2f}")
    else:
        v = r.get(value)
        if _missing(r.get("mean_last")):
            if r.get("suppression_last") == "complementary":
                return {
                    "text": "hidden last year",
                    "n": str(int(r["n"])),
                    "cls": "new",
                    "title": "last year's value hidden so that a smaller group's cannot be worked out",
                }
            if _missing(r.get("n_last")) or int(r["n_last"]) == 0:
                return {"text": "not asked", "n": str(int(r["n"])), "cls": "new", "title": "no data last year"}
            return {
                "text": "too few last year",
                "n": str(int(r["n"])),
                "cls": "new",
                "title": f"{fewer_than(min_cell_n)} respondents last year: no comparison",
            }
        text = "" if _missing(v) else (_signed(v, 0) + "%" if value == "change_pct" else _signed(v, 2))
        if _flag(r.get("last_year_significant")):
            marks += "*"
            cls.append("sig-change")
            title.append(f"significant change on last year (adjusted p = {r['last_year_p_adj']:.3f})")
        title.append(
            f"{r['mean_last']:.2f} last year (n = {int(r['n_last'])})"
            if not _missing(r.get("n_last")) and int(r["n_last"]) >= min_cell_n
            else ""
        )
    if _flag(r.get("caution")):
        marks += "†"
        cls.append("caution")
    return {
        "text": text + marks,
        "n": str(int(r["n"])),
        "cls": " ".join(cls),
        "title": "; ".join(t for t in title if t),
    }


def matrix(
    cells: pd.DataFrame, value: str = "mean", min_cell_n: int = DEFAULT_MIN_CELL_N, total: pd.DataFrame | None = None
) -> dict:
    """A breakdown as rows (categories, per group) x columns (questions + overall) of display cells.

    ``total`` (the group's by-question rows) is shown first as the reference row. A table of
    both groups puts each category's provider and officer rows together and marks the cells
    where the two differ significantly (instead of subgroup-vs-rest).
    """
    frames = [total, cells] if total is not None else [cells]
    data = pd.concat([f for f in frames if f is not None], ignore_index=True)
    groups = list(dict.fromkeys(data["group"]))
    mark = "groups" if len(groups) > 1 else "rest"
    keys = list(dict.fromkeys(zip(data["group"], data["category"])))
    if len(groups) > 1:
        cats = list(dict.fromkeys(data["category"]))
        keys = sorted(keys, key=lambda k: (cats.index(k[1]), groups.index(k[0])))
    parts = dict(iter(data.groupby(["group", "category"], sort=False)))
    rows = []
    for group, category in keys:
        sub = parts[(group, category)]
        lookup = {r["question"]: r for _, r in sub.iterrows()}
        ov = lookup.get("overall")
        label = "All respondents" if category == "All" else str(category)
        if len(groups) > 1:
            label = f"{label} - {GROUP_LABEL[group]}"
        if ov is None:
            n = ""
        elif int(ov["n"]) < min_cell_n:
            n = fewer_than(min_cell_n)
        elif _flag(ov.get("suppressed")):
            n = HIDDEN_LABEL  # complementary: its n would give away the small neighbour's n
        else:
            n = str(int(ov["n"]))
        rows.append(
            {
                "label": label,
                "n": n,
                "total": category == "All",
                "cells": [_cell(lookup.get(q), value, min_cell_n, mark) for q in COLUMNS],
            }
        )
    return {"columns": [QUESTION_LABEL.get(q, "Overall") for q in COLUMNS], "rows": rows}


class FigureSink:
    """Where the report's figures are also published as files: ``<folder>/<name>.png`` and ``.svg``.

    Each file goes through :func:`rmlib.publish.write_figure`; ``links`` are
    relative to the report (``figures/<name>.png``).
    """

    def __init__(self, folder: str | Path, min_cell_n: int):
        self.folder = Path(folder)
        self.min_cell_n = min_cell_n
        self.written: list[Path] = []

    def write(self, name: str, files: dict) -> dict:
        self.folder.mkdir(parents=True, exist_ok=True)
        links = {}
        for ext in ("png", "svg"):
            path = publish.write_figure(files[ext], self.folder / f"{name}.{ext}", self.min_cell_n)
            self.written.append(path)
            links[ext] = f"{self.folder.name}/{path.name}"
        return links


def _figure(
    kind: str, data: pd.DataFrame, min_cell_n: int, name: str | None = None, sink: FigureSink | None = None, **kw
) -> dict:
    """One report figure of ``kind`` with its alt text, both quoting the run's ``min_cell_n``;
    also written as files through ``sink`` when one is given."""
    from . import plots

    fig = getattr(plots, kind)(data=data, min_cell_n=min_cell_n, **kw)
    alt = plots.alt_text(kind, data, min_cell_n=min_cell_n, **kw)
    if sink is None:
        return {"uri": plots.figure_to_data_uri(fig), "alt": alt, "files": None}
    files = plots.figure_files(fig)
    return {"uri": files["uri"], "alt": alt, "files": sink.write(name or kind, files)}


def _table_block(
    cells: pd.DataFrame,
    table: str,
    findings_: pd.DataFrame,
    caveats: pd.DataFrame,
    params: Params,
    total: pd.DataFrame | None = None,
    change: bool = True,
    figure: bool = True,
    sink: FigureSink | None = None,
) -> dict:
    from .crosstab import TABLE_INDEX

    t = cells[cells["table"] == table]
    spec = TABLE_INDEX.get(table)
    block = {
        "id": table,
        "title": spec.title if spec else table.replace("_", " "),
        "by": str(t["attribute"].iloc[0]).replace("_", " ") if len(t) else table.replace("_", " "),
        "means": matrix(t, "mean", params.min_cell_n, total),
        "change": matrix(t, "change_pct", params.min_cell_n, total) if change and params.compare_year else None,
        "findings": findings_.loc[_in_tables(findings_, table), "text"].tolist() if not findings_.empty else [],
        "caveats": list(dict.fromkeys(caveats.loc[caveats["table"] == table, "text"])) if not caveats.empty else [],
        "figure": None,
    }
    if figure and t["group"].nunique() == 1 and len(t):
        block["figure"] = _figure("subgroup_heatmap", t, params.min_cell_n, name=table, sink=sink)
    return block


def _read_audit(audit: Path, name: str, out: Path | None = None) -> pd.DataFrame:
    """An intermediate table of stages 01-04 from the audit area (``<audit>/<name>.parquet``;
    in the older layout ``<out>/tables/<name>.csv``)."""
    path = audit / f"{name}.parquet"
    if path.is_file():
        return pd.read_parquet(path)
    legacy = out / "tables" / f"{name}.csv" if out is not None and audit == out / "data" else None
    if legacy is not None and legacy.is_file():
        return pd.read_csv(legacy)
    return pd.DataFrame()


def fpc_note(cells: pd.DataFrame, population: Mapping[tuple[str, str, str], int]) -> list[dict]:
    """Whole groups whose intervals carry the finite-population correction: label, n, invited, factor."""
    rows = []
    for g in ("provider", "officer"):
        r = cells[
            (cells["group"] == g)
            & (cells["attribute"] == "all")
            & (cells["question"] == "overall")
            & cells["ci_method"].astype(str).str.endswith("+fpc")
        ]
        if len(r) and (g, "all", "All") in population:
            rows.append(
                {
                    "group": GROUP_LABEL[g],
                    "n": int(r["n"].iloc[0]),
                    "invited": population[(g, "all", "All")],
                    "factor": float(r["fpc"].iloc[0]),
                }
            )
    return rows


def question_wording(params: Params) -> list[tuple[str, str]]:
    """(short name, the question exactly as the year's survey asked it), in survey order, from its codebook."""
    from .codebook import load_codebook

    asked = load_codebook(params.path("codebook")).questions
    return [(QUESTION_LABEL[q], asked[q]) for q in QUESTIONS if q in asked]


def _audit_folder(params: Params, out: Path, audit_dir: str | Path | None) -> Path:
    """Where the run's intermediate data are: ``audit_dir`` if given, else the older layout
    ``<out>/data`` when it holds the tested cells, else ``<params.audit_dir>/data``."""
    if audit_dir is not None:
        return Path(audit_dir)
    if (out / "data" / "cells_tested.parquet").is_file():
        return out / "data"  # the layout before the audit area (benchmarks/workload.py still writes it)
    return audit_data(params)


def _headline_rows(head: pd.DataFrame, totals: dict[str, pd.DataFrame]) -> list[dict]:
    """Per group: responses, overall score this year and last, the change and its verdict and interval."""
    heads = []
    for _, h in head.iterrows():
        ov = totals[h["group"]]
        ov = ov[ov["question"] == "overall"].iloc[0] if len(ov) else None
        sig = None if ov is None else ov.get("last_year_significant")
        heads.append(
            {
                "group": GROUP_LABEL[h["group"]],
                "n": int(h["n"]),
                "n_last": None if _missing(h["n_last"]) else int(h["n_last"]),
                "n_change_pct": h.get("n_change_pct"),
                "overall": h["overall"],
                "overall_last": h["overall_last"],
                "change_pct": h["change_pct"],
                "change_pts": h["change_pts"],
                "ci": None if ov is None or _missing(ov.get("ci_low")) else (ov["ci_low"], ov["ci_high"]),
                "change_significant": _flag(sig),
                "change_tested": not _missing(sig),
                "change_p": None if ov is None else ov.get("last_year_p_adj"),
            }
        )
    return heads


def _narrative_context(params: Params, cells: pd.DataFrame) -> dict:
    """The year's narrative document, the response rates (small counts as "fewer than N") and the
    groups whose intervals carry the finite-population correction."""
    from . import narrative as nv
    from .stats import FPC_MIN_FRACTION

    doc = nv.load(params.year)
    ov_rows = cells[cells["question"] == "overall"]
    responses = {
        (r["group"], r["attribute"], str(r["category"])): int(r["n"])
        for _, r in ov_rows.iterrows()
        if not str(r["table"]).startswith("compare")
    }
    return {
        "narrative": doc,
        "narrative_text_keys": list(nv.TEXT_KEYS.items()),
        "response_rates": nv.response_rates(doc, responses, params.min_cell_n),
        "fpc": fpc_note(cells, nv.populations(doc)),
        "fpc_min": FPC_MIN_FRACTION,
    }


def _finding_counts(cells: pd.DataFrame, fnd: pd.DataFrame, fam: pd.DataFrame) -> dict:
    """Whole-group findings, and how many distinct comparisons, tests and families the correction covers."""
    ctx: dict[str, Any] = {}
    whole = (
        fnd[_in_tables(fnd, ["compare_overall", "officer_by_question", "provider_by_question", "compare_by_question"])]
        if not fnd.empty
        else fnd
    )
    ctx["key_findings"] = list(dict.fromkeys(whole["text"])) if not fnd.empty else []
    # distinct comparisons: one shown in several tables (or in both groups' rows) counts once
    ctx["n_findings"] = int(fnd["comparison"].nunique()) if "comparison" in fnd.columns else len(fnd)
    ids = [cells.loc[cells[f"{k}_p"].notna(), f"{k}_id"] for k in FINDING_KINDS if f"{k}_id" in cells.columns]
    ctx["n_tests"] = (
        int(pd.concat(ids).nunique())
        if ids
        else int(sum(cells[f"{k}_p"].notna().sum() for k in FINDING_KINDS if f"{k}_p" in cells.columns))
    )
    ctx["n_family"] = int(fam["m"].sum()) if not fam.empty else ctx["n_tests"]
    ctx["families"] = fam.to_dict("records") if not fam.empty else []
    ctx["n_families"] = len(fam)
    return ctx


def _group_sections(
    cells: pd.DataFrame,
    fnd: pd.DataFrame,
    cav: pd.DataFrame,
    params: Params,
    totals: dict[str, pd.DataFrame],
    sink: FigureSink | None,
) -> dict:
    """The whole-group figures, each group's tables and breakdowns (with their heat maps), and the
    providers-vs-officers tables."""
    k = params.min_cell_n
    q = pd.concat(totals.values(), ignore_index=True)
    qq = q[q["question"].isin(QUESTIONS)]
    ctx: dict[str, Any] = {}
    ctx["fig_questions"] = _figure("question_means", qq, k, sink=sink, hue="group")
    ctx["fig_compare"] = _figure("providers_vs_officers", qq, k, sink=sink)
    ctx["fig_change"] = (
        _figure("change_bars", q[q["mean_last"].notna()], k, sink=sink, hue="group")
        if params.compare_year and q["mean_last"].notna().any()
        else None
    )
    ctx["groups"] = {}
    for g, breakdowns in (("officer", OFFICER_BREAKDOWNS), ("provider", PROVIDER_BREAKDOWNS)):
        ctx["groups"][g] = {
            "label": GROUP_LABEL[g],
            "by_question": _table_block(cells, f"{g}_by_question", fnd, cav, params, figure=False),
            "breakdowns": [
                _table_block(cells, t, fnd, cav, params, total=totals[g], sink=sink)
                for t in breakdowns
                if (cells["table"] == t).any()
            ],
        }
    ctx["comparison"] = [_table_block(cells, "compare_by_question", fnd, cav, params, figure=False)] + [
        _table_block(cells, t, fnd, cav, params, figure=False) for t in COMPARISON_TABLES if (cells["table"] == t).any()
    ]
    return ctx


def _comments_context(comments_analysis: dict[str, pd.DataFrame] | None) -> dict | None:
    """The comments section: summary, theme counts (themes that occur) and the quotes, each once."""
    if comments_analysis is None:
        return None
    counts = comments_analysis["counts"]
    quotes = comments_analysis["quotes"]
    labels = dict(zip(counts["theme"], counts["label"])) if "label" in counts else {}
    return {
        "summary": comments_analysis["summary"].to_dict("records"),
        "counts": counts[counts["comments"] > 0]
        .sort_values(["group", "comments"], ascending=[True, False])
        .to_dict("records"),
        "quotes": [
            {**q, "theme_label": labels.get(q["theme"], str(q["theme"]).replace("_", " "))}
            for q in quotes.drop_duplicates("quote").to_dict("records")
        ],  # one quote, several themes
    }


def _trend_context(
    trend: pd.DataFrame, responses: pd.DataFrame, params: Params, sink: FigureSink | None
) -> dict | None:
    """The trend section: overall and per-question trend figures, responses by year, the overall rows."""
    if trend.empty:
        return None
    ov = trend[(trend["question"] == "overall")]
    return {
        "fig": _figure("trend_lines", ov, params.min_cell_n, name="trend_overall", sink=sink, hue="group"),
        "fig_questions": _figure(
            "trend_lines",
            trend[trend["question"].isin(QUESTIONS)],
            params.min_cell_n,
            name="trend_by_question",
            sink=sink,
        ),
        "responses": responses.to_dict("records"),
        "years": sorted(trend["year"].unique().tolist()),
        "rows": ov.sort_values(["group", "year"]).to_dict("records"),
    }


def _power_context(power: pd.DataFrame, cells: pd.DataFrame, params: Params) -> dict:
    """The power table: one row per breakdown category (overall score), worst case per table, in its
    published form (bases of hidden cells and small rests are not given away: 85 - 81 = 4)."""
    if power.empty:
        return {"power": [], "power_alpha": [params.alpha]}
    from .crosstab import TABLE_INDEX

    pw = power[power["question"] == "overall"] if "overall" in set(power["question"]) else power
    pw = (
        pw.groupby(["table", "group", "attribute", "category"], sort=False)
        .agg(
            question=("question", "first"),
            n=("n", "first"),
            n_rest=("n_rest", "first"),
            mdd=("mdd", "max"),
            n_needed=("n_needed", "max"),
        )
        .reset_index()
    )
    rows = disclosure.publishable_power(pw, cells, params.min_cell_n).frame.to_dict("records")
    for r in rows:
        spec = TABLE_INDEX.get(r["table"])
        r["table_title"] = spec.title if spec else str(r["table"]).replace("_", " ")
    alpha = sorted(power["alpha"].dropna().unique().tolist()) if "alpha" in power.columns else [params.alpha]
    return {"power": rows, "power_alpha": alpha}


def _provenance(params: Params, out: Path) -> dict:
    """Inputs and their hashes, code version, packages and settings, with no machine path in them."""
    from .provenance import git_commit, input_hashes, package_versions

    shown = params.to_dict()
    final = staging_target(out)  # the pipeline runs into a staging folder; report where the run lands
    root = repo_root()
    shown["output_dir"] = str(final.relative_to(root) if final.is_relative_to(root) else final)
    shown = {k: _no_machine_path(v, root) for k, v in shown.items()}
    inputs = {_no_machine_path(f, root): h for f, h in input_hashes(params).items()}
    return {"inputs": inputs, "git": git_commit(), "packages": package_versions(), "params": shown}


def build_context(
    params: Params,
    out_dir: str | Path,
    comments_analysis: dict[str, pd.DataFrame] | None = None,
    audit_dir: str | Path | None = None,
    figures: bool = False,
) -> dict:
    """Everything the template needs, read from the run's audit area (stages 01-04).

    ``audit_dir`` is the folder of intermediate data (default
    ``<params.audit_dir>/data``); ``out_dir`` is where the report is
    published (shown in the provenance section). ``figures=True`` also
    publishes every figure as PNG and SVG under ``<out_dir>/figures/``
    (linked from the report).
    """
    from .stats import CORRECTION_NAME, FAMILY_TEXT, LARGE_SAMPLE_N, MIN_BOOT_N, PSEUDO_SS

    out = Path(out_dir)
    audit = _audit_folder(params, out, audit_dir)
    k = params.min_cell_n
    sink = FigureSink(out / "figures", k) if figures else None
    cells = pd.read_parquet(audit / "cells_tested.parquet")
    _read = functools.partial(_read_audit, out=out)
    fnd = _read(audit, "findings")
    cav = _read(audit, "caveats")
    if not cav.empty:
        cav = disclosure.publishable_caveats(cav, k).frame.copy()
        cav["text"] = cav["text"].astype(str).map(reader_text)
    totals = {g: cells[cells["table"] == f"{g}_by_question"] for g in ("officer", "provider")}
    ctx: dict[str, Any] = {
        "p": params,
        "sections": SECTIONS,
        "definitions": DEFINITIONS,
        "correction_name": CORRECTION_NAME.get(params.correction, params.correction),
        "family_text": FAMILY_TEXT.get(params.correction, ""),
        "pseudo_ss": PSEUDO_SS,
        "min_boot_n": MIN_BOOT_N,
        "large_n": LARGE_SAMPLE_N,
    }
    ctx["heads"] = _headline_rows(_read(audit, "headline"), totals)
    mat = _read(audit, "maturity")
    ctx["main_points"] = main_points(cells, params, mat if not mat.empty else None)
    ctx["changes"] = change_table(cells)
    ctx["change_groups"] = ("provider", "officer")
    ctx.update(_narrative_context(params, cells))
    ctx.update(_finding_counts(cells, fnd, _read(audit, "comparison_families")))
    ctx.update(_group_sections(cells, fnd, cav, params, totals, sink))
    nc = _read(audit, "provider_no_contact")
    ctx["no_contact"] = nc.round(1).to_dict("records") if not nc.empty else []
    ctx["comments"] = _comments_context(comments_analysis)
    ctx["trend"] = _trend_context(_read(audit, "trend_by_question"), _read(audit, "responses_by_year"), params, sink)
    ctx["maturity"] = mat.to_dict("records") if not mat.empty else []
    ctx.update(_power_context(_read(audit, "power"), cells, params))
    ctx["caveats"] = cav.drop_duplicates("text").to_dict("records") if not cav.empty else []  # shared by tables
    ctx["cleaning"] = _read(audit, "cleaning_summary").to_dict("records")
    ctx["merges"] = disclosure.merge_note(getattr(params, "merges", None))
    ctx["question_wording"] = question_wording(params)
    ctx["provenance"] = _provenance(params, out)
    return ctx


def _no_machine_path(value: Any, root: Path) -> Any:
    """A path parameter as published: relative to the repository, or only its last two parts if
    outside it (a machine's folder layout is not published)."""
    if not isinstance(value, str) or not Path(value).is_absolute():
        return value
    p = Path(value)
    if p.is_relative_to(root):
        return str(p.relative_to(root))
    return "(outside the repository)/" + "/".join(p.parts[-2:])


def _env() -> Environment:
    """The template environment: autoescaped HTML, the number filters and the withheld-cell label."""
    env = Environment(
        loader=PackageLoader("rmlib", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["f2"] = lambda x: "" if _missing(x) else f"{float(x):.2f}"
    env.filters["f1"] = lambda x: "" if _missing(x) else f"{float(x):.1f}"
    env.filters["pct"] = lambda x: "" if _missing(x) else _signed(float(x), 1) + "%"
    env.filters["f0pct"] = lambda x: "" if _missing(x) else f"{float(x):.0f}%"
    env.filters["datewords"] = date_in_words
    env.filters["int"] = lambda x: "" if _missing(x) else f"{int(x)}"
    env.filters["qlabel"] = lambda q: QUESTION_LABEL.get(q, "Overall")
    env.filters["glabel"] = lambda g: GROUP_LABEL.get(g, g)
    env.globals["fewer_than"] = fewer_than  # the label of a small base, as everywhere else
    return env


def render_report(context: dict) -> str:
    """The reviewers' report as one self-contained HTML string (no script, no remote resource)."""
    return _env().get_template("report.html.j2").render(**context)


def write_report(html: str, path: str | Path, min_cell_n: int = DEFAULT_MIN_CELL_N) -> Path:
    """Publish ``report.html`` through :func:`rmlib.publish.write_html` (checked before it is written)."""
    return publish.write_html(html, path, min_cell_n)


# ----------------------------------------------------------------------------- main points
def _q(q: str) -> str:
    return QUESTION_LABEL.get(q, "the overall score") if q != "overall" else "the overall score"


def _shown(r: pd.Series) -> bool:
    """A cell whose mean may be printed (not suppressed, has ratings)."""
    return not _flag(r.get("suppressed")) and not _missing(r.get("mean")) and int(r.get("n") or 0) > 0


def _shown_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` whose mean may be printed (an empty frame keeps its columns)."""
    return frame[pd.Series([_shown(r) for _, r in frame.iterrows()], index=frame.index, dtype=bool)]


def _sig(r: pd.Series | None, kind: str) -> bool | None:
    """A tested cell's verdict (read from ``<kind>_significant``; None when untested)."""
    if r is None:
        return None
    v = r.get(f"{kind}_significant")
    return None if _missing(v) else bool(v)


def change_table(cells: pd.DataFrame, groups: tuple[str, ...] = ("provider", "officer")) -> list[dict]:
    """What changed since last year, by question and group, with marks that follow the tests.

    One row per question (and the overall score); per group this year's and
    last year's means, the change in points and a mark: ``up`` / ``down`` only
    when the change on last year is significant after correction (read from
    ``last_year_significant``, not tested here), ``same`` when tested and not
    significant, ``none`` when there is no comparison (not asked, or hidden).
    """
    rows = []
    for q in COLUMNS:
        row = {"question": q, "label": QUESTION_LABEL.get(q, "Overall score"), "groups": {}}
        for g in groups:
            t = cells[(cells["table"] == f"{g}_by_question") & (cells["question"] == q)]
            r = t.iloc[0] if len(t) else None
            if r is None or not _shown(r) or _missing(r.get("mean_last")):
                row["groups"][g] = {
                    "mark": "none",
                    "text": "no comparison",
                    "mean": None,
                    "mean_last": None,
                    "change_pts": None,
                }
                continue
            sig = _sig(r, "last_year")
            diff = float(r["mean"]) - float(r["mean_last"])
            mark = ("up" if diff > 0 else "down") if sig else ("same" if sig is not None else "none")
            text = {
                "up": "significantly higher",
                "down": "significantly lower",
                "same": "no significant change",
                "none": "not tested",
            }[mark]
            row["groups"][g] = {
                "mark": mark,
                "text": text,
                "mean": float(r["mean"]),
                "mean_last": float(r["mean_last"]),
                "change_pts": diff,
            }
        rows.append(row)
    return rows


def _subgroup_label(r: pd.Series) -> str:
    """A subgroup named mid-sentence: "officers whose quadrant is North"."""
    attr = str(r["attribute"]).replace("_", " ")
    return f"{GROUP_LABEL[r['group']].lower()} whose {attr} is {r['category']}"


def _group_points(G: str, t: pd.DataFrame, cy: Any) -> list[str]:
    """One group's descriptive bullets: its overall score (with the change on ``cy`` and its verdict),
    then its highest and lowest question."""
    out = []
    ov = t[t["question"] == "overall"]
    ov = ov.iloc[0] if len(ov) else None
    if ov is not None and _shown(ov):
        s = f"{G} gave an overall score of {ov['mean']:.2f} out of 4 ({int(ov['n'])} responses)"
        if cy and not _missing(ov.get("mean_last")):
            d = float(ov["mean"]) - float(ov["mean_last"])
            sig = _sig(ov, "last_year")
            s += f", {_words_change(d)} on {cy} ({ov['mean_last']:.2f}): " + (
                "a significant change."
                if sig
                else "not a significant change; it may be chance."
                if sig is not None
                else "not tested."
            )
        else:
            s += "."
        out.append(s)
    qs = t[t["question"].isin(QUESTIONS)]
    qs = _shown_rows(qs)
    if len(qs) >= 2:
        hi, lo = qs.loc[qs["mean"].idxmax()], qs.loc[qs["mean"].idxmin()]
        out.append(
            f"{G} rated {_q(hi['question'])} highest ({hi['mean']:.2f}) and "
            f"{_q(lo['question'])} lowest ({lo['mean']:.2f})."
        )
    return out


def _change_point(by_q: dict[str, pd.DataFrame], cy: Any) -> str | None:
    """The questions that changed significantly since ``cy``, per group; for a group with none,
    its largest change in words (so the reader sees the absence of a change too)."""
    parts, quiet = [], []
    for g, t in by_q.items():
        qs = t[t["question"].isin(QUESTIONS) & t["mean_last"].notna()]
        qs = _shown_rows(qs)
        if qs.empty:
            continue
        sig = (
            qs[qs["last_year_significant"].fillna(False).astype(bool)] if "last_year_significant" in qs else qs.iloc[:0]
        )
        d = (qs["mean"] - qs["mean_last"]).abs()
        big = qs.loc[d.idxmax()]
        if len(sig):
            names = ", ".join(
                f"{_q(r['question'])} ({'up' if r['mean'] > r['mean_last'] else 'down'} "
                f"{abs(r['mean'] - r['mean_last']):.2f})"
                for _, r in sig.iterrows()
            )
            parts.append(
                f"for {GROUP_LABEL[g].lower()} {len(sig)} of {len(qs)} questions changed significantly: {names}"
            )
        else:
            quiet.append(
                f"{GROUP_LABEL[g].lower()} (largest: {_q(big['question'])}, "
                f"{_words_change(float(big['mean'] - big['mean_last']))})"
            )
    s = []
    if parts:
        s.append("Since " + str(cy) + ", " + "; ".join(parts) + ".")
    if quiet:
        s.append(f"No question changed significantly since {cy} for " + " or ".join(quiet) + ".")
    return " ".join(s) if s else None


def _groups_point(cells: pd.DataFrame) -> str | None:
    """Providers vs officers: the questions where they differ significantly, or that they differ on none."""
    cmp = cells[(cells["table"] == "compare_by_question") & (cells["group"] == "provider")]
    cmp = cmp[cmp["question"].isin(QUESTIONS)] if len(cmp) else cmp
    if not (len(cmp) and "groups_significant" in cmp):
        return None
    tested = cmp[cmp["groups_significant"].notna()]
    sig = tested[tested["groups_significant"].astype(bool)]
    if len(tested) and sig.empty:
        return (
            f"Providers and officers do not differ significantly on any of the {len(tested)} questions "
            "after correction: the gaps between them may be chance."
        )
    if len(sig):
        names = ", ".join(
            f"{_q(r['question'])} (providers {'higher' if r['groups_diff'] > 0 else 'lower'} by "
            f"{abs(r['groups_diff']):.2f})"
            for _, r in sig.iterrows()
        )
        return f"Providers and officers differ significantly on {len(sig)} of {len(tested)} questions: {names}."
    return None


def _subgroup_point(cells: pd.DataFrame) -> str | None:
    """Subgroups vs the rest of their group: how many differ significantly and the two largest
    (overall score first), or that none does. Hidden cells are never named."""
    sub = cells[(cells["attribute"] != "all") & ~cells["table"].astype(str).str.startswith("compare")]
    if "rest_significant" not in sub:
        return None
    sub = sub[sub["rest_significant"].fillna(False).astype(bool)]
    sub = _shown_rows(sub)
    n_sig = len(sub)
    ov = sub[sub["question"] == "overall"]
    pick = (ov if len(ov) else sub).assign(_a=lambda f: f["rest_diff"].abs()).sort_values("_a", ascending=False)
    if n_sig == 0:
        return (
            "No subgroup (by area, size, department, role or any other breakdown) differs significantly "
            "from the rest of its group after correction."
        )
    named = []
    for _, r in pick.head(2).iterrows():
        named.append(
            f"{_subgroup_label(r)} scored {'higher' if r['rest_diff'] > 0 else 'lower'} than the rest "
            f"on {_q(r['question'])} ({r['mean']:.2f} vs {r['rest_mean_other']:.2f})"
            if not _missing(r.get("rest_mean_other"))
            else f"{_subgroup_label(r)} scored {'higher' if r['rest_diff'] > 0 else 'lower'} than the rest "
            f"on {_q(r['question'])}"
        )
    return (
        f"{n_sig} subgroup result{'s' if n_sig != 1 else ''} differ{'s' if n_sig == 1 else ''} "
        f"significantly from the rest of the group; the largest: " + "; ".join(named) + "."
    )


def _maturity_point(maturity: pd.DataFrame | None, by_q: dict[str, pd.DataFrame], cy: Any) -> str | None:
    """Maturity moves, announced only when the change in the score behind the level is significant."""
    if not (maturity is not None and len(maturity) and "level_last" in maturity):
        return None
    moves, paper = [], 0
    for _, m in maturity.iterrows():
        if _missing(m.get("level_last")) or _missing(m.get("level")) or int(m["level"]) == int(m["level_last"]):
            continue
        paper += 1
        r = by_q.get(m["group"])
        r = r[r["question"] == m["question"]] if r is not None else None
        if r is not None and len(r) and _sig(r.iloc[0], "last_year"):
            moves.append(
                f"{GROUP_LABEL[m['group']].lower()} moved from level {int(m['level_last'])} to "
                f"{int(m['level'])} on {str(m['element']).lower()}"
            )
    if moves:
        return "Maturity: " + "; ".join(moves) + " (each a significant change)."
    if paper:
        return (
            f"No maturity level is announced as moved: where a level differs from {cy}'s, the change "
            "in the score behind it is not significant."
        )
    return None


def main_points(cells: pd.DataFrame, params: Params, maturity: pd.DataFrame | None = None) -> list[str]:
    """Five to eight plain-English bullets for the first page, from the published tables.

    Descriptive facts (overall score per group, highest and lowest question
    per group, largest change on last year) and tested ones (changes,
    providers vs officers, subgroups vs the rest of their group), including
    the differences that are *not* there. Verdicts are read from the tested
    cells' ``<kind>_significant`` columns; nothing is tested here. Suppressed
    cells are never named.
    """
    cy = params.compare_year
    out: list[str] = []
    by_q = {g: cells[(cells["table"] == f"{g}_by_question")] for g in ("provider", "officer")}
    for g, t in by_q.items():
        if not t.empty:
            out += _group_points(GROUP_LABEL[g], t, cy)
    tested = [
        _change_point(by_q, cy) if cy else None,
        _groups_point(cells),
        _subgroup_point(cells),
        _maturity_point(maturity, by_q, cy),
    ]
    out += [s for s in tested if s]
    return out[:8]


def _words_change(d: float) -> str:
    """A change in points in words: ``up 0.12``, ``down 0.05``, ``no change`` (never ``-0.00``)."""
    if round(abs(d), 2) == 0:
        return "no change"
    return f"{'up' if d > 0 else 'down'} {abs(d):.2f}"
