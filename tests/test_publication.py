"""The publication boundary: planted personal data, formula injection, the gate and the end-of-run scan.

Every planted item is a comment the way a respondent could type it; none
may reach any file of the published folder (quotes, workbook, report). The
cases include the ones the issue found published: a no-break space or tab
inside a phone number, a double space inside a postcode, en-dash and slash
phone numbers, mobiles without the leading 0, accented and spelled-out
e-mails, NI numbers without the suffix letter, names in capitals and "my name
is john smith".
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

from rmlib import comments as cm
from rmlib import disclosure, publish, report
from rmlib.params import load_params

# (comment as typed, the personal item that must not be published)
PLANTED = [
    # phones
    ("Ring me on 07700\u00a0900123 any time", "07700 900123"),
    ("Office 01245\t123456 mornings", "01245 123456"),
    ("Call 07700\u2013900123 please", "900123"),
    ("Call 07700/900123 please", "900123"),
    ("Mobile 7700 900123 after five", "7700 900123"),
    ("Mobile +44 7700 900123", "7700 900123"),
    ("Mobile +44 (0)7700 900123", "7700 900123"),
    ("Phone 0044 7700 900123", "7700 900123"),
    ("Phone (01245) 123456 ext 2", "123456"),
    ("Phone 01245-123-456", "123-456"),
    ("London office 020 7946 0018", "7946 0018"),
    ("Freephone 0800 123 4567", "123 4567"),
    ("Dotted 07700.900.123", "900.123"),
    ("Hidden 077\u200b00 900 123 char", "900 123"),
    ("Wide \uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13 digits", "900123"),
    ("Spaced 07700 900 123 today", "900 123"),
    ("Compact +447700900123 today", "7700900123"),
    ("Landline 01245 123456", "01245 123456"),
    ("Manchester 0161 496 0123", "496 0123"),
    ("Em dash 07700\u2014900123", "900123"),
    # postcodes
    ("We are at CM1  1QH near the station", "CM1 1QH"),
    ("We are at CM1\t1QH near the station", "CM1 1QH"),
    ("postcode cm11qh", "cm11qh"),
    ("Home at CM1 1QH", "CM1 1QH"),
    ("Southend SS0\u00a08AB office", "SS0 8AB"),
    ("Colchester CO4 3SQ office", "CO4 3SQ"),
    ("London E1W 1AA office", "E1W 1AA"),
    ("lower cm1 1qh here", "cm1 1qh"),
    # e-mails
    ("Email john.smith@essex.gov.uk", "john.smith"),
    ("Email jos\u00e9.garc\u00eda@essex.gov.uk", "garc\u00eda"),
    ("write to john dot smith at essex dot gov dot uk", "smith at essex"),
    ("write to john.smith(at)essex.gov.uk", "john.smith"),
    ("write to john.smith [at] essex [dot] gov [dot] uk", "john.smith"),
    ("EMAIL JOHN.SMITH@ESSEX.GOV.UK NOW", "JOHN.SMITH"),
    ("plus j_smith+survey@care-home.co.uk", "j_smith"),
    ("accent zo\u00eb@example.com", "zo\u00eb@"),
    ("zero-width john.smith@es\u200bsex.gov.uk", "john.smith"),
    ("full-width at john\uff20essex.gov.uk", "john@"),
    # National Insurance numbers
    ("NI AB 12 34 56 C on file", "12 34 56"),
    ("NI AB123456C on file", "AB123456"),
    ("NI AB 12 34 56 on file", "12 34 56"),
    ("NI AB123456 on file", "AB123456"),
    ("ni ab 12 34 56 c lower", "12 34 56"),
    ("NI AB-12-34-56-C dashed", "12-34-56"),
    # web addresses
    ("See https://example.org/jsmith for my CV", "jsmith"),
    ("Form at www.careco.co.uk/forms/jsmith", "jsmith"),
    ("Broken link https:// here", "https://"),
    ("Server http://10.0.0.1/jsmith", "jsmith"),
    # names
    ("JOHN SMITH was very rude", "SMITH"),
    ("hello, my name is john smith and I run a home", "john smith"),
    ("Sarah Jones was helpful.", "Sarah"),
    ("I spoke to Mrs Patel about it", "Patel"),
    ("Dr J. Smith signed it off", "Smith"),
    ("Thanks to KEVIN for the help", "KEVIN"),
    ("Clive Weir was great", "Weir"),
    ("Zo\u00eb from the hub was great", "Zo\u00eb"),
    ("we spoke with Sarah Jones last week", "Jones"),
    ("my name's Priya Sharma, manager", "Sharma"),
    ("Kind regards, Margaret", "Margaret"),
    ("Ask for David on reception", "David"),
    ("contact Mohammed in Finance", "Mohammed"),
    ("sarah\u00a0jones rang us", "jones"),
    ("Siobhan O'Brien chased the invoice", "Siobhan"),
    ("\uff2a\uff2f\uff28\uff2e \uff33\uff2d\uff29\uff34\uff28 again", "JOHN"),
    ("Mr\u00a0Smith never replied", "Smith"),
]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).casefold()


def test_at_least_sixty_variants():
    assert len(PLANTED) >= 60
    assert len({t for t, _ in PLANTED}) == len(PLANTED)


@pytest.mark.parametrize("text, item", PLANTED, ids=[f"{i:02d}" for i in range(len(PLANTED))])
def test_each_planted_item_is_redacted(text, item):
    lists = cm.load_redaction_lists("params/redaction.yaml")
    out = cm.redact(text, *lists)
    assert _norm(item) not in _norm(out), out
    assert out == cm.normalise_text(out)  # nothing to normalise after redaction
    if re.search(r"\d{3}", item):
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", item))
        assert digits not in re.sub(r"\D", "", out)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """The planted comments through redaction, theme coding, quotes (all of them) and the gate."""
    P = load_params("params/2018.yaml")
    raw = pd.DataFrame(
        {
            "respondent_id": [f"P{i:03d}" for i in range(len(PLANTED))],
            "group": "provider",
            "field": "general",
            "text": [t for t, _ in PLANTED],
        }
    )
    lists = cm.load_redaction_lists(P.path("redaction"))
    themes = cm.load_theme_dictionary(P.path("themes"))
    red = cm.redact_comments(raw, *lists)
    coded = cm.code_themes(red, themes)
    quotes = cm.example_quotes(coded, red, per_theme=1000, min_words=1, include_other=True)
    out = tmp_path_factory.mktemp("published")
    report.publish_table("comments_quotes", quotes.drop(columns="respondent_id"), P, out)
    analysis = report.analyse_comments(raw, P)
    for name in ("summary", "counts", "quotes"):
        report.publish_table(f"comments_{name}", analysis[name], P, out / "x")
    publish.write_xlsx(
        {"quotes": disclosure.clear(quotes.drop(columns="respondent_id"), "quotes", 5)}, out / "tables" / "tables.xlsx"
    )
    return out, quotes


def test_every_planted_comment_is_quoted(planted_run):
    _, quotes = planted_run
    assert quotes["respondent_id"].nunique() == len(PLANTED)


def test_no_planted_item_reaches_a_published_file(planted_run):
    out, _ = planted_run
    publish.scan_published(out, 5)  # the end-of-run scan passes
    from openpyxl import load_workbook

    texts = [p.read_text(encoding="utf-8") for p in out.rglob("*.csv")]
    texts += [
        " ".join(str(c.value) for row in ws.iter_rows() for c in row)
        for ws in load_workbook(out / "tables" / "tables.xlsx").worksheets
    ]
    blob = _norm("\n".join(texts))
    leaked = [item for _, item in PLANTED if _norm(item) in blob]
    assert leaked == []


# ----------------------------------------------------------------------------- injection (OWASP)
INJECTIONS = [
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://x.example","click")',
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_neutralise_makes_every_active_cell_text(value):
    out = publish.neutralise(value)
    assert out.startswith("'") and out[1:] == value


@pytest.mark.parametrize("value", ["-0.12", "+3", "-5%", "2.45", "plain text", "fewer than 5"])
def test_numbers_and_plain_text_are_left_alone(value):
    assert publish.neutralise(value) == value


def test_a_formula_label_is_text_in_csv_and_workbook(tmp_path):
    from openpyxl import load_workbook

    cells = pd.DataFrame(
        {
            "table": "officer_by_role",
            "group": "officer",
            "attribute": ["all", "role", "role"],
            "category": ["All", "=cmd|' /C calc'!A0", "@evil"],
            "question": "trust",
            "mean": [2.5, 2.4, 2.6],
            "n": [40, 20, 20],
            "ratings": [40, 20, 20],
        }
    )
    prot = disclosure.apply_disclosure(cells, min_cell_n=5)
    c = disclosure.publishable_cells(prot, 5)
    publish.write_csv(c, tmp_path / "t.csv")
    publish.write_xlsx({"t": c}, tmp_path / "t.xlsx")
    text = (tmp_path / "t.csv").read_text()
    assert "\n'=cmd" not in text and ",'=cmd|" in text and ",'@evil" in text
    ws = load_workbook(tmp_path / "t.xlsx").active
    kinds = {c.value: c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert kinds["'=cmd|' /C calc'!A0"] == "s" and "f" not in kinds.values()
    publish.scan_published(tmp_path, 5)


def test_comments_starting_with_formula_characters_are_neutralised(tmp_path):
    P = load_params("params/2018.yaml")
    quotes = pd.DataFrame(
        {
            "group": "provider",
            "theme": "other",
            "rank": 1,
            "field": "general",
            "quote": ["=1+1 is what they charge", "+ more staff", "- slow replies", "@team great"],
            "redactions": 0,
        }
    )
    report.publish_table("comments_quotes", quotes, P, tmp_path)
    back = pd.read_csv(tmp_path / "tables" / "comments_quotes.csv")
    assert all(q.startswith("'") for q in back["quote"])
    publish.scan_published(tmp_path, 5)


# ----------------------------------------------------------------------------- the gate and the scan
def test_the_gate_refuses_a_frame_that_did_not_pass_disclosure_control(tmp_path):
    frame = pd.DataFrame(
        {
            "table": "t",
            "group": "officer",
            "attribute": "role",
            "category": "A",
            "question": "trust",
            "mean": [2.0],
            "n": [3],
        }
    )
    with pytest.raises(publish.PublishError, match="disclosure control"):
        publish.write_csv(frame, tmp_path / "t.csv")
    with pytest.raises(ValueError, match="cell table"):
        disclosure.clear(frame, "t", 5)
    with pytest.raises(TypeError):
        disclosure.Cleared(frame, "cells", 5)
    P = load_params("params/2018.yaml")
    with pytest.raises(publish.PublishError, match="no disclosure rule"):
        report.publish_table("my_new_table", frame.drop(columns="mean"), P, tmp_path)


def test_publishable_cells_refuses_a_small_unsuppressed_cell():
    two_small = disclosure.apply_disclosure(
        pd.DataFrame(
            {
                "group": "officer",
                "attribute": ["all", "role", "role", "role", "role"],
                "category": ["All", "A", "B", "C", "D"],
                "question": "trust",
                "mean": [2.5, 2.0, 2.4, 2.7, 2.6],
                "n": [30, 3, 4, 7, 16],
            }
        ),
        min_cell_n=5,
    )
    with pytest.raises(ValueError, match="fewer than 10"):
        disclosure.publishable_cells(two_small, 10)  # protected at 5 (C = 7 shown), published at 10: refused
    prot = disclosure.apply_disclosure(
        pd.DataFrame(
            {
                "group": "officer",
                "attribute": ["all", "role", "role", "role"],
                "category": ["All", "A", "B", "C"],
                "question": "trust",
                "mean": [2.5, 2.0, 2.4, 2.7],
                "n": [30, 3, 12, 15],
            }
        ),
        min_cell_n=5,
    )
    shown = disclosure.publishable_cells(prot, 5).frame
    assert shown["n"].tolist() == ["30", "fewer than 5", "hidden", "15"]
    assert shown["status"].tolist() == ["", "fewer than 5", "hidden", ""]


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("tables/x.csv", "group,quote\nprovider,call 07700 900123\n", ["personal data", "phone"]),
        ("tables/x.csv", "group,n\nofficer,4\n", ["fewer than 5", "'n'"]),
        ("tables/x.csv", "group,label\nofficer,=1+1\n", ["active cell"]),
        ("report.html", "<p>see <a href='notebooks/html/03_cross_analysis.html'>x</a></p>", ["audit area"]),
        ("report.html", "<p>South (n = 4) scored 1.00</p>", ["fewer than 5", "n = 4"]),
        ("report.html", "<script>alert(1)</script>", ["<script>"]),
        ("report.html", "<img src='https://x.example/a.png'>", ["remote"]),
        ("provenance.json", '{"output_dir": "/home/someone/outputs/2018"}', ["machine path"]),
        ("data/cells.parquet", "x", ["not a publishable file type"]),
        ("headlines.json", '{"caveat": "Only 1 respondent in \'Head of Service\'"}', ["fewer than 5"]),
    ],
)
def test_the_scan_fails_the_run_on_what_may_not_be_published(tmp_path, name, content, words):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(publish.PublishError) as err:
        publish.scan_published(tmp_path, 5)
    for w in words:
        assert w in str(err.value)


def test_the_scan_finds_a_suppressed_value(tmp_path):
    cells = pd.DataFrame(
        {
            "group": "officer",
            "attribute": ["all", "role", "role", "role"],
            "category": ["All", "A", "B", "C"],
            "question": "trust",
            "mean": [2.5, 2.0, 2.4, 2.7],
            "n": [30, 3, 12, 15],
        }
    )
    prot = disclosure.apply_disclosure(cells, min_cell_n=5)
    (tmp_path / "t.csv").write_text("group,attribute,category,question,mean,n\nofficer,role,B,trust,2.4,hidden\n")
    with pytest.raises(publish.PublishError, match="suppressed cell"):
        publish.scan_published(tmp_path, 5, suppressed_cells=prot)


def test_validation_listing_masks_personal_data(repo_copy):
    """A name and phone typed into an option column, and an e-mail in a column with no header:
    the listing (validation_errors.csv) names file, row and column but not the personal data."""
    import csv
    import io

    from rmlib.clean import read_and_validate
    from rmlib.io import write_manifest

    path = repo_copy / "data" / "raw" / "2018" / "officer_survey_2018.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    role = rows[1].index("What is your role?")
    rows[5][role] = "John Smith 07700 900123"
    rows[1].append("")
    for i, r in enumerate(rows[2:], start=2):
        r.append("jane.doe@essex.gov.uk" if i == 6 else "")
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    write_manifest(path.parent)
    _, problems = read_and_validate(load_params("params/2018.yaml"))
    text = problems.to_csv(index=False)
    assert len(problems) >= 2
    for item in ("John", "Smith", "900123", "jane.doe", "essex.gov.uk"):
        assert item not in text, text
    assert "[phone]" in text and "[email]" in text and "What is your role?" in text


@pytest.mark.parametrize("k", [5, 10])
def test_caveats_and_headlines_carry_no_small_count(k):
    cav = pd.DataFrame(
        {
            "table": "officer_by_role",
            "kind": ["single_respondent", "multi_select", "not_asked", "single_respondent_last_year"],
            "text": [
                "Only 1 respondent in 'Head of Service' in 2018: the scores are one person's",
                "Scores are from officers who chose only one quadrant: the 3 of 85 who chose "
                "more than one are not reflected.",
                "'X' was not asked before 2018.",
                "'Y' had only 1 respondent in 2017",
            ],
        }
    )
    out = disclosure.publishable_caveats(cav, k).frame
    assert out["kind"].tolist() == ["multi_select", "not_asked"]
    assert f"fewer than {k} of the 85" in out["text"].iloc[0] and " 3 of " not in out["text"].iloc[0]
    doc = {
        "groups": {
            "officer": {
                "questions": {"trust": {"mean": None, "n": 3, "suppressed": "x"}, "share": {"mean": 2.5, "n": 40}}
            }
        }
    }
    pub = disclosure.publishable_headlines(doc, k)["groups"]["officer"]["questions"]
    assert pub["trust"]["n"] == f"fewer than {k}" and pub["share"]["n"] == 40
    assert doc["groups"]["officer"]["questions"]["trust"]["n"] == 3  # input untouched


def test_merges_relabel_before_tables_and_are_validated():
    from rmlib.params import ParamsError, validate

    m = pd.DataFrame(
        {
            "respondent_id": ["O1", "O2", "O3", "O3", "O4"],
            "attribute": ["role"] * 4 + ["quadrant"],
            "category": ["Head of Service", "Manager", "Manager", "Head of Service", "Manager"],
        }
    )
    out = disclosure.merge_categories(m, {"role": {"Head of Service or Manager": ["Head of Service", "Manager"]}})
    assert out[out.attribute == "role"]["category"].tolist() == ["Head of Service or Manager"] * 3  # O3 once
    assert out[out.attribute == "quadrant"]["category"].tolist() == ["Manager"]  # other attributes untouched
    base = {"year": 2018, "compare_year": 2017, "codebook": "c", "raw_dir": "r"}
    for bad in ({"role": ["a", "b"]}, {"role": {"X": ["a"]}}, {"role": {"X": ["a", "b"], "Y": ["b", "c"]}}, "role"):
        with pytest.raises(ParamsError, match="merges"):
            validate({**base, "merges": bad})
    assert validate({**base, "merges": None}).merges is None
    notes = disclosure.merge_note({"role": {"Head of Service or Manager": ["Head of Service", "Manager"]}})
    assert notes == [
        "Role: 'Head of Service' and 'Manager' are reported together as 'Head of Service or Manager' "
        "so that no group is too small to show."
    ]
