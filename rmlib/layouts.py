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
``preset:`` and only the settings that differ). This module holds what a
layout *is*: the settings, the presets, their validation (:func:`parse_layout`)
and how a column's header is composed from the header rows. Reading an export
in its layout (:func:`rmlib.reshape.read_group`) builds on it, one layer up,
so that the codebook can import this module without importing the readers.

No library reshapes survey-tool exports to a codebook, so this is hand-written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .wording import normalise, squash

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
    "surveymonkey": {
        "tool": "SurveyMonkey",
        "header_rows": 2,
        "question_row": 1,
        "sublabel_row": 2,
        "multi_select": "columns",
    },
    "qualtrics": {
        "tool": "Qualtrics",
        "header_rows": 3,
        "question_row": 2,
        "multi_select_separator": ",",
        "strip_suffixes": (" - Selected Choice",),
        "status_labels": {
            "IP Address": "complete",
            "Survey Preview": "test",
            "Survey Test": "test",
            "Spam": "test",
            "Imported": "complete",
            "Offline": "complete",
        },
    },
    "smartsurvey": {
        "tool": "SmartSurvey (Excel export)",
        "header_rows": 2,
        "question_row": 1,
        "sublabel_row": 2,
        "multi_select": "columns",
    },
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
    if lay.sublabel_row is not None and not (
        isinstance(lay.sublabel_row, int)
        and 1 <= lay.sublabel_row <= lay.header_rows
        and lay.sublabel_row != lay.question_row
    ):
        problems.append(
            f"layout.sublabel_row must be another header row (1..{lay.header_rows}), got {lay.sublabel_row!r}"
        )
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
    """``header`` without the first of the layout's suffixes it ends with (e.g. Qualtrics' ' - Selected Choice')."""
    for suf in layout.strip_suffixes:
        if normalise(header).endswith(normalise(suf)) and len(header) > len(suf):
            return header[: len(header) - len(suf)].rstrip()
    return header


def option_of(header: str, question: str, layout: Layout) -> str | None:
    """If ``header`` is an option column of ``question`` (``question - option``), the option text; else None."""
    before, _, after = normalise(layout.header_join.format(question=question, sublabel="\x01")).partition("\x01")
    squashed = squash(header)
    folded = squashed.casefold()
    if (
        len(folded) == len(squashed)
        and len(folded) > len(before) + len(after)
        and folded.startswith(before)
        and folded.endswith(after)
    ):
        return squashed[len(before) : len(squashed) - len(after)].strip() or None
    return None
