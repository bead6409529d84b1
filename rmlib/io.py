"""Reading survey exports, sha256 manifests and atomic writes.

Raw exports are read as text, exactly as the survey tool wrote them: every
cell a string, blank cells "", and each data row tagged with the row number
it has in the raw file as a spreadsheet shows it (``raw_row``: title rows and
the header row count; a cell holding a line break does not start a new row),
so that an error can point a researcher at the right row in Excel.

Reading never guesses silently. UTF-8 with or without a byte-order mark and
cp1252 (Excel on Windows) are detected and the choice is noted; a delimiter
other than the declared one, a header row that is not where ``skip_rows``
says, ragged rows (a truncated file), unterminated quotes and binary content
are errors that say what to fix. SPSS ``.sav`` exports are read with
pyreadstat (:func:`read_sav`), value labels applied. Reshaping a tool's layout
(several header rows, option columns, codes) is :mod:`rmlib.reshape` (the layouts themselves: :mod:`rmlib.layouts`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd

from .wording import normalise

MANIFEST = "MANIFEST.sha256"
_BOM = b"\xef\xbb\xbf"
#: file types a raw folder's manifest records
DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt", ".tsv", ".sav")
#: delimiters tried when the declared one does not split the header row
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAME = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}
#: how many rows are searched for the header row when skip_rows looks wrong
_HEADER_SEARCH_ROWS = 30


class ExportReadError(ValueError):
    """A raw export cannot be read (empty, binary, truncated, wrong delimiter or header row).

    ``problems`` holds one entry per problem found, each a dict with ``row``,
    ``column``, ``value`` and ``problem`` (row as numbered in the raw file, or
    "" when the problem is with the whole file).
    """

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.problems = problems or [{"row": "", "column": "", "value": "", "problem": message}]


@dataclass
class RawExport:
    """A raw export as text: ``data`` has one column per raw header plus ``raw_row``.

    Column names in ``data`` are the raw header texts; a blank or repeated
    header is named ``"(column F)"`` or ``"<header> (column F)"`` so that
    every column stays addressable (``headers`` keeps the texts as read).
    """

    path: Path
    data: pd.DataFrame
    headers: list[str]
    encoding: str
    delimiter: str
    notes: list[str]
    sha256: str = ""  # of the exact bytes parsed
    header_row: int = 1  # row number of the header row in the raw file
    blank_rows: list[int] = field(default_factory=list)  # rows after the header with no content at all
    columns: list[str] = field(default_factory=list)  # names of the data columns, position by position


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 27 -> AB)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


# ----------------------------------------------------------------------------- hashing
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    out, bad = {}, []
    for k, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(maxsplit=1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            bad.append(f"line {k} is not '<sha256>  <file name>': {line.strip()[:80]!r}")
            continue
        out[parts[1].lstrip("*")] = digest
    return out, bad


def read_manifest(folder: Path) -> dict[str, str]:
    """``MANIFEST.sha256`` of a folder as {file name: sha256} (``sha256sum`` format; {} if absent)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    return _parse_manifest(path.read_text(encoding="utf-8", errors="replace"))[0]


def manifest_command(folder: Path) -> str:
    """The command that re-records ``folder``'s manifest, with a path relative to the repository root."""
    from .paths import repo_root

    folder = Path(folder)
    try:
        shown = folder.resolve().relative_to(repo_root())
    except (ValueError, RuntimeError):
        shown = folder
    return f"python -m rmlib manifest {shown}"


def write_manifest(folder: Path, names: list[str] | None = None) -> Path:
    """Record the sha256 of every data file in ``folder`` (deliberately: raw data changed)."""
    folder = Path(folder)
    if names is None:
        names = sorted(
            p.name
            for p in folder.iterdir()
            if p.is_file() and p.name != MANIFEST and not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES
        )
    text = "".join(f"{sha256_file(folder / n)}  {n}\n" for n in names)
    atomic_write_text(folder / MANIFEST, text)
    return folder / MANIFEST


