"""IAM enforced by the running emulator: roles made through the IAM API, real boto3 calls, AWS's
answers (code, status, message), the trust policy, S3's 403-for-a-missing-key rule, the modes, and
functions run by the Lambda runner with their execution role's credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws import settings
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.local_aws.helpers import client, create_function, deploy_with_change_set, invoke, outputs, uid
from tests.local_aws.test_patches import assert_patch_needed

ACCOUNT = settings.ACCOUNT_ID
REGION = settings.DEFAULT_REGION
ACCOUNT_TRUST = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "sts:AssumeRole",
}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _role(
    aws: LocalAws, name: str, *statements: dict[str, Any], trust: dict[str, Any] = ACCOUNT_TRUST
) -> str:
    iam = client(aws, "iam")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=_policy(trust))["Role"]["Arn"])
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=_policy(*statements))
    return arn


def _as_role(aws: LocalAws, role_arn: str, service: str) -> Any:
    credentials = client(aws, "sts").assume_role(RoleArn=role_arn, RoleSessionName="test-session")[
        "Credentials"
    ]
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = err.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
    )


def _bucket(aws: LocalAws, name: str, *keys: str) -> None:
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"{}")


def test_a_role_is_allowed_what_its_policy_grants_and_denied_the_rest_as_aws_says(
    patched_aws: LocalAws,
) -> None:
    u = uid()
    bucket = f"iam-allow-{u}"
    _bucket(patched_aws, bucket, "in/a.json", "out/b.json")
    role = _role(
        patched_aws,
        f"iam-reader-{u}",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/in/*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringLike": {"s3:prefix": ["in/*"]}},
        },
    )
    s3 = _as_role(patched_aws, role, "s3")
    assert s3.get_object(Bucket=bucket, Key="in/a.json")["Body"].read() == b"{}"
    assert s3.list_objects_v2(Bucket=bucket, Prefix="in/")["KeyCount"] == 1
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/iam-reader-{u}/test-session"
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=bucket, Key="out/b.json")
    assert _error(denied) == (
        403,
        "AccessDenied",
        f"User: {session} is not authorized to perform: s3:GetObject on resource: "
        f"arn:aws:s3:::{bucket}/out/b.json because no identity-based policy allows the s3:GetObject action",
    )
    # HeadBucket is s3:ListBucket with no s3:prefix: the prefix condition does not match it
    with pytest.raises(ClientError) as head:
        s3.head_bucket(Bucket=bucket)
    assert _error(head)[0] == 403
    with pytest.raises(ClientError) as other_prefix:
        s3.list_objects_v2(Bucket=bucket, Prefix="out/")
    assert _error(other_prefix)[:2] == (403, "AccessDenied")
    # JSON services answer AccessDeniedException (400), REST-JSON ones 403
    with pytest.raises(ClientError) as ssm:
        _as_role(patched_aws, role, "ssm").get_parameter(Name="/iam/test")
    assert _error(ssm)[:2] == (400, "AccessDeniedException")
    assert (
        "ssm:GetParameter on resource: arn:aws:ssm:eu-west-3:123456789012:parameter/iam/test"
        in _error(ssm)[2]
    )
    with pytest.raises(ClientError) as lam:
        _as_role(patched_aws, role, "lambda").get_function(FunctionName="iam-nothing")
    assert _error(lam)[:2] == (403, "AccessDeniedException")
    log = patched_aws.log_tail(400)
    assert (
        f"IAM DENY: principal={session} action=s3:GetObject resource=arn:aws:s3:::{bucket}/out/b.json" in log
    )


def test_a_missing_key_is_403_without_list_bucket_and_404_with_it(patched_aws: LocalAws) -> None:
    u = uid()
    bucket = f"iam-missing-{u}"
    _bucket(patched_aws, bucket, "in/a.json")
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    no_list = _as_role(patched_aws, _role(patched_aws, f"iam-nolist-{u}", read), "s3")
    with pytest.raises(ClientError) as hidden:
        no_list.get_object(Bucket=bucket, Key="in/missing.json")
    status, code, message = _error(hidden)
    assert (status, code) == (403, "AccessDenied") and "s3:ListBucket" in message
    with pytest.raises(ClientError) as head:
        no_list.head_object(Bucket=bucket, Key="in/missing.json")
    assert _error(head)[0] == 403
    lister = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
    with_list = _as_role(patched_aws, _role(patched_aws, f"iam-list-{u}", read, lister), "s3")
    with pytest.raises(ClientError) as missing:
        with_list.get_object(Bucket=bucket, Key="in/missing.json")
    assert _error(missing)[:2] == (404, "NoSuchKey")


def test_assume_role_is_refused_when_the_trust_policy_does_not_name_the_caller(patched_aws: LocalAws) -> None:
    lambda_only = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    role = _role(patched_aws, f"iam-lambda-only-{uid()}", trust=lambda_only)
    with pytest.raises(ClientError) as refused:
        client(patched_aws, "sts").assume_role(RoleArn=role, RoleSessionName="operator")
    status, code, message = _error(refused)
    assert (status, code) == (403, "AccessDenied")
    assert f"not authorized to perform: sts:AssumeRole on resource: {role}" in message


def test_an_explicit_deny_of_a_bucket_policy_binds_the_administrator(patched_aws: LocalAws) -> None:
    bucket = f"iam-deny-{uid()}"
    _bucket(patched_aws, bucket, "k.json")
    s3 = client(patched_aws, "s3")
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:DeleteObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(deny))
    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket=bucket, Key="k.json")
    assert _error(denied)[:2] == (403, "AccessDenied")
    assert "with an explicit deny in a resource-based policy" in _error(denied)[2]
    assert s3.get_object(Bucket=bucket, Key="k.json")["Body"].read() == b"{}"


WHOAMI = """
import boto3, os
def handler(event, context):
    out = {"arn": boto3.client("sts").get_caller_identity()["Arn"], "key": os.environ["AWS_ACCESS_KEY_ID"]}
    try:
        boto3.client("s3").put_object(Bucket=event["bucket"], Key="out/x.json", Body=b"{}")
        out["put"] = "ok"
    except Exception as err:
        out["put"] = str(err)
    return out
