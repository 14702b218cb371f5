"""The smoke test of an environment: its functions are ready, and its pipeline runs for a client.

One function, ``smoke()``, used as a promotion gate (the source, now), as the post-deployment test
(the target) and by the guarded deploy. It runs what the weekly schedule runs: one execution of
the state machine ``vectora-inbox-pipeline-{env}`` per client (``vectora_ops.pipeline_runs``),
so a state machine that cannot run (its definition, its role) fails the smoke test as a broken
function does. A run writes what a real run writes (raw and curated items, the day's newsletter):
the smoke test is a real pipeline run. Its evidence, per client: the execution's ARN and status,
each state's outcome, what ingest and newsletter answered, the items, the newsletter's S3 URI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_core.naming import CLIENTS_PREFIX, Function, client_of
from vectora_ops.environment import FUNCTION_COMPONENTS, Environment
from vectora_ops.errors import OperationError, one_line
from vectora_ops.invoke import summary_line
from vectora_ops.pipeline_runs import (
    Trail,
    client_record,
    follow,
    outcome,
    read_trail,
    start_run,
    state_machine_arn,
)

# How long one client's run may take before the smoke test gives up on it (and stops it: a
# promotion restores the target next, and a run still writing into it must not outlive that). A
# weekly client's run takes minutes; the state machine's own bound (6 h) is for every client.
SMOKE_TIMEOUT_S: Final = 30 * 60


class SmokeFailed(OperationError):
    """A function is missing or not ready, or a pipeline run failed (the message says which);
    ``evidence`` holds what was seen (the execution, each state's outcome)."""

    def __init__(self, message: str, evidence: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or {}


def client_ids(clients: Environment) -> list[str]:
    """Every client with a config in the environment's config bucket."""
    return sorted(filter(None, (client_of(k) for k in clients.keys(clients.config_bucket, CLIENTS_PREFIX))))


def _function_ready(clients: Environment, component: str) -> str:
    name = clients.name(component)
    try:
        config = clients.lambda_.get_function_configuration(FunctionName=name)
    except ClientError as err:
        raise SmokeFailed(f"{name} cannot be read: {err}") from None
    state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
    if state != "Active" or update != "Successful":
        raise SmokeFailed(f"{name} is not ready (state {state}, last update {update})")
    return f"{state}, code {str(config.get('CodeSha256'))[:12]}"


def _summaries(trail: Trail) -> dict[str, str]:
    """What ingest and newsletter answered in the run, one line each (``invoke.summary_line``:
    sources reached and failed, items, sections)."""
    found = {}
    for state, function in (("Ingest", Function.INGEST), ("Newsletter", Function.NEWSLETTER)):
        for payload in trail.payloads(state)[-1:]:
            with contextlib.suppress(KeyError, TypeError):  # an answer of another shape: not shown
                found[str(function)] = summary_line(function, payload)
    return found


def _run(clients: Environment, sfn: Any, client_id: str, echo: Callable[[str], None]) -> dict[str, Any]:
    """One execution for ``client_id``, followed to its end: its evidence; SmokeFailed (with the
    evidence) if it did not succeed for the client or wrote no newsletter."""
    env = clients.env
    what = f"pipeline run for {client_id} in {env}"
    arn = start_run(env, client_id=client_id, run_date=None, client=sfn)
    seen: dict[str, Any] = {"execution": arn}
    try:
        described = follow(arn, sfn, echo=echo, timeout_s=SMOKE_TIMEOUT_S)
    except OperationError as err:  # still running at the deadline
        try:
            sfn.stop_execution(executionArn=arn, error="SmokeTestTimeout", cause=one_line(err))
            stopped = "stopped it"
        except ClientError as stop_err:
            stopped = f"could not stop it: {one_line(stop_err)}"
        seen.update(status=f"RUNNING at the deadline ({stopped})", states=read_trail(sfn, arn).outcomes())
        raise SmokeFailed(f"{what} failed: {err} ({stopped})", seen) from None
    except BaseException as err:  # a lost connection, Ctrl-C: not left running into the restore
        with contextlib.suppress(Exception):
            sfn.stop_execution(executionArn=arn, error="SmokeTestInterrupted", cause=one_line(err))
        raise
    trail = read_trail(sfn, arn)
    seen.update(status=described["status"], states=trail.outcomes())
    try:
        record = client_record(outcome(described, sfn), client_id, arn)
    except OperationError as err:
        raise SmokeFailed(f"{what} failed: {err}", seen) from None
    if record.get("status") != "succeeded":
        seen["client"] = {k: record.get(k) for k in ("status", "step", "error", "cause")}
        cause = one_line(str(record.get("cause")))
        raise SmokeFailed(
            f"{what} failed at {record.get('step')}: {record.get('error')}: {cause} (execution {arn})", seen
        )
    seen["summaries"] = summaries = _summaries(trail)
    for line in summaries.values():
        echo(line)
    markdown = str((record.get("newsletter") or {}).get("markdown", ""))
    seen.update(items=record.get("items"), kept=record.get("kept"), newsletter=markdown)
    bucket, _, key = markdown.removeprefix("s3://").partition("/")
    try:
        clients.s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        raise SmokeFailed(f"{what} wrote no newsletter at {markdown} (execution {arn})", seen) from None
    return seen


def smoke(
    clients: Environment,
    client_ids: list[str],
    *,
    note: Callable[[str], None] | None = None,
    require_pipeline: bool = True,
) -> dict[str, Any]:
    """Check every function and the state machine, then run the pipeline for each of
    ``client_ids``: the evidence (``functions``, ``pipeline_runs``); SmokeFailed on failure."""
    runs: dict[str, dict[str, Any]] = {}
    functions = {c: _function_ready(clients, c) for c in FUNCTION_COMPONENTS}
    report = {"functions": functions, "pipeline_runs": runs}
    if not client_ids:
        if require_pipeline:
            raise SmokeFailed(
                f"no client config in {clients.config_bucket}: the pipeline cannot be run (publish one first)"
            )
        runs["(none)"] = {"pipeline": f"not run: no client config in {clients.config_bucket}"}
        return report
    sfn = clients.client("stepfunctions")
    try:
        state_machine_arn(clients.env, sfn)
    except OperationError as err:
        raise SmokeFailed(str(err)) from None
    for client_id in client_ids:

        def echo(line: str, who: str = client_id) -> None:
            if note is not None:
                note(f"{clients.env} {who}: {line.strip()}")

        runs[client_id] = _run(clients, sfn, client_id, echo)
    return report
