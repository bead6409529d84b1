"""The clean stage: real survey exports in, validated tidy data out, nothing lost.

Bad inputs are built by editing copies of the bundled 2018 exports inside a
disposable copy of the repository (``repo_copy``), re-recording the manifest
there (except where the manifest itself is the point). Every failing case
asserts what the message names - file, row (as numbered in the raw file),
column (raw header), value - and that nothing in ``data/processed/`` or
``outputs/`` changed apart from ``validation_errors.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rmlib import synth
from rmlib.clean import (
    EXCLUSION_REASONS,
    LOG_COLUMNS,
    PROBLEM_COLUMNS,
    ValidationFailed,
    clean_year,
    read_and_validate,
    write_processed,
)
from rmlib.codebook import load_codebook
from rmlib.io import MANIFEST, write_manifest
from rmlib.params import load_params
from rmlib.pipeline import PipelineError, preflight
from rmlib.safety import failed_dir

OFF = "officer_survey_2018.csv"
PROV = "provider_survey_2018.csv"
F_OFF = f"data/raw/2018/{OFF}"
F_PROV = f"data/raw/2018/{PROV}"
TRUST = "How well do we trust each other?"


# ----------------------------------------------------------------------------- helpers
def raw_dir(repo: Path, year: int = 2018) -> Path:
    return repo / "data" / "raw" / str(year)


def read_rows(repo: Path, name: str, year: int = 2018) -> list[list[str]]:
    data = (raw_dir(repo, year) / name).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline="")))


def write_rows(
    repo: Path,
    name: str,
    rows: list[list[str]],
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    record: bool = True,
    year: int = 2018,
) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    (raw_dir(repo, year) / name).write_bytes(buf.getvalue().encode(encoding))
    if record:
        write_manifest(raw_dir(repo, year))


def edit_rows(repo: Path, name: str, fn, record: bool = True) -> None:
    rows = read_rows(repo, name)
    out = fn(rows)
    write_rows(repo, name, rows if out is None else out, record=record)


def col(rows: list[list[str]], header: str) -> int:
    return rows[1].index(header)


def set_cell(row: int, header: str, value: str):
    """Edit function: the cell in raw row ``row`` (1-based, as Excel shows it) under ``header``."""

    def fn(rows):
        rows[row - 1][col(rows, header)] = value

    return fn


def edit_codebook(repo: Path, fn, year: int = 2018) -> None:
    path = repo / "params" / "codebooks" / f"{year}.yaml"
    cb = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(cb)
    path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), encoding="utf-8")


def seed_outputs(repo: Path) -> None:
    """A 'last good' processed folder and report that a failed run must leave exactly as they are."""
    (repo / "data" / "processed" / "2018").mkdir(parents=True, exist_ok=True)
    (repo / "data" / "processed" / "2018" / "ratings.parquet").write_bytes(b"last good ratings")
    (repo / "data" / "processed" / "2017").mkdir(parents=True, exist_ok=True)
    (repo / "data" / "processed" / "2017" / "ratings.parquet").write_bytes(b"last good 2017")
    (repo / "outputs" / "2018" / "tables").mkdir(parents=True, exist_ok=True)
    (repo / "outputs" / "2018" / "report.html").write_bytes(b"last good report")
    (repo / "outputs" / "2018" / "tables" / "officer_by_quadrant.csv").write_bytes(b"a,b\n")


def snapshot(repo: Path, folders=("data/processed", "outputs")) -> dict[str, str]:
    out = {}
    for folder in folders:
        for p in sorted((repo / folder).rglob("*")):
            if p.name == "validation_errors.csv":
                continue
            out[str(p.relative_to(repo))] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


def expect_failure(repo: Path, params_file: str = "params/2018.yaml") -> pd.DataFrame:
    """Run preflight and clean+write on a broken copy; both must fail and change nothing. Returns the problems."""
    seed_outputs(repo)
    before, raw_before = snapshot(repo), snapshot(repo, ("data/raw",))
    params = load_params(params_file)
    with pytest.raises(PipelineError) as pe:
        preflight(params)
    with pytest.raises(ValidationFailed) as vf:
        result = clean_year(params)
        write_processed(result, params.processed_year_dir)  # never reached
    assert snapshot(repo) == before, "a failed run changed data/processed/ or outputs/"
    assert snapshot(repo, ("data/raw",)) == raw_before, "a run changed the raw data"
    problems = vf.value.problems
    assert list(problems.columns) == PROBLEM_COLUMNS and len(problems) > 0
    written = pd.read_csv(failed_dir(params) / "validation_errors.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == PROBLEM_COLUMNS
    assert len(written) == len(problems)
    assert "problem(s) in the raw exports" in str(pe.value)
    assert not problems["value"].astype(str).str.contains("@").any(), "personal data in the problem table"
    assert not list((repo / "data" / "processed").glob(".*staging*")), "staging folder left behind"
    return problems


def has(problems: pd.DataFrame, words=(), **exact) -> pd.DataFrame:
    """The problems whose fields equal ``exact`` and whose text contains every one of ``words``."""
    rows = problems
    for k, v in exact.items():
        rows = rows[rows[k].astype(str) == str(v)]
    rows = rows[rows["problem"].map(lambda t: all(w in str(t) for w in words))]
    assert len(rows), f"no problem with {exact} and words {list(words)} in:\n{problems.to_string()}"
    return rows


def independent_row_numbers(path: Path, skip_rows: int, sheet=None) -> list[int]:
    """Row numbers of every row after the header, read without rmlib (csv / openpyxl directly)."""
    if path.suffix == ".xlsx":
        import openpyxl

        ws = openpyxl.load_workbook(path).worksheets[0]
        n = ws.max_row
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
        n = len(
            list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if text.count(";") > text.count(",") else ","))
        )
    return list(range(skip_rows + 2, n + 1))


def assert_accounts_for_every_row(result, params) -> None:
    """rows in = kept + excluded per group, and every raw row is in the log exactly once."""
    log = result.log
    assert list(log.columns) == LOG_COLUMNS
    summary = result.summary()
    assert (summary.rows_in == summary.kept + summary.excluded).all()
    assert (summary[list(EXCLUSION_REASONS)].sum(axis=1) == summary.excluded).all()
    cb = load_codebook(params.path("codebook"))
    for group, spec in cb.files.items():
        path = params.path("raw_dir") / spec.file
        expected = independent_row_numbers(path, spec.skip_rows)
        mine = log[log["group"] == group]
        assert sorted(mine["raw_row"].tolist()) == expected, f"{group}: log rows differ from the raw file's rows"
        assert int(summary.set_index("group").at[group, "rows_in"]) == len(expected)
        kept = mine[mine.decision == "kept"]
        assert len(kept) == int((result.respondents.group == group).sum())
        assert set(kept.respondent_id) == set(
            result.respondents.loc[result.respondents.group == group, "respondent_id"]
        )
        assert (mine.loc[mine.decision == "excluded", "reason"].isin(EXCLUSION_REASONS)).all()
        assert (mine.loc[mine.decision == "excluded", "respondent_id"] == "").all()


def tables_equal(a, b) -> None:
    for name in ("respondents", "memberships", "ratings", "comments"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=False, check_categorical=False)


# ----------------------------------------------------------------------------- the bundled data
@pytest.fixture(scope="module")
def bundled():
    return {
        y: (clean_year(load_params(f"params/{y}.yaml")), load_params(f"params/{y}.yaml")) for y in (2016, 2017, 2018)
    }


@pytest.mark.parametrize("year", [2016, 2017, 2018])
def test_bundled_years_account_for_every_row(bundled, year):
    result, params = bundled[year]
    assert_accounts_for_every_row(result, params)
    s = result.summary().set_index("group")
    # what data/raw/README.md says the generator plants in every file
    for group in ("provider", "officer"):
        assert s.at[group, "test_response"] == 1 and s.at[group, "outside_fieldwork"] == 1
        assert s.at[group, "no_scored_answer"] == 1 and s.at[group, "duplicate_superseded"] == 2


def test_bundled_encodings_are_detected_and_noted(bundled):
    notes18 = "\n".join(bundled[2018][0].notes)
    assert f"{F_OFF}: UTF-8 with byte-order mark" in notes18
    notes17 = "\n".join(bundled[2017][0].notes)
    assert "decoded as cp1252" in notes17 and "not valid UTF-8" in notes17
    assert bundled[2017][0].comments.text.str.contains("é|ë", regex=True).any()
    assert not any("cp1252" in n for n in bundled[2016][0].notes + bundled[2018][0].notes)


def test_tidy_tables_follow_the_contract(bundled):
    r = bundled[2018][0]
    assert list(r.respondents.columns) == ["respondent_id", "year", "group", "submitted_at"]
    assert list(r.memberships.columns) == ["respondent_id", "attribute", "category"]
    assert list(r.ratings.columns) == ["respondent_id", "group", "question", "department", "score", "no_contact"]
    assert list(r.comments.columns) == ["respondent_id", "group", "field", "text"]
    assert pd.api.types.is_datetime64_any_dtype(r.respondents.submitted_at)
    assert r.respondents.respondent_id.is_unique
    sc = r.ratings.score.dropna()
    assert sc.isin([1, 2, 3, 4]).all()
    assert r.ratings.loc[r.ratings.no_contact, "score"].isna().all()
    prov = r.ratings[r.ratings.group == "provider"]
    assert set(prov.department.astype(str)) == {
        "ao_senior",
        "ao_service_teams",
        "placement",
        "safeguarding",
        "community_agents",
        "commissioning",
        "finance",
        "procurement",
        "contract_management",
        "quality",
    }
    assert (r.ratings.loc[r.ratings.group == "officer", "department"].astype(str) == "").all()
    # each kept respondent has one rating row per rating column
    assert len(prov) == 97 * 80 and len(r.ratings) - len(prov) == 85 * 8


def test_department_ids_are_stable_across_years(bundled):
    """2016-17 call it 'Safeguarding', 2018 'Adults Safeguarding Team': the same id."""
    for year in (2016, 2017, 2018):
        deps = set(bundled[year][0].ratings.department.astype(str)) - {""}
        assert len(deps) == 10 and "safeguarding" in deps and "placement" in deps


# ----------------------------------------------------------------------------- bad inputs
def _drop_column(header):
    def fn(rows):
        j = col(rows, header)
        return [r[:j] + r[j + 1 :] if len(r) > j else r for r in rows]

    return fn


def _add_column(header, value=""):
    def fn(rows):
        return [rows[0]] + [rows[1] + [header]] + [r + [value] for r in rows[2:]]

    return fn


def _rename_header(old, new, name=OFF):
    def fn(rows):
        rows[1] = [new if h == old else h for h in rows[1]]

    return fn


def _raw_bytes(repo, name, fn, record=True):
    path = raw_dir(repo) / name
    path.write_bytes(fn(path.read_bytes()))
    if record:
        write_manifest(raw_dir(repo))


def _skip_rows(n, group="officer"):
    def fn(cb):
        cb["files"][group]["skip_rows"] = n

    return fn


def _xlsx_bytes(rows: list[list[str]], merge_title: bool = True) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Responses"
    width = len(rows[1])
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row, 1):
            if v == "":
                continue
            if i > 2 and v.isdigit() and len(v) <= 2:
                v = int(v)  # Excel stores bare scores as numbers
            ws.cell(row=i, column=j, value=v)
    if merge_title:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _to_xlsx(repo, name=OFF, skip_rows=1, rows_fn=None):
    rows = read_rows(repo, name)
    if rows_fn:
        rows = rows_fn(rows) or rows
    (raw_dir(repo) / name).unlink()
    (raw_dir(repo) / name.replace(".csv", ".xlsx")).write_bytes(_xlsx_bytes(rows))
    write_manifest(raw_dir(repo))
    group = "officer" if name == OFF else "provider"

    def cb_fn(cb):
        cb["files"][group]["file"] = name.replace(".csv", ".xlsx")
        cb["files"][group]["skip_rows"] = skip_rows

    edit_codebook(repo, cb_fn)


# Each case: (what it does to the copy, [expected problems: dict of exact fields + "words"]).
CASES = {
    "missing_column": (
        lambda r: edit_rows(r, OFF, _drop_column("Which team do you work in?")),
        [dict(file=F_OFF, row=2, column="Which team do you work in?", words=["missing column", "2018.yaml"])],
    ),
    "extra_unknown_column": (
        lambda r: edit_rows(r, OFF, _add_column("Preferred contact time", "mornings")),
        [dict(file=F_OFF, row=2, column="Preferred contact time", words=["unknown column", "kind: ignore"])],
    ),
    "header_typo_suggests_codebook_header": (
        lambda r: edit_rows(r, OFF, _rename_header("Which team do you work in?", "Which team do you wrok in?")),
        [
            dict(
                file=F_OFF,
                row=2,
                column="Which team do you wrok in?",
                words=["unknown column", "did you mean 'Which team do you work in?'", "change its header"],
            )
        ],
    ),
    "score_7": (
        lambda r: edit_rows(r, OFF, set_cell(5, TRUST, "7")),
        [dict(file=F_OFF, row=5, column=TRUST, value="7", words=["not a valid answer", "valid: 1 - Poor"])],
    ),
    "label_typo_suggests": (
        lambda r: edit_rows(r, OFF, set_cell(5, TRUST, "4 - Goood")),
        [dict(file=F_OFF, row=5, column=TRUST, value="4 - Goood", words=["did you mean '4 - Good'?"])],
    ),
    "empty_file": (lambda r: _raw_bytes(r, OFF, lambda b: b""), [dict(file=F_OFF, words=["empty"])]),
    "header_only": (
        lambda r: edit_rows(r, OFF, lambda rows: rows[:2]),
        [dict(file=F_OFF, row=2, words=["header row but no responses"])],
    ),
    "unknown_department_in_header": (
        lambda r: edit_rows(r, PROV, _rename_header(f"{TRUST} - Community Agents", f"{TRUST} - Community Agents Team")),
        [
            dict(
                file=F_PROV,
                row=2,
                column=f"{TRUST} - Community Agents Team",
                value="Community Agents Team",
                words=[
                    "unknown department",
                    "did you mean 'Community Agents'?",
                    "departments:",
                    "add 'Community Agents Team': community_agents",
                ],
            )
        ],
    ),
    "multi_select_unknown_option": (
        lambda r: edit_rows(r, OFF, set_cell(5, "Which quadrant(s) do you work in?", "North; Central")),
        [
            dict(
                file=F_OFF,
                row=5,
                column="Which quadrant(s) do you work in?",
                value="North; Central",
                words=["unknown quadrant option 'Central'", "separated by ';'"],
            )
        ],
    ),
    "single_select_given_two_options": (
        lambda r: edit_rows(r, OFF, set_cell(6, "What is your role?", "Manager; Officer")),
        [
            dict(
                file=F_OFF,
                row=6,
                column="What is your role?",
                value="Manager; Officer",
                words=["unknown role option", "allows one answer only", "options: Head of Service, Manager"],
            )
        ],
    ),
    "truncated_ragged_last_row": (
        lambda r: _raw_bytes(r, OFF, lambda b: b[:-30]),
        [
            dict(
                file=F_OFF,
                row=92,
                column="Which service area(s) do you work in?",
                words=["has 9 fields but the header row has 18", "column I", "truncated"],
            )
        ],
    ),
    "unterminated_quote": (
        lambda r: _raw_bytes(
            r,
            OFF,
            lambda b: (
                b + b"20189999,01/12/2018 10:00,Completed,x@example.org,10.1.1.1,North,"
                b'Officer,Procurement,Live at Home,"this comment never ends\r\nand on'
            ),
        ),
        [dict(file=F_OFF, row=93, words=["unterminated quoted cell", "truncated", "starts at line 93"])],
    ),
    "binary_garbage": (
        lambda r: _raw_bytes(r, OFF, lambda b: bytes(range(256)) * 20),
        [dict(file=F_OFF, words=["binary file, not a CSV export"])],
    ),
    "xlsx_saved_as_csv": (
        lambda r: _raw_bytes(r, OFF, lambda b: _xlsx_bytes(read_rows(r, OFF))),
        [dict(file=F_OFF, words=["zip archive", "rename it to .xlsx"])],
    ),
    "unparseable_timestamp": (
        lambda r: edit_rows(r, OFF, set_cell(5, "Date submitted", "31/02/2018 10:00")),
        [
            dict(
                file=F_OFF,
                row=5,
                column="Date submitted",
                value="31/02/2018 10:00",
                words=["not a date-time", "%d/%m/%Y %H:%M"],
            )
        ],
    ),
    "blank_timestamp": (
        lambda r: edit_rows(r, OFF, set_cell(7, "Date submitted", "")),
        [dict(file=F_OFF, row=7, column="Date submitted", words=["blank date-time"])],
    ),
    "duplicate_response_id": (
        lambda r: edit_rows(r, OFF, lambda rows: rows[5].__setitem__(0, rows[4][0])),
        [
            dict(file=F_OFF, row=5, column="Response ID", value="20180102", words=["appears 2 times", "rows 5, 6"]),
            dict(file=F_OFF, row=6, column="Response ID", value="20180102", words=["appears 2 times"]),
        ],
    ),
    "blank_response_id": (
        lambda r: edit_rows(r, OFF, set_cell(8, "Response ID", "")),
        [dict(file=F_OFF, row=8, column="Response ID", words=["blank response id"])],
    ),
    "duplicate_header": (
        lambda r: edit_rows(
            r, OFF, _rename_header("Which service area(s) do you work in?", "Which team do you work in?")
        ),
        [
            dict(
                file=F_OFF,
                row=2,
                column="Which team do you work in?",
                value="columns H and I",
                words=["same header appears in columns H and I"],
            ),
            dict(file=F_OFF, row=2, column="Which service area(s) do you work in?", words=["missing column"]),
        ],
    ),
    "unknown_status": (
        lambda r: edit_rows(r, OFF, set_cell(5, "Status", "Tset")),
        [dict(file=F_OFF, row=5, column="Status", value="Tset", words=["unknown status", "did you mean 'Test'?"])],
    ),
    "blank_status": (
        lambda r: edit_rows(r, OFF, set_cell(9, "Status", "")),
        [dict(file=F_OFF, row=9, column="Status", words=["blank status"])],
    ),
    "semicolon_delimited_but_codebook_says_comma": (
        lambda r: write_rows(r, OFF, read_rows(r, OFF), delimiter=";"),
        [dict(file=F_OFF, row=2, words=["semicolon ';'", "comma ','", 'set delimiter: ";"'])],
    ),
    "skip_rows_too_few": (
        lambda r: edit_codebook(r, _skip_rows(0)),
        [dict(file=F_OFF, row=1, words=["row 1 is not the header row", "headers are on row 2", "set skip_rows: 1"])],
    ),
    "skip_rows_too_many": (
        lambda r: edit_codebook(r, _skip_rows(2)),
        [dict(file=F_OFF, row=3, words=["row 3 is not the header row", "headers are on row 2", "set skip_rows: 1"])],
    ),
    "wrong_year_in_codebook": (
        lambda r: edit_codebook(r, lambda cb: cb.__setitem__("year", 2019)),
        [
            dict(
                file="params/codebooks/2018.yaml",
                column="year",
                value="2019",
                words=["codebook is for 2019", "parameters say year 2018"],
            )
        ],
    ),
    "changed_vs_manifest": (
        lambda r: edit_rows(r, OFF, set_cell(5, TRUST, "3"), record=False),
        [dict(file=F_OFF, words=["has changed since MANIFEST.sha256", "python -m rmlib manifest data/raw/2018"])],
    ),
    "missing_manifest": (
        lambda r: (raw_dir(r) / MANIFEST).unlink(),
        [
            dict(
                file=f"data/raw/2018/{MANIFEST}",
                words=["MANIFEST.sha256 is missing", "python -m rmlib manifest data/raw/2018"],
            )
        ],
    ),
    "malformed_manifest": (
        lambda r: (raw_dir(r) / MANIFEST).write_text((raw_dir(r) / MANIFEST).read_text() + "not a hash line\n"),
        [dict(file=f"data/raw/2018/{MANIFEST}", words=["line 3", "<sha256>  <file name>", "python -m rmlib manifest"])],
    ),
    "file_missing_from_folder": (
        lambda r: (raw_dir(r) / OFF).unlink(),
        [
            dict(file=F_OFF, words=["file not found", "files.officer.file"]),
            dict(file=F_OFF, words=["listed in MANIFEST.sha256 but missing from the folder"]),
        ],
    ),
    "declared_utf8_but_cp1252": (
        lambda r: (
            write_rows(
                r,
                OFF,
                read_rows(r, OFF)[:5] + [read_rows(r, OFF)[5][:9] + ["Zoë was helpful"] + read_rows(r, OFF)[5][10:]],
                encoding="cp1252",
            ),
            edit_codebook(r, lambda cb: cb["files"]["officer"].__setitem__("encoding", "utf-8")),
        ),
        [dict(file=F_OFF, words=["cannot be decoded as utf-8", "encoding: auto"])],
    ),
    "unnamed_column_with_data": (
        lambda r: edit_rows(
            r,
            OFF,
            lambda rows: (
                [rows[0], rows[1] + [""]] + [x + ["stray"] if i == 3 else x + [""] for i, x in enumerate(rows[2:])]
            ),
        ),
        [dict(file=F_OFF, row=6, column="(column S)", value="stray", words=["no header but holds data"])],
    ),
    "row_with_extra_field": (
        lambda r: edit_rows(r, OFF, lambda rows: rows[9].append("Yes, but")),
        [dict(file=F_OFF, row=10, value="", words=["has 19 fields but the header row has 18"])],
    ),
    "xlsx_damaged": (
        lambda r: (_to_xlsx(r), _raw_bytes(r, "officer_survey_2018.xlsx", lambda b: b[: len(b) // 2])),
        [dict(file="data/raw/2018/officer_survey_2018.xlsx", words=["cannot be read as an XLSX workbook"])],
    ),
    "xlsx_merged_title_but_skip_rows_0": (
        lambda r: _to_xlsx(r, skip_rows=0),
        [
            dict(
                file="data/raw/2018/officer_survey_2018.xlsx", row=1, words=["headers are on row 2", "set skip_rows: 1"]
            )
        ],
    ),
    "several_problems_in_one_run": (
        lambda r: (
            edit_rows(r, OFF, set_cell(5, TRUST, "7")),
            edit_rows(r, OFF, set_cell(20, "Status", "Done")),
            edit_rows(r, PROV, _drop_column("Your name")),
        ),
        [
            dict(file=F_OFF, row=5, value="7", words=["not a valid answer"]),
            dict(file=F_OFF, row=20, value="Done", words=["unknown status"]),
            dict(file=F_PROV, row=2, column="Your name", words=["missing column"]),
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_names_file_row_column_value(repo_copy, case):
    breaker, expectations = CASES[case]
    breaker(repo_copy)
    problems = expect_failure(repo_copy)
    for e in expectations:
        e = dict(e)
        has(problems, e.pop("words", ()), **e)


def test_bad_input_suite_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.slow
def test_cli_validate_prints_every_problem_and_exits_non_zero(repo_copy):
    edit_rows(repo_copy, OFF, set_cell(5, TRUST, "4 - Goood"))
    edit_rows(repo_copy, OFF, set_cell(6, "Which quadrant(s) do you work in?", "North; Central"))
    proc = subprocess.run(
        [sys.executable, "-m", "rmlib", "validate", "params/2018.yaml"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "RMLIB_ROOT": str(repo_copy)},
    )
    assert proc.returncode == 1
    out = proc.stdout
    assert F_OFF in out and "4 - Goood" in out and "did you mean '4 - Good'?" in out
    assert "North; Central" in out and "'Central'" in out
    assert not (repo_copy / "data" / "processed" / "2018").exists()


# ----------------------------------------------------------------------------- inputs that work (and are noted)
@pytest.fixture(scope="module")
def reference18():
    return clean_year(load_params("params/2018.yaml"))


def _clean(repo):
    params = load_params("params/2018.yaml")
    result = clean_year(params)
    assert_accounts_for_every_row(result, params)
    return result


def test_utf8_without_bom_reads_the_same(repo_copy, reference18):
    write_rows(repo_copy, OFF, read_rows(repo_copy, OFF), encoding="utf-8")
    result = _clean(repo_copy)
    tables_equal(result, reference18)
    assert not any(OFF in n and "byte-order mark" in n for n in result.notes)


def test_cp1252_with_accents_is_detected_and_noted(repo_copy, reference18):
    rows = read_rows(repo_copy, OFF)
    c = col(rows, "Is there anything else you would like to tell us about ECC's relationship with providers?")
    rows[4][c] = "Zoë from the café hub – helpful"
    write_rows(repo_copy, OFF, rows, encoding="cp1252")
    result = _clean(repo_copy)
    assert any(n.startswith(F_OFF) and "decoded as cp1252" in n for n in result.notes)
    assert (result.comments.text == "Zoë from the café hub – helpful").sum() == 1
    pd.testing.assert_frame_equal(result.ratings, reference18.ratings)


def test_semicolon_file_is_read_when_the_codebook_says_auto(repo_copy, reference18):
    write_rows(repo_copy, OFF, read_rows(repo_copy, OFF), delimiter=";")
    edit_codebook(repo_copy, lambda cb: cb["files"]["officer"].__setitem__("delimiter", "auto"))
    result = _clean(repo_copy)
    tables_equal(result, reference18)
    assert any(n.startswith(F_OFF) and "delimiter detected: semicolon" in n for n in result.notes)


@pytest.mark.slow
def test_xlsx_with_merged_title_row_reads_like_the_csv(repo_copy, reference18):
    _to_xlsx(repo_copy, OFF, skip_rows=1)
    _to_xlsx(repo_copy, PROV, skip_rows=1)
    result = _clean(repo_copy)
    tables_equal(result, reference18)
    assert any("merged cells" in n for n in result.notes)
    assert set(result.log.file) == {"data/raw/2018/officer_survey_2018.xlsx", "data/raw/2018/provider_survey_2018.xlsx"}


def test_xlsx_date_cells_are_read_as_timestamps(repo_copy, reference18):
    _to_xlsx(repo_copy, OFF, skip_rows=1)
    import openpyxl

    path = raw_dir(repo_copy) / "officer_survey_2018.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows(min_row=3, min_col=2, max_col=2):
        for cell in row:
            cell.value = dt.datetime.strptime(cell.value, "%d/%m/%Y %H:%M")
            cell.number_format = "dd/mm/yyyy hh:mm"
    wb.save(path)
    write_manifest(raw_dir(repo_copy))
    result = _clean(repo_copy)
    tables_equal(result, reference18)


def test_headers_match_whatever_the_case_spacing_and_quotes(repo_copy, reference18):
    def vary(rows):
        rows[1] = ["  " + h.upper().replace(" ", "   ").replace("'", "\u2019") + " " for h in rows[1]]

    edit_rows(repo_copy, OFF, vary)
    tables_equal(_clean(repo_copy), reference18)


def test_labels_match_whatever_the_case_and_spacing(repo_copy, reference18):
    def vary(rows):
        for r in rows[2:]:
            r[:] = [
                ("  " + v.upper().replace(" - ", "  \u2013  ") + " ")
                if v in ("4 - Good", "1 - Poor", "Completed", "North")
                else v
                for v in r
            ]

    edit_rows(repo_copy, OFF, vary)
    tables_equal(_clean(repo_copy), reference18)


def test_blank_rows_are_logged_not_lost(repo_copy, reference18):
    edit_rows(repo_copy, OFF, lambda rows: rows[:10] + [[]] + [[""] * 18] + rows[10:] + [[]])
    result = _clean(repo_copy)
    blank = result.log[result.log.reason == "blank_row"]
    assert blank.raw_row.tolist() == [11, 12, 95] and set(blank.file) == {F_OFF}
    tables_equal(result, reference18)
    assert any("blank row(s)" in n for n in result.notes)


def _respondent_row(rows, src: int, **changes) -> list[str]:
    """A copy of raw row ``src`` with some cells changed (by header)."""
    new = list(rows[src - 1])
    for header, value in changes.items():
        new[col(rows, header)] = value
    return new


def test_duplicate_submissions_keep_the_latest_complete_one(repo_copy, reference18):
    rows = read_rows(repo_copy, OFF)
    email = rows[4][col(rows, "Email address")]
    # a later *partial* resubmission (same person: email in another case) and a later complete one of another person
    later_partial = _respondent_row(
        rows,
        5,
        **{
            "Response ID": "20189001",
            "Date submitted": "29/12/2018 10:00",
            "Status": "Partial",
            "Email address": "  " + email.upper(),
        },
    )
    email6 = rows[5][col(rows, "Email address")]
    later_complete = _respondent_row(
        rows,
        6,
        **{"Response ID": "20189002", "Date submitted": "30/12/2018 10:00", TRUST: "1 - Poor", "Email address": email6},
    )
    rows += [later_partial, later_complete]
    write_rows(repo_copy, OFF, rows)
    result = _clean(repo_copy)
    log = result.log[result.log.file == F_OFF].set_index("raw_row")
    assert log.at[93, "reason"] == "duplicate_superseded" and "superseded by raw row 5" in log.at[93, "detail"]
    assert "incomplete" in log.at[93, "detail"]
    assert log.at[5, "decision"] == "kept" and "latest complete of 2" in log.at[5, "detail"]
    assert log.at[6, "reason"] == "duplicate_superseded" and "superseded by raw row 94" in log.at[6, "detail"]
    assert log.at[94, "decision"] == "kept"
    assert (result.respondents.group == "officer").sum() == 85
    rid = log.at[94, "respondent_id"]
    score = result.ratings[(result.ratings.respondent_id == rid) & (result.ratings.question == "trust")].score
    assert score.tolist() == [1.0]


def test_blank_no_contact_only_outside_fieldwork_test_and_preview_rows_are_excluded(repo_copy):
    rows = read_rows(repo_copy, OFF)
    first_rating = col(rows, "How well do care providers and ECC share information?")
    blank = _respondent_row(rows, 5, **{"Response ID": "20189001", "Email address": "a@example.org"})
    blank[first_rating:] = [""] * 8
    nc_only = _respondent_row(rows, 5, **{"Response ID": "20189002", "Email address": "b@example.org"})
    nc_only[first_rating:] = ["No contact"] * 7 + [""]
    early = _respondent_row(
        rows, 5, **{"Response ID": "20189003", "Email address": "c@example.org", "Date submitted": "26/11/2018 23:59"}
    )
    late_ok = _respondent_row(
        rows, 5, **{"Response ID": "20189004", "Email address": "d@example.org", "Date submitted": "04/01/2019 23:59"}
    )  # last day of fieldwork: kept
    preview = _respondent_row(
        rows, 5, **{"Response ID": "20189005", "Email address": "e@example.org", "Status": "Preview"}
    )
    partial = _respondent_row(
        rows, 5, **{"Response ID": "20189006", "Email address": "f@example.org", "Status": "Partial"}
    )
    partial[first_rating + 3 :] = [""] * 5
    write_rows(repo_copy, OFF, rows + [blank, nc_only, early, late_ok, preview, partial])
    edit_codebook(repo_copy, lambda cb: cb["status_labels"].__setitem__("Preview", "test"))
    result = _clean(repo_copy)
    log = result.log[result.log.file == F_OFF].set_index("raw_row")
    assert log.at[93, "reason"] == "no_scored_answer" and log.at[93, "detail"] == "no rating answered"
    assert log.at[94, "reason"] == "no_scored_answer" and "only 'no contact'" in log.at[94, "detail"]
    assert log.at[95, "reason"] == "outside_fieldwork" and "2018-11-26 23:59" in log.at[95, "detail"]
    assert log.at[96, "decision"] == "kept"
    assert log.at[97, "reason"] == "test_response" and "Preview" in log.at[97, "detail"]
    assert log.at[98, "decision"] == "kept" and "partial response" in log.at[98, "detail"]
    rid = log.at[98, "respondent_id"]
    mine = result.ratings[result.ratings.respondent_id == rid]
    assert mine.score.notna().sum() == 3 and len(mine) == 8  # answered items kept, the rest missing
    assert (result.respondents.group == "officer").sum() == 87


def test_a_column_declared_ignore_is_dropped_and_noted(repo_copy, reference18):
    edit_rows(repo_copy, OFF, _add_column("Language", "English"))
    edit_codebook(repo_copy, lambda cb: cb["columns"]["officer"].append({"header": "Language", "kind": "ignore"}))
    (raw_dir(repo_copy) / "officer_survey_2018 (1).csv").write_bytes(b"a stray copy")
    result = _clean(repo_copy)
    tables_equal(result, reference18)
    assert any(n.startswith(F_OFF) and "dropped at read" in n and "'Language'" in n for n in result.notes)
    assert any("officer_survey_2018 (1).csv: not named in 2018.yaml; not read" in n for n in result.notes)


def test_raw_files_are_checked_again_after_cleaning(repo_copy, monkeypatch):
    from rmlib import clean

    real = clean.clean_group

    def tamper(v, *a, **k):  # someone edits the raw file while the clean stage runs
        if v.group == "officer":
            (raw_dir(repo_copy) / OFF).write_bytes((raw_dir(repo_copy) / OFF).read_bytes() + b"\r\n")
        return real(v, *a, **k)

    monkeypatch.setattr(clean, "clean_group", tamper)
    with pytest.raises(ValidationFailed) as exc:
        clean_year(load_params("params/2018.yaml"))
    has(exc.value.problems, ["changed while it was being cleaned"], file=F_OFF)
    has(exc.value.problems, ["python -m rmlib manifest data/raw/2018"], file=F_OFF)


def test_blank_and_no_contact_are_different_things(reference18):
    r = reference18.ratings
    assert r.no_contact.sum() > 0
    blank = r.score.isna() & ~r.no_contact
    assert blank.sum() > 0  # both kinds of missing are kept, and told apart


# ----------------------------------------------------------------------------- personal data
def _personal_values(repo) -> set[str]:
    cb = load_codebook(repo / "params" / "codebooks" / "2018.yaml")
    values = set()
    for group, spec in cb.files.items():
        rows = read_rows(repo, spec.file)
        for c in cb.columns[group]:
            if c.kind in ("key", "personal"):
                j = col(rows, c.header)
                values |= {r[j] for r in rows[2:] if r[j]}
    return values


def test_personal_columns_never_reach_processed_tables(repo_copy):
    params = load_params("params/2018.yaml")
    result = clean_year(params)
    folder = write_processed(result, params.processed_year_dir)
    personal = _personal_values(repo_copy)
    assert any("@" in v for v in personal) and any(v.startswith("10.") for v in personal)
    digests = set()
    for v in personal:
        for algo in ("md5", "sha1", "sha256"):
            digests.add(hashlib.new(algo, v.encode()).hexdigest())
            digests.add(hashlib.new(algo, v.strip().lower().encode()).hexdigest())
    for name, table in result.tables().items():
        assert not {c.lower() for c in table.columns} & {
            "email",
            "email address",
            "ip address",
            "your name",
            "organisation name",
            "response id",
        }
        cells = set(table.astype(str).to_numpy().ravel())
        assert not cells & personal, f"personal data in {name}"
        assert not cells & digests, f"a hash of personal data in {name}"
    assert result.respondents.respondent_id.str.fullmatch(r"[PO]\d{3}").all()
    for f in folder.iterdir():
        data = f.read_bytes()
        for v in personal:
            if len(v) > 8:  # IPs such as 10.0.0.0 are too short to search in binary parquet
                assert v.encode() not in data, (f.name, v)
        for d in digests:
            assert d.encode() not in data
    assert not any("@" in n for n in result.notes)


def test_respondent_ids_do_not_depend_on_emails_or_response_ids(repo_copy, reference18):
    def scramble(rows):
        e, i = col(rows, "Email address"), col(rows, "Response ID")
        for k, r in enumerate(rows[2:]):
            r[e] = hashlib.sha256(r[e].lower().encode()).hexdigest()[:12] + "@elsewhere.org"
            r[i] = str(99990000 - k)

    edit_rows(repo_copy, OFF, scramble)
    result = _clean(repo_copy)
    tables_equal(result, reference18)  # same pseudonyms, same everything


def test_problem_table_never_shows_personal_values(repo_copy):
    edit_rows(repo_copy, OFF, set_cell(5, "Email address", "not-an-email"))
    edit_rows(repo_copy, OFF, set_cell(5, TRUST, "9"))
    _, problems = read_and_validate(load_params("params/2018.yaml"))
    assert len(problems) == 1 and not problems.astype(str).apply(lambda c: c.str.contains("@")).any().any()


def test_write_processed_is_atomic_and_complete(repo_copy, reference18):
    params = load_params("params/2018.yaml")
    seed_outputs(repo_copy)
    folder = write_processed(reference18, params.processed_year_dir)
    assert sorted(p.name for p in folder.iterdir()) == [
        "cleaning_log.csv",
        "comments.parquet",
        "memberships.parquet",
        "ratings.parquet",
        "respondents.parquet",
    ]
    back = pd.read_parquet(folder / "ratings.parquet")
    pd.testing.assert_frame_equal(back, reference18.ratings, check_categorical=False)
    log = pd.read_csv(folder / "cleaning_log.csv", keep_default_na=False)
    assert len(log) == len(reference18.log)
    assert not list(folder.parent.glob(".2018.*"))


def test_validation_failed_message_lists_problems_one_per_line():
    problems = pd.DataFrame(
        [{"file": F_OFF, "row": 5, "column": TRUST, "value": "7", "problem": "not a valid answer"}] * 25,
        columns=PROBLEM_COLUMNS,
    )
    msg = str(ValidationFailed(problems))
    assert msg.startswith("25 problem(s) in the raw exports:")
    assert f"{F_OFF}, row 5, column '{TRUST}': value '7': not a valid answer" in msg
    assert "... and 5 more (see validation_errors.csv)" in msg


# ----------------------------------------------------------------------------- adding a new year
def _codebook_2019(repo: Path) -> Path:
    """A 2019 codebook worded differently from 2018 in every way the README's 'Adding a new year' lists."""
    cb = yaml.safe_load((repo / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8"))
    cb["year"] = 2019
    for group in ("provider", "officer"):
        cb["files"][group].update(file=f"{group}_export_2019.csv", skip_rows=2)  # an extra title row
    cb["multi_select_separator"] = "|"
    cb["timestamp_format"] = "%Y-%m-%d %H:%M"
    cb["score_labels"] = {
        "Poor (1)": 1,
        "Fair (2)": 2,
        "2": 2,
        "Fairly good (3)": 3,
        "Good (4)": 4,
        "Not applicable - no contact": "no_contact",
    }
    cb["status_labels"] = {"Complete": "complete", "In progress": "partial", "Test response": "test"}
    deps = {}
    for label, dep in cb["departments"].items():
        deps["Community Connectors" if dep == "community_agents" else label] = dep  # relabelled department
    cb["departments"] = deps
    cb["rating_header"] = {"provider": "Q: {question} [{department}]", "officer": "Q: {question}"}
    renames = {
        "Response ID": "Response number",
        "Date submitted": "Submitted on",
        "Status": "Completion status",
        "Email address": "Respondent e-mail",
        "What is your role?": "Your job role",
    }
    for group in ("provider", "officer"):
        for c in cb["columns"][group]:
            c["header"] = renames.get(c["header"], c["header"])
            if c.get("attribute") == "size":
                c["categories"] = {"Under 50 staff": "Small", "50 - 249 staff": "Medium", "250+ staff": "Large"}
            if c.get("attribute") == "quadrant":
                c["categories"] = {f"{k} Essex": v for k, v in c["categories"].items()}
    path = repo / "params" / "codebooks" / "2019.yaml"
    path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _add_2019(repo: Path) -> None:
    cb_path = _codebook_2019(repo)
    fieldwork = (dt.datetime(2019, 11, 4, 8, 0), dt.datetime(2019, 12, 20, 17, 0))
    synth.generate_year(
        2019, out_dir=repo / "data" / "raw", codebook_path=cb_path, targets=synth.TARGETS[2018], fieldwork=fieldwork
    )
    p = yaml.safe_load((repo / "params" / "2018.yaml").read_text(encoding="utf-8"))
    p.update(
        year=2019,
        compare_year=2018,
        codebook="params/codebooks/2019.yaml",
        raw_dir="data/raw/2019",
        fieldwork_start="2019-11-04",
        fieldwork_end="2019-12-20",
        seed=20191104,
    )
    (repo / "params" / "2019.yaml").write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")


def test_adding_a_new_year_with_a_new_codebook(repo_copy):
    _add_2019(repo_copy)
    head = (raw_dir(repo_copy, 2019) / "officer_export_2019.csv").read_text(encoding="utf-8").splitlines()
    assert head[1] == "" and head[2].startswith("Response number,Submitted on,Completion status")
    assert "Good (4)" in (raw_dir(repo_copy, 2019) / "provider_export_2019.csv").read_text(encoding="utf-8")
    params = load_params("params/2019.yaml")
    result = clean_year(params)
    assert_accounts_for_every_row(result, params)
    # the calibration targets come through the new wording unchanged
    for group, target in synth.TARGETS[2018].items():
        r = result.ratings[result.ratings.group == group]
        assert (result.respondents.group == group).sum() == target.n
        overall = r.groupby("question", observed=True).score.mean().mean()
        assert abs(overall - target.overall) < 0.005
    prov = result.ratings[result.ratings.group == "provider"]
    assert set(prov.department.astype(str)) == set(load_codebook(params.path("codebook")).departments.values())
    assert prov[prov.department == "community_agents"].no_contact.sum() > 0  # the relabelled department, same id
    sizes = result.memberships[result.memberships.attribute == "size"].category
    assert set(sizes) == {"Small", "Medium", "Large"}
    quad = result.memberships[result.memberships.attribute == "quadrant"]
    assert set(quad.category) == {"North", "South", "Mid", "West", "Countywide"}
    assert (quad.groupby("respondent_id").size() > 1).any()  # multi-select with the new separator
    # and a 2018 label in the 2019 export is caught, with the 2019 label suggested
    rows = read_rows(repo_copy, "officer_export_2019.csv", year=2019)
    rows[5][rows[2].index("Q: How well do we trust each other?")] = "Good(4)"
    write_rows(repo_copy, "officer_export_2019.csv", rows, encoding="utf-8", year=2019)
    _, problems = read_and_validate(params)
    has(
        problems,
        ["did you mean 'Good (4)'?"],
        file="data/raw/2019/officer_export_2019.csv",
        row=6,
        column="Q: How well do we trust each other?",
        value="Good(4)",
    )


@pytest.mark.slow
def test_adding_a_new_year_runs_the_clean_stage_of_the_pipeline(repo_copy):
    from rmlib.pipeline import run

    # an empty rmlib/ folder in the copy would shadow the installed package in a kernel started there
    if (repo_copy / "rmlib").is_dir() and not any((repo_copy / "rmlib").iterdir()):
        (repo_copy / "rmlib").rmdir()
    _add_2019(repo_copy)
    out = run("params/2019.yaml", stages=("01_clean",), say=lambda s: None)
    assert (repo_copy / "audit" / "2019" / "notebooks" / "01_clean.ipynb").is_file()  # executed notebooks: audit area
    assert out == repo_copy / "outputs" / "2019" and not (out / "notebooks").exists()
    assert (repo_copy / "data" / "processed" / "2019" / "ratings.parquet").is_file()
    log = pd.read_csv(repo_copy / "data" / "processed" / "2019" / "cleaning_log.csv", keep_default_na=False)
    assert set(log.file) == {"data/raw/2019/provider_export_2019.csv", "data/raw/2019/officer_export_2019.csv"}


# ----------------------------------------------------------------------------- property: valid exports round-trip
from conftest import ROOT  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CB = yaml.safe_load((ROOT / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8"))
_LABELS: dict = {}
for _label, _code in _CB["score_labels"].items():
    _LABELS.setdefault(_code, []).append(_label)
_STATUS = {code: [lab for lab, c in _CB["status_labels"].items() if c == code] for code in ("complete", "partial")}
_FIELDWORK_START = dt.datetime(2018, 11, 27, 0, 0)
_QUESTIONS = list(_CB["questions"])  # survey order


def _rating_columns(group):
    """(header, question, department id) in survey order, straight from the codebook YAML."""
    template = _CB["rating_header"][group]
    out = []
    for q in _QUESTIONS:
        if "{department}" in template:
            for label, dep in _CB["departments"].items():
                out.append((template.format(question=_CB["questions"][q], department=label), q, dep))
        else:
            out.append((template.format(question=_CB["questions"][q]), q, ""))
    return out


_VARIANTS = [
    lambda s: s,
    str.upper,
    str.lower,
    str.title,
    str.swapcase,
    lambda s: s.replace(" ", "  "),
    lambda s: "  " + s + " ",
    lambda s: s.replace("'", "\u2019"),
]


def _variant(draw, text):
    return draw(st.sampled_from(_VARIANTS))(text)


@st.composite
def _respondent(draw, group):
    cols = _CB["columns"][group]
    attrs = {}
    for c in cols:
        if c["kind"] != "attribute":
            continue
        labels = list(c["categories"])
        if c.get("multi"):
            attrs[c["header"]] = draw(st.lists(st.sampled_from(labels), unique=True, max_size=3))
        else:
            attrs[c["header"]] = draw(st.one_of(st.just([]), st.sampled_from(labels).map(lambda x: [x])))
    n = len(_rating_columns(group))
    answers = draw(st.lists(st.sampled_from([None, "nc", 1, 2, 3, 4]), min_size=n, max_size=n))
    comment = draw(st.text(alphabet="abcXYZ 019,;\"'\né–", max_size=15))
    status = draw(st.sampled_from(["complete", "partial"]))
    return {"attrs": attrs, "answers": answers, "comment": comment, "status": status}


@st.composite
def _export(draw, group, n_max):
    people = draw(st.lists(_respondent(group), min_size=1, max_size=n_max))
    minutes = draw(st.lists(st.integers(0, 38 * 24 * 60 - 1), unique=True, min_size=len(people), max_size=len(people)))
    cols = _CB["columns"][group]
    ratings = _rating_columns(group)
    header = [_variant(draw, c["header"]) for c in cols] + [_variant(draw, h) for h, _, _ in ratings]
    rows = []
    for i, (p, m) in enumerate(zip(people, minutes)):
        p["submitted_at"] = _FIELDWORK_START + dt.timedelta(minutes=m)
        row = []
        for c in cols:
            kind = c["kind"]
            if kind == "id":
                row.append(str(5000 + i))
            elif kind == "timestamp":
                row.append(p["submitted_at"].strftime(_CB["timestamp_format"]))
            elif kind == "status":
                row.append(_variant(draw, draw(st.sampled_from(_STATUS[p["status"]]))))
            elif kind == "key":
                row.append(f"person{i}@example.org")
            elif kind == "personal":
                row.append(f"Personal {i}")
            elif kind == "attribute":
                sep = draw(st.sampled_from([";", "; ", " ;  "]))
                row.append(sep.join(_variant(draw, x) for x in p["attrs"][c["header"]]))
            elif kind == "comment":
                row.append(p["comment"])
        for a in p["answers"]:
            code = {None: None, "nc": "no_contact"}.get(a, a)
            row.append("" if code is None else _variant(draw, draw(st.sampled_from(_LABELS[code]))))
        rows.append(row)
    return {"people": people, "rows": [["Essex Insight export"], header] + rows}


def _expected_tables(group, people):
    """The tidy tables computed directly from the generated values (not by the cleaner)."""
    kept = [p for p in people if any(a in (1, 2, 3, 4) for a in p["answers"])]
    kept.sort(key=lambda p: p["submitted_at"])
    prefix = "P" if group == "provider" else "O"
    resp, mems, rats, coms = [], [], [], []
    cats = {c["header"]: (c["attribute"], c["categories"]) for c in _CB["columns"][group] if c["kind"] == "attribute"}
    for k, p in enumerate(kept, 1):
        rid = f"{prefix}{k:03d}"
        resp.append((rid, 2018, group, pd.Timestamp(p["submitted_at"])))
        for header, labels in p["attrs"].items():
            attribute, mapping = cats[header]
            mems += [(rid, attribute, mapping[x]) for x in sorted(set(labels))]
        for (_, q, dep), a in zip(_rating_columns(group), p["answers"]):
            rats.append((rid, group, q, dep, float(a) if a in (1, 2, 3, 4) else np.nan, a == "nc"))
        if p["comment"].strip():
            coms.append((rid, group, "general", p["comment"].strip()))
    return resp, mems, rats, coms


def _canon(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    f = frame.astype(object).copy()
    for c in f.columns:
        if f[c].map(lambda v: isinstance(v, float)).all():
            f[c] = f[c].map(lambda v: "nan" if v != v else v)
    return sorted(
        map(tuple, f.to_numpy().tolist()), key=lambda t: tuple(str(t[frame.columns.get_loc(k)]) for k in keys)
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    officers=_export("officer", 6),
    providers=_export("provider", 3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
@pytest.mark.slow
def test_property_any_valid_export_round_trips_to_the_same_tidy_tables(officers, providers, encoding):
    import tempfile

    from rmlib.params import validate

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw"
        folder.mkdir()
        for group, export in (("officer", officers), ("provider", providers)):
            buf = io.StringIO(newline="")
            csv.writer(buf, lineterminator="\r\n").writerows(export["rows"])
            (folder / _CB["files"][group]["file"]).write_bytes(buf.getvalue().encode(encoding))
        write_manifest(folder)
        params = validate(
            {
                "year": 2018,
                "compare_year": 2017,
                "codebook": str(ROOT / "params" / "codebooks" / "2018.yaml"),
                "raw_dir": str(folder),
                "processed_dir": str(Path(tmp) / "processed"),
                "fieldwork_start": "2018-11-27",
                "fieldwork_end": "2019-01-04",
            }
        )
        result = clean_year(params)
    for group, export in (("officer", officers), ("provider", providers)):
        resp, mems, rats, coms = _expected_tables(group, export["people"])
        got = result.respondents[result.respondents.group == group]
        assert sorted(map(tuple, got.astype(object).to_numpy().tolist())) == sorted(resp)
        ids = set(got.respondent_id)
        m = result.memberships[result.memberships.respondent_id.isin(ids)]
        assert sorted(map(tuple, m.to_numpy().tolist())) == sorted(mems)
        r = result.ratings[result.ratings.group == group].astype(object)
        assert _canon(r, ["respondent_id", "question", "department"]) == _canon(
            pd.DataFrame(rats, columns=r.columns), ["respondent_id", "question", "department"]
        )
        c = result.comments[result.comments.group == group]
        assert sorted(map(tuple, c.to_numpy().tolist())) == sorted(coms)
        log = result.log[result.log.group == group]
        assert sorted(log.raw_row) == list(range(3, 3 + len(export["people"])))
        assert (log.decision == "kept").sum() == len(resp)
        assert set(log.loc[log.decision == "excluded", "reason"]) <= {"no_scored_answer"}
