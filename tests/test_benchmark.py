"""The benchmark (benchmarks/run.py) cannot rot: a smoke run at 1e2 respondents with few resamples.

``run.py --smoke`` generates a size-100 year pair with rmlib.synth, times every
stage of notebooks 01-05 in a subprocess (no kernel), the floors, and a
two-point significance scaling grid. About 15 s on 2 cores.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT

#: a benchmark script run at its smoke size: in make test, not in make test-fast
pytestmark = pytest.mark.benchmark

RUN = ROOT / "benchmarks" / "run.py"


def _load_run():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(RUN.parent))
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_stage_has_positive_timings(smoke):
    results, _ = smoke
    run = _load_run()
    (size,) = results["sizes"]
    assert "error" not in size, size.get("error")
    assert size["respondents"] > 150 and size["rating_rows"] > 5000
    stages = run.stage_summary(size)
    for stage in run.ALL_STAGES:
        assert stage in stages, f"stage {stage} missing from the benchmark"
        assert stages[stage]["seconds"] > 0 and stages[stage]["peak_rss_mb"] > 0
    steps = {r["step"] for r in size["steps"]}
    for fn in (
        "clean.clean_year",
        "crosstab.headline",
        "crosstab.build_tables",
        "stats.add_intervals",
        "stats.compare_cells",
        "disclosure.apply_disclosure",
        "stats.power_table",
        "report.build_context",
        "report.render_report",
    ):
        assert fn in steps
    assert all(r["seconds"] > 0 for r in size["steps"])
    assert size["core_seconds"] > 0 and size["core_max_rss_mb"] > 0


def test_floors_and_ratios(smoke):
    results, _ = smoke
    run = _load_run()
    ratios = run.floor_ratios(results["sizes"][0])
    assert set(ratios) == {"clean", "score", "cross-analysis"}
    assert all(r["floor_seconds"] > 0 and r["ratio"] > 0 for r in ratios.values())


def test_scaling_grid_and_printed_table(smoke):
    results, stdout = smoke
    points = results["scaling"]["points"]
    assert [p["resamples"] for p in points] == [199, 399]
    assert all(p["compare_cells_s"] > 0 and p["tests"] > 0 and p["work_mc"] > 0 for p in points)
    # twice the resamples, twice the Monte Carlo work
    assert points[1]["work_mc"] == pytest.approx(points[0]["work_mc"] * 399 / 199)
    for heading in ("stages by size", "core functions vs floor", "significance scaling"):
        assert heading in stdout


def test_scaled_targets_keep_exact_totals():
    run = _load_run()
    W = run.W
    assert W.largest_remainder({"a": 1, "b": 1, "c": 1}, 4) == {"a": 2, "b": 1, "c": 1}
    for factor in (0.5, 1.03, 10.3, 1031):
        for group, t in W.scaled_targets(2018, factor).items():
            for attr, counts in t.attributes.items():
                assert sum(counts.values()) == t.n, (factor, group, attr)


def test_the_workload_calls_the_stages_step_functions_not_a_copy():
    """Each timed stage of workload.py imports its rmlib.stages module and calls no analysis function of its
    own (so the benchmark measures what the notebooks run)."""
    import ast
    import inspect

    run = _load_run()
    W = run.W
    for fn, key in (
        (W.stage_clean, "clean"),
        (W.stage_score, "score"),
        (W.stage_cross, "cross_analysis"),
        (W.stage_significance, "significance"),
        (W.stage_report, "report"),
    ):
        tree = ast.parse(inspect.getsource(fn).lstrip())
        imported = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "rmlib.stages"
            for a in n.names
        }
        assert imported == {key}, fn.__name__
        called = {
            ast.unparse(n.func.value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        assert not called & {"crosstab", "stats", "disclosure", "report", "scoring", "clean"}, (fn.__name__, called)
