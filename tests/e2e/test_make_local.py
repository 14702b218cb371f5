"""``make local`` (``python -m local_aws deploy --env dev``) from nothing, a second run that
updates in place, then ``cdk destroy`` of dev: on an emulator of its own, so the session's
``deployed_dev`` stays as it is for the other tests."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from local_aws import cdk
from local_aws.deploy import deploy_environment
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from vectora_core.naming import Bucket, Function, Layer, StackComponent, resource_name

pytestmark = pytest.mark.e2e

ENV = "dev"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _empty_bucket(s3: Any, bucket: str) -> None:
    """Every object version and delete marker (every bucket of the project is versioned)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


def _make_local(aws: LocalAws) -> tuple[int, str]:
    out = io.StringIO()
    status = deploy_environment(aws, ENV, out=out)
    return status, out.getvalue()


def test_make_local_is_idempotent_and_dev_destroys_once_emptied() -> None:
    work = Path(tempfile.mkdtemp(prefix="vectora-make-local-"))
    aws = LocalAws(port=0, state_dir=work / "state")
    try:
        # given nothing running: make local starts, bootstraps, deploys, publishes, invokes
        status, output = _make_local(aws)
        assert status == 0, output
        assert output.rstrip().splitlines()[-1] == f"AWS_ENDPOINT_URL={aws.endpoint_url}"
        # the CLI's output is not drowned by Node 20 notices (jsii's banner, the AWS SDK's warning)
        assert "end-of-life" not in output and "NodeVersionSupportWarning" not in output
        for stack in StackComponent:  # the summary table: one row per stack with its status
            assert re.search(rf"^\s+{resource_name(stack, ENV)}\s+CREATE_COMPLETE$", output, re.MULTILINE), (
                output
            )
        for function in Function:  # the demo invokes each function through the Lambda API
            assert re.search(rf"^{function}: \d+ item\(s\)", output, re.MULTILINE), output
        # it ends with the real lai_weekly's pipeline (its sources answered by the local internet):
        # where the newsletter is, and its first lines
        where = rf"^newsletter: s3://{resource_name(Bucket.NEWSLETTERS, ENV)}/lai_weekly/\S+$"
        assert re.search(where, output, re.MULTILINE), output
        assert re.search(r"^# \S.*$", output.split("newsletter: s3://", 1)[-1], re.MULTILINE), output
        for name in [resource_name(b, ENV) for b in Bucket] + [resource_name(la, ENV) for la in Layer]:
            assert name in output
        s3 = aws.client("s3")
        s3.head_object(Bucket=resource_name(Bucket.CONFIG, ENV), Key="clients/lai_weekly.yaml")
        # every canonical file is published too (this emulator is fresh: nothing else put them there)
        canonical = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "canonical").rglob("*.yaml")}
        listed = s3.list_objects_v2(Bucket=resource_name(Bucket.CONFIG, ENV), Prefix="canonical/")
        assert canonical and canonical <= {o["Key"] for o in listed.get("Contents", [])}
        cfn = aws.client("cloudformation")
        stack_ids = {
            s: cfn.describe_stacks(StackName=resource_name(s, ENV))["Stacks"][0]["StackId"]
            for s in StackComponent
        }

        # when run again: same emulator, same stacks (updated in place, not recreated)
        status, output = _make_local(aws)
        assert status == 0, output
        assert "re-using the running local AWS" in output
        assert "already bootstrapped" in output
        for stack in StackComponent:
            assert (
                cfn.describe_stacks(StackName=resource_name(stack, ENV))["Stacks"][0]["StackId"]
                == stack_ids[stack]
            )

        # destroy: refused while dev's buckets hold data (as on AWS: dev buckets are destroyed
        # once empty), the core stack staying in DELETE_FAILED ...
        out_dir = aws.state_dir / "cdk.out"
        destroy = ["destroy", "-c", f"env={ENV}", "--all", "--force"]
        refused = cdk.run_cdk(aws, destroy, output_dir=out_dir, check=False)
        assert refused.returncode != 0, refused.output
        core = cfn.describe_stacks(StackName=resource_name(StackComponent.CORE, ENV))["Stacks"][0]
        assert core["StackStatus"] == "DELETE_FAILED"
        assert "not empty" in core.get("StackStatusReason", ""), core

        # ... and once they are emptied, every stack, function and bucket of dev is gone
        remaining = {b["Name"] for b in s3.list_buckets()["Buckets"]}  # the empty ones are gone
        assert resource_name(Bucket.CONFIG, ENV) in remaining
        for bucket in remaining & {resource_name(b, ENV) for b in Bucket}:
            _empty_bucket(s3, bucket)
        cdk.run_cdk(aws, destroy, output_dir=out_dir)  # bounded by run_cdk's own timeout

        summaries = cfn.list_stacks()["StackSummaries"]
        live = {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}
        assert not live & {resource_name(s, ENV) for s in StackComponent}, live
        functions = {f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]}
        assert not functions & {resource_name(f, ENV) for f in Function}, functions
        buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert not buckets & {resource_name(b, ENV) for b in Bucket}, buckets
    finally:
        aws.stop()
        remove_caches(work)
