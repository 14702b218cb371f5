"""The one door to the snapshot engine: promotion and deploy call these, never the engine itself.

The engine is ``vectora_ops.snapshots.SnapshotEngine``; this module builds it on the operation's
boto3 session, clock and progress callback, and asks for every component (stacks included).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from vectora_ops.promotion.clients import EnvClients
from vectora_ops.snapshots import (
    COMPONENTS,
    Aws,
    ProgressCallback,
    ProgressEvent,
    RollbackError,
    RollbackReport,
    SnapshotEngine,
    SnapshotError,
)

# Everything, stack templates included: what a promotion or deploy may have changed.
ALL_COMPONENTS: Final = COMPONENTS
Clock = Callable[[], datetime]

__all__ = [
    "ALL_COMPONENTS",
    "ProgressCallback",
    "ProgressEvent",
    "RollbackError",
    "SnapshotError",
    "create",
    "restore",
]


def _engine(clients: EnvClients, clock: Clock, progress: ProgressCallback | None) -> SnapshotEngine:
    aws = Aws(clients.env, session=clients.session)
    return SnapshotEngine(clients.env, aws=aws, clock=clock, progress=progress)


def create(clients: EnvClients, name: str, *, clock: Clock, progress: ProgressCallback | None) -> str:
    """Snapshot the whole environment (every client, every component); returns the snapshot id."""
    return _engine(clients, clock, progress).create(name, client=None, components=ALL_COMPONENTS)


def restore(
    clients: EnvClients,
    snapshot_id: str,
    *,
    approve: str | None,
    clock: Clock,
    progress: ProgressCallback | None,
) -> RollbackReport:
    """Put every component back as ``snapshot_id`` holds it (stacks redeployed through CloudFormation).

    The engine verifies every checksum before restoring and re-reads after; a failure raises
    RollbackError (``restored`` says whether the state before the restore was put back).
    """
    return _engine(clients, clock, progress).rollback(snapshot_id, components=ALL_COMPONENTS, approve=approve)
