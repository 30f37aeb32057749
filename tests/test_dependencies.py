"""Every third-party package the code imports is declared in pyproject.toml (the application's in
`dependencies`, the tests' in the `test` extra, the load scripts' in `bench`), so that a fresh install has it."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared(*groups: list[str]) -> set[str]:
    return {Requirement(line).name.lower().replace("_", "-") for group in groups for line in group}


RUNTIME = _declared(PYPROJECT["project"]["dependencies"])
# An optional extra: boto3, imported only by the object-store storage of files (FEEDBACK_STORAGE_URL=s3://…).
S3 = _declared(PYPROJECT["project"]["optional-dependencies"]["s3"])
WITH_TESTS = RUNTIME | _declared(PYPROJECT["project"]["optional-dependencies"]["test"])
# The load scripts' own extra (locust and gevent), which make install adds.
BENCH = _declared(PYPROJECT["project"]["optional-dependencies"]["bench"])


def imported_modules(folder: Path) -> set[str]:
    """The top-level modules that the Python files under `folder` import (absolute imports only)."""
    found = set()
    for path in folder.rglob("*.py"):
        if "vendor" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def imported_modules_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def third_party(modules: set[str], folder: Path) -> dict[str, set[str]]:
    """Module → the distributions that provide it, for the modules neither standard nor the project's own (nor
    a script's neighbours in its folder, as the benchmark's)."""
    providers = packages_distributions()
    own = {"feedback", "tests", "bench", "wsgi", "migrations", *(path.stem for path in folder.glob("*.py"))}
    return {
        module: {name.lower().replace("_", "-") for name in providers.get(module, [module])}
        for module in modules
        if module not in sys.stdlib_module_names and module not in own and not module.startswith("_")
    }


@pytest.mark.parametrize(
    ("folder", "declared"),
    [("feedback", RUNTIME | S3), ("migrations", RUNTIME), ("tests", WITH_TESTS), ("bench", WITH_TESTS | BENCH)],
)
def test_every_imported_package_is_declared(folder, declared):
    # The optional extra is for the storage module alone; anywhere else, boto3 would be an undeclared import.
    if folder == "feedback":
        storage = ROOT / "feedback" / "storage.py"
        assert [p for p in (ROOT / folder).rglob("*.py") if p != storage and "boto3" in imported_modules_of(p)] == []
    undeclared = {
        module: providers
        for module, providers in third_party(imported_modules(ROOT / folder), ROOT / folder).items()
        if not providers & declared
    }
    assert undeclared == {}, f"imported under {folder}/ but not declared in pyproject.toml: {undeclared}"
