"""scripts/checklist.py: the question without --env, bad input, the table and its exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import CloudAssembly

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "checklist.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # An endpoint nothing answers on: the environment is not reachable, whatever this machine runs.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ENDPOINT_URL": "http://localhost:1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_a_missing_env_asks_which_environment() -> None:
    done = run()
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "checklist.py: error: which environment: dev, stage or prod? pass --env dev|stage|prod (see --help)"
    ]


def test_an_assembly_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    for folder, words in ((tmp_path, "is not a cloud assembly"), (tmp_path / "nope", "is not a folder")):
        done = run("--env", "dev", "--assembly", str(folder))
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and words in done.stderr, (
            done.stderr
        )


def test_unreachable_environment_still_checks_the_templates(assembly: CloudAssembly) -> None:
    done = run("--env", "stage", "--assembly", str(assembly.directory))
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 3}
    for item in ("naming", "env-variables", "buckets", "stack-order", "parameters"):
        assert "✓" in rows[item], rows[item]
    for item in ("recent-snapshot", "rollback-possible", "post-deployment"):
        assert "–" in rows[item] and "environment not reachable" in rows[item], rows[item]
    # exit 1 exactly when an item failed, with one error line naming them
    failed = [name for name, row in rows.items() if "✗" in row]
    assert done.returncode == (1 if failed else 0), done.stdout + done.stderr
    if failed:
        assert done.stderr.splitlines() == [f"error: {len(failed)} item(s) failed: {', '.join(failed)}"]
