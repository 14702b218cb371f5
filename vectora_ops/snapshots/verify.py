"""Reading a snapshot's metadata, and refusing a snapshot that cannot be restored from.

A snapshot is restorable when its metadata is well-formed, says ``complete: true``, names the
environment asked for, and *every* file it lists is stored with the recorded size and SHA-256 -
not only the files of the components about to be restored: one altered file means the whole
snapshot can no longer be trusted. The check costs one HeadObject per file in S3 (which keeps the
SHA-256 of every snapshot file); see ``Store.check``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.ids import parse_id
from vectora_ops.snapshots.metadata import (
    MAX_METADATA_BYTES,
    METADATA_FILE,
    MetadataError,
    SnapshotMetadata,
)
from vectora_ops.snapshots.store import ARCHIVED, MISMATCH, MISSING, FileProblem, Store

_PROBLEM_WORDS: Final[dict[str, Callable[[int, str | None], str]]] = {
    MISMATCH: lambda n, _: f"{n} file(s) fail their checksum",
    MISSING: lambda n, _: f"{n} file(s) are missing",
    ARCHIVED: lambda n, where: (
        f"{n} file(s) are archived in {where or 'GLACIER'}: restore the snapshot's objects first"
    ),
}


def read_metadata(store: Store, snapshot_id: str) -> SnapshotMetadata | None:
    """The snapshot's metadata; None if it has none; MetadataError if it is not well-formed."""
    raw = store.read_bytes(snapshot_id, METADATA_FILE, limit=MAX_METADATA_BYTES)
    if raw is None:
        return None
    metadata = SnapshotMetadata.from_json(raw)
    if metadata.snapshot_id != snapshot_id:
        raise MetadataError(f"snapshot_metadata.json names {metadata.snapshot_id!r}")
    return metadata


def load_complete(store: Store, snapshot_id: str, env: str) -> SnapshotMetadata:
    """The metadata of a complete snapshot of ``env``, or a one-line SnapshotError."""
    parse_id(snapshot_id)
    try:
        metadata = read_metadata(store, snapshot_id)
    except MetadataError as err:
        raise SnapshotError(f"snapshot {snapshot_id} is refused: {err}; it is never restored from") from None
    if metadata is None:
        if store.list_all().get(snapshot_id):
            raise SnapshotError(
                f"snapshot {snapshot_id} is incomplete (no metadata): it is never restored from"
            )
        raise SnapshotError(
            f"unknown snapshot {snapshot_id!r} in {store.location} (list_snapshots.py --env {env})"
        )
    if not metadata.complete:
        reason = f": {metadata.error}" if metadata.error else ""
        raise SnapshotError(
            f"snapshot {snapshot_id} is incomplete (complete is not true){reason}: it is never restored from"
        )
    if metadata.env != env:
        raise SnapshotError(
            f"snapshot {snapshot_id} belongs to {metadata.env!r}, not {env!r}: "
            "copying between environments is promote's job"
        )
    return metadata


def find_problems(store: Store, metadata: SnapshotMetadata, workers: int) -> list[FileProblem]:
    """Every file of the snapshot whose stored copy is missing, archived or not what was recorded."""
    items = list(metadata.files.items())
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items) or 1))) as pool:
        found = pool.map(lambda item: store.check(metadata.snapshot_id, *item), items)
        return sorted((p for p in found if p is not None), key=lambda p: p.rel)


def describe_problems(problems: Iterable[FileProblem]) -> str:
    """``2 file(s) fail their checksum: a.yaml, b.zip; 1 file(s) are missing: c.json`` (one line)."""
    problems = list(problems)
    parts = []
    for kind, words in _PROBLEM_WORDS.items():
        if listed := [p for p in problems if p.kind == kind]:
            parts.append(f"{words(len(listed), listed[0].storage_class)}: {', '.join(p.rel for p in listed)}")
    return "; ".join(parts)


def verify_snapshot(store: Store, metadata: SnapshotMetadata, workers: int) -> None:
    """Refuse (SnapshotError naming every bad file, one line) unless every file checks out."""
    problems = find_problems(store, metadata, workers)
    if problems:
        raise SnapshotError(
            f"snapshot {metadata.snapshot_id} is refused: {describe_problems(problems)}; nothing was changed"
        )
