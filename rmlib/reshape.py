"""Read one group's export in its codebook's layout: one header per column, one answer text per cell.

:mod:`rmlib.layouts` says what a survey tool's layout is (header rows,
option columns, codes); :func:`read_group` applies it to an export read
exactly as the tool wrote it (:mod:`rmlib.io`: never modified, the same
bytes are hashed) and gives the one-header-per-column text frame the
validator checks: a header composed from the header rows, option columns
combined into one cell joined by the codebook's separator, codes replaced by
their labels. Row numbers stay those of the raw file, so every message still
points at the row a researcher sees in Excel.

Kept apart from :mod:`rmlib.layouts` so that imports inside the ingest layer
point one way: layouts <- codebook; io; then this module (it uses both) <- clean.
The parsing itself is :mod:`csv`, openpyxl and pyreadstat (via :mod:`rmlib.io`).
"""

from __future__ import annotations

from pathlib import Path

from .io import ExportReadError, _unique_names, read_export, read_sav
from .layouts import compose_headers, option_of, strip_suffixes
from .wording import normalise


def read_group(path: str | Path, codebook, group: str):
    """Read one group's export in the codebook's layout; return a :class:`rmlib.io.RawExport` the validator checks.

    The file is read once, exactly as exported (CSV, XLSX or ``.sav``); the
    returned frame has one column per codebook header, each cell the answer
    text: option columns combined, codes replaced by labels.
    """
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

        raw = read_export(
            path,
            skip_rows=spec.skip_rows,
            encoding=spec.encoding,
            delimiter=spec.delimiter,
            sheet=spec.sheet,
            expected=codebook.expected_headers(group),
            header_rows=lay.header_rows,
            compose=compose,
        )
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
    if raw.data.empty:
        return
    first = raw.data.iloc[0].drop(labels="raw_row").astype(str).tolist()
    row = int(raw.data["raw_row"].iloc[0])
    plain = sum(normalise(c) in ("response", "open-ended response") for c in first)
    if plain >= 2:
        what = (
            f"row {row} holds sub-labels ('Response', 'Open-Ended Response', ...), not answers: this is a "
            "SurveyMonkey-style export with two header rows; set layout: surveymonkey in "
            f"{codebook.path.name} (layout: smartsurvey for SmartSurvey)"
        )
        raise ExportReadError(what, [{"row": row, "column": "", "value": "", "problem": what}])
    later = raw.data.iloc[1].drop(labels="raw_row").astype(str).tolist() if len(raw.data) > 1 else []
    if any(c.lstrip().startswith('{"ImportId"') for c in first + later):
        what = (
            f"rows {row}-{row + 1} are header rows (question texts, ImportId): this is a Qualtrics export with "
            f"three header rows; set layout: qualtrics in {codebook.path.name}"
        )
        raise ExportReadError(what, [{"row": row, "column": "", "value": "", "problem": what}])


def _rename(raw, headers: list[str]) -> None:
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
        raw.notes.append(
            f"{spec.header!r}: {len(opts)} option columns ({', '.join(o for _, o in opts)}) read as one multi-select"
        )


def apply_codes(raw, codebook, group: str) -> None:
    """Replace numeric codes by their labels in columns that declare ``codes:`` (in place); unknown codes kept."""
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
