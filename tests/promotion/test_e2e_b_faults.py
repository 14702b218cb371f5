"""Fault injection: an S3 or CloudFormation error at each step after stage's ``pre_promotion``
snapshot. Every one ends with stage restored and verified equal to its state before (code, layers,
configs, stack templates), a non-zero outcome naming the step, and an audit record saying so.

The promotion here brings dev's newer client config (a patch version up, a French comment added)
into stage:
the stacks are the same, so each case costs a deploy that changes nothing, not a stack update (a
real stack restore is tested with a broken code change in test_e2e_c). The source moving between
plan and deploy is refused here too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import REPO_ROOT, World
from vectora_ops.operation.state import EnvState
from vectora_ops.promotion.promote import Promotion, PromotionFailed, PromotionRefused, Request

CLIENT = "lai_weekly"
S3_ERROR = ClientError({"Error": {"Code": "InternalError", "Message": "injected S3 failure"}}, "PutObject")
CFN_ERROR = ClientError(
    {"Error": {"Code": "Throttling", "Message": "injected CloudFormation failure"}}, "UpdateStack"
)
# lai_weekly's version in the repository, then the two patch versions these tests publish to dev.
_MAJOR, _MINOR, _PATCH = (
    (REPO_ROOT / "clients" / f"{CLIENT}.yaml")
    .read_text("utf-8")
    .split('version: "', 1)[1]
    .split('"', 1)[0]
    .split(".")
)
BUMPED = f"{_MAJOR}.{_MINOR}.{int(_PATCH) + 1}"
BUMPED_AGAIN = f"{_MAJOR}.{_MINOR}.{int(_PATCH) + 2}"
STEPS = ("deploy", "verify-artifact", "configs", "target-smoke", "store-assembly", "record")


def bumped(text: str, version: str, today: str) -> str:
    """``lai_weekly``'s config at ``version``, with its changelog entry and a French comment."""
    previous = text.split('version: "', 1)[1].split('"', 1)[0]
    text = text.replace(f'  version: "{previous}"', f'  version: "{version}"', 1)
    text = text.replace(f'config_version: "{previous}"', f'config_version: "{version}"', 1)
    entry = (
        f'    - version: "{version}"\n      date: {today}\n      changes: Seuil révisé (test de promotion)\n'
    )
    text = text.replace(f'    - version: "{previous}"', entry + f'    - version: "{previous}"', 1)
    return f"# Révision {version} : commentaire conservé tel quel par la promotion.\n" + text


def publish_to_dev(world: World, version: str, tmp: Path) -> None:
    """Publish a bumped lai_weekly to dev the way an editor does (publish_config.py validates it),
    from a folder holding the canonical files dev has (the repository's)."""
    root = tmp / f"config-{version}"
    shutil.copytree(REPO_ROOT / "canonical", root / "canonical")
    (root / "clients").mkdir(parents=True)
    dev = world.clients("dev")
    current = (
        dev.s3.get_object(Bucket=dev.config_bucket, Key=f"clients/{CLIENT}.yaml")["Body"].read().decode()
    )
    (root / "clients" / f"{CLIENT}.yaml").write_text(bumped(current, version, "2026-12-01"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(world.repo / "scripts/config/publish_config.py"), "--env", "dev",
         "--client", CLIENT, "--root", str(root)],
        env=world.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def config_bumped(
    world: World, first_promotion: FirstPromotion, tmp_path_factory: pytest.TempPathFactory
) -> str:
    assert first_promotion.run.code == 0, first_promotion.run
    publish_to_dev(world, BUMPED, tmp_path_factory.mktemp("configs"))
    return BUMPED


def fingerprint(state: EnvState) -> tuple[object, ...]:
    return state.code(), state.config_digests(), state.templates()


@pytest.mark.parametrize("step", STEPS)
def test_an_aws_error_at_any_step_restores_stage(
    world: World, config_bumped: str, in_process: Callable[..., Promotion], step: str
) -> None:
    # given stage, and an error that the step will hit
    before = world.state("stage")
    error = CFN_ERROR if step in ("deploy", "verify-artifact", "target-smoke") else S3_ERROR

    def faults(name: str) -> None:
        if name == step:
            raise error

    request = Request("dev", "stage", client=CLIENT, validated_by="Fault Injection")
    # when the promotion runs into it
    with pytest.raises(PromotionFailed) as failed:
        in_process(request, faults=faults).run()
    # then stage is back as it was, and the error says where it failed and that it was restored
    assert (failed.value.step, failed.value.restored) == (step, True)
    message = str(failed.value)
    assert f"failed at step {step}" in message and "verified equal to its state before" in message
    assert "\n" not in message
    assert fingerprint(world.state("stage")) == fingerprint(before)
    audit = world.audits("stage")[-1]
    assert (audit["result"], audit["failed_step"]) == ("failed, restored", step)
    assert audit["restore"]["restored"] is True and error.response["Error"]["Message"] in audit["error"]
    assert [s["step"] for s in audit["steps"]][-2:] == ["restore", "verify-restore"]
    latest = world.deployments("stage")[-1]
    assert latest.via == "rollback" and latest.functions == before.functions


def test_without_a_fault_the_same_promotion_brings_the_new_config_version(
    world: World, config_bumped: str, in_process: Callable[..., Promotion]
) -> None:
    outcome = in_process(Request("dev", "stage", client=CLIENT, validated_by="Fault Injection")).run()
    assert outcome.result == "done"
    config = world.state("stage", CLIENT).configs[f"clients/{CLIENT}.yaml"]
    assert config.semver == config_bumped
    stage = world.clients("stage")
    text = (
        stage.s3.get_object(Bucket=stage.config_bucket, Key=f"clients/{CLIENT}.yaml")["Body"].read().decode()
    )
    assert text.startswith(f"# Révision {config_bumped} : commentaire conservé tel quel par la promotion.\n")


def test_a_source_that_moves_between_plan_and_deploy_is_refused(
    world: World, config_bumped: str, in_process: Callable[..., Promotion], tmp_path: Path
) -> None:
    # given stage, and an editor publishing to dev while the promotion runs its last gates
    before = world.state("stage")

    def progress(event: object) -> None:
        if getattr(event, "message", "") == "▶ snapshot of dev":
            publish_to_dev(world, BUMPED_AGAIN, tmp_path)

    # when the promotion reaches the point of changing stage
    with pytest.raises(PromotionRefused) as refused:
        in_process(
            Request("dev", "stage", client=CLIENT, validated_by="Fault Injection"), progress=progress
        ).run()
    # then it refuses, naming what moved, and stage was not touched
    assert str(refused.value).startswith("dev changed since the plan: config clients/lai_weekly.yaml")
    assert fingerprint(world.state("stage")) == fingerprint(before)
    assert world.audits("stage")[-1]["result"] == "refused"
