"""Draft a new year's codebook from the export and last year's codebook (``python -m rmlib draft-codebook``).

A new year's export is worded almost like last year's, but often comes from
another tool (another layout, other metadata columns, other answer labels).
:func:`draft_codebook` reads the export exactly as written, detects its
layout (title rows, SurveyMonkey's two header rows, Qualtrics' three, an
SPSS ``.sav``, a Forms workbook), and matches every header, answer label,
department and category to last year's codebook: first after normalising
(:func:`rmlib.wording.normalise`: case, spaces, quotes, dashes), then by
well-known metadata names of the common tools, then fuzzily (difflib ratio).
Every guess that is not an exact match is marked ``# CHECK:`` in the YAML it
writes, and what it could not match is listed (``# NOT MATCHED:`` and on the
console). It then validates the draft against the export, so the user
starts from the remaining problems.

Hand-written: no library maps one survey's codebook onto another's; the
fuzzy matching is :mod:`difflib`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codebook import NO_CONTACT, Codebook, infer_rating_template, load_codebook, normalise
from .constants import QUESTIONS
from .layouts import PRESETS, Layout, compose_headers, option_of, parse_layout

#: the ratio (difflib) above which two texts count as a guess to confirm
FUZZY = 0.75
#: metadata columns of the common tools -> kind
ALIASES = {
    "id": ["response id", "respondent id", "responseid", "id", "response number", "submission id"],
    "timestamp": [
        "date submitted",
        "end date",
        "enddate",
        "completion time",
        "submitted",
        "date completed",
        "submit date",
        "completed",
    ],
    "status": ["status", "response type", "response status"],
    "finished": ["finished"],
    "key": ["email address", "email", "e-mail", "e-mail address", "recipient email", "recipientemail"],
    "personal": [
        "ip address",
        "ipaddress",
        "first name",
        "last name",
        "name",
        "full name",
        "recipient first name",
        "recipient last name",
        "your name",
        "location latitude",
        "location longitude",
    ],
    "ignore": [
        "start date",
        "startdate",
        "start time",
        "collector id",
        "custom data 1",
        "progress",
        "duration (in seconds)",
        "recorded date",
        "recordeddate",
        "distribution channel",
        "user language",
        "last modified time",
        "externalreference",
        "external data reference",
    ],
}
TIME_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d-%m-%Y %H:%M",
)
STATUS_WORDS = {
    "complete": ["complete", "completed", "finished", "ip address", "submitted"],
    "partial": ["partial", "incomplete", "in progress", "not finished"],
    "test": ["test", "preview", "survey preview", "survey test", "spam"],
}


class DraftError(ValueError):
    """The draft cannot be made (no export found, unreadable file, existing codebook)."""


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b)).ratio()


def _best(value: str, choices: list[str]) -> tuple[str | None, float]:
    """The closest choice and its ratio (exact after normalising = 1.0)."""
    n = normalise(value)
    for c in choices:
        if normalise(c) == n:
            return c, 1.0
    scored = sorted(((_ratio(value, c), c) for c in choices), reverse=True)
    return (scored[0][1], scored[0][0]) if scored else (None, 0.0)


@dataclass
class _Export:
    """One export as the draft sees it: columns as (question, sub-label, composed header) and the cells."""

    file: str
    group: str
    layout: str
    skip_rows: int
    questions: list[str]
    sublabels: list[str]
    headers: list[str]
    cells: list[list[str]]  # column-wise
    layout_note: str = ""
    sheet: Any = None


@dataclass
class Draft:
    """What :func:`draft_codebook` found: the YAML text, the guesses to confirm and what it could not match."""

    yaml: str
    checks: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    layout: str = "default"


# ----------------------------------------------------------------------------- reading
def _rows(path: Path) -> list[list[str]]:
    from .io import _choose_delimiter, _parse_csv, _read_xlsx, decode

    data = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(data, None)[0]
    text, _, _ = decode(data, "auto", path)
    delim, _ = _choose_delimiter(text, "auto", None, 0)
    return _parse_csv(text, delim)


def _read(path: Path, group: str) -> _Export:
    """Detect the layout of one export and return its columns and cells (the file is only read)."""
    from .io import read_sav

    if path.suffix.lower() == ".sav":
        raw = read_sav(path, header_source="label")
        cells = [raw.data[c].tolist() for c in raw.columns]
        return _Export(
            path.name,
            group,
            "spss",
            0,
            list(raw.headers),
            [""] * len(raw.headers),
            list(raw.headers),
            cells,
            "an SPSS .sav file (headers from the variable labels, answers from the value labels)",
        )
    rows = _rows(path)
    skip = next((i for i, r in enumerate(rows[:30]) if sum(1 for c in r if c.strip()) >= 3), 0)
    width = max((len(r) for r in rows[skip:]), default=0)
    rows = [list(r) + [""] * (width - len(r)) for r in rows]
    first = lambda r: next((c for c in r if c.strip()), "")  # noqa: E731
    n = len(rows)
    if n > skip + 2 and first(rows[skip + 2]).lstrip().startswith('{"ImportId"'):
        name, header_rows, note = "qualtrics", 3, "three header rows with an ImportId row: Qualtrics"
    elif (
        n > skip + 1
        and any(normalise(c) in ("response", "open-ended response") for c in rows[skip + 1])
        and any(not a.strip() and b.strip() for a, b in zip(rows[skip], rows[skip + 1]))
    ):
        name, header_rows, note = (
            "surveymonkey",
            2,
            ("two header rows (question text over its block, a sub-label per column): SurveyMonkey"),
        )
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            name, note = "smartsurvey", note.replace("SurveyMonkey", "SmartSurvey's (or SurveyMonkey's) Excel export")
    elif path.suffix.lower() in (".xlsx", ".xlsm") and any(normalise(c) == "completion time" for c in rows[skip]):
        name, header_rows, note = "msforms", 1, "an Excel workbook with 'Completion time': Microsoft Forms"
    else:
        name, header_rows, note = "default", 1, "one header row"
    lay, _ = parse_layout(name)
    block = rows[skip : skip + header_rows]
    if lay.sublabel_row:
        q_row = [c.strip() for c in block[lay.question_row - 1]]
        subs = [c.strip() for c in block[lay.sublabel_row - 1]]
        questions, cur = [], ""
        for q in q_row:
            cur = q or cur
            questions.append(cur)
    else:
        questions = compose_headers(block, lay)
        subs = [""] * width
    headers = compose_headers(block, lay)
    data = [r for r in rows[skip + header_rows :] if any(c.strip() for c in r)]
    cells = [[r[j] for r in data] for j in range(width)]
    return _Export(path.name, group, name, skip, questions, subs, headers, cells, note)


def _group_of(path: Path, prev: Codebook) -> str | None:
    name = path.name.lower()
    for g in prev.files:
        if g in name:
            return g
    return None


# ----------------------------------------------------------------------------- matching
def _yq(value: Any) -> str:
    """A YAML scalar (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _timestamp_format(values: list[str], previous: str) -> tuple[str, str]:
    vals = [v.strip() for v in values if v.strip()][:500]
    fits = []
    for fmt in (previous, *[f for f in TIME_FORMATS if f != previous]):
        try:
            for v in vals:
                dt.datetime.strptime(v, fmt)
        except ValueError:
            continue
        fits.append(fmt)
    if not fits:
        return previous, "no known date-time format fits every value: set timestamp_format"
    if fits[0] == previous:
        return previous, ""
    return fits[0], f"detected from the values (e.g. {vals[0]!r})" + (
        f"; {fits[1]!r} fits too" if len(fits) > 1 else ""
    )


def _score_code(label: str, prev: Codebook) -> tuple[Any, str]:
    """(code, note): note '' for an exact match with last year's labels."""
    n = normalise(label)
    if n in prev.score_labels:
        return prev.score_labels[n], ""
    best, r = _best(label, [k for k, v in prev._raw_score_labels.items() if v == NO_CONTACT])
    if best and r >= FUZZY:
        return NO_CONTACT, f"close to last year's {best!r}"
    m = re.match(r"^\s*\(?([0-4])\)?\b", label) or re.search(r"\(([0-4])\)\s*$", label)
    if m:
        code = int(m.group(1))
        return (NO_CONTACT if code == 0 else code), f"score read from the digit {code}"
    return None, ""


def draft_codebook(folder: str | Path, previous: str | Path, year: int | None = None) -> Draft:
    """Draft ``<year>``'s codebook for the exports in ``folder`` from last year's codebook ``previous``.

    Returns the YAML text (not written) with every guess marked ``# CHECK:``
    and everything not matched marked ``# NOT MATCHED:``. The steps: read
    the exports and agree on one layout, write the head (year, tool, files),
    walk every group's columns (:func:`_group_lines`), then write each
    section from what the walk found, in the codebook's order.
    """
    folder = Path(folder)
    prev = load_codebook(previous)
    if not folder.is_dir():
        raise DraftError(f"{folder} is not a folder of survey exports")
    year = _draft_year(folder, year)
    exports, unassigned = _read_exports(folder, prev)
    found = _Findings(
        unmatched=[f"{n}: not read (its name names no group, or a second file for one)" for n in unassigned]
    )
    layouts = {e.layout for e in exports.values()}
    layout = sorted(layouts)[0]
    if len(layouts) > 1:
        found.checks.append(f"the exports have different layouts {sorted(layouts)}; the draft uses {layout!r}")
    lay: Layout = parse_layout(layout)[0]
    note = next(iter(exports.values())).layout_note
    out = _head_lines(year, Path(previous).name, layout, note, exports, prev, found)
    layout_line = next((i for i, line in enumerate(out) if line.startswith("layout: ")), None)
    for g, e in exports.items():
        found.col_lines[g] = _group_lines(_GroupContext.of(e, g, prev, lay), found)
    out += _separator_and_time_lines(prev, lay, layout, found)
    out += _score_label_lines(prev, found)
    out += _status_label_lines(prev, lay, found)
    out += _department_lines(prev, found)
    out += _question_lines(prev, found)
    out += _rating_header_lines(exports, prev, lay, found)
    out += ["", "columns:"]
    for g, lines in found.col_lines.items():
        out += [f"  {g}:", *lines]
    if found.needs_columns and lay.multi_select != "columns":
        line = f"layout: {{preset: {layout}, multi_select: columns}}   # CHECK: one column per option found ({note})"
        if layout_line is None:
            out.insert(5, line)
        else:
            out[layout_line] = line
    return Draft(yaml="\n".join(out) + "\n", checks=found.checks, unmatched=found.unmatched, layout=layout)


@dataclass
class _Findings:
    """What drafting found so far: the guesses and misses to list, and what the column walk collected.

    Passed explicitly from step to step (each appends in the order the
    sections are written, so the lists read top to bottom like the YAML).
    """

    checks: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    col_lines: dict[str, list[str]] = field(default_factory=dict)  # group -> its YAML column lines
    score_values: set[str] = field(default_factory=set)
    status_values: set[str] = field(default_factory=set)
    dep_found: dict[str, tuple[str, str]] = field(default_factory=dict)  # new label -> (id, note)
    templates: dict[str, tuple[str, str]] = field(default_factory=dict)  # group -> (rating_header, why) when new
    q_found: dict[str, tuple[str, str]] = field(default_factory=dict)  # question -> (new text, note)
    ts_values: list[str] = field(default_factory=list)
    sep_votes: dict[str, int] = field(default_factory=dict)
    needs_columns: set[str] = field(default_factory=set)  # groups with one column per option under one header row


def _draft_year(folder: Path, year: int | None) -> int:
    """The year drafted: given, or read off the folder's name."""
    if year is not None:
        return year
    m = re.search(r"(20\d\d)", folder.name)
    if not m:
        raise DraftError(f"cannot tell the year from the folder name {folder.name!r}: give --year")
    return int(m.group(1))


def _read_exports(folder: Path, prev: Codebook) -> tuple[dict[str, _Export], list[str]]:
    """The folder's exports, one per group named in the file name, and the names of the files not read."""
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm", ".sav") and not p.name.startswith(".")
    )
    exports: dict[str, _Export] = {}
    unassigned = []
    for p in files:
        g = _group_of(p, prev)
        if g is None or g in exports:
            unassigned.append(p.name)
            continue
        exports[g] = _read(p, g)
    if not exports:
        raise DraftError(
            f"no export in {folder} is named after a group ({', '.join(prev.files)}); found {[p.name for p in files]}"
        )
    return exports, unassigned


