"""The rehearsal of issue 27: the team's existing dev account, built the team's way, is what the
fixture says it is; and a naive ``cdk deploy -c env=dev --all`` onto it is refused before
anything changes (the project's S0-core would create ``vectora-inbox-lambda-code-dev``, which the
team made by hand: CloudFormation's pre-deployment check refuses the change set)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml

from local_aws import cdk
from local_aws.deploy import BOOTSTRAP_STACK, app_context, deploy_args
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.takeover.legacy_account import (
    CLIENT,
    CODE_BUCKET,
    CORE_LAYER,
    CORE_LAYER_VERSIONS,
    ENV,
    LegacyAccount,
    account_state,
    build_legacy_dev,
    name,
    stack_name,
)

pytestmark = pytest.mark.emulator


def test_the_rehearsal_account_is_the_teams_dev(legacy_dev: tuple[LocalAws, LegacyAccount]) -> None:
    aws, account = legacy_dev
    state = account_state(aws)
    assert {s: state["stacks"][s]["StackStatus"] for s in account.stacks} == dict.fromkeys(
        (stack_name(c) for c in ("s0-core", "s0-iam", "s1-runtime", "s1-ingest-v2")), "CREATE_COMPLETE"
    )
    core = state["stacks"][stack_name("s0-core")]
    assert ("Env", ENV) in core["Parameters"] and ("ProjectName", "vectora-inbox") in core["Parameters"]
    resources = yaml.safe_load(core["template"])["Resources"]
    assert not [lid for lid, r in resources.items() if "DeletionPolicy" in r]
    # generated role names, as CloudFormation makes them
    for logical_id, arn in account.roles.items():
        assert re.fullmatch(rf".*:role/{stack_name('s0-iam')}-{logical_id}-\w+", arn), arn
    # five functions: two of s1-runtime, one of s1-ingest-v2 (with layers attached by hand), two
    # of no stack
    assert set(account.functions) <= set(state["functions"])
    in_stacks = {p for s in state["stacks"].values() for _, p in s["resources"]}
    assert not {name("normalize-score-v2"), name("newsletter-v2"), CODE_BUCKET} & in_stacks
    assert len(state["functions"][name("ingest-v2")]["Layers"]) == 2
    assert state["layers"][CORE_LAYER][-1].endswith(f":{CORE_LAYER_VERSIONS}")
    assert state["log_groups"][f"/aws/lambda/{name('engine')}"] == 14
    assert state["log_groups"][f"/aws/lambda/{name('newsletter-v2')}"] is None
    # data in the old layout, versioned
    config = state["buckets"][name("config")]
    assert config["versioning"] == "Enabled"
    assert [k for k, *_ in config["versions"]].count(f"clients/{CLIENT}.yaml") == 2
    assert any(k.startswith(f"ingested/{CLIENT}/") for k, *_ in state["buckets"][name("data")]["versions"])
    assert "/rag-lai/dev/pubmed/api-key" in state["parameters"]


@pytest.mark.e2e
def test_a_naive_cdk_deploy_is_refused_before_anything_changes(
    legacy_dev: tuple[LocalAws, LegacyAccount],
) -> None:
    aws, _ = legacy_dev
    out_dir = Path(tempfile.mkdtemp(prefix="vectora-legacy-cdk-out-"))
    cdk.bootstrap(aws, output_dir=out_dir, context=app_context(ENV))
    # the bootstrap's own staging bucket receives the CLI's assets before any change set: not the
    # team's, and on AWS too
    staging = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("cdk-")}
    before = account_state(aws, ignore_buckets=frozenset(staging))
    result = cdk.run_cdk(aws, deploy_args(ENV), output_dir=out_dir, check=False)
    assert result.returncode != 0, result.output
    # the CLI names the refusal and the resource
    assert "Early validation failed" in result.output or "AWS::EarlyValidation" in result.output, (
        result.output
    )
    assert f"with identifier '{CODE_BUCKET}' already exists" in result.output, result.output
    after = account_state(aws, ignore_buckets=frozenset(staging))
    assert after["stacks"].pop(BOOTSTRAP_STACK, None) == before["stacks"].pop(BOOTSTRAP_STACK, None)
    assert after == before


@pytest.mark.e2e
def test_without_the_name_check_the_naive_deploy_changes_the_account() -> None:
    """The comparison above can fail: on a local AWS without cfn_name_conflicts (moto's stock
    behaviour), the same deploy gets past the change set and changes the team's account."""
    work = Path(tempfile.mkdtemp(prefix="vectora-legacy-unchecked-"))
    aws = LocalAws(port=0, state_dir=work / "state", disabled_patches=("cfn_name_conflicts",)).start()
    try:
        build_legacy_dev(aws)
        cdk.bootstrap(aws, output_dir=work / "cdk.out", context=app_context(ENV))
        staging = frozenset(
            b["Name"] for b in aws.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("cdk-")
        )
        before = account_state(aws, ignore_buckets=staging)
        cdk.run_cdk(aws, deploy_args(ENV), output_dir=work / "cdk.out", check=False)
        after = account_state(aws, ignore_buckets=staging)
        # the team's buckets re-tagged by the update, before it failed on the lambda-code bucket
        assert after["buckets"][name("config")]["tags"] != before["buckets"][name("config")]["tags"]
        assert after["stacks"][stack_name("s0-core")]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    finally:
        aws.stop()
        remove_caches(work)
