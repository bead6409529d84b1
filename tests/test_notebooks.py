"""The notebooks: parameters cells in sync with rmlib.params, thin, and checked by nbval."""

import ast
import os
import subprocess
import sys

import papermill as pm
import pytest
import yaml
from conftest import ROOT, copy_repo

from rmlib.params import PARAM_NAMES, SYNC_COMMAND
from rmlib.pipeline import STAGES
from rmlib.stages import notebooks as derived

NOTEBOOKS = [ROOT / "notebooks" / f"{name}.ipynb" for name, _ in STAGES]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_rmlib_params(nb):
    info = pm.inspect_notebook(str(nb))  # papermill only *warns* when the tag is missing: assert it
    assert list(info) == list(PARAM_NAMES), f"{nb.name}: parameters cell must declare exactly rmlib.params.PARAM_NAMES"
    defaults = yaml.safe_load((ROOT / "params" / "2018.yaml").read_text())
    for name, spec in info.items():
        assert ast.literal_eval(spec["default"]) == defaults[name], (
            f"{nb.name}: default of {name} differs from params/2018.yaml"
        )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_the_generated_one(nb):
    """Each notebook's parameters cell is exactly what rmlib.params.parameters_cell renders (no hand edits)."""
    import nbformat

    cells = [c for c in nbformat.read(nb, as_version=4).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{nb.name}: one cell tagged 'parameters'"
    assert cells[0].source == derived.expected_cell(ROOT), f"{nb.name}: parameters cell out of date; run {SYNC_COMMAND}"


def test_generated_files_are_in_sync():
    """The check ``python -m rmlib sync-params --check`` makes: notebooks and docs/parameters.md."""
    assert derived.out_of_sync(ROOT) == [], f"run {SYNC_COMMAND}"


def test_sync_rewrites_a_hand_edited_cell_and_keeps_the_rest(tmp_path):
    import nbformat

    dest = copy_repo(tmp_path / "repo")
    (dest / "docs").mkdir()
    (dest / "docs" / "parameters.md").write_text((ROOT / "docs" / "parameters.md").read_text(encoding="utf-8"))
    nb = dest / "notebooks" / "02_score.ipynb"
    book = nbformat.read(nb, as_version=4)
    cell = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("min_cell_n = 5", "min_cell_n = 7")
    nbformat.write(book, nb)
    assert derived.out_of_sync(dest) == ["notebooks/02_score.ipynb"]
    assert derived.sync(dest) == ["notebooks/02_score.ipynb"]
    assert derived.out_of_sync(dest) == []
    after = nbformat.read(nb, as_version=4)
    original = nbformat.read(ROOT / "notebooks" / "02_score.ipynb", as_version=4)
    assert [c.source for c in after.cells] == [c.source for c in original.cells]
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in original.cells]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin(nb):
    """Logic lives in rmlib: no function or class definitions, no long code cells."""
    import nbformat

    book = nbformat.read(nb, as_version=4)
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in ast.walk(tree)), (
            f"{nb.name}: move definitions to rmlib"
        )
        assert len(cell.source.splitlines()) <= 25, f"{nb.name}: a code cell of {len(cell.source.splitlines())} lines"


@pytest.mark.slow
def test_nbval_notebooks_run_and_match_stored_outputs(tmp_path):
    """nbval (lax: cells marked NBVAL_CHECK_OUTPUT must reproduce their stored output) on a copy of the repo,
    started from another working directory to prove paths resolve from the repository root."""
    dest = copy_repo(tmp_path / "repo")
    env = {**os.environ, "RMLIB_ROOT": str(dest)}
    # earlier years' processed data: the baselines the notebooks compare with
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from rmlib.params import load_params; from rmlib import clean;"
            "[clean.write_processed(clean.clean_year(load_params(f'params/{y}.yaml')), "
            "load_params(f'params/{y}.yaml').processed_year_dir) for y in (2016, 2017)]",
        ],
        env=env,
        check=True,
        cwd=tmp_path,
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        *[str(dest / "notebooks" / nb.name) for nb in NOTEBOOKS],
    ]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