def manifest_problems(folder: Path, names: list[str]) -> list[tuple[str, str]]:
    """(file name, problem) for each way the named raw files disagree with the folder's manifest.

    The file name is ``MANIFEST.sha256`` itself when the manifest is missing or malformed.
    """
    folder = Path(folder)
    fix = f"if the change is deliberate, re-record the manifest with: {manifest_command(folder)}"
    path = folder / MANIFEST
    if not path.is_file():
        return [
            (
                MANIFEST,
                f"{MANIFEST} is missing from {folder.name}/: the raw files cannot be checked; once you "
                f"are sure they are the survey tool's exports, record it with: {manifest_command(folder)}",
            )
        ]
    manifest, bad = _parse_manifest(path.read_text(encoding="utf-8", errors="replace"))
    problems = [(MANIFEST, f"{MANIFEST}: {b}; {fix}") for b in bad]
    for name in names:
        if name not in manifest:
            problems.append((name, f"{name} is not listed in {MANIFEST}; {fix}"))
        elif not (folder / name).is_file():
            problems.append((name, f"{name} is listed in {MANIFEST} but missing from the folder"))
        elif sha256_file(folder / name) != manifest[name]:
            problems.append((name, f"{name} has changed since {MANIFEST} was recorded (sha256 differs); {fix}"))
    return problems


def verify_manifest(folder: Path, names: list[str]) -> list[str]:
    """Problems found comparing the named raw files with the folder's manifest ([] if all match)."""
    return [msg for _, msg in manifest_problems(folder, names)]


# ----------------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def staged_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Build a whole folder in a staging folder, then swap it in for ``target``.

    If the block raises, ``target`` is left exactly as it was and the staging
    folder is removed: a failed run never leaves a mix of old and new files.
    The swap is one atomic exchange where the system has it (Linux
    ``renameat2``), so ``target`` is never missing, not even for an instant;
    elsewhere it is two renames. (The pipeline stages whole runs with
    :mod:`rmlib.transaction`; this is for a single folder.)
    """
    from .transaction import exchange

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if target.is_dir() and not target.is_symlink() and exchange(stage, target):
        shutil.rmtree(stage, ignore_errors=True)  # now holds the old folder
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    moved = False
    try:
        if target.exists():
            os.replace(target, old)
            moved = True
        os.replace(stage, target)
    except BaseException:
        if moved and not target.exists():
            os.replace(old, target)  # put the last good folder back
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def staging_target(path: str | os.PathLike) -> Path:
    """The folder a staging folder will become (any other path unchanged).

    Knows the pipeline's staging folders (``.<name>.staging``, and the
    redirection it gives its kernels, see :func:`rmlib.paths.staged`) and
    :func:`staged_dir`'s (``.<name>.staging-<8 hex digits>``).

    >>> staging_target("/x/outputs/.2018.staging-0a1b2c3d")
    PosixPath('/x/outputs/2018')
    >>> staging_target("/x/outputs/.2018.staging")
    PosixPath('/x/outputs/2018')
    """
    import json

    from .paths import REDIRECT_ENV

    path = Path(path)
    spec = os.environ.get(REDIRECT_ENV)
    if spec:
        for final, stage in json.loads(spec).items():
            s = Path(stage)
            if path == s or s in path.parents:
                return Path(final) / path.relative_to(s)
    m = re.fullmatch(r"\.(.+)\.staging(?:-[0-9a-f]{8})?", path.name)
    return path.parent / m.group(1) if m else path


# ----------------------------------------------------------------------------- reading exports
def decode(data: bytes, encoding: str, path: Path) -> tuple[str, str, list[str]]:
    """Decode raw bytes; ``auto`` means UTF-8 (BOM or not), else cp1252 - and says which."""
    notes: list[str] = []
    if encoding != "auto":
        if data.startswith(_BOM) and encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
            data, encoding = data[len(_BOM) :], "utf-8-sig"
            notes.append("UTF-8 with byte-order mark")
        try:
            return data.decode(encoding), encoding, notes
        except UnicodeDecodeError as exc:
            raise ExportReadError(
                f"cannot be decoded as {encoding} (declared in the codebook): "
                f"byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}; "
                "set encoding: auto to detect UTF-8 or cp1252"
            ) from exc
    if data.startswith(_BOM):
        try:
            return data[len(_BOM) :].decode("utf-8"), "utf-8-sig", ["UTF-8 with byte-order mark"]
        except UnicodeDecodeError as exc:
            raise ExportReadError(
                f"starts with a UTF-8 byte-order mark but is not valid UTF-8 "
                f"(byte {data[exc.start + 3 : exc.start + 4]!r} at offset {exc.start + 3})"
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ExportReadError(
            f"neither UTF-8 nor cp1252 (byte {data[exc.start : exc.start + 1]!r} at offset "
            f"{exc.start}): is this really a CSV export?"
        ) from exc
    notes.append(
        f"not valid UTF-8 (byte {data[first_bad : first_bad + 1]!r} at offset {first_bad}); "
        "decoded as cp1252 (Windows Excel)"
    )
    return text, "cp1252", notes


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:65536]


def _control_chars(text: str) -> int:
    return sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n")


def _parse_csv(text: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    last_line = 0
    try:
        for row in reader:
            rows.append(row)
            last_line = reader.line_num
    except csv.Error as exc:
        where = len(rows) + 1
        what = (
            "an unterminated quoted cell: the file is probably truncated"
            if "unexpected end of data" in str(exc)
            else f"malformed CSV ({exc})"
        )
        raise ExportReadError(
            f"row {where}: {what}",
            [
                {
                    "row": where,
                    "column": "",
                    "value": "",
                    "problem": f"{what} (the row starts at line {last_line + 1} of the file)",
                }
            ],
        ) from exc
    return rows


def _cell_text(value) -> str:
    """An XLSX cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, sheet: str | int | None) -> tuple[list[list[str]], list[str]]:
    import openpyxl

    notes = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ExportReadError(
            f"cannot be read as an XLSX workbook ({type(exc).__name__}: {exc}); the file may be damaged or truncated"
        ) from exc
    names = wb.sheetnames
    if sheet is None:
        ws = wb.worksheets[0]
        if len(names) > 1:
            notes.append(
                f"workbook has {len(names)} sheets {names}; read the first, {names[0]!r} "
                "(set sheet: in the codebook to choose)"
            )
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ExportReadError(f"has no sheet number {sheet} (sheets: {names})")
        ws = wb.worksheets[sheet]
    else:
        if sheet not in names:
            raise ExportReadError(f"has no sheet {sheet!r} (sheets: {names})")
        ws = wb[sheet]
    merged = [str(r) for r in ws.merged_cells.ranges]
    if merged:
        notes.append(
            f"sheet {ws.title!r} has merged cells ({', '.join(merged[:3])}{', ...' if len(merged) > 3 else ''}); "
            "their value is read from the top-left cell"
        )
    rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row, values_only=True)]
    # trailing blank cells of a row are not fields: trim them so widths compare like a CSV's
    trimmed = []
    for row in rows:
        while row and row[-1] == "":
            row = row[:-1]
        trimmed.append(row)
    return trimmed, notes


