"""Rolling an environment back to a snapshot, in the frame every change runs in (``Operation``).

Validate the snapshot (complete, every checksum) and plan the restore → snapshot the current state
(``pre_rollback_…``) → restore the chosen components → plan again, which must be empty → on any
failure, put the ``pre_rollback_…`` state back. Its audit records go under ``audit/rollbacks/`` of
the snapshot store (``DIR/audit/rollbacks/`` with ``--local DIR``): beside the snapshots, where the
stability gate reads them.

An interrupt (Ctrl-C) is a failure like any other, and a lost connection never hides an outcome:
an audit record that cannot be written is said where its location would be (``audit: NOT written
(...)``), a lock that cannot be released is added to the outcome, neither raised instead of it.
The record's ``steps`` stay empty: its result says where a rollback stopped, and the rollback's
progress is the engine's (a refusal stays one line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from vectora_ops.errors import OperationError, RollbackError, SnapshotError, one_line, typed_line
from vectora_ops.interrupts import Settlement, deferred_interrupts
from vectora_ops.operation.lock import EnvironmentLock, LockHeld
from vectora_ops.operation.operation import Operation, Result
from vectora_ops.operation.steps import FaultHook
from vectora_ops.snapshots import DEFAULT_ROLLBACK_COMPONENTS, ProgressCallback, SnapshotEngine
from vectora_ops.snapshots.engine import Clock, Components
from vectora_ops.snapshots.ids import MAX_NAME, check_components, check_ref, is_pattern
from vectora_ops.snapshots.metadata import SnapshotMetadata
from vectora_ops.snapshots.restore import Plan
from vectora_ops.snapshots.rollback import (
    PRE_ROLLBACK_PREFIX,
    drift_warnings,
    failure_reason,
    held_components,
    pre_rollback_components,
    resolve_snapshot_id,
)
from vectora_ops.snapshots.store import Store
from vectora_ops.snapshots.verify import load_complete

AUDIT_KIND: Final = "rollbacks"


@dataclass
class RollbackReport:
    """How a rollback ended, as ``rollback_snapshot.py`` prints it."""

    snapshot_id: str
    env: str
    components: tuple[str, ...]
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pre_rollback_id: str | None = None
    audit: str | None = None
    verified: bool = False


def refusal(err: BaseException) -> str:
    """The audit result of a stop before anything changed."""
    if isinstance(err, KeyboardInterrupt):
        return "interrupted before any change"
    return "refused" if isinstance(err, OperationError) else "failed before any change"


@dataclass
class Rollback(Operation):
    """``Rollback(engine, "lai_v7_stable_20260130_143022", ["client_config"]).run()``: restore
    ``components`` (default: all but stacks) from ``snapshot`` (an id, or a glob for its newest
    complete match) into the engine's environment.

    ``lock``: the environment's lock (the one deploy and promotion take), held from validation to
    verification unless this is a dry run; taken by another operation, the rollback is refused
    (audited), nothing changed. An operation that already holds it (a promotion restoring its
    target) passes none.
    """

    engine: SnapshotEngine
    snapshot: str
    components: Components = None
    approve: str | None = None
    dry_run: bool = False
    lock: EnvironmentLock | None = None
    # The engine's (its clock names the snapshots and the records); no fault hook: no named steps.
    clock: Clock = field(init=False)
    progress: ProgressCallback | None = field(init=False)
    faults: FaultHook | None = field(init=False, default=None)
    store: Store = field(init=False)
    chosen: tuple[str, ...] = field(init=False)
    audited: tuple[str, dict[str, Any]] | None = field(init=False, default=None)
    settled: Settlement = field(init=False, default_factory=Settlement)

    def __post_init__(self) -> None:
        # A malformed request is refused before anything is attempted or audited.
        self.snapshot = check_ref(self.snapshot)
        self.chosen = check_components(self.components, default=DEFAULT_ROLLBACK_COMPONENTS)
        self.store = self.engine.store  # no backups bucket: SnapshotError, nowhere to audit anything
        self.clock, self.progress = self.engine.clock, self.engine.progress
        self._begin(
            "rollback", env=self.engine.env, snapshot=self.snapshot, components=list(self.chosen),
            approved_by=self.approve, dry_run=self.dry_run,
            **({"pattern": self.snapshot} if is_pattern(self.snapshot) else {}),
        )  # fmt: skip

    def run(self) -> RollbackReport:
        """SnapshotError when refused or failed before any change; RollbackError when a step failed
        after the pre-rollback snapshot (``restored`` tells whether the previous state was put
        back). Every attempt is audited.

        A Ctrl-C before any change is audited (a pre-rollback snapshot it cut short is marked with
        why) and re-raised; during the restore it puts the previous state back (RollbackError);
        once the rollback is verified it changes nothing.
        """
        if self.engine.aws.config.approval_required and not (self.approve or "").strip():
            self._audit("refused: no approval")
            raise SnapshotError(
                f'rollback in {self.engine.env} needs --approve "<who>" (recorded in the audit log); '
                "nothing was changed"
            )
        lock = None if self.dry_run else self.lock  # a dry run changes nothing: it needs no lock
        return self._held(lock, lambda: self._run(lock))

    def _run(self, lock: EnvironmentLock | None) -> RollbackReport:
        if lock is not None:
            self._unchanged(lock.acquire)
        # 1. Validate the whole snapshot and plan the restore. Both only read: nothing changed yet.
        metadata, plan = self._unchanged(self._plan)
        changes = [str(c) for c in plan.changes]
        report = RollbackReport(
            metadata.snapshot_id, self.engine.env, self.chosen, self.dry_run, changes, plan.notes
        )
        if self.dry_run or not plan.changes:
            self.settled.settle()
            report.verified = not plan.changes
            report.audit = self._audit("dry-run" if self.dry_run else "nothing to change", changes=changes)
            return report
        # 2. Snapshot the current state.
        report.pre_rollback_id = pre_id = self._pre_rollback_snapshot(metadata)
        # 3. Restore, 4. verify: the plan computed again must be empty. Any failure, an
        # interruption too, puts the pre-rollback state back.
        try:
            remaining = self.engine.restore(metadata, self.chosen, "restore", plan.changes)
            if remaining:
                raise SnapshotError(f"verification failed: {remaining[0]} still differs from the snapshot")
            self.settled.settle()
            report.verified = True
        except (Exception, KeyboardInterrupt) as err:
            raise self._undo(pre_id, failure_reason(err)) from err
        report.warnings = drift_warnings(self.engine.env, metadata.snapshot_id, plan.changes)
        report.audit = self._audit("succeeded", changes=changes, pre_rollback=pre_id)
        return report

    def _unchanged(self, action: Callable[[], Result]) -> Result:
        """``action()``, which changes nothing: a refusal, an error or an interrupt is audited."""
        try:
            return action()
        except LockHeld as err:  # another operation holds it (the message names it)
            self._audit("refused: environment locked", error=one_line(err))
            raise
        except (Exception, KeyboardInterrupt) as err:
            self._audit(refusal(err), error=failure_reason(err))
            raise

    def _plan(self) -> tuple[SnapshotMetadata, Plan]:
        engine = self.engine
        metadata = engine.verify(resolve_snapshot_id(self.store, engine.env, self.snapshot))
        self.chosen = held_components(metadata, self.chosen, explicit=self.components is not None)
        # The record is named after the snapshot resolved from here on.
        self.entry.update(snapshot=metadata.snapshot_id, components=list(self.chosen))
        return metadata, engine.restore_plan(metadata, self.chosen)

    def _pre_rollback_snapshot(self, metadata: SnapshotMetadata) -> str:
        name = (PRE_ROLLBACK_PREFIX + metadata.snapshot_id)[:MAX_NAME]
        self.steps.note(f"snapshot of the current state ({name}_...)")
        try:
            return self.engine.create(name, metadata.client, pre_rollback_components(self.chosen))
        except KeyboardInterrupt as err:
            self._audit(refusal(err), error=failure_reason(err))
            raise
        except Exception as err:  # a lost connection while reserving its id too
            self._audit("failed before any change", error=failure_reason(err))
            raise SnapshotError(
                f"could not snapshot the current state, nothing was changed: {failure_reason(err)}"
            ) from err

    def _undo(self, pre_id: str, reason: str) -> RollbackError:
        """Put the pre-rollback state back; the error to raise says whether that worked (and of
        which components: the only ones the rollback could change)."""
        engine, chosen = self.engine, self.chosen
        try:
            if engine.restore(load_complete(self.store, pre_id, engine.env), chosen, "undo"):
                raise SnapshotError("state still differs from the pre-rollback snapshot")
        except (Exception, KeyboardInterrupt) as undo_err:  # noqa: BLE001  # reported with both errors below
            why = failure_reason(undo_err)
            audit = self._audit(
                "failed, previous state NOT restored", error=reason, undo_error=why, pre_rollback=pre_id
            )
            return RollbackError(
                f"rollback failed ({reason}) and restoring {pre_id} failed too ({why}): "
                f"restore it by hand with --snapshot {pre_id} --components {','.join(chosen)}; "
                f"audit: {audit}",
                pre_rollback_id=pre_id,
                restored=False,
            )
        audit = self._audit("failed, previous state restored", error=reason, pre_rollback=pre_id)
        return RollbackError(
            f"rollback failed ({reason}); the previous state of {', '.join(chosen)} was restored from "
            f"{pre_id} and verified; audit: {audit}",
            pre_rollback_id=pre_id,
            restored=True,
        )

    def _write_audit(self, entry: dict[str, Any]) -> str:
        """Under ``audit/rollbacks/`` of the store, named after the snapshot; a record that cannot
        be written is said where its location would be: the outcome matters more (a lost
        connection), and a Ctrl-C while it is written must not lose it."""
        try:
            with deferred_interrupts():
                return self.store.write_audit(AUDIT_KIND, self.started, entry["snapshot"], entry)
        except Exception as err:  # noqa: BLE001  # said where the record's location would be
            return f"NOT written ({typed_line(err)})"
