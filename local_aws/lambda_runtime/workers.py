"""Warm execution environments: one ``bootstrap.py`` interpreter per environment, reused as on AWS.

Lambda keeps an execution environment after an invocation and hands it the next one: the init
phase (interpreter start, imports, module-level clients) is paid once per environment, not per
invocation. The runner does the same: an environment serves one invocation at a time; a free one
of the same function *as deployed* (same code, layers, interpreter and environment variables, so
any update of the function gets new environments) takes the next invocation, else a new one starts.

An environment is ended when its invocation times out or its interpreter exits (the next
invocation gets a fresh one, as on AWS), after ``IDLE_S`` unused, beyond ``MAX_IDLE`` free ones
(the least recently used goes first), and when the emulator stops. ``LOCAL_AWS_LAMBDA_WARM=0``
ends every environment after one invocation: a fresh interpreter each time.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

BOOTSTRAP: Final = Path(__file__).with_name("bootstrap.py")
WARM_ENV: Final = "LOCAL_AWS_LAMBDA_WARM"
IDLE_S: Final = 600.0
MAX_IDLE: Final = 16


class InvocationTimeout(Exception):
    """The invocation did not answer within its time; its environment is gone."""


class RuntimeExited(Exception):
    """The interpreter exited before answering (``sys.exit``, a crash); its environment is gone."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"Runtime exited with status {returncode} before answering")


def warm_enabled() -> bool:
    """Whether environments outlive an invocation (``LOCAL_AWS_LAMBDA_WARM``: 1, the default, or 0)."""
    raw = os.environ.get(WARM_ENV, "").strip() or "1"
    if raw not in ("0", "1"):
        raise ValueError(f"{WARM_ENV}={raw!r}: 1 (reuse execution environments, the default) or 0")
    return raw == "1"


@dataclass
class Environment:
    """One running ``bootstrap.py``: its process, and when it last answered."""

    process: subprocess.Popen[str]
    last_used: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, interpreter: Path, env: dict[str, str], cwd: Path) -> Environment:
        process = subprocess.Popen(  # noqa: S603  # our own bootstrap, fixed argv
            [str(interpreter), "-I", "-S", str(BOOTSTRAP)],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the bootstrap sends fd 2 to each invocation's log itself
            text=True,
            encoding="utf-8",
        )
        return cls(process)

    def invoke(self, request: dict[str, object], timeout_s: float) -> tuple[int, str]:
        """Send one invocation and wait for its answer: ``(status, payload)``. On InvocationTimeout
        and RuntimeExited the environment has been ended."""
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # never: both are pipes (start)
            raise RuntimeExited(self.process.poll())
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except OSError:  # BrokenPipeError included: it has exited
            raise self._exited() from None
        line = _read_line(stdout, timeout_s)
        if line is None:
            self.end()
            raise InvocationTimeout
        if not line:
            raise self._exited()
        self.last_used = time.monotonic()
        answer = json.loads(line)
        return int(answer["status"]), str(answer["payload"])

    def _exited(self) -> RuntimeExited:
        returncode = self.process.wait()
        self.end()  # its pipes
        return RuntimeExited(returncode)

    def alive(self) -> bool:
        return self.process.poll() is None

    def end(self) -> None:
        if self.alive():
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _read_line(stream: IO[str], timeout_s: float) -> str | None:
    """One line of ``stream`` ('' at its end), or None after ``timeout_s``."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return got[0] if got else None


class Pool:
    """Free environments by function-as-deployed key; thread-safe (the server is threaded)."""

    def __init__(self) -> None:
        self._free: dict[Hashable, list[Environment]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> Environment | None:
        """A free, still running environment for ``key`` (the most recently used), or None."""
        with self._lock:
            self._reap(time.monotonic())
            free = self._free.get(key, [])
            while free:
                environment = free.pop()
                if environment.alive():
                    return environment
                environment.end()
        return None

    def give_back(self, key: Hashable, environment: Environment) -> None:
        if not warm_enabled() or not environment.alive():
            environment.end()
            return
        with self._lock:
            self._free.setdefault(key, []).append(environment)
            self._reap(time.monotonic())

    def _reap(self, now: float) -> None:
        every = [(e.last_used, id(e), key, e) for key, free in self._free.items() for e in free]
        every.sort()
        excess = len(every) - MAX_IDLE
        for index, (last_used, _, key, environment) in enumerate(every):
            if index < excess or now - last_used > IDLE_S:
                self._free[key].remove(environment)
                environment.end()
        self._free = {key: free for key, free in self._free.items() if free}

    def end_all(self) -> None:
        with self._lock:
            for free in self._free.values():
                for environment in free:
                    environment.end()
            self._free = {}


POOL: Final = Pool()
atexit.register(POOL.end_all)
