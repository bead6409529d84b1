"""Read a year's codebook and map raw headers and answer labels to variables and codes.

A codebook (``params/codebooks/<year>.yaml``) is the only place that knows
how a given year's export is worded. Matching is tolerant of case, repeated
whitespace, curly vs straight quotes and dash variants (:func:`normalise`),
never of spelling: an unknown header or label is an error that names the
closest codebook entries (:func:`suggest`).

What a codebook declares (see ``params/codebooks/2018.yaml``):

- ``files``: per group, the export's file name, ``skip_rows`` (title rows
  before the header row), ``encoding`` (``auto`` = UTF-8 with or without a
  byte-order mark, else cp1252, always noted), ``delimiter`` (``","`` etc., or
  ``auto`` to detect it and note which) and, for XLSX, ``sheet``;
- ``score_labels``: answer label -> 1-4 or ``no_contact`` (several labels may
  map to one code; a blank cell is always "not answered");
- ``status_labels``: the status column's labels -> ``complete``, ``partial``
  or ``test`` (test and preview responses are excluded and logged);
- ``departments``: this year's department label -> stable department id
  (the same id every year, whatever the label);
- ``questions`` and ``rating_header``: how each rating column's header is
  worded;
- ``columns``: every other column, with its kind: ``id``, ``timestamp``,
  ``status``, ``key`` (identifies a respondent to find duplicate submissions,
  then dropped), ``personal`` (dropped at read), ``ignore`` (dropped at read),
  ``attribute`` (single- or multi-select, label -> category), ``comment`` or
  ``finished`` (Qualtrics' Finished: True/False -> complete/partial); a
  column may declare ``codes:`` (numeric code -> answer label) when the
  export writes codes;
- ``layout`` (optional; default: one header row, multi-selects joined in one
  cell): the survey tool's layout as a preset name (``surveymonkey``,
  ``qualtrics``, ``smartsurvey``, ``snap``, ``msforms``, ``spss``) or a
  mapping with ``preset:`` and the settings that differ - see
  :mod:`rmlib.layouts` and ``docs/codebook.md``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import DEPARTMENTS, QUESTIONS
from .layouts import Layout, parse_layout
from .wording import normalise
from .wording import squash as _squash
from .yamlsafe import UnsafeYAML, load_yaml

NO_CONTACT = "no_contact"
COLUMN_KINDS = ("id", "timestamp", "status", "finished", "key", "personal", "ignore", "attribute", "comment")
#: a ``kind: finished`` column (Qualtrics' Finished) without categories: label -> complete / partial
FINISHED_LABELS = {
    "True": "complete",
    "False": "partial",
    "1": "complete",
    "0": "partial",
    "Yes": "complete",
    "No": "partial",
}
#: kinds whose cells never leave :func:`rmlib.clean.read_and_validate`
DROPPED_KINDS = ("key", "personal", "ignore")
STATUS_CODES = ("complete", "partial", "test")
DELIMITERS = (",", ";", "\t", "|", "auto")
GROUP_NAMES = ("provider", "officer")


class CodebookError(ValueError):
    """The codebook itself is malformed."""


def closest(value: str, choices: list[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The choices close to ``value`` (at most ``n``, closest first); [] when none is close.

    Close means a difflib ratio of 0.6 or more after :func:`normalise`, or,
    for texts of five words or more (question wordings), that at least 60% of
    the words are shared (so a reworded long question still finds its old
    wording, while an unrelated column finds nothing).

    >>> closest("How well do we trust one another?", ["How well do we trust each other?", "Status"])
    ['How well do we trust each other?']
    >>> closest("Preferred contact time", ["Date submitted", "Response ID", "Status"])
    []
    """
    norm: dict[str, str] = {}
    for c in choices:
        norm.setdefault(normalise(c), c)
    target = normalise(value)
    if not target:
        return []
    close = difflib.get_close_matches(target, list(norm), n=n, cutoff=cutoff)
    if not close and len(target.split()) >= 5 and cutoff <= 0.6:
        words = set(re.findall(r"\w+", target))
        scored = []
        for c in norm:
            other = set(re.findall(r"\w+", c))
            share = len(words & other) / max(len(words | other), 1)
            if share >= 0.6:
                scored.append((share, c))
        close = [c for _, c in sorted(scored, reverse=True)[:n]]
    return [norm[c] for c in close]


