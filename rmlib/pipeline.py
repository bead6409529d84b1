"""Run a year's notebooks in order with papermill, atomically, and record provenance.

``run(params_path)``:

1. validates the parameters and the raw exports *before* any kernel starts:
   every problem is written to ``outputs/<year>/validation_errors.csv`` and the
   run stops (nothing else in ``outputs/`` or ``data/processed/`` changes);
2. (re)builds the processed data of earlier years that have parameter files,
   so that year-on-year change and the trend have their baselines;
3. executes ``notebooks/01..05`` with papermill into a staging folder, exports
   each executed notebook to HTML (with code, for auditors), writes
   ``provenance.json``, and only then swaps the staging folder in for
   ``outputs/<year>/``: a failed run leaves the last good report intact.
"""
from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
import time
from pathlib import Path
from typing import Callable

from . import clean
from .io import atomic_write_text, sha256_file, staged_dir, write_csv
from .provenance import git_commit, input_hashes, package_versions
from .params import Params, load_params
from .paths import repo_root

STAGES: tuple[tuple[str, str], ...] = (
    ("01_clean", "clean: validate and tidy the raw exports"),
    ("02_score", "score: question means, overall, change on last year, maturity"),
    ("03_cross_analysis", "cross-analysis: every breakdown table"),
    ("04_significance", "significance: intervals, tests, corrections, suppression, power"),
    ("05_report", "report: the reviewers' HTML report"),
)


def _ipc_kernel_manager(log_path: Path):
    """A kernel manager that talks to the kernel over local IPC sockets and logs its stderr to a file.

    The kernel never listens on a network port (ipykernel otherwise warns, on
    every start, that it runs over TCP without encryption), and its own log
    lines (e.g. the interrupt message at shutdown) go to ``log_path`` instead
    of the user's terminal; cell errors still come back through papermill.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["stderr"] = open(log_path, "ab")  # noqa: SIM115 - the kernel process owns it
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


class PipelineError(RuntimeError):
    """A stage failed; the message is one line a user can act on."""


def write_provenance(params: Params, params_path: Path, folder: Path, started: dt.datetime, stages: list[dict]) -> Path:
    root = repo_root()
    record = {
        "year": params.year,
        "params_file": str(params_path.relative_to(root) if params_path.is_relative_to(root) else params_path),
        "params_sha256": sha256_file(params_path) if params_path.is_file() else None,
        "params": params.to_dict(),
        "inputs_sha256": input_hashes(params),
        "git": git_commit(root),
        "packages": package_versions(),
        "platform": platform.platform(),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "stages": stages,
        "synthetic_data": params.synthetic,
    }
    path = folder / "provenance.json"
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")
    return path


def preflight(params: Params) -> None:
    """Validate the raw exports before any kernel starts; write validation_errors.csv on failure."""
    _, problems = clean.read_and_validate(params)
    target = params.path("output_dir") / "validation_errors.csv"
    if not problems.empty:
        write_csv(problems, target)
        raise PipelineError(f"{len(problems)} problem(s) in the raw exports for {params.year}; "
                            f"see {target}\n{clean.ValidationFailed(problems)}")


def prepare_earlier_years(params: Params, say: Callable[[str], None]) -> list[int]:
    """Clean every earlier year that has a parameter file (baselines for change and trend)."""
    done = []
    for path in sorted((repo_root() / "params").glob("[0-9][0-9][0-9][0-9].yaml")):
        year = int(path.stem)
        if year >= params.year:
            continue
        p = load_params(path)
        t = time.perf_counter()
        result = clean.clean_year(p)
        clean.write_processed(result, p.processed_year_dir)
        say(f"  baseline {year}: {len(result.respondents)} respondents cleaned ({time.perf_counter() - t:.1f}s)")
        done.append(year)
    return done


def export_notebook_html(nb_path: Path, out_path: Path) -> None:
    """Executed notebook -> HTML with code, for auditors, that opens offline.

    nbconvert's ``lab`` template with MathJax and require.js left out (the
    notebooks use neither); its only other remote script, mermaid, loads only
    when a notebook holds a mermaid diagram, and ours hold none. (The
    ``classic`` template would pull jQuery from a CDN.)
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(nbformat.read(nb_path, as_version=4))
    atomic_write_text(out_path, body)


def run(params_path: str | Path, stages: tuple[str, ...] | None = None, kernel_name: str = "python3",
        say: Callable[[str], None] = print) -> Path:
    """Run the whole pipeline for one year; return ``outputs/<year>``. Raises PipelineError on failure."""
    import papermill as pm

    root = repo_root()
    names = [name for name, _ in STAGES]
    unknown = sorted(set(stages or ()) - set(names))
    if unknown:
        raise PipelineError(f"unknown stage(s) {unknown}; the stages are {names}")
    params_path = Path(params_path) if Path(params_path).is_absolute() else root / params_path
    params = load_params(params_path)
    started = dt.datetime.now(dt.timezone.utc)
    target = params.path("output_dir")
    say(f"rmlib: {params.year} report from {params.raw_dir} (compare with {params.compare_year or 'no earlier year'})")
    t0 = time.perf_counter()
    say("[0/5] checking the raw exports")
    preflight(params)
    prepare_earlier_years(params, say)
    wanted = [s for s in STAGES if stages is None or s[0] in stages]
    records = []
    with staged_dir(target) as stage:
        if len(wanted) < len(STAGES) and target.is_dir():
            # a partial run updates the last full run's outputs rather than replacing them
            shutil.copytree(target, stage, dirs_exist_ok=True)
        nb_out = stage / "notebooks"
        nb_out.mkdir(exist_ok=True)
        injected = {**params.to_dict(), "output_dir": str(stage)}
        for k, (name, what) in enumerate(wanted, 1):
            say(f"[{k}/{len(wanted)}] {what}")
            t = time.perf_counter()
            out_nb = nb_out / f"{name}.ipynb"
            try:
                pm.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(out_nb), parameters=injected,
                                    kernel_name=kernel_name, cwd=str(root), progress_bar=False, log_output=False,
                                    kernel_manager_class=_ipc_kernel_manager(nb_out / "kernel.log"))
            except pm.PapermillExecutionError as exc:
                reason = f"{exc.ename}: {exc.evalue}".strip().splitlines()
                # keep the failed notebook, with its traceback, beside (never inside) the last good outputs
                failed = target.parent / f"{target.name}.failed-{name}.ipynb"
                shutil.copyfile(out_nb, failed)
                raise PipelineError(f"stage {name} failed at cell {exc.exec_count}: {reason[0] if reason else exc}"
                                    f"\n{chr(10).join(reason[1:40])}\n(the last good report in {target} is untouched;"
                                    f" the failed notebook, with its traceback, is {failed})") from None
            export_notebook_html(out_nb, nb_out / "html" / f"{name}.html")
            secs = time.perf_counter() - t
            records.append({"stage": name, "seconds": round(secs, 2)})
            say(f"      done in {secs:.1f}s")
        write_provenance(params, params_path, stage, started, records)
    say(f"report: {target / 'report.html'}  ({time.perf_counter() - t0:.0f}s)")
    return target