def _head_lines(
    year: int, previous_name: str, layout: str, note: str, exports: dict[str, _Export], prev: Codebook, found: _Findings
) -> list[str]:
    """The draft's opening comments, year, tool, detected layout and ``files:`` section."""
    out = [
        f"# Codebook of the {year} exports, drafted by `python -m rmlib draft-codebook` from {previous_name}.",
        "# Every line marked '# CHECK:' is a guess: confirm it (then delete the comment) or correct it.",
        "# Lines marked '# NOT MATCHED:' could not be matched to last year's codebook and need a decision.",
        f"year: {year}",
        f"survey_tool: {_yq(PRESETS[layout]['tool'])}",
    ]
    if layout != "default":
        out.append(f"layout: {layout}   # CHECK: detected from the export ({note})")
        found.checks.append(f"layout {layout!r}: detected from the export ({note})")
    out += ["", "files:"]
    for g, e in exports.items():
        out += [f"  {g}:", f"    file: {_yq(e.file)}"]
        if e.layout != "spss":
            out.append(
                f"    skip_rows: {e.skip_rows}"
                + (
                    f"   # CHECK: {e.skip_rows} title row(s) before the header (last year {prev.files[g].skip_rows})"
                    if e.skip_rows != prev.files[g].skip_rows
                    else ""
                )
            )
            if Path(e.file).suffix.lower() == ".csv":
                out += ["    encoding: auto", "    delimiter: auto"]
    out.append("")
    return out


