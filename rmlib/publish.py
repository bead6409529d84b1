"""The publication gate: the one way anything is written to ``outputs/<year>/``.

``outputs/<year>/`` (``output_dir``) holds only what may be published:
``report.html``, ``tables/*.csv``, ``tables/tables.xlsx``, ``figures/*.png``
and ``figures/*.svg`` (:func:`write_figure`), ``headlines.json`` and
``provenance.json``. Everything else a run makes (executed notebooks,
intermediate parquet, logs, validation listings) goes to the audit area
``audit/<year>/`` (``audit_dir``), which the report never links to.

* :func:`write_csv` and :func:`write_xlsx` accept only
  :class:`rmlib.disclosure.Cleared` frames (made by the ``publishable_*``
  functions of :mod:`rmlib.disclosure` after disclosure control); every text
  cell that a spreadsheet would run as a formula is neutralised
  (:func:`neutralise`, OWASP CSV-injection guidance) and the workbook stores
  text as text (never a formula).
* :func:`write_json` and :func:`write_html` check what they write.
* :func:`scan_published` reads back every file of the published folder at
  the end of a run and fails the run (:class:`PublishError`) if it finds a
  personal-data pattern, a small base, a value of a suppressed cell, an
  active cell, a link to the audit area or a machine path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .disclosure import Cleared
from .io import atomic_path, atomic_write_text
from .labels import is_withheld_label
from .safety import MARKER

__all__ = [
    "PublishError",
    "neutralise",
    "write_csv",
    "write_xlsx",
    "write_json",
    "write_html",
    "write_figure",
    "scan_published",
    "PUBLISHED_SUFFIXES",
    "ACTIVE_PREFIXES",
]

#: A cell starting with one of these is run as a formula by spreadsheet programs (OWASP).
ACTIVE_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The only kinds of file the published folder may hold.
PUBLISHED_SUFFIXES = (".html", ".csv", ".xlsx", ".json", ".md", ".png", ".svg")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?")


class PublishError(RuntimeError):
    """Something that may not be published was about to be, or was found in the published folder."""


def neutralise(value: Any) -> Any:
    """A text cell made inert for spreadsheets: a leading ``= + - @``, tab or CR gets a ``'``.

    Numbers (and text that is exactly a number, such as ``-0.12``) are left
    alone: they are not formulas.

    Examples
    --------
    >>> neutralise("=cmd|' /C calc'!A0"), neutralise("-0.12"), neutralise(3), neutralise("@SUM(A1)")
    ("'=cmd|' /C calc'!A0", '-0.12', 3, "'@SUM(A1)")
    """
    if isinstance(value, str) and value.startswith(ACTIVE_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype(object).map(neutralise)
    return out


def _check(cleared: Any, what: str) -> Cleared:
    if not isinstance(cleared, Cleared):
        raise PublishError(
            f"{what}: only frames that passed disclosure control (rmlib.disclosure.publishable_* "
            f"or clear()) can be published; got {type(cleared).__name__}"
        )
    return cleared


def write_csv(cleared: Cleared, path: str | Path) -> Path:
    """Publish one table as CSV (UTF-8, ``\\n`` line ends), text cells neutralised."""
    c = _check(cleared, f"write_csv({Path(path).name})")
    path = Path(path)
    if path.suffix != ".csv":
        raise PublishError(f"write_csv: {path.name} is not a .csv file")
    frame = _neutral_frame(c.frame)
    problems = _scan_frame(frame, path.name, c.min_cell_n, None)
    if problems:
        raise PublishError("; ".join(problems[:10]))
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    return path


#: display formats by column name (the stored values stay unrounded): p-values, percentages, whole numbers
_P_COLUMNS = re.compile(r"(?:^|_)p(?:_adj)?$|_p_")
_PCT_COLUMNS = re.compile(r"pct|rate")
_INT_COLUMNS = re.compile(
    r"^(?:n|n_.*|.*_n|.*_n_other|ratings|no_contact|comments|respondents|redactions|year|"
    r"year_prev|level|level_last|invited|responses|.*_needed)$"
)


def display_format(column: str, value: Any) -> str | None:
    """The spreadsheet number format for one numeric cell of ``column`` (None: leave it).

    Means, intervals and differences show 2 decimals, p-values 3, percentages
    1, counts none; the cell keeps its full value (only the display rounds).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    col = str(column)
    if _INT_COLUMNS.match(col):
        return "0"
    if _P_COLUMNS.search(col):
        return "0.000"
    if _PCT_COLUMNS.search(col):
        return "0.0"
    return "0.00" if isinstance(value, float) else "0"


