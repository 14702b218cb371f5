"""Code changes through the whole path: a guarded deploy whose smoke test fails is rolled back; a
dry run shows the plan and changes nothing; the approved plan reaches stage (new sha, the old one
kept in its ``pre_promotion`` snapshot); a change that breaks stage's smoke test is rolled back,
stacks included, and stage ends exactly as it was."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import Run, World
from vectora_core.naming import Function, resource_name
from vectora_ops.errors import OperationError
from vectora_ops.operation.state import EnvState
from vectora_ops.promotion.deploy import DeployFailed, GuardedDeploy

INGEST_HANDLER = "lambdas/ingest_v2/handler.py"
# The handler's signature line: a change is a line inserted at the top of its body.
PARSE = "def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:\n"
CLIENT = "lai_weekly"


def fingerprint(state: EnvState) -> tuple[object, ...]:
    return state.code(), state.config_digests(), state.templates()


@dataclass
class ChangeB:
    old_ingest: str | None
    failed_deploy: DeployFailed
    dev_before: EnvState
    dev_after_failure: EnvState
    deploy: Run


@pytest.fixture(scope="module")
def change_b(world: World, first_promotion: FirstPromotion) -> ChangeB:
    """Commit B (a changed ingest handler); a guarded deploy of it whose smoke test is made to
    fail; then the real guarded deploy of it."""
    assert first_promotion.run.code == 0, first_promotion.run
    before = world.state("dev")
    world.change(
        INGEST_HANDLER, PARSE, PARSE + "    logger.debug('change B')\n", "change B: ingest logs a line"
    )

    def faults(step: str) -> None:
        if step == "smoke":
            raise OperationError("injected: the smoke test rejects the deployment")

    with world.process_env(), pytest.raises(DeployFailed) as failed:
        GuardedDeploy("dev", world.repo, "alarms@example.com", faults=faults, session=world.session()).run()
    after_failure = world.state("dev")
    deployed = world.run("deploy_lambda.sh", "--env", "dev")
    return ChangeB(before.functions["ingest-v2"], failed.value, before, after_failure, deployed)


def test_a_deploy_that_the_smoke_test_rejects_is_rolled_back(world: World, change_b: ChangeB) -> None:
    assert (change_b.failed_deploy.step, change_b.failed_deploy.restored) == ("smoke", True)
    assert fingerprint(change_b.dev_after_failure) == fingerprint(change_b.dev_before)
    failed = [a for a in world.audits("dev", "deploys") if a["result"] == "failed, restored"][-1]
    assert failed["failed_step"] == "smoke" and failed["pre_deploy_snapshot"].startswith("pre_deploy_")


def test_the_guarded_deploy_records_the_new_commit(world: World, change_b: ChangeB) -> None:
    assert change_b.deploy.code == 0, change_b.deploy
    record = world.deployments("dev")[-1]
    assert (record.via, record.commit, record.tree_clean) == ("deploy", world.commit, True)
    assert record.functions["ingest-v2"] != change_b.old_ingest
    assert record.snapshot and record.snapshot.startswith("pre_deploy_")
    compared = world.run("compare_envs.py", "dev", "stage")
    assert compared.code == 1 and re.search(r"ingest-v2 .* update", compared.stdout), compared


@pytest.fixture(scope="module")
def dry_run(world: World, change_b: ChangeB) -> tuple[Run, EnvState]:
    assert change_b.deploy.code == 0, change_b.deploy
    before = world.state("stage")
    return world.run("promote_dev_to_stage.sh", "--client", CLIENT, "--validate", "--dry-run"), before


def test_a_dry_run_prints_the_plan_and_changes_nothing(world: World, dry_run: tuple[Run, EnvState]) -> None:
    run, before = dry_run
    assert run.code == 0, run
    assert re.search(r"ingest-v2 .* update", run.stdout) and "vectora-inbox-s1-runtime-stage" in run.stdout
    assert "dry run: nothing was changed" in run.stdout
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert audit["result"] == "dry run" and audit["plan"]["sha256"] in run.stdout
    assert {g["gate"]: g["skipped"] for g in audit["gates"]}["source-smoke"] == "not run in a dry run"


def test_a_plan_other_than_the_one_reviewed_is_refused(world: World, dry_run: tuple[Run, EnvState]) -> None:
    run = world.run("promote_dev_to_stage.sh", "--client", CLIENT, "--validate", "--plan", "0123456789ab")
    assert run.code == 1
    assert run.stderr.strip().splitlines()[-1].startswith("error: the plan changed since it was reviewed")
    assert fingerprint(world.state("stage")) == fingerprint(dry_run[1])


@pytest.fixture(scope="module")
def promoted_b(world: World, change_b: ChangeB, dry_run: tuple[Run, EnvState]) -> Run:
    plan = re.search(r"plan sha256: ([0-9a-f]{64})", dry_run[0].stdout)
    assert plan, dry_run[0]
    return world.run("promote_dev_to_stage.sh", "--client", CLIENT, "--validate", "--plan", plan.group(1))


def test_the_approved_plan_brings_the_new_code_and_the_snapshot_keeps_the_old(
    world: World, change_b: ChangeB, promoted_b: Run
) -> None:
    assert promoted_b.code == 0, promoted_b
    stage, dev = world.state("stage"), world.state("dev")
    assert stage.code() == dev.code() and stage.functions["ingest-v2"] != change_b.old_ingest
    record = world.deployments("stage")[-1]
    assert (
        record.via == "promotion"
        and record.snapshot
        and record.snapshot.startswith("pre_promotion_from_dev_")
    )
    clients = world.clients("stage")
    saved = clients.read_json(
        clients.backups_bucket,
        f"snapshots/{record.snapshot}/lambda_{resource_name(Function.INGEST, 'stage')}.json",
    )
    assert saved["code_sha256"] == change_b.old_ingest


@pytest.fixture(scope="module")
def broken_change(world: World, promoted_b: Run) -> tuple[Run, EnvState, Run]:
    """Commit C: ingest fails in stage only (dev's smoke test passes, stage's does not)."""
    assert promoted_b.code == 0, promoted_b
    breaking = (
        PARSE
        + '    if os.environ.get("ENV") == "stage":\n        raise RuntimeError("change C breaks stage")\n'
    )
    world.change(INGEST_HANDLER, PARSE, breaking, "change C: breaks in stage")
    dry = world.run("deploy_lambda.sh", "--env", "dev", "--dry-run")
    deployed = world.run("deploy_lambda.sh", "--env", "dev")
    assert deployed.code == 0, deployed
    before = world.state("stage")
    return world.run("promote_dev_to_stage.sh", "--client", CLIENT, "--validate"), before, dry


def test_a_guarded_deploy_dry_run_lists_the_stack_changes(
    world: World, broken_change: tuple[Run, EnvState, Run]
) -> None:
    dry = broken_change[2]
    assert dry.code == 0, dry
    assert re.search(r"vectora-inbox-s1-runtime-dev: \d+ changed", dry.stdout)
    assert (
        "vectora-inbox-s0-core-dev: no change" in dry.stdout and "dry run: nothing was changed" in dry.stdout
    )
    assert [a["result"] for a in world.audits("dev", "deploys")][-2:] == ["dry run", "done"]


def test_a_smoke_test_failing_in_stage_rolls_stage_back(
    world: World, broken_change: tuple[Run, EnvState, Run]
) -> None:
    run, before, _ = broken_change
    assert run.code == 1, run
    (error,) = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert "failed at step target-smoke" in error and "change C breaks stage" in error
    assert "restored from pre_promotion_from_dev_" in error and "verified equal to its state before" in error
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert (audit["result"], audit["failed_step"], audit["restore"]["restored"]) == (
        "failed, restored", "target-smoke", True
    )  # fmt: skip
    record = world.deployments("stage")[-1]
    assert record.via == "rollback" and record.functions == before.functions
    assert json.dumps(record.promotion).count("target-smoke") == 1
