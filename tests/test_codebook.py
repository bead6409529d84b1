"""rmlib.codebook: one year's wording -> variables and codes; malformed codebooks fail with every problem named."""

from __future__ import annotations

import pytest
import yaml

from rmlib.codebook import NO_CONTACT, CodebookError, load_codebook, normalise, suggest
from rmlib.constants import DEPARTMENTS, QUESTIONS


@pytest.fixture(scope="module")
def cb18(root):
    return load_codebook(root / "params" / "codebooks" / "2018.yaml")


def write_cb(tmp_path, change, root_path):
    """A copy of the 2018 codebook with ``change(dict)`` applied; returns its path."""
    raw = yaml.safe_load((root_path / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- matching
@pytest.mark.parametrize(
    "a, b",
    [
        ("How well do we trust each other?", "  how  WELL do we trust\teach other? "),
        ("How responsive are we to each other's needs?", "How responsive are we to each other\u2019s needs?"),
        ("4 - Good", "4 \u2013 good"),
        ("4 - Good", "4\u00a0-\u00a0Good"),
        ("Response ID", "\ufeffResponse ID"),
        ('"Quoted"', "\u201cquoted\u201d"),
    ],
)
def test_normalise_folds_case_space_quotes_and_dashes(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize("a, b", [("4 - Good", "4 - Goood"), ("North", "Nort"), ("4 - Good", "4-Good")])
def test_normalise_never_folds_spelling(a, b):
    assert normalise(a) != normalise(b)


def test_normalise_of_blank_and_none():
    assert normalise(None) == "" and normalise("   ") == "" and normalise(3) == "3"


def test_suggest_names_the_closest_entry():
    labels = ["1 - Poor", "1", "2", "3", "4 - Good", "4", "No contact", "0"]
    assert suggest("4 - Goood", labels) == "did you mean '4 - Good'?"
    assert suggest("no contcat", labels) == "did you mean 'No contact'?"
    assert suggest("completely unrelated text", labels) == ""
    assert suggest("", labels) == ""
    assert "'Which team do you work in?'" in suggest(
        "Which team do you wrok in?", ["Which team do you work in?", "Status"]
    )


# ----------------------------------------------------------------------------- the bundled codebooks
@pytest.mark.parametrize("year", [2016, 2017, 2018])
def test_bundled_codebooks_load_and_map_every_department_once(root, year):
    cb = load_codebook(root / "params" / "codebooks" / f"{year}.yaml")
    assert cb.year == year
    assert sorted(cb.departments.values()) == sorted(DEPARTMENTS)
    assert len(cb.rating_columns("provider")) == 80 and len(cb.rating_columns("officer")) == 8
    assert [r.question for r in cb.rating_columns("officer")] == list(QUESTIONS)
    assert {cb.files[g].file for g in ("provider", "officer")} == {
        f"provider_survey_{year}.csv",
        f"officer_survey_{year}.csv",
    }
    assert cb.column("officer", "id").header == "Response ID"


def test_department_labels_differ_by_year_but_ids_do_not(root):
    labels = {
        y: load_codebook(root / "params" / "codebooks" / f"{y}.yaml").department_label("safeguarding")
        for y in (2017, 2018)
    }
    assert labels == {2017: "Safeguarding", 2018: "Adults Safeguarding Team"}


def test_score_labels_several_labels_one_code_blank_is_missing(cb18):
    assert cb18.score_of("1 - Poor") == cb18.score_of("1") == 1
    assert cb18.score_of("  4 - GOOD ") == 4
    assert cb18.score_of("No contact") == cb18.score_of("0") == NO_CONTACT
    assert cb18.score_of("") is None and cb18.score_of("   ") is None
    with pytest.raises(KeyError):
        cb18.score_of("7")
    assert cb18.preferred_score_label(1) == "1 - Poor" and cb18.preferred_status_label("test") == "Test"
    assert cb18.score_label_list[0] == "1 - Poor"


def test_rating_headers_and_their_parsing(cb18):
    first = cb18.rating_columns("provider")[0]
    assert first.header == "How well do care providers and ECC share information? - Adult Operations - Senior Managers"
    assert (first.question, first.department) == ("share", "ao_senior")
    assert cb18.parse_rating_header("provider", "HOW WELL do we trust each other? -  Social Care Team") == (
        "trust",
        "Social Care Team",
    )
    assert cb18.parse_rating_header("provider", "Which team do you work in?") is None
    assert cb18.parse_rating_header("officer", "How well do we trust each other? - X") is None


def test_attribute_lookup_is_tolerant_of_case_and_space(cb18):
    size = next(c for c in cb18.attribute_columns("provider") if c.attribute == "size")
    assert size.category_of(" fewer THAN 50 ") == "Small" and size.category_of("Tiny") is None


# ----------------------------------------------------------------------------- malformed codebooks
def _set(path, value):
    def change(raw):
        node = raw
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda r: r.pop("departments"), ["missing top-level key 'departments'"]),
        (_set(["year"], "last year"), ["'year' must be a four-digit year", "'last year'"]),
        (_set(["score_labels", "Excellent"], 5), ["'Excellent' maps to 5", "expected 1, 2, 3, 4 or no_contact"]),
        (_set(["score_labels", "4 - GOOD"], 3), ["'4 - GOOD' is listed twice", "different codes"]),
        (_set(["status_labels", "Done"], "finished"), ["'Done' maps to 'finished'", "complete"]),
        (_set(["departments", "Social Care"], "social_care"), ["unknown department id(s) ['social_care']"]),
        (
            _set(["departments", "Community Agents (new)"], "community_agents"),
            ["'Community Agents' and 'Community Agents (new)' both map to 'community_agents'"],
        ),
        (lambda r: r["questions"].pop("trust"), ["questions: missing ['trust']"]),
        (_set(["rating_header", "provider"], "{question}"), ["the template needs {department}"]),
        (_set(["files", "officer", "skip_rows"], -1), ["files.officer.skip_rows must be a whole number >= 0"]),
        (_set(["files", "officer", "delimiter"], ":"), ["files.officer.delimiter must be one of"]),
        (_set(["files", "officer", "encoding"], "klingon"), ["unknown encoding 'klingon'"]),
        (
            _set(["files", "officer", "file"], "../2017/officer.csv"),
            ["must be a file name inside the year's raw folder"],
        ),
        (_set(["files", "staff"], {"file": "x.csv"}), ["files: unknown group 'staff'"]),
        (
            lambda r: r["columns"]["officer"].append({"header": "Extra", "kind": "weird"}),
            ["columns.officer[", "needs 'header' and 'kind'"],
        ),
        (
            lambda r: r["columns"]["officer"].append({"header": "Grade", "kind": "attribute", "attribute": "grade"}),
            ["('Grade'): an attribute needs 'attribute' and 'categories'"],
        ),
        (
            lambda r: r["columns"]["officer"].append({"header": "Response  id", "kind": "id"}),
            ["needs exactly one column of kind 'id', found 2"],
        ),
        (
            lambda r: r["columns"]["officer"].append({"header": "what is your ROLE?", "kind": "ignore"}),
            ["header 'what is your ROLE?' appears twice"],
        ),
        (
            lambda r: r["columns"]["officer"][5]["categories"].__setitem__("North; East", "North"),
            ["option(s) ['North; East'] contain the multi-select separator ';'"],
        ),
    ],
)
def test_malformed_codebook_says_what_and_where(tmp_path, root, change, words):
    path = write_cb(tmp_path, change, root)
    with pytest.raises(CodebookError) as exc:
        load_codebook(path)
    msg = str(exc.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, msg


def test_every_codebook_problem_is_reported_at_once(tmp_path, root):
    def change(raw):
        raw["score_labels"]["Excellent"] = 5
        raw["departments"]["Social Care"] = "social_care"
        raw["files"]["officer"]["skip_rows"] = "two"

    msg = str(pytest.raises(CodebookError, load_codebook, write_cb(tmp_path, change, root)).value)
    assert "'Excellent' maps to 5" in msg and "social_care" in msg and "skip_rows" in msg


def test_codebook_file_problems(tmp_path):
    with pytest.raises(CodebookError, match="codebook not found"):
        load_codebook(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("year: [2018\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="not valid YAML"):
        load_codebook(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="expected a mapping at the top level"):
        load_codebook(tmp_path / "list.yaml")


def test_ignore_kind_and_tab_delimiter_are_accepted(tmp_path, root):
    def change(raw):
        raw["columns"]["officer"].append({"header": "Language", "kind": "ignore"})
        raw["files"]["officer"]["delimiter"] = "\\t"
        raw["files"]["provider"]["delimiter"] = "auto"

    cb = load_codebook(write_cb(tmp_path, change, root))
    assert cb.files["officer"].delimiter == "\t" and cb.files["provider"].delimiter == "auto"
    assert "Language" in cb.expected_headers("officer")


# ----------------------------------------------------------------------------- read as a settings file
def test_codebook_loaded_directly_refuses_a_key_written_twice(tmp_path, root):
    """A department label written twice: plain YAML keeps the last mapping silently; load_codebook names both lines.

    The 2018 codebook maps 'Service Placement Team' (line 42) to placement; a forgotten second line mapping it to
    another id would silently re-point that department's ratings if the last one won.
    """
    text = (root / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith('  "Service Placement Team":'))
    lines.insert(at + 1, '  "Service Placement Team": ao_senior\n')
    path = tmp_path / "twice.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["departments"]["Service Placement Team"] == "ao_senior"
    with pytest.raises(CodebookError) as exc:
        load_codebook(path)
    msg = str(exc.value)
    assert msg.startswith(str(path)) and "'Service Placement Team' appears twice" in msg
    assert f"line {at + 1}," in msg and f"line {at + 2}," in msg  # 1-based: the original line, then the copy


def test_codebook_loaded_directly_refuses_a_top_level_key_written_twice(tmp_path, root):
    text = (root / "params" / "codebooks" / "2018.yaml").read_text(encoding="utf-8")
    path = tmp_path / "year_twice.yaml"
    path.write_text(text + "year: 2019\n", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"key 'year' appears twice \(line 3, column 1 and line \d+, column 1\)"):
        load_codebook(path)


def test_codebook_that_is_not_utf8_or_is_an_alias_bomb_is_one_codebook_error(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("year: 2018\nquestions: {trust: 'Caf\u00e9'}\n".encode("cp1252"))
    with pytest.raises(CodebookError, match=r"not UTF-8 text \(byte 0xe9 on line 2\)"):
        load_codebook(latin)
    bomb = tmp_path / "bomb.yaml"
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="aliases"):
        load_codebook(bomb)
