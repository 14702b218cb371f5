"""Patch: a bucket created by CloudFormation with ``VersioningConfiguration`` is versioned.

Symptom: every bucket of the project's templates is versioned (``Status: Enabled``), yet locally
``GetBucketVersioning`` answers nothing and objects get no ``VersionId``: a promotion cannot name
the exact config versions it copies, nor an overwritten object be recovered.
Cause: moto's ``FakeBucket.create_from_cloudformation_json`` / ``update_from_cloudformation_json``
apply encryption and tags, not ``VersioningConfiguration``.
Fix: after moto creates or updates the bucket, set its versioning status from the property
(``Enabled`` or ``Suspended``; an update that drops the property suspends it, as on AWS, where a
versioned bucket can never go back to unversioned).
"""

from __future__ import annotations

from typing import Any

from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

_original_create = FakeBucket.create_from_cloudformation_json
_original_update = FakeBucket.update_from_cloudformation_json


def _apply_versioning(bucket: FakeBucket, properties: dict[str, Any], account_id: str, region: str) -> None:
    wanted = (properties.get("VersioningConfiguration") or {}).get("Status")
    if wanted is None and bucket.versioning_status in (None, ""):
        return
    backend = s3_backends[account_id][get_partition(region)]
    backend.put_bucket_versioning(bucket.name, wanted or "Suspended")


def _create(
    cls: type[FakeBucket],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> FakeBucket:
    bucket = _original_create.__func__(  # type: ignore[attr-defined]  # unbound classmethod
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    _apply_versioning(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
    return bucket  # type: ignore[no-any-return]


def _update(
    cls: type[FakeBucket],
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> FakeBucket:
    bucket = _original_update.__func__(  # type: ignore[attr-defined]  # unbound classmethod
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    _apply_versioning(bucket, cloudformation_json.get("Properties", {}), account_id, region_name)
    return bucket  # type: ignore[no-any-return]


def apply() -> None:
    FakeBucket.create_from_cloudformation_json = classmethod(_create)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
    FakeBucket.update_from_cloudformation_json = classmethod(_update)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