@dataclass(frozen=True)
class _GroupContext:
    """One group's export and what matching its columns needs from last year's codebook."""

    e: _Export
    g: str
    prev: Codebook
    lay: Layout
    prev_cols: list
    prev_headers: list[str]
    q_texts: dict[str, str]
    dep_labels: list[str]
    by_department: bool  # last year's rating header names a department (providers)
    inferred: tuple | None  # the rating header template read off the export (one header row only)

    @classmethod
    def of(cls, e: _Export, g: str, prev: Codebook, lay: Layout) -> "_GroupContext":
        """The context of group ``g``'s export ``e``."""
        q_texts = {q: prev.questions[q] for q in QUESTIONS}
        by_department = "{department}" in prev.rating_header[g]
        inferred = None if lay.sublabel_row else infer_rating_template(e.headers, q_texts, by_department)
        return cls(
            e=e,
            g=g,
            prev=prev,
            lay=lay,
            prev_cols=prev.columns[g],
            prev_headers=[c.header for c in prev.columns[g]],
            q_texts=q_texts,
            dep_labels=list(prev.departments),
            by_department=by_department,
            inferred=inferred,
        )

    @property
    def rating_parts(self) -> dict[str, tuple[str, str]]:
        """Header -> (question id, department text) by the inferred template (when two columns or more fit it)."""
        return self.inferred[1] if self.inferred and len(self.inferred[1]) >= 2 else {}


