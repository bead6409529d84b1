"""The benchmark's workload: scaled synthetic years and the pipeline's stages as plain function calls.

Each ``stage_*`` function calls the step functions of :mod:`rmlib.stages` that
the notebook of the same number calls (``notebooks/01..05``), with the same
parameters and the same artefact registry, minus the kernel; every step is
timed separately (wall clock) and the peak resident memory of the process
during the step is sampled. ``floor_*`` functions do
the least pandas work that yields the same cell means, for comparison.

Nothing here writes inside the repository: every path is under a work
folder given by the caller.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import resource
import threading
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from rmlib import synth
from rmlib.params import Params, load_params, validate

ROOT = Path(__file__).resolve().parents[1]
#: the two years generated: the report year and its comparison year
YEAR, COMPARE_YEAR = 2018, 2017
#: the 2018 provider count that size 1 x corresponds to (every group of both years scales by size / 97)
BASE_PROVIDERS = synth.TARGETS[YEAR]["provider"].n


# ----------------------------------------------------------------------------- memory
class PeakRSS:
    """Sample the resident set size of this process in a thread; ``peak()`` since the last ``reset()``.

    ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` gives the peak of the whole
    process only; sampling every few milliseconds gives the peak of each step
    (a very short spike between two samples can be missed).
    """

    def __init__(self, interval: float = 0.005):
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:  # pragma: no cover - psutil is in the lock file
            self._proc = None
        self.interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        if self._proc is not None:
            return self._proc.memory_info().rss
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self.rss())
            time.sleep(self.interval)

    def reset(self) -> None:
        self._peak = self.rss()

    def peak(self) -> int:
        return max(self._peak, self.rss())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Collects one row per timed step: stage, step, seconds, peak RSS during the step (MB)."""

    def __init__(self, sampler: PeakRSS | None = None):
        self.rows: list[dict] = []
        self.sampler = sampler

    @contextlib.contextmanager
    def step(self, stage: str, step: str, kind: str = "compute", **extra):
        """Time a block; ``kind`` is "compute" or "io" (reading / writing files), for the floor ratios."""
        if self.sampler is not None:
            self.sampler.reset()
        t = time.perf_counter()
        yield
        secs = time.perf_counter() - t
        peak = self.sampler.peak() / 2**20 if self.sampler is not None else float("nan")
        self.rows.append({"stage": stage, "step": step, "kind": kind, "seconds": secs, "peak_rss_mb": peak, **extra})

    def call(self, stage: str, step: str, fn: Callable, *args, kind: str = "compute", **kwargs):
        with self.step(stage, step, kind):
            return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- scaled targets
def largest_remainder(counts: dict[str, int], n: int) -> dict[str, int]:
    """Scale ``counts`` to sum exactly to ``n`` (Hamilton / largest remainder; ties by listed order).

    >>> largest_remainder({"a": 1, "b": 1, "c": 1}, 4)
    {'a': 2, 'b': 1, 'c': 1}
    >>> largest_remainder({"North": 14, "South": 4, "(multi)": 3}, 42)
    {'North': 28, 'South': 8, '(multi)': 6}
    """
    total = sum(counts.values())
    if total <= 0 or n < 0:
        raise ValueError(f"cannot scale counts {counts} to {n}")
    quota = {k: v * n / total for k, v in counts.items()}
    out = {k: math.floor(q) for k, q in quota.items()}
    order = list(counts)
    left = n - sum(out.values())
    for k in sorted(order, key=lambda k: (-(quota[k] - out[k]), order.index(k)))[:left]:
        out[k] += 1
    return out


def scaled_targets(year: int, factor: float) -> dict[str, synth.GroupTargets]:
    """``synth.TARGETS[year]`` with every group ``factor`` times as large.

    Attribute counts are scaled with exact totals (largest remainder), the
    average 'no contact' counts per department proportionally; means,
    effects and the comment rate are unchanged. Published per-question
    precision is only demanded of the bundled 2016 data, so ``exact_questions``
    stays as it is (False for 2017 and 2018).
    """
    out = {}
    for group, t in synth.TARGETS[year].items():
        n = max(4, round(t.n * factor))
        out[group] = dataclasses.replace(
            t,
            n=n,
            attributes={a: largest_remainder(c, n) for a, c in t.attributes.items()},
            no_contact={d: v * n / t.n for d, v in t.no_contact.items()},
        )
    return out


def generate(workdir: Path, providers: int, seed: int = 20161101) -> dict:
    """Write scaled raw exports for the report year and its comparison year under ``workdir/raw``.

    Size is the number of 2018 providers; every other group of both years
    keeps its 2018 proportion (2018: 97 providers, 85 officers; 2017: 111
    and 29). Returns the respondents and rating rows written per year.
    """
    factor = providers / BASE_PROVIDERS
    info = {}
    for year in (COMPARE_YEAR, YEAR):
        targets = scaled_targets(year, factor)
        t = time.perf_counter()
        synth.generate_year(
            year,
            workdir / "raw",
            seed=seed,
            targets=targets,
            codebook_path=ROOT / "params" / "codebooks" / f"{year}.yaml",
        )
        info[year] = {
            "providers": targets["provider"].n,
            "officers": targets["officer"].n,
            "respondents": targets["provider"].n + targets["officer"].n,
            "rating_rows": targets["provider"].n * 80 + targets["officer"].n * 8,
            "seconds": time.perf_counter() - t,
        }
    return info


def params_for(workdir: Path, year: int, n_resamples: int = 9999) -> Params:
    """The repository's ``params/<year>.yaml`` with every data path moved under ``workdir``."""
    base = load_params(ROOT / "params" / f"{year}.yaml").to_dict()
    base.update(
        codebook=str(ROOT / "params" / "codebooks" / f"{year}.yaml"),
        raw_dir=str(workdir / "raw" / str(year)),
        processed_dir=str(workdir / "processed"),
        output_dir=str(workdir / "outputs" / "{year}"),
        audit_dir=str(workdir / "audit" / "{year}"),
        themes=str(ROOT / "params" / "themes.yaml"),
        redaction=str(ROOT / "params" / "redaction.yaml"),
    )
    if n_resamples >= 999:
        base["n_resamples"] = n_resamples
    return validate(base, source=f"benchmark params {year}")


# ----------------------------------------------------------------------------- the stages
# Each stage calls the step functions of rmlib.stages.<stage> that its notebook's cells call, in the same
# order, and writes through the same artefact registry; only the timing around each call is added.
def stage_clean(P: Params, timer: Timer, stage: str = "clean") -> None:
    """rmlib.stages.clean (notebooks/01_clean): validate + tidy, write the processed tables, summary and log."""
    from rmlib.stages import clean as steps

    result = timer.call(stage, "clean.clean_year", steps.clean_year, P)
    summary = timer.call(stage, "clean.summary", steps.summary, result)
    timer.call(stage, "write processed tables + summary + log", steps.write, P, result, summary, kind="io")


def stage_score(P: Params, timer: Timer) -> None:
    """rmlib.stages.score (notebooks/02_score): headline, by-question tables, maturity, trend over every year."""
    from rmlib.stages import score as steps

    s = "score"
    years, this, last = timer.call(s, "load_years (parquet, every year once)", steps.load, P, kind="io")
    head = timer.call(s, "crosstab.headline", steps.headline, this, last)
    by_q = timer.call(
        s, "crosstab.build_tables (the 2 by question)", steps.by_question, this, last, P.multi_select_rule
    )
    maturity = timer.call(s, "scoring.maturity_table", steps.maturity, by_q)
    responses = timer.call(s, "crosstab.responses_by_year", steps.responses, years)
    trend = timer.call(s, "crosstab.trend", steps.trend, years)
    timer.call(
        s,
        "write tables",
        steps.write,
        P,
        {"headline": head, "maturity": maturity, "responses_by_year": responses, "trend_by_question": trend},
        kind="io",
    )


def stage_cross(P: Params, timer: Timer) -> None:
    """rmlib.stages.cross_analysis (notebooks/03_cross_analysis): every breakdown table, no contact, caveats."""
    from rmlib import artefacts
    from rmlib.stages import cross_analysis as steps

    s = "cross-analysis"
    this, last = timer.call(s, "load_year x2 (parquet)", steps.load, P, kind="io")
    tables = timer.call(s, "crosstab.build_tables", steps.tables, this, last, P.multi_select_rule)
    no_contact = timer.call(s, "crosstab.no_contact_table", steps.no_contact, this)
    trend = timer.call(s, "read trend_by_question", artefacts.read, P, "trend_by_question", kind="io")
    caveats = timer.call(s, "crosstab.caveats", steps.caveats, P, tables, this, last, trend)
    cells = timer.call(s, "concat cells", steps.cells, tables)
    timer.call(s, "write tables", steps.write, P, cells, no_contact, caveats, kind="io")


def stage_significance(P: Params, timer: Timer, n_resamples: int, power: bool = True) -> dict:
    """rmlib.stages.significance (notebooks/04_significance) with ``n_resamples`` permutations / bootstrap draws.

    The scaled groups are larger than the 2018 invitation counts of ``params/narrative/``, so the
    finite-population correction gets no population here (the bundled run's notebook applies it).
    ``power=False`` leaves out the power table and so writes nothing (the stage's tables go together).
    Returns the number of cells, of comparisons tested, and of those tested by resampling
    (permutation) rather than the large-sample Welch t.
    """
    from rmlib import artefacts, stats
    from rmlib.stages import significance as steps

    s = "significance"
    P = dataclasses.replace(P, n_resamples=n_resamples)  # below the 999 a run allows, for the scaling grid
    this, last = timer.call(s, "load_year x2 (parquet)", steps.load, P, kind="io")
    cells = timer.call(s, "read cells", artefacts.read, P, "cells", kind="io")
    resp, resp_last = timer.call(s, "crosstab.resampling_sums x2", steps.sums, this, last)
    cells = timer.call(s, "stats.add_intervals", steps.intervals, P, cells, resp, this, {})
    cells = timer.call(s, "stats.compare_cells", steps.compare, P, cells, resp, this, resp_last, last)
    families = timer.call(s, "stats.effective_alpha", steps.families, P, cells)
    cells = timer.call(s, "disclosure.apply_disclosure", steps.protect, P, cells)
    findings = timer.call(s, "report.findings", steps.findings, P, cells)
    if power:
        pw = timer.call(s, "stats.power_table", steps.power, P, cells, resp, this, families)
        head = artefacts.read(P, "headline")
        timer.call(s, "write tables + headlines.json", steps.write, P, cells, pw, findings, families, head, kind="io")
    tested = sum(int(cells[f"{k}_p"].notna().sum()) for k in stats.COMPARISON_KINDS)
    permuted = sum(int(cells[f"{k}_p_method"].isin(["exact", "monte carlo"]).sum()) for k in stats.COMPARISON_KINDS)
    return {"cells": int(len(cells)), "tests": tested, "permutation_tests": permuted}


def stage_report(P: Params, timer: Timer) -> None:
    """rmlib.stages.report (notebooks/05_report): comments, report context, HTML, table export.

    Figures are drawn into the report but not also written as PNG and SVG files (the notebook's
    ``figures=True``), as the benchmark has always measured it.
    """
    from rmlib import artefacts
    from rmlib.stages import report as steps

    s = "report"
    this = timer.call(s, "load_year (parquet)", steps.load, P, kind="io")
    comments = timer.call(s, "report.analyse_comments", steps.comments, P, this)
    context = timer.call(s, "report.build_context", steps.context, P, comments, False)
    html = timer.call(s, "report.render_report", steps.render, context)
    timer.call(s, "report.write_report", steps.write_report, P, html, kind="io")
    cells = timer.call(s, "read cells_tested", artefacts.read, P, "cells_tested", kind="io")
    timer.call(s, "report.export_tables (csv + xlsx)", steps.export, P, comments, cells, kind="io")


# ----------------------------------------------------------------------------- floors
def floor_clean(P: Params, codebook_path: Path | None = None) -> float:
    """Least work for the clean stage: ``pandas.read_csv`` of the exports, ratings melted long, labels coded."""
    from rmlib.codebook import load_codebook

    cb = load_codebook(codebook_path or P.path("codebook"))
    t = time.perf_counter()
    for group, spec in cb.files.items():
        raw = pd.read_csv(
            P.path("raw_dir") / spec.file,
            skiprows=spec.skip_rows,
            dtype=str,
            keep_default_na=False,
            encoding="cp1252" if spec.encoding == "cp1252" else "utf-8-sig",
        )
        rating_cols = [r.header for r in cb.rating_columns(group) if r.header in raw.columns]
        long = raw[rating_cols].melt(var_name="column", value_name="label")
        codes = {k.lower(): (v if v != "no_contact" else 0) for k, v in cb._raw_score_labels.items()}
        long["score"] = long["label"].str.strip().str.lower().map(codes)
    return time.perf_counter() - t


def floor_score(this, last) -> float:
    """Least work for the score stage's outputs: one bare groupby-mean by question per output and year.

    Notebook 02 makes the headline (both groups), the officers' and the
    providers' by-question tables and the trend, each for this year and last:
    eight means by (group,) question over the ratings, here with no n, no
    overall, no change.
    """
    t = time.perf_counter()
    for d in (this, last):
        r = d.ratings
        r.groupby(["group", "question"], observed=True)["score"].mean()  # headline
        for g in ("officer", "provider"):  # by-question tables
            r[r["group"] == g].groupby("question", observed=True)["score"].mean()
        r.groupby(["group", "question"], observed=True)["score"].mean()  # trend
    return time.perf_counter() - t


def floor_cross(this, last, specs=None) -> float:
    """Least work for every breakdown table: per table and year, one merge and one groupby-mean.

    Attribute tables: the ratings merged with the attribute's members
    (respondents choosing one category, the tables' rule) and averaged by
    group x category x question; whole-group tables: a groupby only; rated
    department: a groupby on the department column. No n, overall or change.
    """
    from rmlib import crosstab

    specs = specs or crosstab.REPORT_TABLES
    t = time.perf_counter()
    for d in (this, last):
        m = d.memberships
        for spec in specs:
            r = d.ratings[d.ratings["group"] == spec.groups[0]] if len(spec.groups) == 1 else d.ratings
            if spec.attribute == "all":
                r.groupby(["group", "question"], observed=True)["score"].mean()
            elif spec.attribute == "rated_department":
                r.groupby(["group", "department", "question"], observed=True)["score"].mean()
            else:
                a = m[m["attribute"] == spec.attribute]
                a = a[~a["respondent_id"].duplicated(keep=False)]
                r.merge(a[["respondent_id", "category"]], on="respondent_id").groupby(
                    ["group", "category", "question"], observed=True
                )["score"].mean()
    return time.perf_counter() - t


def compare_with_floors(P: Params, this, last, repeats: int = 2) -> tuple[dict, dict]:
    """Floors, and the core functions they are compared with, timed ``repeats`` times alternately (minimum kept).

    Other processes on a small machine make single timings noisy; the
    minimum of alternating runs compares like with like.
    """
    from rmlib.stages import cross_analysis, score

    def score_fns() -> float:
        t = time.perf_counter()
        score.compute({P.compare_year: last, P.year: this}, this, last, P.multi_select_rule)
        return time.perf_counter() - t

    def cross_fn() -> float:
        t = time.perf_counter()
        cross_analysis.tables(this, last, P.multi_select_rule)
        return time.perf_counter() - t

    floors = {"clean": floor_clean(P)}
    repeat: dict[str, float] = {}
    for _ in range(max(1, repeats)):
        for name, f in (
            ("score", lambda: floor_score(this, last)),
            ("cross-analysis", lambda: floor_cross(this, last)),
        ):
            floors[name] = min(floors.get(name, float("inf")), f())
        repeat["score"] = min(repeat.get("score", float("inf")), score_fns())
        repeat["cross-analysis"] = min(repeat.get("cross-analysis", float("inf")), cross_fn())
    return floors, repeat


def run_size(
    workdir: Path,
    n_resamples: int,
    significance: bool = True,
    power: bool = True,
    report: bool = True,
    sampler: PeakRSS | None = None,
    ratio_repeats: int = 2,
) -> dict:
    """Clean both years, then time every stage on data already generated in ``workdir/raw``.

    Returns the step rows, the floors, the significance workload, the wall
    time and peak memory of clean + score + cross-analysis + significance
    (``core``), and the data's size.
    """
    from rmlib.dataset import load_year

    timer = Timer(sampler)
    P_last = params_for(workdir, COMPARE_YEAR)
    P = params_for(workdir, YEAR, n_resamples)
    stage_clean(P_last, timer, stage="setup: clean comparison year")
    t0 = time.perf_counter()
    stage_clean(P, timer)
    stage_score(P, timer)
    stage_cross(P, timer)
    sig = None
    if significance:
        sig = stage_significance(P, timer, n_resamples, power=power)
    core_wall = time.perf_counter() - t0
    core_rss = max_rss_mb()
    if report and significance:
        stage_report(P, timer)
    this, last = load_year(P.year, P.processed_dir), load_year(P.compare_year, P.processed_dir)
    floors, repeat = compare_with_floors(P, this, last, ratio_repeats)
    return {
        "steps": timer.rows,
        "floors": floors,
        "floor_repeats": repeat,
        "significance": sig,
        "core_seconds": core_wall,
        "core_max_rss_mb": core_rss,
        "max_rss_mb": max_rss_mb(),
        "respondents": int(len(this.respondents)),
        "rating_rows": int(len(this.ratings)),
        "respondents_last": int(len(last.respondents)),
        "rating_rows_last": int(len(last.ratings)),
    }
