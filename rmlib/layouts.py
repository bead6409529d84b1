"""Export layouts: how a survey tool lays a year's answers out in its file, and reading any of them.

The codebook matches one header per column and one answer text per cell.
Survey tools write other shapes (issue: "real survey-tool exports"):

- several header rows: SurveyMonkey writes the question text once above its
  block of columns (blank over the rest of the block) and a sub-label per
  column under it ("Response", "Open-Ended Response", a matrix row such as a
  department, or a checkbox option); Qualtrics writes three rows (short names
  such as ``Q5_3``, "question text - sub-item", an ImportId JSON row);
- one column per option for a multi-select (the cell holds the option text,
  or a mark such as ``1``, or is blank);
- multi-select answers joined by any separator, including a trailing one
  (Microsoft Forms writes ``North;South;``);
- numeric codes with a label map (``codes:`` on a column);
- SPSS ``.sav`` files whose value labels carry the answer labels.

A codebook names its tool with ``layout: <preset>`` (or a mapping with
``preset:`` and only the settings that differ) and :func:`read_group` turns
the export, read exactly as the tool wrote it (never modified; the same
bytes are hashed), into the one-header-per-column text frame the validator
checks: a header composed from the header rows, option columns combined into
one cell joined by the codebook's separator, codes replaced by their labels.
Row numbers stay those of the raw file, so every message still points at the
row a researcher sees in Excel.

No library reshapes survey-tool exports to a codebook, so this is hand-written;
the parsing itself is :mod:`csv`, openpyxl and pyreadstat (via :mod:`rmlib.io`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

#: settings a preset (or a codebook's ``layout:`` mapping) may set, with what they mean
LAYOUT_KEYS = {
    "preset": "the survey tool whose defaults are used",
    "tool": "the tool's name, for messages and the report",
    "header_rows": "rows that make up the header (after skip_rows)",
    "question_row": "which header row (1 = first) holds the question text",
    "sublabel_row": "which header row holds a sub-label per column (matrix row, option, 'Response'); "
                    "the question text is forward-filled over its block",
    "header_join": "how question text and sub-label make the header the codebook names",
    "plain_sublabels": "sub-labels that stand for the question itself",
    "strip_suffixes": "header endings to drop (e.g. ' - Selected Choice')",
    "multi_select": "'joined' (options in one cell, joined by the separator) or 'columns' (one column per option)",
    "selected_marks": "cell values of an option column that mean 'this option chosen'",
    "unselected_marks": "cell values of an option column that mean 'not chosen'",
    "header_source": "for .sav: 'label' (variable labels: the question text) or 'name' (variable names)",
    "multi_select_separator": "the separator between options in one cell (a trailing one is fine)",
    "status_labels": "status labels the tool writes (merged under the codebook's own status_labels)",
}


@dataclass(frozen=True)
class Layout:
    """How one codebook's exports are laid out (defaults: today's single-header-row layout)."""

    preset: str = "default"
    tool: str = ""
    header_rows: int = 1
    question_row: int = 1
    sublabel_row: int | None = None
    header_join: str = "{question} - {sublabel}"
    plain_sublabels: tuple[str, ...] = ("Response", "Open-Ended Response")
    strip_suffixes: tuple[str, ...] = ()
    multi_select: str = "joined"
    selected_marks: tuple[str, ...] = ("1", "true", "yes", "selected", "checked", "x")
    unselected_marks: tuple[str, ...] = ("", "0", "false", "no", "not selected", "unchecked")
    header_source: str = "label"
    multi_select_separator: str = ";"
    status_labels: dict[str, str] = field(default_factory=dict)


#: the tools' layouts; a codebook writes ``layout: surveymonkey`` and only what differs for its export
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"tool": "one header row per column (the layout of the bundled exports)"},
    "surveymonkey": {"tool": "SurveyMonkey", "header_rows": 2, "question_row": 1, "sublabel_row": 2,
                     "multi_select": "columns"},
    "qualtrics": {"tool": "Qualtrics", "header_rows": 3, "question_row": 2, "multi_select_separator": ",",
                  "strip_suffixes": (" - Selected Choice",),
                  "status_labels": {"IP Address": "complete", "Survey Preview": "test", "Survey Test": "test",
                                    "Spam": "test", "Imported": "complete", "Offline": "complete"}},
    "smartsurvey": {"tool": "SmartSurvey (Excel export)", "header_rows": 2, "question_row": 1, "sublabel_row": 2,
                    "multi_select": "columns"},
    "snap": {"tool": "Snap Surveys (Excel export)", "multi_select_separator": ";"},
    "msforms": {"tool": "Microsoft Forms (Excel export)", "multi_select_separator": ";"},
    "spss": {"tool": "SPSS .sav (any tool's SPSS export)", "header_source": "label", "multi_select": "columns"},
}

_TUPLE_KEYS = ("plain_sublabels", "strip_suffixes", "selected_marks", "unselected_marks")


def parse_layout(value: Any) -> tuple[Layout, list[str]]:
    """A codebook's ``layout:`` entry (absent, a preset name, or a mapping) -> (Layout, problems)."""
    problems: list[str] = []
    if value is None:
        return Layout(), problems
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        return Layout(), [f"layout must be a preset name ({', '.join(PRESETS)}) or a mapping, got {value!r}"]
    preset = str(value.get("preset", "default")).strip().lower()
    if preset not in PRESETS:
        return Layout(), [f"layout: unknown preset {value.get('preset')!r}; presets: {', '.join(PRESETS)}"]
    unknown = [k for k in value if k not in LAYOUT_KEYS]
    if unknown:
        problems.append(f"layout: unknown setting(s) {unknown}; settings: {', '.join(LAYOUT_KEYS)}")
    settings = {**PRESETS[preset], **{k: v for k, v in value.items() if k in LAYOUT_KEYS}}
    settings["preset"] = preset
    for k in _TUPLE_KEYS:
        if k in settings:
            v = settings[k]
            settings[k] = tuple(str(x) for x in (v if isinstance(v, (list, tuple)) else [v]))
    if "status_labels" in settings:
        if not isinstance(settings["status_labels"], dict):
            problems.append("layout.status_labels must be a mapping label -> complete/partial/test")
            settings["status_labels"] = {}
        settings["status_labels"] = {str(k): str(v) for k, v in settings["status_labels"].items()}
    names = {f.name for f in fields(Layout)}
    lay = replace(Layout(), **{k: v for k, v in settings.items() if k in names})
    for k in ("header_rows", "question_row"):
        if isinstance(getattr(lay, k), bool) or not isinstance(getattr(lay, k), int) or getattr(lay, k) < 1:
            problems.append(f"layout.{k} must be a whole number >= 1, got {getattr(lay, k)!r}")
    if problems:
        return Layout(), problems
    if lay.question_row > lay.header_rows:
        problems.append(f"layout.question_row is {lay.question_row} but there are only {lay.header_rows} header row(s)")
    if lay.sublabel_row is not None and not (isinstance(lay.sublabel_row, int) and 1 <= lay.sublabel_row <= lay.header_rows
                                             and lay.sublabel_row != lay.question_row):
        problems.append(f"layout.sublabel_row must be another header row (1..{lay.header_rows}), got {lay.sublabel_row!r}")
    if "{question}" not in lay.header_join or "{sublabel}" not in lay.header_join:
        problems.append(f"layout.header_join must contain {{question}} and {{sublabel}}, got {lay.header_join!r}")
    if lay.multi_select not in ("joined", "columns"):
        problems.append(f"layout.multi_select must be 'joined' or 'columns', got {lay.multi_select!r}")
    if lay.header_source not in ("label", "name"):
        problems.append(f"layout.header_source must be 'label' or 'name', got {lay.header_source!r}")
    if str(lay.multi_select_separator).strip() == "":
        problems.append("layout.multi_select_separator must not be blank")
    return lay, problems


