"""The one door to the snapshot engine: promotion and deploy call these, never the engine itself.

Today the engine is ``vectora_core.snapshots`` (functions taking a session); it is becoming one
object, ``vectora_ops.snapshots.SnapshotEngine``. Switching is this file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from vectora_core.snapshots import COMPONENTS, ProgressCallback, RollbackError, RollbackReport, SnapshotError
from vectora_core.snapshots import create_snapshot as _create
from vectora_core.snapshots import rollback_snapshot as _rollback
from vectora_ops.promotion.clients import EnvClients

# Everything, stack templates included: what a promotion or deploy may have changed.
ALL_COMPONENTS: Final = COMPONENTS
Clock = Callable[[], datetime]

__all__ = ["ALL_COMPONENTS", "RollbackError", "SnapshotError", "create", "restore"]


def create(clients: EnvClients, name: str, *, clock: Clock, progress: ProgressCallback | None) -> str:
    """Snapshot the whole environment (every client, every component); returns the snapshot id."""
    return _create(
        clients.env, name, client=None, components=ALL_COMPONENTS, session=clients.session,
        progress=progress, clock=clock,
    )  # fmt: skip


def restore(
    clients: EnvClients,
    snapshot_id: str,
    *,
    approve: str | None,
    clock: Clock,
    progress: ProgressCallback | None,
) -> RollbackReport:
    """Put every component back as ``snapshot_id`` holds it (stacks redeployed through CloudFormation).

    The engine verifies by re-reading; a failure raises RollbackError (``restored`` says whether
    the state before the restore was put back).
    """
    return _rollback(
        clients.env, snapshot_id, components=ALL_COMPONENTS, session=clients.session, approve=approve,
        progress=progress, clock=clock,
    )  # fmt: skip