def _common_prefix(texts: list[str]) -> str:
    out = texts[0]
    for t in texts[1:]:
        while not t.startswith(out):
            out = out[:-1]
    return out


def infer_rating_template(
    headers: list[str], questions: dict[str, str], with_department: bool
) -> tuple[str, dict[str, tuple[str, str]]] | None:
    """How rating headers are built, read off the headers that contain a question's text.

    Returns (template, {header: (question id, department text)}) or None when
    no header holds a question text or the headers follow no one pattern.
    With departments, the text around the question that varies from column to
    column is the department; the part that stays the same is the template's
    fixed text (cut at a word boundary, so a department's last letters never
    join the separator).

    >>> t, parts = infer_rating_template(["Finance: How well do we trust each other?",
    ...     "Safeguarding: How well do we trust each other?"], {"trust": "How well do we trust each other?"}, True)
    >>> t, parts["Finance: How well do we trust each other?"]
    ('{department}: {question}', ('trust', 'Finance'))
    """
    found = []
    for h in headers:
        sq = _squash(h)
        f = sq.casefold()
        if len(f) != len(sq):
            continue
        hit = max(
            ((f.find(normalise(t)), q, normalise(t)) for q, t in questions.items() if normalise(t) in f),
            key=lambda x: len(x[2]),
            default=None,
        )
        if hit:
            k, q, nt = hit
            found.append((h, q, sq[:k], sq[k + len(nt) :]))
    if not found:
        return None
    befores = [b for _, _, b, _ in found]
    afters = [a for _, _, _, a in found]
    if not with_department:
        if len(set(befores)) == 1 and len(set(afters)) == 1:
            return befores[0] + "{question}" + afters[0], {h: (q, "") for h, q, _, _ in found}
        return None
    if len(set(afters)) == 1 and len(set(befores)) > 1:  # '{department}<sep>{question}<after>'
        sep = _common_prefix([b[::-1] for b in befores])[::-1]
        sep = re.sub(r"^\w+", "", sep)
        pre = re.sub(r"\w+$", "", _common_prefix(befores))
        parts = {h: (q, b[len(pre) : len(b) - len(sep)].strip()) for h, q, b, _ in found}
        return pre + "{department}" + sep + "{question}" + afters[0], parts
    if len(set(befores)) == 1 and len(set(afters)) > 1:  # '<before>{question}<sep>{department}'
        sep = re.sub(r"\w+$", "", _common_prefix(afters))
        post = re.sub(r"^\w+", "", _common_prefix([a[::-1] for a in afters])[::-1])
        parts = {h: (q, a[len(sep) : len(a) - len(post)].strip()) for h, q, _, a in found}
        return befores[0] + "{question}" + sep + "{department}" + post, parts
    return None


def suggest(value: str, choices: list[str], n: int = 3) -> str:
    """Human-readable 'did you mean' list of the closest choices ("" if none is close: see :func:`closest`).

    Examples
    --------
    >>> suggest("4 - Goood", ["1 - Poor", "4 - Good", "No contact"])
    "did you mean '4 - Good'?"
    """
    close = closest(value, choices, n)
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


