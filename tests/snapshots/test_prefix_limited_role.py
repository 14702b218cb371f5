"""The snapshot engine under the pre-update snapshot role's S3 permissions (issue 22).

That role may list the config and data buckets only under the prefixes a snapshot copies
(``StringLike s3:prefix``, ``vectora_constructs/pre_update_snapshot.py``). AWS authorizes HeadBucket
as ``s3:ListBucket`` with no ``s3:prefix``, so it answers that role's HeadBucket on those buckets
403 AccessDenied: the engine must learn that they exist (or not) from the listing it is allowed.

moto in this process stands for S3; the one thing it does not do, refuse that HeadBucket, is done
by an event hook exactly as AWS would answer. The IAM side (which request the role's policy
allows) is the decision corpus's, in tests/iam/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.backends import IN_PROCESS_ENV
from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots import SnapshotEngine

ENV = "stage"
CONFIG = resource_name(Bucket.CONFIG, ENV)
DATA = resource_name(Bucket.DATA, ENV)
BACKUPS = resource_name(Bucket.BACKUPS, ENV)
# The buckets the role may list under some prefixes only: HeadBucket is refused on them.
PREFIX_LIMITED = {CONFIG, DATA}


def _refuse_head_bucket(params: dict[str, Any], **_: Any) -> None:
    if params.get("Bucket") in PREFIX_LIMITED:
        raise ClientError(
            {"Error": {"Code": "403", "Message": "Forbidden"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
            "HeadBucket",
        )


@pytest.fixture
def role_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """moto, with the config bucket holding a client and its canonical file; no data bucket yet."""
    for key, value in IN_PROCESS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session()
        s3 = session.client("s3")
        location = {"LocationConstraint": session.region_name}
        for bucket in (CONFIG, BACKUPS):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
        s3.put_object(Bucket=CONFIG, Key="clients/lai_weekly.yaml", Body=b"client_profile: {}\n")
        s3.put_object(Bucket=CONFIG, Key="canonical/scopes/x.yaml", Body=b"x: 1\n")
        session.events.register("before-parameter-build.s3.HeadBucket", _refuse_head_bucket)
        yield session


def test_the_hook_answers_head_bucket_as_aws_does_for_the_role(role_session: boto3.session.Session) -> None:
    s3 = role_session.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.head_bucket(Bucket=CONFIG)
    assert refused.value.response["Error"]["Code"] == "403"
    s3.head_bucket(Bucket=BACKUPS)  # ListBackups has no condition: HeadBucket is allowed there


def test_a_snapshot_learns_what_exists_from_the_allowed_listings(role_session: boto3.session.Session) -> None:
    engine = SnapshotEngine(ENV, aws=Environment(ENV, session=role_session, workers=2))
    snapshot_id = engine.create("baseline_vectora-inbox-s0-iam-stage")
    metadata = engine.verify(snapshot_id)
    assert {"clients/lai_weekly.yaml", "canonical/scopes/x.yaml"} <= set(metadata.files)
    # the data bucket does not exist yet (NoSuchBucket on the listing): absent, not an error
    curated = metadata.contents["curated"]
    assert curated["absent"] is True and curated["reason"] == f"bucket {DATA} does not exist"


def test_a_client_is_checked_against_the_listing_too(role_session: boto3.session.Session) -> None:
    engine = SnapshotEngine(ENV, aws=Environment(ENV, session=role_session, workers=2))
    assert engine.preview("p", client="lai_weekly").copies >= 1
    with pytest.raises(SnapshotError, match="no clients/other.yaml"):
        engine.preview("p", client="other")
