"""Performance benchmark of the pipeline at 1e2 - 1e5 respondents (``make bench``).

What it does
------------
1. For each size (the number of 2018 providers; every other group of 2017
   and 2018 keeps its proportion to it, so size 100 is about the bundled
   example and size 100 000 is 188 000 respondents and 8.7 M rating rows in
   2018), it generates synthetic exports with :mod:`rmlib.synth` (scaled
   copies of ``synth.TARGETS``) in a subprocess, then, in a *fresh*
   subprocess, runs each stage's step functions (``rmlib.stages``) exactly as
   notebooks 01-05 call them (see ``workload.py``), timing every step and sampling peak memory. Each
   size runs in its own process so that ``ru_maxrss`` is that size's peak.
2. For clean, score and cross-analysis it times a *floor* on the same data
   (the least pandas work giving the same means: ``read_csv`` + melt; a bare
   groupby-mean per output; a merge + groupby-mean per breakdown table) and
   prints the ratio.
3. Significance: the cost is resampling, so it is shown as a scaling grid
   (sizes x resample counts) with the work it implies (tests x resamples x
   respondents) and a linear fit.
4. The whole notebook pipeline (``python -m rmlib run``, one kernel per
   notebook) on a copy of the repository: the bundled example (what a warm
   ``make report`` runs) and size 100.

Results: a table on stdout and JSON in ``benchmarks/results/`` (git-ignored;
``benchmarks/README.md`` keeps a summary).

Run: ``.venv/bin/python benchmarks/run.py`` (``--help`` for options;
``--smoke`` is the quick version ``tests/test_benchmark.py`` runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import workload as W  # noqa: E402

DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)
CORE_STAGES = ("clean", "score", "cross-analysis", "significance")
ALL_STAGES = (*CORE_STAGES, "report")
#: targets of issue 8 (2 cores)
TARGETS = {"make_report_s": 45.0, "core_1e5_s": 60.0, "core_1e5_gb": 4.0, "floor_ratio": 3.0}
#: smallest size at which the floor-ratio target is checked (smaller: fixed per-call costs of a few ms dominate)
FLOOR_TARGET_MIN_SIZE = 10_000


# ----------------------------------------------------------------------------- subprocess plumbing
def _child(args: list[str], timeout: float | None = None) -> dict:
    """Run this script with ``args`` in a fresh interpreter; return the JSON it writes (or the error)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--json-out", str(out)]
    env = {**os.environ, "RMLIB_ROOT": str(ROOT), "PYTHONHASHSEED": "0"}
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "wall_seconds": wall}
        data = json.loads(out.read_text())
        data["wall_seconds"] = wall
        return data
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s", "wall_seconds": time.perf_counter() - t}
    finally:
        out.unlink(missing_ok=True)


def _ram_gb() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 1e9
    except ImportError:  # pragma: no cover
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) / 1e9


# ----------------------------------------------------------------------------- child entry points
def _child_generate(size: int, workdir: Path, seed: int) -> dict:
    t = time.perf_counter()
    info = W.generate(workdir, size, seed=seed)
    return {
        "size": size,
        "years": {str(k): v for k, v in info.items()},
        "seconds": time.perf_counter() - t,
        "max_rss_mb": W.max_rss_mb(),
    }


def _child_measure(workdir: Path, resamples: int, significance: bool, report: bool) -> dict:
    sampler = W.PeakRSS()
    try:
        res = W.run_size(workdir, resamples, significance=significance, report=report, sampler=sampler)
    finally:
        sampler.close()
    return res