def _matches(row: list[str], expected: set[str]) -> int:
    return sum(1 for cell in row if normalise(cell) in expected)


def _choose_delimiter(text: str, declared: str, expected: set[str] | None, skip_rows: int) -> tuple[str, list[str]]:
    """The delimiter to parse with; an error if the declared one clearly is not the file's."""
    lines = text.splitlines()
    probe = lines[skip_rows] if len(lines) > skip_rows else ""
    window = lines[: skip_rows + 3]

    def score(d: str) -> tuple[int, int]:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(window)), delimiter=d))
        except csv.Error:
            return (0, 0)
        hits = max((_matches(r, expected) for r in rows), default=0) if expected else 0
        return (hits, len(next(csv.reader([probe], delimiter=d), [])) if probe else 0)

    scores = {d: score(d) for d in CANDIDATE_DELIMITERS}
    best = max(CANDIDATE_DELIMITERS, key=lambda d: scores[d])
    if declared == "auto":
        if scores[best][0] == 0 and scores[best][1] <= 1:
            return ",", []
        return best, [f"delimiter detected: {_DELIM_NAME[best]}"]
    d_hits, d_width = scores[declared]
    b_hits, b_width = scores[best]
    clearly_other = (b_hits > max(2, 2 * d_hits)) if expected else (d_width <= 1 and b_width >= 3)
    if best != declared and clearly_other:
        yaml_value = "\\t" if best == "\t" else best
        what = (
            f"columns separated by {_DELIM_NAME[best]}, but the codebook declares "
            f'{_DELIM_NAME.get(declared, repr(declared))}: set delimiter: "{yaml_value}" (or auto) '
            "for this file in the codebook"
        )
        raise ExportReadError(
            f"the columns are separated by {_DELIM_NAME[best]}, not the "
            f"{_DELIM_NAME.get(declared, repr(declared))} the codebook declares: "
            f'set delimiter: "{yaml_value}" (or auto) for this file in the codebook',
            [{"row": skip_rows + 1, "column": "", "value": probe[:60], "problem": what}],
        )
    return declared, []


