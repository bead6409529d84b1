"""The workbook for reuse and the figure files: formats over unrounded values, marks, and the gate."""

import pandas as pd
import pytest
from openpyxl import load_workbook

from rmlib import disclosure, publish, report


def _cleared(frame, cols=("n",)):
    return disclosure.clear(frame, "t", 5, cols)


@pytest.fixture
def book(tmp_path):
    frame = pd.DataFrame(
        {
            "group": ["provider", "officer", "provider"],
            "question": ["trust", "share", "=cmd()"],
            "mean": [2.123456, 2.5, None],
            "n": [45, 12, 3],
            "last_year_p_adj": [0.0123456, 0.5, None],
            "change_pct": [12.3456, -1.0, None],
            "text": ["a", "b", "-x"],
        }
    )
    defs = report.definitions_sheet(frame.columns)
    path = publish.write_xlsx({"headline": _cleared(frame)}, tmp_path / "tables.xlsx", definitions=defs)
    return load_workbook(path)


def test_definitions_first_headers_frozen_filters_and_widths(book):
    assert book.sheetnames == ["Definitions", "headline"]
    d = book["Definitions"]
    meanings = {r[0].value: r[1].value for r in d.iter_rows(min_row=2)}
    assert meanings["mean"].startswith("Mean score on the 1 (poor) to 4 (good) scale")
    assert "grey rows" in meanings["(reading this workbook)"]
    ws = book["headline"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G4"
    assert ws["A1"].font.bold
    widths = {c: ws.column_dimensions[c].width for c in "ABCG"}
    assert widths["A"] == len("provider") + 2 and all(8 <= w <= 60 for w in widths.values())


def test_rounded_display_over_unrounded_values(book):
    ws = book["headline"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2]))
    assert row["mean"].value == pytest.approx(2.123456) and row["mean"].number_format == "0.00"
    assert row["last_year_p_adj"].value == pytest.approx(0.0123456) and row["last_year_p_adj"].number_format == "0.000"
    assert row["change_pct"].number_format == "0.0" and row["n"].number_format == "0" and row["n"].value == 45


def test_small_bases_are_text_and_their_rows_grey_formulas_stay_text(book):
    ws = book["headline"]
    header = [c.value for c in ws[1]]
    small = dict(zip(header, ws[4]))
    assert small["n"].value == "fewer than 5"
    assert small["group"].fill.start_color.rgb == "FFE7E6E6"
    assert dict(zip(header, ws[2]))["group"].fill.start_color.rgb != "FFE7E6E6"
    assert small["question"].value == "'=cmd()" and small["question"].data_type == "s"


def test_workbook_refuses_an_uncleared_frame(tmp_path):
    with pytest.raises(publish.PublishError, match="passed disclosure control"):
        publish.write_xlsx({"x": pd.DataFrame({"a": [1]})}, tmp_path / "t.xlsx")


@pytest.mark.parametrize(
    "suffix, content, needle",
    [
        (".png", b"GIF89a....", "not a PNG"),
        (".svg", b"<svg><script>alert(1)</script></svg>", "contains a script"),
        (".svg", b'<svg onload="x()"></svg>', "contains a script"),
        (".svg", b'<svg><image href="https://example.org/x.png"/></svg>', "remote resource"),
        (".svg", b"<svg><text>Medium (n = 3)</text></svg>", "a base of fewer than 5"),
        (".svg", b"<svg><text>write to j.smith@example.org</text></svg>", "personal data"),
        (".svg", b"plain text", "not an SVG"),
        (".gif", b"GIF89a", "not a figure file"),
    ],
)
def test_figure_gate_refuses_bad_files_and_the_scan_finds_them(tmp_path, suffix, content, needle):
    with pytest.raises(publish.PublishError, match=needle):
        publish.write_figure(content, tmp_path / f"f{suffix}", 5)
    if suffix in (".png", ".svg"):
        (tmp_path / "figures").mkdir()
        (tmp_path / "figures" / f"f{suffix}").write_bytes(content)
        with pytest.raises(publish.PublishError, match=needle):
            publish.scan_published(tmp_path, 5)


@pytest.mark.slow
def test_real_figures_as_files_have_text_in_the_svg_pass_the_scan_and_are_reproducible(tmp_path):
    from rmlib import plots

    data = pd.DataFrame(
        {
            "group": ["provider"] * 2 + ["officer"] * 2,
            "question": ["trust", "share"] * 2,
            "mean": [2.61, 2.40, 2.55, 2.30],
            "n": [85, 85, 97, 97],
            "ci_low": [2.5, 2.3, 2.4, 2.2],
            "ci_high": [2.7, 2.5, 2.7, 2.4],
        }
    )
    a = plots.figure_files(plots.question_means(data=data, hue="group"))
    b = plots.figure_files(plots.question_means(data=data, hue="group"))
    assert a["png"] == b["png"] and a["svg"] == b["svg"]
    assert a["png"].startswith(b"\x89PNG") and a["uri"].startswith("data:image/png;base64,")
    svg = a["svg"].decode()
    assert ">n=85<" in svg and ">Trust<" in svg and "<dc:date>" not in svg  # text stays text: the scan reads it
    sink = report.FigureSink(tmp_path / "figures", 5)
    links = sink.write("question_means", a)
    assert links == {"png": "figures/question_means.png", "svg": "figures/question_means.svg"}
    publish.scan_published(tmp_path, 5)


def test_display_format_by_column():
    f = publish.display_format
    assert (
        f("mean", 2.1),
        f("rest_p", 0.2),
        f("groups_p_adj", 0.2),
        f("pct_respondents", 3.0),
        f("n_last", 4),
        f("ci_low", 1.0),
        f("year", 2018),
        f("text", "a"),
        f("suppressed", True),
    ) == ("0.00", "0.000", "0.000", "0.0", "0", "0.00", "0", None, None)


def test_rows_are_grey_exactly_where_the_base_or_status_is_withheld(tmp_path):
    """Shading follows the published labels at the run's threshold: "fewer than 7" and "hidden" in the base
    or status; the same words inside other text (a note) do not shade a row."""
    frame = pd.DataFrame(
        {
            "category": ["A", "B", "C", "D"],
            "status": ["", "hidden", "", ""],
            "n": ["40", "", "fewer than 7", "12"],
            "note": ["", "", "", "fewer than 7 of the 85 chose more than one"],
        }
    )
    path = publish.write_xlsx({"t": disclosure.clear(frame, "t", 7)}, tmp_path / "t.xlsx")
    ws = load_workbook(path)["t"]
    grey = [ws.cell(row=r, column=1).fill.start_color.rgb == "FFE7E6E6" for r in range(2, 6)]
    assert grey == [False, True, True, False]
    assert ws["C2"].value == 40 and ws["C4"].value == "fewer than 7"
