"""Client configs and canonical files: the source's exact object versions, validated, then copied.

The set is read at fixed versions (the VersionId each key has now), validated together before
anything is uploaded (all or nothing), and put into the target byte for byte (comments included),
with S3 checking each upload against its SHA-256. Canonical files are always promoted whole; client
configs are one client's (``--client``) or all of them. A key the target has and the source no
longer has, inside that scope, is deleted, so that the target equals the source.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from vectora_core.naming import CANONICAL_PREFIX, client_of
from vectora_ops.config.publish import Checked, ConfigFile, validate_files
from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError
from vectora_ops.operation.state import ConfigObject, read_object

YAML_CONTENT_TYPE = "application/yaml"


class ConfigRefused(OperationError):
    """The source's configs are invalid, or the requested client has none."""


@dataclass(frozen=True)
class SourceFile:
    obj: ConfigObject
    data: bytes


def in_scope(key: str, client: str | None) -> bool:
    if key.startswith(CANONICAL_PREFIX):
        return key.endswith(".yaml")
    owner = client_of(key)
    return owner is not None and client in (None, owner)


def check_client(source_configs: dict[str, ConfigObject], client: str | None, bucket: str) -> None:
    if client is None:
        return
    known = sorted(filter(None, (client_of(k) for k in source_configs)))
    if client not in known:
        raise ConfigRefused(
            f"unknown client {client!r}: no clients/{client}.yaml in {bucket} "
            f"(known: {', '.join(known) or 'none'})"
        )


def load(source: Environment, objects: dict[str, ConfigObject]) -> list[SourceFile]:
    """The bytes of every object at its recorded version (a later write cannot slip in)."""
    files = []
    for key, obj in sorted(objects.items()):
        data, _ = read_object(source, key, obj.version_id)
        files.append(SourceFile(obj, data))
    return files


def validate(
    source: Environment, files: list[SourceFile], *, runtime: str | None, target_env: str
) -> Checked:
    """The set validated together as ``publish_config.py`` does (each file named
    ``s3://bucket/key (version ...)``), against ``runtime`` when known.

    Which runtime: the one the source's artifact carries, read from the source's functions, not the
    one the target runs now. The artifact moves with the configs in one promotion (code first, then
    configs, both undone together on failure), so once the configs reach the target it runs the
    source's runtime; the target's current runtime would refuse a config that needs the very
    runtime being promoted with it. The promotion checks that after its deploy (``check_runtime``).
    """
    as_config = [
        ConfigFile(
            f.obj.key,
            f.data,
            f"s3://{source.config_bucket}/{f.obj.key} (version {f.obj.version_id or 'null'})",
        )
        for f in files
    ]
    where = f"{target_env} once promoted ({source.env}'s artifact)"
    return validate_files(as_config, runtime=(runtime, where) if runtime else None)


def removals(source_keys: set[str], target_configs: dict[str, ConfigObject], client: str | None) -> list[str]:
    return sorted(k for k in target_configs if in_scope(k, client) and k not in source_keys)


def copy(target: Environment, files: list[SourceFile], removed: list[str]) -> list[dict[str, Any]]:
    """Put every file into the target's config bucket (exact bytes), delete ``removed``; the record."""
    copied: list[dict[str, Any]] = []
    for f in files:
        response = target.s3.put_object(
            Bucket=target.config_bucket,
            Key=f.obj.key,
            Body=f.data,
            ContentType=f.obj.content_type or YAML_CONTENT_TYPE,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(f.obj.sha256)).decode(),
        )
        copied.append(
            {
                "key": f.obj.key,
                "sha256": f.obj.sha256,
                "semver": f.obj.semver,
                "source_version_id": f.obj.version_id,
                "target_version_id": response.get("VersionId"),
            }
        )
    for key in removed:
        target.s3.delete_object(Bucket=target.config_bucket, Key=key)
        copied.append({"key": key, "deleted": True})
    return copied
