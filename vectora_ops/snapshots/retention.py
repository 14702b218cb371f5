"""Listing snapshots, and which ones retention, cleanup and archive touch.

Policy (from the environment's config, written once in ``vectora_core.environments``): dev keeps
the 7 newest complete snapshots, stage 30, prod all of them (moved to Glacier when old); the
``pre_rollback_…`` snapshots of rollbacks are counted apart, with the same limit. The
newest complete snapshot is never deleted, whatever the arguments. Deleting removes the metadata
first, so an interrupted delete leaves an incomplete snapshot, never a broken "complete" one; in
the versioned backups bucket the deleted objects stay recoverable as noncurrent versions for the
environment's grace period.

A snapshot whose metadata is not what the engine writes (``MetadataError``: hand-edited, cut
short, crafted) is listed as *damaged* with the reason, and retention, cleanup and archive leave
it alone with a warning: it may be the only copy of something, and what it is cannot be told.
One damaged snapshot never stops the listing or the handling of the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from vectora_ops.snapshots.ids import is_snapshot_id, parse_id
from vectora_ops.snapshots.layout import may_sleep
from vectora_ops.snapshots.metadata import MetadataError, SnapshotMetadata
from vectora_ops.snapshots.progress import Reporter
from vectora_ops.snapshots.rollback import PRE_ROLLBACK_PREFIX
from vectora_ops.snapshots.store import GLACIER, Store, StoredFile
from vectora_ops.snapshots.verify import read_metadata

# An incomplete snapshot younger than this may still be being written by another process.
INCOMPLETE_GRACE: Final = timedelta(hours=1)


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    name: str
    created: datetime
    env: str | None
    client: str | None
    components: tuple[str, ...]
    size: int
    files: int
    complete: bool
    storage_class: str
    # Why the metadata was refused (MetadataError's one line); None when it is well-formed or absent.
    damaged: str | None = None

    def age(self, now: datetime) -> timedelta:
        return now - self.created


def _info(
    snapshot_id: str, files: list[StoredFile], metadata: SnapshotMetadata | None, damaged: str | None
) -> SnapshotInfo:
    classes = {f.storage_class for f in files if may_sleep(f.rel)}
    return SnapshotInfo(
        snapshot_id,
        *parse_id(snapshot_id),  # name, created
        env=metadata.env if metadata else None,
        client=metadata.client if metadata else None,
        components=metadata.components if metadata else (),
        size=sum(f.size for f in files),
        files=len(files),
        complete=bool(metadata and metadata.complete),
        storage_class=classes.pop() if len(classes) == 1 else ("mixed" if classes else "STANDARD"),
        damaged=damaged,
    )


def _readable_metadata(store: Store, snapshot_id: str) -> tuple[SnapshotMetadata | None, str | None]:
    """(metadata, None), or (None, why it is damaged): a listing shows every snapshot."""
    try:
        return read_metadata(store, snapshot_id), None
    except MetadataError as err:
        return None, str(err)


def list_infos(store: Store, workers: int) -> list[SnapshotInfo]:
    """Every snapshot in ``store``, newest first (complete or not)."""
    stored = {sid: files for sid, files in store.list_all().items() if is_snapshot_id(sid)}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        infos = list(pool.map(lambda sid: _info(sid, stored[sid], *_readable_metadata(store, sid)), stored))
    return sorted(infos, key=lambda i: (i.created, i.snapshot_id), reverse=True)


def newest_complete(infos: list[SnapshotInfo]) -> str | None:
    return next((i.snapshot_id for i in infos if i.complete), None)


def damaged_warnings(infos: list[SnapshotInfo], action: str) -> list[str]:
    """One warning per damaged snapshot that ``action`` (retention, cleanup, archive) leaves alone."""
    return [
        f"warning: snapshot {i.snapshot_id} is damaged ({i.damaged}): {action} leaves it alone; "
        "inspect it, then repair or delete it by hand"
        for i in infos
        if i.damaged
    ]


def retention_victims(
    infos: list[SnapshotInfo], keep: int, now: datetime, pending: int = 0
) -> dict[str, str]:
    """``{id: reason}`` beyond the ``keep`` newest complete ones, plus stale incomplete ones.

    ``pre_rollback_…`` snapshots (taken by every rollback, to undo it) are counted apart from the
    others: a string of rollbacks must not push out the snapshots people took on purpose (the
    last validated state), nor those the rollbacks may still need. ``pending``: complete snapshots
    about to be added (newer than all of ``infos``; taken on purpose).
    """
    complete = [i for i in infos if i.complete]
    automatic = [i for i in complete if i.name.startswith(PRE_ROLLBACK_PREFIX)]
    deliberate = [i for i in complete if not i.name.startswith(PRE_ROLLBACK_PREFIX)]
    victims = {i.snapshot_id: f"beyond the {keep} newest" for i in deliberate[max(keep - pending, 0) :]}
    victims |= {
        i.snapshot_id: f"beyond the {keep} newest {PRE_ROLLBACK_PREFIX}* ones" for i in automatic[keep:]
    }
    stale = [i for i in infos if not i.complete and not i.damaged and i.age(now) > INCOMPLETE_GRACE]
    return victims | {i.snapshot_id: "incomplete" for i in stale}


def older_than(infos: list[SnapshotInfo], days: int, now: datetime) -> dict[str, str]:
    limit = timedelta(days=days)
    return {i.snapshot_id: f"older than {days} days" for i in infos if i.age(now) > limit and not i.damaged}


def delete_all(store: Store, victims: dict[str, str], reporter: Reporter, workers: int) -> None:
    if not victims:
        return
    reporter.start("delete", len(victims))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(store.delete, sid) for sid in victims]:
            future.result()
            reporter.advance("delete")


def archive_todo(store: Store, infos: list[SnapshotInfo], days: int, now: datetime) -> dict[str, list[str]]:
    """``{id: files not yet in GLACIER}`` of the snapshots older than ``days`` days, but the newest
    complete one (the environment's safety net: a rollback must be able to read it) and damaged ones.
    Only the files that may sleep (``layout.may_sleep``, the rule the bucket's lifecycle follows
    through their tag): what list, verify and a rollback's plan read stays in STANDARD."""
    stored, newest = store.list_all(), newest_complete(infos)
    todo = {
        info.snapshot_id: [
            f.rel for f in stored.get(info.snapshot_id, []) if may_sleep(f.rel) and f.storage_class != GLACIER
        ]
        for info in infos
        if info.age(now) > timedelta(days=days) and info.snapshot_id != newest and not info.damaged
    }
    return {sid: files for sid, files in sorted(todo.items()) if files}


def archive_all(store: Store, todo: dict[str, list[str]], reporter: Reporter, workers: int) -> dict[str, int]:
    """Move the listed files to GLACIER; ``{id: files moved}`` of the snapshots that changed."""
    reporter.start("archive", sum(len(files) for files in todo.values()))
    moved: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for sid, files in todo.items():
            results = list(pool.map(lambda rel, sid=sid: store.archive_file(sid, rel), files))
            reporter.advance("archive", len(files))
            if any(results):
                moved[sid] = sum(results)
    return moved
