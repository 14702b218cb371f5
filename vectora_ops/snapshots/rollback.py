"""What a rollback reports and records, and the small decisions it takes on the way.

The orchestration itself is ``SnapshotEngine.rollback``: validate the snapshot (complete, every
checksum) → snapshot the current state (``pre_rollback_…``) → restore the chosen components →
compute the plan again, which must be empty → on any failure put the ``pre_rollback_…`` state
back → one audit record per attempt, under ``audit/rollbacks/`` of the store.

An interrupt (Ctrl-C) is a failure like any other, and a lost connection never hides an outcome:
an audit record that cannot be written, or a lock that cannot be released, is said in the
outcome (``audit: NOT written (...)``, a warning or the error's line) rather than raised instead
of it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from vectora_core.naming import StackComponent, resource_name
from vectora_ops.audit import operator
from vectora_ops.errors import OperationError, SnapshotError, one_line, typed_line
from vectora_ops.interrupts import deferred_interrupts
from vectora_ops.snapshots.ids import (
    COMPONENTS,
    LAMBDA_COMPONENTS,
    LAMBDA_CONFIG,
    is_pattern,
    is_snapshot_id,
    parse_id,
)
from vectora_ops.snapshots.metadata import MetadataError, SnapshotMetadata
from vectora_ops.snapshots.restore import Change
from vectora_ops.snapshots.store import Store
from vectora_ops.snapshots.verify import read_metadata

PRE_ROLLBACK_PREFIX: Final = "pre_rollback_"
AUDIT_KIND: Final = "rollbacks"


@dataclass
class RollbackReport:
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


class RollbackAudit:
    """The audit record of one rollback attempt: ``audit/rollbacks/<start>_<snapshot>.json``.

    The key's label is the resolved snapshot id once known, else what was asked for (an id or a
    pattern, validated before it gets here; ``audit_key`` makes it safe all the same).
    """

    def __init__(
        self,
        store: Store,
        started: datetime,
        env: str,
        ref: str,
        components: tuple[str, ...],
        approve: str | None,
        dry_run: bool,
    ) -> None:
        self.store, self.started, self.label = store, started, ref
        self.entry: dict[str, Any] = {
            "time": started.astimezone(UTC).isoformat(),
            "env": env,
            "snapshot": ref,
            "components": list(components),
            "approved_by": approve,
            "operator": operator(),
            "dry_run": dry_run,
        }
        if is_pattern(ref):
            self.entry["pattern"] = ref

        self.last: dict[str, Any] | None = None

    def resolved(self, snapshot_id: str, components: tuple[str, ...]) -> None:
        self.label = snapshot_id
        self.entry.update(snapshot=snapshot_id, components=list(components))

    def record(self, outcome: str, **extra: Any) -> str:
        """Write the record with this outcome; returns where it went, or ``NOT written (why)``:
        the outcome being reported matters more than its record (a lost connection)."""
        self.last = {**self.entry, "outcome": outcome, **extra}
        return self._write(self.last)

    def amend(self, **extra: Any) -> str | None:
        """Add to the last record written (the same key): what happened after its outcome."""
        if self.last is None:
            return None
        self.last.update(extra)
        return self._write(self.last)

    def _write(self, entry: dict[str, Any]) -> str:
        # Every record is an outcome: a Ctrl-C while it is written must not lose it.
        try:
            with deferred_interrupts():
                return self.store.write_audit(AUDIT_KIND, self.started, self.label, entry)
        except Exception as err:  # noqa: BLE001  # said where the record's location would be
            return f"NOT written ({typed_line(err)})"


def resolve_snapshot_id(store: Store, env: str, ref: str) -> str:
    """An id as is; a glob (``pre_deploy_*``) names its newest complete match in ``env``."""
    if not is_pattern(ref):
        parse_id(ref)
        return ref
    candidates = sorted(
        (sid for sid in store.list_all() if is_snapshot_id(sid) and fnmatch.fnmatchcase(sid, ref)),
        key=lambda sid: parse_id(sid)[1],
        reverse=True,
    )
    for sid in candidates:
        try:
            metadata = read_metadata(store, sid)
        except MetadataError:
            continue
        if metadata and metadata.complete and metadata.env == env:
            return sid
    raise SnapshotError(f"no complete snapshot of {env} matches {ref!r} in {store.location}")


def held_components(
    metadata: SnapshotMetadata, chosen: tuple[str, ...], *, explicit: bool
) -> tuple[str, ...]:
    """The chosen components the snapshot holds; asking explicitly for one it lacks is refused."""
    absent = [c for c in chosen if c not in metadata.components]
    if absent and explicit:
        raise SnapshotError(
            f"snapshot {metadata.snapshot_id} holds no {absent[0]!r} component "
            f"(it holds: {', '.join(metadata.components)})"
        )
    return tuple(c for c in chosen if c in metadata.components)


def pre_rollback_components(chosen: tuple[str, ...]) -> tuple[str, ...]:
    """What the pre-rollback snapshot captures: the chosen components, plus the Lambda
    configuration documents that a code or layers restore (and so its undo) reads."""
    extra = (LAMBDA_CONFIG,) if any(c in LAMBDA_COMPONENTS for c in chosen) else ()
    return tuple(c for c in COMPONENTS if c in chosen + extra)


def failure_reason(err: BaseException) -> str:
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    return str(err) if isinstance(err, SnapshotError) else typed_line(err)


def refusal(err: BaseException) -> str:
    """The audit outcome of a failure before anything changed."""
    if isinstance(err, KeyboardInterrupt):
        return "interrupted before any change"
    return "refused" if isinstance(err, OperationError) else "failed before any change"


def lock_problem(err: BaseException) -> str:
    """One line: the lock stayed (``LockNotReleased`` names it and how to break it)."""
    if isinstance(err, OperationError):
        return one_line(err)
    why = failure_reason(err)
    return f"the environment's lock could not be released ({why}): break it with break_lock.py"


def drift_warnings(env: str, snapshot_id: str, changes: list[Change]) -> list[str]:
    """Lambda configuration or code changed outside CloudFormation leaves S1-runtime drifting."""
    if not any(change.component in LAMBDA_COMPONENTS for change in changes):
        return []
    stack = resource_name(StackComponent.RUNTIME, env)
    return [
        f"{stack} now drifts from its template (Lambda configuration/code changed outside "
        "CloudFormation): "
        f"reconcile with `cdk deploy -c env={env} {stack}` from the commit that matches {snapshot_id}, "
        "or roll back with --components stacks"
    ]
