"""The schedules that start the pipeline: one EventBridge Scheduler schedule per frequency.

``vectora-inbox-pipeline-{frequency}-{env}`` runs the environment's cron (``EnvConfig.pipeline_
schedules``) in Europe/Paris time and starts the state machine with ``{"frequency": ...}``: the
active clients whose ``client_profile.frequency`` it is. The schedules exist in every environment and
are ENABLED only where ``pipeline_schedule_enabled`` (stage and prod; dev runs when someone asks).
"""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from vectora_core.environments import PIPELINE_TIMEZONE, EnvConfig
from vectora_core.naming import Pipeline, resource_name

# A start that failed (the state machine being updated, a throttled API) is tried again for an hour.
RETRY_ATTEMPTS = 5
RETRY_MAX_AGE_S = 3600


class PipelineSchedules(Construct):
    """Public: ``schedules`` (frequency -> CfnSchedule)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        state_machine: sfn.IStateMachine,
        role: iam.IRole,
    ) -> None:
        super().__init__(scope, id_)
        state = "ENABLED" if config.pipeline_schedule_enabled else "DISABLED"
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for frequency, cron in config.pipeline_schedules:
            self.schedules[frequency] = scheduler.CfnSchedule(
                self,
                frequency.title(),
                name=resource_name(f"{Pipeline.STATE_MACHINE}-{frequency}", config.name),
                description=f"Starts the {frequency} pipeline run of {config.name} "
                f"({cron}, {PIPELINE_TIMEZONE})",
                schedule_expression=cron,
                schedule_expression_timezone=PIPELINE_TIMEZONE,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state=state,
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=state_machine.state_machine_arn,
                    role_arn=role.role_arn,
                    input=json.dumps({"frequency": frequency}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=RETRY_MAX_AGE_S
                    ),
                ),
            )
