"""``SnapshotEngine``: every snapshot operation of one environment, on one set of collaborators.

    engine = SnapshotEngine("dev")                      # the backups bucket, boto3's default session
    snapshot_id = engine.create("lai_v7_stable", client="lai_weekly")
    engine.verify(snapshot_id)
    engine.apply_retention()

Collaborators, each injected one way (a keyword of the constructor): ``aws`` (the
``Environment``: its clients and worker count), ``store`` (where snapshots live:
``BackupsBucketStore``, the default, opened on first use, or ``LocalStore``), ``clock`` (UTC
now, for ids and ages) and ``progress`` (a callback receiving ``ProgressEvent``s).
``SnapshotEngine.open`` is the scripts' shortcut (``--local DIR`` or the bucket).

Every method validates its input first and raises ``SnapshotError`` (one line) when a request is
refused or fails. A rollback is an operation (``vectora_ops.operation.rollback``: the lock, the
audit record, the undo), built on the primitives here: verify, create, plan and apply a restore.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from vectora_ops.audit import audit_entry
from vectora_ops.environment import Environment
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots import restore
from vectora_ops.snapshots.capture import Capture, NullStore, check_client_exists, readme
from vectora_ops.snapshots.earlier import EarlierStacks
from vectora_ops.snapshots.ids import (
    COMPONENTS,
    check_client,
    check_components,
    check_days,
    check_name,
    make_id,
)
from vectora_ops.snapshots.metadata import (
    METADATA_FILE,
    README_COMPONENT,
    README_FILE,
    SnapshotMetadata,
)
from vectora_ops.snapshots.progress import ProgressCallback, Reporter
from vectora_ops.snapshots.retention import (
    SnapshotInfo,
    archive_all,
    archive_todo,
    damaged_warnings,
    delete_all,
    list_infos,
    newest_complete,
    older_than,
    retention_victims,
)
from vectora_ops.snapshots.rollback import failure_reason
from vectora_ops.snapshots.scopes import check_targets
from vectora_ops.snapshots.store import BackupsBucketStore, LocalStore, Store
from vectora_ops.snapshots.verify import load_complete, verify_snapshot

Clock = Callable[[], datetime]
MAX_ID_ATTEMPTS: Final = 120
ARCHIVE_AUDIT_KIND: Final = "archives"
Components = Iterable[str] | str | None


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Preview:
    """What ``create`` would capture: per-component sources and counts, and how many files."""

    location: str
    components: tuple[str, ...]
    contents: Mapping[str, Any]
    copies: int


class SnapshotEngine:
    """Snapshots of one environment: create, preview, list, verify, restore, retention, cleanup, archive."""

    def __init__(
        self,
        env: str,
        *,
        aws: Environment | None = None,
        store: Store | None = None,
        clock: Clock = utc_now,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.aws = aws or Environment(env)
        if self.aws.env != env:
            raise ValueError(f"the Environment clients are {self.aws.env}'s, not {env}'s")
        self.env = env
        self.clock, self.progress = clock, progress
        self._store = store
        self._reporter = Reporter(progress)

    @classmethod
    def open(
        cls,
        env: str,
        *,
        local: Path | str | None = None,
        progress: ProgressCallback | None = None,
        aws: Environment | None = None,
    ) -> SnapshotEngine:
        """The scripts' engine: snapshots in ``local`` (``--local DIR``) or in the backups bucket;
        ``aws``, the environment the script already has (one per operation)."""
        aws = aws or Environment(env)
        return cls(
            env, aws=aws, store=LocalStore(aws, local) if local is not None else None, progress=progress
        )

    @classmethod
    def on(
        cls, environment: Environment, clock: Clock = utc_now, progress: ProgressCallback | None = None
    ) -> SnapshotEngine:
        """The engine on an operation's environment (its clients shared, its clock and progress)."""
        return cls(environment.env, aws=environment, clock=clock, progress=progress)

    @property
    def store(self) -> Store:
        """Where the snapshots are; the backups bucket by default (SnapshotError if it does not exist)."""
        if self._store is None:
            self._store = BackupsBucketStore(self.aws)
        return self._store

    # --- create -----------------------------------------------------------------------------------
    def _checked(self, name: str, client: str | None, components: Components) -> tuple[str, ...]:
        check_name(name)
        chosen = check_components(components, default=COMPONENTS)
        if client is not None:
            check_client(client)
        return chosen

    def preview(self, name: str, client: str | None = None, components: Components = None) -> Preview:
        """What ``create`` would capture, writing nothing."""
        chosen = self._checked(name, client, components)
        location = self.store.location
        if client is not None:
            check_client_exists(self.aws, client)
        capture = Capture(self.aws, NullStore(location), "preview", chosen, client, Reporter(None))
        copies = capture.run(execute=False)
        return Preview(location, chosen, capture.contents, copies + len(capture.files))

    def create(self, name: str, client: str | None = None, components: Components = None) -> str:
        """Snapshot the environment; returns its id ``{name}_{YYYYMMDD_HHMMSS}``.

        ``client`` limits client configs and curated data to that client; ``components`` defaults
        to all of them. A failed copy leaves the snapshot incomplete (never restored from) and
        raises SnapshotError.
        """
        chosen = self._checked(name, client, components)
        store = self.store
        if client is not None:
            check_client_exists(self.aws, client)
        reserved = self._reserve(store, name, client, chosen)
        earlier = EarlierStacks(store, self.aws.workers, reserved.snapshot_id)
        capture = Capture(self.aws, store, reserved.snapshot_id, chosen, client, self._reporter, earlier)
        location = f"{store.location.rstrip('/')}/{reserved.snapshot_id}/"
        try:
            capture.run()
            capture.put(
                README_COMPONENT,
                README_FILE,
                readme(reserved.completed(location, capture.contents, capture.files)),
            )
            metadata = reserved.completed(location, capture.contents, capture.files)
            store.put_bytes(reserved.snapshot_id, METADATA_FILE, metadata.to_json())
        except KeyboardInterrupt as err:
            self._mark_failed(store, reserved, err)  # an interrupt is a failure like any other
            raise
        except Exception as err:
            self._mark_failed(store, reserved, err)
            raise SnapshotError(
                f"snapshot {reserved.snapshot_id} left incomplete (never restored from; cleanup removes it): "
                f"{failure_reason(err)}"
            ) from err
        self._reporter.note(
            f"snapshot {reserved.snapshot_id}: {len(capture.files)} files in {store.location}"
        )
        return reserved.snapshot_id

    def _reserve(
        self, store: Store, name: str, client: str | None, components: tuple[str, ...]
    ) -> SnapshotMetadata:
        """Take the first free id from now on: the same name in the same second gets the next second."""
        created = self.clock()
        for offset in range(MAX_ID_ATTEMPTS):
            reserved = SnapshotMetadata(
                snapshot_id=make_id(name, created + timedelta(seconds=offset)),
                name=name,
                env=self.env,
                client=client,
                components=components,
                created_at=created.astimezone(UTC).isoformat(),
            )
            if store.reserve(reserved.snapshot_id, reserved.to_json()):
                return reserved
        raise SnapshotError(
            f"no free snapshot id for {name!r} within {MAX_ID_ATTEMPTS} s of {created.isoformat()}"
        )

    @staticmethod
    def _mark_failed(store: Store, reserved: SnapshotMetadata, err: BaseException) -> None:
        # Best effort: the reserved metadata already says complete: false.
        with contextlib.suppress(Exception):
            failed = reserved.failed(failure_reason(err))
            store.put_bytes(reserved.snapshot_id, METADATA_FILE, failed.to_json())

    # --- verify and restore -------------------------------------------------------------------------
    def verify(self, snapshot_id: str) -> SnapshotMetadata:
        """The metadata of a restorable snapshot: complete, of this environment, and every file it
        lists stored with its recorded size and SHA-256; else SnapshotError naming every bad file."""
        metadata = load_complete(self.store, snapshot_id, self.env)
        check_targets(metadata, self.env)  # before the checksums: it reads nothing
        verify_snapshot(self.store, metadata, self.aws.workers)
        return metadata

    def restore_plan(self, metadata: SnapshotMetadata, components: tuple[str, ...]) -> restore.Plan:
        """What restoring ``components`` from ``metadata``'s snapshot would change now (reads only)."""
        return restore.plan(self.aws, restore.SnapshotSource(self.store, metadata), components)

    def restore(
        self,
        metadata: SnapshotMetadata,
        components: tuple[str, ...],
        step: str,
        changes: list[restore.Change] | None = None,
    ) -> list[restore.Change]:
        """Apply ``changes`` (default: the plan now) towards ``metadata``'s snapshot, then plan
        again: what still differs (empty: the restore is verified). ``step`` names its progress."""
        todo = self.restore_plan(metadata, components).changes if changes is None else changes
        restore.apply_changes(todo, self.aws.workers, self._reporter, step)
        return self.restore_plan(metadata, components).changes

    # --- retention, cleanup, archive ---------------------------------------------------------------
    def apply_retention(self, dry_run: bool = False, pending: int = 0) -> list[str]:
        """Delete what the count-based retention of the environment does not keep; the deleted ids.

        A no-op in environments that keep everything (prod): the pre-update custom resource calls
        this after every snapshot in every environment. ``pending`` (with ``dry_run``) counts
        snapshots about to be taken, for previews.
        """
        keep = self.aws.config.snapshot_keep_newest
        if keep is None:
            return []
        infos = self._listed_for("retention")
        victims = retention_victims(infos, keep, self.clock(), pending)
        victims.pop(newest_complete(infos) or "", None)
        if not dry_run:
            delete_all(self.store, victims, self._reporter, self.aws.workers)
        return sorted(victims)

    def cleanup(self, older_than_days: int | None = None, dry_run: bool = False) -> dict[str, str]:
        """Delete snapshots older than ``older_than_days`` plus what retention does not keep.

        Returns ``{snapshot_id: reason}``. Refused in environments that keep every snapshot (prod).
        Never deletes the newest complete snapshot.
        """
        keep = self.aws.config.snapshot_keep_newest
        if keep is None:
            raise SnapshotError(
                f"cleanup never deletes {self.env} snapshots ({self.env} keeps all of them): "
                f"use archive_snapshots.py --env {self.env} to move old ones to Glacier"
            )
        if older_than_days is not None:
            check_days(older_than_days)
        now, infos = self.clock(), self._listed_for("cleanup")
        victims = retention_victims(infos, keep, now)
        if older_than_days is not None:
            victims = {**older_than(infos, older_than_days, now), **victims}
        victims.pop(newest_complete(infos) or "", None)
        if not dry_run:
            delete_all(self.store, victims, self._reporter, self.aws.workers)
        return dict(sorted(victims.items()))

    def archive(
        self, older_than_days: int | None = None, dry_run: bool = False, approve: str | None = None
    ) -> dict[str, int]:
        """Move the files of snapshots older than N days (default: the environment's setting) to GLACIER.

        Returns ``{snapshot_id: files moved}`` for snapshots that changed: a second run returns ``{}``.
        Only the files that may sleep move (``layout.may_sleep``: the bulk copies, the ones the
        lifecycle rule moves by their tag); the metadata, README, stack templates and function and
        layer documents stay in STANDARD, so listing and verifying never need a restore. The newest
        complete snapshot is never archived (a rollback must be able to read it); an age below the
        environment's own needs ``approve`` (who approves); every attempt, dry runs and refusals
        included, is audited under ``audit/archives/``.
        """
        configured = self.aws.config.snapshot_glacier_after_days
        if configured is None:
            raise SnapshotError(
                f"archive applies to environments that keep every snapshot (prod); {self.env} deletes old "
                f"ones instead: use cleanup_snapshots.py --env {self.env}"
            )
        days = configured if older_than_days is None else check_days(older_than_days)
        if not self.store.supports_storage_class:
            raise SnapshotError(
                "snapshots on disk (--local) have no storage class: archive applies to the backups bucket"
            )
        started = self.clock()
        entry = audit_entry(
            "archive", started, env=self.env, older_than_days=days, archive_age_days=configured,
            approved_by=approve, dry_run=dry_run,
        )  # fmt: skip

        def record(result: str, **extra: Any) -> str:
            return self.store.write_audit(
                ARCHIVE_AUDIT_KIND, started, f"older-than-{days}", {**entry, "result": result, **extra}
            )

        if days < configured and not (approve or "").strip():
            at = record("refused: no approval")
            raise SnapshotError(
                f"archiving {self.env} snapshots younger than {configured} days (the environment's archive "
                f'age) needs --approve "<who>"; nothing was changed (audit: {at})'
            )
        infos = self._listed_for("archive")
        todo = archive_todo(self.store, infos, days, started)
        kept = newest_complete(infos)
        if dry_run:
            planned = {sid: len(files) for sid, files in todo.items()}
            record("dry run", would_archive=planned, kept_newest=kept)
            return planned
        try:
            moved = archive_all(self.store, todo, self._reporter, self.aws.workers)
        except (Exception, KeyboardInterrupt) as err:
            with contextlib.suppress(Exception):  # the error itself matters more than its record
                record("failed", error=failure_reason(err), planned=sorted(todo))
            raise
        record("succeeded", archived=moved, kept_newest=kept)
        return moved

    def _listed_for(self, action: str) -> list[SnapshotInfo]:
        """``list_snapshots()``, warning (progress notes) of each damaged snapshot ``action`` leaves alone."""
        infos = self.list_snapshots()
        for warning in damaged_warnings(infos, action):
            self._reporter.note(warning)
        return infos

    def list_snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot of the environment, newest first (complete or not)."""
        return list_infos(self.store, self.aws.workers)
