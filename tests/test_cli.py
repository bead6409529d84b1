"""The command line as a newcomer meets it: --version, parameter files found from where the user stands,
and one line (not a traceback) outside a checkout."""

import os
import shutil
import subprocess
import sys
import tomllib

import pytest

ENV = {k: v for k, v in os.environ.items() if k != "RMLIB_ROOT"}


def cli(*args, cwd, env=None):
    return subprocess.run(
        [sys.executable, "-m", "rmlib", *args], cwd=cwd, capture_output=True, text=True, env=env or ENV, timeout=300
    )


def test_version_is_the_package_version(root):
    proc = cli("--version", cwd=root)
    wanted = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert proc.returncode == 0 and proc.stdout.strip() == f"rmlib {wanted}"


@pytest.mark.slow
def test_params_file_next_to_the_user_is_used_and_named(root):
    proc = cli("validate", "2018.yaml", cwd=root / "params")
    assert proc.returncode == 0, proc.stderr
    assert "parameters: params/2018.yaml" in proc.stderr and "no problems found" in proc.stdout


@pytest.mark.slow
def test_params_file_from_the_repository_root_when_not_in_the_current_folder(root, tmp_path):
    proc = cli("validate", "params/2018.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "parameters: params/2018.yaml" in proc.stderr


@pytest.mark.slow
def test_missing_params_file_names_both_places(root, tmp_path):
    proc = cli("validate", "params/2099.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("error: parameter file params/2099.yaml not found")
    assert str(tmp_path / "params" / "2099.yaml") in line and str(root / "params" / "2099.yaml") in line


@pytest.mark.slow
def test_installed_outside_a_checkout_says_what_to_do(root, tmp_path):
    # the package as a wheel installs it: a copy on the path, far from any checkout
    site = tmp_path / "site"
    shutil.copytree(root / "rmlib", site / "rmlib", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**ENV, "PYTHONPATH": str(site)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = cli("validate", "params/2018.yaml", cwd=elsewhere, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "RMLIB_ROOT" in proc.stderr and "params/, notebooks/ and data/raw/" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # the same package, started inside a checkout, finds it
    proc = cli("validate", "params/2018.yaml", cwd=root / "notebooks", env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_rmlib_root_that_is_not_a_folder_is_one_line(tmp_path):
    proc = cli("validate", "params/2018.yaml", cwd=tmp_path, env={**ENV, "RMLIB_ROOT": str(tmp_path / "nope")})
    assert proc.returncode == 1 and proc.stderr.strip().startswith("error: RMLIB_ROOT=")


@pytest.mark.slow
def test_run_needs_one_params_file_or_all(root):
    for args in (("run",), ("run", "params/2018.yaml", "--all")):
        proc = cli(*args, cwd=root)
        assert proc.returncode == 1 and "one parameter file" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_run_all_goes_oldest_first_and_stops_at_the_first_failure(repo_copy):
    # 2016 is made unusable: --all must stop there, say what was and was not built, and give the reason
    (repo_copy / "params" / "2016.yaml").write_text((repo_copy / "params" / "2016.yaml").read_text() + "min_cel_n: 3\n")
    proc = cli("run", "--all", cwd=repo_copy, env={**ENV, "RMLIB_ROOT": str(repo_copy)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "== 2016 (1 of 3 years) ==" in proc.stderr
    assert "stopped at 2016 (built: none; not run: 2017, 2018)" in proc.stderr
    assert "min_cel_n" in proc.stderr
    assert not (repo_copy / "outputs" / "2016").exists()


@pytest.mark.slow
def test_params_lists_every_declared_parameter_with_type_default_and_valid_values(root):
    from rmlib.params import PARAMETERS

    proc = cli("params", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for s in PARAMETERS:
        assert f"  {s.name}: {s.type}, default " in text, s.name
    # hand-checked entries: what a user reads for two of them
    assert (
        "  min_cell_n: int, default 5\n      fewer respondents: no mean shown, no test. Valid: a whole number "
        "from 1 to 1000." in text
    )
    assert "  year: int, default (required)" in text
    helped = cli("run", "--help", cwd=root)
    assert helped.returncode == 0 and "  correction: str, default fdr_bh" in helped.stdout


def test_params_markdown_is_docs_parameters_md(root):
    proc = cli("params", "--markdown", cwd=root)
    assert proc.returncode == 0 and proc.stdout == (root / "docs" / "parameters.md").read_text(encoding="utf-8") + "\n"


@pytest.mark.slow
def test_sync_params_check_passes_on_the_repository_and_fails_on_a_stale_doc(root, repo_copy):
    assert cli("sync-params", "--check", cwd=root).returncode == 0
    (repo_copy / "docs").mkdir()
    (repo_copy / "docs" / "parameters.md").write_text("# Parameters\n\nold\n")
    env = {**ENV, "RMLIB_ROOT": str(repo_copy)}
    proc = cli("sync-params", "--check", cwd=repo_copy, env=env)
    assert proc.returncode == 1 and "out of date: docs/parameters.md" in proc.stdout
    assert "python -m rmlib sync-params" in proc.stderr
    assert cli("sync-params", cwd=repo_copy, env=env).returncode == 0
    assert cli("sync-params", "--check", cwd=repo_copy, env=env).returncode == 0
