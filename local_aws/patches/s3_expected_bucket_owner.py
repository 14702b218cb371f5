"""Patch: ``HeadBucket`` honours ``ExpectedBucketOwner`` (a bucket of another account: 403).

Symptom: ``scripts/deploy/preflight.py`` asks, for each bucket name the stacks will create,
``HeadBucket`` with ``ExpectedBucketOwner`` = the caller's account (404: the name is free; 200:
the bucket is already this account's; 403: another account owns it). On the local AWS a bucket
of another account answered 200, so a name taken elsewhere passed for one of ours.
Cause: moto ignores the ``x-amz-expected-bucket-owner`` header, and finds a bucket of another
account through its global bucket table.
Fix: when the header is present and names an account other than the bucket's, ``HeadBucket``
answers 403 with no body, as S3 does (HEAD responses carry none). Only HeadBucket: the other
operations' ExpectedBucketOwner is not something the project's tools read from the emulator.
"""

from __future__ import annotations

from typing import Any

from moto.s3.exceptions import MissingBucket
from moto.s3.responses import S3Response

_original_head_bucket = S3Response.head_bucket
HEADER = "x-amz-expected-bucket-owner"


def _head_bucket(self: S3Response) -> Any:
    expected = self.headers.get(HEADER)
    if expected:
        try:
            bucket = self.backend.head_bucket(self.bucket_name)
        except MissingBucket:
            return 404, {}, ""
        if bucket.account_id != expected:
            return 403, {}, ""
    return _original_head_bucket(self)


def apply() -> None:
    S3Response.head_bucket = _head_bucket  # type: ignore[method-assign]  # the patch itself