def _cell_values(frame: pd.DataFrame) -> list[list[Any]]:
    """The rows of ``frame`` as workbook values: None for missing, bool, int, float, else text;
    a base published as text ("45", beside "fewer than 5") becomes a number again."""
    rows = []
    for row in frame.itertuples(index=False):
        values = []
        for v in row:
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                values.append(None)
            elif isinstance(v, (bool, np.bool_)):
                values.append(bool(v))
            elif isinstance(v, (int, float, np.integer, np.floating)):
                values.append(float(v) if isinstance(v, (float, np.floating)) else int(v))
            else:
                values.append(str(v))
        rows.append(values)
    for c_i, col in enumerate(frame.columns):
        if _INT_COLUMNS.match(str(col)):
            for values in rows:
                if isinstance(values[c_i], str) and values[c_i].isdigit():
                    values[c_i] = int(values[c_i])
    return rows


def _add_sheet(wb, title: str, frame: pd.DataFrame, shade: list[bool] | None = None) -> None:
    """One sheet: bold frozen header, a filter on every column, text typed as text (never a formula),
    display formats that round, widths from the content, and the ``shade`` rows grey."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    grey = PatternFill("solid", start_color="FFE7E6E6", end_color="FFE7E6E6")
    ws = wb.create_sheet(title)
    header = [str(col) for col in frame.columns]
    ws.append(header)
    rows = _cell_values(frame)
    for values in rows:
        ws.append(values)
    widths = [len(h) for h in header]
    for r_i, row in enumerate(ws.iter_rows(min_row=2), start=0):
        for c_i, cell in enumerate(row):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
                widths[c_i] = max(widths[c_i], len(cell.value))
            else:
                fmt = display_format(header[c_i], cell.value)
                if fmt:
                    cell.number_format = fmt
                    widths[c_i] = max(widths[c_i], 8)
            if shade and shade[r_i]:
                cell.fill = grey
    for cell in ws[1]:
        cell.data_type = "s"
        cell.font = Font(bold=True)
    for c_i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c_i)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows) + 1, 1)}"


def _withheld_rows(frame: pd.DataFrame) -> list[bool] | None:
    """Which rows show a withheld figure (a ``status`` or ``n`` reading "fewer than N" / "hidden")."""
    marks = [col for col in ("status", "n") if col in frame.columns]
    if not marks:
        return None
    return [any(is_withheld_label(v) for v in vals) for vals in frame[marks].itertuples(index=False)]


def _sheet_title(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (no ``[]*?/\\:``, at most 31 characters), unique in the workbook."""
    title = re.sub(r"[\[\]\*\?/\\:]", "_", str(name))[:31] or "sheet"
    i = 1
    while title in used:
        i += 1
        title = f"{title[:28]}_{i}"
    return title


def write_xlsx(sheets: Mapping[str, Cleared], path: str | Path, definitions: pd.DataFrame | None = None) -> Path:
    """Publish one workbook for reuse, a sheet per cleared table; every text cell is stored as text.

    Each sheet has its header row frozen and bold, a filter on every column,
    column widths from the content, display formats that round (means 0.00,
    p-values 0.000, percentages 0.0) over the unrounded values, and the rows
    of suppressed cells (a non-empty ``status`` column, or a base shown as
    "fewer than N" / "hidden") shaded grey. ``definitions`` (columns
    ``column, meaning``; documentation, not data) becomes the first sheet,
    ``Definitions``. openpyxl turns a string that starts with ``=`` into a
    formula: each text cell is neutralised first and then typed as a string.
    """
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    if definitions is not None:
        d = _neutral_frame(definitions.reset_index(drop=True))
        problems = _scan_frame(d, f"{path.name} sheet 'Definitions'", 1, None)
        if problems:
            raise PublishError("; ".join(problems[:10]))
        _add_sheet(wb, "Definitions", d)
        used.add("Definitions")
    for name, cleared in sheets.items():
        c = _check(cleared, f"write_xlsx sheet {name!r}")
        title = _sheet_title(name, used)
        used.add(title)
        frame = _neutral_frame(c.frame)
        problems = _scan_frame(frame, f"{path.name} sheet {title!r}", c.min_cell_n, None)
        if problems:
            raise PublishError("; ".join(problems[:10]))
        _add_sheet(wb, title, frame, _withheld_rows(frame))
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_json(obj: Mapping[str, Any], path: str | Path, min_cell_n: int) -> Path:
    """Publish a JSON document (headlines) after checking it for small bases and personal data."""
    return write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", path, min_cell_n)


def write_text(text: str, path: str | Path, min_cell_n: int) -> Path:
    """Publish a text file (JSON, the data dictionary) after checking it like any published text."""
    problems = _scan_text(text, Path(path).name, min_cell_n)
    if problems:
        raise PublishError("; ".join(problems))
    atomic_write_text(path, text)
    return Path(path)


def write_html(html: str, path: str | Path, min_cell_n: int) -> Path:
    """Publish the report after checking it: no script, no remote resource, no link to the audit area."""
    problems = _scan_html(html, Path(path).name, min_cell_n)
    if problems:
        raise PublishError("; ".join(problems[:10]))
    atomic_write_text(path, html)
    return Path(path)


