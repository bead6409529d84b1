"""environment.yml mirrors pyproject.toml; requirements.lock pins every direct dependency."""

import re
import tomllib

import yaml


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python=", "pip"))]
    assert sorted(conda) == sorted(wanted), "environment.yml and pyproject.toml list different dependencies"
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert py == "python=3.11"


def test_lock_pins_every_dependency_exactly(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_name(s) for s in project["dependencies"] + project["optional-dependencies"]["test"]}
    pins = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock line {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    missing = wanted - set(pins)
    assert not missing, f"not pinned in requirements.lock: {sorted(missing)}"
