"""One failure at the Nth AWS call: a lost connection or a Ctrl-C at every step of an operation.

``CallFaults()`` sees every API call of every client of this process (whatever session an
operation makes): ``armed()`` counts the calls an operation makes, ``armed(n, fault)`` fails the
nth call of the next run, once. The hook is where a client starts a call, before botocore's
retries, so a lost connection is final, as one that stays lost is. A Ctrl-C is a real SIGINT sent
to this process at that call: the operation's own handling decides, as for an operator's (raised
in the main thread at once, or noted where the operation defers interrupts).

``run_main(main, argv)``: a script's ``main`` through ``cli.run`` in this process, as the
operator's shell runs it: (exit status, stdout, stderr); any exception other than ``SystemExit``
escapes (a traceback is a failure of the test).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import EndpointConnectionError

from tests.fuzz.harness import SCRIPTS
from vectora_ops import cli

Main = Callable[[Sequence[str] | None], int]


def lost_connection() -> BaseException:
    return EndpointConnectionError(endpoint_url="http://aws.invalid")


def interrupt() -> None:
    os.kill(os.getpid(), signal.SIGINT)


# A fault returns the exception to raise at the call, or None when it acted by itself (a signal).
Fault = Callable[[], BaseException | None]
FAULTS: dict[str, Fault] = {"lost-connection": lost_connection, "ctrl-c": interrupt}


@dataclass
class Call:
    operation: str
    bucket: str | None
    key: str | None

    def __str__(self) -> str:
        return f"{self.operation} {self.bucket or ''}/{self.key or ''}"


@dataclass(kw_only=True)
class CallFaults:
    counting: bool = False
    calls: list[Call] = field(default_factory=list)
    nth: int | None = None
    error: Fault | None = None
    fired: Call | None = None
    # Which calls may fail (all by default): a test of one step narrows it.
    where: Callable[[Call], bool] = field(default=lambda call: True)

    def seen(self, operation: str, params: dict[str, Any]) -> None:
        if not self.counting:
            return
        call = Call(operation, params.get("Bucket"), params.get("Key"))
        if not self.where(call):
            return
        self.calls.append(call)
        if self.error is not None and len(self.calls) == self.nth and self.fired is None:
            self.fired = call
            error = self.error()
            if error is not None:
                raise error

    @contextlib.contextmanager
    def armed(
        self,
        nth: int | None = None,
        error: Fault | None = None,
        where: Callable[[Call], bool] | None = None,
    ) -> Any:
        """Count calls (and fail the nth with ``error``) while the block runs."""
        self.calls, self.nth, self.error, self.fired = [], nth, error, None
        self.where = where or (lambda call: True)
        self.counting = True
        try:
            with on_every_call(self.seen):
                yield self
        finally:
            self.counting = False


Hook = Callable[[str, dict[str, Any]], None]  # (operation, parameters): may raise to fail the call
_HOOKS: list[Hook] = []
_MAKE_API_CALL = BaseClient._make_api_call


@contextlib.contextmanager
def on_every_call(hook: Hook) -> Iterator[None]:
    """``hook`` sees every AWS call this process makes while the block runs."""
    _HOOKS.append(hook)
    try:
        yield
    finally:
        _HOOKS.remove(hook)


def _make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    for hook in list(_HOOKS):
        hook(operation, params)
    return _MAKE_API_CALL(client, operation, params)


# Once per process, inert while nothing is armed: botocore's events are per session, and an
# operation makes its own sessions.
BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


def load_script(relative: str) -> ModuleType:
    """``scripts/<relative>`` as a module (its ``main``), without running its ``__main__`` block."""
    path = SCRIPTS / relative
    spec = importlib.util.spec_from_file_location(Path(relative).stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_main(main: Main, argv: Sequence[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: object = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.run(main, list(argv))
        except SystemExit as done:
            code = done.code
    return int(code or 0) if not isinstance(code, str) else 1, out.getvalue(), err.getvalue()
