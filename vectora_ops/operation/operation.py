"""The frame the guarded deploy, the promotion and the rollback share (the takeover keeps its own
for now).

An operation runs under the target's lock (in a scratch folder), as named steps (``Steps``); its
audit entry grows as it goes and is written once per outcome (a refusal, a failure, a dry run,
success), a lock that could not be released added to the last record; a failure after the
target's snapshot restores it (``recovery.restore``); once the outcome is known, a Ctrl-C cannot
replace it (``Settlement``). ``Operation`` is that frame, mixed into each operation's dataclass,
which provides where its audit records go (``_write_audit``) and how its outcome reads.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from vectora_ops.audit import audit_entry
from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError, stop_reason
from vectora_ops.interrupts import LATE_INTERRUPT, Settlement
from vectora_ops.operation import recovery
from vectora_ops.operation.lock import EnvironmentLock, lock_outcome
from vectora_ops.operation.records import DeploymentRecord, iso
from vectora_ops.operation.state import EnvState
from vectora_ops.operation.steps import FaultHook, Steps
from vectora_ops.snapshots import ProgressCallback
from vectora_ops.snapshots.engine import Clock

Result = TypeVar("Result")
# The audit record's result after a failure, by whether the target was restored (None: nothing to).
FAILED: dict[bool | None, str] = {True: "failed, restored", False: "failed, NOT restored", None: "failed"}


class ChangeFailed(OperationError):
    """A step failed after the target's snapshot: ``step`` names it, ``restored`` says whether the
    target was put back (None: nothing had changed yet)."""

    def __init__(self, message: str, *, step: str | None, restored: bool | None) -> None:
        super().__init__(message)
        self.step, self.restored = step, restored


class Operation:
    """The frame of one operation (see the module); the dataclass mixing it in has these fields."""

    clock: Clock
    progress: ProgressCallback | None
    faults: FaultHook | None
    started: datetime
    steps: Steps
    entry: dict[str, Any]
    # The last audit record written (result, extra): the lock's fate is added to it afterwards.
    audited: tuple[str, dict[str, Any]] | None
    settled: Settlement

    def _begin(self, kind: str, **entry: Any) -> None:
        """Start the clock, the steps and the audit entry (the operator's, every record's)."""
        self.started = self.clock()
        self.steps = Steps(self.progress, self.clock, self.faults)
        self.entry = audit_entry(kind, self.started, **entry)

    def _write_audit(self, entry: dict[str, Any]) -> str | None:
        """Write one audit record; where it goes is the operation's. Never raises."""
        raise NotImplementedError

    def _audit(self, result: str, **extra: Any) -> str | None:
        """One record per outcome: the entry so far, ``extra``, the result and the steps."""
        self.audited = (result, extra)
        now = self.clock()
        entry = {
            **self.entry,
            **extra,
            "result": result,
            "steps": self.steps.records,
            "finished_at": iso(now),
        }
        entry["duration_s"] = round((now - self.started).total_seconds(), 1)
        return self._write_audit(entry)

    def _locked(self, lock: EnvironmentLock, scratch: str, body: Callable[[Path], Result]) -> Result:
        """``_held``, with a scratch folder: ``body(folder)``, the folder removed before the lock is
        released."""

        def in_scratch() -> Result:
            work = Path(tempfile.mkdtemp(prefix=scratch))
            try:
                return body(work)
            finally:
                shutil.rmtree(work, ignore_errors=True)

        return self._held(lock, in_scratch)

    def _held(self, lock: EnvironmentLock | None, body: Callable[[], Result]) -> Result:
        """``body()``, then ``lock`` released whatever happened (None: a dry run's, or held by the
        caller): an outcome raised before any record is audited first; a lock that stays is added
        to the outcome."""
        with self.settled:
            try:
                outcome = body()
            except BaseException as err:
                if self.audited is None:  # an interrupt or an AWS error before any change
                    failed = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
                    self._audit(f"{failed} before any change", error=stop_reason(err))
                self._release(lock, err)
                raise
            warnings: list[str] = outcome.warnings  # type: ignore[attr-defined]  # every outcome has them
            warnings += self._release(lock, None)
            if self.settled.interrupted:
                warnings.append(LATE_INTERRUPT)
            return outcome

    def _release(self, lock: EnvironmentLock | None, outcome: BaseException | None) -> list[str]:
        """Release the lock; a failure is added to the outcome and its audit record, not raised."""
        problem = lock_outcome(lock, outcome, self.steps.note) if lock is not None else None
        if problem and self.audited is not None:
            self.entry["lock"] = problem
            self._audit(self.audited[0], **self.audited[1])
        return [problem] if problem else []

    def _restore(
        self,
        err: BaseException,
        target: Environment,
        pre_id: str | None,
        *,
        before: EnvState | None,
        previous: DeploymentRecord | None,
        approve: str | None,
        cause: dict[str, str],
        first: str,
    ) -> tuple[str, str, bool | None]:
        """After a failure while ``target`` changed: put it back from ``pre_id`` (``first`` says
        why there is nothing to, without one), audit the outcome; returns the one line that ends the
        operation's message (where it failed, why, the restore, the audit record), the step and
        ``restored``."""
        step, reason = self.steps.current or "?", stop_reason(err)
        self.entry.update(failed_step=step, error=reason)
        restored: bool | None
        if pre_id is None:
            restored, how = None, first
        else:
            restored, how = recovery.restore(
                self.steps, target, pre_id, before=before, previous=previous, approve=approve,
                clock=self.clock, progress=self.progress, started=self.started, cause={**cause, "step": step},
            )  # fmt: skip
        self.settled.settle()  # restored or not, the outcome is known: a Ctrl-C cannot replace it
        self.entry["restore"] = {"restored": restored, "detail": how}
        audit = self._audit(FAILED[restored])
        return f"failed at step {step} ({reason}); {how}; audit: {audit}", step, restored