# ----------------------------------------------------------------------------- headers
def join_header(question: str, sublabel: str, layout: Layout) -> str:
    """The header the codebook names for a column with this question text and sub-label.

    >>> join_header("Which area(s)?", "North", Layout())
    'Which area(s)? - North'
    >>> join_header("Your comments", "Open-Ended Response", Layout())
    'Your comments'
    """
    from .codebook import normalise
    q, s = question.strip(), sublabel.strip()
    if not s or normalise(s) in {normalise(p) for p in layout.plain_sublabels}:
        return q
    if not q:
        return s
    return layout.header_join.format(question=q, sublabel=s)


def compose_headers(block: list[list[str]], layout: Layout) -> list[str]:
    """One header per column from the header rows: question text forward-filled over its block + sub-label."""
    q_row = [c.strip() for c in block[layout.question_row - 1]]
    if layout.sublabel_row is None:
        out = q_row
    else:
        s_row = [c.strip() for c in block[layout.sublabel_row - 1]]
        out, current = [], ""
        for q, s in zip(q_row, s_row):
            if q:
                current = q
            out.append(join_header(current, s, layout))
    return [strip_suffixes(h, layout) for h in out]


def strip_suffixes(header: str, layout: Layout) -> str:
    from .codebook import normalise
    for suf in layout.strip_suffixes:
        if normalise(header).endswith(normalise(suf)) and len(header) > len(suf):
            return header[: len(header) - len(suf)].rstrip()
    return header