def write_figure(content: bytes, path: str | Path, min_cell_n: int) -> Path:
    """Publish one figure file (``.png`` or ``.svg``, under ``figures/``) after checking it.

    A PNG must be a PNG; an SVG is scanned like the report (no script, no
    remote resource, no link to the audit area, and its text: no personal
    data, small base or machine path).
    """
    path = Path(path)
    problems = _scan_figure(content, path.name, path.suffix.lower(), min_cell_n)
    if problems:
        raise PublishError("; ".join(problems[:10]))
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(content)
    return path


def _scan_figure(content: bytes, where: str, suffix: str, min_cell_n: int) -> list[str]:
    if suffix == ".png":
        return [] if content.startswith(_PNG_MAGIC) else [f"{where}: not a PNG image"]
    if suffix == ".svg":
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return [f"{where}: not UTF-8 SVG text"]
        if "<svg" not in text:
            return [f"{where}: not an SVG image"]
        problems = []
        low = text.lower()
        if "<script" in low or re.search(r"\son\w+\s*=", low):
            problems.append(f"{where}: contains a script")
        if re.search(r"(?:href|src)\s*=\s*[\"']?\s*(?:https?:)?//", low):
            problems.append(f"{where}: links to a remote resource")
        if _AUDIT_LINK.search(text):
            problems.append(f"{where}: links to the audit area")
        import html as _html

        body = re.sub(r"<(?:metadata|style)\b.*?</(?:metadata|style)>", " ", text, flags=re.S)
        body = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", body)
        body = re.sub(r"<[^>]+>", " ", body)
        problems += _scan_text(_html.unescape(body), where, min_cell_n)
        return problems
    return [f"{where}: not a figure file (.png or .svg)"]


# ----------------------------------------------------------------------------- the end-of-run scan
_MACHINE_PATH = re.compile(r"(?<![\w.])(?:/(?:home|root|work|tmp|Users|mnt|var|opt)/[\w.-]+|[A-Za-z]:\\\\?[\w.-]+)")
_AUDIT_LINK = re.compile(r"""(?:href|src)\s*=\s*["'][^"']*(?:\.ipynb|notebooks/|audit/|\.parquet)""", re.I)
# "n = 3", "base of 3", "3 respondents", "only 1 respondent" (a rule such as "fewer than 2 respondents" is not a base)
_SMALL_N = re.compile(
    r"(?:\bn\s*=\s*|\bbase\s*(?:of\s*)?)(\d+)\b|(?<!than )(?<!least )(?<!below )(?<!under )"
    r"\b(\d+)\s+respondents?\b|\bonly\s+(\d+)\s+respondent",
    re.I,
)


def _personal(text: str) -> list[str]:
    from .comments import structured_leaks

    return structured_leaks(text)


def _scan_text(text: str, where: str, min_cell_n: int) -> list[str]:
    problems = []
    leaks = _personal(text)
    if leaks:
        problems.append(f"{where}: looks like personal data ({', '.join(leaks)})")
    for m in _SMALL_N.finditer(text):
        v = int(next(g for g in m.groups() if g is not None))
        if 0 < v < min_cell_n:
            problems.append(f"{where}: a base of fewer than {min_cell_n} is shown exactly ({m.group(0)!r})")
            break
    if _MACHINE_PATH.search(text):
        problems.append(f"{where}: a machine path ({_MACHINE_PATH.search(text).group(0)!r})")
    return problems


def _scan_html(html: str, where: str, min_cell_n: int) -> list[str]:
    low = html.lower()
    problems = []
    if "<script" in low:
        problems.append(f"{where}: contains a <script>")
    if re.search(r"(?:href|src)\s*=\s*[\"']?\s*(?:https?:)?//", low):
        problems.append(f"{where}: links to a remote resource")
    if _AUDIT_LINK.search(html):
        problems.append(f"{where}: links to the audit area ({_AUDIT_LINK.search(html).group(0)!r})")
    body = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html)
    body = re.sub(r"<[^>]+>", " ", body)
    import html as _html

    problems += _scan_text(_html.unescape(body), where, min_cell_n)
    return problems