@dataclass(frozen=True)
class ColumnSpec:
    """One non-rating column of an export."""

    header: str
    kind: str
    attribute: str | None = None
    multi: bool = False
    categories: dict[str, str] = field(default_factory=dict)  # raw label -> category
    field: str | None = None  # comment field name
    codes: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # numeric code -> answer label (read before matching)

    def category_of(self, label: str) -> str | None:
        """Category of one answer label (one option of a multi-select cell); None if unknown."""
        return self.lookup.get(normalise(label))

    @property
    def lookup(self) -> dict[str, str]:
        """Normalised label -> category."""
        return {normalise(k): v for k, v in self.categories.items()}


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
    layout: Layout = field(default_factory=Layout)

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
        """Every header the codebook expects in ``group``'s export (other columns, then ratings)."""
        return [c.header for c in self.columns[group]] + [r.header for r in self.rating_columns(group)]

    def score_of(self, label: str) -> Any:
        """Code of an answer label: 1-4, NO_CONTACT, None for blank; KeyError if unknown."""
        n = normalise(label)
        if n == "":
            return None
        return self.score_labels[n]

    @property
    def score_label_list(self) -> list[str]:
        """The answer labels as written in the codebook (for messages)."""
        return list(self._raw_score_labels)

    @property
    def status_label_list(self) -> list[str]:
        return list(self._raw_status_labels)

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

    def parse_rating_header(self, group: str, header: str) -> tuple[str, str] | None:
        """If ``header`` is worded like one of ``group``'s rating headers, return (question, department text).

        Used to explain an unknown header: a known question with an unknown
        department label means the department was renamed (or is new) this year.
        Department text is "" for a template without ``{department}``.
        """
        template = self.rating_header.get(group)
        if not template or "{department}" not in template:
            return None
        squashed = _squash(header)
        folded = squashed.casefold()
        for q in QUESTIONS:
            before, _, after = normalise(template.format(question=self.questions[q], department="\x01")).partition(
                "\x01"
            )
            if (
                len(folded) > len(before) + len(after)
                and folded.startswith(before)
                and folded.endswith(after)
                and len(folded) == len(squashed)
            ):
                return q, squashed[len(before) : len(squashed) - len(after)].strip()
        return None