def read_export(
    path: str | os.PathLike,
    skip_rows: int = 0,
    encoding: str = "auto",
    delimiter: str = ",",
    sheet: str | int | None = None,
    expected: list[str] | None = None,
    header_rows: int = 1,
    compose=None,
) -> RawExport:
    """Read one raw export (CSV or XLSX) as text, tagging each data row with its raw row number.

    Parameters
    ----------
    path : the export; opened read-only, read once, never written.
    skip_rows : title rows before the header row (declared in the codebook).
    encoding : ``auto`` (UTF-8 with or without BOM, else cp1252; noted) or a codec name.
    delimiter : ``,`` ``;`` ``\\t`` ``|`` or ``auto`` (detected and noted). A declared
        delimiter that clearly is not the file's is an error naming the right one.
    sheet : XLSX sheet name or 0-based number (default: the first).
    expected : the headers the codebook expects, if known: used only to tell
        whether ``skip_rows`` points at the real header row (an error names
        the row where the headers actually are) and to recognise a delimiter.
    header_rows : how many rows make up the header (SurveyMonkey writes 2, Qualtrics 3);
        data rows start after them and keep their raw row numbers.
    compose : for several header rows, a function turning them (a list of
        rows, each padded to the same width) into one header per column
        (see :mod:`rmlib.layouts`); by default the single header row is used.

    Raises
    ------
    ExportReadError : the file cannot be read as an export; ``problems`` lists each problem.

    Examples
    --------
    >>> raw = read_export("data/raw/2018/officer_survey_2018.csv", skip_rows=1)   # doctest: +SKIP
    >>> raw.notes, raw.data["raw_row"].iloc[0]                                      # doctest: +SKIP
    (['UTF-8 with byte-order mark'], 3)
    """
    path = Path(path)
    data, digest = _read_once(path)
    expected_norm = {normalise(e) for e in expected} if expected else None
    rows, enc, delim, notes = _parse_rows(path, data, encoding, delimiter, sheet, expected_norm, skip_rows)
    if len(rows) <= skip_rows:
        raise ExportReadError(
            f"has {len(rows)} row(s) but the codebook (skip_rows: {skip_rows}) says the header "
            f"is on row {skip_rows + 1}"
        )
    if expected_norm and header_rows == 1:
        _check_header_row(rows, skip_rows, expected_norm)
    header = _header(rows, skip_rows, header_rows, compose)
    records, raw_rows, blank, row_notes = _data_rows(
        rows[skip_rows + header_rows :], skip_rows + header_rows + 1, header, pad=enc == "xlsx"
    )
    notes += row_notes
    names = _unique_names(header)  # blank and repeated headers get their column letter
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object).fillna("").astype(str)
    frame.columns = names
    frame.insert(0, "raw_row", pd.Series(raw_rows, dtype="int64"))
    return RawExport(
        path=path,
        data=frame,
        headers=header,
        encoding=enc,
        delimiter=delim,
        notes=notes,
        sha256=digest,
        header_row=skip_rows + header_rows,
        blank_rows=blank,
        columns=names,
    )


def _read_once(path: Path) -> tuple[bytes, str]:
    """The export's bytes and their sha256, read once and read-only (what is parsed is what is hashed)."""
    if not path.is_file():
        raise ExportReadError("file not found")
    with open(path, "rb") as fh:
        data = fh.read()
    digest = sha256_bytes(data)
    if not data.strip(b" \t\r\n" + _BOM):
        raise ExportReadError(f"the file is empty ({len(data)} bytes): re-export it from the survey tool")
    return data, digest


def _parse_rows(
    path: Path, data: bytes, encoding: str, delimiter: str, sheet, expected_norm: set[str] | None, skip_rows: int
) -> tuple[list[list[str]], str, str, list[str]]:
    """An XLSX workbook's or a CSV's rows as text -> (rows, encoding, delimiter, notes).

    A file whose bytes are not what its name says (a zip named .csv, a CSV
    named .xlsx, binary content, the old .xls) is an error saying what to do.
    """
    is_zip = data.startswith(b"PK\x03\x04")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not is_zip:
            raise ExportReadError("not an XLSX workbook (no zip signature): the file is damaged or not really XLSX")
        rows, notes = _read_xlsx(data, sheet)
        return rows, "xlsx", "", notes
    if path.suffix.lower() == ".xls":
        raise ExportReadError("old Excel .xls files are not read: open it in Excel and save as .xlsx or CSV")
    if is_zip:
        raise ExportReadError(
            "is a zip archive (an XLSX workbook?) but named as a CSV: rename it to .xlsx "
            "and update the codebook, or export as CSV"
        )
    if _looks_binary(data):
        raise ExportReadError("contains NUL bytes: this is a binary file, not a CSV export")
    text, enc, notes = decode(data, encoding, path)
    if _control_chars(text) > 5:
        raise ExportReadError(
            f"contains {_control_chars(text)} control characters: this is a binary file, not a CSV export"
        )
    if not text.strip():
        raise ExportReadError("the file is empty: re-export it from the survey tool")
    delim, d_notes = _choose_delimiter(text, delimiter, expected_norm, skip_rows)
    return _parse_csv(text, delim), enc, delim, notes + d_notes


