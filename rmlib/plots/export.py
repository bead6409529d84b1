"""Figures out of the process: a PNG ``data:`` URI for the self-contained report, PNG and SVG files.

The files carry no timestamp or software metadata, so the same figure gives
the same bytes on every run.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.figure import Figure

from ._style import plot_style


def figure_to_data_uri(fig: Figure, dpi: int = 110, *, max_bytes: int | None = 150_000) -> str:
    """PNG ``data:`` URI of ``fig`` (for a self-contained HTML page); closes ``fig``.

    The PNG carries no timestamp or software metadata, so the same figure
    gives the same bytes on every run. If it is over ``max_bytes`` it is
    re-encoded with a 256-colour palette (no dithering: flat fills and text
    stay crisp), which typically halves the size.
    """
    buf = io.BytesIO()
    try:
        with plot_style():
            fig.savefig(
                buf,
                format="png",
                dpi=dpi,
                bbox_inches="tight",
                pad_inches=0.12,
                facecolor="white",
                metadata={"Software": None},
                pil_kwargs={"optimize": True},
            )
    finally:
        import matplotlib.pyplot as plt  # only to release a pyplot-managed figure

        plt.close(fig)
    png = buf.getvalue()
    if max_bytes is not None and len(png) > max_bytes:
        png = _palette_png(png)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _palette_png(png: bytes) -> bytes:
    """Re-encode a PNG with a 256-colour palette (no dithering); the original if that is not smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def figure_files(fig: Figure, dpi: int = 110, file_dpi: int = 200) -> dict[str, Any]:
    """One figure as the report's PNG ``data:`` URI and as PNG and SVG file contents; closes ``fig``.

    Returns ``{"uri": str, "png": bytes, "svg": bytes}``. The files carry no
    timestamp or software metadata (same figure, same bytes); the SVG keeps its
    text as text (``svg.fonttype: none``), so it stays editable, searchable and
    can be checked by the publication scan.
    """
    import matplotlib

    out: dict[str, Any] = {}
    try:
        with plot_style():
            buf = io.BytesIO()
            fig.savefig(
                buf,
                format="png",
                dpi=file_dpi,
                bbox_inches="tight",
                pad_inches=0.12,
                facecolor="white",
                metadata={"Software": None},
                pil_kwargs={"optimize": True},
            )
            out["png"] = buf.getvalue()
            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "rmlib"}):
                fig.savefig(
                    buf,
                    format="svg",
                    bbox_inches="tight",
                    pad_inches=0.12,
                    facecolor="white",
                    metadata={"Date": None, "Creator": None},
                )
            out["svg"] = buf.getvalue()
        out["uri"] = figure_to_data_uri(fig, dpi=dpi)  # closes fig
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
