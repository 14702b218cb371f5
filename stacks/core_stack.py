"""S0-core: the environment's buckets."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.base import LAMBDA_RUNTIME, VectoraStack
from vectora_constructs.nag import skip_checkov
from vectora_constructs.pre_update_snapshot import SnapshotFunction
from vectora_constructs.secure_bucket import SecureBucket
from vectora_core.environments import EnvConfig
from vectora_core.naming import Bucket, StackComponent, resource_name
from vectora_ops.snapshots.layout import SLEEP_TAG_KEY, SLEEP_TAG_VALUE

# Stable logical IDs, forever: changing one makes CloudFormation replace the bucket.
LOGICAL_IDS = {
    Bucket.CONFIG: "ConfigBucket",
    Bucket.DATA: "DataBucket",
    Bucket.NEWSLETTERS: "NewslettersBucket",
    Bucket.LAMBDA_CODE: "LambdaCodeBucket",
    Bucket.BACKUPS: "BackupsBucket",
    Bucket.ACCESS_LOGS: "AccessLogsBucket",
}
# Every bucket of the project is versioned (not the access logs): client configs and canonical
# files are promoted by exact object version, whatever a pipeline run or a deploy overwrites stays
# recoverable, and a snapshot deleted by retention lingers as a noncurrent version.
VERSIONED = frozenset(Bucket) - {Bucket.ACCESS_LOGS}
SNAPSHOTS_PREFIX = "snapshots/"
# Noncurrent versions of the working buckets: the few newest stay whatever their age, older ones
# expire after the environment's noncurrent_version_days (the backups bucket has its own rules).
NONCURRENT_VERSIONS_KEPT = 3


def noncurrent_lifecycle(config: EnvConfig) -> list[s3.LifecycleRule]:
    """Bound the cost of versioning: overwritten or deleted objects do not accumulate forever."""
    return [
        s3.LifecycleRule(
            id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)
        ),
        s3.LifecycleRule(
            id="expire-noncurrent-versions",
            noncurrent_version_expiration=Duration.days(config.noncurrent_version_days),
            noncurrent_versions_to_retain=NONCURRENT_VERSIONS_KEPT,
        ),
    ]


def backups_lifecycle(config: EnvConfig) -> list[s3.LifecycleRule]:
    """Count-based retention is the snapshot engine's; the bucket adds the age-based parts."""
    rules = [
        s3.LifecycleRule(
            id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)
        )
    ]
    if config.snapshot_glacier_after_days is not None:
        rules.append(
            # Only the files tagged as sleepable when written (the bulk copies): the metadata,
            # README and stack templates that list, verify and a rollback read stay in STANDARD
            # (a Glacier object answers InvalidObjectState until restored).
            s3.LifecycleRule(
                id="snapshots-to-glacier",
                prefix=SNAPSHOTS_PREFIX,
                tag_filters={SLEEP_TAG_KEY: SLEEP_TAG_VALUE},
                transitions=[
                    s3.Transition(
                        storage_class=s3.StorageClass.GLACIER,
                        transition_after=Duration.days(config.snapshot_glacier_after_days),
                    )
                ],
            )
        )
    if config.backups_noncurrent_days is not None:
        # Snapshots removed by retention linger as noncurrent versions for a grace period.
        rules.append(
            s3.LifecycleRule(
                id="expire-removed-snapshots",
                prefix=SNAPSHOTS_PREFIX,
                noncurrent_version_expiration=Duration.days(config.backups_noncurrent_days),
            )
        )
    return rules


class CoreStack(VectoraStack):
    """Buckets ``vectora-inbox-{config,data,newsletters,lambda-code,backups}-{env}``.

    Every bucket writes its server access logs to ``vectora-inbox-access-logs-{env}``.
    """

    def __init__(
        self, scope: Construct, *, config: EnvConfig, adopted_buckets: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(
            scope, component=StackComponent.CORE, config=config, description="Vectora Inbox S0-core: buckets"
        )
        access_logs_construct = SecureBucket(
            self,
            "AccessLogs",
            bucket_name=resource_name(Bucket.ACCESS_LOGS, config.name),
            logical_id=LOGICAL_IDS[Bucket.ACCESS_LOGS],
            versioned=False,
            retain=config.retain_stateful,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(config.log_retention_days))
            ],
        )
        access_logs = access_logs_construct.bucket
        skip_checkov(
            access_logs,
            "CKV_AWS_18",
            "This bucket is where the other buckets' access logs go: logging its own accesses into itself "
            "would log every log delivery, endlessly.",
        )
        skip_checkov(
            access_logs,
            "CKV_AWS_21",
            "Not versioned on purpose: S3's log delivery writes each log object once, nothing overwrites "
            "it, and it expires after the log retention; versioning would keep every expired log.",
        )
        self.buckets: dict[str, s3.Bucket] = {Bucket.ACCESS_LOGS: access_logs}
        secure: dict[str, SecureBucket] = {Bucket.ACCESS_LOGS: access_logs_construct}
        for component in (Bucket.CONFIG, Bucket.DATA, Bucket.NEWSLETTERS, Bucket.LAMBDA_CODE, Bucket.BACKUPS):
            secure[component] = SecureBucket(
                self,
                LOGICAL_IDS[component].removesuffix("Bucket"),
                bucket_name=resource_name(component, config.name),
                logical_id=LOGICAL_IDS[component],
                versioned=component in VERSIONED,
                # a bucket adopted by a takeover held data before this project: never Delete
                retain=config.retain_stateful or component in adopted_buckets,
                lifecycle_rules=(
                    backups_lifecycle(config) if component == Bucket.BACKUPS else noncurrent_lifecycle(config)
                ),
                server_access_logs_bucket=access_logs,
                server_access_logs_prefix=f"{component}/",
            )
            self.buckets[component] = secure[component].bucket
        # The environment's one snapshot function lives here, in the stack deployed first; S0-iam
        # and S1-runtime call it by name.
        self.snapshot_function = SnapshotFunction(
            self, "PreUpdateSnapshotFunction", config=config, runtime=LAMBDA_RUNTIME
        )
        # The snapshot writes to the backups bucket, which logs to the access-logs bucket: both must
        # exist before it runs. The access-logs bucket *policy* names every bucket that logs to it,
        # so it cannot come first; it is guarded like the other buckets.
        self.add_pre_update_snapshot(
            function=self.snapshot_function,
            prerequisites=[secure[Bucket.BACKUPS], access_logs.node.default_child],  # type: ignore[list-item]  # CfnBucket
        )
