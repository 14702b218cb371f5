"""The scheduled pipeline: the Step Functions state machine ``vectora-inbox-pipeline-{env}``.

One execution runs one client (input ``{"client_id": "lai_weekly", "run_date"?: "YYYY-MM-DD"}``) or
every active client (``{}``; a schedule sends ``{"frequency": "weekly"}``: the active clients of that
frequency):

1. ``ListClients``: ingest-v2 answers ``{"list_clients": true, "request": <input>}`` with the
   clients and the one run date every step uses (its role invokes only the three functions, so
   there is no fourth one for this);
2. ``Clients`` (a Map, one client at a time: the Bedrock quota is the account's, not the client's):
   ``Ingest`` (its answer sizes and numbers the batches) -> ``NormalizeBatches`` (a Map over the batch
   indexes, one normalize-score invocation per batch, at most ``pipeline_max_concurrency`` in
   flight, each with the client's ``bedrock_concurrency`` model calls in flight) -> ``Merge`` (the
   run's curated files; a failed run never replaces a good one) -> ``Newsletter``. A failing step
   ends that client's run with a record of the step and its error; the other clients still run;
3. every client done: ``Succeeded`` (no client to run, e.g. none of that frequency: ``NoClient``);
   any failure: ``ClientsFailed`` / ``PipelineFailed`` record the error in the state's output ->
   ``NotifyFailure`` (stage, prod: the alarm topic) -> ``Failed``: error ``PipelineFailed`` (cause:
   the error caught and its cause) or ``ClientRunFailed`` (cause: the failed clients).

Step Functions' own limits shape it, since a ``States.Runtime`` error is seen by no Catch (so no
failure notification): no JSONPath or intrinsic reads a path that may be missing (an empty result
list; an error without a ``Cause``, which Step Functions allows); each failed client's record
carries its step and error name (at most ``ERROR_NAME_MAX`` characters), not the error's cause,
so ``vectora_core.environments.MAX_CLIENTS_PER_EXECUTION`` failing clients (the most ListClients
lets one execution run: its history holds 25,000 events) stay far under the 256 KB payload limit
(the causes stay in the execution's history and logs). Every Lambda task retries throttling and Lambda's
service errors with capped, jittered exponential backoff, never ``States.Timeout``: the timed-out
invocation still runs, and a retry would double its Bedrock load. Logs (every event, with execution
data) go to a log group with the environment's retention; X-Ray tracing is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from vectora_constructs.log_group import environment_log_group
from vectora_core.environments import EnvConfig
from vectora_core.naming import Function, Pipeline, resource_name, state_machine_log_group_name

# What Lambda answers when it cannot take an invocation now (throttled, busy, a passing fault):
# worth retrying. A function's own error is not, nor States.Timeout: the state machine stopped
# waiting, but the invocation still runs, so a retry would run two at once (double Bedrock load).
RETRIED_ERRORS = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
# The run's own error names (its cause starts with the error caught): a Fail state may not raise
# a name of Step Functions' own ("States.Timeout"...), which is then a States.Runtime error.
PIPELINE_FAILED, CLIENT_RUN_FAILED = "PipelineFailed", "ClientRunFailed"
# Step Functions' bound on an error name (the "error" of a *Failed event); a cause may be 32,768.
ERROR_NAME_MAX = 256
# Step Functions' bound on a state's input or output, in bytes of UTF-8.
PAYLOAD_MAX_BYTES = 256 * 1024
RETRY_INTERVAL = Duration.seconds(2)
RETRY_BACKOFF_RATE = 2.0
RETRY_MAX_ATTEMPTS = 6
RETRY_MAX_DELAY = Duration.seconds(60)
# Beyond the function's own timeout: the task waits this much more before States.Timeout.
TASK_TIMEOUT_MARGIN_S = 60
# A whole run, every client: past this the execution times out (and the timed-out alarm fires).
EXECUTION_TIMEOUT = Duration.hours(6)
# Step names a failed client's record carries (what run_pipeline.py prints).
STEPS = ("Ingest", "NormalizeBatches", "Merge", "Newsletter")


def _lambda_task(
    scope: Construct,
    id_: str,
    *,
    function: lambda_.IFunction,
    payload: Mapping[str, Any],
    selected: Mapping[str, str] | None,
    result_path: str | None,
    timeout_s: int,
    comment: str,
) -> tasks.LambdaInvoke:
    """A lambda:invoke task: the answer's ``selected`` fields (``Payload`` paths) at ``result_path``,
    and the retries every task has."""
    task = tasks.LambdaInvoke(
        scope,
        id_,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(dict(payload)),
        result_selector={f"{k}.$": f"$.Payload.{v}" for k, v in selected.items()} if selected else None,
        result_path=result_path if result_path is not None else sfn.JsonPath.DISCARD,
        retry_on_service_exceptions=False,
        task_timeout=sfn.Timeout.duration(Duration.seconds(timeout_s + TASK_TIMEOUT_MARGIN_S)),
        comment=comment,
    )
    task.add_retry(
        errors=list(RETRIED_ERRORS),
        interval=RETRY_INTERVAL,
        backoff_rate=RETRY_BACKOFF_RATE,
        max_attempts=RETRY_MAX_ATTEMPTS,
        max_delay=RETRY_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


class PipelineStateMachine(Construct):
    """The state machine and its log group. Public: ``state_machine``, ``log_group``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        functions: Mapping[Function, lambda_.IFunction],
        role: iam.IRole,
        alarm_topic: sns.ITopic | None,
    ) -> None:
        super().__init__(scope, id_)
        self.config, self.functions = config, functions
        self.log_group = environment_log_group(
            self, "LogGroup", name=state_machine_log_group_name(config.name), config=config
        )
        failed = self._failure_path(alarm_topic)
        list_clients = self._task(
            "ListClients",
            Function.INGEST,
            {"list_clients": True, "request.$": "$"},
            {"run_date": "run_date", "frequency": "frequency", "clients": "clients"},
            result_path="$",
            comment="which clients this run covers, and its run date",
        )
        clients = sfn.Map(
            self,
            "Clients",
            items_path="$.clients",
            item_selector={"client_id.$": "$$.Map.Item.Value", "run_date.$": "$.run_date"},
            max_concurrency=1,
            result_path="$.results",
            comment="one client at a time: the Bedrock quota is the account's",
        ).item_processor(self._client_run())
        summarize = sfn.Pass(
            self,
            "Summarize",
            parameters={
                "run_date.$": "$.run_date",
                "clients.$": "$.results",
                # an intrinsic, not a JSONPath filter: a filter matching nothing is an error
                "any_failed.$": "States.ArrayContains($.results[*].status, 'failed')",
            },
        )
        # The run's cause names the failed clients (a Fail state's cause is at most 32,768
        # characters: MAX_CLIENTS_PER_EXECUTION ids of 64 fit); their records (step, error) stay in
        # this state's output. At least one failed here, so the filters match.
        failed_filter = "$.clients[?(@.status == 'failed')]"
        clients_failed = sfn.Pass(
            self,
            "ClientsFailed",
            parameters={
                "run_date.$": "$.run_date",
                "failed.$": failed_filter,
                "failed_ids.$": f"{failed_filter}.client_id",
            },
            comment="which clients failed, at which step, with what error",
        ).next(
            sfn.Pass(
                self,
                "ClientsFailure",
                parameters={
                    "run_date.$": "$.run_date",
                    "failed.$": "$.failed",
                    "failure": {
                        "error": CLIENT_RUN_FAILED,
                        "cause.$": "States.Format('failed clients: {}', States.JsonToString($.failed_ids))",
                    },
                },
            ).next(failed)
        )
        succeeded = sfn.Succeed(self, "Succeeded")
        outcome = (
            sfn.Choice(self, "AnyClientFailed")
            .when(sfn.Condition.boolean_equals("$.any_failed", True), clients_failed)
            .otherwise(succeeded)
        )
        # ArrayContains over an empty list's "[*].status" is a States.Runtime error: no client, no summary.
        any_client = (
            sfn.Choice(self, "AnyClientRun", comment="no client to run (none of that frequency): done")
            .when(sfn.Condition.is_present("$.results[0]"), summarize.next(outcome))
            .otherwise(sfn.Succeed(self, "NoClient"))
        )
        pipeline_failed = sfn.Pass(
            self,
            "PipelineFailed",
            parameters={
                "failure": {
                    "error": PIPELINE_FAILED,
                    "cause.$": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
                }
            },
            comment="records the error that stopped the run before or between the clients",
        ).next(failed)
        # An error may come without a Cause: reading the missing path would be a States.Runtime.
        pipeline_failed_no_cause = sfn.Pass(
            self,
            "PipelineFailedWithoutCause",
            parameters={
                "failure": {
                    "error": PIPELINE_FAILED,
                    "cause.$": "States.Format('{} (no cause recorded)', $.error.Error)",
                }
            },
        ).next(failed)
        pipeline_error = (
            sfn.Choice(self, "PipelineErrorHasCause")
            .when(sfn.Condition.is_present("$.error.Cause"), pipeline_failed)
            .otherwise(pipeline_failed_no_cause)
        )
        list_clients.add_catch(pipeline_error, errors=["States.ALL"], result_path="$.error")
        clients.add_catch(pipeline_error, errors=["States.ALL"], result_path="$.error")
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=resource_name(Pipeline.STATE_MACHINE, config.name),
            definition_body=sfn.DefinitionBody.from_chainable(list_clients.next(clients).next(any_client)),
            role=role,
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            comment=f"Vectora Inbox pipeline ({config.name}): ingest, normalize-score in batches, newsletter",
        )

    def _task(
        self,
        id_: str,
        function: Function,
        payload: Mapping[str, Any],
        selected: Mapping[str, str] | None,
        *,
        result_path: str | None,
        comment: str,
    ) -> tasks.LambdaInvoke:
        return _lambda_task(
            self,
            id_,
            function=self.functions[function],
            payload=payload,
            selected=selected,
            result_path=result_path,
            timeout_s=self.config.lambda_timeout_seconds,
            comment=comment,
        )

    def _client_run(self) -> sfn.IChainable:
        """One client: ingest -> batches -> merge -> newsletter; a failing step is recorded, not raised."""
        run = {"client_id.$": "$.client_id", "run_date.$": "$.run_date"}
        ingest = self._task(
            "Ingest",
            Function.INGEST,
            {
                **run,
                "batch_size": self.config.pipeline_batch_size,
                "batches_in_flight": self.config.pipeline_max_concurrency,
            },
            {
                "items": "items",
                "batch_size": "batch_size",
                "batches": "batches",
                "batch_indexes": "batch_indexes",
            },
            result_path="$.ingest",
            comment="raw items of the period; its answer sizes and numbers the batches",
        )
        batch = self._task(
            "NormalizeBatch",
            Function.NORMALIZE_SCORE,
            {**run, "batch.$": "$.batch", "batch_size.$": "$.batch_size"},
            None,
            result_path=None,
            comment="one batch, written under curated/<client>/<date>/batches/",
        )
        batches = sfn.Map(
            self,
            "NormalizeBatches",
            items_path="$.ingest.batch_indexes",
            item_selector={
                **run,
                "batch.$": "$$.Map.Item.Value",
                "batch_size.$": "$.ingest.batch_size",
            },
            max_concurrency=self.config.pipeline_max_concurrency,
            result_path=sfn.JsonPath.DISCARD,
            comment="normalize-score invocations in flight bounded for the Bedrock quota",
        ).item_processor(batch)
        merge = self._task(
            "Merge",
            Function.NORMALIZE_SCORE,
            {**run, "merge": True, "batches.$": "$.ingest.batches"},
            {"items": "items", "failed": "failed", "kept": "above_threshold"},
            result_path="$.normalize",
            comment="the run's curated files from its batches",
        )
        newsletter = self._task(
            "Newsletter",
            Function.NEWSLETTER,
            run,
            {"items": "items", "markdown": "markdown", "html": "html"},
            result_path="$.newsletter",
            comment="the newsletter of the run",
        )
        done = sfn.Pass(
            self,
            "ClientSucceeded",
            parameters={
                "client_id.$": "$.client_id",
                "status": "succeeded",
                "items.$": "$.ingest.items",
                "kept.$": "$.normalize.kept",
                "newsletter.$": "$.newsletter",
            },
        )
        steps: tuple[tasks.LambdaInvoke | sfn.Map, ...] = (ingest, batches, merge, newsletter)
        for step, state in zip(STEPS, steps, strict=True):
            record = sfn.Pass(
                self,
                f"{step}Failed",
                # No cause (up to 32,768 characters each, and maybe absent): the history keeps it.
                parameters={
                    "client_id.$": "$.client_id",
                    "status": "failed",
                    "step": step,
                    "error.$": "$.error.Error",
                },
            )
            state.add_catch(record, errors=["States.ALL"], result_path="$.error")
        return ingest.next(batches).next(merge).next(newsletter).next(done)

    def _failure_path(self, topic: sns.ITopic | None) -> sfn.IChainable:
        """Notify the alarm topic (where there is one), then fail with the recorded error and cause."""
        fail = sfn.Fail(self, "Failed", error_path="$.failure.error", cause_path="$.failure.cause")
        if topic is None:
            return fail
        notify = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=topic,
            subject=f"Vectora Inbox pipeline failed ({self.config.name})",
            message=sfn.TaskInput.from_text(
                sfn.JsonPath.format(
                    "Execution {} failed: {}: {}",
                    sfn.JsonPath.string_at("$$.Execution.Id"),
                    sfn.JsonPath.string_at("$.failure.error"),
                    sfn.JsonPath.string_at("$.failure.cause"),
                )
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        notify.add_retry(errors=["States.ALL"], interval=RETRY_INTERVAL, max_attempts=3, backoff_rate=2.0)
        # A notification that cannot be sent must not hide the failure itself.
        notify.add_catch(fail, errors=["States.ALL"], result_path="$.notify_error")
        return notify.next(fail)
