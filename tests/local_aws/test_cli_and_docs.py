"""The ``python -m local_aws`` command line on bad input, and the patch documentation contract:
every patch module says symptom / cause / fix, is listed in the README, and has a test that
proves it is needed."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_aws.patches import PATCHES

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parent


def _cli(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_aws", "--state-dir", str(state_dir), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deploy_of_an_unknown_environment_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    result = _cli("deploy", "--env", "qa", state_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "local_aws deploy: unknown environment 'qa': allowed values are dev, stage, prod"
    )
    assert not (tmp_path / "server.json").exists()


def test_down_when_nothing_runs_says_so(tmp_path: Path) -> None:
    result = _cli("down", state_dir=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "local AWS was not running")


def test_patches_command_lists_every_patch(tmp_path: Path) -> None:
    listed = [line.split()[0] for line in _cli("patches", state_dir=tmp_path).stdout.splitlines()]
    assert listed == [name for name, _ in PATCHES]


@pytest.mark.parametrize("patch", [name for name, _ in PATCHES])
def test_each_patch_is_documented_and_proven_needed(patch: str) -> None:
    module = importlib.import_module(f"local_aws.patches.{patch}")
    doc = module.__doc__ or ""
    for section in ("Symptom", "Cause", "Fix"):
        assert f"{section}:" in doc, f"{patch}: docstring lacks '{section}:'"
    assert f"`{patch}`" in (REPO_ROOT / "local_aws" / "README.md").read_text(), f"{patch} missing in README"
    tests = "".join(p.read_text() for p in TESTS.glob("test_*.py"))
    assert re.search(rf'assert_patch_needed\(\s*"{patch}"', tests), (
        f"no test runs assert_patch_needed for {patch}"
    )
