"""Alarms on what the pipeline itself reports, not only on Lambda's errors and throttles.

A run can "succeed" for Lambda and still be worthless: nothing ingested, every source failing, a
newsletter with no item. The handlers emit those facts as metrics (``vectora_core.metrics``); these
alarms send them to the environment's alarm topic. And a run of the state machine that failed or
timed out (a run that produced no newsletter) alarms too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from vectora_core.environments import EnvConfig
from vectora_core.metrics import NAMESPACE, Metric, dimensions
from vectora_core.naming import resource_name

# A run emits its metrics once; an hour holds a whole run, and the hours without a run have no
# data at all, which is not a failure (missing data does not breach).
PERIOD = Duration.hours(1)


@dataclass(frozen=True)
class _Rule:
    label: str
    metric: Metric
    statistic: str
    comparison: cloudwatch.ComparisonOperator
    threshold: float
    description: str


RULES = (
    _Rule(
        "no-items-ingested",
        Metric.ITEMS_INGESTED,
        "Sum",
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        1,
        "A pipeline run ingested no item at all",
    ),
    _Rule(
        "all-sources-failed",
        Metric.ALL_SOURCES_FAILED,
        "Maximum",
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        1,
        "Every source of a pipeline run failed (network down, feeds moved)",
    ),
    _Rule(
        "empty-newsletter",
        Metric.NEWSLETTER_ITEMS,
        "Minimum",
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        1,
        "A newsletter was produced with no item in it",
    ),
)


class PipelineAlarms(Construct):
    """``vectora-inbox-pipeline-{rule}-{env}`` alarms, each notifying ``topic``. Public: ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        topic: sns.ITopic,
        state_machine: sfn.IStateMachine | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.alarms: list[cloudwatch.Alarm] = []
        if state_machine is not None:
            self._add_execution_alarms(config, topic, state_machine)
        for rule in RULES:
            metric = cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=rule.metric,
                dimensions_map=dimensions(rule.metric, config.name),
                statistic=rule.statistic,
                period=PERIOD,
            )
            alarm = cloudwatch.Alarm(
                self,
                "".join(part.title() for part in rule.label.split("-")),
                alarm_name=resource_name(f"pipeline-{rule.label}", config.name),
                alarm_description=f"{rule.description} ({config.name})",
                metric=metric,
                threshold=rule.threshold,
                evaluation_periods=1,
                comparison_operator=rule.comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            self.alarms.append(alarm)

    def _add_execution_alarms(self, config: EnvConfig, topic: sns.ITopic, machine: sfn.IStateMachine) -> None:
        """``vectora-inbox-pipeline-executions-{failed,timed-out}-{env}``: a run without a newsletter."""
        for label, metric, what in (
            ("failed", machine.metric_failed(period=PERIOD, statistic="Sum"), "failed"),
            ("timed-out", machine.metric_timed_out(period=PERIOD, statistic="Sum"), "timed out"),
        ):
            alarm = cloudwatch.Alarm(
                self,
                "Executions" + "".join(part.title() for part in label.split("-")),
                alarm_name=resource_name(f"pipeline-executions-{label}", config.name),
                alarm_description=f"A run of the pipeline state machine {what}: no newsletter "
                f"({config.name})",
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            self.alarms.append(alarm)
