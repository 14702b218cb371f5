"""Runs of the pipeline's state machine ``vectora-inbox-pipeline-{env}``: start, follow, list.

Operations code (never in the Lambda layer). The same calls against the local AWS
(``AWS_ENDPOINT_URL``) and a real account. ``run_client_pipeline`` is the one call that runs one
client's pipeline end to end and returns where its newsletter is (what a smoke test needs);
``scripts/pipeline/run_pipeline.py`` and ``list_runs.py`` are thin mains over this module.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vectora_core.environments import MAIN_REGION
from vectora_core.naming import Pipeline, resource_name
from vectora_ops import cli
from vectora_ops.errors import OperationError
from vectora_ops.invoke import client_parser

# How often a followed execution is asked for its new history events.
POLL_S = 1.0
# A followed run gives up after this (the state machine's own timeout is 6 h).
FOLLOW_TIMEOUT_S = 6 * 3600 + 60
Echo = Callable[[str], None]


class PipelineRunError(OperationError):
    """The execution failed, timed out or was aborted: its status, error and cause, on one line."""


def sfn_client() -> Any:
    from vectora_ops.sessions import new_session  # boto3: only when AWS is reached

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or MAIN_REGION
    return new_session().client("stepfunctions", region_name=region)


def state_machine_arn(env: str, client: Any) -> str:
    """The deployed ``vectora-inbox-pipeline-{env}``; OperationError if S1-runtime has none."""
    name = resource_name(Pipeline.STATE_MACHINE, env)
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                return str(machine["stateMachineArn"])
    raise OperationError(f"state machine {name} not found: deploy S1-runtime of {env} first")


def start_run(env: str, *, client_id: str | None, run_date: str | None, client: Any) -> str:
    """Start an execution (one client, or every active client) and return its ARN."""
    request: dict[str, str] = {}
    if client_id:
        request["client_id"] = client_id
    if run_date:
        request["run_date"] = run_date
    # A readable, unique execution name: who, when, and a suffix (names are never reused).
    name = f"{client_id or 'all'}-{run_date or 'today'}-{uuid.uuid4().hex[:8]}"
    response = client.start_execution(
        stateMachineArn=state_machine_arn(env, client), name=name, input=json.dumps(request)
    )
    return str(response["executionArn"])


def _history(client: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        yield from page["events"]


def _failure_of(event: dict[str, Any]) -> str:
    """A failure event as ``error: cause`` (the cause on one line, cut at 300 characters)."""
    details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    cause = " ".join(str(details.get("cause", "")).split())
    return f"{details.get('error', event['type'])}: {cause[:300]}"


def describe_event(event: dict[str, Any], started: datetime) -> str | None:
    """One line for a history event worth showing (a state entered or left, a failure), else None."""
    kind = str(event["type"])
    elapsed = (event["timestamp"] - started).total_seconds()
    if kind.endswith("StateEntered"):
        return f"{elapsed:7.1f}s  -> {event['stateEnteredEventDetails']['name']}"
    if kind.endswith("StateExited"):
        return f"{elapsed:7.1f}s  <- {event['stateExitedEventDetails']['name']}"
    if kind.endswith(("Failed", "TimedOut")):
        return f"{elapsed:7.1f}s  !! {kind}: {_failure_of(event)}"
    return None


def follow(
    execution_arn: str, client: Any, *, echo: Echo | None = None, timeout_s: float = FOLLOW_TIMEOUT_S
) -> dict[str, Any]:
    """Wait for the execution to end, echoing its states as they happen; its final description
    (PipelineRunError, one line, if it still runs after ``timeout_s``: it is left running)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while True:
        described = client.describe_execution(executionArn=execution_arn)
        for event in _history(client, execution_arn):
            if event["id"] in seen:
                continue
            seen.add(event["id"])
            line = describe_event(event, described["startDate"])
            if echo and line:
                echo(line)
        if described["status"] != "RUNNING":
            return dict(described)
        if time.monotonic() > deadline:
            raise PipelineRunError(f"{execution_arn} still RUNNING after {timeout_s:g} s: stopped following")
        time.sleep(POLL_S)


