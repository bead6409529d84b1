"""rmlib.params: the one definition of the parameter set, validated with clear messages."""

import pytest
import yaml

from rmlib.params import PARAM_NAMES, ParamsError, load_params, validate

BASE = {"year": 2018, "compare_year": 2017, "codebook": "params/codebooks/2018.yaml", "raw_dir": "data/raw/2018"}


def test_every_year_file_is_valid(root):
    for path in sorted((root / "params").glob("[0-9]*.yaml")):
        p = load_params(path)
        assert p.year == int(path.stem)
        assert set(yaml.safe_load(path.read_text())) == set(PARAM_NAMES), f"{path.name} must set every parameter"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"year": "2018"}, ["'year'", "four-digit", "'2018'"]),
        ({"compare_year": 2019}, ["'compare_year'", "earlier year", "2019"]),
        ({"min_cell_n": 0}, ["'min_cell_n'", "expected a whole number from 1 to 1000", "got 0"]),
        ({"caution_n": 3}, ["'caution_n'", "at least min_cell_n (5)", "3"]),
        ({"correction": "bonferroni"}, ["'correction'", "holm", "fdr_bh", "'bonferroni'"]),
        ({"multi_select_rule": "all"}, ["'multi_select_rule'", "solely_one", "'all'"]),
        ({"alpha": 1.5}, ["'alpha'", "between 0 and 1", "1.5"]),
        ({"n_resamples": 100}, ["'n_resamples'", "from 999 to 100000", "got 100"]),
        ({"fieldwork_start": "27/11/2018"}, ["'fieldwork_start'", "YYYY-MM-DD", "27/11/2018"]),
        ({"fieldwork_start": "2019-02-01", "fieldwork_end": "2019-01-04"}, ["after 'fieldwork_end'"]),
        ({"colour": "red"}, ["unknown parameter", "colour"]),
    ],
)
def test_bad_values_say_what_was_expected_and_given(change, words):
    with pytest.raises(ParamsError) as err:
        validate({**BASE, **change})
    for w in words:
        assert w in str(err.value)


def test_all_problems_reported_at_once():
    with pytest.raises(ParamsError) as err:
        validate({**BASE, "min_cell_n": -1, "correction": "x", "alpha": 2})
    msg = str(err.value)
    assert "min_cell_n" in msg and "correction" in msg and "alpha" in msg


def test_missing_required():
    with pytest.raises(ParamsError, match="'raw_dir' is required"):
        validate({"year": 2018, "compare_year": None, "codebook": "x"})


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: [2018\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)


def test_paths_resolve_from_repo_root_not_cwd(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = load_params("params/2018.yaml")
    assert p.path("raw_dir") == root / "data" / "raw" / "2018"
    assert p.path("output_dir") == root / "outputs" / "2018"


def test_the_generated_parameters_cell_holds_the_values_it_was_given(root):
    """Python's own parser reads back every name in PARAMETERS' order with the params/2018.yaml value."""
    import ast

    from rmlib.params import PARAMETERS, parameters_cell

    values = yaml.safe_load((root / "params" / "2018.yaml").read_text(encoding="utf-8"))
    tree = ast.parse(parameters_cell(values))
    got = {s.targets[0].id: ast.literal_eval(s.value) for s in tree.body}
    assert list(got) == [s.name for s in PARAMETERS]
    assert got == {s.name: values[s.name] for s in PARAMETERS}
    assert got["merges"] == {"role": {"Head of Service or Manager": ["Head of Service", "Manager"]}}


@pytest.mark.parametrize(
    "value, text",
    [
        ("a 'quoted' path", "\"a 'quoted' path\""),
        (None, "None"),
        (True, "True"),
        (0.05, "0.05"),
        ({"k": ["x", "y"]}, '{"k": ["x", "y"]}'),
    ],
)
def test_literal_is_double_quoted_python(value, text):
    from rmlib.params import literal

    assert literal(value) == text


def test_docs_table_has_one_row_per_parameter_with_its_default():
    from rmlib.params import PARAMETERS, markdown

    rows = [line for line in markdown().splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == [s.name for s in PARAMETERS]
    row = dict((r.split("`")[1], r) for r in rows)
    assert row["min_cell_n"] == (
        "| `min_cell_n` | int | a whole number from 1 to 1000 | `5` | fewer respondents: no mean shown, no test |"
    )
    assert "`(required)`" in row["year"] and "`null`" in row["merges"] and "`true`" in row["synthetic"]
