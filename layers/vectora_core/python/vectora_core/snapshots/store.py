"""Where snapshots live: ``snapshots/{id}/`` in the backups bucket, or the same layout on disk.

Both stores give the engine the same operations. The S3 store never moves file contents through
this process when both ends are in S3: copies are server-side CopyObject calls asking S3 for the
SHA-256 of the object, so a 20 MB curated file or a thousand config files cost a request each,
and the checksum recorded in the metadata is computed by S3 itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from vectora_core.snapshots.aws import Aws, error_code, is_not_found
from vectora_core.snapshots.errors import SnapshotError

SNAPSHOTS_PREFIX: Final = "snapshots/"
AUDIT_PREFIX: Final = "audit/rollbacks/"
METADATA_FILE: Final = "snapshot_metadata.json"
README_FILE: Final = "README.md"
GLACIER: Final = "GLACIER"
_CHUNK: Final = 1024 * 1024
_DELETE_BATCH: Final = 1000
# Conditional-write refusals: the key already exists (PreconditionFailed) or a concurrent
# conditional write to the same key is in flight (ConditionalRequestConflict).
_TAKEN_CODES: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})


@dataclass(frozen=True)
class StoredFile:
    rel: str
    size: int
    storage_class: str


def b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def hex_to_b64(value: str) -> str:
    return base64.b64encode(binascii.unhexlify(value)).decode()


def digests(data: bytes) -> tuple[str, str]:
    """(sha256 hex, S3-style ETag) of a single-part object."""
    return hashlib.sha256(data).hexdigest(), f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


class Store(Protocol):
    location: str
    supports_storage_class: bool

    def reserve(self, snapshot_id: str, body: bytes) -> bool: ...
    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> dict[str, Any]: ...
    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> dict[str, Any]: ...
    def read_bytes(self, snapshot_id: str, rel: str) -> bytes | None: ...
    def check(self, snapshot_id: str, rel: str, record: dict[str, Any]) -> str | None: ...
    def list_all(self) -> dict[str, list[StoredFile]]: ...
    def delete(self, snapshot_id: str) -> None: ...
    def restore_to_s3(self, snapshot_id: str, rel: str, bucket: str, key: str) -> None: ...
    def zip_source(self, snapshot_id: str, rel: str) -> dict[str, Any]: ...
    def archive_file(self, snapshot_id: str, rel: str) -> bool: ...
    def write_audit(self, name: str, entry: dict[str, Any]) -> str: ...


class S3Store:
    """``s3://vectora-inbox-backups-{env}/snapshots/{id}/...``."""

    supports_storage_class = True

    def __init__(self, aws: Aws) -> None:
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
            if error_code(err) in _TAKEN_CODES:
                return False
            raise
        return True

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> dict[str, Any]:
        sha256, etag = digests(data)
        response = self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(snapshot_id, rel),
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=hex_to_b64(sha256),  # S3 rejects the write if the bytes arrive altered
        )
        return {"sha256": sha256, "size": len(data), "etag": response.get("ETag", etag)}

    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> dict[str, Any]:
        response = self.s3.copy_object(
            Bucket=self.bucket,
            Key=self.key(snapshot_id, rel),
            CopySource={"Bucket": bucket, "Key": key},
            ChecksumAlgorithm="SHA256",
        )
        result = response["CopyObjectResult"]
        checksum = result.get("ChecksumSHA256")
        if not checksum:
            head = self.s3.head_object(
                Bucket=self.bucket, Key=self.key(snapshot_id, rel), ChecksumMode="ENABLED"
            )
            checksum = head.get("ChecksumSHA256")
        if not checksum or "-" in checksum:
            raise SnapshotError(f"S3 returned no full-object SHA-256 for s3://{bucket}/{key}")
        return {"sha256": b64_to_hex(checksum), "etag": result.get("ETag")}

    def read_bytes(self, snapshot_id: str, rel: str) -> bytes | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key(snapshot_id, rel))
        except ClientError as err:
            if is_not_found(err):
                return None
            raise
        return bytes(response["Body"].read())

    def check(self, snapshot_id: str, rel: str, record: dict[str, Any]) -> str | None:
        """None if the stored file has the recorded size and SHA-256, else the reason (one line)."""
        try:
            head = self.s3.head_object(
                Bucket=self.bucket, Key=self.key(snapshot_id, rel), ChecksumMode="ENABLED"
            )
        except ClientError as err:
            if is_not_found(err):
                return f"{rel} is missing"
            raise
        if head.get("StorageClass") in (GLACIER, "DEEP_ARCHIVE"):
            return f"{rel} is archived in {head['StorageClass']}: restore the snapshot's objects first"
        if int(head.get("ContentLength", -1)) != int(record["size"]):
            return f"{rel} has {head.get('ContentLength')} bytes, the metadata says {record['size']}"
        checksum = head.get("ChecksumSHA256")
        if checksum and "-" not in checksum:
            actual = b64_to_hex(checksum)
        else:
            data = self.read_bytes(snapshot_id, rel) or b""
            actual = hashlib.sha256(data).hexdigest()
        if actual != record["sha256"]:
            return f"{rel} fails its checksum (sha256 {actual[:12]}..., metadata {record['sha256'][:12]}...)"
        return None

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
        # The backups bucket is versioned: the STANDARD copy would stay billed as a noncurrent
        # version forever in prod. Drop it once the Glacier copy is proven identical.
        if (
            old_version
            and old_version != "null"
            and new_checksum
            and new_checksum == head.get("ChecksumSHA256")
        ):
            self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=old_version)
        return True

    def write_audit(self, name: str, entry: dict[str, Any]) -> str:
        key = f"{AUDIT_PREFIX}{name}.json"
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(entry, indent=2).encode(),
            ContentType="application/json",
        )
        return f"s3://{self.bucket}/{key}"


