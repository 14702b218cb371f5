"""Unit tests, no AWS: the target's preflight as a promotion gate (which checks refuse, what the gate
line says), each state's outcome read from an execution's history, and the bounded wait of the
smoke test. The same on the local AWS: test_e2e_f_target_preflight_and_state_machine.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from vectora_ops.pipeline_runs import PipelineRunError, follow, read_trail
from vectora_ops.preflight import CHECKS
from vectora_ops.preflight.model import Finding, bad, ok, skip
from vectora_ops.promotion.gates import PREFLIGHT_GATES, preflight_gate

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def rows(**changed: Finding) -> list[Any]:
    return [(check, changed.get(check.id.replace("-", "_"), ok("fine"))) for check in CHECKS]


def test_every_preflight_check_is_either_a_gate_or_left_out_on_purpose() -> None:
    assert {c.id for c in CHECKS} - PREFLIGHT_GATES == {"bedrock-invoke", "alarm-subscriptions"}
    assert {c.id for c in CHECKS} >= PREFLIGHT_GATES


def test_a_failed_gating_check_refuses_naming_it_its_evidence_and_its_fix() -> None:
    gate = preflight_gate(
        "stage",
        rows(
            pubmed_parameter=bad("no parameter /p in eu-west-3", "someone runs: aws ssm put-parameter"),
            buckets=bad("owned by another account: b-stage", "free them"),
            bedrock_invoke=skip("not asked"),
        ),
    )
    assert not gate.passed
    line = gate.line()
    assert line.startswith(
        "target-preflight: stage is not ready: buckets (owned by another account: b-stage); "
        "pubmed-parameter (no parameter /p in eu-west-3); to pass it: buckets: free them."
    )
    assert "aws ssm put-parameter" in line and line.endswith("make preflight ENV=stage")
    assert gate.evidence["checks"]["bedrock-invoke"] == {
        "status": "not_checked", "evidence": "not asked", "fix": None, "gate": False
    }  # fmt: skip


def test_unconfirmed_alarm_emails_are_a_warning_not_a_refusal() -> None:
    gate = preflight_gate(
        "prod", rows(alarm_subscriptions=bad("not confirmed: ops@example.com", "click Confirm"))
    )
    assert gate.passed and gate.evidence["warnings"] == [
        "alarm-subscriptions: not confirmed: ops@example.com"
    ]


class History:
    """What Step Functions answers for one execution (GetExecutionHistory, DescribeExecution)."""

    def __init__(self, events: list[dict[str, Any]], status: str = "SUCCEEDED") -> None:
        self.events, self.status = events, status

    def get_paginator(self, name: str) -> History:
        assert name == "get_execution_history"
        return self

    def paginate(self, executionArn: str) -> list[dict[str, Any]]:  # noqa: N803  # boto3's name
        return [{"events": self.events}]

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803
        return {"executionArn": executionArn, "status": self.status, "startDate": T0}


def history(*spec: tuple[str, str, int | None]) -> list[dict[str, Any]]:
    """Events from (type, state name or error, previous event id)."""
    events = []
    for number, (kind, name, previous) in enumerate(spec, start=1):
        event: dict[str, Any] = {"id": number, "type": kind, "timestamp": T0}
        if previous is not None:
            event["previousEventId"] = previous
        if kind.endswith("StateEntered"):
            event["stateEnteredEventDetails"] = {"name": name}
        elif kind.endswith("StateExited"):
            event["stateExitedEventDetails"] = {"name": name}
        elif kind.endswith("Failed"):
            event["taskFailedEventDetails"] = {"error": name, "cause": "it  broke\nthere"}
        elif kind == "TaskSucceeded":
            event["taskSucceededEventDetails"] = {"output": name or "{}"}
        events.append(event)
    return events


def test_each_state_outcome_counts_map_iterations_retries_and_caught_failures() -> None:
    events = history(
        ("TaskStateEntered", "ListClients", 0),  # 1
        ("TaskScheduled", "", 1),
        ("TaskFailed", "Lambda.TooManyRequestsException", 2),  # retried, then succeeded
        ("TaskScheduled", "", 3),
        ("TaskSucceeded", "", 4),
        ("TaskStateExited", "ListClients", 5),  # 6
        ("MapStateEntered", "Batches", 6),  # 7
        ("MapIterationStarted", "", 7),
        ("TaskStateEntered", "Normalize", 8),  # 9
        ("TaskScheduled", "", 9),
        ("TaskSucceeded", '{"Payload": {"items": 3}, "StatusCode": 200}', 10),
        ("TaskStateExited", "Normalize", 11),
        ("TaskStateEntered", "Normalize", 8),  # 13
        ("TaskScheduled", "", 13),
        ("TaskFailed", "Lambda.Unknown", 14),  # caught by a Catch: the state failed
        ("TaskStateExited", "Normalize", 15),
        ("MapStateSucceeded", "", 16),
        ("MapStateExited", "Batches", 17),
        ("FailStateEntered", "Failed", 18),
        ("ExecutionFailed", "", 19),
    )
    assert read_trail(History(events), "arn:x").payloads("Normalize") == [{"items": 3}]
    assert read_trail(History(events, "FAILED"), "arn:x").outcomes() == {
        "ListClients": "succeeded",
        "Batches": "succeeded",
        "Normalize": "failed 1 of 2: Lambda.Unknown: it broke there",
        "Failed": "failed",
    }


def test_a_run_still_going_at_the_deadline_is_one_line_naming_it() -> None:
    running = History(history(("PassStateEntered", "Wait", None)), "RUNNING")
    with pytest.raises(PipelineRunError) as late:
        follow("arn:aws:states:eu-west-3:1:execution:p:r", running, timeout_s=0)
    assert (
        str(late.value)
        == "arn:aws:states:eu-west-3:1:execution:p:r still RUNNING after 0 s: stopped following"
    )
    assert read_trail(running, "arn:x").outcomes() == {"Wait": "not left"}
