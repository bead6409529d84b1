"""rmlib.io: reading exports as the survey tool wrote them, sha256 manifests, atomic writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat

import pandas as pd
import pytest

from rmlib.io import (
    MANIFEST,
    ExportReadError,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    column_letter,
    decode,
    manifest_command,
    read_export,
    read_manifest,
    sha256_file,
    staged_dir,
    verify_manifest,
    write_csv,
    write_manifest,
    write_parquet,
)

HEAD = ["Response ID", "Date submitted", "Status", "How well do we trust each other?"]


def csv_bytes(rows, sep=",", eol="\r\n", encoding="utf-8"):
    import csv

    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=sep, lineterminator=eol).writerows(rows)
    return buf.getvalue().encode(encoding)


def export(tmp_path, data: bytes, name="export.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


ROWS = [["Title row"], HEAD, ["1", "28/11/2018 10:00", "Completed", "3"], ["2", "29/11/2018 11:00", "Partial", ""]]


# ----------------------------------------------------------------------------- small helpers
@pytest.mark.parametrize(
    "i, letter", [(0, "A"), (17, "R"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letter_is_the_spreadsheet_letter(i, letter):
    assert column_letter(i) == letter


# ----------------------------------------------------------------------------- encodings
def test_decode_utf8_bom_and_cp1252_are_detected_and_noted(tmp_path):
    assert decode("café".encode("utf-8"), "auto", tmp_path) == ("café", "utf-8", [])
    text, enc, notes = decode("café".encode("utf-8-sig"), "auto", tmp_path)
    assert (text, enc, notes) == ("café", "utf-8-sig", ["UTF-8 with byte-order mark"])
    text, enc, notes = decode("Zoë – café".encode("cp1252"), "auto", tmp_path)
    assert (text, enc) == ("Zoë – café", "cp1252")
    assert "not valid UTF-8 (byte b'\\xeb' at offset 2)" in notes[0] and "decoded as cp1252" in notes[0]


def test_decode_declared_encoding_is_enforced(tmp_path):
    with pytest.raises(ExportReadError, match="cannot be decoded as utf-8 .*encoding: auto"):
        decode("Zoë".encode("cp1252"), "utf-8", tmp_path)
    assert decode("café".encode("utf-8-sig"), "utf-8", tmp_path)[0] == "café"  # a BOM is never part of the text
    assert decode("café".encode("cp1252"), "cp1252", tmp_path) == ("café", "cp1252", [])


def test_decode_neither_utf8_nor_cp1252(tmp_path):
    with pytest.raises(ExportReadError, match="neither UTF-8 nor cp1252"):
        decode(b"abc\x81\x8d", "auto", tmp_path)


# ----------------------------------------------------------------------------- CSV exports
def test_rows_are_numbered_as_in_the_raw_file(tmp_path):
    raw = read_export(export(tmp_path, csv_bytes(ROWS)), skip_rows=1)
    assert raw.headers == HEAD and raw.header_row == 2
    assert raw.data["raw_row"].tolist() == [3, 4]
    assert raw.data.loc[1, "How well do we trust each other?"] == ""
    assert raw.sha256 == sha256_file(tmp_path / "export.csv")


def test_a_cell_with_a_line_break_is_one_row_as_in_excel(tmp_path):
    rows = ROWS[:2] + [["1", "28/11/2018 10:00", "Completed", "line one\nline two\r\nthree"], ["2", "x", "y", "4"]]
    raw = read_export(export(tmp_path, csv_bytes(rows)), skip_rows=1)
    assert raw.data["raw_row"].tolist() == [3, 4]
    assert raw.data.iloc[0, -1] == "line one\nline two\r\nthree"


def test_blank_rows_are_recorded_not_read_as_responses(tmp_path):
    rows = ROWS[:3] + [[], ["", "", "", ""]] + ROWS[3:] + [[]]
    raw = read_export(export(tmp_path, csv_bytes(rows)), skip_rows=1)
    assert raw.data["raw_row"].tolist() == [3, 6]
    assert raw.blank_rows == [4, 5, 7]
    assert any("3 blank row(s)" in n for n in raw.notes)


def test_extra_empty_trailing_cells_are_harmless(tmp_path):
    rows = ROWS[:2] + [ROWS[2] + ["", ""]]
    raw = read_export(export(tmp_path, csv_bytes(rows)), skip_rows=1)
    assert raw.data.shape == (1, 5) and any("extra empty cells" in n for n in raw.notes)


def test_bom_and_cp1252_exports(tmp_path):
    rows = ROWS[:2] + [["1", "28/11/2018 10:00", "Completed", "café"]]
    raw = read_export(export(tmp_path, csv_bytes(rows, encoding="utf-8-sig")), skip_rows=1)
    assert raw.headers[0] == "Response ID" and raw.notes[0] == "UTF-8 with byte-order mark"
    raw = read_export(export(tmp_path, csv_bytes(rows, encoding="cp1252")), skip_rows=1)
    assert raw.data.iloc[0, -1] == "café" and raw.encoding == "cp1252" and "cp1252" in raw.notes[0]


@pytest.mark.parametrize("sep, name", [(";", "semicolon ';'"), ("\t", "tab"), ("|", "pipe '|'")])
def test_delimiter_auto_is_detected_and_noted(tmp_path, sep, name):
    raw = read_export(export(tmp_path, csv_bytes(ROWS, sep=sep)), skip_rows=1, delimiter="auto", expected=HEAD)
    assert raw.headers == HEAD and raw.delimiter == sep
    assert f"delimiter detected: {name}" in raw.notes


def test_declared_delimiter_that_is_not_the_files_is_a_clear_error(tmp_path):
    path = export(tmp_path, csv_bytes(ROWS, sep=";"))
    with pytest.raises(ExportReadError) as exc:
        read_export(path, skip_rows=1, delimiter=",", expected=HEAD)
    assert "semicolon ';', not the comma ','" in str(exc.value) and 'set delimiter: ";"' in str(exc.value)
    assert exc.value.problems[0]["row"] == 2
    with pytest.raises(ExportReadError, match="semicolon"):  # without the codebook's headers too
        read_export(path, skip_rows=1, delimiter=",")


def test_a_comma_file_with_semicolons_in_cells_is_not_mistaken(tmp_path):
    rows = ROWS[:2] + [["1", "28/11/2018 10:00", "Completed", "North; South; Mid"]]
    raw = read_export(export(tmp_path, csv_bytes(rows)), skip_rows=1, delimiter=",", expected=HEAD)
    assert raw.data.iloc[0, -1] == "North; South; Mid"


@pytest.mark.parametrize("skip, where", [(0, "row 1 is not the header row"), (2, "row 3 is not the header row")])
def test_wrong_skip_rows_names_the_real_header_row(tmp_path, skip, where):
    with pytest.raises(ExportReadError) as exc:
        read_export(export(tmp_path, csv_bytes(ROWS)), skip_rows=skip, expected=HEAD)
    assert where in str(exc.value) and "headers are on row 2" in str(exc.value) and "set skip_rows: 1" in str(exc.value)


def test_skip_rows_beyond_the_file_and_blank_header_row(tmp_path):
    with pytest.raises(ExportReadError, match="has 2 row\\(s\\) but the codebook \\(skip_rows: 5\\)"):
        read_export(export(tmp_path, csv_bytes(ROWS[:2])), skip_rows=5)
    with pytest.raises(ExportReadError, match="row 2 should hold the column headers but is blank"):
        read_export(export(tmp_path, csv_bytes([["Title"], [], *ROWS[1:]])), skip_rows=1)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "the file is empty (0 bytes)"),
        (b"\r\n \r\n", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"abc\x00\x01\x02" * 50, "binary file, not a CSV export"),
        (bytes([7, 8, 11, 12, 14, 15, 16, 17]) * 20, "control characters"),
        (b"PK\x03\x04" + b"\x14" * 50, "zip archive"),
    ],
)
def test_unreadable_files(tmp_path, data, words):
    with pytest.raises(ExportReadError) as exc:
        read_export(export(tmp_path, data), skip_rows=1)
    assert words in str(exc.value)


def test_ragged_rows_are_listed_with_their_row_numbers(tmp_path):
    rows = ROWS[:3] + [["2", "x"], ["3", "y", "Completed", "2", "surplus"]]
    with pytest.raises(ExportReadError) as exc:
        read_export(export(tmp_path, csv_bytes(rows)), skip_rows=1)
    probs = exc.value.problems
    assert [p["row"] for p in probs] == [4, 5]
    assert probs[0]["column"] == "Date submitted" and "has 2 fields but the header row has 4" in probs[0]["problem"]
    assert "has 5 fields" in probs[1]["problem"]
    assert all(p["value"] == "" for p in probs)  # cells of broken rows are never echoed (personal data)


def test_unterminated_quote_names_its_row(tmp_path):
    data = csv_bytes(ROWS) + b'3,01/12/2018 10:00,Completed,"never closed\r\nmore text'
    with pytest.raises(ExportReadError) as exc:
        read_export(export(tmp_path, data), skip_rows=1)
    assert exc.value.problems[0]["row"] == 5 and "unterminated quoted cell" in exc.value.problems[0]["problem"]


def test_duplicate_and_blank_headers_stay_addressable(tmp_path):
    rows = [["A", "B", "A", ""], ["1", "2", "3", ""]]
    raw = read_export(export(tmp_path, csv_bytes(rows)))
    assert raw.headers == ["A", "B", "A", ""]
    assert raw.columns == ["A", "B", "A (column C)", "(column D)"]
    assert raw.data["A (column C)"].tolist() == ["3"]


def test_reading_never_writes_the_raw_file(tmp_path):
    path = export(tmp_path, csv_bytes(ROWS))
    os.chmod(path, stat.S_IREAD)  # read-only, as raw data should be
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_export(path, skip_rows=1)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_missing_file(tmp_path):
    with pytest.raises(ExportReadError, match="file not found"):
        read_export(tmp_path / "none.csv")


# ----------------------------------------------------------------------------- XLSX exports
def xlsx(tmp_path, rows, merge=True, sheets=("Responses",), name="export.xlsx"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheets[0]
    for extra in sheets[1:]:
        wb.create_sheet(extra)
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row, 1):
            if v not in ("", None):
                ws.cell(row=i, column=j, value=v)
    if merge:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[1]))
    path = tmp_path / name
    wb.save(path)
    return path


def test_xlsx_merged_title_numbers_and_dates(tmp_path):
    rows = [
        ["Essex Insight export"],
        HEAD,
        [101, dt.datetime(2018, 11, 28, 10, 0), "Completed", 3],
        [102, "29/11/2018 11:00", "Partial", None],
        [103, dt.datetime(2018, 11, 30, 9, 5), "Completed", 2.5],
    ]
    raw = read_export(xlsx(tmp_path, rows), skip_rows=1, expected=HEAD)
    assert raw.headers == HEAD and raw.encoding == "xlsx"
    assert raw.data["raw_row"].tolist() == [3, 4, 5]
    assert raw.data["Response ID"].tolist() == ["101", "102", "103"]
    assert raw.data["Date submitted"].tolist() == ["2018-11-28 10:00:00", "29/11/2018 11:00", "2018-11-30 09:05:00"]
    assert raw.data["How well do we trust each other?"].tolist() == ["3", "", "2.5"]
    assert any("merged cells (A1:D1)" in n for n in raw.notes)


def test_xlsx_sheet_choice(tmp_path):
    path = xlsx(tmp_path, [["T"], HEAD, ["1", "x", "y", "3"]], sheets=("Responses", "Summary"))
    raw = read_export(path, skip_rows=1)
    assert any("2 sheets" in n and "'Responses'" in n for n in raw.notes)
    assert read_export(path, skip_rows=1, sheet="Responses").data.shape == (1, 5)
    assert read_export(path, skip_rows=1, sheet=0).data.shape == (1, 5)
    with pytest.raises(ExportReadError, match="has no sheet 'Data'"):
        read_export(path, skip_rows=1, sheet="Data")
    with pytest.raises(ExportReadError, match="has no sheet number 5"):
        read_export(path, skip_rows=1, sheet=5)


def test_xlsx_wrong_skip_rows_and_damaged_workbooks(tmp_path):
    path = xlsx(tmp_path, [["Essex Insight export"], HEAD, ["1", "x", "y", "3"]])
    with pytest.raises(ExportReadError, match="headers are on row 2.*set skip_rows: 1"):
        read_export(path, skip_rows=0, expected=HEAD)
    bad = export(tmp_path, path.read_bytes()[:200], name="cut.xlsx")
    with pytest.raises(ExportReadError, match="cannot be read as an XLSX workbook"):
        read_export(bad)
    with pytest.raises(ExportReadError, match="not an XLSX workbook"):
        read_export(export(tmp_path, b"a,b\r\n1,2\r\n", name="fake.xlsx"))
    with pytest.raises(ExportReadError, match="save as .xlsx or CSV"):
        read_export(export(tmp_path, b"\xd0\xcf\x11\xe0", name="old.xls"))


# ----------------------------------------------------------------------------- manifests
def test_manifest_round_trip_in_sha256sum_format(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"b")
    (tmp_path / "a.csv").write_bytes(b"a")
    (tmp_path / "notes.md").write_text("not data")
    path = write_manifest(tmp_path)
    text = path.read_text()
    assert text == f"{hashlib.sha256(b'a').hexdigest()}  a.csv\n{hashlib.sha256(b'b').hexdigest()}  b.csv\n"
    assert read_manifest(tmp_path) == {
        "a.csv": hashlib.sha256(b"a").hexdigest(),
        "b.csv": hashlib.sha256(b"b").hexdigest(),
    }
    assert verify_manifest(tmp_path, ["a.csv", "b.csv"]) == []


def test_manifest_problems_name_the_re_record_command(tmp_path, monkeypatch):
    monkeypatch.setenv("RMLIB_ROOT", str(tmp_path))
    folder = tmp_path / "data" / "raw" / "2018"
    folder.mkdir(parents=True)
    assert manifest_command(folder) == "python -m rmlib manifest data/raw/2018"
    (folder / "a.csv").write_bytes(b"a")
    [missing] = verify_manifest(folder, ["a.csv"])
    assert "MANIFEST.sha256 is missing" in missing and "python -m rmlib manifest data/raw/2018" in missing
    write_manifest(folder)
    (folder / "a.csv").write_bytes(b"changed")
    (folder / "new.csv").write_bytes(b"new")
    problems = verify_manifest(folder, ["a.csv", "new.csv"])
    assert "a.csv has changed since MANIFEST.sha256 was recorded" in problems[0]
    assert "new.csv is not listed in MANIFEST.sha256" in problems[1]
    assert all("python -m rmlib manifest data/raw/2018" in p for p in problems)
    (folder / "a.csv").unlink()
    assert "listed in MANIFEST.sha256 but missing from the folder" in verify_manifest(folder, ["a.csv"])[0]
    (folder / MANIFEST).write_text("garbage\n")
    assert "line 1 is not '<sha256>  <file name>'" in verify_manifest(folder, [])[0]


# ----------------------------------------------------------------------------- atomic writes
def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "out" / "table.csv"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half written")
            raise RuntimeError("crash")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]  # no temp file left
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644


def test_staged_dir_swaps_the_whole_folder_or_nothing(tmp_path):
    target = tmp_path / "processed" / "2018"
    with staged_dir(target) as stage:
        (stage / "a.parquet").write_bytes(b"1")
    assert sorted(p.name for p in target.iterdir()) == ["a.parquet"]
    with pytest.raises(ValueError):
        with staged_dir(target) as stage:
            (stage / "b.parquet").write_bytes(b"2")
            raise ValueError("stage failed")
    assert sorted(p.name for p in target.iterdir()) == ["a.parquet"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["2018"]  # no staging or old folder left
    with staged_dir(target) as stage:
        (stage / "c.parquet").write_bytes(b"3")
    assert sorted(p.name for p in target.iterdir()) == ["c.parquet"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["2018"]


def test_write_csv_and_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "é"], "c": [0.5, float("nan")]})
    write_csv(frame, tmp_path / "t.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), frame, check_dtype=False)
    write_parquet(frame, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame, check_dtype=False)
