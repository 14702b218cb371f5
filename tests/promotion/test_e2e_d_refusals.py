"""Bad input and refusals: one line, the exit status of the convention, nothing changed, and, for a
refusal of a valid command line, an audit record. 2 = the command line itself is wrong (never
audited); 1 = refused (a wrong direction, a skipped stage, an unknown client, an invalid config, a
missing approval, a lock held)."""

from __future__ import annotations

import re

import pytest

from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import Run, World
from vectora_core import RUNTIME_VERSION
from vectora_ops.config.runtime import check_runtime
from vectora_ops.errors import OperationError
from vectora_ops.operation.lock import EnvironmentLock
from vectora_ops.operation.state import EnvState


def fingerprint(state: EnvState) -> tuple[object, ...]:
    return state.code(), state.config_digests(), state.templates()


def one_error(run: Run) -> str:
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, run
    return errors[0]


@pytest.fixture(scope="module")
def stage_before(world: World, first_promotion: FirstPromotion) -> EnvState:
    assert first_promotion.run.code == 0, first_promotion.run
    return world.state("stage")


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("promote.py", ("qa", "stage"), "unknown environment 'qa': allowed values are dev, stage, prod"),
        ("promote_dev_to_stage.sh", ("--client", "Bad-Id", "--validate"), "invalid client id 'Bad-Id'"),
        ("promote_dev_to_stage.sh", ("--force",), "unrecognized arguments: --force"),
        ("promote_stage_to_prod.sh", ("--approve", "  "), "--approve must not be empty"),
        ("promote_dev_to_stage.sh", ("--plan", "xyz"), "the plan's sha256"),
        ("deploy_lambda.sh", ("--env", "qa"), "unknown environment 'qa'"),
        ("deploy_lambda.sh", (), "which environment: dev, stage or prod? pass --env dev|stage|prod"),
        ("compare_envs.py", ("dev", "dev"), "compare two different environments"),
    ],
)
def test_a_bad_command_line_exits_2_in_one_line_and_is_not_audited(
    world: World, stage_before: EnvState, script: str, args: tuple[str, ...], expected: str
) -> None:
    audits = len(world.audits("stage")) + len(world.audits("dev"))
    run = world.run(script, *args)
    assert run.code == 2, run
    assert expected in one_error(run)
    assert len(world.audits("stage")) + len(world.audits("dev")) == audits


@pytest.mark.parametrize(
    ("args", "expected", "audited_in"),
    [
        (("prod", "stage", "--validate"), "stage receives promotions from dev only", "stage"),
        (("dev", "prod", "--approve"), "prod receives promotions from stage only", "dev"),  # no prod yet
        (("stage", "dev", "--validate"), "nothing is promoted into dev", "dev"),
        (("dev", "stage", "--client", "nobody", "--validate"), "unknown client 'nobody'", "stage"),
        (
            ("dev", "stage", "--client", "lai_weekly"),
            "gate validation: a promotion into stage needs",
            "stage",
        ),
        (
            ("stage", "prod", "--client", "lai_weekly", "--validate"),
            "gate approval: a promotion into prod",
            "stage",
        ),
    ],
)
def test_a_refusal_exits_1_in_one_line_changes_nothing_and_is_audited(
    world: World, stage_before: EnvState, args: tuple[str, ...], expected: str, audited_in: str
) -> None:
    audits = len(world.audits(audited_in))
    run = world.run("promote.py", *args)
    assert run.code == 1, run
    assert expected in one_error(run)
    assert fingerprint(world.state("stage")) == fingerprint(stage_before)
    assert world.state("prod").stacks == {"s0-core": None, "s0-iam": None, "s1-runtime": None}
    recorded = world.audits(audited_in)
    assert len(recorded) == audits + 1 and recorded[-1]["result"] == "refused"
    assert expected in recorded[-1]["error"]


