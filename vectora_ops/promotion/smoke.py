"""The smoke test of an environment: its functions are ready, and the pipeline runs for a client.

One function, ``smoke()``, used as a promotion gate (the source, now), as the post-deployment test
(the target) and by the guarded deploy. Today it invokes the three functions in turn through the
Lambda API (``vectora_ops.invoke``); when the scheduled pipeline exists it starts an execution
instead, here and nowhere else. A run writes what a real run writes (raw and curated items, the
day's newsletter): the smoke test is a real pipeline run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from vectora_core.naming import Function
from vectora_ops.errors import OperationError
from vectora_ops.invoke import InvocationError, run_pipeline, summary_line
from vectora_ops.promotion.clients import FUNCTION_COMPONENTS, EnvClients

# A pipeline step may run for minutes; an invocation must never be retried behind our back.
_INVOKE_CONFIG = Config(read_timeout=960, connect_timeout=10, retries={"total_max_attempts": 1})


class SmokeFailed(OperationError):
    """A function is missing or not ready, or a pipeline run failed (the message says which)."""


@dataclass
class SmokeReport:
    env: str
    functions: dict[str, str] = field(default_factory=dict)
    runs: dict[str, dict[str, str]] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {"functions": self.functions, "pipeline_runs": self.runs}


def _function_ready(clients: EnvClients, component: str) -> str:
    name = clients.name(component)
    try:
        config = clients.lambda_.get_function_configuration(FunctionName=name)
    except ClientError as err:
        raise SmokeFailed(f"{name} cannot be read: {err}") from None
    state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
    if state != "Active" or update != "Successful":
        raise SmokeFailed(f"{name} is not ready (state {state}, last update {update})")
    return f"{state}, code {str(config.get('CodeSha256'))[:12]}"


def smoke(
    clients: EnvClients,
    client_ids: list[str],
    *,
    note: Callable[[str], None] | None = None,
    require_pipeline: bool = True,
) -> SmokeReport:
    """Check every function, then run the pipeline for each of ``client_ids``; SmokeFailed on failure."""
    report = SmokeReport(env=clients.env)
    for component in FUNCTION_COMPONENTS:
        report.functions[component] = _function_ready(clients, component)
    if not client_ids:
        if require_pipeline:
            raise SmokeFailed(
                f"no client config in {clients.config_bucket}: the pipeline cannot be run (publish one first)"
            )
        report.runs["(none)"] = {"pipeline": f"not run: no client config in {clients.config_bucket}"}
        return report
    lambda_client = clients.session.client("lambda", region_name=clients.config.region, config=_INVOKE_CONFIG)
    for client_id in client_ids:
        summaries: dict[str, str] = {}

        def echo(
            function: str, result: dict[str, Any], summaries: dict[str, str] = summaries, who: str = client_id
        ) -> None:
            summaries[function] = summary_line(function, result)
            if note is not None:
                note(f"{clients.env} {who}: {summaries[function]}")

        try:
            results = run_pipeline(clients.env, client_id, client=lambda_client, echo=echo)
        except InvocationError as err:
            raise SmokeFailed(f"pipeline run for {client_id} in {clients.env} failed: {err}") from None
        markdown = results[Function.NEWSLETTER].get("markdown", "")
        bucket, _, key = str(markdown).removeprefix("s3://").partition("/")
        try:
            clients.s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            raise SmokeFailed(
                f"pipeline run for {client_id} in {clients.env} wrote no newsletter at {markdown}"
            ) from None
        summaries["newsletter"] = str(markdown)
        report.runs[client_id] = summaries
    return report
