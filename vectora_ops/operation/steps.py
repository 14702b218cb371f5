"""Running an operation as named steps: shown as they run, timed, recorded, open to fault injection.

Each step announces itself and its outcome through the progress callback (the CLI renders it; no
``print`` here), and lands in ``records`` for the audit. ``faults``, when given, is called with
the step's name as the step starts: tests raise an S3 or CloudFormation error there to prove that
a failure at that point is handled (the operations never pass it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vectora_ops.errors import typed_line
from vectora_ops.operation.records import iso
from vectora_ops.snapshots import ProgressCallback, ProgressEvent

FaultHook = Callable[[str], None]


@dataclass
class Steps:
    progress: ProgressCallback | None
    clock: Callable[[], datetime]
    faults: FaultHook | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    current: str | None = None

    def note(self, message: str) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent("note", message=message))

    def detail(self, message: str) -> None:
        """A line of a tool's own output (the CDK CLI's), indented under its step."""
        self.note(f"    {message}")

    @contextlib.contextmanager
    def step(self, name: str, title: str, *, injectable: bool = True) -> Iterator[dict[str, Any]]:
        """``with steps.step("deploy", "deploy stage from dev's assembly") as info: ...``;
        ``info`` is the step's record (add evidence to it)."""
        record: dict[str, Any] = {"step": name, "title": title, "started": iso(self.clock())}
        self.records.append(record)
        self.current = name
        self.note(f"▶ {title}")
        started = time.monotonic()
        try:
            if injectable and self.faults is not None:
                self.faults(name)
            yield record
        except BaseException as err:
            record.update(outcome="failed", error=typed_line(err))
            record["seconds"] = round(time.monotonic() - started, 2)
            self.note(f"✘ {title}: {record['error']}")
            raise
        record.update(outcome="done", seconds=round(time.monotonic() - started, 2))
        self.note(f"✔ {title} ({record['seconds']:.1f} s)")
        self.current = None
