"""Where snapshots live: ``snapshots/{id}/`` in the backups bucket, or the same layout on disk.

Both stores give the engine the same operations. The S3 store never moves file contents through
this process when both ends are in S3: copies are server-side CopyObject calls asking S3 for the
SHA-256 of the object, so a 20 MB curated file or a thousand config files cost a request each,
and the checksum recorded in the metadata is computed by S3 itself. Checking a stored file is a
HeadObject too (S3 returns the SHA-256 it keeps with the object); only an object S3 keeps no
SHA-256 for (one rewritten without a checksum) is read and hashed here.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from vectora_ops.audit import AUDIT_PREFIX, audit_key
from vectora_ops.environment import Environment, if_found, is_write_conflict
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.layout import SLEEP_TAGGING, may_sleep
from vectora_ops.snapshots.metadata import METADATA_FILE, FileRecord

SNAPSHOTS_PREFIX: Final = "snapshots/"
GLACIER: Final = "GLACIER"
ARCHIVED_CLASSES: Final = frozenset({GLACIER, "DEEP_ARCHIVE"})
_CHUNK: Final = 1024 * 1024
_DELETE_BATCH: Final = 1000

# What is wrong with a stored file (FileProblem.kind).
MISMATCH: Final = "mismatch"  # other size or other SHA-256 than the metadata says
MISSING: Final = "missing"
ARCHIVED: Final = "archived"


@dataclass(frozen=True)
class StoredFile:
    rel: str
    size: int
    storage_class: str


@dataclass(frozen=True)
class Written:
    """What a store reports of a file it has just written (the caller knows its size)."""

    sha256: str
    etag: str | None


@dataclass(frozen=True)
class FileProblem:
    rel: str
    kind: str  # MISMATCH | MISSING | ARCHIVED
    storage_class: str | None = None


def full_object_sha256(checksum: str | None) -> str | None:
    """The hex SHA-256 of a whole object from S3's ``ChecksumSHA256``; None when S3 kept none or
    only a checksum of checksums (``...-3``: multipart uploads), which says nothing of the bytes."""
    return base64.b64decode(checksum).hex() if checksum and "-" not in checksum else None


class CaptureTarget(Protocol):
    """What a capture writes through: a ``Store``, or the ``NullStore`` of a preview."""

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> Written: ...
    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> Written: ...


class Store(CaptureTarget, Protocol):
    location: str
    supports_storage_class: bool

    def reserve(self, snapshot_id: str, body: bytes) -> bool: ...
    def read_bytes(self, snapshot_id: str, rel: str, limit: int | None = None) -> bytes | None: ...
    def check(self, snapshot_id: str, rel: str, record: FileRecord) -> FileProblem | None: ...
    def list_all(self) -> dict[str, list[StoredFile]]: ...
    def delete(self, snapshot_id: str) -> None: ...
    def restore_to_s3(self, snapshot_id: str, rel: str, bucket: str, key: str) -> None: ...
    def zip_source(self, snapshot_id: str, rel: str) -> dict[str, Any]: ...
    def archive_file(self, snapshot_id: str, rel: str) -> bool: ...
    def write_audit(self, kind: str, started: datetime, label: str, entry: dict[str, Any]) -> str: ...


def _audit_json(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, indent=2, default=str).encode()


def _sleep_tag(rel: str) -> dict[str, str]:
    """The Tagging argument of a snapshot file's write: the sleep tag on the files that may go to
    Glacier (the backups bucket's lifecycle rule filters on it), nothing on the others."""
    return {"Tagging": SLEEP_TAGGING} if may_sleep(rel) else {}


class BackupsBucketStore:
    """``s3://vectora-inbox-backups-{env}/snapshots/{id}/...``."""

    supports_storage_class = True

    def __init__(self, aws: Environment) -> None:
        self.aws = aws
        self.s3 = aws.s3
        self.bucket = aws.require_backups_bucket()
        self.location = f"s3://{self.bucket}/{SNAPSHOTS_PREFIX}"

    def key(self, snapshot_id: str, rel: str = "") -> str:
        return f"{SNAPSHOTS_PREFIX}{snapshot_id}/{rel}"

    def reserve(self, snapshot_id: str, body: bytes) -> bool:
        # A conditional write is the only race-free "create if absent" S3 offers: two snapshots of
        # the same name in the same second cannot both win it.
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key(snapshot_id, METADATA_FILE),
                Body=body,
                IfNoneMatch="*",
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as err:
            if is_write_conflict(err):
                return False
            raise
        return True

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> Written:
        sha256 = hashlib.sha256(data)
        response = self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(snapshot_id, rel),
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(sha256.digest()).decode(),  # S3 refuses altered bytes
            **_sleep_tag(rel),
        )
        md5_etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'  # a single part's ETag
        return Written(sha256.hexdigest(), response.get("ETag", md5_etag))

    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> Written:
        tagging = _sleep_tag(rel)
        target = self.key(snapshot_id, rel)
        result = self.s3.copy_object(
            Bucket=self.bucket,
            Key=target,
            CopySource={"Bucket": bucket, "Key": key},
            ChecksumAlgorithm="SHA256",
            # The copy carries the sleep tag, not the source's tags.
            **({"TaggingDirective": "REPLACE", **tagging} if tagging else {}),
        )["CopyObjectResult"]
        sha256 = full_object_sha256(result.get("ChecksumSHA256"))
        if sha256 is None:
            head = self.s3.head_object(Bucket=self.bucket, Key=target, ChecksumMode="ENABLED")
            sha256 = full_object_sha256(head.get("ChecksumSHA256"))
        if sha256 is None:
            raise SnapshotError(f"S3 returned no full-object SHA-256 for s3://{bucket}/{key}")
        return Written(sha256, result.get("ETag"))

    def read_bytes(self, snapshot_id: str, rel: str, limit: int | None = None) -> bytes | None:
        """The file's bytes (None if absent); with ``limit``, at most ``limit + 1`` of them are read,
        so that a caller can tell a file over its bound without holding all of it."""
        response = if_found(self.s3.get_object, Bucket=self.bucket, Key=self.key(snapshot_id, rel))
        if response is None:
            return None
        with contextlib.closing(response["Body"]) as body:
            return bytes(body.read() if limit is None else body.read(limit + 1))

    def check(self, snapshot_id: str, rel: str, record: FileRecord) -> FileProblem | None:
        """None if the stored file has the recorded size and SHA-256, else what is wrong.

        One HeadObject: S3 returns the size and the SHA-256 it keeps with the object (every
        snapshot file is written with one). Only where it keeps none is the object read.
        """
        key = self.key(snapshot_id, rel)
        head = if_found(self.s3.head_object, Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        if head is None:
            return FileProblem(rel, MISSING)
        if head.get("StorageClass") in ARCHIVED_CLASSES:
            return FileProblem(rel, ARCHIVED, head["StorageClass"])
        if int(head.get("ContentLength", -1)) != record.size:
            return FileProblem(rel, MISMATCH)
        actual = full_object_sha256(head.get("ChecksumSHA256"))
        if actual is None:
            digest = hashlib.sha256()
            for chunk in self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].iter_chunks(_CHUNK):
                digest.update(chunk)
            actual = digest.hexdigest()
        return FileProblem(rel, MISMATCH) if actual != record.sha256 else None

    def list_all(self) -> dict[str, list[StoredFile]]:
        found: dict[str, list[StoredFile]] = {}
        for obj in self.aws.list_objects(self.bucket, SNAPSHOTS_PREFIX):
            snapshot_id, _, rel = obj["Key"][len(SNAPSHOTS_PREFIX) :].partition("/")
            if snapshot_id and rel:
                found.setdefault(snapshot_id, []).append(
                    StoredFile(rel, int(obj.get("Size", 0)), str(obj.get("StorageClass") or "STANDARD"))
                )
        return found

    def delete(self, snapshot_id: str) -> None:
        # Metadata first: an interrupted delete leaves an incomplete snapshot, never a "complete"
        # one with files missing.
        self.s3.delete_object(Bucket=self.bucket, Key=self.key(snapshot_id, METADATA_FILE))
        keys = [o["Key"] for o in self.aws.list_objects(self.bucket, self.key(snapshot_id))]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            response = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                raise SnapshotError(f"could not delete {first.get('Key')}: {first.get('Message')}")

    def restore_to_s3(self, snapshot_id: str, rel: str, bucket: str, key: str) -> None:
        self.s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": self.key(snapshot_id, rel)},
            ChecksumAlgorithm="SHA256",
            # The restored object leaves the sleep tag behind: it is the snapshot copy's, and copying
            # tags would need s3:GetObjectTagging/s3:PutObjectTagging on both buckets.
            TaggingDirective="REPLACE",
        )

    def zip_source(self, snapshot_id: str, rel: str) -> dict[str, Any]:
        # Lambda reads the zip from the backups bucket itself: no download here.
        return {"S3Bucket": self.bucket, "S3Key": self.key(snapshot_id, rel)}

    def archive_file(self, snapshot_id: str, rel: str) -> bool:
        """Move one object to GLACIER (copy in place); False if it already is. Drops the old version."""
        key = self.key(snapshot_id, rel)
        head = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        if head.get("StorageClass") == GLACIER:
            return False
        response = self.s3.copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": key},
            StorageClass=GLACIER,
            MetadataDirective="COPY",
            ChecksumAlgorithm="SHA256",
        )
        old_version = head.get("VersionId")
        new_checksum = response.get("CopyObjectResult", {}).get("ChecksumSHA256")
        identical = bool(new_checksum) and new_checksum == head.get("ChecksumSHA256")
        # The backups bucket is versioned: the STANDARD copy would stay billed as a noncurrent
        # version forever in prod. Drop it once the Glacier copy is proven identical.
        if identical and old_version not in (None, "", "null"):
            self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=old_version)
        return True

    def write_audit(self, kind: str, started: datetime, label: str, entry: dict[str, Any]) -> str:
        key = audit_key(kind, started, label)
        folder = f"{AUDIT_PREFIX}{kind}/"
        if not key.startswith(folder) or "/" in key[len(folder) :] or ".." in key:
            raise SnapshotError(f"refusing to write the audit record outside {folder}: {key!r}")
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=_audit_json(entry), ContentType="application/json"
        )
        return f"s3://{self.bucket}/{key}"


