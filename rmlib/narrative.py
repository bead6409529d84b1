"""The officers' narrative file: the management layer of the report, written by people.

One YAML file per survey year, ``params/narrative/<year>.yaml``, beside the
run's parameters. Everything in it is written by the council officers who run
the survey, not computed: recommendations, the actions agreed after last
year's survey and their status, the survey tool, how the survey was
distributed, reminders sent, context, and (optionally) how many people were
invited, from which the report computes response rates.

Shape (every key optional except ``year``)::

    year: 2018
    written_by: Relationship management team     # shown with the officers' sections
    example: true            # text written for the synthetic example data, said so in the report
    context: |               # free text, paragraphs separated by blank lines
      ...
    survey_tool: ...
    distribution: ...
    reminders: ...
    recommendations:
      - title: Improve information sharing
        text: ...
    actions_from_last_year:
      - action: ...
        status: done          # one of ACTION_STATUSES
        note: ...
    invited:                  # invited counts, for the response-rate table
      provider: 320
      officer: 150
      by_category:            # optional, per attribute category
        provider:
          size: {Small: 120, Medium: 110, Large: 90}

:func:`load` reads and validates a file (``None`` when there is none: the
report says so plainly); :func:`validate` returns the list of problems, one
line each naming the file and key; :func:`carry_forward` makes next year's
template from this year's file (last year's recommendations become this
year's actions, with status ``not yet reported``). ``python -m rmlib.narrative
new <year>`` writes that template. Hand-written: no library knows this shape.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ACTION_STATUSES",
    "TEXT_KEYS",
    "NarrativeError",
    "narrative_path",
    "validate",
    "load",
    "carry_forward",
    "response_rates",
    "write_template",
]

#: statuses an action from last year may carry
ACTION_STATUSES = ("done", "in progress", "not started", "dropped", "not yet reported")
#: free-text keys, in the order the report shows them (key -> section title)
TEXT_KEYS = {
    "context": "Context",
    "survey_tool": "Survey tool",
    "distribution": "How the survey was distributed",
    "reminders": "Reminders",
}
_KNOWN = {"year", "written_by", "example", "recommendations", "actions_from_last_year", "invited", *TEXT_KEYS}
GROUPS = ("provider", "officer")


class NarrativeError(ValueError):
    """The narrative file cannot be used; the message lists every problem, one a line."""


def narrative_path(year: int, root: str | Path | None = None) -> Path:
    """``<root>/params/narrative/<year>.yaml`` (root: the repository)."""
    if root is None:
        from .paths import repo_root

        root = repo_root()
    return Path(root) / "params" / "narrative" / f"{int(year)}.yaml"


#: The list keys of a narrative file: per item, the key it must have (as text), how the message
#: names it, and the keys it may have. One check serves both lists.
_ITEMS = {
    "recommendations": ("title", "a title", ("title", "text")),
    "actions_from_last_year": ("action", "an action", ("action", "status", "note")),
}


def _text(v: Any) -> bool:
    """True for non-blank text."""
    return isinstance(v, str) and v.strip() != ""


def _count(v: Any) -> bool:
    """True for a whole number of people (not a bool, not negative)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def validate(doc: Any, where: str = "narrative", year: int | None = None) -> list[str]:
    """Every problem with a narrative document's shape, one line each (empty list: usable).

    ``where`` names the file in the messages; ``year``, when given, must match
    the file's ``year``.
    """
    if not isinstance(doc, dict):
        return [f"{where}: must be a mapping of keys (year, recommendations, ...), got {type(doc).__name__}"]
    problems = []
    for k in doc:
        if k not in _KNOWN:
            problems.append(f"{where}: unknown key {k!r} (known: {', '.join(sorted(_KNOWN))})")
    y = doc.get("year")
    if not (isinstance(y, int) and not isinstance(y, bool) and 2000 <= y <= 2100):
        problems.append(f"{where}: year: must be a year such as 2018, got {y!r}")
    elif year is not None and y != int(year):
        problems.append(f"{where}: year: is {y} but the file is for {year}")
    for k in (*TEXT_KEYS, "written_by"):
        if k in doc and doc[k] is not None and not _text(doc[k]):
            problems.append(f"{where}: {k}: must be text, got {doc[k]!r}")
    if "example" in doc and not isinstance(doc["example"], bool):
        problems.append(f"{where}: example: must be true or false, got {doc['example']!r}")
    for key in _ITEMS:
        items = doc.get(key) or []
        if not isinstance(items, list):
            problems.append(f"{where}: {key}: must be a list, got {type(items).__name__}")
            continue
        for i, item in enumerate(items, 1):
            problems += [f"{where}: {key} item {i}: {p}" for p in _item_problems(key, item)]
    problems += _invited_problems(doc.get("invited"), where)
    return problems


def _item_problems(key: str, item: Any) -> list[str]:
    """What is wrong with one item of the list ``key`` (see :data:`_ITEMS`), without the item's place."""
    required, needs, allowed = _ITEMS[key]
    if not isinstance(item, dict) or not _text(item.get(required)):
        return [f"needs {needs} (text)"]
    problems = []
    if "status" in allowed and item.get("status") not in ACTION_STATUSES:
        problems.append(f"status {item.get('status')!r} is not one of {', '.join(ACTION_STATUSES)}")
    extra = set(item) - set(allowed)
    if extra:
        problems.append(f"unknown key(s) {', '.join(sorted(map(str, extra)))}")
    if "text" in allowed and "text" in item and item["text"] is not None and not _text(item["text"]):
        problems.append(f"text must be text, got {item['text']!r}")
    return problems


