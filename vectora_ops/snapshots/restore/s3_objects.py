"""S3 objects: client configs, canonical files, curated items (``client_config``, ``canonical``,
``curated``). Each snapshot file goes back to the key it came from; objects of the scope that the
snapshot does not hold are deleted, so the prefix equals the snapshot afterwards."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.metadata import FileRecord
from vectora_ops.snapshots.restore.base import Change, Planner
from vectora_ops.snapshots.scopes import S3_COMPONENTS, check_targets, s3_scope
from vectora_ops.snapshots.store import full_object_sha256


class S3ObjectsPlanner(Planner):
    handles: ClassVar[frozenset[str]] = frozenset(S3_COMPONENTS)

    def plan(self) -> list[Change]:
        return [change for c in S3_COMPONENTS if c in self.components for change in self.plan_component(c)]

    def same_content(self, bucket: str, live: dict[str, Any], record: FileRecord) -> bool:
        """ETag first (free, from the listing); else the SHA-256 S3 stores with the object, when it has one.

        ETags are content MD5s for SSE-S3 single-part objects only; a KMS-encrypted or multipart
        object has another ETag for the same bytes, so the checksum decides then.
        """
        if live.get("ETag") in {record.source_etag, record.etag}:
            return True
        if int(live.get("Size", -1)) != record.size:
            return False
        head = self.aws.s3.head_object(Bucket=bucket, Key=live["Key"], ChecksumMode="ENABLED")
        return full_object_sha256(head.get("ChecksumSHA256")) == record.sha256

    def plan_component(self, component: str) -> list[Change]:
        metadata = self.source.metadata
        scope = s3_scope(component, metadata.client)
        bucket = self.aws.name(scope.bucket_component)
        summary = metadata.contents.get(component, {})
        reason = str(summary.get("reason", "")) if isinstance(summary, dict) else ""
        if reason.startswith("bucket "):
            self.notes.append(f"{component}: {reason} when the snapshot was taken: left as is")
            return []
        if not self.aws.bucket_exists(bucket):
            raise SnapshotError(
                f"{component}: bucket {bucket} does not exist: deploy the S0-core stack first"
            )
        # Verification refuses such a snapshot first; a plan never writes outside its scope all the same.
        check_targets(metadata, self.aws.env, component)
        wanted = metadata.files_of(component)
        current = {
            o["Key"]: o for o in self.aws.list_objects(bucket, scope.list_prefix) if scope.matches(o["Key"])
        }
        changes: list[Change] = []
        for rel, record in wanted.items():
            live = current.get(rel)
            if live is not None and self.same_content(bucket, live, record):
                continue
            restore = functools.partial(
                self.source.store.restore_to_s3, self.source.snapshot_id, rel, bucket, rel
            )
            action = "put (changed)" if live is not None else "put (missing)"
            changes.append(Change(component, f"s3://{bucket}/{rel}", action, restore))
        for key in sorted(set(current) - set(wanted)):
            delete = functools.partial(self.aws.s3.delete_object, Bucket=bucket, Key=key)
            changes.append(Change(component, f"s3://{bucket}/{key}", "delete (not in snapshot)", delete))
        return changes
