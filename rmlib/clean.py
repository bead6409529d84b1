"""Raw exports -> validated tidy tables, with a cleaning log that accounts for every row.

Order of work for one year:

1. check each raw file's sha256 against ``MANIFEST.sha256`` (raw data is immutable);
2. read it as text (:mod:`rmlib.io`), match headers to the codebook;
3. validate every cell with a pandera schema built from the codebook, lazily,
   so that *all* problems come back at once as a table naming file, raw row,
   raw column header, value and problem (with the closest valid labels);
4. apply the data policy - test responses, submissions outside the fieldwork
   dates, responses with no scored answer, superseded duplicate submissions -
   logging a decision for every raw row;
5. build the tidy tables of DESIGN.md section 3 with pseudonymous respondent
   ids; personal columns are never carried past step 2.

Nothing is written here: :func:`write_processed` writes the result atomically.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

from .codebook import NO_CONTACT, Codebook, ColumnSpec, load_codebook, normalise, suggest
from .constants import QUESTIONS
from .io import ExportReadError, RawExport, read_export, staged_dir, verify_manifest, write_csv, write_parquet
from .params import Params

PROBLEM_COLUMNS = ["file", "row", "column", "value", "problem"]
LOG_COLUMNS = ["file", "group", "raw_row", "decision", "reason", "detail"]
EXCLUSION_REASONS = {
    "test_response": "marked as a test or preview response",
    "outside_fieldwork": "submitted outside the fieldwork dates",
    "no_scored_answer": "no question answered with a score of 1-4",
    "duplicate_superseded": "an earlier or incomplete submission by the same respondent (latest complete one kept)",
}


class ValidationFailed(ValueError):
    """The raw exports break the codebook; ``problems`` lists every problem found."""

    def __init__(self, problems: pd.DataFrame):
        self.problems = problems
        n = len(problems)
        head = problems.head(20).to_string(index=False, max_colwidth=70)
        more = f"\n... and {n - 20} more (see validation_errors.csv)" if n > 20 else ""
        super().__init__(f"{n} problem(s) in the raw exports:\n{head}{more}")


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
        return {"respondents": self.respondents, "memberships": self.memberships,
                "ratings": self.ratings, "comments": self.comments}

    def summary(self) -> pd.DataFrame:
        """Rows in = kept + excluded, per file and reason (for the report's methodology section)."""
        return log_summary(self.log)


def log_summary(log: pd.DataFrame) -> pd.DataFrame:
    """Rows in, kept and excluded per reason, per group: the accounting the report quotes."""
    rows = []
    for group, g in log.groupby("group", sort=True):
        row = {"group": group, "rows_in": len(g), "kept": int((g["decision"] == "kept").sum())}
        for reason in EXCLUSION_REASONS:
            row[reason] = int((g["reason"] == reason).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["excluded"] = out["rows_in"] - out["kept"]
    return out


# ----------------------------------------------------------------------------- problems
def _problem(file: str, row, column: str, value, problem: str) -> dict:
    return {"file": file, "row": row, "column": column, "value": "" if value is None else str(value), "problem": problem}


def _match_headers(raw: RawExport, codebook: Codebook, group: str, fname: str, header_row: int) -> tuple[dict[str, str], list[dict]]:
    """Map each expected header to the raw header that matches it (normalised); list problems."""
    problems = []
    expected = codebook.expected_headers(group)
    by_norm: dict[str, str] = {}
    for h in raw.headers:
        n = normalise(h)
        if n in by_norm:
            problems.append(_problem(fname, header_row, h, h, "duplicate column header"))
        by_norm[n] = h
    mapping = {}
    for e in expected:
        if normalise(e) in by_norm:
            mapping[e] = by_norm[normalise(e)]
        else:
            hint = suggest(e, [h for h in raw.headers if normalise(h) not in {normalise(x) for x in expected}])
            problems.append(_problem(fname, header_row, e, "", "missing column: expected by the codebook but not in the file"
                                     + (f"; {hint}" if hint else "")))
    expected_norm = {normalise(e) for e in expected}
    for h in raw.headers:
        if normalise(h) not in expected_norm and h != "":
            hint = suggest(h, expected)
            problems.append(_problem(fname, header_row, h, "", "unknown column: not in the codebook"
                                     + (f"; {hint}" if hint else "") + f" (add it to {codebook.path.name} if it is new)"))
    return mapping, problems


def _norm_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise` (on the few distinct values, mapped back)."""
    uniq = pd.unique(s)
    return s.map({u: normalise(u) for u in uniq})


def _multi_ok(spec: ColumnSpec, sep: str):
    allowed = {normalise(k) for k in spec.categories}

    def check(s: pd.Series) -> pd.Series:
        uniq = pd.unique(s)
        ok = {}
        for u in uniq:
            parts = [p.strip() for p in u.split(normalise(sep))] if spec.multi else [u]
            ok[u] = u == "" or all(p in allowed for p in parts if p != "") and any(p != "" for p in parts)
        return s.map(ok).astype(bool)
    return check


def build_schema(codebook: Codebook, group: str) -> pa.DataFrameSchema:
    """pandera schema of one group's export, on normalised text, keyed by raw header."""
    cols: dict[str, pa.Column] = {}
    for spec in codebook.columns[group]:
        checks = []
        if spec.kind == "id":
            checks = [pa.Check(lambda s: s != "", error="blank response id")]
            cols[spec.header] = pa.Column(str, checks=checks, unique=False)
            continue
        if spec.kind == "timestamp":
            fmt = codebook.timestamp_format
            checks = [pa.Check(lambda s, fmt=fmt: pd.to_datetime(s, format=fmt.lower() if False else fmt, errors="coerce").notna(),
                               error=f"not a date-time in the form {fmt}")]
        elif spec.kind == "status":
            allowed = sorted(codebook.status_labels)
            checks = [pa.Check(lambda s, a=set(allowed): s.isin(a) | (s == ""), error="unknown status label")]
        elif spec.kind == "attribute":
            checks = [pa.Check(_multi_ok(spec, codebook.multi_select_separator),
                               error=f"unknown {spec.attribute} option")]
        cols[spec.header] = pa.Column(str, checks=checks)
    allowed_scores = set(codebook.score_labels) | {""}
    for r in codebook.rating_columns(group):
        cols[r.header] = pa.Column(str, checks=[pa.Check(lambda s: s.isin(allowed_scores), error="not a valid answer")])
    return pa.DataFrameSchema(cols, strict=False, coerce=False)


def _problem_from_failure(case, raw: pd.DataFrame, codebook: Codebook, group: str, fname: str) -> dict:
    col = case["column"]
    idx = case["index"]
    value = raw.at[idx, col] if idx is not None and col in raw.columns and idx in raw.index else case["failure_case"]
    check = str(case["check"])
    spec = next((c for c in codebook.columns[group] if c.header == col), None)
    if check == "not a valid answer":
        labels = list(codebook._raw_score_labels)
        hint = suggest(value, labels)
        text = f"not a valid answer: expected one of {labels} or blank" + (f"; {hint}" if hint and str(value) not in labels else "")
    elif spec is not None and spec.kind == "attribute":
        parts = [p.strip() for p in str(value).split(codebook.multi_select_separator)] if spec.multi else [str(value)]
        bad = [p for p in parts if p and spec.category_of(p) is None]
        hints = "; ".join(f"{p!r}: {suggest(p, list(spec.categories)) or 'no close match'}" for p in bad)
        text = (f"unknown {spec.attribute} option(s) {bad}: expected {list(spec.categories)}"
                + (f" separated by '{codebook.multi_select_separator}'" if spec.multi else "") + (f" ({hints})" if hints else ""))
    elif spec is not None and spec.kind == "status":
        text = f"unknown status: expected one of {list(codebook._raw_status_labels)}; {suggest(value, list(codebook._raw_status_labels))}"
    else:
        text = check
    row = int(raw.at[idx, "raw_row"]) if idx is not None and idx in raw.index else ""
    return _problem(fname, row, col, value, text.rstrip("; "))


# ----------------------------------------------------------------------------- reading + validating
@dataclass
class _Validated:
    group: str
    fname: str
    raw: pd.DataFrame  # columns = expected headers (renamed from the raw ones) + raw_row; raw text
    notes: list[str]


def read_and_validate(params: Params, codebook: Codebook | None = None) -> tuple[list[_Validated], pd.DataFrame]:
    """Read every export of the year; return them and *all* problems found (empty if none)."""
    codebook = codebook or load_codebook(params.path("codebook"))
    problems: list[dict] = []
    if codebook.year != params.year:
        problems.append(_problem(str(codebook.path.name), "", "year", codebook.year,
                                 f"the codebook is for {codebook.year} but the parameters say year {params.year}"))
    raw_dir = params.path("raw_dir")
    names = [spec.file for spec in codebook.files.values()]
    for msg in verify_manifest(raw_dir, names):
        problems.append(_problem(str(raw_dir), "", "", "", msg))
    out: list[_Validated] = []
    for group, spec in codebook.files.items():
        path = raw_dir / spec.file
        fname = str(Path(params.raw_dir.format(year=params.year)) / spec.file)
        try:
            raw = read_export(path, skip_rows=spec.skip_rows, encoding=spec.encoding, delimiter=spec.delimiter, sheet=spec.sheet)
        except ExportReadError as exc:
            problems.append(_problem(fname, "", "", "", str(exc).replace(str(path) + ": ", "")))
            continue
        header_row = spec.skip_rows + 1
        if raw.data.empty:
            problems.append(_problem(fname, header_row, "", "", "the file has a header row but no responses"))
        mapping, header_problems = _match_headers(raw, codebook, group, fname, header_row)
        problems += header_problems
        frame = raw.data.rename(columns={v: k for k, v in mapping.items()})
        frame = frame[["raw_row"] + [e for e in codebook.expected_headers(group) if e in frame.columns]]
        frame.index = pd.RangeIndex(len(frame))
        norm = frame.drop(columns="raw_row").apply(_norm_series)
        schema = build_schema(codebook, group)
        schema = schema.remove_columns([c for c in schema.columns if c not in norm.columns])
        try:
            schema.validate(norm, lazy=True)
        except SchemaErrors as exc:
            fc = exc.failure_cases
            for case in fc.to_dict("records"):
                if case.get("index") is None:
                    continue
                problems.append(_problem_from_failure(case, frame, codebook, group, fname))
        # duplicated response ids
        id_col = codebook.column(group, "id").header
        if id_col in frame.columns:
            dup = frame[id_col].duplicated(keep=False) & (frame[id_col] != "")
            for _, r in frame[dup].iterrows():
                problems.append(_problem(fname, int(r["raw_row"]), id_col, r[id_col], "response id appears more than once"))
        notes = [f"{fname}: {n}" for n in raw.notes]
        out.append(_Validated(group=group, fname=fname, raw=frame, notes=notes))
    table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    if not table.empty:
        table["_o"] = pd.to_numeric(table["row"], errors="coerce")
        table = table.sort_values(["file", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return out, table


# ----------------------------------------------------------------------------- policy + tidy
def _code_ratings(frame: pd.DataFrame, codebook: Codebook, group: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Scores (float, nan = blank or no contact) and no-contact flags, respondents x rating columns."""
    specs = codebook.rating_columns(group)
    scores = np.full((len(frame), len(specs)), np.nan)
    nc = np.zeros((len(frame), len(specs)), dtype=bool)
    for j, r in enumerate(specs):
        codes = _norm_series(frame[r.header]).map(lambda v: codebook.score_labels.get(v) if v else None)
        nc[:, j] = (codes == NO_CONTACT).to_numpy()
        scores[:, j] = pd.to_numeric(codes.where(codes != NO_CONTACT), errors="coerce").to_numpy(dtype=float)
    return scores, nc, specs


def clean_group(v: _Validated, codebook: Codebook, params: Params) -> dict:
    """Apply the data policy to one validated export; return its kept rows and log."""
    frame, group = v.raw, v.group
    n = len(frame)
    ts = pd.to_datetime(frame[codebook.column(group, "timestamp").header], format=codebook.timestamp_format)
    status_spec = codebook.column(group, "status")
    status = (_norm_series(frame[status_spec.header]).map(lambda s: codebook.status_labels.get(s, "complete"))
              if status_spec is not None and status_spec.header in frame else pd.Series("complete", index=frame.index))
    key_spec = codebook.column(group, "key")
    key = (frame[key_spec.header].str.strip().str.casefold() if key_spec is not None and key_spec.header in frame
           else pd.Series("", index=frame.index))
    scores, nc, specs = _code_ratings(frame, codebook, group)
    reason = pd.Series("", index=frame.index, dtype=object)
    detail = pd.Series("", index=frame.index, dtype=object)
    reason[status == "test"] = "test_response"
    start, end = params.fieldwork
    if start is not None or end is not None:
        day = ts.dt.date
        outside = pd.Series(False, index=frame.index)
        if start is not None:
            outside |= day < start
        if end is not None:
            outside |= day > end
        m = outside & (reason == "")
        reason[m] = "outside_fieldwork"
        detail[m] = "submitted " + ts[m].dt.strftime("%Y-%m-%d") + f"; fieldwork {start} to {end}"
    answered = (~np.isnan(scores)).sum(axis=1)
    m = (answered == 0) & (reason == "")
    reason[m] = "no_scored_answer"
    # duplicates: same respondent key among rows still in; keep the latest complete one
    live = (reason == "") & (key != "")
    if live.any():
        cand = pd.DataFrame({"key": key[live], "ts": ts[live], "complete": (status[live] == "complete"),
                             "raw_row": frame.loc[live, "raw_row"]})
        cand = cand.sort_values(["key", "complete", "ts", "raw_row"])
        keep_idx = cand.groupby("key").tail(1).index
        superseded = cand.index.difference(keep_idx)
        kept_row = cand.loc[keep_idx].set_index("key")["raw_row"]
        reason[superseded] = "duplicate_superseded"
        detail[superseded] = "superseded by raw row " + cand.loc[superseded, "key"].map(kept_row).astype(str)
    keep = (reason == "").to_numpy()
    log = pd.DataFrame({"file": v.fname, "group": group, "raw_row": frame["raw_row"].to_numpy(),
                        "decision": np.where(keep, "kept", "excluded"), "reason": reason.to_numpy(),
                        "detail": detail.to_numpy()})
    partial = keep & (status == "partial").to_numpy()
    log.loc[partial, "detail"] = "partial response: answered items kept"
    return {"frame": frame[keep], "ts": ts[keep], "scores": scores[keep], "nc": nc[keep], "specs": specs, "log": log}


def _tidy(group: str, kept: dict, codebook: Codebook, year: int) -> dict[str, pd.DataFrame]:
    frame, ts = kept["frame"], kept["ts"]
    order = np.lexsort((frame["raw_row"].to_numpy(), ts.to_numpy()))
    prefix = "P" if group == "provider" else "O"
    width = max(3, len(str(len(frame))))
    ids = np.empty(len(frame), dtype=object)
    ids[order] = [f"{prefix}{k + 1:0{width}d}" for k in range(len(frame))]
    respondents = pd.DataFrame({"respondent_id": ids, "year": year, "group": group, "submitted_at": ts.to_numpy()})
    respondents = respondents.iloc[order].reset_index(drop=True)
    mems = []
    for spec in codebook.attribute_columns(group):
        if spec.header not in frame:
            continue
        lookup = {normalise(k): v for k, v in spec.categories.items()}
        cells = frame[spec.header].to_numpy()
        for rid, cell in zip(ids, cells):
            parts = [p for p in (cell.split(codebook.multi_select_separator) if spec.multi else [cell]) if p.strip()]
            for p in parts:
                mems.append((rid, spec.attribute, lookup[normalise(p)]))
    memberships = pd.DataFrame(mems, columns=["respondent_id", "attribute", "category"]).drop_duplicates()
    specs = kept["specs"]
    nr, nc_cols = kept["scores"].shape
    ratings = pd.DataFrame({
        "respondent_id": np.repeat(ids, nc_cols),
        "group": group,
        "question": np.tile([s.question for s in specs], nr),
        "department": np.tile([s.department for s in specs], nr),
        "score": kept["scores"].reshape(-1),
        "no_contact": kept["nc"].reshape(-1),
    })
    com = []
    for spec in codebook.columns[group]:
        if spec.kind == "comment" and spec.header in frame:
            for rid, text in zip(ids, frame[spec.header].to_numpy()):
                if text.strip():
                    com.append((rid, group, spec.field or "comment", text.strip()))
    comments = pd.DataFrame(com, columns=["respondent_id", "group", "field", "text"])
    return {"respondents": respondents, "memberships": memberships, "ratings": ratings, "comments": comments}


def _finalise(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Sort and type the tidy tables (categoricals for the repeated labels)."""
    q = pd.CategoricalDtype(list(QUESTIONS), ordered=True)
    r = tables["ratings"].sort_values(["group", "respondent_id"], kind="stable").reset_index(drop=True)
    r["question"] = r["question"].astype(q)
    r["group"] = r["group"].astype("category")
    r["department"] = r["department"].astype("category")
    tables["ratings"] = r
    tables["memberships"] = tables["memberships"].sort_values(["respondent_id", "attribute", "category"]).reset_index(drop=True)
    tables["comments"] = tables["comments"].sort_values(["group", "respondent_id", "field"]).reset_index(drop=True)
    tables["respondents"] = tables["respondents"].sort_values(["group", "respondent_id"]).reset_index(drop=True)
    return tables


def clean_year(params: Params, codebook: Codebook | None = None) -> CleanResult:
    """Validate and clean one year's exports. Raises :class:`ValidationFailed` listing every problem."""
    codebook = codebook or load_codebook(params.path("codebook"))
    validated, problems = read_and_validate(params, codebook)
    if not problems.empty:
        raise ValidationFailed(problems)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in ("respondents", "memberships", "ratings", "comments")}
    logs, notes = [], []
    for v in validated:
        kept = clean_group(v, codebook, params)
        logs.append(kept["log"])
        notes += v.notes
        for k, t in _tidy(v.group, kept, codebook, params.year).items():
            parts[k].append(t)
    tables = _finalise({k: pd.concat(v, ignore_index=True) for k, v in parts.items()})
    log = pd.concat(logs, ignore_index=True)
    # the raw files must be exactly as they were when we started
    after = verify_manifest(params.path("raw_dir"), [s.file for s in codebook.files.values()])
    if after:
        raise ValidationFailed(pd.DataFrame([_problem(str(params.raw_dir), "", "", "", m) for m in after], columns=PROBLEM_COLUMNS))
    return CleanResult(year=params.year, log=log, notes=notes, **tables)


def write_processed(result: CleanResult, folder: Path) -> Path:
    """Write the tidy tables and the cleaning log into ``folder`` as one atomic swap."""
    with staged_dir(folder) as stage:
        for name, table in result.tables().items():
            write_parquet(table, stage / f"{name}.parquet")
        write_csv(result.log, stage / "cleaning_log.csv")
    return folder
