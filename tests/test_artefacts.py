"""rmlib.artefacts: the registry of the files passed between stages agrees with the stages, the notebooks,
the stage code, rmlib.report's reads and the pipeline's --stages reuse check."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from rmlib import artefacts, stages
from rmlib.artefacts import ARTEFACTS, REGISTRY, UnknownArtefact
from rmlib.params import validate

PARAMS_2018 = yaml.safe_load((ROOT / "params" / "2018.yaml").read_text(encoding="utf-8"))
ORDER = {k: i for i, k in enumerate(stages.KEYS)}
SUFFIX = {"parquet": ".parquet", "csv": ".csv", "json": ".json", "html": ".html", "xlsx": ".xlsx"}
ACCESSORS = ("read", "write", "path", "publish")


def _params(tmp_path: Path, **change):
    return validate(
        {
            **PARAMS_2018,
            "processed_dir": str(tmp_path / "processed"),
            "output_dir": str(tmp_path / "outputs" / "{year}"),
            "audit_dir": str(tmp_path / "audit" / "{year}"),
            **change,
        }
    )


def test_every_artefact_is_well_formed():
    for a in ARTEFACTS:
        assert a.area in artefacts.AREAS and a.fmt in artefacts.FORMATS, a
        assert a.filename.endswith(SUFFIX[a.fmt]), a
        assert a.doc.strip(), a
        assert a.producer in ORDER and all(c in ORDER for c in a.consumers), a


def test_producers_come_before_their_consumers():
    for a in ARTEFACTS:
        assert all(ORDER[a.producer] < ORDER[c] for c in a.consumers), f"{a.name}: read before it is made"


def test_every_stage_produces_something_and_every_later_stage_reads_something():
    for s in stages.STAGES:
        assert artefacts.produced_by(s.key), s
        if s is not stages.STAGES[0]:
            assert artefacts.inputs_of(s.key), s


def test_the_pipelines_stage_list_is_the_spines():
    from rmlib.pipeline import STAGES

    assert STAGES == tuple((s.notebook, s.title) for s in stages.STAGES)
    assert [s.key for s in stages.STAGES] == ["clean", "score", "cross_analysis", "significance", "report"]
    for s in stages.STAGES:
        assert (ROOT / "notebooks" / f"{s.notebook}.ipynb").is_file()
        assert stages.module(s.key).KEY == s.key


def test_paths_by_area(tmp_path):
    P = _params(tmp_path)
    assert artefacts.path(P, "ratings") == tmp_path / "processed" / "2018" / "ratings.parquet"
    assert artefacts.path(P, "ratings", year=2017) == tmp_path / "processed" / "2017" / "ratings.parquet"
    assert artefacts.path(P, "processed_cleaning_log") == tmp_path / "processed" / "2018" / "cleaning_log.csv"
    assert artefacts.path(P, "headline") == tmp_path / "audit" / "2018" / "data" / "headline.parquet"
    assert artefacts.path(P, "published_headline") == tmp_path / "outputs" / "2018" / "tables" / "headline.csv"
    assert artefacts.path(P, "headlines") == tmp_path / "outputs" / "2018" / "headlines.json"
    assert artefacts.path(P, "report") == tmp_path / "outputs" / "2018" / "report.html"
    with pytest.raises(ValueError, match="only processed tables have a year"):
        artefacts.path(P, "headline", year=2017)
    with pytest.raises(UnknownArtefact, match="trend.parquet"):
        artefacts.path(P, "trend.parquet")


def test_write_and_read_an_audit_table_and_refuse_other_areas(tmp_path):
    P = _params(tmp_path)
    frame = pd.DataFrame({"group": ["officer", "provider"], "n": [85, 97], "overall": [2.55, 2.65]})
    written = artefacts.write(P, "headline", frame)
    assert written == tmp_path / "audit" / "2018" / "data" / "headline.parquet"
    pd.testing.assert_frame_equal(artefacts.read(P, "headline"), frame)
    with pytest.raises(ValueError, match="write only audit tables"):
        artefacts.write(P, "ratings", frame)
    with pytest.raises(ValueError, match="not a table"):
        artefacts.read(P, "report")


def test_processed_tables_are_what_clean_writes(tmp_path):
    """The registry's processed files are exactly the files rmlib.clean.write_processed makes."""
    from types import SimpleNamespace

    from rmlib import clean
    from rmlib.dataset import TABLES

    tiny = pd.DataFrame({"respondent_id": ["r1"]})
    result = SimpleNamespace(tables=lambda: {t: tiny for t in TABLES}, log=tiny)
    clean.write_processed(result, tmp_path / "2018")
    made = {p.name for p in (tmp_path / "2018").iterdir() if not p.name.startswith(".")}
    registered = {a.filename for a in ARTEFACTS if a.area == "processed"}
    assert made == registered


def test_the_audit_tables_the_report_reads_are_registered_for_it():
    """rmlib.report reads the audit area by name (build_context, workbook_extras): each must be registered
    as an audit parquet the report stage consumes, and published under the same name."""
    from rmlib import report

    src = (ROOT / "rmlib" / "report.py").read_text(encoding="utf-8")
    read_by_name = set(re.findall(r'_read\(audit, "(\w+)"\)', src)) | set(re.findall(r'audit / "(\w+)\.parquet"', src))
    assert {"headline", "cells_tested", "caveats"} <= read_by_name  # the patterns still find the reads
    for name in read_by_name | set(report.AUDIT_TABLES):
        a = REGISTRY[name]
        assert a.area == "audit" and a.fmt == "parquet" and "report" in a.consumers, name
    for name in report.AUDIT_TABLES:
        assert f"published_{name}" in REGISTRY, name


