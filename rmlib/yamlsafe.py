"""Read a settings file (parameters, codebook, theme and redaction lists) as YAML that cannot hurt.

PyYAML's ``safe_load`` builds only plain data, but it still accepts three
things a settings file should never contain:

* a key written twice in one mapping (the last silently wins, so an edit
  near the top of a file can be undone by a forgotten line further down);
* alias expansion without bound ("billion laughs": a few hundred bytes that
  stand for 10^9 values; building them is cheap because aliases share
  objects, but anything that walks or prints the result then runs for
  minutes or exhausts memory);
* any size of file, and any bytes (a settings file that is not UTF-8 text
  ends in a ``UnicodeDecodeError`` traceback).

:func:`load_yaml` reads with PyYAML's ``SafeLoader`` and refuses each of them
with a one-line :class:`UnsafeYAML` naming the file and line. PyYAML offers
no hook for these checks, so the loader below adds them (hand-written on
purpose: the only alternative libraries, e.g. ruamel.yaml, are not
dependencies of this project and do not bound alias expansion either).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: settings files are small: the bundled ones are 1-17 KB
MAX_BYTES = 1_000_000
#: nodes after expanding every alias (the bundled files have a few thousand)
MAX_NODES = 200_000
#: aliases (``*name``) in one file; the bundled files use none
MAX_ALIASES = 100


class UnsafeYAML(ValueError):
    """A settings file is not plain, bounded, UTF-8 YAML with unique keys; the message says where."""


def _mark(node: yaml.Node) -> str:
    m = node.start_mark
    return f"line {m.line + 1}, column {m.column + 1}"


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and bounds alias use and expanded size."""

    def __init__(self, stream, source: str):
        super().__init__(stream)
        self.source = source
        self.aliases = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                event = self.peek_event()
                raise UnsafeYAML(
                    f"{self.source}: more than {MAX_ALIASES} aliases (*name) at line "
                    f"{event.start_mark.line + 1}; a settings file does not need them"
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: PyYAML reports it below
                    continue
                if first is not None:
                    raise UnsafeYAML(
                        f"{self.source}: key {key!r} appears twice ({_mark(first)} and {_mark(key_node)}); keep one"
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, source: str) -> int:
    """Number of nodes once every alias is expanded (memoised by node identity, so it is linear in the file)."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node, depth: int) -> int:
        if depth > 200:
            raise UnsafeYAML(f"{source}: nested more than 200 levels deep ({_mark(n)})")
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = MAX_NODES + 1  # a node that contains itself is unbounded
        if isinstance(n, yaml.ScalarNode):
            total = 1
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(c, depth + 1) for c in n.value)
        else:
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in n.value)
        memo[key] = min(total, MAX_NODES + 1)
        return memo[key]

    return size(node, 0)


#: brackets/braces open at once; PyYAML's scanner is quadratic in this depth
MAX_FLOW_DEPTH = 50


def _flow_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` (counted naively, quotes included: an over-estimate is fine here)."""
    import re

    depth = deepest = 0
    for m in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def loads_yaml(text: str, source: str = "<settings>") -> Any:
    """Parse YAML text with duplicate keys rejected and alias expansion bounded (see :func:`load_yaml`)."""
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise UnsafeYAML(
            f"{source}: brackets nested more than {MAX_FLOW_DEPTH} deep; a settings file is never nested that deeply"
        )
    loader = _BoundedLoader(text, source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, source) > MAX_NODES:
            raise UnsafeYAML(
                f"{source}: expands to more than {MAX_NODES:,} values (aliases referring to "
                "aliases); a settings file is never that large"
            )
        return loader.construct_document(node)
    except RecursionError:
        raise UnsafeYAML(f"{source}: nested too deeply to be a settings file") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UnsafeYAML(f"{source}: not valid YAML{at}: {what}") from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path, what: str = "settings file", shown: str | None = None) -> Any:
    """Read a settings file: UTF-8, at most :data:`MAX_BYTES`, unique keys, bounded aliases.

    Raises :class:`UnsafeYAML` (one line naming the file) for a file that is
    missing, not a file, too large, not UTF-8, not YAML or unsafe as above.
    """
    p = Path(path)
    name = shown or str(p)
    if not p.exists():
        raise UnsafeYAML(f"{what} not found: {name}")
    if not p.is_file():
        raise UnsafeYAML(f"{what} {name} is not a file")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise UnsafeYAML(f"{name}: {size:,} bytes; a {what} is at most {MAX_BYTES:,} bytes")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnsafeYAML(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from None
    return loads_yaml(text, name)
