"""preflight.py's command line: a bad one is one line on stderr, exit 2, nothing attempted.

Its valid command lines synthesize the app (tests/fuzz leaves the script out as HEAVY), so its
refusals are proven here, through its real entry point.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "deploy" / "preflight.py"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--env", "nope"], "unknown environment 'nope'"),
        ([], "which environment"),
        (["--env", "dev", "--env", "stage"], "given more than once"),
        (["--env", "dev", "--assembly", "/nonexistent-assembly"], "is not a folder"),
        (["--env", "dev", "--bogus"], "--bogus"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2(argv: list[str], says: str) -> None:
    done = subprocess.run(  # noqa: S603  # the project's own script
        [sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
