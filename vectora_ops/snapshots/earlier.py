"""The state of a stack before its update, when the snapshot runs inside that update.

While a stack is UPDATE_IN_PROGRESS, CloudFormation already answers GetTemplate with the NEW
template and DescribeStacks with the new parameters (it stores them when the update starts; the
old ones come back only after a rollback). The pre-update snapshot runs inside the update, so
those answers are not the state before it. The previous template and parameters are taken from
the newest earlier snapshot that recorded that stack (same stack id) while it was not changing.

An earlier copy taken while that stack was itself updating is not used: it cannot say how that
update ended (done: the new template is live; rolled back: the old one), and every template change
takes a pre-update snapshot, so such a copy is always the newest one after an update. Then no
earlier copy is trusted and the capture says so (a warning), rather than guess.

Deployment records are not a source: they name the cloud assembly, not the templates, and the
pre-update snapshot's role may not read them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from vectora_ops.snapshots.ids import STACKS
from vectora_ops.snapshots.layout import stack_file, stack_template_file
from vectora_ops.snapshots.retention import SnapshotInfo, list_infos
from vectora_ops.snapshots.store import Store


def is_changing(status: str) -> bool:
    """A status in which GetTemplate / DescribeStacks may answer a template not yet (or never) live:
    an operation is under way. A rollback is not: it answers the template it goes back to."""
    return status.endswith("_IN_PROGRESS") and "ROLLBACK" not in status


@dataclass(frozen=True)
class EarlierCopy:
    snapshot_id: str
    document: dict[str, Any]  # the stack document as that snapshot recorded it
    template_text: str


class EarlierStacks:
    """Looks up earlier copies of stacks in the store, excluding the snapshot being written.
    Shared by the capture's worker threads: the store is listed once, on first use."""

    def __init__(self, store: Store, workers: int, current_id: str) -> None:
        self.store, self.workers, self.current_id = store, workers, current_id
        self._lock = threading.Lock()
        self._infos: list[SnapshotInfo] | None = None

    def _listed(self) -> list[SnapshotInfo]:
        with self._lock:
            if self._infos is None:
                self._infos = [
                    i
                    for i in list_infos(self.store, self.workers)
                    if i.complete and i.snapshot_id != self.current_id and STACKS in i.components
                ]
            return self._infos

    def find(self, stack_name: str, stack_id: str | None) -> tuple[EarlierCopy | None, str]:
        """(the copy to use, or None; why not, when None). Newest snapshot first."""
        for info in self._listed():
            raw = self.store.read_bytes(info.snapshot_id, stack_file(stack_name))
            if raw is None:
                continue
            document = json.loads(raw)
            if document.get("absent") or document.get("stack_id") != stack_id:
                continue  # never deployed then, or an earlier stack of the same name
            if is_changing(str(document.get("status", ""))):
                return None, (
                    f"the newest earlier copy (snapshot {info.snapshot_id}) was taken during an "
                    f"earlier update ({document.get('status')}) that may have rolled back"
                )
            text = self.store.read_bytes(info.snapshot_id, stack_template_file(stack_name))
            if text is None:
                return None, f"snapshot {info.snapshot_id} lacks the template file of {stack_name}"
            return EarlierCopy(info.snapshot_id, document, text.decode()), ""
        return None, "no earlier copy"
