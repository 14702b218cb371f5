"""``snapshot_metadata.json``: reading it, and refusing a snapshot that cannot be restored from."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from vectora_core.snapshots.errors import SnapshotError
from vectora_core.snapshots.ids import parse_id
from vectora_core.snapshots.store import METADATA_FILE, Store

FORMAT_VERSION: Final = 1


def read_metadata(store: Store, snapshot_id: str) -> dict[str, Any] | None:
    raw = store.read_bytes(snapshot_id, METADATA_FILE)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return {"complete": False, "error": "snapshot_metadata.json is not valid JSON"}
    return data if isinstance(data, dict) else {"complete": False, "error": "metadata is not an object"}


def load_complete(store: Store, snapshot_id: str, env: str) -> dict[str, Any]:
    """The metadata of a restorable snapshot of ``env``, or a one-line SnapshotError."""
    parse_id(snapshot_id)
    metadata = read_metadata(store, snapshot_id)
    if metadata is None:
        if store.list_all().get(snapshot_id):
            raise SnapshotError(
                f"snapshot {snapshot_id} is incomplete (no metadata): it is never restored from"
            )
        raise SnapshotError(
            f"unknown snapshot {snapshot_id!r} in {store.location} (list_snapshots.py --env {env})"
        )
    if metadata.get("complete") is not True:
        reason = f": {metadata['error']}" if metadata.get("error") else ""
        raise SnapshotError(
            f"snapshot {snapshot_id} is incomplete (complete is not true){reason}: it is never restored from"
        )
    if metadata.get("env") != env:
        raise SnapshotError(
            f"snapshot {snapshot_id} belongs to {metadata.get('env')!r}, not {env!r}: "
            "copying between environments is promote's job"
        )
    return metadata


def verify_files(
    store: Store, snapshot_id: str, metadata: dict[str, Any], components: tuple[str, ...], workers: int
) -> None:
    """Check size and SHA-256 of every file the given components need; SnapshotError on the first bad one."""
    files = {rel: rec for rel, rec in metadata.get("files", {}).items() if rec.get("component") in components}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        problems = [p for p in pool.map(lambda item: store.check(snapshot_id, *item), files.items()) if p]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SnapshotError(f"snapshot {snapshot_id} is refused: {problems[0]}{more}; nothing was changed")
