"""The preflight on a local AWS of its own: a ready account passes every check, each unready case
is caught with its fix, and a run changes nothing."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from local_aws.server import LocalAws
from tests.conftest import remove_caches
from vectora_core.naming import ALARM_TOPIC, pubmed_api_key_param, resource_name
from vectora_ops.checklist.model import Status
from vectora_ops.preflight import CHECKS, Context, run_checks
from vectora_ops.preflight.alarms import judge
from vectora_ops.preflight.bedrock import availability_problems
from vectora_ops.reach import EndpointSession

pytestmark = pytest.mark.emulator
ENV = "stage"
TOOLKIT = {
    "Parameters": {"Qualifier": {"Type": "String", "Default": "hnb659fds"}},
    "Resources": {
        "Version": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/cdk-bootstrap/hnb659fds/version", "Type": "String", "Value": "30"},
        }
    },
    "Outputs": {"BootstrapVersion": {"Value": "30"}},
}


def manifest(folder: Path, version: int, qualifier: str = "hnb659fds") -> Path:
    """A cloud assembly's manifest as the CDK writes it (only what the preflight reads)."""
    artifacts = {
        resource_name(c, ENV): {
            "type": "aws:cloudformation:stack",
            "properties": {
                "requiresBootstrapStackVersion": version,
                "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{qualifier}/version",
            },
        }
        for c in ("s0-core", "s0-iam", "s1-runtime")
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return folder


@pytest.fixture(scope="module")
def aws():
    # IAM off: a bucket of another account is made with an assumed role of that account.
    server = LocalAws(
        port=0, state_dir=Path(tempfile.mkdtemp(prefix="preflight-")), extra_env={"LOCAL_AWS_IAM": "off"}
    ).start()
    try:
        yield server
    finally:
        server.stop()
        remove_caches(server.state_dir)


def session(aws: LocalAws) -> EndpointSession:
    return EndpointSession(
        aws.endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106
        region_name="eu-west-3",
    )


@pytest.fixture(scope="module")
def ready(aws, tmp_path_factory):
    """The account as the guide leaves it: bootstrapped, the key parameter, the topic confirmed."""
    s = session(aws)
    cfn = s.client("cloudformation")
    cfn.create_stack(StackName="CDKToolkit", TemplateBody=json.dumps(TOOLKIT))
    cfn.get_waiter("stack_create_complete").wait(StackName="CDKToolkit", WaiterConfig={"Delay": 1})
    s.client("ssm").put_parameter(Name=pubmed_api_key_param(ENV), Value="k", Type="SecureString")
    sns = s.client("sns")
    topic = sns.create_topic(Name=resource_name(ALARM_TOPIC, ENV))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    return manifest(tmp_path_factory.mktemp("assembly"), 6)


def context(aws: LocalAws, assembly: Path, **kwargs) -> Context:
    return Context(ENV, session(aws), "test emulator", assembly, **kwargs)


def state(aws: LocalAws) -> dict:
    s = session(aws)
    return {
        "buckets": sorted(b["Name"] for b in s.client("s3").list_buckets()["Buckets"]),
        "stacks": sorted(x["StackName"] for x in s.client("cloudformation").describe_stacks()["Stacks"]),
        "parameters": s.client("ssm").describe_parameters()["Parameters"],
        "subscriptions": s.client("sns").list_subscriptions()["Subscriptions"],
        "functions": s.client("lambda").list_functions()["Functions"],
    }


def test_a_ready_account_passes_every_check_and_nothing_changes(aws, ready):
    before = state(aws)
    rows = run_checks(context(aws, ready, invoke=True))
    after = state(aws)
    assert [(c.id, f.status) for c, f in rows] == [(c.id, Status.PASSED) for c in CHECKS], rows
    assert before == after


def finding(aws, assembly, check_id, **kwargs):
    ctx = context(aws, assembly, **kwargs)
    rows = dict((c.id, f) for c, f in run_checks(ctx, CHECKS[:1]))  # identity: fills the account
    assert rows["identity"].status is Status.PASSED
    return next(c for c in CHECKS if c.id == check_id).run(ctx), ctx


def test_bootstrap_too_old_or_another_qualifier_is_caught(aws, ready, tmp_path):
    old, _ = finding(aws, manifest(tmp_path / "a", 99), "bootstrap")
    assert old.status is Status.FAILED and "too old" in old.result.evidence
    assert "cdk bootstrap aws://123456789012/eu-west-3" in old.fix
    other, _ = finding(aws, manifest(tmp_path / "b", 6, "other"), "bootstrap")
    assert other.status is Status.FAILED and "--qualifier other" in other.fix


def test_a_bucket_name_owned_by_another_account_is_named(aws, ready):
    s = session(aws)
    other = "arn:aws:iam::111111111111:role/x"
    creds = s.client("sts").assume_role(RoleArn=other, RoleSessionName="preflight")
    c = creds["Credentials"]
    foreign = EndpointSession(
        aws.endpoint_url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"], region_name="eu-west-3",
    ).client("s3")  # fmt: skip
    name = resource_name("newsletters", ENV)
    foreign.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    try:
        found, _ = finding(aws, ready, "buckets")
        assert found.status is Status.FAILED and name in found.result.evidence
    finally:
        foreign.delete_bucket(Bucket=name)


def test_an_unknown_model_and_a_wrong_parameter_are_caught(aws, ready):
    ctx = context(aws, ready)
    run_checks(ctx, CHECKS[:1])
    ctx.config = replace(ctx.config, bedrock_model_id="eu.no-such-model")
    bedrock = next(c for c in CHECKS if c.id == "bedrock").run(ctx)
    assert bedrock.status is Status.FAILED and "bedrock_model_id" in bedrock.fix
    ssm = session(aws).client("ssm")
    ssm.put_parameter(Name=pubmed_api_key_param(ENV), Value="k", Type="String", Overwrite=True)
    try:
        found, _ = finding(aws, ready, "pubmed-parameter")
        assert found.status is Status.FAILED and "aws ssm put-parameter" in found.fix
    finally:
        ssm.put_parameter(Name=pubmed_api_key_param(ENV), Value="k", Type="SecureString", Overwrite=True)


def test_no_credentials_fail_identity_and_skip_the_rest(ready):
    ctx = Context(ENV, EndpointSession("http://127.0.0.1:1", region_name="eu-west-3",
                  aws_access_key_id="x", aws_secret_access_key="y"), "nowhere", ready)  # fmt: skip  # noqa: S106
    rows = run_checks(ctx)
    assert rows[0][1].status is Status.FAILED and "AWS_PROFILE" in rows[0][1].fix
    assert all(f.status is Status.NOT_CHECKED for _, f in rows[1:])


def test_pending_subscriptions_and_missing_model_access_say_what_to_do():
    pending = judge("t", [{"SubscriptionArn": "PendingConfirmation", "Endpoint": "a@x.com"}])
    assert pending.status is Status.FAILED and "a@x.com" in pending.result.evidence
    assert "Confirm subscription" in pending.fix
    problems = availability_problems(
        {"agreementAvailability": {"status": "NOT_AVAILABLE"}, "authorizationStatus": "NOT_AUTHORIZED",
         "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}, "m",
    )  # fmt: skip
    assert [what for what, _ in problems] == ["agreement NOT_AVAILABLE", "authorization NOT_AUTHORIZED"]
    assert "Marketplace" in problems[0][1]
