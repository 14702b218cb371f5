"""The snapshot side of a rollback: which snapshot a reference names, which of its components a
rollback restores, what the pre-rollback snapshot captures, and what a restore leaves drifting.

The rollback itself (lock, pre-rollback snapshot, restore, verification, undo, audit record) is an
operation: ``vectora_ops.operation.rollback``. The pre-update Lambda bundles this package: nothing
here imports the operation layer.
"""

from __future__ import annotations

import fnmatch
from typing import Final

from vectora_core.naming import StackComponent, resource_name
from vectora_ops.errors import SnapshotError, typed_line
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