def _group_lines(ctx: _GroupContext, found: _Findings) -> list[str]:
    """Walk one group's columns block by block: ratings are collected, every other column gets its YAML lines.

    A block is one column, or the columns under one question text (layouts
    with a sub-label row, or option columns 'question - option' of a .sav).
    """
    e, prev, lay = ctx.e, ctx.prev, ctx.lay
    rating_parts = ctx.rating_parts
    if rating_parts and ctx.inferred[0] != prev.rating_header[ctx.g]:
        why = f"the export's rating headers read like {next(iter(rating_parts))!r}"
        found.templates[ctx.g] = (ctx.inferred[0], why)
        found.checks.append(f"rating_header.{ctx.g} {ctx.inferred[0]!r}: read off the export's rating headers")
    lines: list[str] = []
    used: set[int] = set()
    j = 0
    while j < len(e.headers):
        if not e.headers[j].strip():
            j += 1
            continue
        block, q = _block_at(ctx, j, found)
        j = block[-1] + 1
        if _take_rating(ctx, block, q, found):
            continue
        if len(block) > 1 or (not lay.sublabel_row and e.sublabels[block[0]]):  # one-column-per-option multi-select
            lines += _option_block_lines(ctx, block, q, used, found)
            continue
        lines += _other_lines(ctx, block[0], used, found)
    for c in (c for i, c in enumerate(ctx.prev_cols) if i not in used and c.kind in ("id", "timestamp")):
        found.unmatched.append(
            f"{e.file}: no column found for the {c.kind} (last year: {c.header!r}); add one with kind: {c.kind}"
        )
    return lines


def _block_at(ctx: _GroupContext, j: int, found: _Findings) -> tuple[list[int], str]:
    """The block of columns starting at column ``j``, and its question text.

    With a sub-label row, the columns that share ``j``'s question text (and
    have a sub-label). With one header row, columns ``<multi-select> - <option>``
    of one of last year's multi-selects (a .sav's option variables): their
    sub-labels become the option texts and the group needs ``multi_select: columns``.
    """
    e, lay = ctx.e, ctx.lay
    width = len(e.headers)
    q, h = e.questions[j], e.headers[j]
    k = j + 1
    while lay.sublabel_row and k < width and e.questions[k] == q and e.sublabels[k].strip():
        k += 1
    block = list(range(j, k)) if lay.sublabel_row and e.sublabels[j].strip() else [j]
    if not lay.sublabel_row and " - " in h:
        for mc in (c for c in ctx.prev_cols if c.kind == "attribute" and c.multi):
            prefix = normalise(mc.header) + " - "
            k = j
            while k < width and normalise(e.headers[k]).startswith(prefix):
                k += 1
            if k > j:
                block, q = list(range(j, k)), mc.header
                for col in block:
                    e.sublabels[col] = option_of(e.headers[col], mc.header, lay) or e.headers[col]
                found.needs_columns.add(ctx.g)
                break
    return block, q


