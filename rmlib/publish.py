"""The publication gate: the one way anything is written to ``outputs/<year>/``.

``outputs/<year>/`` (``output_dir``) holds only what may be published:
``report.html``, ``tables/*.csv``, ``tables/tables.xlsx``, ``headlines.json``
and ``provenance.json``. Everything else a run makes (executed notebooks,
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
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .disclosure import HIDDEN_LABEL, Cleared, fewer_than
from .io import atomic_path, atomic_write_text
from .safety import MARKER

__all__ = ["PublishError", "neutralise", "write_csv", "write_xlsx", "write_json", "write_html",
           "scan_published", "PUBLISHED_SUFFIXES", "ACTIVE_PREFIXES"]

#: A cell starting with one of these is run as a formula by spreadsheet programs (OWASP).
ACTIVE_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The only kinds of file the published folder may hold.
PUBLISHED_SUFFIXES = (".html", ".csv", ".xlsx", ".json", ".md")
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
        raise PublishError(f"{what}: only frames that passed disclosure control (rmlib.disclosure.publishable_* "
                           f"or clear()) can be published; got {type(cleared).__name__}")
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


def write_xlsx(sheets: Mapping[str, Cleared], path: str | Path) -> Path:
    """Publish one workbook, a sheet per cleared table; every text cell is stored as text.

    openpyxl turns a string that starts with ``=`` into a formula: each text
    cell is neutralised first and then typed as a string explicitly.
    """
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, cleared in sheets.items():
        c = _check(cleared, f"write_xlsx sheet {name!r}")
        title = re.sub(r"[\[\]\*\?/\\:]", "_", str(name))[:31] or "sheet"
        i = 1
        while title in used:
            i += 1
            title = f"{title[:28]}_{i}"
        used.add(title)
        ws = wb.create_sheet(title)
        frame = _neutral_frame(c.frame)
        problems = _scan_frame(frame, f"{path.name} sheet {title!r}", c.min_cell_n, None)
        if problems:
            raise PublishError("; ".join(problems[:10]))
        ws.append([str(col) for col in frame.columns])
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
            ws.append(values)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"     # text, never a formula
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_json(obj: Mapping[str, Any], path: str | Path, min_cell_n: int) -> Path:
    """Publish a JSON document (headlines) after checking it for small bases."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    problems = _scan_text(text, Path(path).name, min_cell_n)
    if problems:
        raise PublishError("; ".join(problems))
    atomic_write_text(path, text)
    return Path(path)


def write_text(text: str, path: str | Path, min_cell_n: int) -> Path:
    """Publish a plain-text page (the data dictionary) after checking it like any published text."""
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


# ----------------------------------------------------------------------------- the end-of-run scan
_MACHINE_PATH = re.compile(r"(?<![\w.])(?:/(?:home|root|work|tmp|Users|mnt|var|opt)/[\w.-]+|[A-Za-z]:\\\\?[\w.-]+)")
_AUDIT_LINK = re.compile(r"""(?:href|src)\s*=\s*["'][^"']*(?:\.ipynb|notebooks/|audit/|\.parquet)""", re.I)
# "n = 3", "base of 3", "3 respondents", "only 1 respondent" (a rule such as "fewer than 2 respondents" is not a base)
_SMALL_N = re.compile(r"(?:\bn\s*=\s*|\bbase\s*(?:of\s*)?)(\d+)\b|(?<!than )(?<!least )(?<!below )(?<!under )"
                      r"\b(\d+)\s+respondents?\b|\bonly\s+(\d+)\s+respondent", re.I)


def _personal(text: str) -> list[str]:
    from .comments import _structured_leaks

    return _structured_leaks(text)


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
                problems.append(f"{where}: column {col!r} shows a base of fewer than {min_cell_n} "
                                f"(row {int(np.flatnonzero(small.to_numpy())[0]) + 2})")
    # cells that are hidden must carry no estimate here
    keys = ["group", "attribute", "category", "question"]
    if hidden and set(keys) <= set(frame.columns):
        k = list(map(tuple, frame[keys].astype(str).to_numpy()))
        mask = np.array([kk in hidden for kk in k], dtype=bool)
        for col in ("mean", "ci_low", "ci_high", "change_pts", "change_pct", "rest_diff", "groups_diff"):
            if col in frame.columns and mask.any():
                vals = pd.to_numeric(frame.loc[mask, col], errors="coerce")
                if vals.notna().any():
                    problems.append(f"{where}: column {col!r} shows a value of a suppressed cell "
                                    f"({k[int(np.flatnonzero(mask)[vals.notna().to_numpy()][0])]})")
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
        if path.name == MARKER:   # the pipeline's ownership marker (rmlib.safety): what made the folder
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

                wb = load_workbook(path)   # formulas stay formulas here: data_type "f"
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
        except PublishError:
            raise
        except Exception as exc:  # an unreadable published file is itself a failure
            problems.append(f"{rel}: could not be read back ({type(exc).__name__}: {exc})")
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise PublishError(f"the published folder {folder.name}/ holds {len(problems)} thing(s) that may not be "
                           "published: " + "; ".join(problems[:20]) + more)


def published_files(folder: str | Path) -> list[str]:
    """Every file of the published folder, relative, sorted (not the ownership marker or temporary files)."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != MARKER and not p.name.endswith(".tmp"))
