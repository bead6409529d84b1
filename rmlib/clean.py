"""Raw exports -> validated tidy tables, with a cleaning log that accounts for every row.

Order of work for one year:

1. read each raw file once, read-only, and check the sha256 of the bytes read
   against ``MANIFEST.sha256`` (raw data is immutable);
2. parse it as text (:mod:`rmlib.io`: CSV or XLSX, encoding and title rows),
   match its headers to the codebook, and drop personal columns there and
   then (the duplicate-finding key, e.g. the email address, is replaced by an
   opaque number at once);
3. validate every cell with a pandera schema built from the codebook, lazily,
   so that *all* problems come back at once as a table naming file, raw row,
   raw column header, value and problem (with the closest valid labels);
4. apply the data policy - blank rows, test/preview responses, submissions
   outside the fieldwork dates, responses with no scored answer, superseded
   duplicate submissions - logging one decision for every raw row;
5. build the tidy tables of docs/contracts.md ("Processed tables") with pseudonymous respondent
   ids (``P001``, ``O001``, ... in order of submission: nothing derived from
   the email address or the survey tool's response id);
6. check the raw files' sha256 again.

Nothing is written here: :func:`write_processed` writes the result atomically.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

from .codebook import (
    DROPPED_KINDS,
    NO_CONTACT,
    Codebook,
    ColumnSpec,
    closest,
    infer_rating_template,
    load_codebook,
    normalise,
    suggest,
)
from .constants import QUESTIONS
from .io import (
    MANIFEST,
    ExportReadError,
    column_letter,
    manifest_problems,
    read_manifest,
    sha256_file,
    staged_dir,
    write_csv,
    write_parquet,
)
from .params import Params
from .paths import repo_root
from .reshape import read_group

PROBLEM_COLUMNS = ["file", "row", "column", "value", "problem"]
LOG_COLUMNS = ["file", "group", "raw_row", "decision", "reason", "detail", "respondent_id"]
#: why a raw row is excluded, in the order the rules are applied (a row gets the first that applies)
EXCLUSION_REASONS = {
    "test_response": "marked as a test or preview response",
    "outside_fieldwork": "submitted outside the fieldwork dates",
    "no_scored_answer": "no question answered with a score of 1-4",
    "duplicate_superseded": "an earlier or incomplete submission by the same respondent (latest complete one kept)",
    "blank_row": "a blank row in the export: no response at all",
}
#: a timestamp written as ISO (what an XLSX date cell becomes) is accepted besides the codebook's format
_ISO_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_SHOWN = 20


class ValidationFailed(ValueError):
    """The raw exports break the codebook; ``problems`` lists every problem found."""

    def __init__(self, problems: pd.DataFrame):
        self.problems = problems
        n = len(problems)
        lines = [format_problem(r) for r in problems.head(_MAX_SHOWN).to_dict("records")]
        more = f"\n  ... and {n - _MAX_SHOWN} more (see validation_errors.csv)" if n > _MAX_SHOWN else ""
        super().__init__(f"{n} problem(s) in the raw exports:\n  " + "\n  ".join(lines) + more)


def format_problem(p: dict) -> str:
    """One problem as a line: ``file, row 7, column 'Status': value 'Tset': unknown status ...``."""
    where = [str(p["file"])]
    if p.get("row") not in ("", None):
        where.append(f"row {p['row']}")
    if p.get("column"):
        where.append(f"column {p['column']!r}")
    value = f": value {p['value']!r}" if p.get("value") not in ("", None) else ""
    return ", ".join(where) + value + f": {p['problem']}"


@dataclass
class CleanResult:
    """The tidy tables of one year plus the cleaning log and reading notes."""

    year: int
    respondents: pd.DataFrame
    memberships: pd.DataFrame
    ratings: pd.DataFrame
    comments: pd.DataFrame
    log: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "respondents": self.respondents,
            "memberships": self.memberships,
            "ratings": self.ratings,
            "comments": self.comments,
        }

    def summary(self) -> pd.DataFrame:
        """Rows in = kept + excluded, per group and reason (for the report's methodology section)."""
        return log_summary(self.log)


def log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """Rows in, kept and excluded per reason, per group: the accounting the report quotes."""
    rows = []
    for group, g in log.groupby("group", sort=True):
        row = {"group": group, "rows_in": len(g), "kept": int((g["decision"] == "kept").sum())}
        for reason in EXCLUSION_REASONS:
            row[reason] = int((g["reason"] == reason).sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=["group", "rows_in", "kept", *EXCLUSION_REASONS])
    out["excluded"] = out["rows_in"] - out["kept"]
    return out


# ----------------------------------------------------------------------------- problems
def _problem(file: str, row, column: str, value, problem: str) -> dict:
    """One validation problem. The value and the message are masked (rmlib.comments.mask_personal):
    a listing must not copy personal data typed into a wrong column or a column without a header."""
    from .comments.redact import mask_personal

    value = "" if value is None else mask_personal(str(value))
    return {"file": file, "row": row, "column": column, "value": value, "problem": mask_personal(problem)}


def _shown_path(path: Path) -> str:
    """A path as a researcher types it: relative to the repository root when inside it."""
    try:
        return str(Path(path).resolve().relative_to(repo_root()))
    except (ValueError, RuntimeError):
        return str(path)


def _match_headers(raw, codebook: Codebook, group: str, fname: str) -> tuple[dict[str, str], list[dict], list[str]]:
    """Map each expected header to the raw column that matches it (normalised); list problems and notes.

    Headers the export and the codebook do not share are explained in steps,
    most specific first, each taking the headers it explains out of the
    missing and unknown lists: rating headers built another way, a reworded
    question, a renamed department, then a typo (or a truly new column).
    """
    row = raw.header_row
    expected = codebook.expected_headers(group)
    positions: dict[str, list[int]] = {}
    for j, h in enumerate(raw.headers):
        if h:
            positions.setdefault(normalise(h), []).append(j)
    problems = _repeated_header_problems(raw, positions, fname)
    blank_problems, notes = _headerless_columns(raw, fname)
    problems += blank_problems
    mapping = {e: raw.columns[positions[normalise(e)][0]] for e in expected if positions.get(normalise(e))}
    missing = [e for e in expected if not positions.get(normalise(e))]
    expected_norm = {normalise(e) for e in expected}
    unknown = [h for h in raw.headers if h and normalise(h) not in expected_norm]
    for step in (_template_problems, _reworded_problems, _renamed_department_problems):
        found, missing, unknown = step(raw, codebook, group, fname, missing, unknown)
        problems += found
    problems += _typo_problems(codebook, group, fname, row, missing, unknown, expected)
    return mapping, problems, notes


def _repeated_header_problems(raw, positions: dict[str, list[int]], fname: str) -> list[dict]:
    """A header in two columns: which one holds the answers is ambiguous, so it is a problem, not a guess."""
    problems = []
    for pos in positions.values():
        if len(pos) > 1:
            letters = " and ".join(column_letter(j) for j in pos)
            problems.append(
                _problem(
                    fname,
                    raw.header_row,
                    raw.headers[pos[0]],
                    f"columns {letters}",
                    f"the same header appears in columns {letters}: which one holds the answers is "
                    "ambiguous; re-export the file from the survey tool",
                )
            )
    return problems


def _headerless_columns(raw, fname: str) -> tuple[list[dict], list[str]]:
    """Columns without a header: a problem when they hold data (shown at their first filled row), else a note."""
    problems, notes = [], []
    for j, h in enumerate(raw.headers):
        if h:
            continue
        cells = raw.data[raw.columns[j]]
        has_data = (cells.str.strip() != "").to_numpy()
        filled = raw.data.loc[has_data, "raw_row"].tolist()
        if filled:
            problems.append(
                _problem(
                    fname,
                    filled[0],
                    f"(column {column_letter(j)})",
                    cells[has_data].iloc[0][:60],
                    f"column {column_letter(j)} has no header but holds data in {len(filled)} row(s) "
                    f"(rows {', '.join(map(str, filled[:5]))}{', ...' if len(filled) > 5 else ''})",
                )
            )
        else:
            notes.append(f"column {column_letter(j)} has no header and no data; ignored")
    return problems, notes


def _template_problems(
    raw, codebook: Codebook, group: str, fname: str, missing: list[str], unknown: list[str]
) -> tuple[list[dict], list[str], list[str]]:
    """Rating headers built another way (e.g. '{department}: {question}'): one problem for them all.

    Returns (problems, missing, unknown) with the rating headers so explained taken out.
    """
    cb_name = codebook.path.name
    template = codebook.rating_header[group]
    inferred = infer_rating_template(unknown, codebook.questions, "{department}" in template)
    rating_missing = [r.header for r in codebook.rating_columns(group) if r.header in missing]
    if not (inferred and len(inferred[1]) >= 2 and inferred[0] != template and rating_missing):
        return [], missing, unknown
    cols = list(inferred[1])
    problem = _problem(
        fname,
        raw.header_row,
        cols[0],
        inferred[0],
        f"the rating headers are built differently in the export ({len(cols)} columns such "
        f"as this one read as {inferred[0]!r}); {cb_name} builds them as {template!r}: set "
        f"rating_header.{group}: {inferred[0]!r} in {cb_name}",
    )
    return [problem], [m for m in missing if m not in rating_missing], [u for u in unknown if u not in inferred[1]]


def _reworded_problems(
    raw, codebook: Codebook, group: str, fname: str, missing: list[str], unknown: list[str]
) -> tuple[list[dict], list[str], list[str]]:
    """A question worded differently this year: one problem for its whole block of rating columns.

    Returns (problems, missing, unknown) with the block's headers taken out.
    """
    problems = []
    letter = {h: column_letter(j) for j, h in reversed(list(enumerate(raw.headers)))}
    for q, text, cols, gone in _reworded_questions(codebook, group, missing, unknown):
        span = (
            f"column {letter[cols[0]]}"
            if len(cols) == 1
            else f"{len(cols)} rating columns, {letter[cols[0]]} to {letter[cols[-1]]}"
        )
        problems.append(
            _problem(
                fname,
                raw.header_row,
                cols[0],
                text,
                f"question '{q}' is worded differently in the export ({span}); {codebook.path.name} "
                f"has {codebook.questions[q]!r}: if it is the same question, set questions.{q} to the "
                "export's wording",
            )
        )
        missing = [m for m in missing if m not in gone]
        unknown = [u for u in unknown if u not in cols]
    return problems, missing, unknown


def _renamed_department_problems(
    raw, codebook: Codebook, group: str, fname: str, missing: list[str], unknown: list[str]
) -> tuple[list[dict], list[str], list[str]]:
    """A department renamed (rating headers with a known question and an unknown department): one problem for all.

    The fix named maps the new label to the id of the closest old label.
    Returns (problems, missing, unknown) with that department's headers taken out.
    """
    cb_name = codebook.path.name
    deps_norm = {normalise(d) for d in codebook.departments}
    by_dep: dict[str, list[tuple[str, str]]] = {}
    for h in unknown:
        parsed = codebook.parse_rating_header(group, h)
        if parsed and normalise(parsed[1]) not in deps_norm:
            by_dep.setdefault(parsed[1], []).append((h, parsed[0]))
    problems = []
    for dep, cols in by_dep.items():
        old = suggest(dep, list(codebook.departments), n=1)
        old_label = (closest(dep, list(codebook.departments), n=1) or [""])[0]
        gone = [
            m
            for m in missing
            if old_label
            and (parsed := codebook.parse_rating_header(group, m))
            and normalise(parsed[1]) == normalise(old_label)
        ]
        which = f"the rating header of question '{cols[0][1]}'" if len(cols) == 1 else f"{len(cols)} rating columns"
        fix = (
            f"if it is {old_label!r} renamed, map the new label to the same id: add {dep!r}: "
            f"{codebook.departments[old_label]} under departments: in {cb_name} (and remove {old_label!r})"
            if old_label
            else f"map the new label to its department id under departments: in {cb_name}"
        )
        problems.append(
            _problem(
                fname,
                raw.header_row,
                cols[0][0],
                dep,
                "unknown department" + (f"; {old}" if old else "") + f" (in {which}): {fix}",
            )
        )
        missing = [m for m in missing if m not in gone]
        unknown = [u for u in unknown if u not in {h for h, _ in cols}]
    return problems, missing, unknown


def _typo_problems(
    codebook: Codebook, group: str, fname: str, row, missing: list[str], unknown: list[str], expected: list[str]
) -> list[dict]:
    """What is left: a header with a typo or new wording is reported once, at the export's column, naming the
    codebook's; other missing headers say what is lost, other unknown ones how to add them."""
    cb_name = codebook.path.name
    paired = {}
    for h in unknown:
        near = closest(h, [m for m in missing if m not in paired.values()], n=1)
        if near:
            paired[h] = near[0]
    problems = []
    for e in missing:
        if e in paired.values():
            continue
        spec = next((c for c in codebook.columns[group] if c.header == e), None)
        problems.append(_problem(fname, row, e, "", _missing_text(spec, group, cb_name)))
    for h in unknown:
        if h in paired:
            e = paired[h]
            problems.append(
                _problem(
                    fname,
                    row,
                    h,
                    "",
                    f"unknown column; did you mean {e!r}? ({cb_name} expects {e!r}, which the file "
                    f"does not have: if it is the same column, change its header in {cb_name} to "
                    "the export's wording)",
                )
            )
            continue
        hint = suggest(h, expected, n=1)
        problems.append(
            _problem(
                fname,
                row,
                h,
                "",
                "unknown column"
                + (f"; {hint}" if hint else "")
                + f" (not in {cb_name}: if it is new, add it to columns.{group}; "
                "kind: ignore if it is not needed)",
            )
        )
    return problems


#: what is lost when an optional column is missing
_OPTIONAL = {
    "status": "without it every row counts as complete and test/preview responses cannot be excluded",
    "finished": "without it every response counts as finished",
    "key": "without it duplicate submissions can no longer be found",
    "personal": "nothing is lost: personal columns are dropped at read",
    "ignore": "nothing is lost: the column is not used",
}


def _missing_text(spec: ColumnSpec | None, group: str, cb_name: str) -> str:
    """The problem text of a codebook column the export lacks: optional columns are said to be optional."""
    if spec is not None and spec.kind in _OPTIONAL:
        return (
            f"missing column ({cb_name} expects this header; the file does not have it). It is optional "
            f"(kind: {spec.kind}): if the export no longer has it, delete its entry from columns.{group} in "
            f"{cb_name}; {_OPTIONAL[spec.kind]}"
        )
    what = "rating column" if spec is None else f"column of kind {spec.kind}"
    return f"missing column ({cb_name} expects this header; the file does not have it): a {what} the analysis needs"


def _collapse_repeats(cell_problems: list[dict], rating_headers: set[str]) -> list[dict]:
    """The same wrong value with the same problem: listed once, at its first cell, saying where else it is.

    A label the codebook lacks is usually in many cells (a new year's wording of '4 - Good' is in every
    rating column of every row); one line per cell would bury the one codebook entry that fixes them all.
    Rating columns are grouped together (the problem text does not depend on the column); other columns
    each on their own.
    """
    groups: dict[tuple, list[dict]] = {}
    for p in cell_problems:
        where = "(ratings)" if p["column"] in rating_headers else p["column"]
        groups.setdefault((where, p["value"], p["problem"]), []).append(p)
    out = []
    for ps in groups.values():
        first = dict(ps[0])
        if len(ps) > 1:
            rows = sorted({int(p["row"]) for p in ps if p["row"] != ""})
            cols = list(dict.fromkeys(p["column"] for p in ps))
            shown = ", ".join(map(str, rows[:8])) + (", ..." if len(rows) > 8 else "")
            first["problem"] += (
                f" [the same value in {len(ps)} cells: rows {shown}"
                + (f"; {len(cols)} columns" if len(cols) > 1 else "")
                + "]"
            )
        out.append(first)
    return out


def _key_warnings(codebook: Codebook, group: str) -> list[str]:
    """Warnings (not problems) when no column identifies a respondent: duplicate submissions go unnoticed."""
    if codebook.column(group, "key") is not None:
        return []
    email = next(
        (
            c
            for c in codebook.columns[group]
            if c.kind in ("ignore", "personal") and any(w in normalise(c.header) for w in ("email", "e-mail"))
        ),
        None,
    )
    if email is not None:
        return [
            f"warning: {email.header!r} is kind: {email.kind} and no column is kind: key, so duplicate "
            f"submissions can no longer be found; make it kind: key in {codebook.path.name} (it is still "
            "dropped at read: only an opaque number is kept to compare rows)"
        ]
    return [
        f"warning: no column is kind: key in columns.{group} of {codebook.path.name}: duplicate submissions "
        "cannot be found"
    ]


def _reworded_questions(codebook: Codebook, group: str, missing: list[str], unknown: list[str]):
    """(question, export's wording, its columns, the codebook headers they replace) for each reworded question.

    A rating header whose department part is known but whose question part
    matches no question is the same question worded differently when its text
    is close to the question whose columns are missing (:func:`suggest`).
    """
    template = codebook.rating_header[group]
    missing_q = {}
    for r in codebook.rating_columns(group):
        if r.header in missing:
            missing_q.setdefault(r.question, []).append(r.header)
    if not missing_q:
        return []
    deps = list(codebook.departments) if "{department}" in template else [""]
    texts: dict[str, list[str]] = {}
    for h in unknown:
        folded = normalise(h)
        for d in deps:
            before, _, after = normalise(template.format(question="\x01", department=d)).partition("\x01")
            if folded.startswith(before) and folded.endswith(after) and len(folded) > len(before) + len(after):
                text = _squash_text(h)[len(before) : len(_squash_text(h)) - len(after)].strip()
                texts.setdefault(text, []).append(h)
                break
    out = []
    for text, cols in texts.items():
        near = closest(text, [codebook.questions[q] for q in missing_q], n=1)
        if not near:
            continue
        old = near[0]
        q = next(q for q in missing_q if codebook.questions[q] == old)
        out.append((q, text, cols, missing_q.pop(q)))
    return out


def _squash_text(text: str) -> str:
    from .codebook import _squash

    return _squash(text)


def _norm_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise` (on the few distinct values, mapped back)."""
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    norm = np.empty(len(uniq), dtype=object)
    norm[:] = [normalise(u) for u in uniq]
    return pd.Series(norm[codes], index=s.index, name=s.name, dtype=object)


def _parse_timestamps(s: pd.Series, fmt: str) -> pd.Series:
    """Date-times in the codebook's format, or ISO (an XLSX date cell); NaT where neither fits."""
    s = s.astype(object).fillna("").astype(str).str.strip()
    ts = pd.to_datetime(s, format=fmt, errors="coerce")
    if fmt != _ISO_FORMAT and ts.isna().any():
        iso = pd.to_datetime(s.where(ts.isna()), format=_ISO_FORMAT, errors="coerce")
        ts = ts.fillna(iso)
    return ts


def _split(cell: str, spec: ColumnSpec, sep: str) -> list[str]:
    parts = cell.split(sep) if spec.multi else [cell]
    return [p.strip() for p in parts if p.strip()]


def build_schema(codebook: Codebook, group: str) -> pa.DataFrameSchema:
    """pandera schema of one group's export, keyed by codebook header.

    Label columns (status, attributes, ratings) are checked in normalised
    form; the id and timestamp on the raw text (stripped). Each check's
    ``error`` names the rule, and :func:`_problem_from_failure` words it for
    a researcher.
    """
    cols: dict[str, pa.Column] = {}
    sep = normalise(codebook.multi_select_separator)
    for spec in codebook.columns[group]:
        if spec.kind in DROPPED_KINDS or spec.kind == "comment":
            continue
        if spec.kind == "id":
            checks = [pa.Check(lambda s: s != "", error="blank_id")]
        elif spec.kind == "timestamp":
            fmt = codebook.timestamp_format
            checks = [pa.Check(lambda s, fmt=fmt: _parse_timestamps(s, fmt).notna(), error="timestamp")]
        elif spec.kind == "status":
            allowed = set(codebook.status_labels)
            checks = [pa.Check(lambda s, a=allowed: s.isin(a), error="status")]
        else:  # attribute
            lookup = spec.lookup

            def ok(s: pd.Series, spec=spec, lookup=lookup) -> pd.Series:
                verdict = {u: all(p in lookup for p in _split(u, spec, sep)) for u in pd.unique(s)}
                return s.map(verdict).astype(bool)

            checks = [pa.Check(ok, error="attribute")]
        cols[spec.header] = pa.Column(None, checks=checks, nullable=False)
    allowed_scores = set(codebook.score_labels) | {""}
    for r in codebook.rating_columns(group):
        cols[r.header] = pa.Column(
            None, checks=[pa.Check(lambda s, a=allowed_scores: s.isin(a), error="score")], nullable=False
        )
    return pa.DataFrameSchema(cols, strict=False, coerce=False)


def _problem_from_failure(case: dict, raw: pd.DataFrame, codebook: Codebook, group: str, fname: str) -> dict:
    col = case["column"]
    idx = case["index"]
    has_row = idx is not None and not (isinstance(idx, float) and np.isnan(idx)) and idx in raw.index
    value = raw.at[idx, col] if has_row and col in raw.columns else case["failure_case"]
    value = "" if value is None else str(value)
    check = str(case["check"])
    spec = next((c for c in codebook.columns[group] if c.header == col), None)
    if spec is not None and spec.kind in ("personal", "key", "comment"):  # never quoted, whatever it holds
        value = f"(not shown: a {spec.kind} column)"
    cb_name = codebook.path.name
    if check == "score":
        labels = codebook.score_label_list
        hint = suggest(value, labels, n=1)
        near = closest(value, labels, n=1, cutoff=0.85)  # a typo of a known label: the same code
        digits = re.findall(r"(?<![\d.])[0-4](?![\d.])", value)  # 'Good (4)': the score it names, if just one
        code = (
            codebook.score_of(near[0])
            if near
            else (NO_CONTACT if digits[0] == "0" else int(digits[0]))
            if len(digits) == 1
            else "<1-4 or no_contact>"
        )
        text = (
            "not a valid answer"
            + (f"; {hint}" if hint else "")
            + f" (valid: {', '.join(labels)}, or blank for not answered); if the export uses this label, "
            f"add {value.strip()!r}: {code} under score_labels: in {cb_name}"
        )
    elif check == "attribute" and spec is not None:
        sep = codebook.multi_select_separator
        bad = [p for p in _split(value, spec, sep) if spec.category_of(p) is None]
        hints = [suggest(p, list(spec.categories), n=1) for p in bad]
        named = ", ".join(f"{p!r}" + (f" ({h})" if h else "") for p, h in zip(bad, hints))
        if not spec.multi and sep.strip() in value:
            named = "(several chosen, but this question allows one answer only)"
        text = f"unknown {spec.attribute} option {named}; options: {', '.join(spec.categories)}" + (
            f", separated by '{sep}'" if spec.multi else ""
        )
        if bad and (spec.multi or sep.strip() not in value):
            near = closest(bad[0], list(spec.categories), n=1, cutoff=0.85)
            cat = spec.categories[near[0]] if near else "<category>"
            text += (
                f"; if the export uses this label, add {bad[0]!r}: {cat!r} under categories: of {col!r} "
                f"(columns.{group}) in {cb_name}"
            )
    elif check == "status":
        labels = codebook.status_label_list
        hint = suggest(value, labels, n=1)
        text = (
            ("blank status" if not value.strip() else "unknown status")
            + (f"; {hint}" if hint else "")
            + f" (valid: {', '.join(labels)})"
        )
        if value.strip():
            near = closest(value, labels, n=1, cutoff=0.85)
            code = codebook.status_labels[normalise(near[0])] if near else "complete, partial or test"
            text += f"; if the export uses this label, add {value.strip()!r}: {code} under status_labels: in {cb_name}"
    elif check == "timestamp":
        fmt = codebook.timestamp_format
        example = dt.datetime(codebook.year, 11, 28, 13, 49, 5).strftime(fmt)
        text = (
            "blank date-time" if not value.strip() else "not a date-time"
        ) + f" in the codebook's format {fmt} (e.g. {example})"
    elif check == "blank_id":
        text = "blank response id"
    else:  # a schema-level failure: never dropped silently
        text = f"failed check {check!r}: {case.get('failure_case')}"
    row = int(raw.at[idx, "raw_row"]) if has_row else ""
    return _problem(fname, row, col, value, text)


# ----------------------------------------------------------------------------- reading + validating
@dataclass
class _Validated:
    group: str
    fname: str
    #: columns = kept codebook headers (raw text) + ``raw_row`` + ``_key`` (opaque respondent key, -1 = none);
    #: personal columns are not here
    raw: pd.DataFrame
    notes: list[str]
    blank_rows: list[int] = field(default_factory=list)
    path: Path | None = None
    sha256: str = ""


def _prepare(raw, mapping: dict[str, str], codebook: Codebook, group: str) -> tuple[pd.DataFrame, list[str]]:
    """The export's kept columns under their codebook headers; personal columns dropped, the key made opaque."""
    frame = pd.DataFrame({"raw_row": raw.data["raw_row"].to_numpy()})
    dropped = []
    for spec in codebook.columns[group]:
        if spec.header not in mapping:
            continue
        if spec.kind in DROPPED_KINDS:
            if spec.kind == "key":
                key = _norm_series(raw.data[mapping[spec.header]]).to_numpy()
                codes, _ = pd.factorize(key)
                codes[key == ""] = -1
                frame["_key"] = codes
                dropped.append(f"{spec.header!r} (used only to find duplicate submissions)")
            else:
                dropped.append(repr(spec.header))
            continue
        text = raw.data[mapping[spec.header]].to_numpy(dtype=object)
        frame[spec.header] = pd.Series(text, dtype=object).str.strip() if spec.kind in ("id", "timestamp") else text
    for r in codebook.rating_columns(group):
        if r.header in mapping:
            frame[r.header] = raw.data[mapping[r.header]].to_numpy(dtype=object)
    if "_key" not in frame:
        frame["_key"] = -1
    notes = [f"personal columns dropped at read: {', '.join(dropped)}"] if dropped else []
    return frame, notes


def _year_problems(codebook: Codebook, params: Params, cb_shown: str) -> list[dict]:
    """A codebook written for another year than the parameters name: one problem, or none.

    Checked first so that a wrong codebook is reported before the many header
    problems it would otherwise cause.
    """
    if codebook.year == params.year:
        return []
    return [
        _problem(
            cb_shown,
            "",
            "year",
            codebook.year,
            f"the codebook is for {codebook.year} but the parameters say year {params.year}: "
            "point 'codebook' in the parameter file at this year's codebook",
        )
    ]


def _present_files(raw_dir: Path) -> list[str]:
    """The names of the data files in the raw folder (hidden files, the manifest and README left out), sorted.

    Used to report files the codebook does not name and to suggest a name for a missing one.
    """
    return sorted(
        p.name
        for p in raw_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST and p.name != "README.md"
    )


def _missing_file_problem(
    fname: str, file: str, group: str, codebook: Codebook, present: list[str], names: list[str]
) -> dict:
    """The problem for an export the codebook names but the folder lacks, with the likeliest file suggested."""
    hint = suggest(file, [n for n in present if n not in names], n=1)
    return _problem(
        fname,
        "",
        "",
        "",
        f"file not found: {codebook.path.name} (files.{group}.file) names it"
        + (f"; {hint}" if hint else f"; the folder holds {present}"),
    )


def _file_state_problems(raw, path: Path, file: str, manifest: dict[str, str], fname: str) -> list[dict]:
    """Problems with the file as a whole: it changed while being read, or it has no responses.

    A file whose hash on disk matches the manifest but not the bytes read was
    being rewritten during the read, so its contents cannot be trusted.
    """
    problems = []
    if file in manifest and manifest[file] != raw.sha256 and sha256_file(path) == manifest[file]:
        problems.append(_problem(fname, "", "", "", "the file changed while it was being read; run again"))
    if raw.data.empty:
        problems.append(_problem(fname, raw.header_row, "", "", "the file has a header row but no responses"))
    return problems


def _schema_problems(frame: pd.DataFrame, codebook: Codebook, group: str, fname: str) -> list[dict]:
    """Cell problems found by the codebook's schema on the columns present, repeats collapsed.

    Status, attribute and finished columns (and columns without a spec) are
    checked normalised, as the cleaner reads them; the problems quote the raw cells.
    """
    schema = build_schema(codebook, group)
    schema = schema.remove_columns([c for c in schema.columns if c not in frame.columns])
    checked = frame.copy()
    for c in schema.columns:
        spec_c = next((x for x in codebook.columns[group] if x.header == c), None)
        if spec_c is None or spec_c.kind in ("status", "attribute", "finished"):
            checked[c] = _norm_series(frame[c])
    try:
        schema.validate(checked, lazy=True)
    except SchemaErrors as exc:
        cell_problems = [
            _problem_from_failure(case, frame, codebook, group, fname) for case in exc.failure_cases.to_dict("records")
        ]
        return _collapse_repeats(cell_problems, {r.header for r in codebook.rating_columns(group)})
    return []


def _duplicate_id_problems(frame: pd.DataFrame, codebook: Codebook, group: str, fname: str) -> list[dict]:
    """One problem per row whose (non-blank) response id appears more than once: the export repeats a response."""
    problems = []
    id_col = codebook.column(group, "id").header
    if id_col in frame.columns:
        dup = frame[id_col].duplicated(keep=False) & (frame[id_col] != "")
        for rid, rows in frame[dup].groupby(id_col, sort=False)["raw_row"]:
            rows = rows.tolist()
            for r in rows:
                problems.append(
                    _problem(
                        fname,
                        int(r),
                        id_col,
                        rid,
                        f"response id appears {len(rows)} times (rows {', '.join(map(str, rows))}): "
                        "the export repeats a response; re-export it",
                    )
                )
    return problems


def _validate_export(
    raw, path: Path, group: str, file: str, fname: str, codebook: Codebook, manifest: dict[str, str]
) -> tuple[_Validated, list[dict]]:
    """Check one export that was read: its state, headers, cells and ids; return it prepared and its problems.

    The problems come in a fixed order (file state, headers, cells, repeated
    ids) so the report reads the same on every run.
    """
    problems = _file_state_problems(raw, path, file, manifest, fname)
    mapping, header_problems, header_notes = _match_headers(raw, codebook, group, fname)
    problems += header_problems
    frame, drop_notes = _prepare(raw, mapping, codebook, group)
    problems += _schema_problems(frame, codebook, group, fname)
    problems += _duplicate_id_problems(frame, codebook, group, fname)
    notes = [f"{fname}: {n}" for n in raw.notes + header_notes + drop_notes + _key_warnings(codebook, group)]
    validated = _Validated(
        group=group,
        fname=fname,
        raw=frame,
        notes=notes,
        blank_rows=list(raw.blank_rows),
        path=path,
        sha256=raw.sha256,
    )
    return validated, problems


def read_and_validate(params: Params, codebook: Codebook | None = None) -> tuple[list[_Validated], pd.DataFrame]:
    """Read every export of the year; return them and *all* problems found (an empty table if none).

    Each problem names the file (as a path from the repository root), the
    row as numbered in the raw file, the column (raw header), the value and
    what is wrong, with the closest codebook entries suggested.
    """
    codebook = codebook or load_codebook(params.path("codebook"))
    cb_shown = _shown_path(codebook.path)
    problems: list[dict] = _year_problems(codebook, params, cb_shown)
    raw_dir = params.path("raw_dir")
    raw_shown = _shown_path(raw_dir)
    names = [spec.file for spec in codebook.files.values()]
    if not raw_dir.is_dir():
        problems.append(_problem(raw_shown, "", "", "", "the raw data folder does not exist (parameter 'raw_dir')"))
        return [], _problem_table(problems)
    for name, msg in manifest_problems(raw_dir, names):
        problems.append(_problem(f"{raw_shown}/{name}", "", "", "", msg))
    manifest = read_manifest(raw_dir)
    present = _present_files(raw_dir)
    year_notes = [f"{raw_shown}/{n}: not named in {codebook.path.name}; not read" for n in present if n not in names]
    out: list[_Validated] = []
    for group, spec in codebook.files.items():
        path = raw_dir / spec.file
        fname = f"{raw_shown}/{spec.file}"
        if not path.is_file():
            problems.append(_missing_file_problem(fname, spec.file, group, codebook, present, names))
            continue
        try:
            raw = read_group(path, codebook, group)  # in the codebook's layout (rmlib.reshape)
        except ExportReadError as exc:
            for p in exc.problems:
                problems.append(
                    _problem(fname, p.get("row", ""), p.get("column", ""), p.get("value", ""), p["problem"])
                )
            continue
        validated, file_problems = _validate_export(raw, path, group, spec.file, fname, codebook, manifest)
        problems += file_problems
        out.append(validated)
    if out:
        out[0].notes[:0] = year_notes
    return out, _problem_table(problems)


def _problem_table(problems: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS).astype(object)
    if not table.empty:
        table["_o"] = pd.to_numeric(table["row"], errors="coerce").fillna(-1)
        table = table.sort_values(["file", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return table


# ----------------------------------------------------------------------------- policy + tidy
def _code_ratings(frame: pd.DataFrame, codebook: Codebook, group: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Scores (float, nan = blank or no contact) and no-contact flags, respondents x rating columns."""
    specs = codebook.rating_columns(group)
    shape = (len(frame), len(specs))
    if not specs:
        return np.full(shape, np.nan), np.zeros(shape, dtype=bool), specs
    # every rating cell at once: code the few distinct labels, then index (no per-cell Python call)
    raw = frame[[r.header for r in specs]].to_numpy(dtype=object).reshape(-1)
    cells, uniq = pd.factorize(raw, use_na_sentinel=False)
    codes = _norm_series(pd.Series(uniq, dtype=object)).map(lambda v: codebook.score_labels.get(v) if v else None)
    nc = (codes == NO_CONTACT).to_numpy(dtype=bool)[cells].reshape(shape)
    scores = (
        pd.to_numeric(codes.where(codes != NO_CONTACT), errors="coerce").to_numpy(dtype=float)[cells].reshape(shape)
    )
    return scores, nc, specs


def _statuses(frame: pd.DataFrame, codebook: Codebook, group: str) -> pd.Series:
    """Each row's status code (complete, partial, test...); 'complete' when the export has no status column.

    Where a separate 'finished' column exists (e.g. Qualtrics: Status says who
    answered, Finished how far), an unfinished complete row counts as partial.
    """
    status_spec = codebook.column(group, "status")
    if status_spec is not None and status_spec.header in frame:
        status = _norm_series(frame[status_spec.header]).map(codebook.status_labels)
    else:
        status = pd.Series("complete", index=frame.index, dtype=object)
    finished = codebook.column(group, "finished")
    if finished is not None and finished.header in frame:
        unfinished = (_norm_series(frame[finished.header]).map(finished.lookup) == "partial").to_numpy()
        status = status.where(~(unfinished & (status == "complete").to_numpy()), "partial")
    return status


def _mark_tests(
    frame: pd.DataFrame, status: pd.Series, status_header: str | None, reason: pd.Series, detail: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Exclude test/preview responses, quoting their raw status; return (reason, detail)."""
    m = (status == "test").to_numpy()
    reason[m] = "test_response"
    if status_header is not None:
        detail[m] = "status " + frame.loc[m, status_header].astype(str).map(repr)
    return reason, detail


def _mark_outside_fieldwork(
    ts: pd.Series, fieldwork: tuple, reason: pd.Series, detail: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Exclude rows still in that were submitted before or after the fieldwork dates; return (reason, detail)."""
    start, end = fieldwork
    if start is not None or end is not None:
        day = ts.dt.date
        outside = pd.Series(False, index=ts.index)
        if start is not None:
            outside |= day < start
        if end is not None:
            outside |= day > end
        m = outside & (reason == "")
        reason[m] = "outside_fieldwork"
        detail[m] = (
            "submitted " + ts[m].dt.strftime("%Y-%m-%d %H:%M") + f"; fieldwork {start or '...'} to {end or '...'}"
        )
    return reason, detail


def _mark_unanswered(
    scores: np.ndarray, nc: np.ndarray, reason: pd.Series, detail: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Exclude rows still in with no scored rating (blank, or only 'no contact'); return (reason, detail)."""
    answered = (~np.isnan(scores)).sum(axis=1)
    m = (answered == 0) & (reason == "")
    reason[m] = "no_scored_answer"
    detail[m] = np.where(nc[m.to_numpy()].any(axis=1), "only 'no contact' answers", "no rating answered")
    return reason, detail


def _mark_duplicates(
    frame: pd.DataFrame, key: pd.Series, ts: pd.Series, status: pd.Series, reason: pd.Series, detail: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Among rows still in, keep each respondent key's latest complete submission; return (reason, detail).

    The superseded rows name the row kept; the kept row lists the rows it superseded.
    """
    live = (reason == "") & (key >= 0)
    if not live.any():
        return reason, detail
    cand = pd.DataFrame(
        {
            "key": key[live],
            "ts": ts[live],
            "complete": (status[live] == "complete"),
            "raw_row": frame.loc[live, "raw_row"],
        }
    )
    cand = cand.sort_values(["key", "complete", "ts", "raw_row"])
    keep_idx = cand.groupby("key").tail(1).index
    superseded = cand.index.difference(keep_idx)
    kept_row = cand.loc[keep_idx].set_index("key")["raw_row"]
    reason[superseded] = "duplicate_superseded"
    detail[superseded] = (
        "superseded by raw row "
        + cand.loc[superseded, "key"].map(kept_row).astype(str)
        + " (same respondent; "
        + np.where(cand.loc[superseded, "complete"], "earlier", "incomplete")
        + ")"
    )
    counts = cand.groupby("key").size()
    kept_keys = cand.loc[keep_idx, "key"]
    multi = keep_idx[(kept_keys.map(counts) > 1).to_numpy()]
    if len(multi):
        rows_of = cand[cand["key"].isin(kept_keys.loc[multi])].groupby("key")["raw_row"]
        rows_of = {k: g for k, g in rows_of}
    for i in multi:
        k = cand.at[i, "key"]
        others = rows_of[k].drop(index=i)
        detail[i] = (
            f"latest complete of {counts[k]} submissions by the same respondent "
            f"(superseded rows: {', '.join(str(int(r)) for r in sorted(others))})"
        )
    return reason, detail


def _decision_log(v: _Validated, keep: np.ndarray, reason: pd.Series, detail: pd.Series) -> pd.DataFrame:
    """The log: one entry per data row (kept or excluded, why) and one per blank row of the raw file."""
    log = pd.DataFrame(
        {
            "file": v.fname,
            "group": v.group,
            "raw_row": v.raw["raw_row"].to_numpy(dtype="int64"),
            "decision": np.where(keep, "kept", "excluded"),
            "reason": reason.to_numpy(dtype=object),
            "detail": detail.to_numpy(dtype=object),
            "respondent_id": "",
        }
    )
    if v.blank_rows:
        blank = pd.DataFrame(
            {
                "file": v.fname,
                "group": v.group,
                "raw_row": np.asarray(v.blank_rows, dtype="int64"),
                "decision": "excluded",
                "reason": "blank_row",
                "detail": "",
                "respondent_id": "",
            }
        )
        log = pd.concat([log, blank], ignore_index=True)
    return log


def clean_group(v: _Validated, codebook: Codebook, params: Params) -> dict:
    """Apply the data policy to one validated export; return its kept rows and log (one entry per raw row)."""
    frame, group = v.raw, v.group
    ts = _parse_timestamps(frame[codebook.column(group, "timestamp").header], codebook.timestamp_format)
    status = _statuses(frame, codebook, group)
    status_spec = codebook.column(group, "status")
    status_header = status_spec.header if status_spec is not None and status_spec.header in frame else None
    key = frame["_key"] if "_key" in frame else pd.Series(-1, index=frame.index)
    scores, nc, specs = _code_ratings(frame, codebook, group)
    reason = pd.Series("", index=frame.index, dtype=object)
    detail = pd.Series("", index=frame.index, dtype=object)
    # the policy's exclusions in order: the first that applies to a row is its reason
    reason, detail = _mark_tests(frame, status, status_header, reason, detail)
    reason, detail = _mark_outside_fieldwork(ts, params.fieldwork, reason, detail)
    reason, detail = _mark_unanswered(scores, nc, reason, detail)
    reason, detail = _mark_duplicates(frame, key, ts, status, reason, detail)
    keep = (reason == "").to_numpy()
    partial = keep & (status == "partial").to_numpy()
    detail[partial & (detail == "").to_numpy()] = "partial response: answered items kept"
    log = _decision_log(v, keep, reason, detail)
    return {"frame": frame[keep], "ts": ts[keep], "scores": scores[keep], "nc": nc[keep], "specs": specs, "log": log}


def _respondent_ids(frame: pd.DataFrame, ts: pd.Series, group: str) -> tuple[np.ndarray, np.ndarray]:
    """(order, ids): the rows in order of submission (raw row breaks ties) and each row's id P001/O001...

    ``ids[order]`` ascend, so ``order`` also lists the rows in id order.
    """
    order = np.lexsort((frame["raw_row"].to_numpy(), ts.to_numpy()))
    prefix = "P" if group == "provider" else "O"
    width = max(3, len(str(len(frame))))
    ids = np.empty(len(frame), dtype=object)
    ids[order] = [f"{prefix}{k + 1:0{width}d}" for k in range(len(frame))]
    return order, ids


def _memberships_table(frame: pd.DataFrame, codebook: Codebook, group: str, ids: np.ndarray) -> pd.DataFrame:
    """One row per respondent x attribute category chosen (multi-select cells split), without repeats."""
    mem_ids, mem_attr, mem_cat = [], [], []
    sep = codebook.multi_select_separator
    for spec in codebook.attribute_columns(group):
        if spec.header not in frame:
            continue
        lookup = spec.lookup
        # split and look up each distinct answer once, then select the respondents who gave it
        cells, uniq = pd.factorize(frame[spec.header].to_numpy(dtype=object), use_na_sentinel=False)
        for k, cell in enumerate(uniq):
            chosen = [lookup[normalise(p)] for p in _split(str(cell), spec, sep)]
            if not chosen:
                continue
            who = ids[cells == k]
            for cat in chosen:
                mem_ids.append(who)
                mem_attr.append(np.full(len(who), spec.attribute, dtype=object))
                mem_cat.append(np.full(len(who), cat, dtype=object))
    if mem_ids:
        memberships = pd.DataFrame(
            {
                "respondent_id": np.concatenate(mem_ids),
                "attribute": np.concatenate(mem_attr),
                "category": np.concatenate(mem_cat),
            }
        )
    else:
        memberships = pd.DataFrame([], columns=["respondent_id", "attribute", "category"])
    return memberships.drop_duplicates()


def _ratings_table(kept: dict, codebook: Codebook, group: str, ids: np.ndarray, order: np.ndarray) -> pd.DataFrame:
    """One row per respondent x rating column, in order of respondent id.

    The repeated labels are built as categoricals and the ids as one string
    array taken row by row (no million-element object arrays). The group and
    department categories are shared by every group, so the groups' tables
    concatenate as categoricals; _finalise drops the ones with no rows.
    """
    specs = kept["specs"]
    nr, nc_cols = kept["scores"].shape
    rows = order  # frame rows in id order (ids[order] ascend: P001, P002, ...)
    questions = pd.CategoricalDtype(list(QUESTIONS), ordered=True)
    deps = [s.department for s in specs]
    all_groups = sorted(codebook.files)
    dep_dtype = pd.CategoricalDtype(
        sorted({r.department for g in all_groups for r in codebook.rating_columns(g)} | set(deps))
    )
    rid = pd.Series(pd.array(ids[rows], dtype="str")).take(np.repeat(np.arange(nr), nc_cols)).reset_index(drop=True)
    return pd.DataFrame(
        {
            "respondent_id": rid,
            "group": pd.Categorical.from_codes(
                np.full(nr * nc_cols, all_groups.index(group), dtype=np.int8), categories=all_groups
            ),
            "question": pd.Categorical.from_codes(
                np.tile([questions.categories.get_loc(s.question) for s in specs], nr), dtype=questions
            ),
            "department": pd.Categorical.from_codes(
                np.tile([dep_dtype.categories.get_loc(d) for d in deps], nr), dtype=dep_dtype
            ),
            "score": kept["scores"][rows].reshape(-1),
            "no_contact": kept["nc"][rows].reshape(-1),
        }
    )


def _comments_table(frame: pd.DataFrame, codebook: Codebook, group: str, ids: np.ndarray) -> pd.DataFrame:
    """The non-blank free-text answers, stripped, one row per respondent x comment column."""
    com = []
    for spec in codebook.columns[group]:
        if spec.kind == "comment" and spec.header in frame:
            for rid, text in zip(ids, frame[spec.header].to_numpy()):
                if str(text).strip():
                    com.append((rid, group, spec.field or "comment", str(text).strip()))
    return pd.DataFrame(com, columns=["respondent_id", "group", "field", "text"])


def _tidy(group: str, kept: dict, codebook: Codebook, year: int) -> dict[str, pd.DataFrame]:
    """The kept rows as tidy tables; respondent ids are P001/O001... in order of submission."""
    frame, ts = kept["frame"], kept["ts"]
    order, ids = _respondent_ids(frame, ts, group)
    respondents = pd.DataFrame(
        {"respondent_id": ids, "year": year, "group": group, "submitted_at": pd.to_datetime(ts.to_numpy())}
    )
    respondents = respondents.iloc[order].reset_index(drop=True)
    row_to_id = dict(zip(frame["raw_row"].to_numpy(dtype="int64").tolist(), ids.tolist()))
    return {
        "respondents": respondents,
        "memberships": _memberships_table(frame, codebook, group, ids),
        "ratings": _ratings_table(kept, codebook, group, ids, order),
        "comments": _comments_table(frame, codebook, group, ids),
        "_row_to_id": row_to_id,
    }


def _sorted_by_group_and_id(r: pd.DataFrame) -> bool:
    """Whether ``r`` is already in (group, respondent_id) order: a linear check on codes and Arrow strings."""
    g, rid = r["group"], r["respondent_id"]
    if len(r) < 2:
        return True
    if not isinstance(g.dtype, pd.CategoricalDtype) or g.cat.ordered or rid.dtype != "str":
        return False
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = pa.array(rid)
    except (ImportError, TypeError, ValueError):
        return False
    cats = list(g.cat.categories)
    if cats != sorted(cats) or rid.isna().any():
        return False
    codes = g.cat.codes.to_numpy()
    if (codes < 0).any() or (np.diff(codes) < 0).any():
        return False
    same = codes[1:] == codes[:-1]
    n = len(r)
    ok = pc.less_equal(ids.slice(0, n - 1), ids.slice(1)).to_numpy(zero_copy_only=False)
    return bool(ok[same].all())


def _finalise(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Sort and type the tidy tables (categoricals for the repeated labels)."""
    q = pd.CategoricalDtype(list(QUESTIONS), ordered=True)
    r = tables["ratings"]
    if not _sorted_by_group_and_id(r):  # (a stable sort of sorted rows changes nothing)
        r = r.sort_values(["group", "respondent_id"], kind="stable")
    r = r.reset_index(drop=True)
    r["question"] = r["question"].astype(q)
    for col in ("group", "department"):  # categories: the labels present, sorted
        c = r[col]
        r[col] = c.cat.remove_unused_categories() if isinstance(c.dtype, pd.CategoricalDtype) else c.astype("category")
    r["score"] = r["score"].astype(float)
    r["no_contact"] = r["no_contact"].astype(bool)
    tables["ratings"] = r
    tables["memberships"] = (
        tables["memberships"].sort_values(["respondent_id", "attribute", "category"]).reset_index(drop=True)
    )
    tables["comments"] = tables["comments"].sort_values(["group", "respondent_id", "field"]).reset_index(drop=True)
    resp = tables["respondents"].sort_values(["group", "respondent_id"]).reset_index(drop=True)
    resp["year"] = resp["year"].astype("int64")
    tables["respondents"] = resp
    return tables


def clean_year(params: Params, codebook: Codebook | None = None) -> CleanResult:
    """Validate and clean one year's exports. Raises :class:`ValidationFailed` listing every problem.

    Examples
    --------
    >>> from rmlib.params import load_params
    >>> result = clean_year(load_params("params/2018.yaml"))       # doctest: +SKIP
    >>> result.summary()[["group", "rows_in", "kept", "excluded"]]   # doctest: +SKIP
    """
    codebook = codebook or load_codebook(params.path("codebook"))
    validated, problems = read_and_validate(params, codebook)
    if not problems.empty:
        raise ValidationFailed(problems)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in ("respondents", "memberships", "ratings", "comments")}
    logs, notes = [], []
    start, end = params.fieldwork
    if start is None and end is None:
        notes.append("no fieldwork dates in the parameters: submission dates were not checked")
    for v in validated:
        kept = clean_group(v, codebook, params)
        notes += v.notes
        if codebook.column(v.group, "key") is None:
            notes.append(f"{v.fname}: no respondent key column in the codebook: duplicate submissions cannot be found")
        if len(kept["frame"]) == 0:
            notes.append(f"{v.fname}: no response kept (every row excluded; see the cleaning log)")
        tidy = _tidy(v.group, kept, codebook, params.year)
        log = kept["log"]
        row_to_id = tidy.pop("_row_to_id")
        log["respondent_id"] = [row_to_id.get(int(r), "") for r in log["raw_row"]]
        logs.append(log.sort_values("raw_row", kind="stable"))
        for k, t in tidy.items():
            parts[k].append((v.group, t))
    # groups in sorted order, so that the ratings usually arrive sorted and _finalise need not sort them
    tables = _finalise(
        {k: pd.concat([t for _, t in sorted(v, key=lambda gt: gt[0])], ignore_index=True) for k, v in parts.items()}
    )
    log = pd.concat(logs, ignore_index=True)[LOG_COLUMNS]
    # the raw files must be exactly as they were when we read them
    after = []
    for v in validated:
        if v.path is not None and sha256_file(v.path) != v.sha256:
            after.append(
                _problem(v.fname, "", "", "", "the raw file changed while it was being cleaned; nothing was written")
            )
    for name, msg in manifest_problems(params.path("raw_dir"), [s.file for s in codebook.files.values()]):
        after.append(_problem(f"{_shown_path(params.path('raw_dir'))}/{name}", "", "", "", msg))
    if after:
        raise ValidationFailed(_problem_table(after))
    return CleanResult(year=params.year, log=log, notes=notes, **tables)


def write_processed(result: CleanResult, folder: Path) -> Path:
    """Write the tidy tables and the cleaning log into ``folder`` as one atomic swap."""
    with staged_dir(folder) as stage:
        for name, table in result.tables().items():
            write_parquet(table, stage / f"{name}.parquet")
        write_csv(result.log, stage / "cleaning_log.csv")
    return folder
