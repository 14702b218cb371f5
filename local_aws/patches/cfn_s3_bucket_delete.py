"""Patch: CloudFormation cannot delete a bucket that still holds objects, as on AWS.

Symptom: ``cdk destroy`` of a stack whose bucket (``RemovalPolicy.DESTROY``, no auto-delete)
still holds objects ends in ``DELETE_COMPLETE`` locally, the bucket silently left behind; on AWS
the same destroy fails (``DELETE_FAILED``: "The bucket you tried to delete is not empty").
The project relies on that rule: dev buckets are "destroyed once empty".
Cause: ``FakeBucket.delete_from_cloudformation_json`` calls ``S3Backend.delete_bucket``, which
returns ``None`` without deleting a non-empty bucket.
Fix: a non-empty bucket (any object version or delete marker counts, as on AWS) fails the
resource with AWS's message, so the stack ends in ``DELETE_FAILED`` (engine patch); a bucket
already deleted by hand counts as deleted.
"""

from __future__ import annotations

from typing import Any

from moto.s3.exceptions import MissingBucket
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition


class BucketNotEmptyError(Exception):
    def __init__(self, bucket: str) -> None:
        super().__init__(f"The bucket you tried to delete is not empty ({bucket})")


def _delete_from_cloudformation_json(
    cls: type[FakeBucket], resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    backend = s3_backends[account_id][get_partition(region_name)]
    try:
        bucket = backend.get_bucket(resource_name)
    except MissingBucket:
        return
    if bucket.keys:
        raise BucketNotEmptyError(resource_name)
    backend.delete_bucket(resource_name)


def apply() -> None:
    FakeBucket.delete_from_cloudformation_json = classmethod(_delete_from_cloudformation_json)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
