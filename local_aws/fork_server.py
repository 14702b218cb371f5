"""A parent that has imported the server once and forks each server process (opt-in: the suite's).

A server process spends most of its start importing moto and what the patches import (about
2.5 s of CPU of its ~3); the test suite starts about fifty. With ``LOCAL_AWS_FORK_SERVER=1``,
``LocalAws.start`` asks a fork server of its process (started on first use, ended with it) for
each server instead: the fork server has imported every module a server imports, and its
child sets the server's environment, folder and log, then runs ``python -m local_aws serve``'s own
code. The patches are applied in the child, so each server's disabled patches are its own; moto's
backends are made on first request, so no state is shared: only imported code.

moto reads some variables when it is imported: a fork server only forks servers whose environment
equals its own but for the emulator's ``LOCAL_AWS_*`` settings (read when serving, never at
import), so a launcher has one per environment it starts servers in (at most four; a server of a
fifth, or of a fork server that has gone, starts as a process of its own, as without the setting).
What still tells a forked server from a process of its own: its command line (the fork server's),
the string-hash seed it shares with its siblings, and warnings raised while the modules were
imported (not in its log).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from local_aws import settings

ENABLE_ENV: Final = "LOCAL_AWS_FORK_SERVER"
# Variables a server may have of its own: the emulator's settings, and pytest's per-test name.
OWN_VARIABLES: Final = ("LOCAL_AWS_", "PYTEST_CURRENT_TEST")
READY: Final = b"ready\n"
READY_TIMEOUT_S: Final = 60.0  # as LocalAws's start: the imports, or a fork and its answer
MAX_FORK_SERVERS: Final = 4  # environments per launcher; a server of one more runs on its own
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


def _shared(env: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """What the servers of one fork server share: everything but their own variables."""
    return frozenset((name, value) for name, value in env.items() if not name.startswith(OWN_VARIABLES))


class ForkServerGone(RuntimeError):
    """The fork server ended between a request and its answer: the server's fate is not known."""


@dataclass
class ForkedServer:
    """A server forked by the fork server: not this process's child. Known by a pidfd opened as
    its pid arrives, so that a signal can never reach another process that took the pid after
    the fork server reaped it; its exit status is known to the fork server only."""

    pid: int
    pidfd: int = field(init=False)
    returncode: int | None = None

    def __post_init__(self) -> None:
        self.pidfd = os.pidfd_open(self.pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:  # readable: exited
            self.returncode = -1
            os.close(self.pidfd)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signum)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"server {self.pid}", timeout)
            time.sleep(0.05)
        return -1


class ForkServer:
    """One fork server process, and the environment every server it forks shares."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.shared = _shared(env)
        self._owner = os.getpid()  # a fork of the launcher must not write to this one's pipes
        self._lock = threading.Lock()
        self._process = subprocess.Popen(  # noqa: S603  # our own module, fixed argv
            [sys.executable, "-m", "local_aws.fork_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # every server logs to its own file; this one has no log
            cwd=settings.REPO_ROOT,
            env=dict(env),
        )
        self._ready = self._read_line(READY_TIMEOUT_S) == READY

    def _read_line(self, timeout: float) -> bytes:
        """One line of the fork server's, or b"" if it ended or said nothing within ``timeout``."""
        out = self._process.stdout
        assert out is not None  # noqa: S101  # a pipe, by construction
        return out.readline() if select.select([out], [], [], timeout)[0] else b""

    def usable(self) -> bool:
        return self._ready and self._owner == os.getpid() and self._process.poll() is None

    def fork(self, port: int, state_dir: Path, log: Path, env: Mapping[str, str]) -> ForkedServer | None:
        """The forked server; None if the fork server has gone before the request (the caller
        starts its own); ``ForkServerGone`` if it went after (a server may be running)."""
        request = {"port": port, "state_dir": str(state_dir), "log": str(log), "env": dict(env)}
        assert self._process.stdin is not None  # noqa: S101  # a pipe, by construction
        with self._lock:
            try:
                self._process.stdin.write(json.dumps(request).encode() + b"\n")
                self._process.stdin.flush()
            except OSError:  # a broken pipe: it exited
                self._ready = False
                return None
            answer = self._read_line(READY_TIMEOUT_S)
        if not answer:
            self._ready = False
            raise ForkServerGone(f"the fork server ended without starting the server on port {port}")
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


# This process's fork servers, one per shared environment (a test may change the environment).
_servers: dict[frozenset[tuple[str, str]], ForkServer] = {}
_servers_lock = threading.Lock()


def start_server(port: int, state_dir: Path, log: Path, env: Mapping[str, str]) -> ForkedServer | None:
    """The server forked from this process's fork server of its environment, or None where it
    may not be (not asked for, too many environments, a fork server that did not start or has
    gone): then the caller starts it."""
    if not enabled(env):
        return None
    shared = _shared(env)
    with _servers_lock:
        server = _servers.get(shared)
        if server is None:
            if len(_servers) >= MAX_FORK_SERVERS:
                return None
            server = _servers[shared] = ForkServer(env)
            atexit.register(server.close)
    return server.fork(port, state_dir, log, env) if server.usable() else None


# --- the fork server process ------------------------------------------------------------------
def _serve_forked(request: dict[str, Any]) -> None:
    """In the child: become what ``python -m local_aws serve`` is, then serve (never returns)."""
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
        # The ids moto draws differ from one server to the next, as across processes (Python
        # reseeds its own generator in a forked child, not moto's).
        importlib.import_module("moto.moto_api._internal").mock_random.seed()
        from local_aws.server import serve

        serve(int(request["port"]), Path(request["state_dir"]))  # ends the process itself
    except BaseException:  # noqa: BLE001  # into the server's log, then out
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


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
