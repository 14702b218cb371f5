"""The one shape every project alarm has: one evaluation period, missing data never breaching (a
period without invocations or runs is no failure), and the environment's alarm topic notified."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


def notifying_alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    metric: cloudwatch.IMetric,
    topic: sns.ITopic,
    description: str | None = None,
    threshold: float = 1,
    comparison: cloudwatch.ComparisonOperator = AT_LEAST,
) -> cloudwatch.Alarm:
    """An alarm on ``metric`` (by default: it happened at least once in the period) that notifies
    ``topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        id_,
        alarm_name=name,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=comparison,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm
