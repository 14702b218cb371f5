"""Ctrl-C (SIGINT) once an operation's outcome is settled: noted, never allowed to change it.

An operation that has finished (restored and verified, refused, rolled back) still has to write
its audit record, release its lock and print its outcome. A Ctrl-C arriving then must not turn a
success into exit 130 nor leave the audit record or the lock behind:
``with deferred_interrupts() as received:`` records the interrupt instead of raising it, and the
caller says that it arrived too late to stop anything. Outside the main thread (where signal
handlers cannot be set) the block runs as it is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any, Final

LATE_INTERRUPT: Final = "interrupt received after the operation had finished: its outcome stands"


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[list[int]]:
    """SIGINT recorded (the list holds one entry per interrupt received) rather than raised."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def record(signum: int, _frame: Any) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
        # Nested in another deferral (an audit record written once a rollback is settled): that
        # one hears of it too. Python's default handler would raise: not once the block is over.
        if callable(previous) and previous is not signal.default_int_handler:
            for signum in received:
                previous(signum, None)


class Settlement:
    """Where an operation's outcome becomes final: from ``settle()`` on, a Ctrl-C is recorded
    (``interrupted``), never raised: it must not undo a verified change nor lose its record.

        with Settlement() as settled:
            ...                      # interruptible: a Ctrl-C here is a failure
            settled.settle()         # the outcome is known
            ...                      # audit, release the lock: a Ctrl-C here is only noted
        if settled.interrupted: say LATE_INTERRUPT
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._received: list[int] | None = None

    def settle(self) -> None:
        if self._received is None:
            self._received = self._stack.enter_context(deferred_interrupts())

    @property
    def interrupted(self) -> bool:
        return bool(self._received)

    def __enter__(self) -> Settlement:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
