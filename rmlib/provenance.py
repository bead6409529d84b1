"""What a run was made from: input hashes, parameters, code version, package versions.

Used by the pipeline (``provenance.json``) and by the report (its provenance
section), so both state exactly the same thing.
"""
from __future__ import annotations

import importlib.metadata as md
import platform
import subprocess
from pathlib import Path

from .codebook import load_codebook
from .io import sha256_file
from .params import Params
from .paths import repo_root

PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "pandera", "pyarrow", "matplotlib", "seaborn",
            "papermill", "nbconvert", "nbformat", "ipykernel", "openpyxl", "jinja2", "pyyaml")


def git_commit(root: Path | None = None) -> dict:
    """The checked-out commit and whether tracked files have uncommitted changes (None outside git)."""
    root = root or repo_root()
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True, check=True).stdout.strip())
        return {"commit": head, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def input_hashes(params: Params) -> dict[str, str]:
    """sha256 of every input of the run: raw exports, codebook, theme and redaction dictionaries."""
    root = repo_root()
    cb = load_codebook(params.path("codebook"))
    files = [params.path("raw_dir") / s.file for s in cb.files.values()]
    files += [params.path("codebook"), params.path("themes"), params.path("redaction")]
    return {str(f.relative_to(root) if f.is_relative_to(root) else f): sha256_file(f) for f in files if f.is_file()}
