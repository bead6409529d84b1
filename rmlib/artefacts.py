"""The registry of the files a run's stages hand to one another, and of what each stage publishes.

Every file a stage writes for a later stage (or publishes) is declared once
in :data:`ARTEFACTS`: its name, the stage that produces it, the stages that
read it, its format, its area and what it holds. The stage functions
(:mod:`rmlib.stages`), the notebooks (through those functions), the
pipeline's ``--stages`` reuse check and the benchmark all find a file by its
name here, never by a file name of their own; so the hand-over between
stages is visible in one place, and a test checks that every producer runs
before its consumers.

Areas (where the file lives, for parameters ``P``):

- ``processed``: ``<processed_dir>/<year>/`` - the tidy tables of
  ``docs/contracts.md``, read by every later stage (this year's and, as
  baselines, earlier years');
- ``audit``: ``<audit_dir>/data/`` - intermediate tables for auditors and
  for the later stages, never published;
- ``published``: ``<output_dir>/`` - what the report's readers get, always
  written through the publication gate (:mod:`rmlib.publish`).

``rmlib.report`` reads the audit tables the report needs by the same
convention (``<audit_dir>/data/<name>.parquet``); a test checks that every
name it reads is registered here with the report stage as a consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .params import Params

AREAS = ("processed", "audit", "published")
FORMATS = ("parquet", "csv", "json", "html", "xlsx")


@dataclass(frozen=True)
class Artefact:
    """One file passed between stages: who writes it, who reads it, how and where it is stored.

    ``file`` is the path inside the area's folder (default ``<name>.<fmt>``);
    a ``*`` in it stands for several files of one kind (the cell tables).
    """

    name: str
    producer: str
    consumers: tuple[str, ...]
    fmt: str
    area: str
    doc: str
    file: str = ""

    @property
    def filename(self) -> str:
        return self.file or f"{self.name}.{self.fmt}"


def _a(name, producer, consumers, fmt, area, doc, file=""):
    return Artefact(name, producer, tuple(consumers), fmt, area, doc, file)


def _published(producer: str, *tables: str) -> tuple[Artefact, ...]:
    """The published CSV of each audit table a stage also publishes (``tables/<table>.csv``)."""

    def doc(table: str) -> str:  # "comments_quotes" reads "comments quotes"
        return table.replace("comments_", "comments ", 1) + " as published"

    return tuple(_a(f"published_{n}", producer, (), "csv", "published", doc(n), file=f"tables/{n}.csv") for n in tables)


_LATER = ("score", "cross_analysis", "significance", "report")

#: every artefact of a run, in the order the stages make them
ARTEFACTS: tuple[Artefact, ...] = (
    # --- clean
    _a("respondents", "clean", _LATER, "parquet", "processed", "one row per kept respondent (pseudonymous id)"),
    _a("memberships", "clean", _LATER, "parquet", "processed", "respondent x attribute x category (multi-select)"),
    _a("ratings", "clean", _LATER, "parquet", "processed", "respondent x question (x department) score 0-4"),
    _a(
        "comments",
        "clean",
        _LATER,
        "parquet",
        "processed",
        "free-text comments, unredacted (read by the report stage only through rmlib.report.analyse_comments)",
    ),
    _a(
        "processed_cleaning_log",
        "clean",
        (),
        "csv",
        "processed",
        "every raw row's decision, with its pseudonym",
        file="cleaning_log.csv",
    ),
    _a("cleaning_summary", "clean", ("report",), "parquet", "audit", "rows in = kept + excluded, per file and reason"),
    _a(
        "cleaning_log",
        "clean",
        (),
        "csv",
        "audit",
        "every raw row's decision (file, raw row), for auditors; no pseudonym",
    ),
    _a(
        "published_cleaning_summary",
        "clean",
        (),
        "csv",
        "published",
        "the cleaning summary as published",
        file="tables/cleaning_summary.csv",
    ),
    # --- score
    _a(
        "headline",
        "score",
        ("significance", "report"),
        "parquet",
        "audit",
        "respondents and overall score, this year and last, per group",
    ),
    _a("maturity", "score", ("report",), "parquet", "audit", "maturity level of the five elements per group"),
    _a("responses_by_year", "score", ("report",), "parquet", "audit", "respondents per group, every processed year"),
    _a(
        "trend_by_question",
        "score",
        ("cross_analysis", "report"),
        "parquet",
        "audit",
        "question means of every processed year",
    ),
    *_published("score", "headline", "maturity", "responses_by_year", "trend_by_question"),
    # --- cross-analysis
    _a(
        "cells",
        "cross_analysis",
        ("significance",),
        "parquet",
        "audit",
        "every breakdown table's cells, unsuppressed, untested",
    ),
    _a(
        "provider_no_contact",
        "cross_analysis",
        ("report",),
        "parquet",
        "audit",
        "providers' 'no contact' answers by department",
    ),
    _a("caveats", "cross_analysis", ("report",), "parquet", "audit", "caveats generated from the data"),
    *_published("cross_analysis", "provider_no_contact", "caveats"),
    # --- significance
    _a(
        "cells_tested",
        "significance",
        ("report",),
        "parquet",
        "audit",
        "the cells with intervals, tests, "
        "corrections and the disclosure flags (also read by the pipeline's publication scan)",
    ),
    _a("power", "significance", ("report",), "parquet", "audit", "detectable difference and responses needed"),
    _a("findings", "significance", ("report",), "parquet", "audit", "every significant result as a sentence"),
    _a(
        "comparison_families",
        "significance",
        ("report",),
        "parquet",
        "audit",
        "comparisons per family and the raw level the correction implies",
    ),
    *_published("significance", "power", "findings", "comparison_families"),
    _a("headlines", "significance", (), "json", "published", "the headline figures, machine-readable"),
    # --- report
    _a("report", "report", (), "html", "published", "the reviewers' report (self-contained, no script)"),
    *_published("report", "comments_summary", "comments_counts", "comments_quotes"),
    _a(
        "cell_tables",
        "report",
        (),
        "csv",
        "published",
        "one CSV per report table (hidden cells blank)",
        file="tables/*.csv",
    ),
    _a(
        "workbook",
        "report",
        (),
        "xlsx",
        "published",
        "every published table, one sheet each",
        file="tables/tables.xlsx",
    ),
)
REGISTRY: dict[str, Artefact] = {a.name: a for a in ARTEFACTS}
assert len(REGISTRY) == len(ARTEFACTS), "artefact names must be unique"


class UnknownArtefact(KeyError):
    """A name that is not in :data:`ARTEFACTS` (every file passed between stages must be registered)."""


def get(name: str) -> Artefact:
    """The registered artefact ``name``; :class:`UnknownArtefact` if there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownArtefact(f"no artefact named {name!r}; the registered ones are {sorted(REGISTRY)}") from None