def option_of(header: str, question: str, layout: Layout) -> str | None:
    """If ``header`` is an option column of ``question`` (``question - option``), the option text; else None."""
    from .codebook import _squash, normalise
    before, _, after = normalise(layout.header_join.format(question=question, sublabel="\x01")).partition("\x01")
    squashed = _squash(header)
    folded = squashed.casefold()
    if (len(folded) == len(squashed) and len(folded) > len(before) + len(after) and folded.startswith(before)
            and folded.endswith(after)):
        return squashed[len(before): len(squashed) - len(after)].strip() or None
    return None


# ----------------------------------------------------------------------------- reading
def read_group(path: str | Path, codebook, group: str):
    """Read one group's export in the codebook's layout; return a :class:`rmlib.io.RawExport` the validator checks.

    The file is read once, exactly as exported (CSV, XLSX or ``.sav``); the
    returned frame has one column per codebook header, each cell the answer
    text: option columns combined, codes replaced by labels.
    """
    from .io import read_export, read_sav
    path = Path(path)
    spec = codebook.files[group]
    lay = codebook.layout
    if path.suffix.lower() == ".sav":
        raw = read_sav(path, header_source=lay.header_source)
        if lay.strip_suffixes:
            _rename(raw, [strip_suffixes(h, lay) for h in raw.headers])
    else:
        compose = None
        if lay.header_rows > 1 or lay.sublabel_row is not None or lay.strip_suffixes:
            def compose(block, lay=lay):
                return compose_headers(block, lay)
        raw = read_export(path, skip_rows=spec.skip_rows, encoding=spec.encoding, delimiter=spec.delimiter,
                          sheet=spec.sheet, expected=codebook.expected_headers(group), header_rows=lay.header_rows,
                          compose=compose)
    if lay.header_rows == 1 and path.suffix.lower() != ".sav":
        _check_not_another_tools_layout(raw, codebook)
    if lay.multi_select == "columns":
        combine_option_columns(raw, codebook, group)
    apply_codes(raw, codebook, group)
    return raw


