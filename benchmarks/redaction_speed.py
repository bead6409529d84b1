"""Redaction time on adversarial long comments (issue: every pattern on user text is linear).

Run: .venv/bin/python benchmarks/redaction_speed.py [kilobytes ...]
Prints seconds per comment kind and size; a comment of 128 KB must take under a second.
"""

from __future__ import annotations

import sys
import time

from rmlib.comments import redact

KINDS = {
    "digits and spaces": "0 1 ",
    "digits, dashes": "01-2-",
    "long digit run": "0123456789",
    "https and spaces": "https:// ",
    "dots and ats": "a.b@c.d ",
    "spelt e-mail words": "john dot smith at ",
    "capitalised words": "Sarah Jones Essex ",
    "plain prose": "The team were helpful and we spoke often. ",
}


def timings(kb: int) -> dict[str, float]:
    out = {}
    for name, unit in KINDS.items():
        text = (unit * (kb * 1024 // len(unit) + 1))[: kb * 1024]
        t0 = time.perf_counter()
        redact(text)
        out[name] = time.perf_counter() - t0
    return out


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [16, 64, 128]
    redact("warm up Sarah Jones 07700 900123")
    for kb in sizes:
        for name, sec in timings(kb).items():
            print(f"{kb:>4} KB  {name:<22} {sec:7.3f} s")