def test_an_invalid_config_in_the_source_is_refused_before_anything_changes(
    world: World, stage_before: EnvState
) -> None:
    dev = world.clients("dev")
    key = "clients/broken_client.yaml"
    dev.s3.put_object(
        Bucket=dev.config_bucket, Key=key, Body=b"client_profile:\n  client_id: broken_client\n"
    )
    try:
        run = world.run("promote_dev_to_stage.sh", "--validate")  # every client
    finally:
        dev.s3.delete_object(Bucket=dev.config_bucket, Key=key)
    assert run.code == 1, run
    error = one_error(run)
    assert "gate configs: invalid config: s3://vectora-inbox-config-dev/clients/broken_client.yaml" in error
    assert fingerprint(world.state("stage")) == fingerprint(stage_before)
    gates = {g["gate"]: g for g in world.audits("stage")[-1]["gates"]}
    assert not gates["configs"]["passed"] and gates["configs"]["evidence"]["problems"]


def test_a_config_needing_a_newer_runtime_than_the_artifact_is_refused_naming_both_versions(
    world: World, stage_before: EnvState
) -> None:
    """The runtime a config is checked against is the one the promoted artifact carries (dev's
    functions' RUNTIME_VERSION), since stage will run it once the configs land."""
    dev = world.clients("dev")
    key = "clients/lai_weekly.yaml"
    current = dev.s3.get_object(Bucket=dev.config_bucket, Key=key)["Body"].read()
    needed = f'min_runtime_version: "{RUNTIME_VERSION}"'.encode()
    assert needed in current
    newer = current.replace(needed, b'min_runtime_version: "99.0.0"')
    dev.s3.put_object(Bucket=dev.config_bucket, Key=key, Body=newer)
    try:
        run = world.run("promote_dev_to_stage.sh", "--client", "lai_weekly", "--validate")
    finally:
        dev.s3.put_object(Bucket=dev.config_bucket, Key=key, Body=current)
    assert run.code == 1, run
    error = one_error(run)
    assert "gate configs: invalid config: s3://vectora-inbox-config-dev/clients/lai_weekly.yaml" in error
    assert f"99.0.0 is newer than the runtime {RUNTIME_VERSION} of stage once promoted" in error
    assert fingerprint(world.state("stage")) == fingerprint(stage_before)
    gates = {g["gate"]: g for g in world.audits("stage")[-1]["gates"]}
    assert gates["configs"]["evidence"]["runtime_version"] == RUNTIME_VERSION


def test_the_runtime_check_after_the_deploy_names_both_versions(world: World, stage_before: EnvState) -> None:
    stage = world.clients("stage")
    assert check_runtime(stage.lambda_, "stage", RUNTIME_VERSION) == RUNTIME_VERSION
    expected = f"stage runs runtime {RUNTIME_VERSION} after the deploy, not 0.0.1"
    with pytest.raises(OperationError, match=re.escape(expected)):
        check_runtime(stage.lambda_, "stage", "0.0.1")


def test_a_lock_held_refuses_promotion_and_deploy_naming_its_holder(
    world: World, stage_before: EnvState
) -> None:
    held = EnvironmentLock(world.clients("stage"), "a colleague's promotion")
    held.acquire()
    try:
        promotion = world.run("promote_dev_to_stage.sh", "--client", "lai_weekly", "--validate")
        deploy = world.run("deploy_lambda.sh", "--env", "stage")
    finally:
        held.release()
    for run in (promotion, deploy):
        assert run.code == 1, run
        error = one_error(run)
        assert (
            "stage is locked by" in error and "a colleague's promotion" in error and "break_lock.py" in error
        )
    assert fingerprint(world.state("stage")) == fingerprint(stage_before)
    assert world.audits("stage")[-1]["result"] == "refused"
    assert world.audits("stage", "deploys")[-1]["result"] == "refused"


def test_the_guarded_deploy_refuses_prod_with_the_promotion_command(
    world: World, stage_before: EnvState
) -> None:
    run = world.run("deploy_lambda.sh", "--env", "prod")
    assert run.code == 1, run
    assert (
        "--env prod is refused: prod only receives promotions (scripts/deploy/promote_stage_to_prod.sh"
        in one_error(run)
    )