def _check_not_another_tools_layout(raw, codebook) -> None:
    """An export with more header rows than the codebook's layout says: one error naming the layout to set.

    Without it, a SurveyMonkey or Qualtrics export read with one header row
    gives a problem for every cell of its sub-label rows.
    """
    from .codebook import normalise
    from .io import ExportReadError
    if raw.data.empty:
        return
    first = raw.data.iloc[0].drop(labels="raw_row").astype(str).tolist()
    row = int(raw.data["raw_row"].iloc[0])
    plain = sum(normalise(c) in ("response", "open-ended response") for c in first)
    if plain >= 2:
        what = (f"row {row} holds sub-labels ('Response', 'Open-Ended Response', ...), not answers: this is a "
                "SurveyMonkey-style export with two header rows; set layout: surveymonkey in "
                f"{codebook.path.name} (layout: smartsurvey for SmartSurvey)")
        raise ExportReadError(what, [{"row": row, "column": "", "value": "", "problem": what}])
    later = raw.data.iloc[1].drop(labels="raw_row").astype(str).tolist() if len(raw.data) > 1 else []
    if any(c.lstrip().startswith('{"ImportId"') for c in first + later):
        what = (f"rows {row}-{row + 1} are header rows (question texts, ImportId): this is a Qualtrics export with "
                f"three header rows; set layout: qualtrics in {codebook.path.name}")
        raise ExportReadError(what, [{"row": row, "column": "", "value": "", "problem": what}])


def _rename(raw, headers: list[str]) -> None:
    from .io import _unique_names
    names = _unique_names(headers)
    raw.data.columns = ["raw_row", *names]
    raw.headers, raw.columns = headers, names


def combine_option_columns(raw, codebook, group: str) -> None:
    """One-column-per-option multi-selects -> one cell of chosen options joined by the codebook's separator (in place).

    An option column is one whose header is ``<codebook header> - <option>``
    (the layout's ``header_join``). A cell chooses the option when it holds
    the option text (SurveyMonkey) or a selected mark (``1``, ``Yes``, ...);
    a blank or unselected mark (``0``) does not; any other text is kept as
    written, so that the validator reports it as an unknown option.
    """
    from .codebook import normalise
    lay = codebook.layout
    sep = codebook.multi_select_separator.strip() + " "
    selected = {normalise(m) for m in lay.selected_marks}
    unselected = {normalise(m) for m in lay.unselected_marks}
    present = {normalise(h) for h in raw.headers}
    for spec in codebook.attribute_columns(group):
        if not spec.multi or normalise(spec.header) in present:
            continue
        opts = [(j, option_of(h, spec.header, lay)) for j, h in enumerate(raw.headers)]
        opts = [(j, o) for j, o in opts if o]
        if not opts:
            continue
        cols = [raw.columns[j] for j, _ in opts]
        values = raw.data[cols].to_numpy(dtype=object)
        cells = []
        for row in values:
            chosen = []
            for (_, option), v in zip(opts, row):
                n = normalise(v)
                if n in unselected:
                    continue
                chosen.append(option if n in selected else str(v).strip())
            cells.append(sep.join(chosen))
        first = opts[0][0]
        keep = [j for j in range(len(raw.headers)) if j not in {j for j, _ in opts}]
        headers = [raw.headers[j] for j in keep]
        names = [raw.columns[j] for j in keep]
        at = sum(1 for j in keep if j < first)
        headers.insert(at, spec.header)
        names.insert(at, spec.header)
        data = raw.data.drop(columns=cols)
        data.insert(at + 1, spec.header, cells)
        raw.data, raw.headers, raw.columns = data, headers, names
        raw.notes.append(f"{spec.header!r}: {len(opts)} option columns ({', '.join(o for _, o in opts)}) "
                         f"read as one multi-select")


def apply_codes(raw, codebook, group: str) -> None:
    """Replace numeric codes by their labels in columns that declare ``codes:`` (in place); unknown codes kept."""
    from .codebook import normalise
    sep = codebook.multi_select_separator
    by_norm = {normalise(h): c for h, c in zip(raw.headers, raw.columns)}
    for spec in codebook.columns[group]:
        if not spec.codes or normalise(spec.header) not in by_norm:
            continue
        col = by_norm[normalise(spec.header)]
        codes = {normalise(k): v for k, v in spec.codes.items()}

        def relabel(cell: str, spec=spec, codes=codes) -> str:
            if spec.multi:
                parts = [p.strip() for p in str(cell).split(sep.strip())]
                return (sep.strip() + " ").join(codes.get(normalise(p), p) for p in parts if p)
            return codes.get(normalise(cell), cell)
        uniq = {u: relabel(u) for u in raw.data[col].unique()}
        raw.data[col] = raw.data[col].map(uniq)
