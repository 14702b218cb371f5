"""One frozen, typed config object per environment: every difference between dev, stage and prod.

Plain Python (no aws_cdk): the CDK app turns these fields into stack props, and the snapshot
engine, the pre-update snapshot handler and the scripts read the same object, so a retention
count or a failure policy is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vectora_core.naming import EnvName, check_env

MAIN_REGION: Final = "eu-west-3"

# Spec: EU cross-region inference profile for Claude Sonnet 4.5, and the EU regions it routes to
# (the IAM policy must allow the foundation model in each of them, and nothing else).
BEDROCK_MODEL_ID: Final = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
BEDROCK_PROFILE_DESTINATION_REGIONS: Final = (
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-3",
)


@dataclass(frozen=True, kw_only=True)
class EnvConfig:
    """Everything that differs between environments. Stacks receive it as props."""

    name: EnvName
    log_level: str
    debug: bool
    # Stateful resources (buckets, log groups) are retained on stack delete.
    retain_stateful: bool
    termination_protection: bool
    alarms_enabled: bool
    # Whether a failed pre-update snapshot fails the stack update (else: warn and go on).
    snapshot_failure_fails_update: bool
    # Keep this many newest snapshots; None keeps them all.
    snapshot_keep_newest: int | None
    # Move snapshots to Glacier after this many days; None never does.
    snapshot_glacier_after_days: int | None
    # Days a snapshot removed by retention stays recoverable (noncurrent version in the backups
    # bucket); None: noncurrent versions never expire (prod deletes no snapshot anyway).
    backups_noncurrent_days: int | None
    log_retention_days: int
    lambda_memory_mb: int
    lambda_timeout_seconds: int
    region: str = MAIN_REGION
    # None: templates stay account-agnostic (the CLI resolves the account at deploy time), so the
    # very same synthesized template is what gets promoted from one account to another.
    account: str | None = None
    bedrock_region: str = MAIN_REGION
    bedrock_model_id: str = BEDROCK_MODEL_ID
    bedrock_destination_regions: tuple[str, ...] = BEDROCK_PROFILE_DESTINATION_REGIONS

    @property
    def bedrock_foundation_model_id(self) -> str:
        """The model behind a cross-region profile id (``eu.anthropic.x`` -> ``anthropic.x``)."""
        prefix, _, rest = self.bedrock_model_id.partition(".")
        return rest if prefix in {"eu", "us", "apac", "global"} and rest else self.bedrock_model_id

    @property
    def is_inference_profile(self) -> bool:
        return self.bedrock_foundation_model_id != self.bedrock_model_id


ENVIRONMENTS: Final[dict[EnvName, EnvConfig]] = {
    "dev": EnvConfig(
        name="dev",
        log_level="DEBUG",
        debug=True,
        retain_stateful=False,
        termination_protection=False,
        alarms_enabled=False,
        snapshot_failure_fails_update=False,
        snapshot_keep_newest=7,
        snapshot_glacier_after_days=None,
        backups_noncurrent_days=7,
        log_retention_days=14,
        lambda_memory_mb=512,
        lambda_timeout_seconds=300,
    ),
    "stage": EnvConfig(
        name="stage",
        log_level="INFO",
        debug=True,
        retain_stateful=True,
        termination_protection=True,
        alarms_enabled=True,
        snapshot_failure_fails_update=True,
        snapshot_keep_newest=30,
        snapshot_glacier_after_days=None,
        backups_noncurrent_days=30,
        log_retention_days=30,
        lambda_memory_mb=1024,
        lambda_timeout_seconds=600,
    ),
    "prod": EnvConfig(
        name="prod",
        log_level="INFO",
        debug=False,
        retain_stateful=True,
        termination_protection=True,
        alarms_enabled=True,
        snapshot_failure_fails_update=True,
        snapshot_keep_newest=None,
        snapshot_glacier_after_days=90,
        backups_noncurrent_days=None,
        log_retention_days=90,
        lambda_memory_mb=1024,
        lambda_timeout_seconds=900,
    ),
}


def get_env_config(env: str) -> EnvConfig:
    """The config of ``env``; raises UnknownEnvironmentError (one line, lists the allowed values)."""
    return ENVIRONMENTS[check_env(env)]