def _inside(path: Path, folder: Path) -> Path:
    """``path`` if, resolved, it lies inside ``folder``; a SnapshotError otherwise."""
    resolved, base = path.resolve(), folder.resolve()
    if resolved != base and base not in resolved.parents:
        raise SnapshotError(f"refusing to touch {path}: it is outside {folder}")
    return path


class LocalStore:
    """``DIR/snapshots/{id}/...`` on disk (``--local DIR``): same layout, same metadata."""

    supports_storage_class = False

    def __init__(self, aws: Environment, root: Path | str) -> None:
        self.aws = aws
        self.root = Path(root)
        self.base = self.root / SNAPSHOTS_PREFIX.rstrip("/")
        self.location = str(self.base)

    def path(self, snapshot_id: str, rel: str = "") -> Path:
        folder = _inside(self.base / snapshot_id, self.base)
        return _inside(folder / rel, folder) if rel else folder

    def reserve(self, snapshot_id: str, body: bytes) -> bool:
        self.base.mkdir(parents=True, exist_ok=True)
        try:
            self.path(snapshot_id).mkdir()  # atomic: exactly one caller creates the folder
        except FileExistsError:
            return False
        self._write(self.path(snapshot_id, METADATA_FILE), [body])
        return True

    @staticmethod
    def _write(path: Path, chunks: Iterable[bytes]) -> Written:
        """``chunks`` written to ``path`` through a ``.part`` file, hashed on the way (S3-style ETag)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        try:
            with tmp.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    sha256.update(chunk)
                    md5.update(chunk)
            os.replace(tmp, path)
        finally:
            # A failed write (a full disk, an interrupt, a failed download) leaves the .part file; a
            # successful one, nothing. Never raises: the write's own error is the one to report.
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        return Written(sha256.hexdigest(), f'"{md5.hexdigest()}"')

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> Written:
        return self._write(self.path(snapshot_id, rel), [data])

    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> Written:
        target = self.path(snapshot_id, rel)
        return self._write(target, self.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(_CHUNK))

    def read_bytes(self, snapshot_id: str, rel: str, limit: int | None = None) -> bytes | None:
        path = self.path(snapshot_id, rel)
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit + 1)

    def check(self, snapshot_id: str, rel: str, record: FileRecord) -> FileProblem | None:
        path = self.path(snapshot_id, rel)
        if not path.is_file():
            return FileProblem(rel, MISSING)
        if path.stat().st_size != record.size:
            return FileProblem(rel, MISMATCH)
        with path.open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        return FileProblem(rel, MISMATCH) if actual != record.sha256 else None

    def list_all(self) -> dict[str, list[StoredFile]]:
        folders = sorted(p for p in self.base.iterdir() if p.is_dir()) if self.base.is_dir() else []
        return {
            folder.name: [
                StoredFile(str(f.relative_to(folder)), f.stat().st_size, "LOCAL")
                for f in sorted(folder.rglob("*"))
                if f.is_file() and not f.name.endswith(".part")
            ]
            for folder in folders
        }

    def delete(self, snapshot_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(snapshot_id, METADATA_FILE).unlink()
        shutil.rmtree(self.path(snapshot_id), ignore_errors=True)

    def restore_to_s3(self, snapshot_id: str, rel: str, bucket: str, key: str) -> None:
        with self.path(snapshot_id, rel).open("rb") as body:
            self.aws.s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")

    def zip_source(self, snapshot_id: str, rel: str) -> dict[str, Any]:
        return {"ZipFile": self.path(snapshot_id, rel).read_bytes()}

    def archive_file(self, snapshot_id: str, rel: str) -> bool:
        raise SnapshotError(
            "snapshots on disk (--local) have no storage class: archive applies to the backups bucket"
        )

    def write_audit(self, kind: str, started: datetime, label: str, entry: dict[str, Any]) -> str:
        folder = self.root / AUDIT_PREFIX / kind
        path = self.root / audit_key(kind, started, label)
        # audit_key makes the label safe; this makes sure of it: DIR/audit/<kind>/ and nowhere else.
        if _inside(path, folder).resolve().parent != folder.resolve():
            raise SnapshotError(f"refusing to write the audit record outside {folder}: {path}")
        self._write(path, [_audit_json(entry)])
        return str(path)
