"""Listing, retention, cleanup and archive of snapshots.

Policy (from the environment's config, written once in ``vectora_core.environments``): dev keeps
the 7 newest complete snapshots, stage 30, prod all of them (moved to Glacier when old). The
newest complete snapshot is never deleted, whatever the arguments. Deleting removes the metadata
first, so an interrupted delete leaves an incomplete snapshot, never a broken "complete" one; in
the versioned backups bucket the deleted objects stay recoverable as noncurrent versions for the
environment's grace period.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from vectora_core.snapshots.aws import DEFAULT_WORKERS, Aws
from vectora_core.snapshots.capture import Clock, utc_now
from vectora_core.snapshots.errors import SnapshotError
from vectora_core.snapshots.ids import parse_id
from vectora_core.snapshots.metadata import read_metadata
from vectora_core.snapshots.progress import ProgressCallback, Reporter
from vectora_core.snapshots.store import GLACIER, METADATA_FILE, README_FILE, Store, open_store

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

    def age(self, now: datetime) -> timedelta:
        return now - self.created


def _info(snapshot_id: str, files: list[Any], metadata: dict[str, Any] | None) -> SnapshotInfo:
    name, created = parse_id(snapshot_id)
    classes = {f.storage_class for f in files if f.rel not in (METADATA_FILE, README_FILE)}
    metadata = metadata or {}
    return SnapshotInfo(
        snapshot_id=snapshot_id,
        name=name,
        created=created,
        env=metadata.get("env"),
        client=metadata.get("client"),
        components=tuple(metadata.get("components", [])),
        size=sum(f.size for f in files),
        files=len(files),
        complete=metadata.get("complete") is True,
        storage_class=classes.pop() if len(classes) == 1 else ("mixed" if classes else "STANDARD"),
    )


def _list(store: Store, workers: int) -> list[SnapshotInfo]:
    stored = {sid: files for sid, files in store.list_all().items() if _is_id(sid)}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        metadata = dict(zip(stored, pool.map(lambda sid: read_metadata(store, sid), stored), strict=True))
    infos = [_info(sid, stored[sid], metadata[sid]) for sid in stored]
    return sorted(infos, key=lambda i: (i.created, i.snapshot_id), reverse=True)


def _is_id(text: str) -> bool:
    try:
        parse_id(text)
    except SnapshotError:
        return False
    return True


def list_snapshots(
    env: str,
    session: Any = None,
    *,
    local_dir: Path | str | None = None,
    workers: int = DEFAULT_WORKERS,
    store: Store | None = None,
    aws: Aws | None = None,
) -> list[SnapshotInfo]:
    """Every snapshot of ``env``, newest first (complete or not)."""
    aws = aws or Aws(env, session, workers)
    store = store or open_store(aws, local_dir)
    return _list(store, aws.workers)


def _newest_complete(infos: list[SnapshotInfo]) -> str | None:
    return next((i.snapshot_id for i in infos if i.complete), None)


def _retention_victims(
    infos: list[SnapshotInfo], keep: int | None, now: datetime, pending: int = 0
) -> dict[str, str]:
    """``pending``: complete snapshots about to be added (newer than all of ``infos``)."""
    victims: dict[str, str] = {}
    if keep is None:
        return victims
    for info in [i for i in infos if i.complete][max(keep - pending, 0) :]:
        victims[info.snapshot_id] = f"beyond the {keep} newest"
    for info in infos:
        if not info.complete and info.age(now) > INCOMPLETE_GRACE:
            victims[info.snapshot_id] = "incomplete"
    return victims


def _delete(store: Store, victims: dict[str, str], reporter: Reporter, workers: int) -> None:
    if not victims:
        return
    reporter.start("delete", len(victims))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(store.delete, sid) for sid in victims]:
            future.result()
            reporter.advance("delete")


def apply_retention(
    env: str,
    session: Any = None,
    *,
    dry_run: bool = False,
    local_dir: Path | str | None = None,
    clock: Clock = utc_now,
    progress: ProgressCallback | None = None,
    workers: int = DEFAULT_WORKERS,
    store: Store | None = None,
    aws: Aws | None = None,
    pending: int = 0,
) -> list[str]:
    """Delete what the count-based retention of ``env`` does not keep; returns the deleted ids.

    A no-op in environments that keep everything (prod): the pre-update custom resource calls
    this after every snapshot in every environment. ``pending`` (with ``dry_run``) counts
    snapshots about to be taken, for previews.
    """
    aws = aws or Aws(env, session, workers)
    keep = aws.config.snapshot_keep_newest
    if keep is None:
        return []
    store = store or open_store(aws, local_dir)
    infos = _list(store, aws.workers)
    victims = _retention_victims(infos, keep, clock(), pending)
    victims.pop(_newest_complete(infos) or "", None)
    if not dry_run:
        _delete(store, victims, Reporter(progress), aws.workers)
    return sorted(victims)


def cleanup_snapshots(
    env: str,
    older_than_days: int | None = None,
    session: Any = None,
    *,
    dry_run: bool = False,
    local_dir: Path | str | None = None,
    clock: Clock = utc_now,
    progress: ProgressCallback | None = None,
    workers: int = DEFAULT_WORKERS,
    store: Store | None = None,
    aws: Aws | None = None,
) -> dict[str, str]:
    """Delete snapshots older than ``older_than_days`` plus what retention does not keep.

    Returns ``{snapshot_id: reason}``. Refused in environments that keep every snapshot (prod).
    Never deletes the newest complete snapshot.
    """
    aws = aws or Aws(env, session, workers)
    keep = aws.config.snapshot_keep_newest
    if keep is None:
        raise SnapshotError(
            f"cleanup never deletes {env} snapshots ({env} keeps all of them): "
            f"use archive_snapshots.py --env {env} to move old ones to Glacier"
        )
    if older_than_days is not None and older_than_days < 0:
        raise SnapshotError(f"--older-than must be a number of days >= 0, not {older_than_days}")
    store = store or open_store(aws, local_dir)
    now = clock()
    infos = _list(store, aws.workers)
    victims = _retention_victims(infos, keep, now)
    if older_than_days is not None:
        limit = timedelta(days=older_than_days)
        for info in infos:
            if info.age(now) > limit:
                victims.setdefault(info.snapshot_id, f"older than {older_than_days} days")
    victims.pop(_newest_complete(infos) or "", None)
    if not dry_run:
        _delete(store, victims, Reporter(progress), aws.workers)
    return dict(sorted(victims.items()))


def archive_snapshots(
    env: str,
    older_than_days: int | None = None,
    session: Any = None,
    *,
    dry_run: bool = False,
    clock: Clock = utc_now,
    progress: ProgressCallback | None = None,
    workers: int = DEFAULT_WORKERS,
    store: Store | None = None,
    aws: Aws | None = None,
) -> dict[str, int]:
    """Move the files of snapshots older than N days (default: the env's setting) to GLACIER.

    Returns ``{snapshot_id: files moved}`` for snapshots that changed: a second run returns ``{}``.
    The metadata and README stay in STANDARD so that listing never needs a restore.
    """
    aws = aws or Aws(env, session, workers)
    configured = aws.config.snapshot_glacier_after_days
    if configured is None:
        raise SnapshotError(
            f"archive applies to environments that keep every snapshot (prod); {env} deletes old ones "
            "instead: "
            f"use cleanup_snapshots.py --env {env}"
        )
    days = configured if older_than_days is None else older_than_days
    if days < 0:
        raise SnapshotError(f"--older-than must be a number of days >= 0, not {days}")
    store = store or open_store(aws, None)
    if not store.supports_storage_class:
        raise SnapshotError(
            "snapshots on disk (--local) have no storage class: archive applies to the backups bucket"
        )
    now = clock()
    stored = store.list_all()
    todo: dict[str, list[str]] = {}
    for info in _list(store, aws.workers):
        if info.age(now) > timedelta(days=days):
            files = [
                f.rel
                for f in stored.get(info.snapshot_id, [])
                if f.rel not in (METADATA_FILE, README_FILE) and f.storage_class != GLACIER
            ]
            if files:
                todo[info.snapshot_id] = files
    if dry_run:
        return {sid: len(files) for sid, files in sorted(todo.items())}
    reporter = Reporter(progress)
    total = sum(len(files) for files in todo.values())
    reporter.start("archive", total)
    moved: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=aws.workers) as pool:
        for sid, files in sorted(todo.items()):
            results = list(pool.map(lambda rel, sid=sid: store.archive_file(sid, rel), files))
            reporter.advance("archive", len(files))
            if any(results):
                moved[sid] = sum(results)
    return moved


def now_utc() -> datetime:
    return datetime.now(UTC)
