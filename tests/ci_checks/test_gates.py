"""The two gates: ``make pr`` (lint, the rules-document test, then the whole suite; cheapest first,
stopping at the first failure) and ``.ci/run`` (lint, the README's test command, then the benchmarks'
smoke), driven with
a stand-in ``make`` that records which targets run and fails the one it is told to."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cdk_cli import REPO_ROOT

FAKE_MAKE = """#!/bin/sh
# Records its last argument (the target) and fails when it is $FAIL_AT.
target=$(eval echo "\\${$#}")
echo "$target" >> "$MAKE_LOG"
[ "$target" != "$FAIL_AT" ]
"""


def fake_make(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "bin"
    folder.mkdir()
    make = folder / "make"
    make.write_text(FAKE_MAKE)
    make.chmod(0o755)
    return make, tmp_path / "make.log"


def env_with(log: Path, fail_at: str, path: str | None = None) -> dict[str, str]:
    env = {**os.environ, "MAKE_LOG": str(log), "FAIL_AT": fail_at}
    if path:
        env["PATH"] = f"{path}{os.pathsep}{env['PATH']}"
    return env


def logged(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.mark.parametrize(
    ("fail_at", "ran", "code"),
    [("none", ["lint", "rules", "test"], 0), ("lint", ["lint"], 2), ("rules", ["lint", "rules"], 2)],
)
def test_make_pr_runs_the_cheap_checks_first_and_stops_at_the_first_failure(
    tmp_path: Path, fail_at: str, ran: list[str], code: int
) -> None:
    make, log = fake_make(tmp_path)
    result = subprocess.run(
        ["make", "--no-print-directory", "pr", f"MAKE={make}"],
        cwd=REPO_ROOT,
        env=env_with(log, fail_at),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert logged(log) == ran
    assert result.returncode == code, result.stdout + result.stderr
    if code == 0:
        assert "make pr: every check passed in" in result.stdout
        assert [line.split(" passed")[0] for line in result.stdout.splitlines() if " passed in " in line][
            :3
        ] == [
            "make pr: lint",
            "make pr: rules",
            "make pr: test",
        ]
    else:
        assert f"make pr: {fail_at} FAILED after" in result.stdout


@pytest.mark.parametrize(
    ("fail_at", "ran", "code"),
    [
        ("none", ["lint", "test", "bench-smoke"], 0),
        ("lint", ["lint"], 1),
        ("test", ["lint", "test"], 1),
        ("bench-smoke", ["lint", "test", "bench-smoke"], 1),
    ],
)
def test_ci_runs_lint_the_test_suite_then_the_benchmarks_smoke(
    tmp_path: Path, fail_at: str, ran: list[str], code: int
) -> None:
    make, log = fake_make(tmp_path)
    result = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "run")],
        env=env_with(log, fail_at, path=str(make.parent)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (logged(log), result.returncode) == (ran, code), result.stdout + result.stderr
