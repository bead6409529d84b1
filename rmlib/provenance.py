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

PACKAGES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "pandera",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "openpyxl",
    "jinja2",
    "pyyaml",
)


def git_commit(root: Path | None = None) -> dict:
    """The checked-out commit and whether tracked files have uncommitted changes (None outside git)."""
    root = root or repo_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
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


def code_version() -> dict[str, str]:
    """The package's version and a sha256 over its source files (works without git, e.g. in a copy)."""
    import hashlib

    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(p for p in pkg.rglob("*") if p.is_file() and p.suffix in (".py", ".j2")):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes() + b"\0")
    try:
        version = md.version("rmlib")
    except md.PackageNotFoundError:
        version = "unknown"
    return {"rmlib": version, "sha256": h.hexdigest()}


def params_digest(params: Params) -> str:
    """sha256 of the parameter values (not the file: comments and layout do not matter)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(params.to_dict(), sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(params: Params, baselines: list[Params] = ()) -> dict:
    """What a run's artefacts are made from: every input's sha256 (this year's and the baselines'),
    the parameters and the code. Two artefacts may be combined only if their fingerprints are equal."""
    inputs = dict(input_hashes(params))
    for p in baselines:
        inputs.update(input_hashes(p))
    return {
        "inputs_sha256": dict(sorted(inputs.items())),
        "params_sha256": params_digest(params),
        "code": code_version(),
    }


def stage_fingerprint(run_fingerprint: dict, notebook: Path) -> dict:
    """A stage's fingerprint: the run's plus the sha256 of the stage's notebook."""
    return {**run_fingerprint, "notebook_sha256": sha256_file(notebook)}


def differences(recorded: dict | None, current: dict) -> list[str]:
    """Which parts of two fingerprints differ, in words (``[]``: equal)."""
    if not recorded:
        return ["no fingerprint recorded (made by an earlier version of the pipeline)"]
    out = []
    old_in, new_in = recorded.get("inputs_sha256", {}), current.get("inputs_sha256", {})
    changed = sorted(k for k in set(old_in) | set(new_in) if old_in.get(k) != new_in.get(k))
    if changed:
        out.append("inputs " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))
    for key, word in (("params_sha256", "parameters"), ("code", "code version"), ("notebook_sha256", "notebook")):
        if key in current and recorded.get(key) != current.get(key):
            out.append(word)
    return out
