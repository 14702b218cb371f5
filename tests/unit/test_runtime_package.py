"""The vectora-core layer carries the runtime only: what the pipeline functions run.

Operations code (command lines, the snapshot engine, promotion, stack updates) lives in
``vectora_ops`` and never ships to a function; the CDK never reaches the runtime either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vectora_core

PACKAGE = Path(vectora_core.__file__).parent
# Top-level modules a function never needs: CLIs, terminal display, operations, the CDK.
OPERATIONS_ONLY = {"argparse", "rich", "vectora_ops", "aws_cdk", "constructs", "cdk_nag", "getpass"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_runtime_package_imports_no_operations_code() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & OPERATIONS_ONLY)
        for path in sorted(PACKAGE.rglob("*.py"))
        if _imports(path) & OPERATIONS_ONLY
    }
    assert offenders == {}


def test_the_check_sees_an_operations_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import argparse\nfrom vectora_ops.cli import run\n", encoding="utf-8")
    assert _imports(module) & OPERATIONS_ONLY == {"argparse", "vectora_ops"}
