"""Reading survey exports, sha256 manifests and atomic writes.

Raw exports are read as text, exactly as the survey tool wrote them: every
cell a string, blank cells "", and each data row tagged with the line number
it has in the raw file (``raw_row``, counting the header and any title rows),
so that an error can point a researcher at the right row in Excel.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

MANIFEST = "MANIFEST.sha256"
_BOM = b"\xef\xbb\xbf"


class ExportReadError(ValueError):
    """A raw export cannot be read at all (empty, binary, truncated, wrong encoding)."""


@dataclass
class RawExport:
    """A raw export as text: ``data`` has one column per raw header plus ``raw_row``."""

    path: Path
    data: pd.DataFrame
    headers: list[str]
    encoding: str
    delimiter: str
    notes: list[str]


# ----------------------------------------------------------------------------- hashing
def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, str]:
    """``MANIFEST.sha256`` of a folder as {file name: sha256} (``sha256sum`` format)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.lstrip("*")] = digest
    return out


def write_manifest(folder: Path, names: list[str] | None = None) -> Path:
    """Record the sha256 of every data file in ``folder`` (deliberately: raw data changed)."""
    folder = Path(folder)
    names = names or sorted(p.name for p in folder.iterdir()
                            if p.is_file() and p.name != MANIFEST and not p.name.startswith(".") and p.suffix.lower() in (".csv", ".xlsx", ".xls", ".txt"))
    text = "".join(f"{sha256_file(folder / n)}  {n}\n" for n in names)
    atomic_write_text(folder / MANIFEST, text)
    return folder / MANIFEST


def verify_manifest(folder: Path, names: list[str]) -> list[str]:
    """Problems found comparing the named raw files with the folder's manifest ([] if all match)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    fix = f"if the change is deliberate, re-record it with: python -m rmlib manifest {folder}"
    if not manifest:
        return [f"{folder / MANIFEST} is missing: raw files cannot be checked; {fix}"]
    problems = []
    for name in names:
        if name not in manifest:
            problems.append(f"{folder / name} is not listed in {MANIFEST}; {fix}")
        elif (folder / name).is_file() and sha256_file(folder / name) != manifest[name]:
            problems.append(f"{folder / name} has changed since {MANIFEST} was recorded (sha256 differs); {fix}")
    return problems


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
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def staged_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Build a whole folder in a staging folder, then swap it in for ``target``.

    If the block raises, ``target`` is left exactly as it was and the staging
    folder is removed: a failed run never leaves a mix of old and new files.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, old)
    os.replace(stage, target)
    shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- reading exports
def decode(data: bytes, encoding: str, path: Path) -> tuple[str, str, list[str]]:
    """Decode raw bytes; ``auto`` means UTF-8 (BOM or not), else cp1252 - and says which."""
    notes: list[str] = []
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding, notes
        except UnicodeDecodeError as exc:
            raise ExportReadError(f"{path}: cannot be decoded as {encoding} (declared in the codebook): "
                                  f"byte {data[exc.start:exc.start + 1]!r} at offset {exc.start}") from exc
    if data.startswith(_BOM):
        return data[len(_BOM):].decode("utf-8", errors="strict"), "utf-8-sig", ["UTF-8 with byte-order mark"]
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ExportReadError(f"{path}: neither UTF-8 nor cp1252 (byte {data[exc.start:exc.start + 1]!r} at offset {exc.start}); "
                              "is this really a CSV export?") from exc
    notes.append(f"not valid UTF-8 (byte {data[first_bad:first_bad + 1]!r} at offset {first_bad}); decoded as cp1252 (Windows Excel)")
    return text, "cp1252", notes


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" in head


def read_export(path: str | os.PathLike, skip_rows: int = 0, encoding: str = "auto", delimiter: str = ",",
                sheet: str | int | None = None) -> RawExport:
    """Read one raw export (CSV or XLSX) as text, tagging each data row with its raw line number.

    ``skip_rows`` title rows come before the header row (declared in the
    codebook). The file is opened read-only and never written.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportReadError(f"{path}: file not found")
    data = path.read_bytes()
    if not data.strip():
        raise ExportReadError(f"{path}: the file is empty")
    notes: list[str] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not data.startswith(b"PK"):
            raise ExportReadError(f"{path}: not an XLSX workbook (no zip signature)")
        try:
            frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet or 0, header=None, dtype=str,
                                  keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise ExportReadError(f"{path}: cannot be read as XLSX ({type(exc).__name__}: {exc})") from exc
        rows = frame.fillna("").astype(str).values.tolist()
        enc, delim = "xlsx", ""
    else:
        if _looks_binary(data):
            raise ExportReadError(f"{path}: contains NUL bytes - this is a binary file, not a CSV export")
        text, enc, enc_notes = decode(data, encoding, path)
        notes += enc_notes
        delim = delimiter
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
        except csv.Error as exc:
            raise ExportReadError(f"{path}: malformed CSV ({exc}); the file may be truncated") from exc
    if len(rows) <= skip_rows:
        raise ExportReadError(f"{path}: has {len(rows)} row(s) but the codebook says the header is on row {skip_rows + 1}")
    header = [h.strip() for h in rows[skip_rows]]
    if not any(header):
        raise ExportReadError(f"{path}: row {skip_rows + 1} should hold the column headers but is blank "
                              f"(check skip_rows in the codebook)")
    body = rows[skip_rows + 1:]
    width = len(header)
    records, raw_rows, ragged = [], [], []
    for i, row in enumerate(body):
        line = skip_rows + 2 + i
        if not any(cell.strip() for cell in row):
            continue  # a blank line is not a response
        if len(row) != width:
            ragged.append((line, len(row)))
            row = (row + [""] * width)[:width]
        records.append(row)
        raw_rows.append(line)
    if ragged:
        shown = ", ".join(f"row {r} has {n}" for r, n in ragged[:5])
        raise ExportReadError(f"{path}: {len(ragged)} row(s) do not have the header's {width} fields ({shown}"
                              f"{', ...' if len(ragged) > 5 else ''}); the file may be truncated or use another delimiter")
    frame = pd.DataFrame(records, columns=range(width), dtype=str)
    frame.columns = header
    frame.insert(0, "raw_row", raw_rows)
    return RawExport(path=path, data=frame, headers=header, encoding=enc, delimiter=delim, notes=notes)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as parquet (no pandas index)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as UTF-8 CSV with a stable float format."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
