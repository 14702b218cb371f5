"""Errors of the snapshot engine: each message is one line naming what is wrong and what to do."""

from __future__ import annotations

from vectora_ops.errors import OperationError


class SnapshotError(OperationError):
    """A snapshot operation refused or failed; nothing was changed unless the message says so."""


class RollbackError(SnapshotError):
    """A rollback failed part-way; ``restored`` says whether the pre-rollback state was put back."""

    def __init__(self, message: str, *, pre_rollback_id: str | None, restored: bool) -> None:
        super().__init__(message)
        self.pre_rollback_id = pre_rollback_id
        self.restored = restored
