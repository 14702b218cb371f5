"""Progress reporting: the engine emits events, the caller (a script, a Lambda) decides how to show them.

The engine stays free of display libraries (it runs in a Lambda with only boto3); the scripts turn
these events into a rich progress bar on a terminal, or plain lines otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """``step`` started (done=0), advanced, or finished (done == total); ``message`` is a plain note."""

    step: str
    done: int = 0
    total: int = 0
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class Reporter:
    """Thread-safe counter per step, forwarding events to an optional callback."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}

    def start(self, step: str, total: int) -> None:
        with self._lock:
            self._done[step], self._total[step] = 0, total
        self._emit(ProgressEvent(step, 0, total))

    def advance(self, step: str, count: int = 1) -> None:
        with self._lock:
            self._done[step] = self._done.get(step, 0) + count
            # Emitted under the lock so that displays see counts in order.
            self._emit(ProgressEvent(step, self._done[step], self._total.get(step, 0)))

    def note(self, message: str) -> None:
        self._emit(ProgressEvent("note", message=message))

    def _emit(self, event: ProgressEvent) -> None:
        if self._callback is not None:
            self._callback(event)