def _fail(path: Path, problems: list[str]) -> None:
    if problems:
        raise CodebookError(f"{path}: " + "; ".join(problems))


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file; all problems reported at once.

    The file is read as a settings file (:func:`rmlib.yamlsafe.load_yaml`:
    UTF-8, bounded size and aliases, no key written twice), then each section
    is checked by a step of its own; every problem of every section is listed
    in one :class:`CodebookError`, in the order of the sections.

    Examples
    --------
    >>> cb = load_codebook("params/codebooks/2018.yaml")        # doctest: +SKIP
    >>> cb.score_of("4 - good"), cb.score_of("No Contact"), cb.score_of("  ")   # doctest: +SKIP
    (4, 'no_contact', None)
    """
    path = Path(path)
    raw = _read_raw(path)
    year = _check_top_level(path, raw)
    layout, problems = parse_layout(raw.get("layout"))
    sep = str(raw.get("multi_select_separator", layout.multi_select_separator))
    if sep.strip() == "":
        problems.append("multi_select_separator must not be blank")
    files, found = _parse_files(raw["files"])
    problems += found
    score_labels, found = _parse_score_labels(raw["score_labels"])
    problems += found
    raw_status = {**layout.status_labels, **(raw.get("status_labels") or {})}  # the tool's labels, then the codebook's
    status_labels, found = _parse_status_labels(raw_status)
    problems += found
    deps, found = _parse_departments(raw["departments"])
    problems += found + _question_problems(raw["questions"])
    rating_header, found = _parse_rating_header(raw["rating_header"])
    problems += found
    columns, found = _parse_columns(raw["columns"], sep)
    problems += found + _group_problems(files, columns, rating_header)
    _fail(path, problems)
    cb = Codebook(
        year=year,
        path=path,
        files=files,
        multi_select_separator=sep,
        timestamp_format=str(raw.get("timestamp_format", "%Y-%m-%d %H:%M:%S")),
        score_labels=score_labels,
        status_labels=status_labels,
        departments=deps,
        questions={q: str(raw["questions"][q]) for q in QUESTIONS},
        rating_header=rating_header,
        columns=columns,
        layout=layout,
        _raw_score_labels=dict(raw["score_labels"]),
        _raw_status_labels=raw_status,
    )
    _fail(path, _header_clashes(cb))
    return cb


def _read_raw(path: Path) -> Any:
    """The codebook file's YAML, read as a settings file; a :class:`CodebookError` for an unreadable or unsafe one.

    Read through :func:`rmlib.yamlsafe.load_yaml` so that a codebook loaded
    directly (a notebook, :func:`rmlib.draft.draft_codebook`) refuses what
    the command line refuses: a key written twice (the last would silently
    win), unbounded aliases, a file that is not UTF-8 or is too large.
    """
    if not path.is_file():
        raise CodebookError(f"codebook not found: {path}")
    try:
        return load_yaml(path, "codebook")
    except UnsafeYAML as exc:
        raise CodebookError(str(exc)) from None


def _check_top_level(path: Path, raw: Any) -> int:
    """Check the top level (a mapping, every required section, sections of the right type); return the year.

    Raises at once: the later steps index these sections and cannot run without them.
    """
    if not isinstance(raw, dict):
        _fail(path, ["expected a mapping at the top level"])
    problems = [
        f"missing top-level key '{key}'"
        for key in ("year", "files", "score_labels", "departments", "questions", "rating_header", "columns")
        if key not in raw
    ]
    _fail(path, problems)
    for key in ("files", "score_labels", "departments", "questions", "rating_header", "columns"):
        if not isinstance(raw[key], dict):
            problems.append(f"'{key}' must be a mapping, got {type(raw[key]).__name__}")
    if raw.get("status_labels") is not None and not isinstance(raw["status_labels"], dict):
        problems.append("'status_labels' must be a mapping")
    year = _as_int(raw["year"])
    if year is None or not 2000 <= year <= 2100:
        problems.append(f"'year' must be a four-digit year, got {raw['year']!r}")
    _fail(path, problems)
    return year


def _parse_files(raw_files: dict) -> tuple[dict[str, FileSpec], list[str]]:
    """``files:`` -> {group: FileSpec} and problems; a group with an unusable entry is left out."""
    files, problems = {}, []
    for group, spec in raw_files.items():
        if group not in GROUP_NAMES:
            problems.append(f"files: unknown group {group!r} (expected {', '.join(GROUP_NAMES)})")
            continue
        if not isinstance(spec, dict) or "file" not in spec:
            problems.append(f"files.{group}: needs 'file' (the export's file name)")
            continue
        files[group], found = _parse_file_spec(group, spec)
        problems += found
    return files, problems


def _parse_file_spec(group: str, spec: dict) -> tuple[FileSpec, list[str]]:
    """One group's file entry: skip_rows, delimiter (``\\t`` and ``tab`` mean a tab), encoding, a bare file name."""
    problems = []
    skip = _as_int(spec.get("skip_rows", 0))
    if skip is None or skip < 0:
        problems.append(f"files.{group}.skip_rows must be a whole number >= 0, got {spec.get('skip_rows')!r}")
        skip = 0
    delim = str(spec.get("delimiter", ","))
    if delim == "\\t" or delim.lower() == "tab":
        delim = "\t"
    if delim not in DELIMITERS:
        problems.append(f"files.{group}.delimiter must be one of {list(DELIMITERS)}, got {delim!r}")
    enc = str(spec.get("encoding", "auto"))
    if enc != "auto":
        try:
            "".encode(enc)
        except LookupError:
            problems.append(f"files.{group}.encoding: unknown encoding {enc!r} (use auto, utf-8, cp1252, ...)")
    name = str(spec["file"])
    if Path(name).name != name:
        problems.append(f"files.{group}.file must be a file name inside the year's raw folder, got {name!r}")
    return FileSpec(
        group=group, file=name, skip_rows=skip, encoding=enc, delimiter=delim, sheet=spec.get("sheet")
    ), problems


