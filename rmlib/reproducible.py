"""Make a run's files byte-identical between identical runs and free of machine paths.

Two things written during a run otherwise differ every time: papermill's and
nbclient's timing metadata in the executed notebooks (and the absolute path
of the staging folder it injected), and the creation time openpyxl stamps
into ``tables.xlsx`` (in ``docProps/core.xml`` and in every zip entry).
:func:`clean_notebook` and :func:`normalise_xlsx` remove them; the content is
unchanged. Hand-written: neither papermill nor openpyxl has an option for it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Mapping

from .io import atomic_path, atomic_write_text

#: the time written into workbooks (the zip format's earliest date)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_W3CDTF = "1980-01-01T00:00:00Z"


def clean_notebook(path: Path, replacements: Mapping[str, str], parameters: Mapping | None = None) -> None:
    """Drop run timings from an executed notebook and rewrite paths (e.g. staging -> final, absolute -> relative).

    ``replacements`` are applied to the notebook's text in order (longest
    first is the caller's job); ``parameters`` replaces the record of the
    injected parameters in the notebook's metadata.
    """
    import json

    import nbformat

    nb = nbformat.read(path, as_version=4)
    pm = nb.metadata.get("papermill", {})
    keep = {
        "parameters": dict(parameters) if parameters is not None else pm.get("parameters", {}),
        "version": pm.get("version"),
    }
    nb.metadata["papermill"] = keep
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    text = nbformat.writes(nb)
    for old, new in replacements.items():
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def normalise_xlsx(path: Path) -> None:
    """Rewrite a workbook with fixed entry times and fixed created/modified properties (content unchanged)."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for info, data in items:
                if info.filename == "docProps/core.xml":
                    data = re.sub(
                        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                        rb"\g<1>" + _FIXED_W3CDTF.encode() + rb"\g<2>",
                        data,
                    )
                out = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
                out.compress_type = zipfile.ZIP_DEFLATED
                out.external_attr = 0o644 << 16
                dst.writestr(out, data)


#: lines a kernel writes to its log on every normal shutdown (noise, and it varies between runs)
#: kernel stderr lines that say nothing about the analysis: shutdown, and ipykernel's own complaints when a
#: loaded machine is slow to flush output (they vary from run to run)
_KERNEL_NOISE = (
    "KeyboardInterrupt caught in kernel",
    "IOStream.flush timed out",
    "IOPub message rate exceeded",
    "IOPub data rate exceeded",
)


def clean_kernel_log(path: Path, replacements: Mapping[str, str]) -> None:
    """Keep a kernel's log only if it says something: shutdown noise removed, paths rewritten; else delete it."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return
    kept = [line for line in lines if not any(n in line for n in _KERNEL_NOISE)]
    if not any(line.strip() for line in kept):
        path.unlink()
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
        return
    text = "\n".join(kept) + "\n"
    for old, new in replacements.items():
        text = text.replace(old, new)
    atomic_write_text(path, text)
