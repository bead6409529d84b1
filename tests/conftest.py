"""Shared fixtures: the repository root, published figures, a disposable copy of the repository."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def published() -> dict:
    return yaml.safe_load((ROOT / "tests" / "published_figures.yaml").read_text(encoding="utf-8"))


def copy_repo(dest: Path) -> Path:
    """A working copy of what a run needs (params, raw data, notebooks) - never the real outputs."""
    for name in ("params", "notebooks", "data/raw"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (dest / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    # no rmlib/ here: the code is imported from the installed package (a folder of that name in the
    # kernel's working directory would shadow it)
    return dest


@pytest.fixture
def repo_copy(tmp_path, monkeypatch) -> Path:
    """A fresh copy of the repository's inputs with RMLIB_ROOT pointing at it."""
    dest = copy_repo(tmp_path / "repo")
    monkeypatch.setenv("RMLIB_ROOT", str(dest))
    return dest


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> Path:
    """Run the whole 2018 pipeline once on a copy of the repository; return the copy's root."""
    from rmlib.pipeline import run

    dest = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    old = os.environ.get("RMLIB_ROOT")
    os.environ["RMLIB_ROOT"] = str(dest)
    try:
        run("params/2018.yaml", say=lambda s: None)
    finally:
        if old is None:
            os.environ.pop("RMLIB_ROOT", None)
        else:
            os.environ["RMLIB_ROOT"] = old
    return dest
