"""Each requirements file stands on its own, checked statically (ast, no import of the code).

requirements.txt is what synth, deploy, the operations scripts and the local AWS (``make local``)
need: every third-party module they import, and the runtime package's modules they reach, comes
from a distribution pinned there. requirements-dev.txt (which includes requirements.txt) adds what
only the tests and linters need. The Lambda handlers are not scanned: their libraries ship in the
common-deps layer (layers/common_deps/requirements.txt).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGE_ROOT = REPO / "layers" / "vectora_core" / "python"  # vectora_core, installed editable
RUNTIME_ROOTS = ("app.py", "stacks", "vectora_constructs", "scripts", "local_aws")
# Lambda layout folders: what a function's code imports from its layers.
LAYER_ROOTS = (RUNTIME_PACKAGE_ROOT, REPO / "tests" / "local_aws" / "fixture_app" / "layer" / "python")


def pins(requirements: Path) -> dict[str, Requirement]:
    """Distribution name (canonical) -> requirement, following ``-r`` includes."""
    found: dict[str, Requirement] = {}
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(requirements.parent / line[3:].strip()))
        elif line:
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def python_files(roots: Iterable[str | Path]) -> Iterator[Path]:
    for root in roots:
        path = REPO / root
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute module names imported anywhere in ``path`` (also ``module.name`` for from-imports,
    which may be submodules)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def is_local(top: str, importer: Path) -> bool:
    """A module of the checkout: beside the importer (scripts run with their folder on sys.path),
    at the repository root, or in a layer folder."""
    folders = (importer.parent, REPO, *LAYER_ROOTS)
    return any((folder / f"{top}.py").exists() or (folder / top).is_dir() for folder in folders)


def runtime_package_files(module: str) -> list[Path]:
    """The files Python runs for ``import vectora_core.a.b``: each package's __init__, the module."""
    parts, files = module.split("."), []
    for depth in range(1, len(parts) + 1):
        base = RUNTIME_PACKAGE_ROOT.joinpath(*parts[:depth])
        files += [
            candidate for candidate in (base / "__init__.py", base.with_suffix(".py")) if candidate.exists()
        ]
    return files


def third_party_imports(roots: Iterable[str | Path]) -> dict[str, set[str]]:
    """Top-level third-party module -> the files importing it, following vectora_core's modules."""
    found: dict[str, set[str]] = {}
    pending, seen = list(python_files(roots)), set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "vectora_core":
                pending += runtime_package_files(module)
            elif top not in sys.stdlib_module_names and not is_local(top, path):
                found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@cache
def distributions_of() -> Mapping[str, list[str]]:
    return packages_distributions()


def unpinned(imports: dict[str, set[str]], pinned: dict[str, Requirement]) -> list[str]:
    """One line per import no pinned distribution provides (with who imports it)."""
    problems = []
    for top, importers in sorted(imports.items()):
        provided_by = {canonicalize_name(name) for name in distributions_of().get(top, [])}
        if not provided_by & pinned.keys():
            problems.append(f"{top} (from {sorted(provided_by) or 'no installed distribution'}), "
                            f"imported by {', '.join(sorted(importers))}")  # fmt: skip
    return problems


RUNTIME_PINS = pins(REPO / "requirements.txt")
ALL_PINS = pins(REPO / "requirements-dev.txt")


def test_runtime_imports_are_pinned_in_requirements_txt() -> None:
    imports = third_party_imports(RUNTIME_ROOTS)
    # The scan must see what it is meant to see, or an empty result would pass.
    assert {"aws_cdk", "cdk_nag", "moto", "boto3"} <= imports.keys()
    assert unpinned(imports, RUNTIME_PINS) == []


def test_test_imports_are_pinned_in_one_of_the_two_files() -> None:
    imports = third_party_imports(["tests"])
    assert {"pytest", "syrupy"} <= imports.keys()
    assert unpinned(imports, ALL_PINS) == []


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_is_pinned_to_the_installed_version(requirements: str) -> None:
    # Exact pins make synth reproducible; the venv must hold what the files say.
    for name, requirement in pins(REPO / requirements).items():
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{requirements}: {requirement} is not pinned with =="
        assert version(name) == specifier.version, f"{requirements}: {requirement}, installed {version(name)}"


def test_a_module_missing_from_the_pins_is_reported() -> None:
    # The check itself: cdk_nag, known to be imported by vectora_constructs, without its pin.
    imports = third_party_imports(["vectora_constructs"])
    without_nag = {name: pin for name, pin in RUNTIME_PINS.items() if name != "cdk-nag"}
    assert [line.split(" ")[0] for line in unpinned(imports, without_nag)] == ["cdk_nag"]