def _rating_text(ctx: _GroupContext, h: str, q: str, sub: str) -> tuple[str, str]:
    """(question text, department text) a column header reads as, if it is a rating column.

    From the sub-label row, the inferred template, or (one header row) a
    split of ``question - department`` at the point whose tail is closest to
    one of last year's departments (a department label may hold ' - ' itself).
    """
    q_part, d_part = (q, sub) if ctx.lay.sublabel_row and sub.strip() else (h, "")
    rating_parts = ctx.rating_parts
    if h in rating_parts:
        return ctx.q_texts[rating_parts[h][0]], rating_parts[h][1]
    if ctx.by_department and not d_part and " - " in h:
        pieces = h.split(" - ")
        splits = [(" - ".join(pieces[:i]), " - ".join(pieces[i:])) for i in range(1, len(pieces))]
        head, tail = max(splits, key=lambda ht: _best(ht[1], ctx.dep_labels)[1])
        if _best(tail, ctx.dep_labels)[1] >= FUZZY:
            return head, tail
    return q_part, d_part


def _take_rating(ctx: _GroupContext, block: list[int], q: str, found: _Findings) -> bool:
    """If the block holds ratings of one of last year's questions, collect its wording, departments and labels.

    Returns True when it did (the block then writes no column lines).
    """
    e = ctx.e
    j = block[0]
    h = e.headers[j]
    q_part, d_part = _rating_text(ctx, h, q, e.sublabels[j])
    rq, rr = _best(q_part, list(ctx.q_texts.values()))
    is_rating = (
        rr >= FUZZY and normalise(q_part) not in {normalise(x) for x in ctx.prev_headers}
    ) or h in ctx.rating_parts
    if not is_rating:
        return False
    qid = next(x for x, t in ctx.q_texts.items() if t == rq)
    if qid not in found.q_found:
        found.q_found[qid] = (q_part, "" if rr == 1.0 else f"close to last year's wording ({rr:.0%})")
    for col in block:
        dl = e.sublabels[col] if ctx.lay.sublabel_row else d_part
        if ctx.by_department:
            if ctx.lay.sublabel_row is None and len(block) == 1:
                dl = d_part
            if normalise(dl) in ("response", ""):
                found.unmatched.append(f"{e.file}: column {e.headers[col]!r}: a rating with no department")
                continue
            found.dep_found.setdefault(dl, ("", ""))
        found.score_values.update(v.strip() for v in e.cells[col] if v.strip())
    return True


def _option_block_lines(ctx: _GroupContext, block: list[int], q: str, used: set[int], found: _Findings) -> list[str]:
    """YAML lines of a block of option columns: last year's multi-select it matches, else each column on its own."""
    e = ctx.e
    spec, r = _best(q, [c.header for c in ctx.prev_cols if c.kind == "attribute"])
    c = next((x for x in ctx.prev_cols if x.header == spec), None) if spec and r >= FUZZY else None
    if c is not None:
        labels = [e.sublabels[col] for col in block]
        return _attribute_lines(c, q, labels, r, found.checks, found.unmatched, e.file, multi=True)
    lines = []
    for col in block:
        lines += _other_lines(ctx, col, used, found)
    return lines


def _separator_and_time_lines(prev: Codebook, lay: Layout, layout: str, found: _Findings) -> list[str]:
    """``multi_select_separator`` (only when it differs from the layout's) and ``timestamp_format`` lines."""
    out = []
    sep = lay.multi_select_separator
    if found.sep_votes:
        best_sep = max(found.sep_votes, key=found.sep_votes.get)
        if best_sep != sep:
            sep = best_sep
            out.append(f"multi_select_separator: {_yq(sep)}   # CHECK: detected from the multi-select answers")
            found.checks.append(f"multi_select_separator {sep!r}: detected from the multi-select answers")
    elif prev.multi_select_separator != lay.multi_select_separator and layout == "default":
        out.append(f"multi_select_separator: {_yq(prev.multi_select_separator)}")
    fmt, fmt_note = _timestamp_format(found.ts_values, prev.timestamp_format)
    out.append(f"timestamp_format: {_yq(fmt)}" + (f"   # CHECK: {fmt_note}" if fmt_note else ""))
    if fmt_note:
        found.checks.append(f"timestamp_format {fmt!r}: {fmt_note}")
    out.append("")
    return out