def _parse_score_labels(raw_labels: dict) -> tuple[dict[str, Any], list[str]]:
    """``score_labels:`` -> {normalised label: 1-4 or no_contact} and problems (a blank label, a clash)."""
    score_labels: dict[str, Any] = {}
    problems = []
    for label, code in raw_labels.items():
        if code != NO_CONTACT and (isinstance(code, bool) or code not in (1, 2, 3, 4)):
            problems.append(f"score_labels: {label!r} maps to {code!r}; expected 1, 2, 3, 4 or no_contact")
        n = normalise(label)
        if n == "":
            problems.append(f"score_labels: a blank label ({label!r}) always means 'not answered'; remove it")
        elif n in score_labels and score_labels[n] != code:
            problems.append(f"score_labels: {label!r} is listed twice (ignoring case and spaces) with different codes")
        score_labels[n] = code
    return score_labels, problems


def _parse_status_labels(raw_status: dict) -> tuple[dict[str, str], list[str]]:
    """The layout's and the codebook's status labels -> {normalised label: status code} and problems."""
    status_labels: dict[str, str] = {}
    problems = []
    for label, code in raw_status.items():
        if code not in STATUS_CODES:
            problems.append(f"status_labels: {label!r} maps to {code!r}; expected one of {list(STATUS_CODES)}")
        n = normalise(label)
        if n in status_labels and status_labels[n] != code:
            problems.append(f"status_labels: {label!r} is listed twice (ignoring case and spaces) with different codes")
        status_labels[n] = code
    return status_labels, problems


def _parse_departments(raw_deps: dict) -> tuple[dict[str, str], list[str]]:
    """``departments:`` -> {label: id} and problems: unknown ids, and an id mapped twice (one column each)."""
    deps = {str(k): str(v) for k, v in raw_deps.items()}
    problems = []
    bad = sorted(set(deps.values()) - set(DEPARTMENTS))
    if bad:
        problems.append(f"departments: unknown department id(s) {bad}; expected ids from {list(DEPARTMENTS)}")
    seen: dict[str, str] = {}
    for label, dep in deps.items():
        if dep in seen:
            problems.append(
                f"departments: {seen[dep]!r} and {label!r} both map to {dep!r}; a year's export has one "
                "rating column per department, so map each id once per codebook"
            )
        seen.setdefault(dep, label)
    return deps, problems


def _question_problems(raw_questions: dict) -> list[str]:
    """``questions:`` must word exactly the survey's questions (:data:`rmlib.constants.QUESTIONS`)."""
    problems = []
    missing_q = [q for q in QUESTIONS if q not in raw_questions]
    if missing_q:
        problems.append(f"questions: missing {missing_q}")
    extra_q = [q for q in raw_questions if q not in QUESTIONS]
    if extra_q:
        problems.append(f"questions: unknown question id(s) {extra_q}; expected {list(QUESTIONS)}")
    return problems


def _parse_rating_header(raw_rh: dict) -> tuple[dict[str, str], list[str]]:
    """``rating_header:`` -> {group: template} and problems: every template has {question}, providers' {department}."""
    rating_header = {str(k): str(v) for k, v in raw_rh.items()}
    problems = []
    for group, template in rating_header.items():
        if "{question}" not in template:
            problems.append(f"rating_header.{group}: the template must contain {{question}}, got {template!r}")
        if group == "provider" and "{department}" not in template:
            problems.append("rating_header.provider: providers rate each department; the template needs {department}")
    return rating_header, problems