def _child_scaling(workdirs: list[str], resamples: list[int]) -> dict:
    """Time the significance stage's interval and comparison steps at each (size, resample count), on
    already-cleaned data (the steps of rmlib.stages.significance, as notebook 04 calls them)."""
    import dataclasses

    from rmlib.stages import cross_analysis as cross
    from rmlib.stages import significance as sig

    points = []
    for wd in map(Path, workdirs):
        P = W.params_for(wd, W.YEAR)
        this, last = cross.load(P)
        cells = cross.cells(cross.tables(this, last, P.multi_select_rule))
        resp, resp_last = sig.sums(this, last)
        for R in resamples:
            P_R = dataclasses.replace(P, n_resamples=R)  # below the 999 a run allows: a grid point
            t = time.perf_counter()
            ci = sig.intervals(P_R, cells, resp, this, {})  # scaled groups: no invitation counts (workload.py)
            t_ci = time.perf_counter() - t
            t = time.perf_counter()
            out = sig.compare(P_R, ci, resp, this, resp_last, last)
            t_cmp = time.perf_counter() - t
            points.append(
                {
                    "size": int(wd.name.split("-")[-1]),
                    "respondents": int(len(this.respondents)),
                    "resamples": R,
                    "cells": int(len(cells)),
                    **_work(out, ci, R),
                    "add_intervals_s": t_ci,
                    "compare_cells_s": t_cmp,
                }
            )
    return {"points": points}


def _work(out, ci, R: int) -> dict:
    """The resampling work a significance run implies.

    Tests: every comparison made (p not NaN). Monte Carlo permutation tests
    cost ``R`` splits, exact ones ``C(n_a + n_b, n_a)``; the work counted is
    splits x respondents of both sides (an upper bound: a split's sums are
    gathered from the smaller side's rows when that is much the smaller).
    Large-sample Welch t tests (both sides >= ``stats.LARGE_SAMPLE_N``) do no
    resampling. Bootstrap intervals (overall cells of 100-999 respondents):
    R x n.
    """
    from rmlib import stats

    tests = mc_tests = 0
    work_mc = work_exact = 0.0
    for k in stats.COMPARISON_KINDS:
        if f"{k}_p" not in out:
            continue
        done = out[f"{k}_p"].notna()
        sub = out[done]
        tests += int(done.sum())
        for n_a, n_b, method in zip(sub["n"].astype(int), sub[f"{k}_n_other"].astype(int), sub[f"{k}_p_method"]):
            if method == "exact":
                work_exact += math.comb(n_a + n_b, n_a) * (n_a + n_b)
            elif method == "monte carlo":
                mc_tests += 1
                work_mc += R * (n_a + n_b)
    boot = ci[ci["ci_method"] == "bootstrap_percentile"]
    return {
        "tests": tests,
        "mc_tests": mc_tests,
        "work_mc": work_mc,
        "work_exact": work_exact,
        "boot_cells": int(len(boot)),
        "work_boot": float(R * boot["n"].sum()),
    }


# ----------------------------------------------------------------------------- parent: one size
def measure_size(
    size: int,
    resamples: int,
    workroot: Path,
    seed: int = 20161101,
    significance_max: int | None = None,
    report_max: int | None = None,
    timeout: float | None = None,
    say=print,
) -> dict:
    """Generate (subprocess) then measure (fresh subprocess) one size.

    Significance runs up to ``significance_max`` and report assembly (which
    needs it) up to ``report_max`` (None: every size).
    """
    wd = workroot / f"size-{size}"
    gen = _child(["--_generate", str(size), "--workdir", str(wd), "--seed", str(seed)], timeout=timeout)
    if "error" in gen:
        return {"size": size, "error": "generate: " + gen["error"]}
    say(
        f"  size {size}: generated {gen['years'][str(W.YEAR)]['respondents']} + "
        f"{gen['years'][str(W.COMPARE_YEAR)]['respondents']} respondents in {gen['seconds']:.1f}s"
    )
    significance = significance_max is None or size <= significance_max
    report = significance and (report_max is None or size <= report_max)
    args = ["--_measure", "--workdir", str(wd), "--resamples", str(resamples)]
    if not significance:
        args.append("--no-significance")
    if not report:
        args.append("--no-report")
    res = _child(args, timeout=timeout)
    res["size"] = size
    res["generate"] = gen
    res["resamples"] = resamples
    return res