def _score_label_lines(prev: Codebook, found: _Findings) -> list[str]:
    """``score_labels:``: last year's labels, then each new label seen in the ratings with its guessed score."""
    out = ["score_labels:"]
    seen_scores = set()
    for label, code in prev._raw_score_labels.items():
        out.append(f"  {_yq(label)}: {code}")
        seen_scores.add(normalise(label))
    for v in sorted(found.score_values):
        if normalise(v) in seen_scores:
            continue
        code, why = _score_code(v, prev)
        seen_scores.add(normalise(v))
        if code is None:
            out.append(f"  # NOT MATCHED: answer label {_yq(v)}: add it here with its score (1-4 or no_contact)")
            found.unmatched.append(f"score label {v!r}: add it under score_labels with its score")
        else:
            out.append(f"  {_yq(v)}: {code}   # CHECK: {why}")
            found.checks.append(f"score label {v!r} -> {code}: {why}")
    return out


def _status_label_lines(prev: Codebook, lay: Layout, found: _Findings) -> list[str]:
    """``status_labels:``: last year's (those the layout does not bring), then each new status with its guess."""
    status_lines = []
    for v in sorted(found.status_values):
        n = normalise(v)
        if n in prev.status_labels or n in {normalise(k) for k in lay.status_labels}:
            continue
        code = next((c for c, words in STATUS_WORDS.items() if n in words), None)
        if code is None:
            best, r = _best(v, list(prev._raw_status_labels))
            code = prev._raw_status_labels[best] if best and r >= FUZZY else None
        if code is None:
            status_lines.append(f"  {_yq(v)}: complete   # CHECK: not a known status label: complete, partial or test?")
            found.checks.append(f"status label {v!r}: complete, partial or test?")
        else:
            status_lines.append(f"  {_yq(v)}: {code}   # CHECK: read as {code}")
            found.checks.append(f"status label {v!r} -> {code}")
    if not (prev._raw_status_labels or status_lines):
        return []
    out = ["", "status_labels:"]
    out += [
        f"  {_yq(label)}: {code}" for label, code in prev._raw_status_labels.items() if label not in lay.status_labels
    ]
    return out + status_lines


def _department_lines(prev: Codebook, found: _Findings) -> list[str]:
    """``departments:``: each department label found, matched to one of last year's ids (:func:`_match_departments`)."""
    out = ["", "departments:"]
    ids_done = set()
    dep_found = _match_departments(list(found.dep_found), prev)
    for label, (dep, why) in dep_found.items():
        if not dep:
            out.append(f"  # NOT MATCHED: department {_yq(label)}: map it to a department id")
            found.unmatched.append(f"department {label!r}: map it to a department id under departments")
        elif dep in ids_done:
            out.append(f"  # NOT MATCHED: department {_yq(label)} also looks like {dep}: map it to its own id")
            found.unmatched.append(f"department {label!r}: looks like {dep}, already mapped")
        else:
            ids_done.add(dep)
            out.append(f"  {_yq(label)}: {dep}" + (f"   # CHECK: {why}" if why else ""))
            if why:
                found.checks.append(f"department {label!r} -> {dep}: {why}")
    if not dep_found:
        out += [
            f"  {_yq(label)}: {dep}   # CHECK: no department found in the export; last year's kept"
            for label, dep in prev.departments.items()
        ]
    return out


def _question_lines(prev: Codebook, found: _Findings) -> list[str]:
    """``questions:``: the wording found in the export, else last year's (listed as not matched)."""
    out = ["", "questions:"]
    for q in QUESTIONS:
        text, why = found.q_found.get(q, (prev.questions[q], "not found in the export; last year's wording kept"))
        out.append(f"  {q}: {_yq(text)}" + (f"   # CHECK: {why}" if why else ""))
        if why:
            (found.checks if q in found.q_found else found.unmatched).append(f"question {q}: {why}")
    return out


def _rating_header_lines(exports: dict[str, _Export], prev: Codebook, lay: Layout, found: _Findings) -> list[str]:
    """``rating_header:``: last year's template, the one read off the export, or the layout's sub-label join."""
    out = ["", "rating_header:"]
    for g in exports:
        template, why = found.templates.get(g, (prev.rating_header[g], ""))
        if lay.sublabel_row and "{department}" in template:
            template = lay.header_join.replace("{sublabel}", "{department}")
        out.append(f"  {g}: {_yq(template)}" + (f"   # CHECK: {why}" if why else ""))
    return out


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", normalise(text))) - {"the", "and", "of", "aka", "team", "officers"}