class LocalStore:
    """``DIR/snapshots/{id}/...`` on disk (``--local DIR``): same layout, same metadata."""

    supports_storage_class = False

    def __init__(self, aws: Aws, root: Path | str) -> None:
        self.aws = aws
        self.root = Path(root)
        self.base = self.root / SNAPSHOTS_PREFIX.rstrip("/")
        self.location = str(self.base)

    def path(self, snapshot_id: str, rel: str = "") -> Path:
        return self.base / snapshot_id / rel if rel else self.base / snapshot_id

    def reserve(self, snapshot_id: str, body: bytes) -> bool:
        self.base.mkdir(parents=True, exist_ok=True)
        try:
            self.path(snapshot_id).mkdir()  # atomic: exactly one caller creates the folder
        except FileExistsError:
            return False
        self._write(self.path(snapshot_id, METADATA_FILE), body)
        return True

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> dict[str, Any]:
        self._write(self.path(snapshot_id, rel), data)
        sha256, etag = digests(data)
        return {"sha256": sha256, "size": len(data), "etag": etag}

    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> dict[str, Any]:
        target = self.path(snapshot_id, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        body = self.aws.s3.get_object(Bucket=bucket, Key=key)["Body"]
        with tmp.open("wb") as out:
            for chunk in body.iter_chunks(_CHUNK):
                out.write(chunk)
                sha.update(chunk)
                md5.update(chunk)
        os.replace(tmp, target)
        return {"sha256": sha.hexdigest(), "etag": f'"{md5.hexdigest()}"'}

    def read_bytes(self, snapshot_id: str, rel: str) -> bytes | None:
        path = self.path(snapshot_id, rel)
        return path.read_bytes() if path.is_file() else None

    def _sha256(self, path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def check(self, snapshot_id: str, rel: str, record: dict[str, Any]) -> str | None:
        path = self.path(snapshot_id, rel)
        if not path.is_file():
            return f"{rel} is missing"
        if path.stat().st_size != int(record["size"]):
            return f"{rel} has {path.stat().st_size} bytes, the metadata says {record['size']}"
        actual = self._sha256(path)
        if actual != record["sha256"]:
            return f"{rel} fails its checksum (sha256 {actual[:12]}..., metadata {record['sha256'][:12]}...)"
        return None

    def list_all(self) -> dict[str, list[StoredFile]]:
        found: dict[str, list[StoredFile]] = {}
        if not self.base.is_dir():
            return found
        for folder in sorted(p for p in self.base.iterdir() if p.is_dir()):
            found[folder.name] = [
                StoredFile(str(f.relative_to(folder)), f.stat().st_size, "LOCAL")
                for f in sorted(folder.rglob("*"))
                if f.is_file() and not f.name.endswith(".part")
            ]
        return found

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

    def write_audit(self, name: str, entry: dict[str, Any]) -> str:
        path = self.root / AUDIT_PREFIX / f"{name}.json"
        self._write(path, json.dumps(entry, indent=2).encode())
        return str(path)


def iter_batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_store(aws: Aws, local_dir: Path | str | None = None) -> Store:
    """The backups bucket (SnapshotError if it does not exist), or ``local_dir`` on disk."""
    return LocalStore(aws, local_dir) if local_dir is not None else S3Store(aws)
