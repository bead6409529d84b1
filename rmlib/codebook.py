"""Read a year's codebook and map raw headers and answer labels to variables and codes.

A codebook (``params/codebooks/<year>.yaml``) is the only place that knows
how a given year's export is worded. Matching is tolerant of case, repeated
whitespace and curly vs straight quotes (:func:`normalise`), never of
spelling: an unknown header or label is an error that names the closest
codebook entries (:func:`suggest`).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .constants import DEPARTMENTS, QUESTIONS

NO_CONTACT = "no_contact"
COLUMN_KINDS = ("id", "timestamp", "status", "key", "personal", "attribute", "comment")
STATUS_CODES = ("complete", "partial", "test")

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2013": "-", "\u2014": "-"})


class CodebookError(ValueError):
    """The codebook itself is malformed."""


def normalise(text: Any) -> str:
    """Canonical form used to match headers and labels: case, spaces, quotes and dashes folded.

    >>> normalise("  How  well do we TRUST each other\u2019s ")
    "how well do we trust each other's"
    """
    s = str(text).translate(_QUOTES)
    return re.sub(r"\s+", " ", s).strip().casefold()


def suggest(value: str, choices: list[str], n: int = 3) -> str:
    """Human-readable 'did you mean' list of the closest choices."""
    norm = {normalise(c): c for c in choices}
    close = difflib.get_close_matches(normalise(value), list(norm), n=n, cutoff=0.4)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(norm[c]) for c in close) + "?"


@dataclass(frozen=True)
class ColumnSpec:
    """One non-rating column of an export."""

    header: str
    kind: str
    attribute: str | None = None
    multi: bool = False
    categories: dict[str, str] = field(default_factory=dict)  # raw label -> category
    field: str | None = None  # comment field name

    def category_of(self, label: str) -> str | None:
        lookup = {normalise(k): v for k, v in self.categories.items()}
        return lookup.get(normalise(label))


@dataclass(frozen=True)
class RatingSpec:
    """A rating column: which question, and (providers) which department."""

    header: str
    question: str
    department: str  # department id, "" for officers


@dataclass(frozen=True)
class FileSpec:
    group: str
    file: str
    skip_rows: int = 0
    encoding: str = "auto"
    delimiter: str = ","
    sheet: str | int | None = None


@dataclass(frozen=True)
class Codebook:
    """A parsed, validated codebook."""

    year: int
    path: Path
    files: dict[str, FileSpec]
    multi_select_separator: str
    timestamp_format: str
    score_labels: dict[str, Any]  # normalised label -> 1..4 or NO_CONTACT
    status_labels: dict[str, str]  # normalised label -> STATUS_CODES
    departments: dict[str, str]  # raw label -> id
    questions: dict[str, str]
    rating_header: dict[str, str]
    columns: dict[str, list[ColumnSpec]]

    # ------------------------------------------------------------------ lookups
    def rating_columns(self, group: str) -> list[RatingSpec]:
        """Every rating column expected in ``group``'s export, in survey order."""
        template = self.rating_header[group]
        out = []
        for q in QUESTIONS:
            if "{department}" in template:
                for label, dep in self.departments.items():
                    out.append(RatingSpec(template.format(question=self.questions[q], department=label), q, dep))
            else:
                out.append(RatingSpec(template.format(question=self.questions[q]), q, ""))
        return out

    def expected_headers(self, group: str) -> list[str]:
        return [c.header for c in self.columns[group]] + [r.header for r in self.rating_columns(group)]

    def score_of(self, label: str) -> Any:
        """Code of an answer label: 1-4, NO_CONTACT, None for blank; KeyError if unknown."""
        n = normalise(label)
        if n == "":
            return None
        return self.score_labels[n]

    def column(self, group: str, kind: str) -> ColumnSpec | None:
        return next((c for c in self.columns[group] if c.kind == kind), None)

    def attribute_columns(self, group: str) -> list[ColumnSpec]:
        return [c for c in self.columns[group] if c.kind == "attribute"]

    def department_label(self, dep_id: str) -> str:
        return next(k for k, v in self.departments.items() if v == dep_id)

    def preferred_score_label(self, code: Any) -> str:
        """The first label listed for a code (what the generator writes)."""
        return next(k for k, v in self._raw_score_labels.items() if v == code)

    _raw_score_labels: dict[str, Any] = field(default_factory=dict, repr=False)
    _raw_status_labels: dict[str, str] = field(default_factory=dict, repr=False)

    def preferred_status_label(self, code: str) -> str:
        return next(k for k, v in self._raw_status_labels.items() if v == code)


