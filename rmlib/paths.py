"""Locate the repository root, so notebooks and the CLI behave the same from any cwd.

papermill, nbval and JupyterLab start kernels in different working
directories; every relative path in ``params/*.yaml`` is therefore resolved
against the repository root, never against the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path


class RepoNotFound(RuntimeError):
    """No checkout of the pipeline above the package or the current folder, and no RMLIB_ROOT."""


def _is_checkout(folder: Path) -> bool:
    return (folder / "params").is_dir() and (folder / "notebooks").is_dir()


def repo_root() -> Path:
    """Return the repository root.

    ``RMLIB_ROOT`` wins if set (tests use it to run the pipeline on a copy);
    otherwise the folder holding ``pyproject.toml`` above this package (an
    editable install in a checkout); otherwise, for a package installed from
    a wheel, the checkout (a folder with ``params/`` and ``notebooks/``) that
    holds the current folder.
    """
    env = os.environ.get("RMLIB_ROOT")
    if env:
        root = Path(env).resolve()
        if not root.is_dir():
            raise RepoNotFound(f"RMLIB_ROOT={env} is not a folder: set it to the checkout of the pipeline "
                               "(the folder that holds params/, notebooks/ and data/raw/)")
        return root
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "rmlib").is_dir():
            return candidate
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if _is_checkout(candidate):
            return candidate
    raise RepoNotFound(f"no checkout of the pipeline above {cwd} (rmlib is installed at {here}): run from inside "
                       "the checkout, or set RMLIB_ROOT to the folder that holds params/, notebooks/ and data/raw/")


def resolve(path: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve ``path`` against the repository root unless it is absolute (and see :func:`staged`)."""
    p = Path(path)
    return staged(p if p.is_absolute() else (root or repo_root()) / p)


#: environment variable the pipeline sets for its notebook kernels: {final folder: staging folder} as JSON
REDIRECT_ENV = "RMLIB_STAGING"


def staged(path: Path) -> Path:
    """``path`` moved into its staging folder while a pipeline run builds it (else unchanged).

    The pipeline runs the notebooks with the parameters exactly as the user
    wrote them (so the notebooks and the report show ``outputs/{year}``, not
    a staging folder) and tells the kernel through :data:`REDIRECT_ENV`
    where each folder it writes is being staged; every path the package
    resolves goes through here.
    """
    spec = os.environ.get(REDIRECT_ENV)
    if not spec:
        return path
    import json
    norm = Path(os.path.normpath(path))
    for final, stage in json.loads(spec).items():
        f = Path(final)
        if norm == f or f in norm.parents:
            return Path(stage) / norm.relative_to(f)
    return path