def _parse_columns(raw_columns: dict, sep: str) -> tuple[dict[str, list[ColumnSpec]], list[str]]:
    """``columns:`` -> {group: [ColumnSpec]} and problems; a column with problems that make it unusable is left out."""
    columns: dict[str, list[ColumnSpec]] = {}
    problems = []
    for group, cols in raw_columns.items():
        columns[group] = []
        if not isinstance(cols, list):
            problems.append(f"columns.{group} must be a list of columns")
            continue
        for i, c in enumerate(cols):
            spec, found = _parse_column(f"columns.{group}[{i}]", c, sep)
            problems += found
            if spec is not None:
                columns[group].append(spec)
        problems += _kind_count_problems(group, columns[group])
    return columns, problems


def _parse_column(where: str, c: Any, sep: str) -> tuple[ColumnSpec | None, list[str]]:
    """One entry of a group's ``columns:`` list (``where`` names it in messages) -> ColumnSpec (or None) and problems.

    A ``finished`` column without categories gets :data:`FINISHED_LABELS`; a
    multi-select's options must not contain the separator (they could not be
    split apart again).
    """
    if not isinstance(c, dict):
        return None, [f"{where}: expected a mapping with 'header' and 'kind', got {c!r}"]
    kind = c.get("kind")
    if "header" not in c or kind not in COLUMN_KINDS:
        return None, [f"{where}: needs 'header' and 'kind' in {list(COLUMN_KINDS)}, got {c!r}"]
    if kind == "attribute" and (
        not c.get("attribute") or not isinstance(c.get("categories"), dict) or not c["categories"]
    ):
        return None, [f"{where} ({c['header']!r}): an attribute needs 'attribute' and 'categories'"]
    problems = []
    cats = {str(k): str(v) for k, v in (c.get("categories") or {}).items()}
    if kind == "finished" and not cats:
        cats = dict(FINISHED_LABELS)
    if kind == "finished" and set(cats.values()) - {"complete", "partial"}:
        problems.append(
            f"{where} ({c['header']!r}): a finished column's categories map labels "
            f"to complete or partial, got {sorted(set(cats.values()))}"
        )
    codes = c.get("codes") or {}
    if not isinstance(codes, dict):
        problems.append(f"{where} ({c['header']!r}): codes must map each code to its label")
        codes = {}
    multi = bool(c.get("multi", False))
    if multi and sep.strip():
        clash = [k for k in cats if sep.strip() in k]
        if clash:
            problems.append(f"{where} ({c['header']!r}): option(s) {clash} contain the multi-select separator {sep!r}")
    return ColumnSpec(
        header=str(c["header"]),
        kind=kind,
        attribute=c.get("attribute") or ("finished" if kind == "finished" else None),
        multi=multi,
        categories=cats,
        field=c.get("field"),
        codes={str(k): str(v) for k, v in codes.items()},
    ), problems


def _kind_count_problems(group: str, columns: list[ColumnSpec]) -> list[str]:
    """Exactly one id and one timestamp column; at most one status, key and finished column."""
    problems = []
    for needed in ("id", "timestamp"):
        n_kind = sum(c.kind == needed for c in columns)
        if n_kind != 1:
            problems.append(f"columns.{group}: needs exactly one column of kind '{needed}', found {n_kind}")
    for single in ("status", "key", "finished"):
        if sum(c.kind == single for c in columns) > 1:
            problems.append(f"columns.{group}: at most one column of kind '{single}'")
    return problems


def _group_problems(files: dict, columns: dict, rating_header: dict) -> list[str]:
    """Every group with a file also has columns and a rating header template."""
    problems = []
    for group in files:
        if group not in columns:
            problems.append(f"columns: no columns listed for group {group!r}")
        if group not in rating_header:
            problems.append(f"rating_header: no template for group {group!r}")
    return problems


def _header_clashes(cb: Codebook) -> list[str]:
    """Two expected headers that read the same after normalising could never be told apart in an export."""
    problems = []
    for group in cb.files:
        seen_h: dict[str, str] = {}
        for h in cb.expected_headers(group):
            n = normalise(h)
            if n in seen_h:
                problems.append(f"group {group}: header {h!r} appears twice (ignoring case and spaces)")
            seen_h[n] = h
    return problems