def _invited_problems(inv: Any, where: str) -> list[str]:
    """What is wrong with the ``invited`` counts: whole numbers per group, and per group, attribute
    and category under ``by_category``."""
    if inv is None:
        return []
    if not isinstance(inv, dict):
        return [f"{where}: invited: must be a mapping such as {{provider: 320, officer: 150}}"]
    problems = []
    for k, v in inv.items():
        if k in GROUPS:
            if not _count(v):
                problems.append(f"{where}: invited.{k}: must be a whole number of people, got {v!r}")
        elif k == "by_category":
            if not isinstance(v, dict):
                problems.append(f"{where}: invited.by_category: must map a group to attributes")
                continue
            for g, attrs in v.items():
                if g not in GROUPS or not isinstance(attrs, dict):
                    problems.append(
                        f"{where}: invited.by_category.{g}: must be provider or officer, "
                        "mapping attributes to {category: count}"
                    )
                    continue
                for attr, cats in attrs.items():
                    if not isinstance(cats, dict) or not all(_count(c) for c in cats.values()):
                        problems.append(
                            f"{where}: invited.by_category.{g}.{attr}: must map each category "
                            f"to a whole number, got {cats!r}"
                        )
        else:
            problems.append(f"{where}: invited: unknown key {k!r} (provider, officer, by_category)")
    return problems


def load(year: int, root: str | Path | None = None, path: str | Path | None = None) -> dict | None:
    """The year's narrative document, validated; ``None`` when the file does not exist.

    Raises
    ------
    NarrativeError
        The file is not YAML or its shape is wrong (every problem listed).
    """
    path = Path(path) if path is not None else narrative_path(year, root)
    if not path.is_file():
        return None
    from .yamlsafe import UnsafeYAML, load_yaml

    try:  # bounded: duplicate keys, alias bombs, huge or non-UTF-8 files are refused in one line
        doc = load_yaml(path, "narrative file", shown=path.name)
    except UnsafeYAML as exc:
        raise NarrativeError(str(exc)) from None
    except yaml.YAMLError as exc:
        raise NarrativeError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    problems = validate(doc, path.name, year)
    if problems:
        raise NarrativeError("\n".join(problems))
    return doc


def carry_forward(previous: dict, year: int) -> dict:
    """Next year's narrative template from this year's document.

    Last year's recommendations become this year's actions (status ``not yet
    reported``: officers fill it in); the survey tool, distribution and
    reminders are kept as a starting point; context and recommendations are
    left for the officers to write; invited counts are dropped (they change).
    """
    out: dict[str, Any] = {"year": int(year)}
    if previous.get("written_by"):
        out["written_by"] = previous["written_by"]
    out["context"] = None
    for k in ("survey_tool", "distribution", "reminders"):
        if previous.get(k):
            out[k] = previous[k]
    out["recommendations"] = []
    out["actions_from_last_year"] = [
        {"action": r["title"] + (f": {r['text'].strip()}" if r.get("text") else ""), "status": "not yet reported"}
        for r in previous.get("recommendations") or []
    ]
    return out


def write_template(year: int, root: str | Path | None = None) -> Path:
    """Write ``params/narrative/<year>.yaml`` carried forward from ``<year - 1>``; never overwrites."""
    target = narrative_path(year, root)
    if target.exists():
        raise NarrativeError(f"{target.name}: already exists; edit it instead")
    prev = load(int(year) - 1, root)
    doc = (
        carry_forward(prev, year)
        if prev
        else {"year": int(year), "context": None, "recommendations": [], "actions_from_last_year": []}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Officers' narrative for the {year} survey report (see rmlib/narrative.py for the shape).\n"
        f"# Carried forward from {int(year) - 1}: fill in context, recommendations and each action's status.\n"
    )
    target.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return target


def populations(doc: dict | None) -> dict[tuple[str, str, str], int]:
    """``{(group, attribute, category): people invited}`` from the narrative's ``invited`` counts
    (``attribute == "all"``, ``category == "All"`` for a whole group); empty without them.

    >>> populations({"invited": {"provider": 300, "by_category": {"officer": {"quadrant": {"North": 40}}}}})
    {('provider', 'all', 'All'): 300, ('officer', 'quadrant', 'North'): 40}
    """
    inv = (doc or {}).get("invited") or {}
    out = {(g, "all", "All"): int(inv[g]) for g in GROUPS if g in inv}
    for g, attrs in (inv.get("by_category") or {}).items():
        for attr, cats in attrs.items():
            out.update({(g, attr, str(c)): int(n) for c, n in cats.items()})
    return out


def response_rates(doc: dict | None, responses: dict[tuple[str, str, str], int], min_cell_n: int) -> list[dict]:
    """Response rate per group (and per attribute category) from the narrative's invited counts.

    ``responses`` maps ``(group, attribute, category)`` to respondents
    (``attribute == "all"`` for the whole group). Rows whose invited count is
    missing are left out; a category with fewer than ``min_cell_n``
    respondents shows no count or rate (its base would be published).
    """
    rows = []
    for (g, attr, cat), invited in populations(doc).items():
        n = responses.get((g, attr, cat))
        if n is None:
            continue
        small = 0 < n < min_cell_n
        rate = None if small or not invited else 100.0 * n / invited
        rows.append(
            {
                "group": g,
                "attribute": attr,
                "category": cat,
                "invited": int(invited),
                "responses": None if small else int(n),
                "rate_pct": rate,
                "small": small,
            }
        )
    return rows


def _main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "new" and argv[1].isdigit():
        try:
            print(write_template(int(argv[1])))
        except NarrativeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if len(argv) == 2 and argv[0] == "check" and argv[1].isdigit():
        try:
            doc = load(int(argv[1]))
        except NarrativeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print("no narrative file" if doc is None else "narrative file OK")
        return 0
    print("usage: python -m rmlib.narrative new <year> | check <year>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
