"""Settings files a run reads, checked before anything runs: codebook, theme dictionary, redaction lists.

Each must be present, UTF-8, valid YAML with unique keys, and hold what its
loader needs; and the codebook must declare every attribute a report table
breaks down by. This sits in the run layer because it loads what the ingest,
analysis and presentation layers define (the codebook, the report tables,
the comment settings); the path checks, which everything may use, stay in
:mod:`rmlib.safety`.
"""

from __future__ import annotations

from .params import Params
from .paths import repo_root
from .safety import _shown


def check_inputs(params: Params) -> list[str]:
    """The codebook, theme and redaction files: present, UTF-8, valid YAML, unique keys, and what they must hold."""
    from .codebook import CodebookError, load_codebook
    from .comments import CommentsConfigError, load_redaction_lists, load_theme_dictionary
    from .yamlsafe import UnsafeYAML, load_yaml

    root = repo_root()
    problems = []
    checks = (
        ("codebook", "codebook", load_codebook, CodebookError),
        ("themes", "theme dictionary", load_theme_dictionary, CommentsConfigError),
        ("redaction", "redaction lists", load_redaction_lists, CommentsConfigError),
    )
    for name, what, loader, error in checks:
        path = params.path(name)
        shown = _shown(path, root)
        try:
            load_yaml(path, f"{what} ('{name}')", shown=shown)
            loader(path)
        except UnsafeYAML as exc:
            problems.append(f"'{name}': {exc}")
        except error as exc:
            problems.append(f"'{name}': {str(exc).splitlines()[0]}")
    if not problems:
        problems += table_requirements(load_codebook(params.path("codebook")))
    return problems


def table_requirements(codebook) -> list[str]:
    """Each report table declares its groups and attribute; the codebook must declare that attribute."""
    from .crosstab import RATED_DEPARTMENT, REPORT_TABLES

    problems = []
    for spec in REPORT_TABLES:
        if spec.attribute in ("all", RATED_DEPARTMENT):
            continue
        for group in spec.groups:
            have = [c.attribute for c in codebook.attribute_columns(group)]
            if spec.attribute not in have:
                problems.append(
                    f"{codebook.path.name}: report table {spec.id} needs attribute {spec.attribute!r} "
                    f"for {group}s, which the codebook does not declare (its {group} attributes: "
                    f"{', '.join(have) or 'none'}); keep the attribute name when relabelling a column"
                )
    return problems
