"""End to end: the 2018 run on the bundled data reproduces the published figures; failures are atomic."""

import json
import re
import subprocess
import sys

import nbformat
import pytest

from rmlib import safety
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
        assert set(g["questions"]) == {
            "share",
            "trust",
            "inclusion",
            "integration",
            "conflicts",
            "roles",
            "direction",
            "responsive",
        }
        for q in g["questions"].values():
            lo, hi = q["ci95"]
            assert q["n"] > 0 and lo < q["mean"] < hi
    assert h["definitions"]["overall"].startswith("mean of the eight question means")
    assert round(h["groups"]["officer"]["change_pct"]) == 8 and round(h["groups"]["provider"]["change_pct"]) == 8


def test_outputs_layout_and_provenance(pipeline_run):
    out = pipeline_run / "outputs" / "2018"
    audit = pipeline_run / "audit" / "2018"
    assert not (out / "notebooks").exists(), "executed notebooks belong to the audit area"
    for name in ("01_clean", "02_score", "03_cross_analysis", "04_significance", "05_report"):
        nb = (audit / "notebooks" / f"{name}.ipynb").read_text()
        sources = "\n".join(c.source for c in nbformat.reads(nb, as_version=4).cells)
        assert 'output_dir = "outputs/{year}"' in sources and "staging" not in nb, "notebooks show the final folders"
        html = (audit / "notebooks" / "html" / f"{name}.html").read_text()
        assert "from_notebook" in html, "the auditors' export keeps the code"
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html), (
            f"{name}.html loads a remote resource"
        )
    assert (out / "tables" / "tables.xlsx").is_file()
    assert (out / "tables" / "officer_by_quadrant.csv").is_file()
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["inputs_sha256"]) >= 3 and all(len(v) == 64 for v in prov["inputs_sha256"].values())
    assert prov["params"]["year"] == 2018 and prov["packages"]["pandas"]
    assert [s["stage"] for s in prov["stages"]] == [
        "01_clean",
        "02_score",
        "03_cross_analysis",
        "04_significance",
        "05_report",
    ]
    for s in prov["stages"]:  # per stage, the fingerprint it used: inputs, parameters, code, its notebook
        fp = s["fingerprint"]
        assert fp["inputs_sha256"] == prov["fingerprint"]["inputs_sha256"] and len(fp["notebook_sha256"]) == 64
        assert "data/raw/2017/officer_survey_2017.csv" in fp["inputs_sha256"], "the baselines' raw data count too"
    for area in ("outputs", "audit", "data/processed"):
        assert not list((pipeline_run / area).glob(".*")), f"staging folder left behind in {area}"
    for folder, kind in ((out, "outputs"), (audit, "audit"), (pipeline_run / "data/processed/2018", "processed")):
        assert safety.read_marker(folder)["kind"] == kind
    assert not list(pipeline_run.glob("kernel-*")), "kernel files in the repository root"


def test_report_has_no_code_and_no_remote_resources(pipeline_run):
    html = (pipeline_run / "outputs" / "2018" / "report.html").read_text()
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "85" in html and "2.55" in html and "2.65" in html
    assert "import rmlib" not in html


def test_no_personal_data_in_outputs(pipeline_run):
    for f in [*(pipeline_run / "outputs").rglob("*"), *(pipeline_run / "audit").rglob("*")]:
        if f.is_file() and f.suffix in (".csv", ".json", ".html", ".ipynb"):
            text = f.read_text(errors="ignore")
            assert "@example.org" not in text, f
            assert "Example Care Home" not in text, f


def _tree(root):
    """sha256 of every file under outputs/, audit/ and data/processed/ (provenance without its timings; kernel
    logs left out: they record the machine - a flush that timed out under load - not the analysis)."""
    import hashlib

    out = {}
    for area in ("outputs", "audit", "data/processed"):
        for f in sorted((root / area).rglob("*")):
            if not f.is_file():
                continue
            if f.suffix == ".log":  # kernel diagnostics say how the machine behaved (e.g. a slow flush), not results
                continue
            data = f.read_bytes()
            if f.name == "provenance.json":
                prov = json.loads(data)
                for k in ("started_utc", "finished_utc"):
                    prov.pop(k)
                for s in prov["stages"]:
                    s.pop("seconds")
                data = json.dumps(prov, sort_keys=True).encode()
            out[str(f.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return out


def test_rerun_gives_identical_files_everywhere_and_no_machine_paths(pipeline_run, monkeypatch):
    """Same inputs + same params -> byte-identical files in outputs/, audit/ and data/processed/ (seeded
    resampling; fixed workbook metadata; no run timings in the notebooks) except provenance's timings;
    no file holds an absolute path of the machine."""
    monkeypatch.setenv("RMLIB_ROOT", str(pipeline_run))
    before = _tree(pipeline_run)
    run("params/2018.yaml", say=lambda s: None)
    after = _tree(pipeline_run)
    assert len(before) > 60 and any("tables.xlsx" in k for k in before) and any(".ipynb" in k for k in before)
    assert after == before, [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    for rel in before:
        text = (pipeline_run / rel).read_bytes()
        assert str(pipeline_run).encode() not in text and b".staging" not in text, rel


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
    assert (pipeline_run / "audit" / "2018.failed" / "validation_errors.csv").is_file()
    assert not (pipeline_run / "outputs" / "2018" / "validation_errors.csv").exists()


def test_failing_stage_keeps_report_and_the_failed_notebook(pipeline_run, monkeypatch):
    """A stage that raises: non-zero, one-line reason, last good outputs untouched, failed notebook kept aside."""
    monkeypatch.setenv("RMLIB_ROOT", str(pipeline_run))
    out = pipeline_run / "outputs" / "2018"
    before = (out / "report.html").read_bytes()
    # a notebook cell that raises
    nb = pipeline_run / "notebooks" / "02_score.ipynb"
    original = nb.read_text()
    try:
        assert "head = score.headline(this, last)" in original
        nb.write_text(
            original.replace("head = score.headline(this, last)", "head = score.headline(this, undefined_name)")
        )
        with pytest.raises(PipelineError, match="stage 02_score failed .*NameError"):
            run("params/2018.yaml", stages=("02_score",), say=lambda s: None)
    finally:
        nb.write_text(original)
    assert (out / "report.html").read_bytes() == before
    failed = pipeline_run / "audit" / "2018.failed"
    assert (failed / "02_score.ipynb").is_file() and "NameError" in (failed / "error.txt").read_text()
    assert not list(out.parent.glob(".2018.staging*")) and not list(out.parent.glob("*.failed*"))
    # a later good (partial, consistent) run clears the diagnostics and changes no published number
    tables = {f.name: f.read_bytes() for f in (out / "tables").glob("*.csv")}
    run("params/2018.yaml", stages=("05_report",), say=lambda s: None)
    assert not failed.exists()
    assert {f.name: f.read_bytes() for f in (out / "tables").glob("*.csv")} == tables
    prov = json.loads((out / "provenance.json").read_text())
    assert [s.get("reused", False) for s in prov["stages"]] == [True, True, True, True, False]
    with pytest.raises(PipelineError, match="unknown stage"):
        run("params/2018.yaml", stages=("03_crossanalysis",), say=lambda s: None)


def test_cli_help_and_one_line_error(repo_copy):
    ok = subprocess.run([sys.executable, "-m", "rmlib", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "run" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "rmlib", "run", "params/1999.yaml"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: parameter file params/1999.yaml not found")
