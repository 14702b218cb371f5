"""A parent that has imported the server once and forks each server process (opt-in: the suite's).

A server process spends most of its start importing moto and what the patches import (about
2.5 s of CPU of its ~3); the test suite starts about fifty. With ``LOCAL_AWS_FORK_SERVER=1``,
``LocalAws.start`` asks one fork server per launching process (started on first use, ended with
it) for each server instead: the fork server has imported every module a server imports, and its
child sets the server's environment, folder and log, then runs ``python -m local_aws serve``'s own
code. The patches are applied in the child, so each server's disabled patches are its own; moto's
backends are made on first request, so no state is shared: only imported code.

moto reads some variables when it is imported: a server whose environment differs from the fork
server's in anything but the emulator's own ``LOCAL_AWS_*`` settings (read when serving, never at
import) is started as a process of its own, as without the setting.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from local_aws import settings

ENABLE_ENV: Final = "LOCAL_AWS_FORK_SERVER"
# Variables a server may have of its own: the emulator's settings, and pytest's per-test name.
OWN_VARIABLES: Final = ("LOCAL_AWS_", "PYTEST_CURRENT_TEST")
READY: Final = b"ready\n"
# What ``serve`` imports before it serves (the patches are imported here, applied in each child).
PRELOAD: Final = (
    "werkzeug.serving",
    "moto.moto_server.werkzeug_app",
    "local_aws.server",
    "local_aws.http_headers",
    "local_aws.iam.enforce",
    "local_aws.internet",
    "local_aws.wsgi",
)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``LOCAL_AWS_FORK_SERVER`` asks for it: ``1``, or ``0``/unset; anything else is a
    one-line error (ValueError)."""
    raw = (os.environ if environ is None else environ).get(ENABLE_ENV, "0")
    if raw not in ("0", "1"):
        raise ValueError(f"{ENABLE_ENV}={raw!r}: 1 (fork servers from one preloaded process) or 0")
    return raw == "1"


def _shared(env: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if not name.startswith(OWN_VARIABLES)}


@dataclass
class ForkedServer:
    """A server forked by the fork server: not this process's child, so known by its pid alone
    (the fork server reaps it; its exit status is not known here: -1)."""

    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        from local_aws.server import _alive

        if self.returncode is None and not _alive(self.pid):
            self.returncode = -1
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"server {self.pid}", timeout)
            time.sleep(0.05)
        return -1


class ForkServer:
    """The fork server process, and the environment every server it forks shares."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._lock = threading.Lock()
        self._process = subprocess.Popen(  # noqa: S603  # our own module, fixed argv
            [sys.executable, "-m", "local_aws.fork_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=settings.REPO_ROOT,
            env=self.env,
        )
        self._ready = self._read_line() == READY

    def _read_line(self) -> bytes:
        assert self._process.stdout is not None  # noqa: S101  # a pipe, by construction
        return self._process.stdout.readline()

    def serves(self, env: Mapping[str, str]) -> bool:
        """Whether a server of this environment may be forked here (see the module's docstring)."""
        return self._ready and self._process.poll() is None and _shared(env) == _shared(self.env)

    def fork(self, port: int, state_dir: Path, log: Path, env: Mapping[str, str]) -> ForkedServer | None:
        """The forked server, or None if the fork server has gone (the caller starts its own)."""
        request = {"port": port, "state_dir": str(state_dir), "log": str(log), "env": dict(env)}
        assert self._process.stdin is not None  # noqa: S101  # a pipe, by construction
        with self._lock:
            try:
                self._process.stdin.write(json.dumps(request).encode() + b"\n")
                self._process.stdin.flush()
                answer = self._read_line()
            except OSError:  # a broken pipe: it exited
                return None
        if not answer:
            self._ready = False
            return None
        return ForkedServer(int(json.loads(answer)["pid"]))

    def close(self) -> None:
        """End of input: the fork server exits (its servers run on, in their own sessions)."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def start_server(port: int, state_dir: Path, log: Path, env: Mapping[str, str]) -> ForkedServer | None:
    """The server forked from this process's fork server, or None where it may not be (not asked
    for, another environment, a fork server that did not start): then the caller starts it."""
    global _server
    if not enabled(env):
        return None
    with _server_lock:
        if _server is None:
            _server = ForkServer(env)
            atexit.register(_server.close)
    if not _server.serves(env):
        return None
    return _server.fork(port, state_dir, log, env)


# --- the fork server process ------------------------------------------------------------------
def _serve_forked(request: dict[str, Any]) -> None:
    """In the child: become what ``python -m local_aws serve`` is, then serve (never returns)."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server waits for its own children
        os.setsid()  # as start_new_session: survives its launcher
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 1 << 16)  # the fork server's pipes stay its own
        os.chdir(settings.REPO_ROOT)
        os.environ.clear()
        os.environ.update(request["env"])
        random.seed()  # the ids moto draws differ from one server to the next, as across processes
        importlib.import_module("moto.moto_api._internal").mock_random.seed()
        from local_aws.server import serve

        serve(int(request["port"]), Path(request["state_dir"]))
        status = 0
    except BaseException:  # noqa: BLE001  # into the server's log, then out
        traceback.print_exc()
    finally:
        os._exit(status)


def _reap(_signum: int, _frame: object) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def main() -> None:
    from local_aws import patches

    for name in (*PRELOAD, *(f"local_aws.patches.{patch}" for patch, _ in patches.PATCHES)):
        importlib.import_module(name)
    # The servers are reaped as they exit (waited for, not ignored: their CPU time then counts in
    # this process's children's, and so in its launcher's, as a server process of its own would).
    signal.signal(signal.SIGCHLD, _reap)
    out = sys.stdout.buffer
    out.write(READY)
    out.flush()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _serve_forked(request)
        out.write(json.dumps({"pid": pid}).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
