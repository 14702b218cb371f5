"""Invoking the deployed pipeline functions through the Lambda API (local AWS or a real account).

Operations code (never in the Lambda layer): the functions themselves do not invoke each other.

``scripts/invoke/*.py`` are thin mains over these functions: the same call whatever the endpoint
(``AWS_ENDPOINT_URL`` selects the local AWS), so what works locally is what runs on AWS.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from datetime import date
from typing import Any

from vectora_core.environments import MAIN_REGION
from vectora_core.naming import Function, resource_name
from vectora_ops import cli
from vectora_ops.errors import OperationError


class InvocationError(OperationError):
    """The function ran and failed (its error type and message), or could not be invoked."""


def lambda_client() -> Any:
    from botocore.config import Config

    from vectora_ops.sessions import new_session  # boto3: only when a function is invoked

    # A pipeline step may run for minutes; an invocation must never be retried behind our back.
    config = Config(read_timeout=960, connect_timeout=10, retries={"total_max_attempts": 1})
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or MAIN_REGION
    return new_session().client("lambda", region_name=region, config=config)


def invoke(
    env: str, function: str, client_id: str, *, run_date: str | None = None, client: Any | None = None
) -> dict[str, Any]:
    """Invoke ``vectora-inbox-{function}-{env}`` synchronously; its answer, or InvocationError."""
    name = resource_name(function, env)
    event: dict[str, Any] = {"client_id": client_id}
    if run_date:
        event["run_date"] = run_date
    client = client or lambda_client()
    try:
        response = client.invoke(
            FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(event)
        )
    except Exception as err:  # noqa: BLE001  # botocore's many errors: all mean "not invoked"
        raise InvocationError(f"{name} could not be invoked: {err}") from None
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        detail = payload if isinstance(payload, dict) else {}
        raise InvocationError(
            f"{name} failed: {detail.get('errorType', 'Error')}: {detail.get('errorMessage', payload)}"
        )
    return payload


def run_pipeline(
    env: str, client_id: str, *, run_date: str | None = None, client: Any | None = None, echo: Any = None
) -> dict[str, dict[str, Any]]:
    """The three steps in order on one run date; stops at the first failure (InvocationError)."""
    client = client or lambda_client()
    results: dict[str, dict[str, Any]] = {}
    for function in Function:  # in pipeline order
        result = invoke(env, function, client_id, run_date=run_date, client=client)
        # Later steps must use the run date the first one chose (today, if none was given).
        run_date = run_date or result.get("run_date")
        results[function] = result
        if echo:
            echo(function, result)
    return results


def run_date_type(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid --run-date {value!r}: use YYYY-MM-DD") from None


def client_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A script's parser for one client's run: ``--env``, ``--client-id``, ``--run-date``."""
    parser = cli.parser(prog, description)
    parser.add_argument("--client-id", required=True, type=cli.client_id_type, help="e.g. lai_weekly")
    parser.add_argument("--run-date", type=run_date_type, help="YYYY-MM-DD (default: today, UTC)")
    return parser


def invoke_main(function: Function, argv: Sequence[str] | None = None) -> int:
    prog = f"invoke_{function.replace('-', '_')}.py"
    args = client_parser(prog, f"Invoke vectora-inbox-{function}-{{env}}.").parse_args(argv)
    result = invoke(args.env, function, args.client_id, run_date=args.run_date)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def summary_line(function: str, result: dict[str, Any]) -> str:
    if function == Function.INGEST:
        failed = ", ".join(result.get("sources_failed") or []) or "none"
        return (
            f"{function}: {result['items']} item(s) from {result['sources_ok']} source(s), "
            f"{result['duplicates_removed']} duplicate(s) removed, failed sources: {failed}"
            f" -> {result['raw_items']}"
        )
    if function == Function.NORMALIZE_SCORE:
        return (
            f"{function}: {result['items']} item(s) normalized ({result['normalizer']}), "
            f"{result['failed']} failed, {result['above_threshold']} above threshold"
            f" -> {result['curated_items']}"
        )
    sections = ", ".join(f"{k}: {v}" for k, v in result.get("sections", {}).items()) or "none"
    return f"{function}: {result['items']} item(s) in sections ({sections}), editorial: {result['editor']}"