def _check_header_row(rows: list[list[str]], skip_rows: int, expected_norm: set[str]) -> None:
    """Refuse a ``skip_rows`` that misses the header row, naming the row that holds the codebook's headers.

    Looks at the first rows for the one with most codebook headers; when it is
    not row ``skip_rows + 1`` (and that row has fewer than half of them), the
    error says which ``skip_rows`` to set - or, with an ImportId row under
    it, that the export is Qualtrics'. Only one cell of the wrong row is
    shown: a data row holds personal data.
    """
    hits = [_matches(r, expected_norm) for r in rows[:_HEADER_SEARCH_ROWS]]
    best = max(range(len(hits)), key=lambda i: (hits[i], -i))
    if not (hits[best] > hits[skip_rows] and hits[skip_rows] < len(expected_norm) / 2):
        return
    found = (
        f"row {skip_rows + 1} is not the header row: the column headers are on row {best + 1} "
        f"({hits[best]} of {len(expected_norm)} codebook headers found there); "
        f"set skip_rows: {best} for this file in the codebook"
    )
    below = next((c for c in rows[best + 1] if c.strip()), "") if len(rows) > best + 1 else ""
    if best >= 1 and below.lstrip().startswith('{"ImportId"'):
        found = (
            f"rows {best}-{best + 2} are header rows (short names, question texts, ImportId): this is a "
            f"Qualtrics export; set layout: qualtrics and skip_rows: {best - 1} in the codebook"
        )
    first = next((c for c in rows[skip_rows] if c.strip()), "")
    raise ExportReadError(
        found, [{"row": skip_rows + 1, "column": "", "value": first[:60] if skip_rows < best else "", "problem": found}]
    )


def _header(rows: list[list[str]], skip_rows: int, header_rows: int, compose) -> list[str]:
    """One header per column: the header row, or ``compose`` of the header rows (padded to one width)."""
    if len(rows) < skip_rows + header_rows:
        raise ExportReadError(
            f"has {len(rows)} row(s) but the codebook's layout needs {header_rows} header row(s) "
            f"after skip_rows: {skip_rows}"
        )
    if header_rows == 1 and compose is None:
        header = [h.strip() for h in rows[skip_rows]]
    else:
        block = rows[skip_rows : skip_rows + header_rows]
        w = max(len(r) for r in block)
        block = [list(r) + [""] * (w - len(r)) for r in block]
        header = [h.strip() for h in (compose(block) if compose else block[-1])]
    if not any(header):
        what = "should hold the column headers but is blank (check skip_rows in the codebook)"
        raise ExportReadError(
            f"row {skip_rows + 1} {what}", [{"row": skip_rows + 1, "column": "", "value": "", "problem": what}]
        )
    return header


def _data_rows(
    rows: list[list[str]], first_line: int, header: list[str], pad: bool
) -> tuple[list[list[str]], list[int], list[int], list[str]]:
    """The rows after the header -> (records, their raw row numbers, blank rows' numbers, notes).

    Blank rows are set aside (logged, not responses); trailing empty cells
    beyond the header's width are dropped (noted); with ``pad`` (a sheet row
    ends at its last non-blank cell) short rows are padded. Any other row
    whose width differs from the header's is a problem, all listed in one
    error, without cell values (the cells of a broken row may be personal).
    """
    width = len(header)
    records, raw_rows, blank, problems = [], [], [], []
    widened = 0
    for i, row in enumerate(rows):
        line = first_line + i
        if not any(cell.strip() for cell in row):
            blank.append(line)
            continue
        if pad and len(row) < width:
            row = row + [""] * (width - len(row))
        if len(row) > width and not any(c.strip() for c in row[width:]):
            row = row[:width]  # trailing empty cells (e.g. a spreadsheet's stray commas): nothing lost
            widened += 1
        if len(row) != width:
            last = f" (the last one read is column {column_letter(len(row) - 1)})" if len(row) < width else ""
            problems.append(
                {
                    "row": line,
                    "column": header[len(row) - 1] if len(row) <= width else "",
                    "value": "",
                    "problem": f"has {len(row)} fields but the header row has {width}{last}: the file may be "
                    "truncated, or a cell holds an unquoted delimiter",
                }
            )
            continue
        records.append(row)
        raw_rows.append(line)
    if problems:
        shown = ", ".join(f"row {p['row']}" for p in problems[:5])
        raise ExportReadError(
            f"{len(problems)} row(s) do not have the header's {width} fields ({shown}"
            f"{', ...' if len(problems) > 5 else ''})",
            problems,
        )
    notes = []
    if widened:
        notes.append(f"{widened} row(s) end with extra empty cells beyond the header's {width}; ignored")
    if blank:
        notes.append(
            f"{len(blank)} blank row(s) after the header (rows {', '.join(map(str, blank[:5]))}"
            f"{', ...' if len(blank) > 5 else ''}); logged as blank rows, not responses"
        )
    return records, raw_rows, blank, notes


