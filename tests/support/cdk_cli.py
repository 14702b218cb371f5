"""Runs the project's pinned CDK CLI (node_modules) the way a user does: ``npx cdk ...``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from local_aws.settings import CDK_CLI_QUIET_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_BIN = REPO_ROOT / "node_modules" / ".bin" / "cdk"
# stage and prod refuse to synthesize without somebody to notify: the tests' subscriber.
TEST_ALARM_EMAIL = "alarms@example.com"
ALARM_CONTEXT = ("-c", f"alarm_emails={TEST_ALARM_EMAIL}")
# "false" turns off the CDK's built-in template validator (aws-cdk-lib reads it in node).
VALIDATION_ENV = "CDK_VALIDATION"


def cdk_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **CDK_CLI_QUIET_ENV}
    env.update(extra or {})
    return env


def run_cdk(
    args: Sequence[str],
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cdk <args>`` from the repo root; on failure, raise with the CLI's own output."""
    result = subprocess.run(
        [str(CDK_BIN), *args],
        cwd=REPO_ROOT,
        env=cdk_env(extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"cdk {' '.join(args)} exited {result.returncode}"
            f"\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result
