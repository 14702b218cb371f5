"""Run the pinned CDK CLI (``npx cdk``, node_modules of the repo) against a local AWS.

Every run is bounded; a run that fails or times out raises ``CdkCommandError`` carrying the
CLI's output and the tail of the emulator's log, so a hung or failed deploy explains itself.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from local_aws import settings
from local_aws.server import LocalAws

DEFAULT_TIMEOUT_S = 300.0  # "a hung deploy must fail within a few minutes"


class CdkCommandError(RuntimeError):
    def __init__(self, message: str, *, output: str, emulator_log: str) -> None:
        super().__init__(
            f"{message}\n--- CDK CLI output (tail) ---\n{_tail(output, 60)}"
            f"\n--- local AWS log (tail) ---\n{emulator_log}"
        )
        self.output = output
        self.emulator_log = emulator_log


@dataclass(frozen=True)
class CdkResult:
    args: tuple[str, ...]
    output: str
    seconds: float
    returncode: int = 0


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def cdk_env(aws: LocalAws, region: str = settings.DEFAULT_REGION) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # no real-account leftovers
    env.update(aws.client_env(region))
    env.update(settings.CDK_CLI_QUIET_ENV)
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"  # no network here, and nothing to report
    env.setdefault("CI", "true")
    return env


def _cdk_command() -> list[str]:
    # The pinned CLI of package-lock.json; `npx --no-install` only if node_modules is elsewhere.
    local = settings.REPO_ROOT / "node_modules" / ".bin" / "cdk"
    return [str(local)] if local.exists() else ["npx", "--no-install", "cdk"]


def run_cdk(
    aws: LocalAws,
    args: Sequence[str],
    *,
    app: str | None = None,
    output_dir: Path | None = None,
    cwd: Path = settings.REPO_ROOT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    region: str = settings.DEFAULT_REGION,
    check: bool = True,
    echo: TextIO | None = None,
) -> CdkResult:
    """``cdk <args>`` against ``aws``; ``app``/``output_dir`` become ``--app``/``--output``.

    The output is collected (and copied line by line to ``echo`` if given). After ``timeout_s``
    the CLI and its children (the synthesizing app) are killed and ``CdkCommandError`` raised.
    """
    command = [*_cdk_command(), *args]
    if app is not None:
        command += ["--app", app]
    if output_dir is not None:
        command += ["--output", str(output_dir)]
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603  # the pinned CLI, arguments from our callers
        command,
        cwd=cwd,
        env=cdk_env(aws, region),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a timeout kills the CLI and the app it runs
    )
    lines: list[str] = []
    stdout = process.stdout  # a pipe: stdout=PIPE above

    def pump() -> None:
        for raw in stdout or ():
            line = raw.decode("utf-8", errors="replace")
            lines.append(line)
            if echo is not None:
                echo.write(line)
                echo.flush()

    reader = threading.Thread(target=pump, name="cdk-output", daemon=True)
    reader.start()
    try:
        returncode = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=5)
        raise CdkCommandError(
            f"`cdk {shlex.join(args)}` did not finish within {timeout_s:.0f} s",
            output="".join(lines),
            emulator_log=aws.log_tail(),
        ) from None
    reader.join(timeout=10)
    output = "".join(lines)
    if check and returncode != 0:
        raise CdkCommandError(
            f"`cdk {shlex.join(args)}` exited with status {returncode}",
            output=output,
            emulator_log=aws.log_tail(),
        )
    return CdkResult(
        args=tuple(args), output=output, seconds=time.monotonic() - started, returncode=returncode
    )


def python_app(app_file: Path) -> str:
    """An ``--app`` command running ``app_file`` with this interpreter (the venv's)."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(app_file))}"


def bootstrap(
    aws: LocalAws,
    *,
    app: str | None = None,
    output_dir: Path | None = None,
    context: Sequence[str] = (),
    region: str = settings.DEFAULT_REGION,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    echo: TextIO | None = None,
) -> CdkResult:
    """``cdk bootstrap`` of the emulator's account/region (the CLI synthesizes the app first, so
    an app that requires context, like ours, needs its ``-c`` flags: ``context``)."""
    return run_cdk(
        aws,
        ["bootstrap", f"aws://{settings.ACCOUNT_ID}/{region}", "--ci", *context],
        app=app,
        output_dir=output_dir,
        region=region,
        timeout_s=timeout_s,
        echo=echo,
    )