def _fail(path: Path, problems: list[str]) -> None:
    if problems:
        raise CodebookError(f"{path}: " + "; ".join(problems))


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file; all problems reported at once."""
    path = Path(path)
    if not path.is_file():
        raise CodebookError(f"codebook not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from exc
    problems: list[str] = []
    if not isinstance(raw, dict):
        _fail(path, ["expected a mapping at the top level"])
    for key in ("year", "files", "score_labels", "departments", "questions", "rating_header", "columns"):
        if key not in raw:
            problems.append(f"missing top-level key '{key}'")
    _fail(path, problems)

    files = {}
    for group, spec in raw["files"].items():
        if group not in ("provider", "officer"):
            problems.append(f"files: unknown group {group!r} (expected provider, officer)")
            continue
        if "file" not in spec:
            problems.append(f"files.{group}: missing 'file'")
            continue
        files[group] = FileSpec(group=group, file=str(spec["file"]), skip_rows=int(spec.get("skip_rows", 0)),
                                encoding=str(spec.get("encoding", "auto")), delimiter=str(spec.get("delimiter", ",")),
                                sheet=spec.get("sheet"))

    score_labels = {}
    for label, code in (raw["score_labels"] or {}).items():
        if code != NO_CONTACT and code not in (1, 2, 3, 4):
            problems.append(f"score_labels: {label!r} maps to {code!r}; expected 1, 2, 3, 4 or no_contact")
        score_labels[normalise(label)] = code
    status_labels = {}
    for label, code in (raw.get("status_labels") or {}).items():
        if code not in STATUS_CODES:
            problems.append(f"status_labels: {label!r} maps to {code!r}; expected one of {STATUS_CODES}")
        status_labels[normalise(label)] = code

    deps = {str(k): str(v) for k, v in (raw["departments"] or {}).items()}
    bad = sorted(set(deps.values()) - set(DEPARTMENTS))
    if bad:
        problems.append(f"departments: unknown department id(s) {bad}; expected ids from {list(DEPARTMENTS)}")
    missing_q = [q for q in QUESTIONS if q not in (raw["questions"] or {})]
    if missing_q:
        problems.append(f"questions: missing {missing_q}")

    columns: dict[str, list[ColumnSpec]] = {}
    for group, cols in (raw["columns"] or {}).items():
        columns[group] = []
        for i, c in enumerate(cols or []):
            kind = c.get("kind")
            if "header" not in c or kind not in COLUMN_KINDS:
                problems.append(f"columns.{group}[{i}]: needs 'header' and 'kind' in {COLUMN_KINDS}, got {c!r}")
                continue
            if kind == "attribute" and (not c.get("attribute") or not c.get("categories")):
                problems.append(f"columns.{group}[{i}] ({c['header']!r}): an attribute needs 'attribute' and 'categories'")
                continue
            columns[group].append(ColumnSpec(header=str(c["header"]), kind=kind, attribute=c.get("attribute"),
                                             multi=bool(c.get("multi", False)),
                                             categories={str(k): str(v) for k, v in (c.get("categories") or {}).items()},
                                             field=c.get("field")))
        for needed in ("id", "timestamp"):
            if not any(c.kind == needed for c in columns[group]):
                problems.append(f"columns.{group}: no column of kind '{needed}'")
    for group in files:
        if group not in columns:
            problems.append(f"columns: no columns listed for group {group!r}")
        if group not in (raw["rating_header"] or {}):
            problems.append(f"rating_header: no template for group {group!r}")
    _fail(path, problems)
    return Codebook(year=int(raw["year"]), path=path, files=files,
                    multi_select_separator=str(raw.get("multi_select_separator", ";")),
                    timestamp_format=str(raw.get("timestamp_format", "%Y-%m-%d %H:%M:%S")),
                    score_labels=score_labels, status_labels=status_labels, departments=deps,
                    questions={q: str(raw["questions"][q]) for q in QUESTIONS},
                    rating_header={str(k): str(v) for k, v in raw["rating_header"].items()}, columns=columns,
                    _raw_score_labels=dict(raw["score_labels"]), _raw_status_labels=dict(raw.get("status_labels") or {}))
