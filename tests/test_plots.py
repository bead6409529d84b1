"""Tests for rmlib.plots: figure structure, disclosure, markers, alt text, PNG export."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from rmlib import plots
from rmlib.constants import QUESTION_LABEL, QUESTIONS

PREVIEW_DIR = Path("/tmp/plots_preview")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 150_000


# ---------------------------------------------------------------------------
# Fixtures (fixed seeds; shaped like the cell table of docs/contracts.md)
# ---------------------------------------------------------------------------


def _cell(rng, *, table, group, attribute, category, question, n, mean=None):
    mean = float(rng.uniform(2.0, 3.6)) if mean is None else mean
    half = 1.2 / np.sqrt(n)
    mean_last = float(np.clip(mean + rng.normal(0, 0.2), 1, 4))
    return {
        "table": table,
        "group": group,
        "attribute": attribute,
        "category": category,
        "question": question,
        "mean": mean,
        "n": n,
        "ratings": n,
        "no_contact": 0,
        "mean_last": mean_last,
        "n_last": max(n + int(rng.integers(-3, 4)), 5),
        "change_pts": mean - mean_last,
        "change_pct": (mean / mean_last - 1) * 100,
        "ci_low": max(1.0, mean - half),
        "ci_high": min(4.0, mean + half),
        "ci_method": "bca",
        "rest_diff": float(rng.normal(0, 0.3)),
        "rest_significant": False,
        "last_year_significant": False,
        "groups_significant": False,
        "suppressed": False,
        "suppression": "",
        "caution": 5 <= n < 10,
    }


def make_whole_groups() -> pd.DataFrame:
    """Both groups, attribute 'all', the eight questions (officer 'trust' suppressed)."""
    rng = np.random.default_rng(2018)
    rows = []
    for group, n in (("provider", 48), ("officer", 31)):
        for q in QUESTIONS:
            rows.append(
                _cell(
                    rng,
                    table=f"{group}_all",
                    group=group,
                    attribute="all",
                    category="All",
                    question=q,
                    n=n - int(rng.integers(0, 4)),
                )
            )
    df = pd.DataFrame(rows)
    # Known extremes for the providers.
    df.loc[(df.group == "provider") & (df.question == "roles"), ["mean", "ci_low", "ci_high"]] = [3.71, 3.5, 3.9]
    df.loc[(df.group == "provider") & (df.question == "conflicts"), ["mean", "ci_low", "ci_high"]] = [2.12, 1.9, 2.35]
    # One suppressed officer cell: estimates blanked but pretend upstream left a value.
    sup = (df.group == "officer") & (df.question == "trust")
    df.loc[sup, ["mean", "n", "suppressed", "suppression"]] = [3.987, 4, True, "primary"]
    df["change_pts"] = df["mean"] - df["mean_last"]
    df["change_pct"] = (df["mean"] / df["mean_last"] - 1) * 100
    df.loc[(df.question == "share"), "groups_significant"] = True
    df.loc[(df.group == "provider") & (df.question == "direction"), "last_year_significant"] = True
    df.loc[(df.group == "provider") & (df.question == "inclusion"), "last_year_significant"] = True
    return df


def make_quadrant_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    cats = {"All": 40, "North": 14, "Mid": 8, "South": 12, "West": 3}
    for cat, n in cats.items():
        for q in (*QUESTIONS, "overall"):
            rows.append(
                _cell(
                    rng,
                    table="officer_by_quadrant",
                    group="officer",
                    attribute="all" if cat == "All" else "quadrant",
                    category=cat,
                    question=q,
                    n=n,
                )
            )
    df = pd.DataFrame(rows)
    west = df.category == "West"
    df.loc[west, ["mean", "ci_low", "ci_high", "rest_diff"]] = [3.937, np.nan, np.nan, np.nan]
    df.loc[west, ["suppressed", "suppression", "caution"]] = [True, "primary", False]
    # complementary suppression of one Mid cell
    comp = (df.category == "Mid") & (df.question == "integration")
    df.loc[comp, ["mean", "suppressed", "suppression"]] = [np.nan, True, "complementary"]
    sig_up = (df.category == "North") & (df.question == "trust")
    sig_dn = (df.category == "South") & (df.question == "conflicts")
    df.loc[sig_up, ["mean", "ci_low", "ci_high", "rest_diff", "rest_significant"]] = [3.83, 3.5, 4.0, 0.6, True]
    df.loc[sig_dn, ["mean", "ci_low", "ci_high", "rest_diff", "rest_significant"]] = [1.64, 1.3, 2.0, -0.7, True]
    return df


def make_trend_frame() -> pd.DataFrame:
    rng = np.random.default_rng(16)
    rows = []
    for group in ("provider", "officer"):
        for qi, q in enumerate(QUESTIONS):
            base = 2.3 + 0.12 * qi
            for year in (2016, 2017, 2018):
                n = int(rng.integers(20, 60))
                m = float(np.clip(base + 0.1 * (year - 2016) + rng.normal(0, 0.08), 1, 4))
                rows.append(
                    {
                        "year": year,
                        "group": group,
                        "question": q,
                        "mean": m,
                        "n": n,
                        "ci_low": m - 0.25,
                        "ci_high": m + 0.25,
                        "suppressed": False,
                        "caution": False,
                    }
                )
    df = pd.DataFrame(rows)
    gap = (df.group == "officer") & (df.question == "roles") & (df.year == 2017)
    df.loc[gap, ["mean", "ci_low", "ci_high", "n", "suppressed"]] = [np.nan, np.nan, np.nan, 3, True]
    return df


@pytest.fixture
def whole_groups() -> pd.DataFrame:
    return make_whole_groups()


@pytest.fixture
def quadrant_table() -> pd.DataFrame:
    return make_quadrant_table()


@pytest.fixture
def trend_frame() -> pd.DataFrame:
    return make_trend_frame()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def all_texts(fig: Figure) -> list[str]:
    """Every piece of text drawn in the figure (texts, tick labels, titles, legends)."""
    fig.canvas.draw()  # make tick labels final
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def ytick_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def save_preview(fig: Figure, name: str) -> int:
    PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
    uri = plots.figure_to_data_uri(fig)
    png = base64.b64decode(uri.split(",", 1)[1])
    (PREVIEW_DIR / f"{name}.png").write_bytes(png)
    return len(png)


# ---------------------------------------------------------------------------
# question_means
# ---------------------------------------------------------------------------


def test_question_means_structure(whole_groups):
    fig = plots.question_means(whole_groups, hue="group")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = ytick_labels(ax)
    assert labels == [QUESTION_LABEL[q] for q in QUESTIONS]
    assert ax.get_xlim()[0] <= 1 and ax.get_xlim()[1] >= 4
    conts = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(conts) == 2  # one per group
    # 8 provider points + 7 officer points (one suppressed)
    assert sum(len(c.lines[0].get_xdata()) for c in conts) == 15
    texts = all_texts(fig)
    assert sum(1 for t in texts if re.fullmatch(r"n=\d+( \u2020)?", t)) == 15
    assert any("fewer than 5" in t for t in texts)
    assert not any("3.99" in t or "3.987" in t for t in texts)
    assert {"Providers", "Officers"} <= set(texts)


def test_question_means_single_series_and_order(whole_groups):
    prov = whole_groups[whole_groups.group == "provider"]
    fig = plots.question_means(prov, hue=None, order=[*QUESTIONS, "overall"])
    labels = ytick_labels(fig.axes[0])
    assert labels[:8] == [QUESTION_LABEL[q] for q in QUESTIONS]
    assert labels[8] == "Overall score"
    assert any(t.endswith("no data") for t in all_texts(fig))  # no overall row in data
    assert "Providers" in fig.get_suptitle()


def test_suppressed_value_is_never_plotted(whole_groups):
    """Even when upstream left a number in a suppressed row."""
    fig = plots.question_means(whole_groups[whole_groups.group == "officer"], hue="group")
    ax = fig.axes[0]
    xs = np.concatenate([c.lines[0].get_xdata() for c in ax.containers if isinstance(c, ErrorbarContainer)])
    assert not np.any(np.isclose(xs, 3.987))
    assert len(xs) == 7


def test_duplicate_rows_raise(whole_groups, quadrant_table):
    with pytest.raises(ValueError, match="one row per"):
        plots.question_means(pd.concat([whole_groups, whole_groups]))
    with pytest.raises(ValueError, match="missing column"):
        plots.question_means(whole_groups.drop(columns="n"))


# ---------------------------------------------------------------------------
# subgroup_heatmap
# ---------------------------------------------------------------------------


def test_heatmap_structure_and_disclosure(quadrant_table):
    fig = plots.subgroup_heatmap(quadrant_table)
    ax = fig.axes[0]
    rows = ytick_labels(ax)
    assert rows == ["All (n=40)", "North (n=14)", "Mid (n=8)", "South (n=12)", "West (n<5)"]
    cols = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert cols == [QUESTION_LABEL[q] for q in QUESTIONS] + ["Overall score"]
    cell_texts = [t.get_text() for t in ax.texts if not isinstance(t, Annotation)]
    assert len(cell_texts) == 5 * 9
    # West row (9 cells): "<5"; the complementary cell says "hidden" (it is not small), no number
    assert cell_texts.count("<5") == 9 and cell_texts.count("hidden") == 1
    assert not any("3.94" in t for t in all_texts(fig))
    # significance markers exactly where flagged
    assert [t for t in cell_texts if "\u25b2" in t] == ["3.83\u25b2"]
    assert [t for t in cell_texts if "\u25bc" in t] == ["1.64\u25bc"]
    # caution marks on Mid (n=8) cells that are shown: 8 of 9
    assert sum("\u2020" in t for t in cell_texts) == 8
    # the heat map itself has NaN (blank) where suppressed
    mesh = ax.collections[0]
    arr = mesh.get_array()
    assert np.ma.count_masked(arr) == 10


def test_heatmap_needs_one_table(quadrant_table):
    other = quadrant_table.assign(table="officer_by_role")
    both = pd.concat([quadrant_table, other])
    with pytest.raises(ValueError, match="several tables"):
        plots.subgroup_heatmap(both)
    fig = plots.subgroup_heatmap(both, table="officer_by_role")
    assert len(fig.axes[0].get_yticklabels()) == 5


# ---------------------------------------------------------------------------
# change_bars
# ---------------------------------------------------------------------------


def test_change_bars(whole_groups):
    prov = whole_groups[whole_groups.group == "provider"].copy()
    prov.loc[prov.question == "responsive", ["mean_last", "n_last", "change_pts", "change_pct"]] = np.nan
    fig = plots.change_bars(prov, value="change_pct")
    ax = fig.axes[0]
    labels = ytick_labels(ax)
    assert [lab.split("\n")[0] for lab in labels] == [QUESTION_LABEL[q] for q in QUESTIONS]
    n_first = prov.set_index("question").loc["share", ["n", "n_last"]].astype(int)
    assert labels[0].endswith(f"(n={n_first['n']} / {n_first['n_last']})")
    bars = [
        p
        for p in ax.patches
        if isinstance(p, matplotlib.patches.Rectangle) and p.get_height() > 0 and p.get_width() != 0
    ]
    assert len(bars) == 7
    texts = all_texts(fig)
    assert any("not asked last year" in t for t in texts)
    starred = [t for t in ax.texts if t.get_text().endswith(" *") or " * " in t.get_text()]
    assert len(starred) == 2  # direction and inclusion
    assert all(t.get_fontweight() == "bold" for t in starred)


def test_change_bars_omit_and_points(whole_groups):
    prov = whole_groups[whole_groups.group == "provider"].copy()
    prov.loc[prov.question == "responsive", ["mean_last", "change_pts", "change_pct"]] = np.nan
    fig = plots.change_bars(prov, value="change_pts", omit_missing=True)
    labels = ytick_labels(fig.axes[0])
    assert len(labels) == 7
    assert any("Responsiveness" in t and "not shown" in t for t in all_texts(fig))
    with pytest.raises(ValueError):
        plots.change_bars(prov, value="mean")


def test_change_bars_hue_suppressed(whole_groups):
    fig = plots.change_bars(whole_groups, value="change_pct", hue="group")
    texts = all_texts(fig)
    assert any(t == "Officers: fewer than 5" for t in texts)
    assert not any("3.99" in t for t in texts)


# ---------------------------------------------------------------------------
# trend_lines
# ---------------------------------------------------------------------------


def test_trend_lines_facets(trend_frame):
    fig = plots.trend_lines(trend_frame, x="year", hue="question")
    axes = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in axes] == ["Providers", "Officers"]
    for ax in axes:
        assert [float(t) for t in ax.get_xticks()] == [2016, 2017, 2018]
        assert len(ax.collections) == 8  # one interval band per question
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts == [QUESTION_LABEL[q] for q in QUESTIONS]
    # officer 'roles' 2017 is a gap
    officer_ax = axes[1]
    line = officer_ax.lines[QUESTIONS.index("roles") * 3]
    assert np.isnan(line.get_ydata()[1])


def test_trend_lines_by_group(trend_frame):
    one_q = trend_frame[trend_frame.question == "trust"]
    fig = plots.trend_lines(one_q, hue="group")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    n = one_q.set_index(["year", "group"])["n"]
    assert ticks[0] == f"2016\nProviders n={n[(2016, 'provider')]}\nOfficers n={n[(2016, 'officer')]}"
    assert all(t.count("n=") == 2 for t in ticks)
    assert "Trust" in fig.get_suptitle()


# ---------------------------------------------------------------------------
# providers_vs_officers
# ---------------------------------------------------------------------------


def test_providers_vs_officers(whole_groups):
    fig = plots.providers_vs_officers(whole_groups)
    ax = fig.axes[0]
    labels = ytick_labels(ax)
    assert labels[0] == "Share information *"
    assert [lab.rstrip(" *") for lab in labels] == [QUESTION_LABEL[q] for q in QUESTIONS]
    assert sum(lab.endswith("*") for lab in labels) == 1
    conts = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(conts) == 2
    texts = all_texts(fig)
    assert sum(1 for t in texts if re.fullmatch(r"n=\d+( \u2020)?", t)) == 15
    assert "Officers: fewer than 5" in texts


# ---------------------------------------------------------------------------
# alt text
# ---------------------------------------------------------------------------


def test_alt_text_question_means(whole_groups):
    text = plots.alt_text("question_means", whole_groups)
    assert "highest Roles & responsibilities 3.71" in text
    assert "lowest Manage conflicts 2.12" in text
    assert "Not shown (fewer than 5 respondents): Officers Trust" in text
    assert "3.99" not in text


def test_alt_text_other_kinds(whole_groups, quadrant_table, trend_frame):
    heat = plots.alt_text(plots.subgroup_heatmap, quadrant_table)
    assert "Highest: North, Trust 3.83" in heat and "Lowest: South, Manage conflicts 1.64" in heat
    assert "9 cells not shown (fewer than 5 respondents)" in heat and "3.94" not in heat
    assert "1 cell hidden so that a smaller group's answers cannot be worked out" in heat
    # the label quotes the threshold it is given (the run's), passed like any other keyword
    assert "9 cells not shown (fewer than 10 respondents)" in plots.alt_text(
        plots.subgroup_heatmap, quadrant_table, min_cell_n=10
    )
    prov = whole_groups[whole_groups.group == "provider"]
    ch = plots.alt_text("change_bars", prov, value="change_pts")
    assert "Largest rise: " in ch and "2 significant changes" in ch
    assert "+" not in ch and re.search(r"down \d", ch)
    tr = plots.alt_text("trend_lines", trend_frame)
    assert "in 2018 highest" in tr and "Providers:" in tr
    pvo = plots.alt_text("providers_vs_officers", whole_groups)
    assert "Largest gap" in pvo and "Share information" in pvo
    with pytest.raises(ValueError):
        plots.alt_text("pie", whole_groups)


# ---------------------------------------------------------------------------
# export, determinism, no global side effects
# ---------------------------------------------------------------------------


def test_data_uri_png_and_deterministic(whole_groups):
    uri = plots.figure_to_data_uri(plots.question_means(whole_groups))
    assert uri.startswith("data:image/png;base64,")
    png = base64.b64decode(uri.split(",", 1)[1])
    assert png[:8] == PNG_MAGIC
    assert len(png) < MAX_PNG_BYTES
    again = plots.figure_to_data_uri(plots.question_means(whole_groups))
    assert again == uri


def test_large_heatmap_png_stays_small():
    """Ten long-named departments: the palette fallback keeps the PNG under the bound."""
    from rmlib.constants import DEPARTMENTS

    rng = np.random.default_rng(3)
    rows = [
        _cell(
            rng,
            table="provider_by_rated_department",
            group="provider",
            attribute="rated_department",
            category=label,
            question=q,
            n=n,
        )
        for label, n in zip(DEPARTMENTS.values(), rng.integers(2, 40, size=10))
        for q in QUESTIONS
    ]
    df = pd.DataFrame(rows)
    df.loc[df.n < 5, "suppressed"] = True
    fig = plots.subgroup_heatmap(df)
    assert fig.get_suptitle().startswith("Average score by question and ECC department rated")
    uri = plots.figure_to_data_uri(fig)
    png = base64.b64decode(uri.split(",", 1)[1])
    assert png[:8] == PNG_MAGIC and len(png) < MAX_PNG_BYTES


def test_no_global_side_effects(whole_groups):
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    n_open = len(plt.get_fignums())
    plots.question_means(whole_groups)
    assert len(plt.get_fignums()) == n_open
    after = dict(matplotlib.rcParams)
    changed = {k for k in before if str(before[k]) != str(after[k])}
    assert not changed


@pytest.mark.slow
def test_previews(whole_groups, quadrant_table, trend_frame):
    """Render each figure once for eyeballing; all PNGs small."""
    prov = whole_groups[whole_groups.group == "provider"].copy()
    prov.loc[prov.question == "responsive", ["mean_last", "n_last", "change_pts", "change_pct"]] = np.nan
    figures = {
        "question_means": plots.question_means(whole_groups),
        "question_means_by_category": plots.question_means(
            quadrant_table[quadrant_table.question == "trust"], y="category", hue=None
        ),
        "subgroup_heatmap": plots.subgroup_heatmap(quadrant_table),
        "change_bars": plots.change_bars(prov),
        "change_bars_groups": plots.change_bars(whole_groups, value="change_pts", hue="group"),
        "trend_lines": plots.trend_lines(trend_frame),
        "trend_lines_groups": plots.trend_lines(trend_frame[trend_frame.question == "trust"], hue="group"),
        "providers_vs_officers": plots.providers_vs_officers(whole_groups),
    }
    for name, fig in figures.items():
        size = save_preview(fig, name)
        assert size < MAX_PNG_BYTES, (name, size)


def test_a_change_that_rounds_to_nothing_never_reads_minus_zero():
    from rmlib.plots import MINUS
    from rmlib.plots._text import _fmt_change

    assert _fmt_change(-0.004, "change_pts") == "0.00" and _fmt_change(-0.04, "change_pct") == "0.0%"
    assert _fmt_change(-0.006, "change_pts") == f"{MINUS}0.01" and _fmt_change(0.05, "change_pct") == "+0.1%"


@pytest.mark.slow
def test_every_figure_quotes_the_threshold_it_is_given(whole_groups, quadrant_table, trend_frame):
    """The withheld-cell labels quote the ``min_cell_n`` passed in (the run's), never the default 5."""
    figs = {
        "question_means": plots.question_means(whole_groups, min_cell_n=10),
        "providers_vs_officers": plots.providers_vs_officers(whole_groups, min_cell_n=10),
        "subgroup_heatmap": plots.subgroup_heatmap(quadrant_table, min_cell_n=10),
        "change_bars": plots.change_bars(whole_groups, value="change_pts", hue="group", min_cell_n=10),
        "trend_lines": plots.trend_lines(trend_frame, min_cell_n=10),
    }
    expected = {
        "question_means": "Officers: fewer than 10",
        "providers_vs_officers": "Officers: fewer than 10",
        "subgroup_heatmap": "<10",
        "change_bars": "Officers: fewer than 10",
        "trend_lines": "Gaps: fewer than 10 respondents that year, not shown.",
    }
    for kind, fig in figs.items():
        texts = [" ".join(t.split()) for t in all_texts(fig)]  # notes are wrapped
        assert any(expected[kind] in t for t in texts), kind
        assert not any("fewer than 5" in t or "<5" in t for t in texts), kind
    # a base between the default and the run's threshold is never printed as a number
    small = whole_groups[whole_groups.group == "provider"].assign(n=7, caution=False)
    texts = all_texts(plots.question_means(small, hue=None, min_cell_n=10))
    assert "n=<10" in texts and not any("n=7" in t for t in texts)
