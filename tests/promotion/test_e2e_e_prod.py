"""stage -> prod with the documented command line (docs/promotion.md), verbatim: refused while stage is
younger than 14 days, refused without approval, done once stage's recorded history is 15 days old;
then the 48-hour watch (reinforced alarms armed by the deployed parameter, promotions frozen, the
hotfix path), and the end of the watch without anyone acting; finally a stage alarm refuses prod.

The clock is never faked: the evidence (deployment records, rollback audits) is backdated, which
is what time passing does to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import SPEC_STAGE_TO_PROD, Run, World
from vectora_core.naming import REINFORCED_PARAMETER, Function, StackComponent, resource_name
from vectora_ops.operation.records import parse_iso

PROMOTE = ("promote_stage_to_prod.sh", "--client", "lai_weekly", "--approve")
APPROVER = {"VECTORA_APPROVER": "Olga Ops"}


def error_of(run: Run) -> str:
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    return line


def parameter(world: World) -> str:
    stacks = world.clients("prod").cloudformation.describe_stacks(
        StackName=resource_name(StackComponent.RUNTIME, "prod")
    )
    return {p["ParameterKey"]: p["ParameterValue"] for p in stacks["Stacks"][0]["Parameters"]}[
        REINFORCED_PARAMETER
    ]


@pytest.fixture(scope="module")
def young_stage(world: World, first_promotion: FirstPromotion) -> Run:
    assert first_promotion.run.code == 0, first_promotion.run
    return world.typed(SPEC_STAGE_TO_PROD, extra=APPROVER)


def test_prod_is_refused_while_stage_is_younger_than_14_days(world: World, young_stage: Run) -> None:
    assert young_stage.code == 1, young_stage
    assert "gate stability: stage is not stable for 14 days: its last deployment" in error_of(young_stage)
    assert "days to go" in error_of(young_stage) and "--hotfix" in error_of(young_stage)
    audit = world.audits("stage")[-1]  # prod has no backups bucket yet
    assert (audit["to"], audit["result"]) == ("prod", "refused") and "no backups bucket" in audit[
        "audit_note"
    ]


@pytest.fixture(scope="module")
def first_into_prod(world: World, young_stage: Run) -> Run:
    world.backdate("stage", 15)
    without_approval = world.run("promote_stage_to_prod.sh", "--client", "lai_weekly")
    assert without_approval.code == 1 and "gate approval" in error_of(without_approval), without_approval
    return world.typed(SPEC_STAGE_TO_PROD, extra=APPROVER)


def test_the_documented_command_line_promotes_a_stable_stage_into_a_new_prod(
    world: World, first_into_prod: Run
) -> None:
    assert first_into_prod.code == 0, first_into_prod
    assert "approval recorded for: Olga Ops" in first_into_prod.stderr
    assert world.state("prod").code() == world.state("stage").code()
    record = world.deployments("prod")[-1]
    assert record.via == "promotion" and record.promotion and record.promotion["approved_by"] == "Olga Ops"
    audit = world.audits("prod")[-1]
    assert audit["result"] == "done" and {g["gate"] for g in audit["gates"]} >= {
        "approval",
        "stability",
        "watch-freeze",
    }


def test_the_watch_is_recorded_deployed_and_shown(world: World, first_into_prod: Run) -> None:
    assert first_into_prod.code == 0, first_into_prod
    record = world.deployments("prod")[-1]
    until = parse_iso(record.watch_until or "")
    assert timedelta(hours=47, minutes=50) < until - datetime.now(UTC) <= timedelta(hours=48)
    # the reinforced alarms read this parameter: they can breach until then, never after
    assert parameter(world) == str(int(until.timestamp()))
    alarms = world.clients("prod").cloudwatch.describe_alarms(AlarmNamePrefix="vectora-inbox-reinforced-")
    assert len(alarms["MetricAlarms"]) == 8
    status = world.run("promotion_status.py", "--env", "prod")
    assert status.code == 0, status
    assert f"watch: ACTIVE until {record.watch_until}" in status.stdout
    assert "freeze: promotions into prod refused until then (--hotfix aside)" in status.stdout


def test_a_promotion_within_the_watch_is_refused_a_hotfix_is_not_but_needs_approval(
    world: World, first_into_prod: Run
) -> None:
    assert first_into_prod.code == 0, first_into_prod
    frozen = world.run(*PROMOTE, extra=APPROVER)
    assert frozen.code == 1 and "gate watch-freeze: prod is under its post-promotion watch" in error_of(
        frozen
    )
    unapproved = world.run(
        "promote_stage_to_prod.sh", "--client", "lai_weekly", "--hotfix", "fix the feed parser"
    )
    assert unapproved.code == 1 and "gate approval" in error_of(unapproved)
    hotfix = world.run(*PROMOTE, "--hotfix", "fix the feed parser", extra=APPROVER)
    assert hotfix.code == 0, hotfix
    audit = world.audits("prod")[-1]
    assert audit["result"] == "done" and audit["hotfix"] == "fix the feed parser"
    assert {g["gate"]: g["skipped"] for g in audit["gates"]}["watch-freeze"] == "hotfix: fix the feed parser"


def test_after_the_watch_ends_by_itself_prod_takes_promotions_again(
    world: World, first_into_prod: Run
) -> None:
    assert first_into_prod.code == 0, first_into_prod
    world.backdate("prod", 3)  # 72 hours later
    status = world.run("promotion_status.py", "--env", "prod")
    assert "watch: ended at" in status.stdout and "freeze: none" in status.stdout
    again = world.run(*PROMOTE, extra=APPROVER)
    assert again.code == 0, again
    assert parse_iso(world.deployments("prod")[-1].watch_until or "") > datetime.now(UTC) + timedelta(
        hours=47
    )


def test_a_stage_alarm_since_its_last_deployment_refuses_prod(world: World, first_into_prod: Run) -> None:
    assert first_into_prod.code == 0, first_into_prod
    world.backdate("prod", 3)
    name = resource_name(f"{Function.INGEST}-errors", "stage")  # created by stage's S1-runtime template
    world.clients("stage").cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="test: errors"
    )
    run = world.run(*PROMOTE, extra=APPROVER)
    assert run.code == 1, run
    assert f"alarm(s) went to ALARM since then: {name} at" in error_of(run)
