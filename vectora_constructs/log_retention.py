"""Log retention in days (an EnvConfig field) -> the enum CDK wants, defined once."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

# Only the values an EnvConfig may use; a new value fails loudly here rather than at deploy time.
_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def retention_days(days: int) -> logs.RetentionDays:
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(
            f"log retention of {days} days is not supported: use one of {sorted(_RETENTION)}"
        ) from None