def pipeline_bench(kind: str, workroot: Path, seed: int = 20161101, timeout: float | None = None) -> dict:
    """``python -m rmlib run params/2018.yaml`` on a copy of the repository (bundled data, or a scaled size)."""
    dest = workroot / f"pipeline-{kind}"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("params", "notebooks", "data/raw"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    if kind != "bundled":
        for year in (W.COMPARE_YEAR, W.YEAR):
            shutil.rmtree(dest / "data" / "raw" / str(year))
        gen = _child(["--_generate", kind, "--workdir", str(dest / "gen"), "--seed", str(seed)], timeout=timeout)
        if "error" in gen:
            return {"kind": kind, "error": gen["error"]}
        for year in (W.COMPARE_YEAR, W.YEAR):
            shutil.move(str(dest / "gen" / "raw" / str(year)), dest / "data" / "raw" / str(year))
    env = {**os.environ, "RMLIB_ROOT": str(dest)}
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "rmlib", "run", "params/2018.yaml"],
            cwd=dest,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"kind": kind, "error": f"timed out after {timeout:.0f}s"}
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"kind": kind, "error": (proc.stderr or proc.stdout).strip().splitlines()[-5:], "seconds": wall}
    prov = json.loads((dest / "outputs" / "2018" / "provenance.json").read_text())
    baselines = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("baseline")]
    return {"kind": kind, "seconds": wall, "stages": prov.get("stages", []), "baselines": baselines}


# ----------------------------------------------------------------------------- summaries
def stage_summary(res: dict) -> dict:
    """Seconds, compute seconds and peak RSS per stage of one measured size."""
    out: dict[str, dict] = {}
    for row in res.get("steps", []):
        st = out.setdefault(row["stage"], {"seconds": 0.0, "compute_seconds": 0.0, "peak_rss_mb": 0.0, "steps": 0})
        st["seconds"] += row["seconds"]
        st["compute_seconds"] += row["seconds"] if row["kind"] == "compute" else 0.0
        st["peak_rss_mb"] = max(st["peak_rss_mb"], row["peak_rss_mb"])
        st["steps"] += 1
    return out


#: the core function(s) of each stage, compared with the stage's floor
FLOOR_STEPS = {
    "clean": ("clean.clean_year",),
    "cross-analysis": ("crosstab.build_tables",),
    "score": (
        "crosstab.headline",
        "crosstab.build_tables (the 2 by question)",
        "scoring.maturity_table",
        "crosstab.responses_by_year",
        "crosstab.trend",
    ),
}


def floor_ratios(res: dict) -> dict:
    """Core function(s) / floor per stage (score and cross-analysis: the minimum of repeated alternating runs)."""
    out = {}
    for stage, steps in FLOOR_STEPS.items():
        secs = res.get("floor_repeats", {}).get(stage)
        if secs is None:
            secs = sum(r["seconds"] for r in res.get("steps", []) if r["stage"] == stage and r["step"] in steps)
        floor = res.get("floors", {}).get(stage)
        if floor:
            out[stage] = {"seconds": secs, "floor_seconds": floor, "ratio": secs / floor}
    return out


def fit_linear(points: list[dict]) -> dict:
    """Per size, least squares over the resample counts: ``seconds = intercept + slope * work``.

    ``work`` is resamples x respondents summed over the Monte Carlo tests
    (compare_cells) or over the bootstrapped overall cells (add_intervals).
    A slope that stays the same from size to size means the resampling cost
    is linear in tests x resamples x respondents; the intercept is what does
    not depend on the resample count (exact tests, effect sizes, look-ups).
    """
    import numpy as np

    fits: dict[str, dict] = {}
    for size in sorted({p["size"] for p in points}):
        pts = [p for p in points if p["size"] == size]
        for y, x in (("compare_cells_s", "work_mc"), ("add_intervals_s", "work_boot")):
            xs = np.array([p[x] for p in pts], float)
            ys = np.array([p[y] for p in pts], float)
            if len(xs) < 2 or np.ptp(xs) == 0:
                continue
            A = np.vstack([np.ones_like(xs), xs]).T
            (a, b), *_ = np.linalg.lstsq(A, ys, rcond=None)
            pred = a + b * xs
            ss = float(((ys - ys.mean()) ** 2).sum())
            fits[f"{y} @ size {size}"] = {
                "size": size,
                "what": y,
                "intercept_s": float(a),
                "ns_per_unit": float(b * 1e9),
                "r2": 1 - float(((ys - pred) ** 2).sum()) / ss if ss > 0 else float("nan"),
            }
    return fits