def folder(P: Params, area: str, year: int | None = None) -> Path:
    """The folder of an area for ``P`` (``year``: another year's processed folder, e.g. the compare year)."""
    if area == "processed":
        return P.path("processed_dir") / str(P.year if year is None else year)
    if area == "audit":
        return P.path("audit_dir") / "data"
    if area == "published":
        return P.path("output_dir")
    raise ValueError(f"unknown area {area!r}; the areas are {AREAS}")


def path(P: Params, name: str, year: int | None = None) -> Path:
    """The file of artefact ``name`` for parameters ``P`` (``year`` only for processed tables)."""
    a = get(name)
    if year is not None and a.area != "processed":
        raise ValueError(f"{name} is one year's {a.area} file; only processed tables have a year")
    return folder(P, a.area, year) / a.filename


def read(P: Params, name: str, year: int | None = None) -> pd.DataFrame:
    """Read a registered table (parquet or csv) written by an earlier stage."""
    a = get(name)
    p = path(P, name, year)
    if a.fmt == "parquet":
        return pd.read_parquet(p)
    if a.fmt == "csv":
        return pd.read_csv(p)
    raise ValueError(f"{name} is {a.fmt}, not a table to read")


def write(P: Params, name: str, frame: pd.DataFrame) -> Path:
    """Write a registered *audit* table atomically (published tables go through :func:`publish`)."""
    from .report import write_table

    a = get(name)
    if a.area != "audit":
        raise ValueError(f"{name} is a {a.area} file; write only audit tables here")
    return write_table(frame, path(P, name))


def publish(P: Params, name: str, frame: pd.DataFrame, cells: pd.DataFrame | None = None) -> Path:
    """Publish table ``name`` (``published_<name>``) through the gate (:func:`rmlib.report.publish_table`)."""
    from .report import publish_table

    a = get(f"published_{name}")
    written = publish_table(name, frame, P, P.path("output_dir"), cells=cells)
    assert written == path(P, a.name), f"{name}: published as {written}, registered as {a.filename}"
    return written


def produced_by(stage: str) -> tuple[Artefact, ...]:
    """The artefacts ``stage`` writes, in registry order."""
    return tuple(a for a in ARTEFACTS if a.producer == stage)


def inputs_of(stage: str) -> tuple[Artefact, ...]:
    """The artefacts ``stage`` reads (those naming it as a consumer)."""
    return tuple(a for a in ARTEFACTS if stage in a.consumers)
