"""Validation messages that lead somewhere (issue: a new user's first validate).

Each unknown header once, suggestions only when close, optional columns said to be optional, an unknown answer
label names the codebook entry to add, and a key column ignored or missing warns that duplicates go unnoticed.
Fixtures: the 2018 respondents written by rmlib.synth into tmp_path, broken one way per test.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys

import pytest
import yaml

from rmlib import synth
from rmlib.clean import read_and_validate
from rmlib.io import write_manifest
from rmlib.params import load_params

TRUST = "How well do we trust each other?"
OFF, PROV = "officer_survey_2018.csv", "provider_survey_2018.csv"


@pytest.fixture
def year(tmp_path):
    cb_path, _ = synth.write_layout_year(2018, "default", tmp_path)
    return tmp_path, cb_path


def rows_of(folder, name):
    return list(csv.reader(io.StringIO((folder / "2018" / name).read_bytes().decode("utf-8-sig"), newline="")))


def write_rows(folder, name, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (folder / "2018" / name).write_bytes(buf.getvalue().encode("utf-8-sig"))
    write_manifest(folder / "2018")


def rename(folder, name, old, new, contains=False):
    rows = rows_of(folder, name)
    rows[1] = [h.replace(old, new) if (contains and old in h) or h == old else h for h in rows[1]]
    write_rows(folder, name, rows)


def edit_cb(cb_path, change):
    raw = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
    change(raw)
    cb_path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")


def validate(folder, cb_path):
    params = dataclasses.replace(load_params("params/2018.yaml"), codebook=str(cb_path), raw_dir=str(folder / "2018"))
    return read_and_validate(params)


def test_a_reworded_question_is_one_problem_not_twenty(year):
    folder, cb = year
    rename(folder, PROV, TRUST, "How well do we trust one another?", contains=True)
    rename(folder, OFF, TRUST, "How well do we trust one another?")
    _, problems = validate(folder, cb)
    assert len(problems) == 2, problems.to_string()  # was 2 x 10 + 2 x 1 = 22 (each header missing + unknown)
    prov = problems[problems["file"].str.endswith(PROV)].iloc[0]
    assert prov["value"] == "How well do we trust one another?"
    assert "question 'trust' is worded differently in the export (10 rating columns" in prov["problem"]
    assert "set questions.trust to the export's wording" in prov["problem"]


def test_a_renamed_department_is_one_problem_naming_the_entry_to_add(year):
    folder, cb = year
    rename(folder, PROV, "- Finance Officers", "- Finance Team", contains=True)
    _, problems = validate(folder, cb)
    assert len(problems) == 1, problems.to_string()  # was 8 unknown + 8 missing
    p = problems.iloc[0]
    assert p["value"] == "Finance Team" and "8 rating columns" in p["problem"]
    assert "add 'Finance Team': finance under departments:" in p["problem"]


def test_unrelated_unknown_column_gets_no_suggestion(year):
    folder, cb = year
    rows = rows_of(folder, OFF)
    rows = rows[:1] + [r + (["Preferred contact time"] if k == 0 else ["mornings"]) for k, r in enumerate(rows[1:])]
    write_rows(folder, OFF, rows)
    _, problems = validate(folder, cb)
    assert len(problems) == 1
    text = problems.iloc[0]["problem"]
    assert text.startswith("unknown column (not in codebook_default.yaml") and "did you mean" not in text


def test_missing_status_is_said_to_be_optional(year):
    folder, cb = year
    rows = rows_of(folder, OFF)
    j = rows[1].index("Status")
    write_rows(folder, OFF, [r[:j] + r[j + 1 :] if len(r) > j else r for r in rows])
    _, problems = validate(folder, cb)
    assert len(problems) == 1
    text = problems.iloc[0]["problem"]
    assert "It is optional (kind: status)" in text and "delete its entry from columns.officer" in text
    assert "test/preview responses cannot be excluded" in text


def test_missing_key_column_says_duplicates_cannot_be_found(year):
    folder, cb = year
    rows = rows_of(folder, OFF)
    j = rows[1].index("Email address")
    write_rows(folder, OFF, [r[:j] + r[j + 1 :] if len(r) > j else r for r in rows])
    _, problems = validate(folder, cb)
    assert "duplicate submissions can no longer be found" in problems.iloc[0]["problem"]


def test_missing_rating_column_is_not_optional(year):
    folder, cb = year
    rows = rows_of(folder, OFF)
    j = rows[1].index(TRUST)
    write_rows(folder, OFF, [r[:j] + r[j + 1 :] if len(r) > j else r for r in rows])
    _, problems = validate(folder, cb)
    assert len(problems) == 1 and "a rating column the analysis needs" in problems.iloc[0]["problem"]


@pytest.mark.parametrize(
    "value, entry",
    [
        ("4 - Goood", "add '4 - Goood': 4 under score_labels: in codebook_default.yaml"),
        ("Excellent", "add 'Excellent': <1-4 or no_contact> under score_labels: in codebook_default.yaml"),
    ],
)
def test_unknown_answer_label_names_the_codebook_entry_to_add(year, value, entry):
    folder, cb = year
    rows = rows_of(folder, OFF)
    rows[4][rows[1].index(TRUST)] = value
    write_rows(folder, OFF, rows)
    _, problems = validate(folder, cb)
    assert len(problems) == 1 and problems.iloc[0]["row"] == 5 and entry in problems.iloc[0]["problem"]


def test_unknown_option_and_status_name_the_entry_to_add(year):
    folder, cb = year
    rows = rows_of(folder, OFF)
    rows[4][rows[1].index("Which quadrant(s) do you work in?")] = "North; Nrth East"
    rows[5][rows[1].index("Status")] = "Complete"
    write_rows(folder, OFF, rows)
    _, problems = validate(folder, cb)
    texts = dict(zip(problems["row"], problems["problem"]))
    assert (
        "add 'Nrth East': '<category>' under categories: of 'Which quadrant(s) do you work in?' (columns.officer)"
    ) in texts[5]
    assert "add 'Complete': complete under status_labels:" in texts[6]


def test_email_marked_ignore_warns_that_duplicates_go_unnoticed(year):
    folder, cb = year

    def ignore_email(raw):
        for c in raw["columns"]["officer"]:
            if c["header"] == "Email address":
                c["kind"] = "ignore"

    edit_cb(cb, ignore_email)
    validated, problems = validate(folder, cb)
    assert problems.empty
    notes = [n for v in validated for n in v.notes if ": warning: " in n]
    assert len(notes) == 1 and "'Email address' is kind: ignore and no column is kind: key" in notes[0]
    assert "duplicate submissions can no longer be found" in notes[0] and OFF in notes[0]


@pytest.mark.slow
def test_cli_validate_prints_the_warning(year, tmp_path):
    folder, cb = year

    def ignore_email(raw):
        for c in raw["columns"]["provider"]:
            if c["header"] == "Email address":
                c["kind"] = "ignore"

    edit_cb(cb, ignore_email)
    params = yaml.safe_load(open("params/2018.yaml", encoding="utf-8"))
    params.update(codebook=str(cb), raw_dir=str(folder / "2018"))
    pfile = tmp_path / "p.yaml"
    pfile.write_text(yaml.safe_dump(params), encoding="utf-8")
    # the exports live outside the repository: named with --allow-root, as a user would
    proc = subprocess.run(
        [sys.executable, "-m", "rmlib", "validate", str(pfile), "--allow-root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "no problems found" in proc.stdout, proc.stdout + proc.stderr
    assert "warning:" in proc.stderr and "duplicate submissions can no longer be found" in proc.stderr


@pytest.mark.slow
def test_a_label_missing_from_the_codebook_is_one_problem_wherever_it_appears(year):
    folder, cb = year
    rows = rows_of(folder, PROV)
    cols = [j for j, h in enumerate(rows[1]) if " - " in h and h.startswith("How")]
    n = 0
    for r in rows[2:]:
        for j in cols:
            if r[j] == "4 - Good":
                r[j] = "Good (4)"
                n += 1
    write_rows(folder, PROV, rows)
    _, problems = validate(folder, cb)
    assert n > 100 and len(problems) == 1, problems.head().to_string()
    text = problems.iloc[0]["problem"]
    assert "add 'Good (4)': 4 under score_labels:" in text and f"[the same value in {n} cells: rows " in text


def test_rating_headers_built_another_way_are_one_problem_naming_the_template(year):
    folder, cb = year
    edit_cb(cb, lambda raw: raw["rating_header"].__setitem__("provider", "{department}: {question}"))
    _, problems = validate(folder, cb)
    assert len(problems) == 1, problems.to_string()  # was 80 missing + 80 unknown
    p = problems.iloc[0]
    assert p["value"] == "{question} - {department}"
    assert "set rating_header.provider: '{question} - {department}'" in p["problem"] and "80 columns" in p["problem"]


@pytest.mark.parametrize(
    "tool, words",
    [
        ("surveymonkey", "row 2 holds sub-labels ('Response', 'Open-Ended Response', ...), not answers"),
        (
            "qualtrics",
            "rows 1-3 are header rows (short names, question texts, ImportId): this is a Qualtrics export; "
            "set layout: qualtrics and skip_rows: 0",
        ),
    ],
)
def test_another_tools_export_without_its_layout_is_one_problem_naming_it(tool, words, tmp_path):
    cb_path, _ = synth.write_layout_year(2018, tool, tmp_path)
    edit_cb(cb_path, lambda raw: raw.pop("layout"))
    _, problems = validate(tmp_path, cb_path)
    assert len(problems) == 2, problems.to_string()  # one per file, instead of one per sub-label cell
    assert all(words in t for t in problems["problem"])
