"""The gates a promotion owes its target and the schedule's path.

- the target's preflight (``make preflight ENV=stage``'s checks) is a gate: a stage whose PubMed
  key parameter is gone refuses the promotion naming that check, nothing changed;
- the smoke test is an execution of ``vectora-inbox-pipeline-{env}`` (what the weekly schedule
  starts), so a broken STATE MACHINE, its functions intact, is caught: in the source the promotion
  refuses before stage changes; in the target, after the deploy, stage is restored.

The breakage is a definition whose one state fails, put in place with UpdateStateMachine (what a
hand edit in the console would do) and taken back by the test. One deploy-level test (the target
case); the others refuse before the deploy.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import pytest

from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import World
from vectora_core.naming import pubmed_api_key_param
from vectora_ops.operation.state import EnvState
from vectora_ops.pipeline_runs import state_machine_arn
from vectora_ops.promotion.gates import GateRefused
from vectora_ops.promotion.promote import Promotion, PromotionFailed, Request

CLIENT = "lai_weekly"
BROKEN_ERROR = "BrokenStateMachine"
BROKEN = json.dumps(
    {
        "Comment": "broken on purpose by a promotion test",
        "StartAt": "Broken",
        "States": {"Broken": {"Type": "Fail", "Error": BROKEN_ERROR, "Cause": "a test broke it"}},
    }
)


def fingerprint(state: EnvState) -> tuple[object, ...]:
    return state.code(), state.config_digests(), state.templates()


@contextlib.contextmanager
def broken_state_machine(world: World, env: str) -> Iterator[str]:
    """``env``'s state machine with a definition that fails at once; its own definition back after."""
    sfn = world.session().client("stepfunctions")
    arn = state_machine_arn(env, sfn)
    original = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    sfn.update_state_machine(stateMachineArn=arn, definition=BROKEN)
    try:
        yield arn
    finally:
        sfn.update_state_machine(stateMachineArn=arn, definition=original)


@pytest.fixture(scope="module")
def stage(first_promotion: FirstPromotion) -> None:
    assert first_promotion.run.code == 0, first_promotion.run


def request() -> Request:
    return Request("dev", "stage", client=CLIENT, validated_by="State Machine Tests")


def test_a_target_without_its_pubmed_parameter_refuses_naming_the_check(
    world: World, stage: None, in_process: Callable[..., Promotion]
) -> None:
    # given stage, deployed, whose PubMed key parameter was deleted
    before = world.state("stage")
    ssm, name = world.session().client("ssm"), pubmed_api_key_param("stage")
    ssm.delete_parameter(Name=name)
    try:
        # when dev is promoted into it
        with pytest.raises(GateRefused) as refused:
            in_process(request()).run()
    finally:
        ssm.put_parameter(Name=name, Value="test-key", Type="SecureString")
    # then the gate line names the check, its evidence and the fix; nothing in stage changed
    message = str(refused.value)
    assert "gate target-preflight: stage is not ready: pubmed-parameter (no parameter" in message
    assert "aws ssm put-parameter" in message and "\n" not in message
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert audit["result"] == "refused" and "pubmed-parameter" in audit["error"]
    (gate,) = [g for g in audit["gates"] if g["gate"] == "target-preflight"]
    assert gate["passed"] is False and gate["evidence"]["checks"]["pubmed-parameter"]["status"] == "failed"
    assert gate["evidence"]["checks"]["buckets"]["status"] == "passed"  # a deployed target's own names
    assert "source-smoke" not in {g["gate"] for g in audit["gates"]}  # refused before the live gates


def test_a_broken_source_state_machine_refuses_before_stage_changes(
    world: World, stage: None, in_process: Callable[..., Promotion]
) -> None:
    # given stage, and dev whose functions are intact but whose state machine fails
    before = world.state("stage")
    # when dev is promoted
    with broken_state_machine(world, "dev") as arn, pytest.raises(GateRefused) as refused:
        in_process(request()).run()
    # then the source's smoke test refuses, naming the failed execution; stage is untouched
    message = str(refused.value)
    assert "gate source-smoke:" in message and BROKEN_ERROR in message, message
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert audit["result"] == "refused"
    assert "target-snapshot" not in {s["step"] for s in audit["steps"]}
    (gate,) = [g for g in audit["gates"] if g["gate"] == "source-smoke"]
    assert gate["passed"] is False
    assert gate["evidence"]["execution"].startswith(arn.replace(":stateMachine:", ":execution:") + ":")
    assert gate["evidence"]["status"] == "FAILED" and gate["evidence"]["states"] == {"Broken": "failed"}


def test_a_target_state_machine_broken_after_the_deploy_restores_stage(
    world: World, stage: None, in_process: Callable[..., Promotion]
) -> None:
    # given stage, and a promotion whose deploy is followed by stage's state machine breaking
    before = world.state("stage")
    breaking = contextlib.ExitStack()

    def faults(step: str) -> None:
        if step == "target-smoke":
            breaking.enter_context(broken_state_machine(world, "stage"))

    # when the promotion reaches stage's smoke test
    with breaking, pytest.raises(PromotionFailed) as failed:
        in_process(request(), faults=faults).run()
    # then it failed there, and stage was restored and verified equal to its state before
    assert (failed.value.step, failed.value.restored) == ("target-smoke", True), str(failed.value)
    assert BROKEN_ERROR in str(failed.value) and "verified equal to its state before" in str(failed.value)
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert (audit["result"], audit["failed_step"]) == ("failed, restored", "target-smoke")
    (smoked,) = [s for s in audit["steps"] if s["step"] == "target-smoke"]
    assert smoked["outcome"] == "failed"
    assert ":execution:vectora-inbox-pipeline-stage:" in smoked["evidence"]["execution"]
    assert smoked["evidence"]["states"] == {"Broken": "failed"}
    assert [s["step"] for s in audit["steps"]][-2:] == ["restore", "verify-restore"]
