"""The one definition of a run's parameter set: declared once as data, loaded, validated, resolved.

:data:`PARAMETERS` declares every parameter once - name, type, range or
choices, default and a one-line description - and everything else is derived
from it: the :class:`Params` fields (a test checks they agree), validation
(:func:`validate`, every problem at once, each as "'name': expected ...,
got ..."), the notebooks' ``parameters`` cells (:func:`parameters_cell`,
written by ``python -m rmlib sync-params``; a test fails when one differs),
the command line help (:func:`help_lines`: ``python -m rmlib params`` and
``run --help``) and ``docs/parameters.md`` (:func:`markdown`).
``params/<year>.yaml`` gives a run's values, and papermill injects them.

Parameter files are read with :mod:`rmlib.yamlsafe`: UTF-8 only, duplicate
keys and unbounded alias expansion refused. Whether paths stay inside the
repository and away from the raw data is checked by :mod:`rmlib.safety`
(it needs the file system; this module does not).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .paths import repo_root, resolve
from .yamlsafe import UnsafeYAML, load_yaml

CORRECTIONS = ("fdr_bh", "holm")
MULTI_SELECT_RULES = ("solely_one", "any")
#: the only placeholder a path parameter may hold
PATH_PLACEHOLDERS = ("year",)
#: marks a parameter without a default (it must be given)
REQUIRED = object()


class ParamsError(ValueError):
    """A parameter file or value is not what a run needs."""


@dataclass(frozen=True)
class ParamSpec:
    """How one parameter is declared: the single source for validation, notebooks, CLI help and docs.

    ``type`` is one of ``int``, ``float``, ``bool``, ``str`` (one of
    ``choices``), ``date`` (YYYY-MM-DD) or ``path`` (relative to the
    repository root; ``{year}`` is the only placeholder). ``minimum`` and
    ``maximum`` bound numbers (inclusive unless ``exclusive``). ``nullable``
    allows ``null``. ``path_kind`` says what a path names: ``file``, ``dir``
    (an input folder), ``data_root`` (a folder that holds one folder per
    year) or ``year_dir`` (one year's folder, written by the pipeline).
    """

    name: str
    type: str
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False
    choices: tuple[str, ...] = ()
    nullable: bool = False
    path_kind: str | None = None
    wording: str | None = None  # overrides the generated "expected ..." text

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def expected(self) -> str:
        """What a valid value looks like, in words (the "expected ..." of a message)."""
        if self.wording:
            text = self.wording
        elif self.type == "int":
            text = f"a whole number from {self.minimum} to {self.maximum}"
        elif self.type == "float":
            text = f"a number between {self.minimum:g} and {self.maximum:g}" + (
                " (exclusive)" if self.exclusive else ""
            )
        elif self.type == "bool":
            text = "true or false"
        elif self.type == "str":
            text = f"one of {', '.join(self.choices)}"
        elif self.type == "date":
            text = "a date written YYYY-MM-DD"
        else:
            text = {
                "file": "a path to a file",
                "dir": "a path to a folder",
                "data_root": "a path to the folder that holds one folder per year",
                "year_dir": "a path to one year's folder, e.g. outputs/{year}",
            }[self.path_kind or "file"]
        return text + (", or null" if self.nullable else "")


#: every parameter, in the order notebooks declare them
PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "year",
        "int",
        REQUIRED,
        "the survey year this run reports on",
        2000,
        2100,
        wording="a four-digit year such as 2018 (2000 to 2100)",
    ),
    ParamSpec(
        "compare_year",
        "int",
        REQUIRED,
        "the earlier year compared with (null: none); its processed data are the comparison base",
        2000,
        2100,
        nullable=True,
        wording="an earlier four-digit year (2000 to 2100)",
    ),
    ParamSpec(
        "codebook",
        "path",
        REQUIRED,
        "the year's codebook: export headers and labels -> variables and codes",
        path_kind="file",
    ),
    ParamSpec(
        "raw_dir",
        "path",
        REQUIRED,
        "the year's raw exports (never modified; checked against MANIFEST.sha256)",
        path_kind="dir",
    ),
    ParamSpec(
        "processed_dir", "path", "data/processed", "tidy tables land in <processed_dir>/<year>/", path_kind="data_root"
    ),
    ParamSpec(
        "output_dir",
        "path",
        "outputs/{year}",
        "the published outputs of the year (report, tables)",
        path_kind="year_dir",
    ),
    ParamSpec(
        "audit_dir",
        "path",
        "audit/{year}",
        "auditors only: executed notebooks, intermediate data, logs, failure diagnostics (never published)",
        path_kind="year_dir",
    ),
    ParamSpec(
        "fieldwork_start", "date", None, "first day of fieldwork; earlier submissions are excluded", nullable=True
    ),
    ParamSpec("fieldwork_end", "date", None, "last day of fieldwork; later submissions are excluded", nullable=True),
    ParamSpec(
        "multi_select_rule",
        "str",
        "solely_one",
        "which multi-select respondents count in a category",
        choices=MULTI_SELECT_RULES,
    ),
    ParamSpec("min_cell_n", "int", 5, "fewer respondents: no mean shown, no test", 1, 1000),
    ParamSpec(
        "caution_n", "int", 10, "fewer respondents: estimate marked with a caution sign (>= min_cell_n)", 1, 1000
    ),
    ParamSpec(
        "correction",
        "str",
        "fdr_bh",
        "multiple-comparison correction: fdr_bh, Benjamini-Hochberg over "
        "all distinct comparisons of the report; holm, Holm within each family",
        choices=CORRECTIONS,
    ),
    ParamSpec("alpha", "float", 0.05, "significance level after correction", 0.0, 1.0, exclusive=True),
    ParamSpec("n_resamples", "int", 9999, "Monte Carlo permutations / bootstrap draws", 999, 100_000),
    ParamSpec("seed", "int", 2018, "random seed of every resampling (same seed, same numbers)", 0, 2**32 - 1),
    ParamSpec("themes", "path", "params/themes.yaml", "theme dictionary for the comments", path_kind="file"),
    ParamSpec(
        "redaction",
        "path",
        "params/redaction.yaml",
        "names and words the comment redaction removes or keeps",
        path_kind="file",
    ),
    ParamSpec("synthetic", "bool", True, "the data are generated examples (the report says so)"),
    ParamSpec(
        "merges",
        "mapping",
        None,
        "category merges applied before any table, stated in the report: {attribute: {merged label: [category, ...]}}",
        nullable=True,
        wording="a mapping {attribute: {merged label: [category, category, ...]}}",
    ),
)
SPECS: dict[str, ParamSpec] = {s.name: s for s in PARAMETERS}
#: path parameters the pipeline writes into (the others are read only)
WRITTEN_PATHS = tuple(s.name for s in PARAMETERS if s.path_kind in ("data_root", "year_dir"))
#: path parameters that are inputs
INPUT_PATHS = tuple(s.name for s in PARAMETERS if s.type == "path" and s.name not in WRITTEN_PATHS)


@dataclass(frozen=True)
class Params:
    """One year's run parameters (see :data:`PARAMETERS` and ``params/2018.yaml``)."""

    year: int
    compare_year: int | None
    codebook: str
    raw_dir: str
    processed_dir: str = "data/processed"
    output_dir: str = "outputs/{year}"
    audit_dir: str = "audit/{year}"
    fieldwork_start: str | None = None
    fieldwork_end: str | None = None
    multi_select_rule: str = "solely_one"
    min_cell_n: int = 5
    caution_n: int = 10
    correction: str = "fdr_bh"
    alpha: float = 0.05
    n_resamples: int = 9999
    seed: int = 2018
    themes: str = "params/themes.yaml"
    redaction: str = "params/redaction.yaml"
    synthetic: bool = True
    #: category merges applied before any table: {attribute: {merged label: [category, ...]}}
    merges: Any = None

    # ----------------------------------------------------------------- helpers
    def path(self, name: str) -> Path:
        """Absolute path of a path-valued parameter (``{year}`` filled in)."""
        value = getattr(self, name)
        return resolve(str(value).format(year=self.year))

    @property
    def processed_year_dir(self) -> Path:
        return self.path("processed_dir") / str(self.year)

    @property
    def compare_processed_dir(self) -> Path | None:
        if self.compare_year is None:
            return None
        return self.path("processed_dir") / str(self.compare_year)

    @property
    def fieldwork(self) -> tuple[dt.date | None, dt.date | None]:
        return _as_date(self.fieldwork_start), _as_date(self.fieldwork_end)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the declared parameters (what papermill injects)."""
        return dataclasses.asdict(self)


#: Names a notebook's ``parameters`` cell must declare, in order.
PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Params))
assert PARAM_NAMES == tuple(SPECS), "Params fields and PARAMETERS must list the same names in the same order"
assert all(
    f.default == SPECS[f.name].default for f in dataclasses.fields(Params) if f.default is not dataclasses.MISSING
), "Params defaults must equal PARAMETERS defaults"

_DEFAULTS = {s.name: s.default for s in PARAMETERS}


def _as_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def placeholders(template: str) -> list[str]:
    """Names of the ``{...}`` placeholders in a path template; ValueError if the braces are unbalanced."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def check_value(spec: ParamSpec, value: Any) -> str | None:
    """The problem with one value of one parameter (None if it is valid), as "'name': expected ..., got ..."."""
    bad = f"'{spec.name}': expected {spec.expected}, got {_shown(value)}"
    if value is None or (value == "" and spec.type in ("date", "path")):
        if spec.nullable:
            return None
        return f"'{spec.name}' is required" if spec.required else bad
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not spec.minimum <= value <= spec.maximum:
            return bad
    elif spec.type == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return bad
        lo, hi = spec.minimum, spec.maximum
        if not ((lo < value < hi) if spec.exclusive else (lo <= value <= hi)):
            return bad
    elif spec.type == "bool":
        if not isinstance(value, bool):
            return bad
    elif spec.type == "str":
        if not isinstance(value, str) or value not in spec.choices:
            return bad
    elif spec.type == "date":
        try:
            _as_date(value)
        except (TypeError, ValueError):
            return bad
    elif spec.type == "mapping":
        if not isinstance(value, Mapping):
            return bad
    elif spec.type == "path":
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            return bad
        try:
            names = placeholders(value)
        except ValueError:
            return f"'{spec.name}': unbalanced braces in {value!r}; the only placeholder is {{year}}"
        unknown = [n for n in names if n not in PATH_PLACEHOLDERS]
        if unknown:
            return f"'{spec.name}': unknown placeholder {{{unknown[0]}}} in {value!r}; the only placeholder is {{year}}"
        if any(n != "year" or conv or spec_ for _, n, spec_, conv in string.Formatter().parse(value) if n):
            return f"'{spec.name}': write the placeholder as plain {{year}} in {value!r}"
    return None


def _check_merges(problems: list[str], merges: Any) -> None:
    """``merges``: {attribute: {merged label: [two or more categories]}}, each category merged once."""
    expected = "a mapping {attribute: {merged label: [category, category, ...]}}"
    if not isinstance(merges, Mapping):
        problems.append(f"'merges' must be {expected}, got {merges!r}")
        return
    for attr, spec in merges.items():
        if not isinstance(attr, str) or not isinstance(spec, Mapping):
            problems.append(f"'merges' entry {attr!r} must map merged labels to lists of categories, got {spec!r}")
            continue
        seen: set[str] = set()
        for label, members in spec.items():
            ok = (
                isinstance(label, str)
                and label.strip()
                and isinstance(members, (list, tuple))
                and len(members) >= 2
                and all(isinstance(m, str) and m.strip() for m in members)
            )
            if not ok:
                problems.append(
                    f"'merges.{attr}.{label}' must be a list of at least two category names, got {members!r}"
                )
                continue
            twice = sorted(seen & set(members))
            if twice:
                problems.append(f"'merges.{attr}': categories {twice} are merged into more than one label")
            seen |= set(members)


def validate(values: Mapping[str, Any], source: str = "parameters") -> Params:
    """Validate a mapping of parameters against :data:`PARAMETERS` and return a :class:`Params`.

    All problems are reported at once, each naming the parameter, what was
    expected and what was given.

    Examples
    --------
    >>> validate({"year": 2018, "compare_year": 2017, "codebook": "c.yaml", "raw_dir": "r"}).min_cell_n
    5
    """
    problems: list[str] = []
    values = dict(values)
    unknown = sorted(map(str, set(values) - set(PARAM_NAMES)))
    if unknown:
        problems.append(f"unknown parameter(s) {unknown}; expected only {list(PARAM_NAMES)}")
    if "compare_year" not in values:
        problems.append("'compare_year' is required (use null when there is no earlier year)")
    for spec in PARAMETERS:
        if spec.name not in values:
            if spec.required and spec.name != "compare_year":
                problems.append(f"'{spec.name}' is required")
            continue
        problem = check_value(spec, values[spec.name])
        if problem:
            problems.append(problem)
    bad = {p.split("'")[1] for p in problems if p.startswith("'")}
    year, cy = values.get("year"), values.get("compare_year")
    if cy is not None and not {"year", "compare_year"} & bad and "year" in values and cy >= year:
        problems.append(f"'compare_year': expected an earlier year than year={year!r}, or null, got {cy!r}")
    min_n = values.get("min_cell_n", _DEFAULTS["min_cell_n"])
    caution = values.get("caution_n", _DEFAULTS["caution_n"])
    if not {"min_cell_n", "caution_n"} & bad and caution < min_n:
        problems.append(f"'caution_n': expected at least min_cell_n ({min_n}), got {caution!r}")
    if not {"fieldwork_start", "fieldwork_end"} & bad:
        start, end = _as_date(values.get("fieldwork_start")), _as_date(values.get("fieldwork_end"))
        if start and end and start > end:
            problems.append(f"'fieldwork_start' ({start}) is after 'fieldwork_end' ({end})")
    if values.get("merges") is not None and "merges" not in bad:
        _check_merges(problems, values["merges"])
    if problems:
        raise ParamsError(f"{source}: " + "; ".join(problems))
    clean = {}
    for k, v in values.items():
        if SPECS[k].type == "date":
            d = _as_date(v)
            v = d.isoformat() if d else None
        elif SPECS[k].type == "float":
            v = float(v)
        clean[k] = v
    return Params(**clean)


def load_params(path: str | Path) -> Params:
    """Read and validate ``params/<year>.yaml`` (UTF-8 YAML, unique keys, bounded; see :mod:`rmlib.yamlsafe`)."""
    p = resolve(path)
    shown = str(p.relative_to(repo_root()) if p.is_relative_to(repo_root()) else p)
    if not p.is_file():
        raise ParamsError(f"parameter file not found: {p}" if not p.exists() else f"parameter file {p} is not a file")
    try:
        values = load_yaml(p, "parameter file", shown=shown)
    except UnsafeYAML as exc:
        raise ParamsError(str(exc)) from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ParamsError(f"{shown}: expected a mapping of parameter names to values, got {type(values).__name__}")
    return validate(values, source=shown)


#: the first line of papermill's injected cell (``-p``/``-f`` values), exactly
INJECTED_HEAD = "# Parameters"
#: how the first line of every notebook's own ``parameters`` cell starts
OWN_HEAD = "# Parameters: papermill injects"
#: where the parameters are declared, as a user is told
DECLARED_IN = "the parameters are declared in rmlib/params.py (PARAMETERS)"


def assigned_names(source: str) -> list[str]:
    """Names a cell assigns at its top level (``a = ...``, ``a: int = ...``, ``a, b = ...``), in order, once each.

    Only the top level counts (a loop or a function inside the cell is not
    a parameter). A cell that does not parse (an IPython magic, half an
    edit) gives no names: the kernel has already said what is wrong with it.
    """
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []

    def targets(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                targets(t)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            targets(stmt.target)
    return list(dict.fromkeys(names))


def parameter_cells(namespace: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The parameter cells a kernel has run, as ``(which, source)``: the last run of papermill's injected
    cell and the last run of the notebook's own ``parameters`` cell.

    IPython (so papermill, nbval and JupyterLab alike) keeps the source of
    every executed cell in the namespace's ``In`` list; an editor re-running
    a corrected parameters cell replaces the earlier version. Outside IPython
    there is no ``In`` and nothing to check.
    """
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    found: dict[str, str] = {}
    for source in reversed(history):
        if not isinstance(source, str):
            continue
        first = source.lstrip().split("\n", 1)[0].rstrip()
        if first.startswith(OWN_HEAD):
            found.setdefault("the notebook's parameters cell", source)
        elif first == INJECTED_HEAD:
            found.setdefault("papermill's injected parameters (-p / -f)", source)
    return list(found.items())


def unknown_names_message(names: list[str]) -> str:
    """ "unknown parameter 'x' (did you mean 'y'?)" for each name not declared; the close match is difflib's."""
    import difflib

    parts = []
    for name in names:
        close = difflib.get_close_matches(name, PARAM_NAMES, n=1, cutoff=0.6)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    head = "unknown parameter" + ("s " if len(parts) > 1 else " ")
    return head + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])


def check_notebook_names(namespace: Mapping[str, Any]) -> None:
    """Refuse a name the parameter cells assign that :data:`PARAMETERS` does not declare.

    papermill only warns ("Passed unknown parameter") and runs on with the
    default, and a typo in a parameters cell in JupyterLab just makes a new
    variable; both end here as one :class:`ParamsError` naming each unknown
    name, its closest declared name, and where it was assigned.
    """
    problems = []
    for which, source in parameter_cells(namespace):
        unknown = [n for n in assigned_names(source) if n not in SPECS]
        if unknown:
            problems.append(f"{unknown_names_message(unknown)} in {which}")
    if problems:
        raise ParamsError("; ".join(problems) + f"; {DECLARED_IN}")


def _relative(path: Path) -> str:
    root = repo_root()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def use_scratch(params: Params, say=print) -> dict[Path, Path] | None:
    """Outside ``rmlib run``, send what a notebook writes to ``scratch/`` instead of the published folders.

    The pipeline alone replaces ``outputs/<year>``, ``audit/<year>`` and
    ``data/processed/<year>`` (staged, swapped in atomically, described by
    ``provenance.json``). A notebook run by papermill, nbval or JupyterLab
    has no :data:`rmlib.paths.REDIRECT_ENV` from the pipeline; this sets one
    for its kernel: ``output_dir`` -> ``scratch/<year>/outputs``,
    ``audit_dir`` -> ``scratch/<year>/audit``, ``processed_dir`` ->
    ``scratch/processed``. On first use each scratch folder is seeded from
    the last good run (the year's outputs and audit folders, and every
    processed year up to this one - the compare year and the trend's years),
    so any single notebook can run there. Says where results go in one line.
    Returns the mapping (None under the pipeline, which is left alone).
    """
    import os

    from . import paths

    if os.environ.get(paths.REDIRECT_ENV) and not paths.redirecting_to_scratch():
        return None  # the pipeline's kernel: it stages the folders itself
    os.environ.pop(paths.REDIRECT_ENV, None)  # a re-run (maybe another year): map the real folders again

    def norm(p):
        return Path(os.path.normpath(p))

    out, audit, proc = (norm(params.path(n)) for n in ("output_dir", "audit_dir", "processed_dir"))
    base = paths.scratch_root()
    year_dir = base / str(params.year)
    mapping = {out: year_dir / "outputs", audit: year_dir / "audit", proc: base / "processed"}
    years = {params.year} | ({params.compare_year} if params.compare_year else set())
    if proc.is_dir():
        years |= {int(q.name) for q in proc.iterdir() if q.name.isdigit() and int(q.name) <= params.year}
    pairs = [(out, mapping[out]), (audit, mapping[audit])]
    pairs += [(proc / str(y), mapping[proc] / str(y)) for y in sorted(years)]
    seeded = paths.seed(pairs)
    paths.redirect(mapping)
    note = f"; first use, seeded from the last run in {_relative(out)}/" if out in seeded else ""
    say(
        f"running outside `rmlib run`: results go to {_relative(year_dir)}/ and processed data to "
        f"{_relative(base / 'processed')}/ (the published {_relative(out)}/ is not touched{note})"
    )
    return mapping


def from_notebook(namespace: Mapping[str, Any], scratch: bool = True) -> Params:
    """Build Params from a notebook's globals (after papermill injection); the first code cell of every notebook.

    Refuses unknown names in the parameter cells (:func:`check_notebook_names`),
    validates every value (:func:`validate`), and outside ``rmlib run``
    redirects what the notebook writes to ``scratch/`` (:func:`use_scratch`;
    ``scratch=False`` skips that, for callers that are not notebooks).
    """
    try:
        check_notebook_names(namespace)
        params = validate({k: namespace[k] for k in PARAM_NAMES if k in namespace}, source="notebook parameters")
    except ParamsError as exc:
        # IPython shows this instead of a traceback: a user's mistake is one line, in JupyterLab and papermill
        exc._render_traceback_ = lambda line=f"ParamsError: {exc}": [line]
        raise
    if scratch:
        use_scratch(params)
    return params


# ----------------------------------------------------------------------------- derived from PARAMETERS
#: the file whose values the notebooks' parameters cells show (the 2018 run, the bundled example)
CELL_VALUES_FILE = "params/2018.yaml"
#: the command that regenerates everything derived from PARAMETERS (parameters cells, docs/parameters.md)
SYNC_COMMAND = "python -m rmlib sync-params"


def literal(value: Any) -> str:
    """``value`` as a Python literal in the repository's formatter style (double quotes), for a generated cell.

    >>> literal({"role": {"A or B": ["A", "B"]}, "n": 5, "x": None, "ok": True})
    '{"role": {"A or B": ["A", "B"]}, "n": 5, "x": None, "ok": True}'
    """
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    raise TypeError(f"no literal for a parameter value of type {type(value).__name__}")


def parameters_cell(values: Mapping[str, Any]) -> str:
    """The source of every notebook's ``parameters`` cell: each of :data:`PARAMETERS` in order, with ``values``.

    Generated, never edited by hand: ``python -m rmlib sync-params`` writes it into each
    notebook and a test fails when a notebook's cell differs. ``values`` are those of
    :data:`CELL_VALUES_FILE` (papermill injects the run's own over them).
    """
    head = [
        f"{OWN_HEAD} params/<year>.yaml over these defaults (the 2018 run).",
        f"# Generated from rmlib/params.py (PARAMETERS) and {CELL_VALUES_FILE}: {SYNC_COMMAND}",
    ]
    return "\n".join(head + [f"{s.name} = {literal(values[s.name])}" for s in PARAMETERS])


def shown_default(spec: ParamSpec) -> str:
    """A parameter's default as a user writes it in YAML (``(required)`` when there is none)."""
    if spec.required:
        return "(required)"
    if spec.default is None:
        return "null"
    if isinstance(spec.default, bool):
        return str(spec.default).lower()
    return str(spec.default)


def help_lines(width: int = 100) -> list[str]:
    """Two or more lines per parameter for the command line (``python -m rmlib params``, ``run --help``):
    name, type and default, then what it means and its valid values."""
    import textwrap

    lines = []
    for s in PARAMETERS:
        lines.append(f"  {s.name}: {s.type}, default {shown_default(s)}")
        lines += textwrap.wrap(
            f"{s.doc}. Valid: {s.expected}.", width, initial_indent=" " * 6, subsequent_indent=" " * 6
        )
    return lines


def markdown() -> str:
    """``docs/parameters.md``: every parameter with type, valid values, default and meaning (generated)."""

    def cell(text):
        return str(text).replace("|", "\\|")

    lines = [
        "# Parameters",
        "",
        f"Generated from `rmlib/params.py` (`PARAMETERS`) by `{SYNC_COMMAND}`; a test fails when this",
        "file is out of date. Each run's values are in `params/<year>.yaml` (every parameter is set there);",
        "`python -m rmlib params` prints the same list. Paths are relative to the repository root and",
        "`{year}` is their only placeholder.",
        "",
        "| name | type | valid values | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in PARAMETERS:
        lines.append(f"| `{s.name}` | {s.type} | {cell(s.expected)} | `{cell(shown_default(s))}` | {cell(s.doc)} |")
    return "\n".join(lines) + "\n"
