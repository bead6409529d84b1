"""Run a year's notebooks in order with papermill, as one transaction, and record provenance.

``run(params_path)``:

1. checks, before any kernel starts and before anything is written: the
   parameters (:mod:`rmlib.params`), where the run would write
   (:func:`rmlib.safety.check_paths`), the codebook/theme/redaction files
   and the report tables' attributes (:func:`rmlib.checks.check_inputs`),
   the raw exports against the codebook, and what cleaning would keep
   (:func:`rmlib.safety.data_gates`). Any problem stops the run; the
   diagnostics go to ``<audit_dir>.failed/`` (e.g. ``audit/2018.failed/``),
   the one place for failure diagnostics, which the next good run removes;
2. takes the year's lock (and the lock of every earlier year whose processed
   data it rebuilds as baselines): a second run fails at once naming the PID;
   finishes or cleans up what an interrupted run left (:func:`rmlib.transaction.recover`);
3. stages everything it will replace - ``outputs/<year>`` (published files),
   ``audit/<year>`` (executed notebooks and their HTML, kernel logs),
   ``data/processed/<year>`` and the rebuilt baselines - and runs the
   notebooks with those staging folders injected as ``output_dir``,
   ``audit_dir`` and ``processed_dir``; kernel connection files and sockets
   live in a private temporary folder;
4. when every stage has succeeded, removes run timings and machine paths
   from the notebooks and workbook, writes ``provenance.json`` (per stage,
   the fingerprint of inputs, parameters, code and notebook it used) and
   commits: all staged folders become visible together
   (:class:`rmlib.transaction.Transaction`). A failure or kill before that
   leaves every target exactly as it was.

The stages and their order are :data:`rmlib.stages.STAGES`; each notebook
calls its stage's step functions (``rmlib.stages.<stage>``), which read and
write files only through the artefact registry (:mod:`rmlib.artefacts`).

A partial run (``stages=``) starts from copies of the current folders and
refuses to combine its stages with earlier stages made from other inputs; the
registry says which earlier stages' files the wanted stages read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

from . import artefacts, checks, clean, safety, transaction
from . import stages as spine
from .io import atomic_write_text, sha256_file, write_csv
from .params import Params, load_params
from .paths import REDIRECT_ENV, repo_root
from .provenance import differences, fingerprint, git_commit, input_hashes, package_versions, stage_fingerprint
from .transaction import Transaction, YearLocks, staging_path

#: (notebook, title) of every stage, in order (from :data:`rmlib.stages.STAGES`, the one list)
STAGES: tuple[tuple[str, str], ...] = tuple((s.notebook, s.title) for s in spine.STAGES)


def _ipc_kernel_manager(log_path: Path, conn_dir: Path, env: dict[str, str] | None = None):
    """A kernel manager that talks to the kernel over IPC sockets in ``conn_dir`` and logs its stderr to a file.

    The kernel never listens on a network port (ipykernel otherwise warns, on
    every start, that it runs over TCP without encryption); its connection
    file and sockets are in the run's private folder ``conn_dir`` (by
    default they get fixed names in the working directory, and two runs at
    once then talk to each other's kernels: "Invalid Signature"); its own log
    lines go to ``log_path``; cell errors still come back through papermill.
    ``env`` is added to the kernel's environment.
    """
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc")

        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            name = f"kernel-{uuid.uuid4().hex[:8]}"
            self.connection_file = str(conn_dir / f"{name}.json")
            self.ip = str(conn_dir / f"{name}-ipc")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log_path.parent.mkdir(parents=True, exist_ok=True)
            kw["stderr"] = open(log_path, "ab")  # noqa: SIM115 - the kernel process owns it
            if env:
                kw["env"] = {**(kw.get("env") or os.environ), **env}
            out = await super()._async_launch_kernel(kernel_cmd, **kw)
            pid = getattr(getattr(self, "provisioner", None), "pid", None)
            if pid:
                transaction.record_kernel(conn_dir, pid)
            return out

    return IPCKernelManager


class PipelineError(RuntimeError):
    """A stage failed; the message is one line a user can act on."""


def _rel(path: Path) -> str:
    root = repo_root()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def write_provenance(
    params: Params,
    params_path: Path,
    folder: Path,
    started: dt.datetime,
    stages: list[dict],
    run_fingerprint: dict | None = None,
) -> Path:
    """``provenance.json``: what the run was made from, per stage what it used; no machine paths."""
    root = repo_root()
    record = {
        "year": params.year,
        "params_file": _rel(params_path) if params_path.is_relative_to(root) else params_path.name,
        "params_sha256": sha256_file(params_path) if params_path.is_file() else None,
        "params": params.to_dict(),
        "inputs_sha256": input_hashes(params),
        "fingerprint": run_fingerprint,
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


def record_failure(
    params: Params, message: str, files: Iterable[Path] = (), tables: dict[str, "object"] | None = None
) -> Path:
    """Replace ``<audit_dir>.failed/`` with this failure's diagnostics (the one place for them).

    If even that cannot be written (read-only or full disk), the failure's
    own message still reaches the user: the diagnostics are skipped.
    """
    target = safety.failed_dir(params)
    try:
        return _write_failure(target, params, message, files, tables)
    except OSError:
        with contextlib.suppress(OSError):
            transaction._rmtree(staging_path(target))
        return target


def _write_failure(target: Path, params: Params, message: str, files, tables) -> Path:
    stage = staging_path(target)
    transaction._rmtree(stage)
    stage.mkdir(parents=True)
    safety.write_marker(stage, "failed", params.year)
    atomic_write_text(stage / "error.txt", message.rstrip() + "\n")
    for f in files:
        if Path(f).is_file():
            shutil.copyfile(f, stage / Path(f).name)
    for name, frame in (tables or {}).items():
        write_csv(frame, stage / name)
    txn = Transaction(params.year)
    txn.swaps.append((stage, target))
    txn.commit()
    return target


def preflight(params: Params) -> None:
    """Validate the raw exports before any kernel starts; on failure write ``<audit_dir>.failed/validation_errors.csv``."""
    _, problems = clean.read_and_validate(params)
    if not problems.empty:
        failed = record_failure(
            params, str(clean.ValidationFailed(problems)), tables={"validation_errors.csv": problems}
        )
        raise PipelineError(
            f"{len(problems)} problem(s) in the raw exports for {params.year}; see "
            f"{_rel(failed / 'validation_errors.csv')}\n{clean.ValidationFailed(problems)}"
        )


def baseline_params(params: Params) -> list[Params]:
    """Parameters of every earlier year that has a parameter file (baselines for change and trend)."""
    out = []
    for path in sorted((repo_root() / "params").glob("[0-9][0-9][0-9][0-9].yaml")):
        if int(path.stem) < params.year:
            out.append(load_params(path))
    return out


def check(
    params: Params, allowed_roots: Iterable[str] = (), baselines: list[Params] | None = None
) -> tuple[clean.CleanResult | None, "object", list[str], list[str]]:
    """Every check a run makes before it starts: (clean result, problem table, errors, warnings).

    Used by ``python -m rmlib validate`` and by :func:`run`, so they agree.
    """
    import pandas as pd

    baselines = baseline_params(params) if baselines is None else baselines
    errors = safety.check_paths(params, allowed_roots, [b.year for b in baselines])
    if errors:
        return None, pd.DataFrame(), errors, []
    errors = checks.check_inputs(params)
    if errors:
        return None, pd.DataFrame(), errors, []
    validated, problems = clean.read_and_validate(params)
    # the codebook's own warnings (e.g. a key column ignored: duplicates can no longer be found)
    notes = [n for v in validated for n in v.notes if ": warning: " in n]
    if not problems.empty:
        return None, problems, [], notes
    result = clean.clean_year(params)
    errors, warnings = safety.data_gates(result.log, params)
    return result, problems, errors, notes + warnings


def write_dictionary(params: Params, out: Path) -> Path:
    """``data_dictionary.md`` beside the tables: every published column in plain words (rmlib.dictionary).

    Built from the headers of the tables this run published, so it lists exactly what is there; a column
    without a declared meaning stops the run (nothing undocumented is published).
    """
    from . import dictionary
    from .publish import write_text

    try:
        frame = dictionary.data_dictionary(dictionary.csv_headers(out / "tables"))
    except dictionary.UndocumentedColumn as exc:
        raise PipelineError(f"{exc} (say what it means there before it is published)") from None
    return write_text(
        dictionary.render_markdown(frame, params.min_cell_n), out / "data_dictionary.md", params.min_cell_n
    )


def scan_outputs(params: Params, out: Path, audit: Path, say: Callable[[str], None]) -> None:
    """The publication gate's last word: read every file the run would publish back before the swap.

    ``rmlib.publish.scan_published`` fails on personal data, a small base, a
    suppressed cell's value, an active cell, a machine path or a link to the
    audit area; a failure here leaves the last good outputs in place.
    """
    import pandas as pd

    from .publish import PublishError, scan_published

    tested = audit / "data" / artefacts.get("cells_tested").filename  # the staged audit area
    t = time.perf_counter()
    try:
        scan_published(out, params.min_cell_n, suppressed_cells=pd.read_parquet(tested) if tested.is_file() else None)
    except PublishError as exc:
        raise PipelineError(f"the publication scan refused this run's outputs (nothing was published): {exc}") from None
    say(f"      publication scan: every published file checked ({time.perf_counter() - t:.1f}s)")


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


def _recover_candidates(p: Params) -> list[Path]:
    """Staging folders of ``p``'s year an interrupted run may have left (fixed names; older random ones too)."""
    import re

    out = []
    for t in safety.targets(p):
        out += [staging_path(t.path), transaction.old_path(t.path)]
        if t.path.parent.is_dir():
            out += [
                q
                for q in t.path.parent.iterdir()
                if re.fullmatch(rf"\.{re.escape(t.path.name)}\.(staging|old)-[0-9a-f]{{8}}", q.name)
                or (
                    t.kind == "outputs"
                    and q.is_file()  # failed notebooks earlier versions left beside outputs
                    and re.fullmatch(rf"{re.escape(t.path.name)}\.failed-\d\d_\w+\.ipynb", q.name)
                )
            ]
    out.append(p.path("processed_dir") / f".staging-{p.year}")
    return out


