"""scripts/deploy/synth_summary.py (``make summary``) on the session's synth of every environment:
one row per stack with its dependencies and resource count, and one line for a folder that is not
a cloud assembly."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.assembly import CloudAssembly
from tests.support.cdk_cli import REPO_ROOT

pytestmark = pytest.mark.synth


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "synth_summary", REPO_ROOT / "scripts/deploy/synth_summary.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synth_summary = _load()


def test_each_stack_has_its_row_with_its_resources_and_dependencies(assembly: CloudAssembly) -> None:
    rows = {row[0]: row for row in synth_summary.stack_rows(assembly.directory)}
    assert set(rows) == set(assembly.templates)  # nine stacks: three environments of three
    for name, template in assembly.templates.items():
        _, depends, count, by_type, protection = rows[name]
        assert count == str(len(template["Resources"]))
        assert "Lambda::Function x" in by_type or "Lambda" not in json.dumps(template["Resources"])
        wanted = [d for d in assembly.artifact(name).get("dependencies", []) if not d.endswith(".assets")]
        assert depends == (", ".join(wanted) or "-")
        assert protection in ("on", "off")
    assert any(row[1] != "-" for row in rows.values())  # S1-runtime depends on the S0 stacks


def _exit_status(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        synth_summary.cli.run(synth_summary.main, argv)
    return int(done.value.code or 0)


def test_the_command_prints_the_table_and_exits_0(
    assembly: CloudAssembly, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_status([str(assembly.directory)]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in assembly.templates)


NOT_AN_ASSEMBLY = "is not a cloud assembly (its manifest.json"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [(None, "no cloud assembly in"), ("[1]", NOT_AN_ASSEMBLY), ("{not json", NOT_AN_ASSEMBLY)],
    ids=["empty-folder", "odd-manifest", "not-json"],
)
def test_a_folder_that_is_not_an_assembly_gets_one_line_and_exit_1(
    tmp_path: Path, manifest: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if manifest is not None:
        (tmp_path / "manifest.json").write_text(manifest)
    assert _exit_status([str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_a_stack_whose_template_is_missing_is_named(assembly: CloudAssembly, tmp_path: Path) -> None:
    folder = tmp_path / "assembly"
    shutil.copytree(assembly.directory, folder, ignore=shutil.ignore_patterns("asset.*"))
    victim = sorted(assembly.templates)[0]
    (folder / assembly.artifact(victim)["properties"]["templateFile"]).unlink()
    with pytest.raises(synth_summary.OperationError, match=f"{victim}'s template in"):
        synth_summary.stack_rows(folder)
