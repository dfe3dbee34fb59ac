"""What the shipped packages (bot, storage) import is declared as a runtime dependency in
pyproject.toml, and nothing shipped needs a package that only the dev extras install."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("bot", "storage")  # [tool.setuptools.packages.find] include


def _name(requirement: str) -> str:
    """'python-telegram-bot[job-queue]>=22.5' → 'python-telegram-bot' (normalised)."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _project() -> dict[str, object]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert isinstance(project, dict)
    return project


def _runtime() -> set[str]:
    return {_name(r) for r in _project()["dependencies"]}  # type: ignore[attr-defined]


def _dev_only() -> set[str]:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    return {_name(r) for r in extras["dev"]} - _runtime()


def _shipped_files() -> list[Path]:
    return sorted(p for package in SHIPPED for p in (REPO / package).rglob("*.py"))


def _imported_top_levels(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (top level, in functions, under
    TYPE_CHECKING), by its first component; relative imports left out."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _distributions_of(top_level: str) -> set[str]:
    return {_name(d) for d in packages_distributions().get(top_level, [])}


def test_every_third_party_import_is_a_declared_runtime_dependency() -> None:
    runtime = _runtime()
    undeclared = []
    for path in _shipped_files():
        for top in sorted(_imported_top_levels(path)):
            if top in sys.stdlib_module_names or top in SHIPPED:
                continue
            distributions = _distributions_of(top)
            assert distributions, f"{path.relative_to(REPO)}: imports {top!r}, not installed"
            if not distributions & runtime:
                undeclared.append(f"{path.relative_to(REPO)}: {top} ({', '.join(distributions)})")
    assert not undeclared, "imported but not in [project] dependencies:\n" + "\n".join(undeclared)


def test_the_dev_extras_are_known_to_this_check() -> None:
    """Not vacuous: the dev-only packages are installed here and map to import names."""
    dev_only = _dev_only()
    assert {"babel", "pytest", "hypothesis"} <= dev_only
    mapped = {
        top
        for top, dists in packages_distributions().items()
        if {_name(d) for d in dists} & dev_only
    }
    assert {"babel", "pytest", "hypothesis"} <= mapped


_IMPORT_ALL_WITHOUT_DEV = """
import importlib, importlib.abc, pkgutil, sys

blocked = set(sys.argv[1].split(","))

class NoDevExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{fullname} is a dev-only package", name=fullname)
        return None

sys.meta_path.insert(0, NoDevExtras())
skipped = {"storage.migrations.env"}  # Alembic's script: it runs a migration when imported
count = 0
for package_name in sys.argv[2].split(","):
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, package_name + "."):
        if module.name not in skipped:
            importlib.import_module(module.name)
            count += 1
print(count)
"""


def test_every_shipped_module_imports_without_the_dev_extras() -> None:
    """In a fresh interpreter where importing any dev-only package fails, as in an install
    without `[dev]`: every module of bot and storage imports."""
    dev_only = _dev_only()
    blocked = sorted(
        top
        for top, dists in packages_distributions().items()
        if {_name(d) for d in dists} & dev_only and top not in SHIPPED
    )
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL_WITHOUT_DEV, ",".join(blocked), ",".join(SHIPPED)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) > 50  # every module, not a few