def recover(params: Params, say: Callable[[str], None] = print) -> None:
    """Take the year's locks and finish or clean up what an interrupted run left (what every run does first)."""
    baselines = baseline_params(params)
    with YearLocks() as locks:
        for y in [params.year, *sorted({b.year for b in baselines})]:  # own year first: named if held
            locks.acquire(y, f"recovering {params.year}")
        for p in (params, *baselines):
            transaction.recover(p.year, _recover_candidates(p), say)


def _existing_provenance(target: Path) -> dict:
    try:
        return json.loads((target / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _check_partial(params: Params, wanted: list[str], target: Path, run_fp: dict, root: Path) -> dict[str, dict]:
    """For a partial run: the earlier records of the stages it reuses, refusing any made from other inputs.

    A stage left out is reused when an earlier run recorded it with this run's
    fingerprint (anything else would combine results made from other inputs).
    What the wanted stages read comes from the artefact registry: each input
    made by a stage left out must be there from such a run, and processed
    tables must carry this run's fingerprint.
    """
    names = [n for n, _ in STAGES]
    records = {r.get("stage"): r for r in _existing_provenance(target).get("stages", []) if isinstance(r, dict)}
    reused = {}
    for name in names:
        rec = records.get(name)
        if name in wanted or rec is None:
            continue
        diff = differences(rec.get("fingerprint"), stage_fingerprint(run_fp, root / "notebooks" / f"{name}.ipynb"))
        if diff:
            raise PipelineError(
                f"--stages {','.join(wanted)} would combine its results with {name}'s, made from "
                f"other {'; '.join(diff)}; run every stage (leave out --stages)"
            )
        reused[name] = {**rec, "reused": True}
    leave_out = "run every stage (leave out --stages)"
    needed = _inputs_made_elsewhere(wanted)
    for a in needed:  # first: every stage whose outputs are read has run (with this fingerprint)
        producer = spine.BY_KEY[a.producer].notebook
        if a.area != "processed" and producer not in reused:
            raise PipelineError(
                f"--stages {','.join(wanted)} needs the outputs of {producer}, which no earlier "
                f"run in {_rel(target)} made; {leave_out}"
            )
    if any(a.area == "processed" for a in needed):
        processed = params.processed_year_dir
        diff = differences((safety.read_marker(processed) or {}).get("fingerprint"), run_fp)
        if diff:
            raise PipelineError(
                f"--stages {','.join(wanted)} would use {_rel(processed)}, made from other "
                f"{'; '.join(diff)}; {leave_out}"
            )
    for a in needed:  # then: what they wrote is still there
        if a.area != "processed" and not artefacts.path(params, a.name).is_file():
            raise PipelineError(
                f"--stages {','.join(wanted)} needs {a.name} ({_rel(artefacts.path(params, a.name))}"
                f"), made by {spine.BY_KEY[a.producer].notebook}, which is missing; {leave_out}"
            )
    return reused


def _inputs_made_elsewhere(wanted: list[str]) -> list[artefacts.Artefact]:
    """The registered inputs of the ``wanted`` stages (notebook names) that a stage left out produces."""
    keys = {spine.BY_NOTEBOOK[n].key for n in wanted}
    return [a for a in artefacts.ARTEFACTS if a.producer not in keys and keys & set(a.consumers)]


def run(
    params_path: str | Path,
    stages: tuple[str, ...] | None = None,
    kernel_name: str = "python3",
    say: Callable[[str], None] = print,
    allowed_roots: Iterable[str] = (),
) -> Path:
    """Run the whole pipeline for one year; return ``outputs/<year>``. Raises PipelineError on failure."""
    root = repo_root()
    names = [name for name, _ in STAGES]
    unknown = sorted(set(stages or ()) - set(names))
    if unknown:
        raise PipelineError(f"unknown stage(s) {unknown}; the stages are {names}")
    params_path = Path(params_path) if Path(params_path).is_absolute() else root / params_path
    params = load_params(params_path)
    allowed_roots = tuple(allowed_roots)
    baselines = baseline_params(params)
    safety.ensure_safe_paths(params, allowed_roots, [b.year for b in baselines])
    started = dt.datetime.now(dt.timezone.utc)
    target = params.path("output_dir")
    say(
        f"rmlib: {params.year} report from {_rel(params.path('raw_dir'))} "
        f"(compare with {params.compare_year or 'no earlier year'})"
    )
    t0 = time.perf_counter()
    with YearLocks() as locks, transaction.sigterm_raises():
        for y in [params.year, *sorted({b.year for b in baselines})]:  # own year first: named if held
            locks.acquire(y, f"the {params.year} run" + (" rebuilding this baseline" if y != params.year else ""))
        for p in (params, *baselines):
            transaction.recover(p.year, _recover_candidates(p), say)
        say("[0/5] checking the settings and the raw exports")
        _, problems, errors, warnings = check(params, allowed_roots, baselines)
        for w in warnings:
            say(f"  warning: {w}")
        if not problems.empty:
            preflight(params)
        if errors:
            msg = "; ".join(errors)
            record_failure(params, msg)
            raise PipelineError(msg)
        with transaction.kernel_dir(params.year) as kdir:
            txn = Transaction(params.year)
            try:
                path = _run_stages(params, params_path, baselines, stages, kernel_name, say, txn, kdir, started)
            except BaseException:
                txn.abort()
                raise
    say(f"report: {_rel(path / 'report.html')}  ({time.perf_counter() - t0:.0f}s)")
    return target


def _run_stages(
    params: Params,
    params_path: Path,
    baselines: list[Params],
    stages,
    kernel_name: str,
    say: Callable[[str], None],
    txn: Transaction,
    kdir: Path,
    started: dt.datetime,
) -> Path:
    """Stage the folders, run the wanted notebooks in order, then write the run's record and commit."""
    root = repo_root()
    wanted = [s for s in STAGES if stages is None or s[0] in stages]
    partial = len(wanted) < len(STAGES)
    target, audit = params.path("output_dir"), params.path("audit_dir")
    run_fp = fingerprint(params, baselines)
    reused = _check_partial(params, [n for n, _ in wanted], target, run_fp, root) if partial else {}
    stage_out, stage_audit, stage_proc = _stage_folders(params, baselines, partial, say, txn)
    # the notebooks get the parameters as written; the package maps each final folder to its staging folder
    redirect = {
        str(target): str(stage_out),
        str(audit): str(stage_audit),
        str(params.path("processed_dir")): str(stage_proc),
    }
    kernel_env = {REDIRECT_ENV: json.dumps(redirect)}
    replacements = {**{v: _rel(Path(k)) for k, v in redirect.items()}, str(root) + "/": ""}
    (stage_audit / "notebooks").mkdir(exist_ok=True)
    records = []
    for k, (name, what) in enumerate(wanted, 1):
        say(f"[{k}/{len(wanted)}] {what}")
        t = time.perf_counter()
        _run_notebook(
            params,
            name,
            stage_audit,
            kernel_name,
            _ipc_kernel_manager(stage_audit / "logs" / f"{name}.kernel.log", kdir, kernel_env),
            replacements,
        )
        secs = time.perf_counter() - t
        records.append(
            {
                "stage": name,
                "seconds": round(secs, 2),
                "fingerprint": stage_fingerprint(run_fp, root / "notebooks" / f"{name}.ipynb"),
            }
        )
        if name == "01_clean":
            safety.write_marker(stage_proc / str(params.year), "processed", params.year, {"fingerprint": run_fp})
        say(f"      done in {secs:.1f}s")
    from .reproducible import normalise_xlsx

    for book in sorted(stage_out.rglob("*.xlsx")):
        normalise_xlsx(book)
    order = [n for n, _ in STAGES]
    all_records = sorted([*records, *reused.values()], key=lambda r: order.index(r["stage"]))
    write_dictionary(params, stage_out)
    write_provenance(params, params_path, stage_out, started, all_records, run_fp)
    scan_outputs(params, stage_out, stage_audit, say)
    txn.commit(say)
    return target


def _stage_folders(
    params: Params, baselines: list[Params], partial: bool, say: Callable[[str], None], txn: Transaction
) -> tuple[Path, Path, Path]:
    """Staging folders for outputs, audit and a processed root holding this year and the rebuilt baselines.

    A partial run starts from copies of the current folders; the baselines are
    cleaned afresh; other earlier processed years the trend may read are copied
    (not rebuilt, not replaced). Returns (outputs, audit, processed root) staging.
    """
    proc_root = params.path("processed_dir")
    stage_out = txn.stage(params.path("output_dir"), seed=partial)
    stage_audit = txn.stage(params.path("audit_dir"), seed=partial)
    stage_proc = proc_root / f".staging-{params.year}"
    transaction._rmtree(stage_proc)
    stage_proc.mkdir(parents=True)
    txn.scratch.append(stage_proc)
    txn.stage(params.processed_year_dir, stage_proc / str(params.year), seed=partial)
    for b in baselines:
        t = time.perf_counter()
        result = clean.clean_year(b)
        folder = txn.stage(proc_root / str(b.year), stage_proc / str(b.year))
        clean.write_processed(result, folder)
        safety.write_marker(folder, "processed", b.year, {"fingerprint": fingerprint(b)})
        say(f"  baseline {b.year}: {len(result.respondents)} respondents cleaned ({time.perf_counter() - t:.1f}s)")
    if proc_root.is_dir():
        built = {params.year, *(b.year for b in baselines)}
        for q in proc_root.iterdir():
            if q.name.isdigit() and int(q.name) < params.year and int(q.name) not in built and q.is_dir():
                shutil.copytree(q, stage_proc / q.name, symlinks=True)
    for folder, kind in ((stage_out, "outputs"), (stage_audit, "audit")):
        safety.write_marker(folder, kind, params.year)
    txn.removals.append(safety.failed_dir(params))
    return stage_out, stage_audit, stage_proc


def _run_notebook(params: Params, name: str, stage_audit: Path, kernel_name: str, manager, replacements: dict):
    """Execute ``notebooks/<name>.ipynb`` into the staged audit area, cleaned of machine paths, plus its HTML.

    A failing cell stops the run: the failed notebook and its kernel log go to
    the failure diagnostics, and the message names the stage, the cell and the error.
    """
    import papermill as pm

    from .reproducible import clean_kernel_log, clean_notebook

    root = repo_root()
    final = params.to_dict()
    out_nb = stage_audit / "notebooks" / f"{name}.ipynb"
    log = stage_audit / "logs" / f"{name}.kernel.log"
    try:
        pm.execute_notebook(
            str(root / "notebooks" / f"{name}.ipynb"),
            str(out_nb),
            parameters=final,
            kernel_name=kernel_name,
            cwd=str(root),
            progress_bar=False,
            log_output=False,
            kernel_manager_class=manager,
        )
    except pm.PapermillExecutionError as exc:
        reason = f"{exc.ename}: {exc.evalue}".strip().splitlines()
        head = f"stage {name} failed at cell {exc.exec_count}: {reason[0] if reason else exc}"
        clean_notebook(out_nb, replacements, final)
        where = record_failure(params, head + "\n" + "\n".join(reason[1:40]), files=[out_nb, log])
        raise PipelineError(
            f"{head}\n{chr(10).join(reason[1:40])}\n(the last good results in "
            f"{_rel(params.path('output_dir'))} are untouched; the failed notebook, with its "
            f"traceback, is {_rel(where / out_nb.name)})"
        ) from None
    clean_notebook(out_nb, replacements, final)
    clean_kernel_log(log, replacements)
    export_notebook_html(out_nb, stage_audit / "notebooks" / "html" / f"{name}.html")
