"""End to end: the 2018 run on the bundled data reproduces the published figures; failures are atomic."""
import json
import re
import subprocess
import sys

import pytest

from rmlib.pipeline import PipelineError, run

pytestmark = pytest.mark.slow


def test_headlines_reproduce_published_figures(pipeline_run, published):
    h = json.loads((pipeline_run / "outputs" / "2018" / "headlines.json").read_text())
    assert h["year"] == 2018 and h["compare_year"] == 2017 and h["synthetic"] is True
    for group, key in (("officer", "officers"), ("provider", "providers")):
        g = h["groups"][group]
        assert g["n"] == published["years"][2018][key]["n"]
        assert g["n_last_year"] == published["years"][2017][key]["n"]
        assert abs(g["overall"] - published["years"][2018][key]["overall"]) < 0.005
        assert abs(g["overall_last_year"] - published["years"][2017][key]["overall"]) < 0.005
        # % change = (this / last - 1) x 100 on the unrounded means; the published figures round to 8% / 8%
        assert g["change_pct"] == pytest.approx((g["overall"] / g["overall_last_year"] - 1) * 100)
        assert set(g["questions"]) == {"share", "trust", "inclusion", "integration", "conflicts", "roles",
                                       "direction", "responsive"}
        for q in g["questions"].values():
            lo, hi = q["ci95"]
            assert q["n"] > 0 and lo < q["mean"] < hi
    assert h["definitions"]["overall"].startswith("mean of the eight question means")
    assert round(h["groups"]["officer"]["change_pct"]) == 8 and round(h["groups"]["provider"]["change_pct"]) == 8


def test_outputs_layout_and_provenance(pipeline_run):
    out = pipeline_run / "outputs" / "2018"
    for name in ("01_clean", "02_score", "03_cross_analysis", "04_significance", "05_report"):
        assert (out / "notebooks" / f"{name}.ipynb").is_file()
        html = (out / "notebooks" / "html" / f"{name}.html").read_text()
        assert "from_notebook" in html, "the auditors' export keeps the code"
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html), f"{name}.html loads a remote resource"
    assert (out / "tables" / "tables.xlsx").is_file()
    assert (out / "tables" / "officer_by_quadrant.csv").is_file()
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["inputs_sha256"]) >= 3 and all(len(v) == 64 for v in prov["inputs_sha256"].values())
    assert prov["params"]["year"] == 2018 and prov["packages"]["pandas"]
    assert [s["stage"] for s in prov["stages"]] == ["01_clean", "02_score", "03_cross_analysis", "04_significance", "05_report"]
    assert not list(out.parent.glob(".2018.staging-*")), "staging folder left behind"


def test_report_has_no_code_and_no_remote_resources(pipeline_run):
    html = (pipeline_run / "outputs" / "2018" / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "85" in html and "2.55" in html and "2.65" in html
    assert "import rmlib" not in html


def test_no_personal_data_in_outputs(pipeline_run):
    out = pipeline_run / "outputs"
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".json", ".html", ".ipynb"):
            text = f.read_text(errors="ignore")
            assert "@example.org" not in text, f
            assert "Example Care Home" not in text, f


def test_rerun_gives_identical_tables_headlines_and_report(pipeline_run, monkeypatch):
    """Same inputs + same params -> byte-identical tables, headlines.json and report.html (seeded resampling)."""
    import hashlib
    monkeypatch.setenv("RMLIB_ROOT", str(pipeline_run))
    out = pipeline_run / "outputs" / "2018"

    def digests():
        files = [*sorted((out / "tables").glob("*.csv")), out / "headlines.json", out / "report.html"]
        return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}

    before = digests()
    run("params/2018.yaml", say=lambda s: None)
    after = digests()
    assert len(before) > 20
    assert after == before, [k for k in before if before[k] != after.get(k)]


def test_failed_run_leaves_last_good_report_intact(pipeline_run, monkeypatch):
    monkeypatch.setenv("RMLIB_ROOT", str(pipeline_run))
    report = pipeline_run / "outputs" / "2018" / "report.html"
    before = report.read_bytes()
    raw = pipeline_run / "data" / "raw" / "2018" / "officer_survey_2018.csv"
    original = raw.read_bytes()
    try:
        raw.write_bytes(original.replace(b",3,", b",7,", 1))
        with pytest.raises(PipelineError, match="MANIFEST|changed"):
            run("params/2018.yaml", say=lambda s: None)
    finally:
        raw.write_bytes(original)
    assert report.read_bytes() == before
    assert (pipeline_run / "outputs" / "2018" / "validation_errors.csv").is_file()


def test_failing_stage_keeps_report_and_the_failed_notebook(pipeline_run, monkeypatch):
    """A stage that raises: non-zero, one-line reason, last good outputs untouched, failed notebook kept aside."""
    monkeypatch.setenv("RMLIB_ROOT", str(pipeline_run))
    out = pipeline_run / "outputs" / "2018"
    before = (out / "report.html").read_bytes()
    # a notebook cell that raises
    nb = pipeline_run / "notebooks" / "02_score.ipynb"
    original = nb.read_text()
    try:
        nb.write_text(original.replace("head = crosstab.headline(this, last)", "head = crosstab.headline(this, undefined_name)"))
        with pytest.raises(PipelineError, match="stage 02_score failed .*NameError"):
            run("params/2018.yaml", stages=("02_score",), say=lambda s: None)
    finally:
        nb.write_text(original)
    assert (out / "report.html").read_bytes() == before
    assert (out.parent / "2018.failed-02_score.ipynb").is_file()
    assert not list(out.parent.glob(".2018.staging-*"))
    with pytest.raises(PipelineError, match="unknown stage"):
        run("params/2018.yaml", stages=("03_crossanalysis",), say=lambda s: None)


def test_cli_help_and_one_line_error(repo_copy):
    ok = subprocess.run([sys.executable, "-m", "rmlib", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "run" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "rmlib", "run", "params/1999.yaml"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: parameter file not found")
