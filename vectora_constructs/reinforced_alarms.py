"""Reinforced monitoring after a promotion: the stricter alarms an environment with
``post_promotion_watch_hours`` (prod) gets for the watch after a promotion into it, armed by a
CloudFormation parameter that the promotion sets and disarmed by the clock, with nobody acting.

Beside ``pipeline_alarms`` (the always-on alarms), in a module of its own: S1-runtime adds these
only where the environment has a watch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from vectora_constructs.pipeline_alarms import PERIOD
from vectora_core.environments import EnvConfig
from vectora_core.metrics import NAMESPACE, Metric, dimensions
from vectora_core.naming import REINFORCED_PARAMETER, resource_name

# REINFORCED_PARAMETER (vectora_core.naming): set by a promotion to the end of its watch window; plain
# deploys keep the previous value (the CDK CLI re-uses a parameter it is not given).
# "IF(EPOCH(m) < until, m, 0)": CloudWatch metric math's EPOCH() is each datapoint's time in epoch
# seconds, so the expression is the metric before the deadline and 0 after it - an alarm on it can
# breach only during the watch, and ends by itself.
REINFORCED_EXPRESSION = "IF(EPOCH(m) < {until}, m, 0)"


@dataclass(frozen=True)
class _Reinforced:
    label: str
    metric: cloudwatch.Metric
    threshold: float
    description: str


class ReinforcedAlarms(Construct):
    """Stricter alarms (``vectora-inbox-reinforced-{rule}-{env}``) that breach only before ``until``.

    Any failed source, any Bedrock throttle, a function running over half its timeout, any function
    error within a minute. Public: ``alarms``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        topic: sns.ITopic,
        until: str,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id_)
        self.alarms: list[cloudwatch.Alarm] = []
        for rule in self._rules(config, functions):
            expression = cloudwatch.MathExpression(
                expression=REINFORCED_EXPRESSION.format(until=until),
                using_metrics={"m": rule.metric},
                period=rule.metric.period,
                label=f"{rule.label} (reinforced window)",
            )
            alarm = cloudwatch.Alarm(
                self,
                "".join(part.title() for part in rule.label.split("-")),
                alarm_name=resource_name(f"reinforced-{rule.label}", config.name),
                alarm_description=f"{rule.description} ({config.name}; reinforced monitoring after a "
                f"promotion: breaches only until {REINFORCED_PARAMETER})",
                metric=expression,
                threshold=rule.threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
            self.alarms.append(alarm)

    @staticmethod
    def _rules(config: EnvConfig, functions: Mapping[str, lambda_.IFunction]) -> list[_Reinforced]:
        def pipeline_metric(metric: Metric) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=metric,
                dimensions_map=dimensions(metric, config.name),
                statistic="Sum",
                period=PERIOD,
            )

        half_timeout_ms = config.lambda_timeout_seconds * 1000 / 2
        rules = [
            _Reinforced("any-source-failed", pipeline_metric(Metric.SOURCES_FAILED), 1, "A source failed"),
            _Reinforced(
                "bedrock-throttled", pipeline_metric(Metric.BEDROCK_THROTTLES), 1, "Bedrock throttled a call"
            ),
        ]
        for name, function in functions.items():
            rules.append(
                _Reinforced(
                    f"{name}-duration",
                    function.metric_duration(statistic="Maximum", period=Duration.minutes(5)),
                    half_timeout_ms,
                    f"{name} ran over half its timeout",
                )
            )
            rules.append(
                _Reinforced(
                    f"{name}-errors-1min",
                    function.metric_errors(statistic="Sum", period=Duration.minutes(1)),
                    1,
                    f"{name} failed (1-minute period)",
                )
            )
        return rules