"""


def test_a_function_runs_with_its_role_credentials_and_is_held_to_its_policy(patched_aws: LocalAws) -> None:
    u = uid()
    bucket = f"iam-fn-{u}"
    _bucket(patched_aws, bucket)
    name = f"iam-fn-{u}"
    function = create_function(patched_aws, name, {"index.py": WHOAMI}, allow_all=False)
    role_name = function["Role"].split("/")[-1]
    result, error = invoke(patched_aws, name, {"bucket": bucket})
    assert error is None, result
    assert result["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{name}"
    assert result["key"].startswith("ASIA")
    assert "AccessDenied" in result["put"] and "s3:PutObject" in result["put"]
    client(patched_aws, "iam").put_role_policy(
        RoleName=role_name,
        PolicyName="write",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/out/*"}
        ),
    )
    allowed, error = invoke(patched_aws, name, {"bucket": bucket})
    assert error is None and allowed["put"] == "ok", allowed
    # same credentials (cached per role): the warm environment was reused
    assert allowed["key"] == result["key"]
    assert patched_aws.invocations(name)[-1]["warm"] is True


def test_a_function_whose_role_does_not_trust_lambda_does_not_run(patched_aws: LocalAws) -> None:
    u = uid()
    role = _role(patched_aws, f"iam-untrusted-{u}")  # trusts the account, not lambda.amazonaws.com
    lam = client(patched_aws, "lambda")
    from tests.local_aws.helpers import zip_bytes

    lam.create_function(
        FunctionName=f"iam-untrusted-{u}",
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": zip_bytes({"index.py": "def handler(e, c):\n    return 1\n"})},
    )
    payload, error = invoke(patched_aws, f"iam-untrusted-{u}")
    assert error is not None
    assert "cannot be assumed by Lambda" in json.dumps(payload)


def test_a_state_machine_task_runs_as_the_state_machine_role(patched_aws: LocalAws) -> None:
    u = uid()
    function = create_function(
        patched_aws, f"iam-sfn-{u}", {"index.py": "def handler(e, c):\n    return {'ok': 1}\n"}
    )
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function["FunctionArn"], "Payload.$": "$"},
                "End": True,
            }
        },
    }
    trust = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": f"iam-sfn-role-{u}",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                },
            },
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": f"iam-sfn-{u}",
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "DefinitionString": json.dumps(definition),
                },
            },
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}},
    }
    stack = deploy_with_change_set(patched_aws, f"iam-sfn-{u}", template)
    sfn = client(patched_aws, "stepfunctions")

    def run() -> dict[str, Any]:
        execution = sfn.start_execution(stateMachineArn=outputs(stack)["Arn"], input="{}")["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution still RUNNING"
            time.sleep(0.2)
        return dict(described)

    denied = run()
    assert denied["status"] == "FAILED"
    assert f"assumed-role/iam-sfn-role-{u}/" in patched_aws.log_tail(200)
    client(patched_aws, "iam").put_role_policy(
        RoleName=f"iam-sfn-role-{u}",
        PolicyName="invoke",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function["FunctionArn"]}
        ),
    )
    assert run()["status"] == "SUCCEEDED"


# --- modes -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit_and_off() -> Iterator[dict[str, LocalAws]]:
    started = {}
    try:
        for mode in ("audit", "off"):
            state_dir = Path(tempfile.mkdtemp(prefix=f"local-aws-iam-{mode}-"))
            started[mode] = LocalAws(port=0, state_dir=state_dir, extra_env={settings.IAM_ENV: mode}).start()
        yield started
    finally:
        for aws in started.values():
            aws.stop()
            remove_caches(aws.state_dir)


@pytest.mark.parametrize("mode", ["audit", "off"])
def test_audit_allows_and_logs_off_allows_silently(audit_and_off: dict[str, LocalAws], mode: str) -> None:
    aws = audit_and_off[mode]
    u = uid()
    bucket = f"iam-{mode}-{u}"
    _bucket(aws, bucket, "k.json")
    s3 = _as_role(aws, _role(aws, f"iam-{mode}-{u}"), "s3")  # a role with no policy at all
    assert s3.get_object(Bucket=bucket, Key="k.json")["Body"].read() == b"{}"
    would_deny = f"IAM AUDIT (would deny): principal=arn:aws:sts::{ACCOUNT}:assumed-role/iam-{mode}-{u}/"
    assert (would_deny in aws.log_tail(200)) is (mode == "audit")


def test_a_bad_mode_is_one_line_and_nothing_starts() -> None:
    env = {**os.environ, settings.IAM_ENV: "strict", "PYTHONPATH": str(settings.REPO_ROOT)}
    with tempfile.TemporaryDirectory() as state_dir:
        result = subprocess.run(  # noqa: S603  # our own module
            [sys.executable, "-m", "local_aws", "--state-dir", state_dir, "up"],
            capture_output=True,
            text=True,
            env={k: v for k, v in env.items() if k != settings.PORT_ENV},
            cwd=settings.REPO_ROOT,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr == (
            "local_aws: LOCAL_AWS_IAM='strict' is not an IAM mode (allowed: enforce, audit, off)\n"
        )
        assert not (Path(state_dir) / "server.json").exists()


# --- patch iam_role_templates ------------------------------------------------------------------


def _role_template(name: str, action: str) -> dict[str, Any]:
    trust = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": name,
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSCloudFormationReadOnlyAccess"],
                    "Policies": [
                        {
                            "PolicyName": "inline",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
                            },
                        }
                    ],
                },
            }
        }
    }


def check_template_roles(aws: LocalAws) -> None:
    name = f"iam-template-role-{uid()}"
    stack = deploy_with_change_set(aws, name, _role_template(name, "s3:ListAllMyBuckets"))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    iam = client(aws, "iam")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSCloudFormationReadOnlyAccess"]
    updated = deploy_with_change_set(aws, name, _role_template(name, "sqs:ListQueues"))
    assert updated["StackStatus"] == "UPDATE_COMPLETE", updated
    statement = iam.get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sqs:ListQueues"


def test_template_roles_get_their_managed_policies_and_updates(
    patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    assert_patch_needed("iam_role_templates", check_template_roles, patched_aws, aws_without)
