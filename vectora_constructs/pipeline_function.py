"""One pipeline Lambda: function, explicit log group with retention, JSON logs, optional alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from vectora_constructs.alarm import notifying_alarm
from vectora_constructs.log_group import environment_log_group
from vectora_constructs.nag import acknowledge, skip_checkov
from vectora_constructs.paths import ASSET_EXCLUDES
from vectora_core.environments import EnvConfig
from vectora_core.naming import log_group_name, resource_name

# checkov findings that every function of the project (pipeline and pre-update snapshot) shares, with
# their reasons; the ones that depend on how a function is called sit beside each function.
FUNCTION_CHECKOV_SKIPS = {
    "CKV_AWS_115": "No reserved concurrency: a reservation is taken from the account's unreserved pool "
    "(and refused outright on an account still at the default limit of 10), while each function runs "
    "a handful of times per pipeline run; stage and prod alarm on throttles.",
    "CKV_AWS_173": "The variables hold names, levels and ARNs, never a secret (the PubMed API key is read "
    "from SSM Parameter Store at run time); Lambda encrypts them at rest with its AWS managed key, and a "
    "customer managed key per environment would protect nothing more.",
}


class PipelineFunction(Construct):
    """A pipeline function wired the same way in every environment; differences come from ``config``."""

    HANDLER = "handler.handler"
    ARCHITECTURE = lambda_.Architecture.X86_64

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        function: str,
        code_dir: Path,
        runtime: lambda_.Runtime,
        role: iam.IRole,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        alarm_topic: sns.ITopic | None,
    ) -> None:
        super().__init__(scope, id_)
        self.function_name = resource_name(function, config.name)
        # Every name ends in -{env}, alarms too: vectora-inbox-ingest-v2-errors-stage.
        self._alarm_name = lambda label: resource_name(f"{function}-{label.lower()}", config.name)
        self.log_group = environment_log_group(
            self, "LogGroup", name=log_group_name(function, config.name), config=config
        )
        log_level = lambda_.ApplicationLogLevel[config.log_level]
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            runtime=runtime,
            architecture=self.ARCHITECTURE,
            handler=self.HANDLER,
            code=lambda_.Code.from_asset(str(code_dir), exclude=ASSET_EXCLUDES),
            role=role,
            layers=list(layers),
            environment=dict(environment),
            memory_size=config.lambda_memory_mb,
            timeout=Duration.seconds(config.lambda_timeout_seconds),
            log_group=self.log_group,
            # Powertools Tracer; the role's X-Ray permissions are S0-iam's.
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=log_level,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            description=f"Vectora Inbox {function} ({config.name})",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 is the newest runtime that the project's Docker-free local AWS can run with a "
            "matching interpreter (its machines have CPython up to 3.13); Lambda supports it until 2029.",
        )
        for check, reason in FUNCTION_CHECKOV_SKIPS.items():
            skip_checkov(self.function, check, reason)
        skip_checkov(
            self.function,
            "CKV_AWS_116",
            "Invoked synchronously (the operations scripts, the pipeline runner): the caller receives every "
            "error, and a dead-letter queue only ever receives failed asynchronous events.",
        )
        skip_checkov(
            self.function,
            "CKV_AWS_117",
            "It reaches only public endpoints (press-release feeds, PubMed) and AWS APIs (S3, SSM, Bedrock): "
            "no private resource to reach, and a VPC would add NAT gateways for nothing to protect.",
        )
        self.alarms: list[cloudwatch.Alarm] = []
        if alarm_topic is not None:
            self._add_alarms(alarm_topic)

    def _add_alarms(self, topic: sns.ITopic) -> None:
        metrics = {
            "Errors": self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            "Throttles": self.function.metric_throttles(period=Duration.minutes(5), statistic="Sum"),
        }
        for label, metric in metrics.items():
            alarm = notifying_alarm(
                self, f"{label}Alarm", name=self._alarm_name(label), metric=metric, topic=topic
            )
            self.alarms.append(alarm)