def _unique_names(header: list[str]) -> list[str]:
    names, seen = [], set()
    for j, h in enumerate(header):
        name = (
            h if h and h not in seen else (f"{h} (column {column_letter(j)})" if h else f"(column {column_letter(j)})")
        )
        seen.add(name)
        names.append(name)
    return names


def read_sav(path: str | os.PathLike, header_source: str = "label") -> RawExport:
    """Read an SPSS ``.sav`` export (via pyreadstat) as text, with its value labels applied.

    A ``.sav`` file stores each answer as a code and the answer text as the
    variable's value label: the labels are what the codebook matches, so a
    ``.sav`` reads like the tool's CSV export. ``header_source`` chooses the
    header of each column: ``label`` (the variable label: the question text,
    what the tool's CSV header says) or ``name`` (the short variable name,
    e.g. ``Q5_3``); a variable without a label falls back to its name.
    Rows are numbered as SPSS numbers cases (``raw_row`` 1 = the first case;
    ``header_row`` is 0: a ``.sav`` has no header row).
    """
    import tempfile as _tempfile

    path = Path(path)
    if not path.is_file():
        raise ExportReadError("file not found")
    with open(path, "rb") as fh:  # read once; what is parsed is what is hashed
        data = fh.read()
    digest = sha256_bytes(data)
    if not data.strip():
        raise ExportReadError(f"the file is empty ({len(data)} bytes): re-export it from the survey tool")
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - pyreadstat is a dependency
        raise ExportReadError("reading .sav files needs the pyreadstat package (pip install pyreadstat)") from exc
    with _tempfile.TemporaryDirectory() as tmp:  # parse the very bytes hashed above
        copy = Path(tmp) / "export.sav"
        copy.write_bytes(data)
        try:
            frame, meta = pyreadstat.read_sav(
                str(copy), apply_value_formats=True, formats_as_category=False, user_missing=False
            )
        except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError
            raise ExportReadError(
                f"cannot be read as an SPSS .sav file ({type(exc).__name__}: {exc}); "
                "the file may be damaged or not really .sav"
            ) from exc
    labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    if header_source not in ("label", "name"):
        raise ExportReadError(f"header_source must be 'label' or 'name', got {header_source!r}")
    header = [(_squash_header(labels.get(c)) or c) if header_source == "label" else c for c in frame.columns]
    names = _unique_names(header)
    cells = {
        n: [
            _cell_text(None if (v is None or (isinstance(v, float) and v != v) or v is pd.NaT) else v)
            for v in frame[c].tolist()
        ]
        for n, c in zip(names, frame.columns)
    }
    out = pd.DataFrame(cells, columns=names, dtype=object)
    out.insert(0, "raw_row", pd.Series(range(1, len(out) + 1), dtype="int64"))
    blank = [int(r) for r, row in zip(out["raw_row"], out[names].to_numpy()) if not any(str(x).strip() for x in row)]
    if blank:
        out = out[~out["raw_row"].isin(blank)].reset_index(drop=True)
    notes = [
        f"SPSS .sav: {len(frame.columns)} variables, {len(frame)} cases; value labels applied"
        + ("; headers are the variable labels" if header_source == "label" else "")
    ]
    return RawExport(
        path=path,
        data=out,
        headers=header,
        encoding="sav",
        delimiter="",
        notes=notes,
        sha256=digest,
        header_row="",
        blank_rows=blank,
        columns=names,
    )


def _squash_header(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip() if text else ""


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as parquet (no pandas index)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as UTF-8 CSV."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
