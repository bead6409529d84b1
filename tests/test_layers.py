"""The import layering of rmlib: imports inside the package point down, never up.

Every module of ``rmlib`` is placed in one layer (``LAYERS``, lowest first; the
same table as docs/architecture.md, section "Layers"). A module may import
modules of its own layer or of a lower one, at the top of the file or inside a
function (a lazy import is still a dependency). A new module must be placed in
the table, so the rule cannot be bypassed by adding a file.
"""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

#: lowest first; a module may import its own layer and those before it
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (
        "rmlib.paths",
        "rmlib.yamlsafe",
        "rmlib.params",
        "rmlib.constants",
        "rmlib._coding",
        "rmlib.labels",
        "rmlib.wording",
        "rmlib.transaction",
        "rmlib.safety",
    ),
    # personal data is masked as exports are read: the redaction half of comments/ sits in ingest
    "ingest": (
        "rmlib.comments._base",
        "rmlib.comments.patterns",
        "rmlib.comments.normalise",
        "rmlib.comments.lexicon",
        "rmlib.comments.redact",
        "rmlib.layouts",
        "rmlib.codebook",
        "rmlib.io",
        "rmlib.reshape",
        "rmlib.clean",
        "rmlib.dataset",
        "rmlib.draft",
        "rmlib.synth",
    ),
    "analysis": ("rmlib.scoring", "rmlib.crosstab", "rmlib.stats"),
    "disclosure": ("rmlib.disclosure",),
    "presentation": (
        "rmlib.comments",
        "rmlib.plots",
        "rmlib.narrative",
        "rmlib.dictionary",
        "rmlib.publish",
        "rmlib.provenance",
        "rmlib.report",
    ),
    "run": (
        "rmlib.checks",
        "rmlib.reproducible",
        "rmlib.artefacts",
        "rmlib.stages",
        "rmlib.pipeline",
        "rmlib.__main__",
        "rmlib",
    ),
}
ORDER = list(LAYERS)


def _module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """The layer of a module: its own entry, else that of the package it belongs to (longest prefix)."""
    best = None
    for layer, names in LAYERS.items():
        for name in names:
            # "rmlib" (the package's __init__) is itself only: its prefix would match every module
            inside = module.startswith(name + ".") and name != "rmlib"
            if (module == name or inside) and (best is None or len(name) > len(best[1])):
                best = (layer, name)
    return best[0] if best else None


def imports_of(path, source: str | None = None) -> set[str]:
    """rmlib modules imported anywhere in the file (top level or inside functions), as absolute names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "rmlib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "rmlib":
                target = node.module
            else:
                continue
            # "from . import x" / "from rmlib import x": x may be a module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(
                    sub
                    if (ROOT / (sub.replace(".", "/") + ".py")).exists() or (ROOT / sub.replace(".", "/")).is_dir()
                    else target
                )
    return found - {module}


MODULES = sorted(p for p in (ROOT / "rmlib").rglob("*.py"))


def test_every_module_has_a_layer():
    missing = [_module_name(p) for p in MODULES if layer_of(_module_name(p)) is None]
    assert not missing, f"place these modules in a layer of tests/test_layers.py and docs/architecture.md: {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_imports_point_down(path):
    module = _module_name(path)
    mine = ORDER.index(layer_of(module))
    up = sorted(
        f"{dep} ({layer_of(dep)})"
        for dep in imports_of(path)
        if layer_of(dep) is not None and ORDER.index(layer_of(dep)) > mine
    )
    assert not up, f"{module} ({ORDER[mine]}) imports from a higher layer: {', '.join(up)}"


def test_the_checker_sees_an_upward_import():
    # the test above can fail: a core module importing the report, at the top or inside a function
    paths = ROOT / "rmlib" / "paths.py"
    for source in (
        "from .report import render_report\n",
        "def f():\n    from rmlib import report\n",
        "import rmlib.report\n",
    ):
        assert "rmlib.report" in imports_of(paths, source), source
    assert ORDER.index(layer_of("rmlib.report")) > ORDER.index(layer_of("rmlib.paths"))
    # and places a module of a package by the package's entry
    assert layer_of("rmlib.stats.tests") == "analysis" and layer_of("rmlib.crosstab.caveats") == "analysis"
    assert layer_of("rmlib.not_placed") is None and layer_of("rmlib") == "run"


def test_docs_list_the_same_layers():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for layer, names in LAYERS.items():
        for name in names:
            short = name.removeprefix("rmlib.") if name != "rmlib" else "rmlib"
            leaf = short.rpartition(".")[2]
            assert any(f"`{x}`" in text for x in (short, short + "/", leaf)), (
                f"docs/architecture.md does not place `{short}` (layer {layer})"
            )