def _scan_frame(frame: pd.DataFrame, where: str, min_cell_n: int, hidden: set[tuple] | None) -> list[str]:
    problems = []
    for col in frame.columns:
        s = frame[col]
        texts = s[s.map(lambda v: isinstance(v, str))].astype(object)
        active = [v for v in texts if v.startswith(ACTIVE_PREFIXES) and not _NUMBER.fullmatch(v)]
        if active:
            problems.append(f"{where}: column {col!r} has an active cell {active[0][:40]!r}")
        if len(texts):
            leaks = _personal("\n".join(texts.astype(str)))
            if leaks:
                problems.append(f"{where}: column {col!r} looks like personal data ({', '.join(leaks)})")
        if str(col) in ("n", "n_last", "n_rest") or str(col).endswith(("_n", "_n_other")):
            v = pd.to_numeric(s, errors="coerce")
            small = (v > 0) & (v < min_cell_n)
            if small.any():
                problems.append(
                    f"{where}: column {col!r} shows a base of fewer than {min_cell_n} "
                    f"(row {int(np.flatnonzero(small.to_numpy())[0]) + 2})"
                )
    # cells that are hidden must carry no estimate here
    keys = ["group", "attribute", "category", "question"]
    if hidden and set(keys) <= set(frame.columns):
        k = list(map(tuple, frame[keys].astype(str).to_numpy()))
        mask = np.array([kk in hidden for kk in k], dtype=bool)
        for col in ("mean", "ci_low", "ci_high", "change_pts", "change_pct", "rest_diff", "groups_diff"):
            if col in frame.columns and mask.any():
                vals = pd.to_numeric(frame.loc[mask, col], errors="coerce")
                if vals.notna().any():
                    problems.append(
                        f"{where}: column {col!r} shows a value of a suppressed cell "
                        f"({k[int(np.flatnonzero(mask)[vals.notna().to_numpy()][0])]})"
                    )
    return problems


def scan_published(folder: str | Path, min_cell_n: int, suppressed_cells: pd.DataFrame | None = None) -> None:
    """Read back every published file and fail the run if anything in it may not be published.

    Checks every file of ``folder`` (recursively): only
    :data:`PUBLISHED_SUFFIXES`; in every CSV/XLSX text cell, JSON and the
    report's text: no e-mail, URL, NI number, phone number or postcode, no
    base of fewer than ``min_cell_n`` (``n``-like columns, "n = 3", "3
    respondents"), no active (formula) cell, no machine path; in the report,
    no script, remote resource or link to notebooks, parquet or the audit
    area; and, given ``suppressed_cells`` (the run's protected cell table
    with ``suppressed``, from the audit area), no estimate of a suppressed
    cell in any published table.

    Raises
    ------
    PublishError
        One message listing every problem (file and column or phrase).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PublishError(f"scan_published: {folder} is not a folder")
    hidden = None
    if suppressed_cells is not None and "suppressed" in suppressed_cells.columns:
        sc = suppressed_cells[suppressed_cells["suppressed"].astype(bool)]
        hidden = set(map(tuple, sc[["group", "attribute", "category", "question"]].astype(str).to_numpy()))
    problems: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        if path.name == MARKER:  # the pipeline's ownership marker (rmlib.safety): what made the folder
            continue
        if path.suffix.lower() not in PUBLISHED_SUFFIXES:
            problems.append(f"{rel}: not a publishable file type (audit material belongs in the audit area)")
            continue
        try:
            if path.suffix == ".csv":
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
                problems += _scan_frame(frame, rel, min_cell_n, hidden)
            elif path.suffix == ".xlsx":
                from openpyxl import load_workbook

                wb = load_workbook(path)  # formulas stay formulas here: data_type "f"
                for ws in wb.worksheets:
                    rows = list(ws.iter_rows())
                    formulas = [c.coordinate for r in rows for c in r if c.data_type == "f"]
                    if formulas:
                        problems.append(f"{rel} sheet {ws.title!r}: formula cells {formulas[:3]}")
                    vals = [[c.value for c in r] for r in rows]
                    if vals:
                        frame = pd.DataFrame(vals[1:], columns=[str(v) for v in vals[0]])
                        frame = frame.map(lambda v: "" if v is None else v if isinstance(v, str) else str(v))
                        problems += _scan_frame(frame, f"{rel} sheet {ws.title!r}", min_cell_n, hidden)
            elif path.suffix in (".json", ".md"):
                problems += _scan_text(path.read_text(encoding="utf-8"), rel, min_cell_n)
            elif path.suffix == ".html":
                problems += _scan_html(path.read_text(encoding="utf-8"), rel, min_cell_n)
            elif path.suffix.lower() in (".png", ".svg"):
                problems += _scan_figure(path.read_bytes(), rel, path.suffix.lower(), min_cell_n)
        except PublishError:
            raise
        except Exception as exc:  # an unreadable published file is itself a failure
            problems.append(f"{rel}: could not be read back ({type(exc).__name__}: {exc})")
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise PublishError(
            f"the published folder {folder.name}/ holds {len(problems)} thing(s) that may not be "
            "published: " + "; ".join(problems[:20]) + more
        )


def published_files(folder: str | Path) -> list[str]:
    """Every file of the published folder, relative, sorted (not the ownership marker or temporary files)."""
    folder = Path(folder)
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER and not p.name.endswith(".tmp")
    )
