"""Step Functions' runtime limits, on the local AWS's ASL interpreter: the synthesized definition's
own states (dev's, from the session synth), run from the state a real run reaches them by.

A ``States.Runtime`` error (a path that selects nothing) is seen by no Catch, so the run would end
without its failure notification: an empty client list and an error without a Cause must take the
guarded ways. 200 failing clients must leave every state's payload far under 256 KB and the run's
cause under Step Functions' 32,768 characters. Where the interpreter fails as AWS does (a missing
Cause), the test also runs the unguarded state, so it fails without the guard.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest

from tests.infra.test_pipeline_state_machine import _definition
from tests.support.assembly import CloudAssembly
from vectora_constructs.pipeline_state_machine import ERROR_NAME_MAX, PAYLOAD_MAX_BYTES
from vectora_core.environments import MAX_CLIENTS_PER_EXECUTION
from vectora_core.naming import MAX_CLIENT_ID

pytestmark = pytest.mark.emulator

RUN_DATE = "2026-11-24"
CAUSE_MAX = 32_768  # an execution's cause (ExecutionFailedEventDetails)
WAIT_S = 60.0


@pytest.fixture(scope="module")
def machines(local_aws: Any, assembly: CloudAssembly) -> Any:
    """``run(start_at, input)``: the definition's states that invoke nothing (the Lambda tasks and
    the Maps left out), started at ``start_at``; the execution's description and history."""
    sfn = boto3.client("stepfunctions", **_client_args(local_aws))
    iam = boto3.client("iam", **_client_args(local_aws))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    # Pass, Choice, Succeed and Fail states call nothing: a role without permissions is enough.
    role = iam.create_role(
        RoleName=f"limits-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    definition = _definition(assembly, "dev")
    inner = definition["States"]["Clients"]["ItemProcessor"]["States"]
    states = {
        name: state
        for name, state in {**definition["States"], **inner}.items()
        if state["Type"] in {"Pass", "Choice", "Succeed", "Fail"}
    }

    def run(start_at: str, document: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        machine = sfn.create_state_machine(
            name=f"limits-{start_at}-{uuid.uuid4().hex[:8]}",
            definition=json.dumps({"StartAt": start_at, "States": _reachable(states, start_at)}),
            roleArn=role,
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(document))["executionArn"]
        deadline = time.monotonic() + WAIT_S
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{arn} still running after {WAIT_S} s"
            time.sleep(0.2)
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return dict(described), [dict(e) for e in history]

    return run


def _client_args(local_aws: Any) -> dict[str, Any]:
    return {
        "endpoint_url": local_aws.endpoint_url,
        "region_name": "eu-west-3",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",  # noqa: S106  # dummy credential the emulator accepts
    }


def _reachable(states: dict[str, dict], start: str) -> dict[str, dict]:
    """The states ``start`` leads to (a definition with unreachable states is refused)."""
    found: dict[str, dict] = {}
    todo = [start]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        state = found[name] = states[name]
        todo += [state[k] for k in ("Next", "Default") if k in state]
        todo += [choice["Next"] for choice in state.get("Choices", [])]
    return found


def test_a_run_with_no_client_succeeds_without_summarizing_nothing(machines) -> None:
    clients_done = {"run_date": RUN_DATE, "frequency": "weekly", "clients": [], "results": []}
    described, events = machines("AnyClientRun", clients_done)
    assert described["status"] == "SUCCEEDED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    # AWS fails States.ArrayContains over the "[*].status" of an empty list (States.Runtime); this
    # interpreter answers false there, so the guard is shown by the way taken (and on the template)
    assert entered == ["AnyClientRun", "NoClient"]


def test_an_error_without_a_cause_still_ends_in_the_recorded_failure(machines) -> None:
    caught = {"run_date": RUN_DATE, "error": {"Error": "States.Timeout"}}
    described, _ = machines("PipelineErrorHasCause", caught)
    assert (described["status"], described["error"]) == ("FAILED", "PipelineFailed")
    assert described["cause"] == "States.Timeout (no cause recorded)"
    # with a cause, the cause is the run's, after the error caught
    described, _ = machines("PipelineErrorHasCause", {"error": {"Error": "States.Timeout", "Cause": "why"}})
    assert (described["error"], described["cause"]) == ("PipelineFailed", "States.Timeout: why")
    # without the guard: "$.error.Cause" selects nothing
    described, _ = machines("PipelineFailed", caught)
    assert (described["status"], described.get("error")) == ("FAILED", "States.Runtime")
    # a failing client's record reads no cause at all
    described, _ = machines("IngestFailed", {"client_id": "c", "run_date": RUN_DATE, **caught})
    assert json.loads(described["output"]) == {
        "client_id": "c",
        "status": "failed",
        "step": "Ingest",
        "error": "States.Timeout",
    }


def test_200_failing_clients_stay_far_under_the_payload_limit_and_the_cause_limit(machines) -> None:
    count = max(200, MAX_CLIENTS_PER_EXECUTION)
    # the longest record a failing step writes: its own state, with the longest id, error name and cause
    longest = {
        "client_id": "c" * MAX_CLIENT_ID,
        "run_date": RUN_DATE,
        "error": {"Error": "E" * ERROR_NAME_MAX, "Cause": "x" * CAUSE_MAX},
    }
    described, _ = machines("NormalizeBatchesFailed", longest)
    record = json.loads(described["output"])
    assert "x" not in json.dumps(record)  # the cause stays in the history, not in the record
    results = [{**record, "client_id": f"{i:0{MAX_CLIENT_ID}d}".replace("0", "c", 1)} for i in range(count)]
    described, events = machines(
        "AnyClientRun", {"run_date": RUN_DATE, "frequency": None, "clients": [], "results": results}
    )
    assert (described["status"], described["error"]) == ("FAILED", "ClientRunFailed")
    assert described["cause"].startswith("failed clients: [") and len(described["cause"]) < CAUSE_MAX
    assert json.loads(described["cause"].removeprefix("failed clients: ")) == [
        r["client_id"] for r in results
    ]
    payloads = [
        details[key]
        for event in events
        for name, details in event.items()
        if name.endswith("EventDetails") and isinstance(details, dict)
        for key in ("input", "output")
        if key in details
    ]
    largest = max(len(p.encode()) for p in payloads)
    assert largest < PAYLOAD_MAX_BYTES / 2, f"{largest} bytes for {count} failing clients"


def test_list_clients_refuses_more_clients_than_one_execution_can_run(tmp_path) -> None:
    from datetime import date

    from vectora_core.config.loading import DirStore
    from vectora_core.pipeline.ingest import list_clients

    clients = tmp_path / "clients"
    clients.mkdir()
    for i in range(MAX_CLIENTS_PER_EXECUTION + 1):
        (clients / f"client_{i:04d}.yaml").write_text("client_profile:\n  frequency: weekly\n")
    store = DirStore(tmp_path)
    with pytest.raises(ValueError) as refused:
        list_clients(store, client_id=None, frequency=None, run_date=date(2026, 11, 24))
    assert str(refused.value) == (
        f"{MAX_CLIENTS_PER_EXECUTION + 1} clients for one execution, at most {MAX_CLIENTS_PER_EXECUTION} "
        "(Step Functions' 25,000-event history): run them by frequency or one client at a time"
    )
    (clients / "client_0000.yaml").unlink()
    run = list_clients(store, client_id=None, frequency="weekly", run_date=date(2026, 11, 24))
    assert len(run["clients"]) == MAX_CLIENTS_PER_EXECUTION
