"""Every operations script is ``main(argv) -> int`` run by ``vectora_ops.cli.run``: its
``__main__`` block is that one call, so the exit status and the one-line errors are the
convention's (``vectora_ops/cli.py``), not each script's own. Checked on the source, for every
script ``harness.discover_scripts`` finds; the fuzz tests check the behaviour."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.fuzz.harness import discover_scripts, script_id


def cli_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the module ``vectora_ops.cli`` and to its ``run``."""
    modules, runs = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "vectora_ops":
            modules |= {a.asname or a.name for a in node.names if a.name == "cli"}
        elif isinstance(node, ast.ImportFrom) and node.module == "vectora_ops.cli":
            runs |= {a.asname or a.name for a in node.names if a.name == "run"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "vectora_ops.cli" and a.asname}
    return modules, runs


def main_block(tree: ast.Module) -> list[ast.stmt]:
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and "__name__" in ast.unparse(node.test)
            and "__main__" in ast.unparse(node.test)
        ):
            return node.body
    return []


def convention_problem(path: Path) -> str | None:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    modules, runs = cli_names(tree)
    body = main_block(tree)
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not isinstance(call, ast.Call) or len(call.args) != 1:
        return f"__main__ block is not one call of vectora_ops.cli.run: {[ast.unparse(s) for s in body]}"
    func = call.func
    by_module = isinstance(func, ast.Attribute) and func.attr == "run" and ast.unparse(func.value) in modules
    if not (by_module or (isinstance(func, ast.Name) and func.id in runs)):
        return f"__main__ calls {ast.unparse(func)}, not vectora_ops.cli.run"
    main = call.args[0]
    if isinstance(main, ast.Lambda) and len(main.args.args) != 1:
        return "the callable given to run() must take argv"
    return None


def params() -> list[object]:
    return [pytest.param(path, id=script_id(path)) for path in discover_scripts()]


@pytest.mark.parametrize("path", params())
def test_the_script_is_main_argv_run_by_cli_run(path: Path) -> None:
    assert convention_problem(path) is None, convention_problem(path)


def test_the_check_refuses_a_script_of_its_own(tmp_path: Path) -> None:
    # The check itself: the pattern passes, a script exiting by itself does not.
    good = tmp_path / "good.py"
    good.write_text('from vectora_ops import cli as _cli\n\nif __name__ == "__main__":\n    _cli.run(main)\n')
    bad = tmp_path / "bad.py"
    bad.write_text('import sys\n\nif __name__ == "__main__":\n    sys.exit(main())\n')
    assert convention_problem(good) is None
    assert convention_problem(bad) == "__main__ calls sys.exit, not vectora_ops.cli.run"


def test_discovery_finds_the_scripts_and_only_them() -> None:
    found = {script_id(p) for p in discover_scripts()}
    assert {"maintenance/rollback_snapshot.py", "invoke/local_demo.py", "config/validate_config.py"} <= found
    assert "invoke/fixture_feeds.py" not in found  # a module the demo imports, not a script
