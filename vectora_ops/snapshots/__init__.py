"""The snapshot engine: one implementation for the operations scripts and the pre-update Lambda.

Imports only the standard library, boto3/botocore (the Lambda runtime's) and the modules of
``vectora_core`` and ``vectora_ops`` the Lambda bundles with it (``BUNDLED`` in
``vectora_constructs/pre_update_snapshot.py``: names, environments, the environment's clients,
errors, audit keys, sessions, deployed templates); never display or validation
libraries: progress goes to an optional callback that the caller renders.

    from vectora_ops.snapshots import SnapshotEngine, SnapshotError
    engine = SnapshotEngine("dev")
    snapshot_id = engine.create("pre_deploy_vectora-inbox-s1-runtime-dev")
    deleted = engine.apply_retention()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vectora_ops.errors import RollbackError, SnapshotError
from vectora_ops.snapshots.ids import COMPONENTS, DEFAULT_ROLLBACK_COMPONENTS, make_id, parse_id
from vectora_ops.snapshots.metadata import FileRecord, SnapshotMetadata
from vectora_ops.snapshots.progress import ProgressCallback, ProgressEvent

if TYPE_CHECKING:
    from vectora_ops.snapshots.engine import Preview, SnapshotEngine
    from vectora_ops.snapshots.retention import SnapshotInfo
    from vectora_ops.snapshots.store import BackupsBucketStore, LocalStore, Store

# Imported on first use: they bring boto3 and the environment's clients, which the CDK app (it
# reads the snapshot layout's names) never needs - about 0.1 s of every synth.
_LAZY = {
    "Preview": "engine",
    "SnapshotEngine": "engine",
    "SnapshotInfo": "retention",
    "BackupsBucketStore": "store",
    "LocalStore": "store",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "COMPONENTS",
    "DEFAULT_ROLLBACK_COMPONENTS",
    "FileRecord",
    "LocalStore",
    "Preview",
    "ProgressCallback",
    "ProgressEvent",
    "RollbackError",
    "BackupsBucketStore",
    "SnapshotEngine",
    "SnapshotError",
    "SnapshotInfo",
    "SnapshotMetadata",
    "Store",
    "make_id",
    "parse_id",
]