def _match_departments(labels: list[str], prev: Codebook) -> dict[str, tuple[str, str]]:
    """This year's department labels -> (id, note): exact, then close, then the closest of the ids left.

    The departments are a closed set (one rating column each), so once the
    exact and close matches are taken, each remaining label goes to the
    remaining id whose label shares most words or characters with it
    (greedy, best pair first) - always marked for confirmation.
    """
    out: dict[str, tuple[str, str]] = {}
    free = dict(prev.departments)  # label -> id, of last year's not yet taken
    for lab in labels:
        best, r = _best(lab, list(free))
        if best and r == 1.0:
            out[lab] = (free.pop(best), "")
    for lab in labels:
        if lab in out:
            continue
        best, r = _best(lab, list(free))
        if best and r >= FUZZY:
            out[lab] = (free.pop(best), f"close to last year's {best!r}")

    def score(a: str, b: str) -> float:
        wa, wb = _words(a), _words(b)
        overlap = len(wa & wb) / max(min(len(wa), len(wb)), 1)
        return max(_ratio(a, b), overlap)

    pairs = sorted(((score(lab, old), lab, old) for lab in labels if lab not in out for old in free), reverse=True)
    for sc, lab, old in pairs:
        if lab in out or old not in free or sc < 0.5:
            continue
        out[lab] = (free.pop(old), f"the closest of last year's departments left: {old!r}")
    return {lab: out.get(lab, ("", "")) for lab in labels}


def _attribute_lines(c, header: str, labels: list[str], r: float, checks, unmatched, fname, multi: bool) -> list[str]:
    """YAML lines of an attribute column: labels matched to last year's categories."""
    lines = [
        f"    - header: {_yq(header)}" + ("" if r == 1.0 else f"   # CHECK: close to last year's {c.header!r}"),
        "      kind: attribute",
        f"      attribute: {c.attribute}",
    ]
    if r != 1.0:
        checks.append(f"{fname}: column {header!r} read as last year's {c.header!r}")
    if multi or c.multi:
        lines.append("      multi: true")
    lines.append("      categories:")
    seen = set()
    for lab in labels:
        if normalise(lab) in seen:
            continue
        seen.add(normalise(lab))
        best, rr = _best(lab, list(c.categories))
        if best and rr == 1.0:
            lines.append(f"        {_yq(lab)}: {_yq(c.categories[best])}")
        elif best and rr >= FUZZY:
            lines.append(f"        {_yq(lab)}: {_yq(c.categories[best])}   # CHECK: close to last year's {best!r}")
            checks.append(f"{fname}: {c.attribute} option {lab!r} -> {c.categories[best]!r}")
        else:
            lines.append(f"        {_yq(lab)}: {_yq(lab)}   # CHECK: a new {c.attribute} option (not in last year's)")
            checks.append(f"{fname}: new {c.attribute} option {lab!r}")
    return lines


def _split_votes(values: list[str], c, sep_votes: dict[str, int]) -> list[str]:
    """The labels in a multi-select column, and a vote for the separator that splits them into known options."""
    known = {normalise(k) for k in c.categories}
    best, best_hits = ";", -1
    for s in (";", ",", "|", "/"):
        parts = [normalise(p) for v in values for p in v.split(s) if p.strip()]
        hits = sum(p in known or p.isdigit() for p in parts) - sum(not (p in known or p.isdigit()) for p in parts)
        if hits > best_hits:
            best, best_hits = s, hits
    if any(best in v for v in values):
        sep_votes[best] = sep_votes.get(best, 0) + 1
    return [p.strip() for v in values for p in v.split(best) if p.strip()]


