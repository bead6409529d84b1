"""The repository stands alone: no tracked file points to documents outside it."""

import re
import subprocess

import pytest

# what earlier versions pointed at: a design note and a folder beside the repository
OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared")


def test_no_tracked_file_points_outside_the_repository(root):
    try:
        files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    offenders = []
    for name in files.splitlines():
        path = root / name
        if not path.is_file() or path.suffix in {".parquet", ".xlsx", ".sav", ".png"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{name}:{i}" for i, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert not offenders, f"files point outside the repository: {offenders}"


def test_the_design_of_record_is_in_the_repository(root):
    text = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    for heading in (
        "## 2. Layers",
        "## 3. Stages",
        "## 3a. Artefacts between stages",
        "## 3b. Parameters",
        "## 4. Definitions",
    ):
        assert heading in text
