"""Parameters entering a notebook (papermill's injected cell, the parameters cell in JupyterLab) and
where a notebook run outside ``rmlib run`` writes (scratch/, never the published folders)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
import pytest
import yaml
from conftest import ROOT, copy_repo
from papermill.translators import translate_parameters

from rmlib import paths
from rmlib.params import (
    PARAM_NAMES,
    ParamsError,
    assigned_names,
    check_notebook_names,
    from_notebook,
    parameter_cells,
    use_scratch,
)

PARAMS_2018 = yaml.safe_load((ROOT / "params" / "2018.yaml").read_text(encoding="utf-8"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TYPO = "unknown parameter 'min_cel_n' (did you mean 'min_cell_n'?)"
DECLARED = "the parameters are declared in rmlib/params.py (PARAMETERS)"


def _parameters_cell(nb: Path) -> str:
    book = nbformat.read(nb, as_version=4)
    return next(c.source for c in book.cells if "parameters" in c.metadata.get("tags", []))


def _injected(values: dict) -> str:
    """The cell papermill itself injects for these values (its own translator, not a copy of its format)."""
    return translate_parameters("python", "python", values, "Parameters")


def _tree(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path -> digest); symbolic links by their target."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ----------------------------------------------------------------------------- reading the cells
@pytest.mark.parametrize(
    "source, names",
    [
        ("a = 1\nb: int = 2\nc += 3", ["a", "b", "c"]),
        ("a, (b, *c) = 1, (2, 3, 4)\nd = e = 5", ["a", "b", "c", "d", "e"]),
        (
            "for i in range(3):\n    x = i\ndef f():\n    y = 1\nobj.attr = 1\nd['k'] = 2",
            [],
        ),  # not top level / not names
        ("%time x = 1", []),  # a magic does not parse: no names, no crash
        ("a = 1\na = 2", ["a"]),
    ],
)
def test_assigned_names_are_top_level_names_only(source, names):
    assert assigned_names(source) == names


def test_papermills_injected_cell_is_recognised_by_its_first_line():
    src = _injected({"year": 2018, "min_cel_n": 3})
    assert src.splitlines()[0] == "# Parameters"  # papermill's own output: the head this check relies on
    cells = parameter_cells({"In": ["", _parameters_cell(NOTEBOOKS[0]), src, "P = from_notebook(globals())"]})
    assert [w for w, _ in cells] == ["papermill's injected parameters (-p / -f)", "the notebook's parameters cell"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_false_alarm_on_the_bundled_notebooks(nb):
    """Each notebook's parameters cell plus papermill's injected cell for params/2018.yaml: nothing unknown."""
    own = _parameters_cell(nb)
    assert own.startswith("# Parameters: papermill injects")
    check_notebook_names({"In": ["", own, _injected(PARAMS_2018), "P = from_notebook(globals())"]})
    assert set(assigned_names(own)) == set(PARAM_NAMES)


def test_a_typo_in_an_injected_parameter_names_the_close_match():
    ns = {"In": ["", _parameters_cell(NOTEBOOKS[1]), _injected({**PARAMS_2018, "min_cel_n": 3})]}
    with pytest.raises(ParamsError) as err:
        check_notebook_names(ns)
    msg = str(err.value)
    assert msg == f"{TYPO} in papermill's injected parameters (-p / -f); {DECLARED}"


def test_every_unknown_name_is_named_and_one_without_a_close_match_gets_no_guess():
    own = _parameters_cell(NOTEBOOKS[0]) + "\nsed = 1\nzzz_qqq = 2\n"
    with pytest.raises(ParamsError) as err:
        check_notebook_names({"In": ["", own]})
    assert str(err.value) == (
        f"unknown parameters 'sed' (did you mean 'seed'?) and 'zzz_qqq' in the notebook's parameters cell; {DECLARED}"
    )


def test_a_corrected_parameters_cell_replaces_the_earlier_run():
    """JupyterLab: a typo, then the cell corrected and run again; only the last run counts."""
    own = _parameters_cell(NOTEBOOKS[0])
    typo = own.replace("min_cell_n = 5", "min_cel_n = 5")
    with pytest.raises(ParamsError, match="min_cel_n"):
        check_notebook_names({"In": ["", typo, "P = from_notebook(globals())"]})
    check_notebook_names({"In": ["", typo, "P = from_notebook(globals())", own, "P = from_notebook(globals())"]})


def test_no_history_outside_ipython_means_nothing_to_check():
    check_notebook_names({"year": 2018})
    check_notebook_names({"In": "not a list"})


@pytest.mark.slow
def test_rmlib_run_refuses_an_unknown_name_in_the_params_file(tmp_path):
    dest = copy_repo(tmp_path / "repo")
    bad = dest / "params" / "typo.yaml"
    bad.write_text((ROOT / "params" / "2018.yaml").read_text(encoding="utf-8") + "min_cel_n: 3\n", encoding="utf-8")
    env = {**os.environ, "RMLIB_ROOT": str(dest)}
    env.pop(paths.REDIRECT_ENV, None)
    proc = subprocess.run(
        [sys.executable, "-m", "rmlib", "run", "params/typo.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "unknown parameter" in proc.stderr and "min_cel_n" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (dest / "outputs").exists() and not (dest / "scratch").exists()


# ----------------------------------------------------------------------------- scratch, without a kernel
def _not_under_the_pipeline(monkeypatch, root: Path) -> None:
    """RMLIB_ROOT at ``root`` and no redirection, both undone after the test (use_scratch sets
    os.environ itself; monkeypatch.delenv of an absent name would record nothing to undo)."""
    monkeypatch.setenv("RMLIB_ROOT", str(root))
    monkeypatch.setenv(paths.REDIRECT_ENV, "")
    monkeypatch.delenv(paths.REDIRECT_ENV)


def _params(dest: Path, **change):
    from rmlib.params import validate

    return validate({**PARAMS_2018, **change})


def test_use_scratch_maps_the_three_written_folders_and_seeds_from_the_last_run(tmp_path, monkeypatch):
    dest = tmp_path / "repo"
    (dest / "outputs" / "2018").mkdir(parents=True)
    (dest / "outputs" / "2018" / "report.html").write_text("last run")
    (dest / "audit" / "2018" / "data").mkdir(parents=True)
    (dest / "audit" / "2018" / "data" / "cells.parquet").write_text("cells")
    for y in (2016, 2017, 2018, 2019):
        (dest / "data" / "processed" / str(y)).mkdir(parents=True)
        (dest / "data" / "processed" / str(y) / "respondents.parquet").write_text(str(y))
    (dest / "scratch" / "processed" / "2017").mkdir(parents=True)  # already in scratch: kept as it is
    (dest / "scratch" / "processed" / "2017" / "mine.txt").write_text("an earlier scratch run")
    _not_under_the_pipeline(monkeypatch, dest)
    said = []
    use_scratch(_params(dest), say=said.append)
    s = dest / "scratch"
    assert said == [
        "running outside `rmlib run`: results go to scratch/2018/ and processed data to scratch/processed/ "
        "(the published outputs/2018/ is not touched; first use, seeded from the last run in outputs/2018/)"
    ]
    assert (s / "2018" / "outputs" / "report.html").read_text() == "last run"
    assert (s / "2018" / "audit" / "data" / "cells.parquet").read_text() == "cells"
    assert (s / "processed" / "2016" / "respondents.parquet").read_text() == "2016"  # the trend's years too
    assert not (s / "processed" / "2017" / "respondents.parquet").exists()
    assert not (s / "processed" / "2019").exists()  # a later year is not needed
    p = _params(dest)
    assert p.path("output_dir") == s / "2018" / "outputs"
    assert p.path("audit_dir") / "data" == s / "2018" / "audit" / "data"
    assert p.processed_year_dir == s / "processed" / "2018"
    assert p.path("raw_dir") == dest / "data" / "raw" / "2018"  # inputs are read where they are
    # a second call (the cell run again, here for another year) maps the real folders again, seeds nothing twice
    said.clear()
    use_scratch(_params(dest, year=2017, compare_year=2016, seed=2017), say=said.append)
    assert said == [
        "running outside `rmlib run`: results go to scratch/2017/ and processed data to scratch/processed/ "
        "(the published outputs/2017/ is not touched)"
    ]
    assert _params(dest, year=2017, compare_year=2016).path("output_dir") == s / "2017" / "outputs"
    assert not list(s.rglob(".*seeding*"))


def test_the_pipelines_redirection_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("RMLIB_ROOT", str(tmp_path))
    spec = json.dumps({str(tmp_path / "outputs" / "2018"): str(tmp_path / "outputs" / ".2018.staging")})
    monkeypatch.setenv(paths.REDIRECT_ENV, spec)
    said = []
    assert use_scratch(_params(tmp_path), say=said.append) is None
    assert said == [] and os.environ[paths.REDIRECT_ENV] == spec and not (tmp_path / "scratch").exists()


def test_from_notebook_outside_a_kernel_can_skip_scratch(tmp_path, monkeypatch):
    _not_under_the_pipeline(monkeypatch, tmp_path)
    p = from_notebook(dict(PARAMS_2018), scratch=False)
    assert p.min_cell_n == 5 and paths.REDIRECT_ENV not in os.environ and not (tmp_path / "scratch").exists()


# ----------------------------------------------------------------------------- real kernels
def _clean_env(dest: Path) -> dict:
    env = {**os.environ, "RMLIB_ROOT": str(dest)}
    env.pop(paths.REDIRECT_ENV, None)
    return env


@pytest.mark.slow
def test_papermill_with_a_mistyped_parameter_fails_and_says_so(tmp_path):
    """``papermill notebooks/02_score.ipynb out.ipynb -p min_cel_n 3`` exits non-zero naming the name."""
    dest = copy_repo(tmp_path / "repo")
    papermill = Path(sys.executable).with_name("papermill")
    proc = subprocess.run(
        [
            str(papermill),
            str(dest / "notebooks" / "02_score.ipynb"),
            str(tmp_path / "out.ipynb"),
            "-p",
            "min_cel_n",
            "3",
        ],
        cwd=tmp_path,
        env=_clean_env(dest),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert f"ParamsError: {TYPO} in papermill's injected parameters (-p / -f); {DECLARED}" in proc.stderr
    assert not (dest / "scratch").exists() and not (dest / "outputs").exists()  # refused before anything


@pytest.mark.slow
def test_jupyterlab_kernel_with_a_typo_in_the_parameters_cell_fails(tmp_path):
    """No papermill: the notebook executed as JupyterLab does (nbclient, an IPython kernel), typo in its cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    dest = copy_repo(tmp_path / "repo")
    book = nbformat.read(dest / "notebooks" / "02_score.ipynb", as_version=4)
    cell = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("seed = ", "sed = ")
    book.cells = book.cells[: book.cells.index(cell) + 2]  # the parameters cell and the first code cell
    client = NotebookClient(book, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    old = dict(os.environ)
    os.environ.update(_clean_env(dest))
    os.environ.pop(paths.REDIRECT_ENV, None)
    try:
        with pytest.raises(CellExecutionError) as err:
            client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    shown = str(err.value)
    assert (
        f"ParamsError: unknown parameter 'sed' (did you mean 'seed'?) in the notebook's parameters cell; {DECLARED}"
    ) in shown
    assert "Traceback" not in shown and "\x1b[" not in shown  # one line, not a traceback


@pytest.mark.slow
def test_a_notebook_run_standalone_writes_to_scratch_and_leaves_the_published_folders_alone(tmp_path, monkeypatch):
    """papermill on 02_score with the last good run in place: outputs/, audit/, data/processed/ byte-identical
    afterwards (sha256 of every file); the notebook's tables land in scratch/2018/."""
    dest = copy_repo(tmp_path / "repo")
    env = _clean_env(dest)
    # a last good run: processed years 2016-2018 as the pipeline writes them, and published/audit folders
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from rmlib.params import load_params; from rmlib import clean;"
            "[clean.write_processed(clean.clean_year(load_params(f'params/{y}.yaml')), "
            "load_params(f'params/{y}.yaml').processed_year_dir) for y in (2016, 2017, 2018)]",
        ],
        env=env,
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    (dest / "outputs" / "2018" / "tables").mkdir(parents=True)
    (dest / "outputs" / "2018" / "tables" / "headline.csv").write_text("published,by the last run\n")
    (dest / "outputs" / "2018" / "provenance.json").write_text('{"run": "the last one"}\n')
    (dest / "audit" / "2018" / "data").mkdir(parents=True)
    (dest / "audit" / "2018" / "data" / "cells.parquet").write_bytes(b"from the last run")
    before = {d: _tree(dest / d) for d in ("outputs", "audit", "data/processed")}
    _not_under_the_pipeline(monkeypatch, dest)  # the kernel papermill starts inherits this environment
    out_nb = tmp_path / "02.ipynb"
    pm.execute_notebook(
        str(dest / "notebooks" / "02_score.ipynb"),
        str(out_nb),
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
        parameters={"n_resamples": 999},
    )  # injected: a declared name, accepted
    after = {d: _tree(dest / d) for d in ("outputs", "audit", "data/processed")}
    assert after == before
    scratch = dest / "scratch" / "2018"
    headline = (scratch / "outputs" / "tables" / "headline.csv").read_text()
    assert "by the last run" not in headline and headline.startswith("group,n,overall,")  # 02 wrote it, here
    assert (scratch / "outputs" / "provenance.json").read_text() == '{"run": "the last one"}\n'  # seeded
    for name in ("headline", "maturity", "responses_by_year", "trend_by_question"):
        assert (scratch / "audit" / "data" / f"{name}.parquet").is_file()
        assert (scratch / "outputs" / "tables" / f"{name}.csv").is_file()
    assert sorted(q.name for q in (dest / "scratch" / "processed").iterdir()) == ["2016", "2017", "2018"]
    first = nbformat.read(out_nb, as_version=4).cells
    printed = "".join(o.get("text", "") for c in first if c.cell_type == "code" for o in c.get("outputs", []))
    assert (
        "running outside `rmlib run`: results go to scratch/2018/ and processed data to scratch/processed/ "
        "(the published outputs/2018/ is not touched; first use, seeded from the last run in outputs/2018/)"
    ) in printed
    # what the notebook computed is the same as from the published processed data (seeded copies are faithful)
    trend = __import__("pandas").read_parquet(scratch / "audit" / "data" / "trend_by_question.parquet")
    assert sorted(trend.year.unique()) == [2016, 2017, 2018]