def _other_lines(ctx: _GroupContext, col: int, used: set, found: _Findings) -> list[str]:
    """YAML lines of one non-rating column: last year's entry, a tool's metadata name, or a fuzzy guess."""
    e, prev_cols = ctx.e, ctx.prev_cols
    checks, unmatched, sep_votes = found.checks, found.unmatched, found.sep_votes
    ts_values, status_values = found.ts_values, found.status_values
    h = e.headers[col]
    values = e.cells[col]
    prev_headers = [c.header for c in prev_cols]
    best, r = _best(h, prev_headers)
    c = next((x for i, x in enumerate(prev_cols) if x.header == best and i not in used), None) if best else None
    kind = None
    why = ""
    if c is not None and r == 1.0:
        kind = c.kind
    else:
        n = normalise(h)
        alias = next((k for k, names in ALIASES.items() if n in names), None)
        if alias:
            kind = alias
            c = None
            if alias in ("id", "timestamp", "status", "key"):
                c = next((x for x in prev_cols if x.kind == alias), None)
            tool = PRESETS[e.layout]["tool"] if e.layout != "default" else "survey tool"
            why = f"a {tool} metadata column, read as kind: {alias}"
            if normalise(h) == "collector id" and len({v for v in values if v.strip()}) > 1:
                kind, why = (
                    "status",
                    ("several collectors: if one collected test responses, map its id to test under status_labels"),
                )
        elif c is not None and r >= FUZZY:
            kind = c.kind
            why = f"close to last year's {c.header!r} ({r:.0%})"
        else:
            c = None
    if c is not None:
        used.add(prev_cols.index(c))
    if kind is None:
        unmatched.append(f"{e.file}: column {h!r}: not in last year's codebook (written as kind: ignore)")
        return [f"    - {{header: {_yq(h)}, kind: ignore}}   # NOT MATCHED: new column; give it a kind if it is needed"]
    if why:
        checks.append(f"{e.file}: column {h!r}: {why}")
    tail = f"   # CHECK: {why}" if why else ""
    if kind == "timestamp":
        ts_values.extend(values)
    if kind == "status":
        status_values.update(v.strip() for v in values if v.strip())
    if kind == "attribute" and c is not None:
        labels = _split_votes(values, c, sep_votes) if c.multi else [v.strip() for v in values if v.strip()]
        known = {normalise(k) for k in c.categories}
        if (
            labels
            and all(p.isdigit() for p in labels)
            and not any(normalise(p) in known for p in labels)
            and max(int(p) for p in labels) <= len(c.categories)
        ):
            # numeric codes: guess last year's options in order (1 = the first), marked for confirmation
            opts = list(c.categories)
            lines = _attribute_lines(c, h, opts, r, checks, unmatched, e.file, multi=False)
            lines.insert(-len(opts) - 1, "      codes:   # CHECK: numeric codes read as last year's options in order")
            for k, o in enumerate(opts, 1):
                lines.insert(-len(opts) - 1, f"        {k}: {_yq(o)}")
            checks.append(f"{e.file}: column {h!r}: numeric codes 1..{len(opts)} read as last year's options in order")
            return lines
        lines = _attribute_lines(c, h, labels, r, checks, unmatched, e.file, multi=False)
        return lines
    extra = f", field: {c.field}" if kind == "comment" and c is not None and c.field else ""
    return [f"    - {{header: {_yq(h)}, kind: {kind}{extra}}}{tail}"]


def validate_draft(codebook_path: Path, folder: Path, year: int):
    """Validate the draft against the export: (problems table, warnings), as ``python -m rmlib validate`` would."""
    from .clean import read_and_validate
    from .params import validate

    params = validate(
        {"year": year, "compare_year": None, "codebook": str(codebook_path), "raw_dir": str(folder)},
        source="draft-codebook",
    )
    validated, problems = read_and_validate(params)
    warnings = [n for v in validated for n in v.notes if ": warning: " in n]
    return problems, warnings


def run_draft(
    folder: str | Path,
    previous: str | Path,
    out: str | Path | None = None,
    force: bool = False,
    year: int | None = None,
) -> int:
    """The ``draft-codebook`` command: draft, write, list what to check, validate. Returns the exit code."""
    from .clean import format_problem
    from .paths import resolve

    folder = resolve(folder)
    draft = draft_codebook(folder, resolve(previous), year)
    year = int(re.search(r"^year: (\d+)", draft.yaml, re.M).group(1))
    target = resolve(out) if out else resolve(f"params/codebooks/{year}.yaml")
    if target.exists() and not force:
        raise DraftError(f"{target} exists; not overwritten (use --force to replace it, or --out for another file)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.yaml, encoding="utf-8")
    print(f"wrote {target} (layout: {draft.layout})")
    print(f"{len(draft.checks)} guess(es) to confirm (marked '# CHECK:'):")
    for c in draft.checks:
        print(f"  - {c}")
    if draft.unmatched:
        print(f"{len(draft.unmatched)} thing(s) not matched (marked '# NOT MATCHED:'):")
        for u in draft.unmatched:
            print(f"  - {u}")
    problems, warnings = validate_draft(target, folder, year)
    for wmsg in warnings:
        print(wmsg)
    if problems.empty:
        print("validate: no problems found")
        return 0
    print(f"validate: {len(problems)} problem(s):")
    print("\n".join(format_problem(p) for p in problems.to_dict("records")))
    return 1
