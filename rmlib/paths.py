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
            raise RepoNotFound(
                f"RMLIB_ROOT={env} is not a folder: set it to the checkout of the pipeline "
                "(the folder that holds params/, notebooks/ and data/raw/)"
            )
        return root
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "rmlib").is_dir():
            return candidate
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if _is_checkout(candidate):
            return candidate
    raise RepoNotFound(
        f"no checkout of the pipeline above {cwd} (rmlib is installed at {here}): run from inside "
        "the checkout, or set RMLIB_ROOT to the folder that holds params/, notebooks/ and data/raw/"
    )


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


#: folder (below the repository root, gitignored) that notebooks run outside the pipeline write into
SCRATCH = "scratch"


def scratch_root() -> Path:
    """``scratch/`` of the repository: where a notebook run by papermill, nbval or JupyterLab writes."""
    return repo_root() / SCRATCH


def redirecting_to_scratch() -> bool:
    """Whether :data:`REDIRECT_ENV` holds a scratch redirection (set by :func:`redirect`, not by the pipeline)."""
    import json

    spec = os.environ.get(REDIRECT_ENV)
    if not spec:
        return False
    stages = [Path(v) for v in json.loads(spec).values()]
    return bool(stages) and all(s.is_relative_to(scratch_root()) for s in stages)


def seed(pairs: "list[tuple[Path, Path]]") -> list[Path]:
    """Copy each existing ``(final, scratch)`` folder whose scratch copy is missing; return the copied finals.

    The copy is made beside its destination and renamed into place, so two
    kernels seeding at once never see half a folder (the second one's copy
    is dropped). Symbolic links are copied as links. Hand-written: shutil
    copies a tree but not into place atomically.
    """
    import shutil
    import tempfile

    copied = []
    for final, dest in pairs:
        if dest.exists() or not final.is_dir():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.seeding-", dir=dest.parent))
        try:
            shutil.copytree(final, tmp / "copy", symlinks=True)
            os.rename(tmp / "copy", dest)
            copied.append(final)
        except OSError:
            if not dest.exists():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return copied


def redirect(mapping: "dict[Path, Path]") -> None:
    """Send every path the package resolves below a final folder to its replacement, in this process
    (and the processes it starts), through :data:`REDIRECT_ENV` - what :func:`staged` reads."""
    import json

    for dest in mapping.values():
        dest.mkdir(parents=True, exist_ok=True)
    os.environ[REDIRECT_ENV] = json.dumps({str(k): str(v) for k, v in mapping.items()})