@dataclass
class Trail:
    """The state entries of one execution's history, read in order (``read_trail``): each
    state's outcome, and what its tasks answered."""

    by_id: dict[int, dict[str, Any]]
    names: dict[int, str] = field(default_factory=dict)  # entry (its StateEntered id) -> name
    kinds: dict[int, str] = field(default_factory=dict)  # -> "Task", "Map", "Pass"...
    results: dict[int, str | None] = field(default_factory=dict)  # -> None (succeeded) or failure
    outputs: dict[int, str] = field(default_factory=dict)  # -> its task's last answer (JSON)
    left: set[int] = field(default_factory=set)
    open: list[int] = field(default_factory=list)

    def last_open(self, kind: str) -> int | None:
        return next((e for e in reversed(self.open) if self.kinds[e] == kind), None)

    def task_entry(self, event: dict[str, Any] | None) -> int | None:
        # A task's events chain to their own TaskStateEntered (Scheduled, Started, Failed...).
        seen: set[int] = set()
        while event is not None and event["id"] not in seen:
            seen.add(event["id"])
            if str(event["type"]).endswith("StateEntered"):
                return int(event["id"])
            event = self.by_id.get(event.get("previousEventId", -1))
        return self.last_open("Task")

    def feed(self, event: dict[str, Any]) -> None:
        kind, eid = str(event["type"]), int(event["id"])
        if kind.endswith("StateEntered"):
            self.names[eid], self.kinds[eid] = event["stateEnteredEventDetails"]["name"], kind[:-12]
            self.open.append(eid)
            if kind == "FailStateEntered":
                self.results[eid] = "failed"
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            entry = next((e for e in reversed(self.open) if self.names[e] == name), None)
            if entry is not None:
                self.left.add(entry)
                self.open.remove(entry)
        elif kind.endswith(("Failed", "TimedOut", "Aborted", "Succeeded")):
            if kind.startswith(("Task", "LambdaFunction")):
                entry = self.task_entry(event)
            elif kind.startswith(("Map", "Parallel")):  # the innermost Map (or Parallel) still open
                entry = self.last_open("Map" if kind.startswith("Map") else "Parallel")
            else:
                return
            if entry is not None:
                self.results[entry] = None if kind.endswith("Succeeded") else f"failed: {_failure_of(event)}"
            if entry is not None and kind == "TaskSucceeded":
                self.outputs[entry] = str(event.get("taskSucceededEventDetails", {}).get("output") or "{}")

    def outcome(self, name: str) -> str:
        entries = [e for e, n in self.names.items() if n == name]
        failures = [str(self.results[e]) for e in entries if self.results.get(e)]
        if failures:
            counted = "" if len(entries) == 1 else f" {len(failures)} of {len(entries)}"
            return failures[0].replace("failed", f"failed{counted}", 1)
        if all(e in self.left for e in entries):
            return "succeeded" + (f" ×{len(entries)}" if len(entries) > 1 else "")
        return "not left"

    def outcomes(self) -> dict[str, str]:
        """Each state entered, in the order first entered, with its outcome: ``succeeded``
        (``succeeded ×3`` for a state a Map ran three times), ``failed: error: cause`` (``failed 1
        of 3: ...`` in a Map; a Fail state: ``failed``) or ``not left`` (the execution ended, or
        still runs, inside it). A state's last result counts: a retried throttle that then
        succeeded is a success, a failure a Catch caught is a failure of that state."""
        return {name: self.outcome(name) for name in dict.fromkeys(self.names.values())}

    def payloads(self, name: str) -> list[dict[str, Any]]:
        """What the function of each entry of the Lambda task ``name`` answered (its ``Payload``)."""
        found = []
        for entry in (e for e, n in self.names.items() if n == name and e in self.outputs):
            try:
                payload = json.loads(self.outputs[entry]).get("Payload")
            except (ValueError, AttributeError):  # not the lambda:invoke integration's answer
                continue
            if isinstance(payload, dict):
                found.append(payload)
        return found


def read_trail(client: Any, execution_arn: str) -> Trail:
    """The execution's history, read once, as its state entries."""
    events = list(_history(client, execution_arn))
    trail = Trail({int(event["id"]): event for event in events})
    for event in events:
        trail.feed(event)
    return trail


def first_failure(client: Any, execution_arn: str) -> str | None:
    """The first failed task of an execution, as ``error: cause`` (the state machine keeps a failed
    client's cause in the history only, so its output stays small), or None."""
    for event in _history(client, execution_arn):
        if str(event["type"]) in ("TaskFailed", "LambdaFunctionFailed"):
            return _failure_of(event)
    return None


def outcome(described: dict[str, Any], client: Any | None = None) -> dict[str, Any]:
    """A finished execution's output, or PipelineRunError with its status, error and cause (and,
    given the client, its first failed task's)."""
    if described["status"] != "SUCCEEDED":
        cause = " ".join(str(described.get("cause", "")).split())
        failed = first_failure(client, described["executionArn"]) if client is not None else None
        raise PipelineRunError(
            f"execution {described['executionArn']} {described['status']}: "
            f"{described.get('error', 'no error recorded')}: {cause[:500]}"
            + (f" (first failure: {failed})" if failed else "")
        )
    return dict(json.loads(described.get("output") or "{}"))


