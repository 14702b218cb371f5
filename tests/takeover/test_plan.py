"""The takeover's plan from an account and declared stacks held in memory (no local AWS): what
only the planner decides."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from vectora_core.naming import Bucket, StackComponent, resource_name
from vectora_ops.takeover.declared import DeclaredStacks
from vectora_ops.takeover.inventory import Account, BucketInfo, StackInfo, StackResource
from vectora_ops.takeover.plan import Planner, Verdict

STACK = resource_name(StackComponent.CORE, "dev")
BUCKET = resource_name(Bucket.CONFIG, "dev")
DECLARED = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}, "DeletionPolicy": "Retain"}


def plan_for(live_template: dict[str, Any], tmp_path: Path) -> Any:
    account = Account(
        "dev",
        bootstrapped=True,
        stacks={
            STACK: StackInfo(
                STACK, "CREATE_COMPLETE", {}, live_template,
                [StackResource("ConfigBucket", "AWS::S3::Bucket", BUCKET)],
            )
        },
        buckets={BUCKET: BucketInfo("Enabled", objects=3, versions=3)},
    )  # fmt: skip
    declared = DeclaredStacks("dev", None, {STACK: {"Resources": {"ConfigBucket": DECLARED}}})  # type: ignore[arg-type]
    return Planner(account, declared, tmp_path, date(2026, 12, 6)).run()


def test_a_legacy_stack_of_a_declared_name_whose_resources_all_stay_is_updated_by_the_deploy(
    tmp_path: Path,
) -> None:
    # given the team's own stack (not the CDK's) under the name of S0-core, holding only what
    # S0-core declares
    plan = plan_for({"Resources": {"ConfigBucket": {"Type": "AWS::S3::Bucket"}}}, tmp_path)
    # then the bucket stays where it is, and the deploy still has to give the stack its template
    assert [i.verdict for i in plan.items if i.name == BUCKET] == [Verdict.KEPT]
    assert [i.verdict for i in plan.items if i.name == STACK] == [Verdict.UPDATED]
    assert not plan.nothing_to_do


def test_the_projects_own_stack_as_declared_leaves_nothing_to_do(tmp_path: Path) -> None:
    live = {"Resources": {"ConfigBucket": DECLARED, "CDKMetadata": {"Type": "AWS::CDK::Metadata"}}}
    plan = plan_for(live, tmp_path)
    assert not [i for i in plan.items if i.name == STACK]
    assert plan.nothing_to_do
