"""A private, encrypted, TLS-only S3 bucket with a stable logical ID."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_s3 as s3
from constructs import Construct

from vectora_constructs.removal import stateful_removal_policy


class SecureBucket(Construct):
    """S3-managed encryption, every public access blocked, TLS enforced by bucket policy.

    ``logical_id`` is pinned on the CfnBucket: a bucket is stateful, and a logical ID change would
    make CloudFormation replace it (and lose its data). The snapshot tests guard it too.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        logical_id: str,
        versioned: bool,
        retain: bool,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=versioned,
            lifecycle_rules=list(lifecycle_rules) or None,
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
            # No auto-delete custom resource: a dev bucket goes with its stack once it is empty,
            # so `cdk destroy` can never silently erase data (CloudFormation refuses a full bucket).
            removal_policy=stateful_removal_policy(retain),
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)  # noqa: S101  # narrows the type for mypy
        cfn_bucket.override_logical_id(logical_id)
