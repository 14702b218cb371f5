"""The snapshot engine: one implementation for the operations scripts and the pre-update Lambda.

Imports only the standard library and boto3/botocore (the Lambda runtime's), never display or
validation libraries: progress goes to an optional callback that the caller renders.

    from vectora_core.snapshots import create_snapshot, apply_retention, SnapshotError
    snapshot_id = create_snapshot(env="dev", name="pre_deploy_vectora-inbox-s1-runtime-dev")
    deleted = apply_retention(env="dev")
"""

from vectora_core.snapshots.capture import create_snapshot, preview_snapshot
from vectora_core.snapshots.errors import RollbackError, SnapshotError
from vectora_core.snapshots.ids import COMPONENTS, DEFAULT_ROLLBACK_COMPONENTS, make_id, parse_id
from vectora_core.snapshots.progress import ProgressCallback, ProgressEvent
from vectora_core.snapshots.restore import RollbackReport, rollback_snapshot
from vectora_core.snapshots.retention import (
    SnapshotInfo,
    apply_retention,
    archive_snapshots,
    cleanup_snapshots,
    list_snapshots,
)

__all__ = [
    "COMPONENTS",
    "DEFAULT_ROLLBACK_COMPONENTS",
    "ProgressCallback",
    "ProgressEvent",
    "RollbackError",
    "RollbackReport",
    "SnapshotError",
    "SnapshotInfo",
    "apply_retention",
    "archive_snapshots",
    "cleanup_snapshots",
    "create_snapshot",
    "list_snapshots",
    "make_id",
    "parse_id",
    "preview_snapshot",
    "rollback_snapshot",
]
