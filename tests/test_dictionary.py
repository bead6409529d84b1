"""The data dictionary: every published column has a meaning; an undocumented one is refused by name."""

import pandas as pd
import pytest

from rmlib import dictionary


def test_comparison_columns_are_described_by_kind():
    assert "last year" in dictionary.describe("last_year_p_adj")
    assert "rest of its group" in dictionary.describe("rest_diff_low")
    assert "providers against officers" in dictionary.describe("groups_significant")
    # a known kind with an unknown field, and an unknown kind with a known field, are not guessed
    assert dictionary.describe("rest_colour") is None
    assert dictionary.describe("lastyear_p") is None


def test_a_table_may_give_a_column_its_own_meaning():
    assert dictionary.describe("significant", "comparison_families").startswith("Number of comparisons")
    assert dictionary.describe("significant") is None


def test_undocumented_columns_are_all_named():
    with pytest.raises(dictionary.UndocumentedColumn) as err:
        dictionary.data_dictionary({"t1": ["mean", "secret"], "t2": ["n", "colour"]})
    assert "t1.secret" in str(err.value) and "t2.colour" in str(err.value)
    assert "t1.mean" not in str(err.value)


def test_headers_read_from_csv_and_rendered(tmp_path):
    pd.DataFrame({"group": ["officer"], "mean": [2.5], "n": [12]}).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame({"quote": ["x"]}).to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "notes.txt").write_text("not a table")
    headers = dictionary.csv_headers(tmp_path)
    assert headers == {"a": ["quote"], "b": ["group", "mean", "n"]}
    md = dictionary.render_markdown(dictionary.data_dictionary(headers), min_cell_n=10)
    assert "fewer than 10 respondents" in md
    assert md.index("## a.csv") < md.index("## b.csv")
    assert "| `mean` | Mean score on the 1 (poor) to 4 (good) scale" in md


@pytest.mark.slow
def test_every_published_column_is_documented(pipeline_run):
    out = pipeline_run / "outputs" / "2018"
    frame = dictionary.data_dictionary(dictionary.csv_headers(out / "tables"))
    assert frame["meaning"].notna().all() and len(frame) > 100
    page = (out / "data_dictionary.md").read_text(encoding="utf-8")
    for table in frame["table"].unique():
        assert f"## {table}.csv" in page
