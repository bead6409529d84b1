"""rmlib.stages: the spine as code. Each stage run in this process (no kernel) on the bundled data writes
exactly the artefacts the registry says it produces, and reproduces the figures the survey published."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from rmlib import artefacts, stages
from rmlib.params import load_params, validate

PARAMS_2018 = yaml.safe_load((ROOT / "params" / "2018.yaml").read_text(encoding="utf-8"))


def _expected(key: str) -> set[str]:
    return {a.name for a in artefacts.produced_by(key)}


def _files(written: dict) -> list:
    return [p for v in written.values() for p in (v if isinstance(v, list) else [v])]


@pytest.fixture(scope="module")
def spine(tmp_path_factory):
    """Stages clean, score and cross-analysis of 2018 in this process, into a work folder; 2016 and 2017
    cleaned first (the trend's and the comparison's processed years)."""
    from rmlib import clean

    work = tmp_path_factory.mktemp("spine")
    moved = dict(
        processed_dir=str(work / "processed"),
        output_dir=str(work / "outputs" / "{year}"),
        audit_dir=str(work / "audit" / "{year}"),
    )
    for y in (2016, 2017):
        base = validate({**load_params(ROOT / "params" / f"{y}.yaml").to_dict(), **moved})
        clean.write_processed(clean.clean_year(base), base.processed_year_dir)
    P = validate({**PARAMS_2018, **moved})
    return P, {key: stages.run_stage(P, key) for key in ("clean", "score", "cross_analysis")}


def test_stage_list_and_modules():
    assert [(s.key, s.notebook) for s in stages.STAGES] == [
        ("clean", "01_clean"),
        ("score", "02_score"),
        ("cross_analysis", "03_cross_analysis"),
        ("significance", "04_significance"),
        ("report", "05_report"),
    ]
    for s in stages.STAGES:
        assert callable(stages.module(s.key).run)
    with pytest.raises(KeyError, match="unknown stage 'scoring'"):
        stages.module("scoring")


@pytest.mark.parametrize("key", ["clean", "score", "cross_analysis"])
def test_a_stage_writes_exactly_its_registered_artefacts(spine, key):
    P, written = spine
    assert set(written[key]) == _expected(key)
    for name, path in written[key].items():
        assert path == artefacts.path(P, name) and path.is_file(), name


def test_clean_accounts_for_every_raw_row(spine):
    P, _ = spine
    summary = artefacts.read(P, "cleaning_summary")
    assert (summary.rows_in == summary.kept + summary.excluded).all()
    respondents = pd.read_parquet(artefacts.path(P, "respondents"))
    assert respondents.groupby("group").size().to_dict() == {"officer": 85, "provider": 97}


def test_score_reproduces_the_published_headline(spine, published):
    """Independent reference: the respondents and overall scores the 2018 and 2017 reports published."""
    P, _ = spine
    head = artefacts.read(P, "headline").set_index("group")
    for group, key in (("officer", "officers"), ("provider", "providers")):
        assert head.loc[group, "n"] == published["years"][2018][key]["n"]
        assert head.loc[group, "n_last"] == published["years"][2017][key]["n"]
        assert head.loc[group, "overall"] == pytest.approx(published["years"][2018][key]["overall"], abs=0.005)
        assert head.loc[group, "overall_last"] == pytest.approx(published["years"][2017][key]["overall"], abs=0.005)
    trend = artefacts.read(P, "trend_by_question")
    assert sorted(trend.year.unique()) == [2016, 2017, 2018]


def test_cross_analysis_cells_are_every_report_table(spine):
    from rmlib import crosstab

    P, _ = spine
    cells = artefacts.read(P, "cells")
    assert set(cells.table) == {t.id for t in crosstab.REPORT_TABLES}


@pytest.mark.slow
def test_significance_and_report_stages_write_their_artefacts(spine):
    """The last two stages in this process (the minimum 999 resamples): their registered artefacts, a
    report that passes the publication scan, and every cell table exported."""
    import dataclasses

    P, _ = spine
    P = dataclasses.replace(P, n_resamples=999)
    for key in ("significance", "report"):
        written = stages.run_stage(P, key)
        assert set(written) == _expected(key)
        assert all(p.is_file() for p in _files(written)), key
    exported = {p.stem for p in written["cell_tables"]}
    assert exported == set(artefacts.read(P, "cells_tested").table)
    assert "<script" not in artefacts.path(P, "report").read_text(encoding="utf-8").lower()