def _fmt_s(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def format_report(results: dict) -> str:
    lines = []
    sizes = results.get("sizes", [])
    lines.append(
        f"== stages by size (seconds; compute only in brackets where I/O is part of the stage; "
        f"n_resamples={results['settings']['resamples']}) =="
    )
    head = (
        f"{'size':>7} {'resp.':>8} {'ratings':>9} "
        + " ".join(f"{s:>16}" for s in ALL_STAGES)
        + f" {'core s':>8} {'core MB':>8}"
    )
    lines.append(head)
    for res in sizes:
        if "error" in res:
            lines.append(f"{res['size']:>7} ERROR {res['error']}")
            continue
        st = stage_summary(res)
        cells = []
        for s in ALL_STAGES:
            v = st.get(s)
            cells.append(f"{_fmt_s(v['seconds']):>7} ({_fmt_s(v['compute_seconds']):>6})" if v else f"{'-':>16}")
        lines.append(
            f"{res['size']:>7} {res['respondents']:>8} {res['rating_rows']:>9} "
            + " ".join(cells)
            + f" {_fmt_s(res['core_seconds']):>8} {res['core_max_rss_mb']:>8.0f}"
        )
    lines.append("")
    lines.append(
        "== core functions vs floor (seconds; ratio = function / floor; target <= 3 for score and cross-analysis) =="
    )
    lines.append(f"{'size':>7} " + " ".join(f"{s + ' fn/floor':>32}" for s in FLOOR_STEPS))
    for res in sizes:
        if "error" in res:
            continue
        fr = floor_ratios(res)
        lines.append(
            f"{res['size']:>7} "
            + " ".join(
                f"{_fmt_s(fr[s]['seconds']):>11} / {_fmt_s(fr[s]['floor_seconds']):>8} = {fr[s]['ratio']:>6.2f}x"
                if s in fr
                else f"{'-':>32}"
                for s in FLOOR_STEPS
            )
        )
    lines.append("")
    lines.append("== steps (seconds, peak RSS MB during the step) ==")
    for res in sizes:
        if "error" in res:
            continue
        lines.append(
            f"-- size {res['size']} ({res['respondents']} respondents, {res['rating_rows']} rating rows; "
            f"process peak {res['max_rss_mb']:.0f} MB)"
        )
        for r in res["steps"]:
            lines.append(
                f"   {r['stage']:<30} {r['step']:<52} {r['seconds']:>8.3f} {r['peak_rss_mb']:>8.0f}"
                + ("  io" if r["kind"] == "io" else "")
            )
    sc = results.get("scaling")
    if sc:
        lines.append("")
        lines.append("== significance scaling: add_intervals + compare_cells at sizes x resample counts ==")
        lines.append("   (work = resamples x respondents summed over Monte Carlo tests / bootstrapped cells)")
        lines.append(
            f"{'size':>7} {'resp.':>7} {'R':>6} {'tests':>6} {'MC':>5} {'work_mc':>10} {'boot':>5} "
            f"{'work_boot':>10} {'intervals s':>11} {'compare s':>10}"
        )
        for p in sc.get("points", []):
            lines.append(
                f"{p['size']:>7} {p['respondents']:>7} {p['resamples']:>6} {p['tests']:>6} {p['mc_tests']:>5} "
                f"{p['work_mc']:>10.3g} {p['boot_cells']:>5} {p['work_boot']:>10.3g} "
                f"{p['add_intervals_s']:>11.2f} {p['compare_cells_s']:>10.2f}"
            )
        lines.append("   per-size fit over the resample counts: seconds = intercept + slope x work")
        for f in sc.get("fit", {}).values():
            lines.append(
                f"   {f['what']:<16} size {f['size']:>6}: {f['intercept_s']:6.2f} s + {f['ns_per_unit']:6.2f} ns x work"
                f"   (R^2 = {f['r2']:.3f})"
            )
    pipes = results.get("pipeline") or []
    if pipes:
        lines.append("")
        lines.append(
            f"== full pipeline: python -m rmlib run params/2018.yaml (one kernel per notebook; "
            f"target {TARGETS['make_report_s']:.0f} s for the bundled example) =="
        )
        for p in pipes:
            if "error" in p:
                lines.append(f"   {p['kind']:<8} ERROR {p['error']}")
                continue
            st = ", ".join(f"{s['stage']} {s['seconds']:.1f}" for s in p["stages"])
            lines.append(f"   {p['kind']:<8} {p['seconds']:6.1f} s   [{st}]")
    return "\n".join(lines)


def check(results: dict) -> list[str]:
    """Which targets are met (text lines)."""
    out = []
    for p in results.get("pipeline") or []:
        if p.get("kind") == "bundled" and "seconds" in p:
            ok = p["seconds"] <= TARGETS["make_report_s"]
            out.append(
                f"{'MET ' if ok else 'MISS'} warm make report on the example: {p['seconds']:.1f} s "
                f"(target {TARGETS['make_report_s']:.0f} s)"
            )
    for res in results.get("sizes", []):
        if "error" in res:
            out.append(f"MISS size {res['size']}: {res['error']}")
            continue
        if res["size"] >= 100_000:
            gb = res["core_max_rss_mb"] / 1024
            sig = res.get("significance") is not None
            ok = res["core_seconds"] <= TARGETS["core_1e5_s"] and gb <= TARGETS["core_1e5_gb"] and sig
            out.append(
                f"{'MET ' if ok else 'MISS'} size {res['size']}: clean+score+cross"
                f"{'+significance' if sig else ' (significance NOT run)'} {res['core_seconds']:.1f} s, "
                f"{gb:.2f} GB (targets {TARGETS['core_1e5_s']:.0f} s, {TARGETS['core_1e5_gb']:.0f} GB)"
            )
        for stage, fr in floor_ratios(res).items():
            # the ratio target is for data-bound sizes; below 1e4 both sides are milliseconds of per-call overhead
            if stage in ("score", "cross-analysis") and res["size"] >= FLOOR_TARGET_MIN_SIZE:
                ok = fr["ratio"] <= TARGETS["floor_ratio"]
                out.append(f"{'MET ' if ok else 'MISS'} size {res['size']}: {stage} {fr['ratio']:.2f}x floor")
    return out


# ----------------------------------------------------------------------------- main
def run(
    sizes=DEFAULT_SIZES,
    resamples: int = 999,
    scaling_sizes=(100, 1_000, 3_000),
    scaling_resamples=(199, 999, 2999),
    pipeline=("bundled", "100"),
    significance_max: int | None = None,
    report_max: int | None = None,
    workroot: Path | None = None,
    keep: bool = False,
    say=print,
) -> dict:
    """Run the benchmark; return the results dict (what is written as JSON)."""
    own = workroot is None
    workroot = Path(workroot or tempfile.mkdtemp(prefix="rmlib-bench-"))
    results: dict = {
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "ram_gb": round(_ram_gb(), 1),
        },
        "settings": {
            "sizes": list(sizes),
            "resamples": resamples,
            "scaling_sizes": list(scaling_sizes),
            "scaling_resamples": list(scaling_resamples),
            "pipeline": list(pipeline),
        },
        "targets": TARGETS,
        "sizes": [],
    }
    try:
        for size in sizes:
            say(f"size {size} ...")
            res = measure_size(
                size, resamples, workroot, significance_max=significance_max, report_max=report_max, say=say
            )
            results["sizes"].append(res)
            if "error" in res:
                say(f"  ERROR {res['error']}")
            else:
                say(
                    f"  core (clean+score+cross+significance) {res['core_seconds']:.1f}s, "
                    f"peak {res['core_max_rss_mb']:.0f} MB"
                )
        if scaling_sizes and scaling_resamples:
            say("significance scaling ...")
            dirs = []
            for size in scaling_sizes:
                wd = workroot / f"size-{size}"
                if not (wd / "processed" / str(W.YEAR) / "ratings.parquet").is_file():
                    gen = _child(["--_generate", str(size), "--workdir", str(wd)])
                    if "error" in gen:
                        continue
                    _child(
                        ["--_measure", "--workdir", str(wd), "--resamples", "999", "--no-significance", "--no-report"]
                    )
                dirs.append(str(wd))
            sc = _child(["--_scaling", *dirs, "--resamples-list", *map(str, scaling_resamples)])
            if "error" not in sc:
                sc["fit"] = fit_linear(sc["points"])
            results["scaling"] = sc
        results["pipeline"] = []
        for kind in pipeline:
            say(f"pipeline ({kind}) ...")
            p = pipeline_bench(kind, workroot)
            results["pipeline"].append(p)
            say(f"  {p.get('seconds', float('nan')):.1f}s" if "error" not in p else f"  ERROR {p['error']}")
    finally:
        if own and not keep:
            shutil.rmtree(workroot, ignore_errors=True)
    results["checks"] = check(results)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        help="2018 providers per size (default: 100 1000 10000 100000)",
    )
    ap.add_argument(
        "--resamples",
        type=int,
        default=999,
        help="permutations / bootstrap draws in the significance stage (the notebooks use 9999)",
    )
    ap.add_argument("--scaling-sizes", type=int, nargs="*", default=[100, 1_000, 3_000])
    ap.add_argument("--scaling-resamples", type=int, nargs="*", default=[199, 999, 2999])
    ap.add_argument(
        "--pipeline",
        nargs="*",
        default=["bundled", "100"],
        help="full notebook runs: 'bundled' and/or sizes (default: bundled 100)",
    )
    ap.add_argument(
        "--significance-max",
        type=int,
        default=None,
        help="largest size at which the significance stage runs (default: every size)",
    )
    ap.add_argument(
        "--report-max", type=int, default=None, help="largest size at which report assembly runs (default: every size)"
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="quick check: size 100, 199 resamples, a 2-point scaling grid, no notebook run",
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="JSON file (default: benchmarks/results/bench-<UTC time>.json)"
    )
    ap.add_argument("--workdir", type=Path, default=None, help="keep generated data here (default: a temp folder)")
    # internal: the subprocesses
    ap.add_argument("--_generate", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_measure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_scaling", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--resamples-list", type=int, nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--no-significance", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=20161101, help=argparse.SUPPRESS)
    ap.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a._generate is not None:
        data = _child_generate(a._generate, a.workdir, a.seed)
    elif a._measure:
        data = _child_measure(a.workdir, a.resamples, not a.no_significance, not a.no_report)
    elif a._scaling:
        data = _child_scaling(a._scaling, a.resamples_list)
    else:
        if a.smoke:
            results = run(
                sizes=[100],
                resamples=199,
                scaling_sizes=[100],
                scaling_resamples=[199, 399],
                pipeline=[],
                workroot=a.workdir,
                keep=a.workdir is not None,
            )
        else:
            results = run(
                sizes=a.sizes,
                resamples=a.resamples,
                scaling_sizes=a.scaling_sizes,
                scaling_resamples=a.scaling_resamples,
                pipeline=a.pipeline,
                significance_max=a.significance_max,
                report_max=a.report_max,
                workroot=a.workdir,
                keep=a.workdir is not None,
            )
        print()
        print(format_report(results))
        print()
        print("\n".join(results["checks"]))
        out = a.out or HERE / "results" / f"bench-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=str) + "\n")
        print(f"\nresults: {out}")
        return 0
    if a.json_out:
        a.json_out.write_text(json.dumps(data, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