def _code_cells(stage: stages.Stage) -> list[str]:
    book = nbformat.read(ROOT / "notebooks" / f"{stage.notebook}.ipynb", as_version=4)
    return [c.source for c in book.cells if c.cell_type == "code"]


def _accesses(tree: ast.AST) -> list[tuple[str, str]]:
    """(accessor, artefact name) of every ``artefacts.<read|write|path|publish>(P, "<name>", ...)`` call with a
    literal name (names taken from the registry or a stage's table list are checked by what ``run`` returns,
    tests/test_stages.py)."""
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ACCESSORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "artefacts"
        ):
            name = node.args[1]
            if isinstance(name, ast.Constant):
                out.append((node.func.attr, name.value))
    return out


FILE_NAME = re.compile(r"""["'][^"'\n]+\.(?:parquet|csv|json|html|xlsx)["']""")


@pytest.mark.parametrize("stage", stages.STAGES, ids=lambda s: s.key)
def test_each_notebook_and_stage_module_uses_only_registered_artefacts(stage):
    """No file name of its own: every read is of an artefact an earlier stage makes for this one, every
    write of one this stage makes."""
    module = ROOT / "rmlib" / "stages" / f"{stage.key}.py"
    sources = [*_code_cells(stage), module.read_text(encoding="utf-8")]
    for src in sources:
        assert not FILE_NAME.findall(src), f"{stage.key}: a literal file name {FILE_NAME.findall(src)}"
        for how, name in _accesses(ast.parse(src)):
            a = REGISTRY.get(name if how != "publish" else f"published_{name}")
            assert a is not None, f"{stage.key}: {name!r} is not registered"
            if how == "read":
                assert stage.key in a.consumers, f"{stage.key} reads {name} but is not registered as its consumer"
            elif how in ("write", "publish"):
                assert a.producer == stage.key, f"{stage.key} writes {name}, registered as {a.producer}'s"


@pytest.mark.parametrize("stage", stages.STAGES[1:], ids=lambda s: s.key)
def test_each_registered_input_is_read_by_its_consumer(stage):
    """The other direction: what the registry says a stage reads, the stage's code reads (or, for the
    report, rmlib.report.build_context / workbook_extras read by name, checked above)."""
    src = (ROOT / "rmlib" / "stages" / f"{stage.key}.py").read_text(encoding="utf-8")
    read = {n for how, n in _accesses(ast.parse(src)) if how == "read"}
    for a in artefacts.inputs_of(stage.key):
        if a.area == "processed":
            assert "load_year" in src or "from .cross_analysis import load" in src, stage.key
        elif stage.key != "report" or a.name == "cells_tested":
            assert a.name in read, f"{stage.key} is registered to read {a.name} but does not"


# ----------------------------------------------------------------------------- the --stages reuse check
def test_a_partial_run_needs_the_producers_of_its_inputs():
    from rmlib.pipeline import _inputs_made_elsewhere

    def producers(wanted):
        return {a.producer for a in _inputs_made_elsewhere(wanted)}

    assert producers(["01_clean"]) == set()
    assert producers(["02_score"]) == {"clean"}
    assert producers(["03_cross_analysis"]) == {"clean", "score"}
    assert producers(["04_significance"]) == {"clean", "score", "cross_analysis"}
    assert producers(["04_significance", "05_report"]) == {"clean", "score", "cross_analysis"}
    assert producers(["05_report"]) == {"clean", "score", "cross_analysis", "significance"}
    assert {a.name for a in _inputs_made_elsewhere(["03_cross_analysis"]) if a.area != "processed"} == {
        "trend_by_question"
    }


def test_check_partial_refuses_a_missing_producer_and_a_missing_input(tmp_path):
    from rmlib import safety
    from rmlib.pipeline import PipelineError, _check_partial
    from rmlib.provenance import stage_fingerprint

    P = _params(tmp_path)
    target = P.path("output_dir")
    target.mkdir(parents=True)
    run_fp = {"inputs_sha256": {"a": "1"}, "params_sha256": "p", "code": "c"}
    with pytest.raises(PipelineError, match="needs the outputs of 02_score, which no earlier run"):
        _check_partial(P, ["03_cross_analysis"], target, run_fp, ROOT)
    record = {"stage": "02_score", "fingerprint": stage_fingerprint(run_fp, ROOT / "notebooks" / "02_score.ipynb")}
    (target / "provenance.json").write_text(json.dumps({"stages": [record]}))
    # 02_score has run; the processed tables were made from other inputs (no marker): refused
    with pytest.raises(PipelineError, match="would use .*processed.*made from other"):
        _check_partial(P, ["03_cross_analysis"], target, run_fp, ROOT)
    P.processed_year_dir.mkdir(parents=True)
    safety.write_marker(P.processed_year_dir, "processed", 2018, {"fingerprint": run_fp})
    with pytest.raises(
        PipelineError,
        match=r"needs trend_by_question \(.*trend_by_question.parquet\), made by "
        r"02_score, which is missing",
    ):
        _check_partial(P, ["03_cross_analysis"], target, run_fp, ROOT)
    artefacts.write(P, "trend_by_question", pd.DataFrame({"year": [2018]}))
    assert _check_partial(P, ["03_cross_analysis"], target, run_fp, ROOT) == {"02_score": {**record, "reused": True}}
