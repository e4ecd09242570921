"""requirements.txt brings every package the running app imports.

The dev venv holds more than the app's requirements (dash[testing] brings
multiprocess, selenium, requests…), so a production import of a package only
those bring works in every test and fails for a new user. This test reads the
imports of every production module and checks each third-party one against
what requirements.txt installs, its dependencies and extras included.
`make first-run` checks the same by running the app in a venv built from
requirements.txt alone.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from config import PROJECT_ROOT
from scripts import first_run


def production_files() -> list[Path]:
    # The same list `make first-run` imports in its requirements-only venv.
    return [PROJECT_ROOT / path for path in first_run.production_files()]


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def installed_by(requirements_file: Path) -> set[str]:
    """The distributions pip installs for these requirements: each one, its extras and dependencies, recursively."""
    wanted = [
        Requirement(line.split("#")[0].strip())
        for line in requirements_file.read_text().splitlines()
        if line.split("#")[0].strip() and not line.startswith("-")
    ]
    found: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found.update({key, name})
        for line in importlib.metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": extra}) for extra in extras):
                wanted.append(dependency)
    return {name for name in found if "[" not in name}


def test_every_third_party_import_of_the_app_is_installed_by_requirements_txt() -> None:
    provided = installed_by(PROJECT_ROOT / "requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    local = {path.relative_to(PROJECT_ROOT).parts[0].removesuffix(".py") for path in production_files()}
    for path in production_files():
        for name in top_level_imports(path) - local - set(sys.stdlib_module_names) - {"__future__"}:
            owners = {canonicalize_name(owner) for owner in distributions.get(name, [])}
            if not owners & provided:
                missing[name] = f"{path.relative_to(PROJECT_ROOT)} (from {sorted(owners) or 'nowhere'})"
    assert not missing, f"imported by the app but not installed by requirements.txt: {missing}"


def test_the_check_sees_a_package_that_only_the_dev_requirements_bring() -> None:
    # selenium comes with dash[testing] (requirements-dev.txt) alone: the check must not count it as provided.
    provided = installed_by(PROJECT_ROOT / "requirements.txt")
    assert "selenium" not in provided
    assert {"multiprocess", "diskcache", "dash", "flask"} <= provided
