"""Adversarial suite (fast): settings, files and states a hostile-but-ordinary user can produce.

Each case runs the command line on a disposable copy of the repository that
already holds a "last good" state (outputs, audit and processed folders the
pipeline owns), and asserts the exit code, that the message names the
setting or file, and that the sha256 trees of data/raw, data/processed,
outputs and audit are exactly as before. None of them starts a kernel.
The slow cases (kill loop, SIGTERM, two runs at once) are in test_safety_slow.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from rmlib import safety
from rmlib.__main__ import main

AREAS = ("data/raw", "data/processed", "outputs", "audit")


def tree(root: Path, diagnostics: bool = False) -> dict[str, str]:
    """sha256 of every file (and the name of every folder) under the four data areas.

    The failure diagnostics folder (audit/<year>.failed) is left out unless ``diagnostics``: a refused run
    may write there, and only there.
    """
    out = {}
    for area in AREAS:
        base = root / area
        for f in sorted(base.rglob("*")) if base.exists() else ():
            key = str(f.relative_to(root))
            if not diagnostics and ".failed" in key:
                continue
            out[key] = hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else "dir"
    return out


def _fake_good_state(repo: Path) -> None:
    """A last good state as the pipeline leaves it (without running it): marked folders with content."""
    out = repo / "outputs" / "2018"
    (out / "tables").mkdir(parents=True)
    (out / "report.html").write_text("<html>last good report</html>")
    (out / "tables" / "headline.csv").write_text("group,mean\nofficer,2.55\n")
    safety.write_marker(out, "outputs", 2018)
    aud = repo / "audit" / "2018"
    (aud / "notebooks").mkdir(parents=True)
    (aud / "notebooks" / "01_clean.ipynb").write_text("{}")
    safety.write_marker(aud, "audit", 2018)
    for y in (2016, 2017, 2018):
        p = repo / "data" / "processed" / str(y)
        p.mkdir(parents=True)
        (p / "ratings.parquet").write_bytes(b"PAR1 last good")
        safety.write_marker(p, "processed", y)


@pytest.fixture
def repo(repo_copy, monkeypatch):
    """A copy of the repository with a last good run, the user working inside it (a relative parameter
    file is looked for in the current folder first)."""
    _fake_good_state(repo_copy)
    monkeypatch.chdir(repo_copy)
    return repo_copy


def params_file(repo: Path, name: str = "case.yaml", text: str | None = None, **changes) -> str:
    """A parameter file under params/ (not a year file, so no run treats it as a baseline)."""
    base = yaml.safe_load((repo / "params" / "2018.yaml").read_text())
    base.update(changes)
    (repo / "params" / name).write_text(
        text if text is not None else yaml.safe_dump(base, sort_keys=False), encoding="utf-8"
    )
    return f"params/{name}"


def cli(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def assert_refused(repo, capsys, args, words, code=1, seconds=None):
    """Run the CLI; assert its exit code, every word in its message, one-line error, and untouched trees."""
    before = tree(repo)
    t = time.perf_counter()
    got, msg = cli(capsys, *args)
    took = time.perf_counter() - t
    assert got == code, msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert "Traceback" not in msg
    assert tree(repo) == before, "a refused run changed data"
    leftovers = [p for area in AREAS for p in (repo / area).rglob(".*staging*")]
    assert not leftovers, leftovers
    if seconds is not None:
        assert took < seconds, f"took {took:.1f}s"
    return msg


# ----------------------------------------------------------------------------- 1. containment
CONTAINMENT = [
    ("raw-as-output", {"output_dir": "data/raw/{year}"}, ["'output_dir'", "raw data"]),
    ("raw-as-output-dotdot", {"output_dir": "outputs/../data/raw/{year}"}, ["'output_dir'", "raw data"]),
    ("no-year", {"output_dir": "outputs"}, ["'output_dir'", "one year's folder"]),
    ("outside", {"output_dir": "../../somewhere/{year}"}, ["'output_dir'", "outside the repository"]),
    ("absolute-outside", {"output_dir": "/tmp/rmlib-elsewhere/{year}"}, ["'output_dir'", "outside the repository"]),
    ("params-as-output", {"output_dir": "params/{year}"}, ["'output_dir'", "parameters"]),
    ("notebooks-as-output", {"output_dir": "notebooks/{year}"}, ["'output_dir'", "notebooks"]),
    ("package-as-output", {"output_dir": "rmlib/{year}"}, ["'output_dir'", "package"]),
    ("root-as-output", {"output_dir": "."}, ["'output_dir'"]),
    ("output-in-processed", {"output_dir": "data/processed/{year}"}, ["'output_dir'", "'processed_dir'", "overlap"]),
    ("audit-is-output", {"audit_dir": "outputs/{year}"}, ["'output_dir'", "'audit_dir'", "overlap"]),
    ("audit-inside-output", {"audit_dir": "outputs/{year}/audit{year}"}, ["'audit_dir'", "overlap"]),
    ("processed-is-outputs", {"processed_dir": "outputs"}, ["'processed_dir'", "overlap"]),
    ("processed-is-raw", {"processed_dir": "data/raw"}, ["'processed_dir'", "raw data"]),
    ("processed-is-params", {"processed_dir": "params"}, ["'processed_dir'", "parameters"]),
    ("audit-in-raw", {"audit_dir": "data/raw/{year}/audit"}, ["'audit_dir'", "raw data"]),
    ("raw-outside", {"raw_dir": "/etc"}, ["'raw_dir'", "outside the repository"]),
    ("themes-outside", {"themes": "../../../etc/passwd"}, ["'themes'", "outside the repository"]),
    ("placeholder-typo", {"output_dir": "outputs/{yr}"}, ["'output_dir'", "unknown placeholder {yr}"]),
    ("placeholder-unbalanced", {"output_dir": "outputs/{year"}, ["'output_dir'", "unbalanced"]),
    ("placeholder-format", {"output_dir": "outputs/{year!r}"}, ["'output_dir'", "plain {year}"]),
]


@pytest.mark.parametrize("case, change, words", CONTAINMENT, ids=[c[0] for c in CONTAINMENT])
def test_path_settings_that_would_hurt_are_refused(repo, capsys, case, change, words):
    args = ["run", params_file(repo, **change)]
    if case == "processed-is-raw":
        args += ["--stages", "01_clean"]
    assert_refused(repo, capsys, args, words)


def test_validate_reports_every_unsafe_path_setting_at_once(repo, capsys):
    pf = params_file(repo, output_dir="data/raw/{year}", audit_dir="audit", processed_dir="params")
    assert_refused(
        repo,
        capsys,
        ["validate", pf],
        ["'output_dir'", "raw data", "'audit_dir'", "one year's folder", "'processed_dir'", "parameters"],
    )


def test_allow_root_names_a_folder_outside_explicitly(repo, capsys, tmp_path):
    elsewhere = tmp_path / "share"
    pf = params_file(repo, output_dir=str(elsewhere / "{year}"))
    assert_refused(repo, capsys, ["validate", pf], ["outside the repository"])
    code, msg = cli(capsys, "validate", pf, "--allow-root", str(elsewhere))
    assert code == 0 and "no problems found" in msg


def test_output_symlinked_into_raw_is_refused(repo, capsys):
    (repo / "outputs" / "link").symlink_to(repo / "data" / "raw")
    assert_refused(
        repo, capsys, ["run", params_file(repo, output_dir="outputs/link/{year}")], ["'output_dir'", "raw data"]
    )


def test_existing_folder_without_marker_is_never_replaced(repo, capsys):
    out = repo / "outputs" / "2018"
    (out / safety.MARKER).unlink()
    (out / "my_notes.txt").write_text("not the pipeline's")
    assert_refused(
        repo, capsys, ["run", "params/2018.yaml"], ["'output_dir'", "outputs/2018", "not created by the pipeline"]
    )


def test_a_file_where_a_folder_should_be(repo, capsys):
    import shutil

    shutil.rmtree(repo / "audit" / "2018")
    (repo / "audit" / "2018").write_text("a file")
    assert_refused(repo, capsys, ["run", "params/2018.yaml"], ["'audit_dir'", "audit/2018", "is a file"])


def test_outputs_parent_is_a_file(repo, capsys):
    import shutil

    shutil.rmtree(repo / "outputs")
    (repo / "outputs").write_text("a file")
    assert_refused(repo, capsys, ["run", "params/2018.yaml"], ["'output_dir'", "outputs", "is a file"])


def test_output_inside_another_years_managed_folder(repo, capsys):
    assert_refused(
        repo,
        capsys,
        ["run", params_file(repo, output_dir="outputs/2018/{year}", audit_dir="audit/x{year}")],
        ["'output_dir'", "a folder the pipeline manages"],
    )


def test_legacy_outputs_of_an_earlier_version_are_adopted(repo, capsys):
    """outputs/2018 written before markers existed (provenance.json of 2018 + report.html) may be replaced."""
    out = repo / "outputs" / "2018"
    (out / safety.MARKER).unlink()
    (out / "provenance.json").write_text(json.dumps({"year": 2018}))
    assert safety.owned(out, "outputs", 2018)
    (out / "provenance.json").write_text(json.dumps({"year": 2017}))
    assert not safety.owned(out, "outputs", 2018)


# ----------------------------------------------------------------------------- 4. settings that cannot hurt
def test_duplicate_key_in_params(repo, capsys):
    text = (repo / "params" / "2018.yaml").read_text() + "n_resamples: 999\n"
    assert_refused(
        repo,
        capsys,
        ["validate", params_file(repo, text=text)],
        ["params/case.yaml", "'n_resamples' appears twice", "line"],
    )


def test_billion_laughs_params_refused_in_under_a_second(repo, capsys):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = (repo / "params" / "2018.yaml").read_text() + "\n".join(lines) + "\nthemes: *a9\n"
    assert_refused(
        repo, capsys, ["validate", params_file(repo, text=text)], ["params/case.yaml", "aliases"], seconds=1.0
    )


def test_deeply_nested_params_refused(repo, capsys):
    text = (repo / "params" / "2018.yaml").read_text() + "x: " + "[" * 3000 + "]" * 3000 + "\n"
    assert_refused(
        repo, capsys, ["validate", params_file(repo, text=text)], ["params/case.yaml", "nested"], seconds=1.0
    )


def test_huge_params_file_refused(repo, capsys):
    text = (repo / "params" / "2018.yaml").read_text() + "#" * 2_000_000 + "\n"
    assert_refused(repo, capsys, ["validate", params_file(repo, text=text)], ["params/case.yaml", "bytes"], seconds=1.0)


def test_non_utf8_params_file(repo, capsys):
    pf = params_file(repo)
    path = repo / pf
    path.write_bytes(path.read_bytes().replace(b"# Parameters", b"# Param\xe8tres"))
    path.write_bytes(b"# caf\xe9\n" + path.read_bytes())
    assert_refused(repo, capsys, ["run", pf], ["params/case.yaml", "not UTF-8", "line 1"])


def test_params_file_is_a_folder_or_a_list(repo, capsys):
    (repo / "params" / "dir.yaml").mkdir()
    assert_refused(repo, capsys, ["validate", "params/dir.yaml"], ["params/dir.yaml", "not a file"])
    assert_refused(repo, capsys, ["validate", params_file(repo, text="- 1\n- 2\n")], ["expected a mapping"])


@pytest.mark.parametrize(
    "change, words",
    [
        ({"n_resamples": 999999999}, ["'n_resamples'", "expected a whole number from 999 to 100000", "got 999999999"]),
        ({"n_resamples": 9999.5}, ["'n_resamples'", "expected a whole number", "got 9999.5"]),
        ({"seed": -1}, ["'seed'", "expected a whole number from 0", "got -1"]),
        ({"seed": True}, ["'seed'", "got True"]),
        ({"alpha": float("nan")}, ["'alpha'", "between 0 and 1", "got nan"]),
        ({"min_cell_n": 10**9}, ["'min_cell_n'", "got 1000000000"]),
        ({"themes": None}, ["'themes'", "expected a path to a file", "got None"]),
        ({"output_dir": 2018}, ["'output_dir'", "expected a path", "got 2018"]),
        ({"synthetic": "yes please"}, ["'synthetic'", "true or false", "'yes please'"]),
        ({"compare_year": 2018}, ["'compare_year'", "earlier year", "got 2018"]),
        ({"fieldwork_end": "2019-13-45"}, ["'fieldwork_end'", "YYYY-MM-DD", "'2019-13-45'"]),
    ],
    ids=[
        "n_resamples-huge",
        "n_resamples-float",
        "seed-negative",
        "seed-bool",
        "alpha-nan",
        "min_cell_n-huge",
        "themes-null",
        "output_dir-int",
        "synthetic-text",
        "compare_year-same",
        "date-invalid",
    ],
)
def test_every_parameter_has_a_type_and_range(repo, capsys, change, words):
    assert_refused(repo, capsys, ["validate", params_file(repo, **change)], ["params/case.yaml", *words])


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("themes", "params/theme.yaml", ["'themes'", "not found", "params/theme.yaml"]),
        ("redaction", "params/redactions.yaml", ["'redaction'", "not found"]),
        ("codebook", "params/codebooks/2019.yaml", ["'codebook'", "not found"]),
        ("themes", "params/codebooks", ["'themes'", "not a file"]),
    ],
)
def test_missing_settings_files_fail_at_validate(repo, capsys, name, value, words):
    assert_refused(repo, capsys, ["validate", params_file(repo, **{name: value})], words)


def test_duplicate_key_in_codebook_and_themes(repo, capsys):
    cb = repo / "params" / "codebooks" / "2018.yaml"
    cb.write_text(cb.read_text() + "\nyear: 2017\n")
    assert_refused(repo, capsys, ["validate", "params/2018.yaml"], ["'codebook'", "'year' appears twice"])
    cb.write_text(cb.read_text().replace("\nyear: 2017\n", "\n"))
    th = repo / "params" / "themes.yaml"
    th.write_bytes(th.read_bytes() + b"\n\xff\n")
    assert_refused(repo, capsys, ["validate", "params/2018.yaml"], ["'themes'", "not UTF-8"])


def test_renamed_attribute_in_codebook_is_an_error(repo, capsys):
    cb = repo / "params" / "codebooks" / "2018.yaml"
    text = cb.read_text()
    assert "attribute: role" in text
    cb.write_text(text.replace("attribute: role", "attribute: job_role"))
    assert_refused(
        repo, capsys, ["validate", "params/2018.yaml"], ["officer_by_role", "needs attribute 'role'", "2018.yaml"]
    )


# ----------------------------------------------------------------------------- 5. data sanity gates
@pytest.mark.parametrize("command", ["validate", "run"])
def test_fieldwork_dates_that_remove_every_response(repo, capsys, command):
    pf = params_file(repo, fieldwork_start="2019-06-01", fieldwork_end="2019-07-01")
    assert_refused(
        repo,
        capsys,
        [command, pf],
        ["every officer response is excluded", "outside_fieldwork", "'fieldwork_start'", "2019-06-01"],
    )
    error = repo / "audit" / "2018.failed" / "error.txt"
    assert error.is_file() == (command == "run")


@pytest.mark.slow
def test_rule_removing_more_than_a_fifth_warns(repo, capsys):
    import pandas as pd

    from rmlib.params import load_params

    log = pd.DataFrame(
        {
            "group": ["officer"] * 10,
            "decision": ["kept"] * 7 + ["excluded"] * 3,
            "reason": [""] * 7 + ["outside_fieldwork"] * 3,
        }
    )
    errors, warnings = safety.data_gates(log, load_params("params/2018.yaml"))
    assert errors == [] and len(warnings) == 1 and "3 of 10 officer rows (30%)" in warnings[0]
    log.loc[:6, "decision"] = "excluded"
    log.loc[:6, "reason"] = "test_response"
    errors, _ = safety.data_gates(log, load_params("params/2018.yaml"))
    assert "every officer response is excluded (10 rows: test_response 7, outside_fieldwork 3)" in errors[0]
    # the bundled years pass without a warning
    for y in (2016, 2017, 2018):
        code, msg = cli(capsys, "validate", f"params/{y}.yaml")
        assert code == 0 and "warning" not in msg, msg


def test_changed_raw_file_diagnostics_go_to_the_audit_failure_folder(repo, capsys):
    raw = repo / "data" / "raw" / "2018" / "officer_survey_2018.csv"
    raw.write_bytes(raw.read_bytes().replace(b",3,", b",7,", 1))
    before = tree(repo)
    code, msg = cli(capsys, "run", "params/2018.yaml")
    assert code == 1 and "MANIFEST" in msg and "audit/2018.failed/validation_errors.csv" in msg
    assert tree(repo) == before
    assert (repo / "audit" / "2018.failed" / "validation_errors.csv").is_file()
    assert not (repo / "outputs" / "2018" / "validation_errors.csv").exists()


# ----------------------------------------------------------------------------- 3. locks
def _hold_lock(repo: Path, year: int) -> subprocess.Popen:
    code = (
        "import sys, time; from rmlib.transaction import YearLocks; l = YearLocks(); "
        f"l.acquire({year}); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "RMLIB_ROOT": str(repo)}, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("year", [2018, 2017])
def test_second_run_fails_at_once_naming_the_pid(repo, capsys, year):
    holder = _hold_lock(repo, year)
    try:
        assert_refused(
            repo,
            capsys,
            ["run", "params/2018.yaml"],
            [f"another run for {year} is in progress (pid {holder.pid}"],
            seconds=5,
        )
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder (even SIGKILL): the next start is free
    from rmlib.transaction import YearLocks

    with YearLocks() as locks:
        locks.acquire(year)


# ----------------------------------------------------------------------------- 2. transaction + recovery
def test_partial_run_without_earlier_stages_is_refused(repo, capsys):
    assert_refused(
        repo,
        capsys,
        ["run", "params/2018.yaml", "--stages", "05_report"],
        ["needs the outputs of 01_clean", "outputs/2018"],
    )


def _provenance_for(repo: Path, params_path: str) -> None:
    """A provenance.json as a full run of ``params_path`` writes it (fingerprints per stage)."""
    from rmlib.params import load_params
    from rmlib.pipeline import STAGES, baseline_params
    from rmlib.provenance import fingerprint, stage_fingerprint

    p = load_params(params_path)
    fp = fingerprint(p, baseline_params(p))
    stages = [
        {"stage": n, "seconds": 1.0, "fingerprint": stage_fingerprint(fp, repo / "notebooks" / f"{n}.ipynb")}
        for n, _ in STAGES
    ]
    (repo / "outputs" / "2018" / "provenance.json").write_text(json.dumps({"year": 2018, "stages": stages}))
    safety.write_marker(repo / "data" / "processed" / "2018", "processed", 2018, {"fingerprint": fp})


@pytest.mark.parametrize(
    "change, words",
    [
        ("params", ["05_report", "01_clean", "other parameters"]),
        ("codebook", ["other inputs params/codebooks/2018.yaml"]),
        ("notebook", ["02_score", "other notebook"]),
        ("processed", ["data/processed/2018", "no fingerprint"]),
    ],
)
@pytest.mark.slow
def test_partial_run_refuses_to_mix_fingerprints(repo, capsys, change, words):
    _provenance_for(repo, "params/2018.yaml")
    pf = "params/2018.yaml"
    if change == "params":
        text = (repo / pf).read_text().replace("alpha: 0.05", "alpha: 0.01")
        (repo / pf).write_text(text)
    elif change == "codebook":
        cb = repo / "params" / "codebooks" / "2018.yaml"
        cb.write_text(cb.read_text() + "\n# edited\n")
    elif change == "notebook":
        nb = repo / "notebooks" / "02_score.ipynb"
        nb.write_text(nb.read_text().replace("every processed year", "every processed  year"))
    else:
        safety.write_marker(repo / "data" / "processed" / "2018", "processed", 2018)
    assert_refused(repo, capsys, ["run", pf, "--stages", "05_report"], words)


def _interrupted_commit(repo: Path, swaps_done: int) -> dict[str, str]:
    """Stage new versions of outputs/audit/processed, write the journal, do ``swaps_done`` swaps, stop."""
    from rmlib.transaction import Transaction, exchange

    txn = Transaction(2018)
    new = {}
    for rel, kind in (("outputs/2018", "outputs"), ("audit/2018", "audit"), ("data/processed/2018", "processed")):
        staged = txn.stage(repo / rel)
        safety.write_marker(staged, kind, 2018)
        (staged / "new.txt").write_text(f"new {rel}")
        new[rel] = "new"
    from rmlib.transaction import _inode, _write_json

    record = {
        "year": 2018,
        "pid": 1,
        "swaps": [{"staged": str(s), "target": str(t), "inode": list(_inode(s))} for s, t in txn.swaps],
        "removals": [],
        "scratch": [],
    }
    _write_json(txn.journal_path(), record)
    for staged, target in txn.swaps[:swaps_done]:
        assert exchange(staged, target)
    return new


@pytest.mark.parametrize("swaps_done", [0, 1, 2, 3])
def test_next_start_finishes_an_interrupted_commit_and_says_so(repo, capsys, swaps_done):
    _interrupted_commit(repo, swaps_done)
    code, msg = cli(capsys, "recover", "params/2018.yaml")
    assert code == 0 and "finished the commit of an interrupted 2018 run" in msg
    for rel in ("outputs/2018", "audit/2018", "data/processed/2018"):
        assert (repo / rel / "new.txt").read_text() == f"new {rel}", rel
    assert not [p for area in AREAS for p in (repo / area).rglob(".*staging*")]
    assert not (repo / ".rmlib" / "journal-2018.json").exists()


def test_next_start_removes_staging_and_kernel_leftovers_and_says_so(repo, capsys):
    import tempfile

    before = tree(repo)
    for rel in (
        "outputs/.2018.staging",
        "audit/.2018.staging",
        "data/processed/.staging-2018/2018",
        "outputs/.2018.staging-0a1b2c3d",
    ):
        (repo / rel).mkdir(parents=True)
        (repo / rel / "half.csv").write_text("half written")
    (repo / "outputs" / "2018.failed-02_score.ipynb").write_text("{}")  # an earlier version's diagnostics
    from rmlib.transaction import kernel_prefix

    other = Path(tempfile.mkdtemp(prefix="rmlib-kernels-0othercp-2018-"))  # another copy's live run: not ours
    kdir = Path(tempfile.mkdtemp(prefix=kernel_prefix(2018)))
    (kdir / "kernel-x.json").write_text("{}")
    code, msg = cli(capsys, "recover", "params/2018.yaml")
    assert code == 0 and "removed an interrupted 2018 run's staging folders" in msg and "kernel folder" in msg
    assert tree(repo) == before and not kdir.exists()
    assert other.is_dir()
    other.rmdir()


@pytest.mark.slow
def test_environment_errors_are_one_line_naming_the_path(repo, capsys, monkeypatch):
    """Read-only folder, full disk: one line naming the path, exit 1, last good state untouched, no leftovers."""
    import errno

    from rmlib import transaction

    real_stage = transaction.Transaction.stage

    def read_only(self, target, staged=None, seed=False):
        raise PermissionError(errno.EACCES, "Permission denied", str(transaction.staging_path(target)))

    monkeypatch.setattr(transaction.Transaction, "stage", read_only)
    assert_refused(
        repo, capsys, ["run", "params/2018.yaml"], ["cannot write", "outputs/.2018.staging", "permission denied"]
    )
    monkeypatch.setattr(transaction.Transaction, "stage", real_stage)
    from rmlib import clean

    def disk_full(result, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "ratings.parquet"))

    monkeypatch.setattr(clean, "write_processed", disk_full)
    assert_refused(repo, capsys, ["run", "params/2018.yaml"], ["no space left", "ratings.parquet"])


def test_unknown_stage_is_refused(repo, capsys):
    assert_refused(repo, capsys, ["run", "params/2018.yaml", "--stages", "03_crossanalysis"], ["unknown stage"])


def test_atomic_exchange_swaps_two_folders(tmp_path):
    from rmlib.transaction import exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not supported here")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_staged_paths_redirect_only_inside_the_named_folders(tmp_path, monkeypatch):
    from rmlib.io import staging_target
    from rmlib.paths import REDIRECT_ENV, staged

    final, stage = tmp_path / "outputs" / "2018", tmp_path / "outputs" / ".2018.staging"
    monkeypatch.setenv(REDIRECT_ENV, json.dumps({str(final): str(stage)}))
    assert staged(final / "tables" / "a.csv") == stage / "tables" / "a.csv"
    assert staged(tmp_path / "outputs" / "2018x") == tmp_path / "outputs" / "2018x"
    assert staged(tmp_path / "outputs" / "2017" / ".." / "2018" / "r.html") == stage / "r.html"
    assert staging_target(stage) == final
