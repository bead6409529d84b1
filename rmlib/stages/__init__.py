"""The raw -> report spine as code: five stages, each a function of the validated parameters.

:data:`STAGES` lists them in order, with the notebook that tells each one's
story and the title the pipeline prints. Each stage is a module here
(``rmlib.stages.clean``, ``.score``, ``.cross_analysis``, ``.significance``,
``.report``) made of small *step* functions that take and return data
frames - the notebook's cells call them one by one, the benchmark times
them one by one - and a ``run(P)`` that is the steps in order plus writing
the stage's artefacts through the registry (:mod:`rmlib.artefacts`),
returning ``{artefact name: path}``.

A stage reads only registered artefacts of earlier stages and writes only
its own; ``rmlib.pipeline`` runs the notebooks (for the auditors' record) in
this order, and its ``--stages`` reuse check asks the registry which earlier
stages a stage needs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..params import Params


@dataclass(frozen=True)
class Stage:
    """One stage: ``key`` (the registry's producer/consumer name), its notebook (``notebooks/<notebook>.ipynb``,
    also the name ``--stages`` and ``provenance.json`` use) and the title the pipeline prints."""

    key: str
    notebook: str
    title: str


STAGES: tuple[Stage, ...] = (
    Stage("clean", "01_clean", "clean: validate and tidy the raw exports"),
    Stage("score", "02_score", "score: question means, overall, change on last year, maturity"),
    Stage("cross_analysis", "03_cross_analysis", "cross-analysis: every breakdown table"),
    Stage("significance", "04_significance", "significance: intervals, tests, corrections, suppression, power"),
    Stage("report", "05_report", "report: the reviewers' HTML report"),
)
KEYS: tuple[str, ...] = tuple(s.key for s in STAGES)
BY_NOTEBOOK: dict[str, Stage] = {s.notebook: s for s in STAGES}
BY_KEY: dict[str, Stage] = {s.key: s for s in STAGES}


def module(key: str) -> ModuleType:
    """The module of stage ``key`` (imported on first use: the pipeline needs only the list)."""
    if key not in BY_KEY:
        raise KeyError(f"unknown stage {key!r}; the stages are {list(KEYS)}")
    return importlib.import_module(f"{__name__}.{key}")


def run_stage(P: Params, key: str) -> dict[str, Path | list[Path]]:
    """Run one stage in this process (no kernel): its steps in order, its artefacts written; ``{name: path}``."""
    return module(key).run(P)


def run_all(P: Params) -> dict[str, Path | list[Path]]:
    """Every stage in order, in this process; what each wrote, by artefact name.

    The notebooks are the auditors' record of the same calls; this is for tools
    (tests, the benchmark) that want the spine without kernels. It writes to the
    folders ``P`` names: point them at a work folder.
    """
    written: dict[str, Path | list[Path]] = {}
    for s in STAGES:
        written.update(run_stage(P, s.key))
    return written
