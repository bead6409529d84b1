"""Loading the YAML parameter files: the theme dictionary and the redaction lists, validated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from ._base import _GROUP_ORDER, OTHER_THEME, CommentsConfigError, RedactionLists, Theme, _keyword_regex

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_THEME_KEYS_REQUIRED = ("id", "label", "description", "groups", "keywords")
_THEME_KEYS_OPTIONAL = ("sources",)


def _read_yaml(path: str | Path, what: str) -> Any:
    """Parse a YAML parameter file; a missing file or bad YAML raises CommentsConfigError naming it."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise CommentsConfigError(f"{what} file not found: {p}")
    try:
        with p.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise CommentsConfigError(f"{p}: not valid YAML ({exc})") from exc


def _str_list(value: Any, where: str, key: str, *, nonempty: bool = True) -> tuple[str, ...]:
    """Validate a list of non-empty strings under ``key`` (stripped), with a message naming where."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise CommentsConfigError(
            f"{where}: key {key!r} must be a list of strings, got {type(value).__name__} {value!r}"
        )
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise CommentsConfigError(f"{where}: key {key!r} must contain only non-empty strings; got {bad[:3]!r}")
    if nonempty and not value:
        raise CommentsConfigError(f"{where}: key {key!r} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def parse_theme_dictionary(data: Any, source: str = "<theme dictionary>") -> list[Theme]:
    """Validate a theme dictionary already read from YAML (see :func:`load_theme_dictionary`)."""
    if not isinstance(data, Mapping) or "themes" not in data:
        raise CommentsConfigError(
            f"{source}: expected a mapping with a top-level key 'themes' (a list of themes); got {type(data).__name__}"
        )
    items = data["themes"]
    if not isinstance(items, list) or not items:
        raise CommentsConfigError(f"{source}: key 'themes' must be a non-empty list, got {type(items).__name__}")
    themes: list[Theme] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"{source}: themes[{i}]"
        if not isinstance(item, Mapping):
            raise CommentsConfigError(
                f"{where}: expected a mapping with keys {list(_THEME_KEYS_REQUIRED)}, got {type(item).__name__}"
            )
        if isinstance(item.get("id"), str):
            where += f" (id {item['id']!r})"
        missing = [k for k in _THEME_KEYS_REQUIRED if k not in item]
        if missing:
            raise CommentsConfigError(
                f"{where}: missing key(s) {missing}; each theme needs {list(_THEME_KEYS_REQUIRED)}"
            )
        unknown = [k for k in item if k not in _THEME_KEYS_REQUIRED + _THEME_KEYS_OPTIONAL]
        if unknown:
            raise CommentsConfigError(
                f"{where}: unknown key(s) {unknown}; allowed keys are "
                f"{list(_THEME_KEYS_REQUIRED + _THEME_KEYS_OPTIONAL)}"
            )
        tid = item["id"]
        if not isinstance(tid, str) or not _ID_RE.match(tid):
            raise CommentsConfigError(f"{where}: key 'id' must be a snake_case string (a-z, 0-9, _), got {tid!r}")
        if tid == OTHER_THEME:
            raise CommentsConfigError(f"{where}: id {OTHER_THEME!r} is reserved for uncoded comments")
        if tid in seen:
            raise CommentsConfigError(f"{where}: duplicate theme id {tid!r}")
        seen.add(tid)
        for key in ("label", "description"):
            if not isinstance(item[key], str) or not item[key].strip():
                raise CommentsConfigError(f"{where}: key {key!r} must be a non-empty string, got {item[key]!r}")
        groups_raw = item["groups"]
        if isinstance(groups_raw, str):
            groups_raw = [groups_raw]
        groups = _str_list(groups_raw, where, "groups")
        bad = [g for g in groups if g not in ("provider", "officer", "both")]
        if bad:
            raise CommentsConfigError(
                f"{where}: key 'groups' must be 'provider', 'officer', 'both' or a list of the first two; got {bad!r}"
            )
        groups = tuple(g for g in _GROUP_ORDER if g in groups or "both" in groups)
        keywords = _str_list(item["keywords"], where, "keywords")
        for kw in keywords:
            try:
                re.compile(_keyword_regex(kw))
            except re.error as exc:
                raise CommentsConfigError(f"{where}: keyword {kw!r} is not a valid regular expression ({exc})") from exc
            if re.compile(re.sub(r" +", r"\\s+", kw)).fullmatch(""):
                raise CommentsConfigError(f"{where}: keyword {kw!r} matches the empty string")
        sources = _str_list(item.get("sources", []), where, "sources", nonempty=False)
        themes.append(
            Theme(tid, item["label"].strip(), " ".join(item["description"].split()), groups, keywords, sources)
        )
    return themes


def load_theme_dictionary(path: str | Path) -> list[Theme]:
    """Read and validate ``params/themes.yaml``.

    Expected shape::

        themes:
          - id: money                      # snake_case, unique, not "other"
            label: Money and the cost of care
            description: Fees, rates, funding, ...
            groups: both                   # provider | officer | both | [provider, officer]
            keywords: ["fees?", "fund\\w*", "cost of care"]   # regex, word-bounded
            sources: ["2016 review, Appendix D, provider theme 1"]   # optional

    Raises
    ------
    CommentsConfigError
        Naming the file, the theme and the key, and what was expected.
    """
    return parse_theme_dictionary(_read_yaml(path, "theme dictionary"), str(path))


def parse_redaction_lists(data: Any, source: str = "<redaction lists>") -> RedactionLists:
    """Validate redaction lists already read from YAML (see :func:`load_redaction_lists`)."""
    if not isinstance(data, Mapping):
        raise CommentsConfigError(
            f"{source}: expected a mapping with keys 'deny_names' and 'allow_words', got {type(data).__name__}"
        )
    unknown = [k for k in data if k not in ("deny_names", "allow_words")]
    if unknown:
        raise CommentsConfigError(f"{source}: unknown key(s) {unknown}; expected 'deny_names' and 'allow_words'")
    lists = {}
    for key in ("deny_names", "allow_words"):
        if key not in data:
            raise CommentsConfigError(f"{source}: missing key {key!r} (a list of strings; may be empty: [])")
        value = data[key] if data[key] is not None else []
        lists[key] = _str_list(value, source, key, nonempty=False)
    return RedactionLists(lists["deny_names"], lists["allow_words"])


def load_redaction_lists(path: str | Path) -> RedactionLists:
    """Read and validate ``params/redaction.yaml``.

    Expected shape::

        deny_names:     # people's names, always redacted (case-insensitive)
          - Jane Doe
        allow_words:    # capitalised words/phrases that are not names
          - Essex County Council
          - Chelmsford

    Raises
    ------
    CommentsConfigError
        Naming the file, the key, and what was expected.
    """
    return parse_redaction_lists(_read_yaml(path, "redaction lists"), str(path))
