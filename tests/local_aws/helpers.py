"""Small helpers for the local AWS's own tests: clients without retries, zips, bounded waits."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from typing import Any

import boto3
from botocore.config import Config

from local_aws import settings
from local_aws.server import LocalAws

REGION = settings.DEFAULT_REGION
STACK_WAIT_S = 90.0
# No retries: an HTTP 500 must show as an error at once (boto3 would retry it for seconds).
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def client(aws: LocalAws, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]  # any service name
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106  # dummy credential the emulator accepts
        config=NO_RETRY,
    )


def uid() -> str:
    return uuid.uuid4().hex[:8]


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            # a fixed date: the same files always give the same bytes (a test compares them)
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def lambda_role(aws: LocalAws, *, allow_all: bool = True) -> str:
    """A role Lambda may assume. The emulator evaluates IAM with it: by default it may do anything
    (the patch tests are not about IAM); ``allow_all=False``: no permission at all."""
    iam = client(aws, "iam")
    name = f"local-aws-test-role-{uid()}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    if allow_all:
        everything = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_role_policy(RoleName=name, PolicyName="test-allow-all", PolicyDocument=json.dumps(everything))
    return arn


def create_function(
    aws: LocalAws,
    name: str,
    code: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    layers: list[str] | None = None,
    allow_all: bool = True,
) -> dict[str, Any]:
    return client(aws, "lambda").create_function(  # type: ignore[no-any-return]
        FunctionName=name,
        Runtime="python3.13",
        Role=lambda_role(aws, allow_all=allow_all),
        Handler="index.handler",
        Code={"ZipFile": zip_bytes(code)},
        Timeout=30,
        Environment={"Variables": env or {}},
        Layers=layers or [],
    )


def invoke(aws: LocalAws, name: str, event: Any = None) -> tuple[Any, str | None]:
    """(decoded payload, FunctionError or None)."""
    response = client(aws, "lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    raw = response["Payload"].read().decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw
    return payload, response.get("FunctionError")


def wait_stack(aws: LocalAws, name: str, timeout_s: float = STACK_WAIT_S) -> dict[str, Any]:
    """The stack once its status is no longer ``*_IN_PROGRESS`` (bounded); DELETE_COMPLETE if gone."""
    cfn = client(aws, "cloudformation")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except cfn.exceptions.ClientError as err:
            if "does not exist" in str(err):
                return {"StackName": name, "StackStatus": "DELETE_COMPLETE"}
            raise
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack {name} still {stack['StackStatus']} after {timeout_s:.0f} s")
        time.sleep(0.2)


def wait_change_set(aws: LocalAws, stack: str, name: str, timeout_s: float = 30) -> dict[str, Any]:
    cfn = client(aws, "cloudformation")
    deadline = time.monotonic() + timeout_s
    while True:
        described = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            return described  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise TimeoutError(f"change set {name} of {stack} still {described['Status']}")
        time.sleep(0.2)


def deploy_with_change_set(
    aws: LocalAws, stack: str, template: dict[str, Any], parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the CDK CLI does: create a change set (CREATE or UPDATE), execute it, wait."""
    cfn = client(aws, "cloudformation")
    try:
        cfn.describe_stacks(StackName=stack)
        kind = "UPDATE"
    except cfn.exceptions.ClientError:
        kind = "CREATE"
    name = f"cs-{uid()}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Parameters=parameters or [],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    wait_change_set(aws, stack, name)
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    return wait_stack(aws, stack)


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
