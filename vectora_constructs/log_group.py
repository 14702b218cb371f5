"""Every log group of the project, built one way: its environment's retention and removal policy,
and the same checkov reason for the key it does without."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from vectora_constructs.nag import skip_checkov
from vectora_constructs.removal import stateful_removal_policy
from vectora_core.environments import EnvConfig

# Only the values an EnvConfig may use; a new value fails loudly here rather than at deploy time.
_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}
LOG_GROUP_CHECKOV_SKIPS = {
    "CKV_AWS_158": "CloudWatch Logs encrypts every log group at rest; the project logs no secret, so a "
    "customer managed key (one per environment, with a key policy for the logs service) would protect "
    "nothing more. The buckets use S3-managed keys for the same reason.",
}


def retention_days(days: int) -> logs.RetentionDays:
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(
            f"log retention of {days} days is not supported: use one of {sorted(_RETENTION)}"
        ) from None


def environment_log_group(scope: Construct, id_: str, *, name: str, config: EnvConfig) -> logs.LogGroup:
    """The log group ``name``, kept ``config.log_retention_days`` and retained where the environment
    keeps its stateful resources (a function's or the state machine's logs outlive a stack)."""
    group = logs.LogGroup(
        scope,
        id_,
        log_group_name=name,
        retention=retention_days(config.log_retention_days),
        removal_policy=stateful_removal_policy(config.retain_stateful),
    )
    for check, reason in LOG_GROUP_CHECKOV_SKIPS.items():
        skip_checkov(group, check, reason)
    return group