def run_client_pipeline(
    env: str,
    client_id: str,
    *,
    run_date: str | None = None,
    client: Any | None = None,
    echo: Echo | None = None,
) -> dict[str, Any]:
    """Run ``client_id``'s pipeline through the state machine and wait for it: the client's record
    (``items``, ``kept``, ``newsletter`` with ``markdown`` and ``html`` S3 URIs) plus
    ``execution_arn``; PipelineRunError if the run failed."""
    client = client or sfn_client()
    execution_arn = start_run(env, client_id=client_id, run_date=run_date, client=client)
    return client_record(outcome(follow(execution_arn, client, echo=echo), client), client_id, execution_arn)


def client_record(result: dict[str, Any], client_id: str, execution_arn: str) -> dict[str, Any]:
    """``client_id``'s record in a succeeded execution's output, with the ARN and the run date."""
    found = [c for c in result.get("clients", []) if c.get("client_id") == client_id]
    if len(found) != 1:
        raise PipelineRunError(f"execution {execution_arn} ran no client {client_id} (its output names none)")
    return {**found[0], "execution_arn": execution_arn, "run_date": result.get("run_date")}


@dataclass(frozen=True)
class Run:
    """One execution as ``list_runs.py`` shows it."""

    name: str
    status: str
    started: datetime
    duration_s: float | None
    items: int | None
    newsletters: tuple[str, ...]

    @classmethod
    def of(cls, described: dict[str, Any]) -> Run:
        stop = described.get("stopDate")
        output = json.loads(described.get("output") or "{}") if described["status"] == "SUCCEEDED" else {}
        clients = [c for c in output.get("clients", []) if c.get("status") == "succeeded"]
        return cls(
            name=str(described["name"]),
            status=str(described["status"]),
            started=described["startDate"],
            duration_s=(stop - described["startDate"]).total_seconds() if stop else None,
            items=sum(int(c.get("items", 0)) for c in clients) if clients else None,
            newsletters=tuple(str(c["newsletter"]["html"]) for c in clients if c.get("newsletter")),
        )


def list_runs(env: str, *, limit: int, client: Any | None = None) -> list[Run]:
    """The last ``limit`` executions, newest first."""
    client = client or sfn_client()
    arn = state_machine_arn(env, client)
    executions = client.list_executions(stateMachineArn=arn, maxResults=limit)["executions"]
    executions.sort(key=lambda e: e["startDate"], reverse=True)
    return [Run.of(client.describe_execution(executionArn=e["executionArn"])) for e in executions[:limit]]


def run_pipeline_main(argv: Sequence[str] | None = None) -> int:
    parser = client_parser(
        "run_pipeline.py",
        "Start the pipeline's state machine for one client, follow it state by state, print the "
        "newsletter's location.",
    )
    parser.add_argument("--no-wait", action="store_true", help="print the execution ARN and return")
    args = parser.parse_args(argv)
    client = sfn_client()
    if args.no_wait:
        print(start_run(args.env, client_id=args.client_id, run_date=args.run_date, client=client))
        return cli.EXIT_OK
    record = run_client_pipeline(
        args.env,
        args.client_id,
        run_date=args.run_date,
        client=client,
        echo=lambda line: print(line, flush=True),
    )
    if record.get("status") != "succeeded":
        raise PipelineRunError(
            f"{args.client_id}: failed at {record.get('step')}: {record.get('error')}: {record.get('cause')}"
        )
    print(f"execution: {record['execution_arn']}")
    print(f"items: {record['items']} ingested, {record['kept']} kept")
    print(f"newsletter (markdown): {record['newsletter']['markdown']}")
    print(f"newsletter (html):     {record['newsletter']['html']}")
    return cli.EXIT_OK


def _limit_type(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise ValueError(f"--limit {value!r}: a whole number from 1 to 100")
    return int(value)


def list_runs_main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("list_runs.py", "The pipeline's last runs: status, duration, items, newsletter.")
    parser.add_argument("--limit", type=cli.arg_type(_limit_type), default=10, help="runs shown (1-100)")
    args = parser.parse_args(argv)
    runs = list_runs(args.env, limit=args.limit)
    if not runs:
        print(f"no run of {resource_name(Pipeline.STATE_MACHINE, args.env)} yet")
    for run in runs:
        duration = f"{run.duration_s:.0f} s" if run.duration_s is not None else "running"
        items = "-" if run.items is None else str(run.items)
        newsletter = ", ".join(run.newsletters) or "-"
        when = f"{run.started:%Y-%m-%d %H:%M:%S}"
        print(f"{when}  {run.status:<9} {duration:>8}  items {items:>5}  {newsletter}  {run.name}")
    return cli.EXIT_OK
