"""One frozen, typed config object per environment: every difference between dev, stage and prod.

Plain Python (no aws_cdk): the CDK app turns these fields into stack props, and the snapshot
engine, the pre-update snapshot handler and the scripts read the same object, so a retention
count or a failure policy is written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

from vectora_core.naming import ENV_NAMES, EnvName, check_env

MAIN_REGION: Final = "eu-west-3"

# The EU cross-region inference profile for Claude Sonnet 4.5. AWS decides which region serves a
# call (and may add regions): the roles allow the foundation model in any region, but only through
# this profile (condition on bedrock:InferenceProfileArn), so no region list is kept here.
BEDROCK_MODEL_ID: Final = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


# The scheduled pipeline: when it runs (EventBridge Scheduler cron, in this timezone) and for which
# clients (those whose client_profile.frequency is the schedule's frequency).
PIPELINE_TIMEZONE: Final = "Europe/Paris"
# The bounds of pipeline_batch_size and pipeline_max_concurrency (and of the events that carry them).
MAX_PIPELINE_BATCH_SIZE: Final = 500
MAX_PIPELINE_CONCURRENCY: Final = 40
# Step Functions fails an execution whose history passes 25,000 events. One client's run takes 23
# events plus 7 per normalize batch (a Lambda task is 5: entered, scheduled, started, succeeded,
# exited; a Map iteration 2) and 3 per retried attempt: 200 per client covers 20 batches and a
# dozen retries; the run's own states get 1,000. More clients than this in one execution are refused
# (ListClients fails, the failure is notified): run them by frequency or one client at a time.
EXECUTION_HISTORY_EVENTS_MAX: Final = 25_000
HISTORY_EVENTS_PER_CLIENT: Final = 200
MAX_CLIENTS_PER_EXECUTION: Final = (EXECUTION_HISTORY_EVENTS_MAX - 1_000) // HISTORY_EVENTS_PER_CLIENT
WEEKLY_SCHEDULE: Final = (("weekly", "cron(0 6 ? * MON *)"),)  # Mondays 06:00, Paris time
# EventBridge Scheduler's cron: six fields (minutes hours day-of-month month day-of-week year).
_CRON: Final = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_FREQUENCY: Final = re.compile(r"^[a-z]+$")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: Final[tuple[LogLevel, ...]] = get_args(LogLevel)


class EnvConfigError(ValueError):
    """An environment config that breaks its own rules (one line naming the field)."""


@dataclass(frozen=True, kw_only=True)
class EnvConfig:
    """Everything that differs between environments. Stacks, scripts and handlers receive it."""

    name: EnvName
    log_level: LogLevel
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
    # Days an overwritten or deleted object of the other buckets (config, data, newsletters, code)
    # stays recoverable as a noncurrent version (the few newest are kept whatever their age).
    noncurrent_version_days: int
    log_retention_days: int
    lambda_memory_mb: int
    lambda_timeout_seconds: int
    # --- the scheduled pipeline (state machine vectora-inbox-pipeline-{env}) ----------------------
    # Items per normalize-score invocation: each batch must finish well inside lambda_timeout_seconds
    # at the client's bedrock_concurrency (tests/unit checks a 2,000-item week at 5 s a model call).
    pipeline_batch_size: int = 100
    # normalize-score invocations in flight (the Map's MaxConcurrency). Model calls in flight are this
    # times the client's pipeline.bedrock_concurrency: together they must stay within the account's
    # Bedrock quota (throttling is retried with backoff, but a quota is not a goal).
    pipeline_max_concurrency: int = 4
    # (frequency, cron) pairs: one schedule each, starting the pipeline for the active clients of that
    # frequency. The schedules exist in every environment; they are ENABLED only where this is true.
    pipeline_schedules: tuple[tuple[str, str], ...] = WEEKLY_SCHEDULE
    pipeline_schedule_enabled: bool = False
    # --- who may change the environment, and how -------------------------------------------------
    # False: no direct change (config publish, guarded deploy): the environment only receives what a
    # promotion brings (or an approved rollback).
    direct_changes_allowed: bool = True
    # A direct change (a config publish) needs a snapshot newer than the environment's last change,
    # so that it can be rolled back; the refusal gives the create_snapshot.py command.
    change_needs_recent_snapshot: bool = False
    # A rollback, and a promotion into this environment, need a named approver (audited).
    approval_required: bool = False
    # The environment a promotion into this one comes from (None: nothing is promoted into it).
    promoted_from: EnvName | None = None
    # Promotion into this environment needs its source stable this many days (no deployment, rollback
    # or alarm since); None: no such gate.
    source_stability_days: int | None = None
    # After a promotion into this environment: hours of reinforced alarms and frozen promotions.
    post_promotion_watch_hours: int | None = None
    # ``-c extra_env`` may add Lambda variables (local experiments); elsewhere the template is exactly
    # what the config says, so the template promoted is the template tested.
    extra_env_allowed: bool = False
    # Who the alarms notify (SNS email subscriptions); filled from the ``-c alarm_emails`` context.
    alarm_emails: tuple[str, ...] = ()
    region: str = MAIN_REGION
    # None: templates stay account-agnostic (the CLI resolves the account at deploy time), so the
    # very same synthesized template is what gets promoted from one account to another.
    account: str | None = None
    bedrock_region: str = MAIN_REGION
    bedrock_model_id: str = BEDROCK_MODEL_ID

    def __post_init__(self) -> None:
        check_env(self.name)
        if self.log_level not in LOG_LEVELS:
            raise EnvConfigError(
                f"{self.name}: log_level {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
            )
        for field_name in (
            "snapshot_keep_newest",
            "snapshot_glacier_after_days",
            "backups_noncurrent_days",
            "noncurrent_version_days",
            "source_stability_days",
            "post_promotion_watch_hours",
            "log_retention_days",
            "pipeline_batch_size",
            "pipeline_max_concurrency",
        ):
            value = getattr(self, field_name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise EnvConfigError(f"{self.name}: {field_name} must be a whole number >= 1, got {value!r}")
        if not 128 <= self.lambda_memory_mb <= 10240:
            raise EnvConfigError(
                f"{self.name}: lambda_memory_mb must be 128-10240, got {self.lambda_memory_mb}"
            )
        if not 1 <= self.lambda_timeout_seconds <= 900:
            raise EnvConfigError(
                f"{self.name}: lambda_timeout_seconds must be 1-900, got {self.lambda_timeout_seconds}"
            )
        self._check_pipeline()
        if self.promoted_from is not None and (
            self.promoted_from == self.name or self.promoted_from not in ENV_NAMES
        ):
            raise EnvConfigError(
                f"{self.name}: promoted_from must name another environment, got {self.promoted_from!r}"
            )

    def _check_pipeline(self) -> None:
        if self.pipeline_batch_size > MAX_PIPELINE_BATCH_SIZE:
            raise EnvConfigError(
                f"{self.name}: pipeline_batch_size must be 1-{MAX_PIPELINE_BATCH_SIZE}, "
                f"got {self.pipeline_batch_size}"
            )
        if self.pipeline_max_concurrency > MAX_PIPELINE_CONCURRENCY:
            raise EnvConfigError(
                f"{self.name}: pipeline_max_concurrency must be 1-{MAX_PIPELINE_CONCURRENCY}, "
                f"got {self.pipeline_max_concurrency}"
            )
        frequencies = [frequency for frequency, _ in self.pipeline_schedules]
        if len(set(frequencies)) != len(frequencies):
            raise EnvConfigError(f"{self.name}: pipeline_schedules names a frequency twice: {frequencies}")
        for frequency, cron in self.pipeline_schedules:
            if not _FREQUENCY.match(frequency):
                raise EnvConfigError(
                    f"{self.name}: pipeline_schedules: {frequency!r} is not a frequency name"
                )
            if not _CRON.match(cron):
                raise EnvConfigError(
                    f"{self.name}: pipeline_schedules: {cron!r} is not a six-field cron(...) expression "
                    "such as cron(0 6 ? * MON *)"
                )

    @property
    def bedrock_foundation_model_id(self) -> str:
        """The model behind a cross-region profile id (``eu.anthropic.x`` -> ``anthropic.x``)."""
        prefix, _, rest = self.bedrock_model_id.partition(".")
        return rest if prefix in {"eu", "us", "apac", "global"} and rest else self.bedrock_model_id

    @property
    def is_inference_profile(self) -> bool:
        return self.bedrock_foundation_model_id != self.bedrock_model_id


_DEV: Final = EnvConfig(
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
    noncurrent_version_days=7,
    log_retention_days=14,
    lambda_memory_mb=512,
    lambda_timeout_seconds=300,
    extra_env_allowed=True,
)
# stage is the rehearsal of prod: prod below is written as the differences from it.
_STAGE: Final = EnvConfig(
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
    noncurrent_version_days=30,
    log_retention_days=30,
    lambda_memory_mb=1024,
    lambda_timeout_seconds=600,
    pipeline_schedule_enabled=True,
    change_needs_recent_snapshot=True,
    promoted_from="dev",
)
_PROD: Final = replace(
    _STAGE,
    name="prod",
    debug=False,
    snapshot_keep_newest=None,  # every snapshot is kept...
    snapshot_glacier_after_days=90,  # ...and archived when old
    backups_noncurrent_days=None,
    noncurrent_version_days=90,
    log_retention_days=90,
    lambda_timeout_seconds=900,
    direct_changes_allowed=False,
    approval_required=True,
    promoted_from="stage",
    source_stability_days=14,
    post_promotion_watch_hours=48,
)
ENVIRONMENTS: Final[dict[EnvName, EnvConfig]] = {c.name: c for c in (_DEV, _STAGE, _PROD)}


def get_env_config(env: str) -> EnvConfig:
    """The config of ``env``; raises UnknownEnvironmentError (one line, lists the allowed values)."""
    return ENVIRONMENTS[check_env(env)]
