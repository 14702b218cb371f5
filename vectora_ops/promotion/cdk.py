"""The project's pinned CDK CLI (``node_modules/.bin/cdk``), run as a user runs it (on the pinned
Node, as ``make`` runs it: ``vectora_ops.cdk_cli``).

Its output is streamed line by line to a callback (the terminal shows a long deploy as it goes) and
kept; a failure raises ``CdkError`` with the last lines. Every run is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from vectora_ops.cdk_cli import cdk_cli_env, node_bin
from vectora_ops.errors import OperationError

CDK_TIMEOUT_S: Final = 1800.0
# Unattended runs, as the local AWS's: no telemetry, no prompt (stdin is closed anyway).
UNATTENDED_ENV: Final = {"CDK_DISABLE_CLI_TELEMETRY": "true", "CI": "true"}
TAIL_LINES: Final = 25


class CdkError(OperationError):
    """The CLI failed or timed out (the message carries its last lines, on one line each)."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


def cdk_binary(root: Path) -> Path:
    binary = node_bin(root) / "cdk"
    if not binary.exists():
        raise OperationError(f"the pinned CDK CLI is not installed in {root}: run `make install`")
    return binary


def run_cdk(
    root: Path,
    args: Sequence[str],
    *,
    echo: Callable[[str], None] | None = None,
    timeout_s: float = CDK_TIMEOUT_S,
) -> str:
    """``cdk <args>`` from ``root``; its whole output, or CdkError."""
    process = subprocess.Popen(  # noqa: S603  # the pinned CLI, arguments built by this package
        [str(cdk_binary(root)), *args],
        cwd=root,
        env={**os.environ, **cdk_cli_env(root), **UNATTENDED_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a timeout or Ctrl-C stops the CLI and the app it runs
    )
    lines: list[str] = []

    def pump() -> None:
        for raw in process.stdout or ():
            line = raw.decode("utf-8", errors="replace").rstrip()
            lines.append(line)
            if echo is not None and line.strip():
                echo(line)

    reader = threading.Thread(target=pump, name="cdk-output", daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout_s)
    except BaseException as err:  # a timeout, or Ctrl-C: stop the CLI before going on
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=5)
        if isinstance(err, subprocess.TimeoutExpired):
            raise CdkError(
                f"cdk {args[0]} did not finish within {timeout_s:.0f} s", "\n".join(lines)
            ) from None
        raise
    finally:
        reader.join(timeout=10)
    output = "\n".join(lines)
    if code != 0:
        tail = " | ".join(line.strip() for line in lines[-TAIL_LINES:] if line.strip())
        raise CdkError(f"cdk {args[0]} exited with status {code}: {tail}", output)
    return output
