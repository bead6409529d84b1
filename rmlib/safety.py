"""Checks that keep a run from destroying, hiding or mixing data, all made before anything is written.

* :func:`check_paths` - containment: every path setting resolves inside the
  repository (or a root named with ``--allow-root``); the folders a run
  writes (outputs, audit, processed) are never, contain, or sit inside the
  raw data, the parameters, the notebooks, the package or each other; an
  output or audit folder names one year's folder; an existing folder the run
  would replace carries the marker the pipeline writes (:data:`MARKER`).
* :func:`check_inputs` - the codebook, theme and redaction files exist and
  are UTF-8 YAML without duplicate keys or alias bombs (one line each).
* :func:`table_requirements` - each report table's attribute is declared by
  the year's codebook (renaming an attribute would otherwise silently drop a
  report section).
* :func:`data_gates` - after cleaning: an exclusion rule (fieldwork dates,
  test responses, ...) that removes every response of a group is an error;
  one that removes more than a fifth is a warning.

Every problem is one line naming the setting or file and the value.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .params import Params
from .paths import repo_root

#: the file the pipeline writes into every folder it creates (and looks for before replacing one)
MARKER = ".rmlib-folder"
#: share of a group's rows one exclusion rule may remove before a warning
WARN_SHARE = 0.2
_LEGACY_PROCESSED = {
    "respondents.parquet",
    "memberships.parquet",
    "ratings.parquet",
    "comments.parquet",
    "cleaning_log.csv",
}


class UnsafeSettings(ValueError):
    """A setting would let the run write where it must not; the message names the setting."""


class DataGateFailed(ValueError):
    """Cleaning would leave a group without any response (or the codebook lost a report table's attribute)."""


# ----------------------------------------------------------------------------- markers
def marker_text(kind: str, year: int) -> str:
    """The marker's content: deterministic, so two identical runs write identical files."""
    return json.dumps({"written_by": "rmlib pipeline", "kind": kind, "year": year}, sort_keys=True) + "\n"


def write_marker(folder: Path, kind: str, year: int, extra: dict | None = None) -> None:
    record = json.loads(marker_text(kind, year))
    record.update(extra or {})
    (folder / MARKER).write_text(json.dumps(record, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder the pipeline wrote (None if absent or unreadable)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "rmlib pipeline" else None


def _legacy_kind(folder: Path, kind: str, year: int) -> bool:
    """A folder an earlier version of the pipeline wrote (before markers): adopted, and said so."""
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return False
    if kind == "outputs":
        try:
            prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(prov, dict) and prov.get("year") == year and "report.html" in names
    if kind == "processed":
        return "ratings.parquet" in names and names <= _LEGACY_PROCESSED
    return False


def owned(folder: Path, kind: str, year: int) -> bool:
    """Whether the pipeline may replace ``folder``: it is absent, or it carries our marker of ``kind``."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return True
    if folder.is_symlink() or not folder.is_dir():
        return False
    m = read_marker(folder)
    if m is not None:
        return m.get("kind") == kind and m.get("year") == year
    return _legacy_kind(folder, kind, year)


# ----------------------------------------------------------------------------- containment
def _real(path: Path) -> Path:
    """The path with ``..`` and symlinks resolved (also for parts that do not exist yet)."""
    return Path(os.path.realpath(path))


def _inside(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or lies inside it."""
    return a == b or b in a.parents


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


@dataclass(frozen=True)
class Target:
    """A folder a run replaces as a whole: the setting it comes from, its kind and year."""

    setting: str
    path: Path
    kind: str  # outputs | audit | failed | processed
    year: int


def failed_dir(params: Params) -> Path:
    """Where a failed run leaves its diagnostics: ``<audit_dir>.failed`` (e.g. ``audit/2018.failed``)."""
    audit = params.path("audit_dir")
    return audit.with_name(audit.name + ".failed")


def targets(params: Params, baseline_years: Iterable[int] = ()) -> list[Target]:
    """Every folder a run of ``params`` may replace."""
    out = [
        Target("output_dir", params.path("output_dir"), "outputs", params.year),
        Target("audit_dir", params.path("audit_dir"), "audit", params.year),
        Target("audit_dir", failed_dir(params), "failed", params.year),
        Target("processed_dir", params.processed_year_dir, "processed", params.year),
    ]
    for y in baseline_years:
        out.append(Target("processed_dir", params.path("processed_dir") / str(y), "processed", y))
    return out


def protected_areas(params: Params, root: Path) -> dict[str, Path]:
    """Folders no run may write into, replace or contain: raw data, parameters, notebooks, the package."""
    areas = {
        "the repository root": root,
        "the raw data (data/raw)": root / "data" / "raw",
        "the raw data ('raw_dir')": params.path("raw_dir"),
        "the parameters (params/)": root / "params",
        "the codebook's folder": params.path("codebook").parent,
        "the notebooks (notebooks/)": root / "notebooks",
        "the package (rmlib/)": root / "rmlib",
        "the installed package": Path(__file__).resolve().parent,
        "the tests (tests/)": root / "tests",
        "the git repository (.git)": root / ".git",
    }
    return {k: _real(v) for k, v in areas.items()}


def _outside_root_problems(params: Params, real: dict[str, Path], roots: list[Path], root: Path) -> list[str]:
    """Path settings that resolve outside the repository and every allowed root (checked before anything else)."""
    problems = []
    for name, path in real.items():
        if not any(_inside(path, r) for r in roots):
            problems.append(
                f"'{name}': {getattr(params, name)!r} resolves to {path}, outside the repository {root}; "
                "keep it inside, or name its folder with --allow-root"
            )
    return problems


def _protected_area_problems(params: Params, written: dict[str, Path], areas: dict[str, Path], root: Path) -> list[str]:
    """Folders the pipeline replaces that are, lie inside or contain a protected area (or are the root itself)."""
    problems = []
    for name, path in written.items():
        for label, area in areas.items():
            if label == "the repository root":
                if path == area:
                    problems.append(f"'{name}': {getattr(params, name)!r} is the repository root itself")
                continue
            if _inside(path, area):
                problems.append(
                    f"'{name}': {getattr(params, name)!r} ({_shown(path, root)}) is or lies inside "
                    f"{label}; the pipeline would replace it"
                )
            elif _inside(area, path):
                problems.append(
                    f"'{name}': {getattr(params, name)!r} ({_shown(path, root)}) contains {label}; "
                    "the pipeline would replace it"
                )
    return problems


def _year_folder_problems(params: Params, real: dict[str, Path]) -> list[str]:
    """Output and audit folders whose last part does not name the year: every year would share (and replace) them."""
    problems = []
    for name in ("output_dir", "audit_dir"):
        if str(params.year) not in real[name].name:
            problems.append(
                f"'{name}': {getattr(params, name)!r} must name one year's folder (e.g. "
                f"{'outputs' if name == 'output_dir' else 'audit'}/{{year}}); its last part "
                f"{real[name].name!r} does not contain {params.year}, so every year would share it"
            )
    return problems


def _overlap_problems(pairs: list[tuple[str, Path]], root: Path) -> list[str]:
    """Each pair of (setting, folder) where one folder is or lies inside the other: replacing one would hit both."""
    problems = []
    for i, (a, pa) in enumerate(pairs):
        for b, pb in pairs[i + 1 :]:
            if _inside(pa, pb) or _inside(pb, pa):
                problems.append(
                    f"'{a}' ({_shown(pa, root)}) and '{b}' ({_shown(pb, root)}) overlap; each needs a folder of its own"
                )
    return problems


def _managed_parent_problems(real: dict[str, Path], root: Path) -> list[str]:
    """Written folders lying inside a folder the pipeline manages (one with a marker), below the root."""
    problems = []
    for name in ("output_dir", "audit_dir", "processed_dir"):
        path = real[name]
        for parent in path.parents:
            if parent == root or root not in parent.parents:
                break
            if read_marker(parent) is not None:
                problems.append(
                    f"'{name}': {_shown(path, root)} lies inside {_shown(parent, root)}, a folder "
                    "the pipeline manages; choose a folder of its own"
                )
                break
    return problems


def _target_problems(params: Params, baseline_years: Iterable[int], root: Path) -> list[str]:
    """What is on disk where the pipeline will write: links, files, folders it did not create, file parents.

    The pipeline replaces only folders it created (with a matching marker),
    so anything else in their place would be lost.
    """
    problems = []
    for t in targets(params, baseline_years):
        p = t.path
        if p.is_symlink():
            problems.append(
                f"'{t.setting}': {_shown(p, root)} is a symbolic link; the pipeline replaces only folders it created"
            )
        elif p.exists() and not p.is_dir():
            problems.append(
                f"'{t.setting}': {_shown(p, root)} is a file where the pipeline needs a folder; move it away"
            )
        elif not owned(p, t.kind, t.year):
            problems.append(
                f"'{t.setting}': {_shown(p, root)} exists but was not created by the pipeline (no "
                f"{MARKER} marker of a {t.year} {t.kind} folder); the pipeline replaces only folders "
                "it created: move it away or choose another folder"
            )
        for parent in p.parents:
            if parent.exists() and not parent.is_dir():
                problems.append(
                    f"'{t.setting}': {_shown(parent, root)} is a file where the pipeline needs a folder; move it away"
                )
                break
    return problems


def check_paths(
    params: Params, allowed_roots: Iterable[str | os.PathLike] = (), baseline_years: Iterable[int] = ()
) -> list[str]:
    """Every way the path settings could let a run hurt data (empty list: safe). See the module docstring."""
    root = _real(repo_root())
    roots = [root, *(_real(Path(r)) for r in allowed_roots)]
    real = {
        name: _real(params.path(name))
        for name in ("codebook", "raw_dir", "processed_dir", "output_dir", "audit_dir", "themes", "redaction")
    }
    problems = _outside_root_problems(params, real, roots, root)
    if problems:
        return problems
    areas = protected_areas(params, root)
    written = {
        "output_dir": real["output_dir"],
        "audit_dir": real["audit_dir"],
        "processed_dir": real["processed_dir"] / str(params.year),
    }
    problems += _protected_area_problems(params, written, areas, root)
    problems += _year_folder_problems(params, real)
    pairs = [
        ("output_dir", written["output_dir"]),
        ("audit_dir", written["audit_dir"]),
        ("processed_dir", real["processed_dir"]),
    ]
    problems += _overlap_problems(pairs, root)
    problems += _managed_parent_problems(real, root)
    if problems:
        return problems
    problems += _target_problems(params, baseline_years, root)
    return sorted(set(problems), key=problems.index)


def ensure_safe_paths(
    params: Params, allowed_roots: Iterable[str | os.PathLike] = (), baseline_years: Iterable[int] = ()
) -> None:
    """Raise :class:`UnsafeSettings` listing every problem :func:`check_paths` finds."""
    problems = check_paths(params, allowed_roots, baseline_years)
    if problems:
        raise UnsafeSettings("; ".join(problems))


# ----------------------------------------------------------------------------- data gates
_RULE_SETTING = {
    "outside_fieldwork": "check 'fieldwork_start' and 'fieldwork_end'",
    "test_response": "check the codebook's status_labels",
    "no_scored_answer": "check the codebook's score_labels",
    "duplicate_superseded": "check the codebook's key column",
    "blank_row": "check the export",
}


def data_gates(log: pd.DataFrame, params: Params) -> tuple[list[str], list[str]]:
    """(errors, warnings) about what the exclusion rules removed, per group, from the cleaning log.

    An error when a group keeps no response at all; a warning when one rule
    removes more than :data:`WARN_SHARE` of a group's rows.
    """
    errors, warnings = [], []
    start, end = params.fieldwork
    for group, g in log.groupby("group", sort=True):
        rows = len(g)
        kept = int((g["decision"] == "kept").sum())
        counts = g.loc[g["decision"] != "kept", "reason"].value_counts()
        if kept == 0 and rows:
            why = ", ".join(f"{r} {n}" for r, n in counts.items())
            hint = "; ".join(_RULE_SETTING.get(r, "check the data") for r in counts.index)
            extra = ""
            if "outside_fieldwork" in counts.index:
                extra = f" (fieldwork {start or '...'} to {end or '...'})"
            errors.append(f"every {group} response is excluded ({rows} rows: {why}){extra}; {hint}")
            continue
        for reason, n in counts.items():
            if n / rows > WARN_SHARE:
                warnings.append(
                    f"{reason} removes {n} of {rows} {group} rows ({n / rows:.0%}); "
                    f"{_RULE_SETTING.get(reason, 'check the data')}"
                )
    return errors, warnings
