"""What IAM sees of a request (``local_aws.iam.mapping``), from the requests boto3 really sends.

Each request is built by botocore (captured before it leaves), parsed by the gate as the server
would (``enforce.api_call``: moto's router over botocore's model), then mapped. No server: these
are the non-obvious rows of AWS's Service Authorization Reference, one test each.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.config import Config
from werkzeug.test import EnvironBuilder

from local_aws import settings
from local_aws.iam import enforce, evaluator, mapping

REGION = "eu-west-3"
ACCOUNT = settings.ACCOUNT_ID
PROFILE = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


def call_of(service: str, operation: str, **params: Any) -> mapping.ApiCall:
    """The ``ApiCall`` the gate reads from the request boto3 sends for ``operation(**params)``."""
    client = boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url="http://localhost:4566",
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106  # dummy
        config=Config(s3={"addressing_style": "path"}),
    )
    client.meta.events.register("before-send", _capture)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**params)
    request = captured.value.request
    url = request.url.split("://", 1)[1]
    path_and_query = url[url.index("/") :] if "/" in url else "/"
    path, _, query = path_and_query.partition("?")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    environ = EnvironBuilder(
        method=request.method,
        path=path,
        query_string=query,
        headers={k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()},
        data=body,
        base_url="http://localhost:4566",
    ).get_environ()
    environ["RAW_URI"] = path_and_query
    credential = enforce._credential(environ)
    assert credential is not None
    signing_service = enforce.SIGNING_NAMES.get(credential[2], credential[2])
    assert signing_service == service
    return enforce.api_call(environ, signing_service, credential[1], body)


def actions(call: mapping.ApiCall, lookup: mapping.Lookup | None = None) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in mapping.authorizations(call, lookup)]


def test_head_bucket_is_list_bucket_without_prefix() -> None:
    (auth,) = mapping.authorizations(call_of("s3", "head_bucket", Bucket="config-bucket"))
    assert (auth.action, auth.resource) == ("s3:ListBucket", "arn:aws:s3:::config-bucket")
    assert "s3:prefix" not in auth.context
    assert auth.policy == mapping.PolicyRef("s3-bucket", "config-bucket")


def test_list_objects_v2_carries_prefix_delimiter_and_max_keys() -> None:
    call = call_of(
        "s3", "list_objects_v2", Bucket="data-bucket", Prefix="clients/a/", Delimiter="/", MaxKeys=10
    )
    (auth,) = mapping.authorizations(call)
    assert (auth.action, auth.resource) == ("s3:ListBucket", "arn:aws:s3:::data-bucket")
    assert auth.context["s3:prefix"] == "clients/a/"
    assert auth.context["s3:delimiter"] == "/"
    assert auth.context["s3:max-keys"] == "10"


def test_head_object_is_get_object_and_a_version_is_get_object_version() -> None:
    assert actions(call_of("s3", "head_object", Bucket="bkt-a", Key="a/b.json")) == [
        ("s3:GetObject", "arn:aws:s3:::bkt-a/a/b.json")
    ]
    versioned = call_of("s3", "get_object", Bucket="bkt-a", Key="a/b.json", VersionId="v1")
    (auth,) = mapping.authorizations(versioned)
    assert auth.action == "s3:GetObjectVersion" and auth.context["s3:versionid"] == "v1"


def test_copy_object_reads_the_source_and_writes_the_destination() -> None:
    call = call_of("s3", "copy_object", Bucket="dest-bkt", Key="new/k", CopySource="src-bkt/old/k")
    assert actions(call) == [
        ("s3:GetObject", "arn:aws:s3:::src-bkt/old/k"),
        ("s3:PutObject", "arn:aws:s3:::dest-bkt/new/k"),
    ]
    versioned = call_of(
        "s3",
        "copy_object",
        Bucket="dest-bkt",
        Key="new/k",
        CopySource={"Bucket": "src-bkt", "Key": "old/k", "VersionId": "v7"},
    )
    assert actions(versioned)[0] == ("s3:GetObjectVersion", "arn:aws:s3:::src-bkt/old/k")


def test_delete_objects_is_authorized_object_by_object() -> None:
    call = call_of(
        "s3",
        "delete_objects",
        Bucket="bkt-a",
        Delete={"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v2"}]},
    )
    assert actions(call) == [
        ("s3:DeleteObject", "arn:aws:s3:::bkt-a/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::bkt-a/b"),
    ]


def test_converse_on_a_profile_is_invoke_model_on_the_profile_and_its_model() -> None:
    call = call_of(
        "bedrock-runtime",
        "converse",
        modelId=PROFILE,
        messages=[{"role": "user", "content": [{"text": "hi"}]}],
    )
    profile_arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE}"
    profile, model = mapping.authorizations(call)
    assert (profile.action, profile.resource) == ("bedrock:InvokeModel", profile_arn)
    assert model.action == "bedrock:InvokeModel"
    assert model.resource == f"arn:aws:bedrock:{REGION}::foundation-model/{PROFILE.removeprefix('eu.')}"
    assert model.context == {"bedrock:InferenceProfileArn": profile_arn}


class _SecureParameters(mapping.NoLookup):
    def parameter_kms_key(self, region: str, name: str) -> str | None:  # noqa: ARG002
        return "alias/aws/ssm" if name.startswith("/secure/") else None


def test_a_secure_string_read_with_decryption_is_also_kms_decrypt() -> None:
    lookup = _SecureParameters()
    secure = call_of("ssm", "get_parameter", Name="/secure/key", WithDecryption=True)
    read, decrypt = mapping.authorizations(secure, lookup)
    assert (read.action, read.resource) == (
        "ssm:GetParameter",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/secure/key",
    )
    assert decrypt.action == "kms:Decrypt"
    assert decrypt.context["kms:ViaService"] == f"ssm.{REGION}.amazonaws.com"
    assert decrypt.context["kms:EncryptionContext:PARAMETER_ARN"] == read.resource
    # a plain String, or no decryption asked: no key involved
    assert len(mapping.authorizations(call_of("ssm", "get_parameter", Name="/plain/key"), lookup)) == 1
    assert len(mapping.authorizations(call_of("ssm", "get_parameter", Name="/secure/key"), lookup)) == 1


def test_lambda_invoke_and_layer_reads() -> None:
    assert actions(call_of("lambda", "invoke", FunctionName="fn-a")) == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn-a")
    ]
    assert actions(call_of("lambda", "get_layer_version", LayerName="lay", VersionNumber=3)) == [
        ("lambda:GetLayerVersion", f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lay:3")
    ]


def test_an_unknown_operation_is_named_in_one_line() -> None:
    call = call_of("s3", "get_bucket_website", Bucket="bkt-a")
    with pytest.raises(mapping.NoMappingError, match=r"^no IAM mapping for s3:GetBucketWebsite$"):
        mapping.authorizations(call)


def test_iam_coverage_lists_every_mapped_operation() -> None:
    result = subprocess.run(  # noqa: S603  # our own module
        [sys.executable, "-m", "local_aws", "iam-coverage"],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.REPO_ROOT,
    )
    listed = result.stdout.split()
    assert listed == mapping.coverage()
    assert {"s3:HeadBucket", "s3:ListObjectsV2", "bedrock-runtime:Converse", "ssm:GetParameter"} <= set(
        listed
    )


# --- the evaluator on the two defects of the issue -------------------------------------------

ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/snapshot-role/fn"
PREFIX_ONLY_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::config-bucket",
            "Condition": {"StringLike": {"s3:prefix": ["clients/*"]}},
        }
    ],
}


def test_head_bucket_is_denied_to_a_role_listing_only_under_a_prefix() -> None:
    (auth,) = mapping.authorizations(call_of("s3", "head_bucket", Bucket="config-bucket"))
    request = evaluator.IamRequest(ROLE_SESSION, auth.action, auth.resource, auth.context)
    decision = evaluator.evaluate(request, identity_policies=[PREFIX_ONLY_LIST])
    assert decision == evaluator.Decision(False, "no identity-based policy allows the action", "identity")
    listed = call_of("s3", "list_objects_v2", Bucket="config-bucket", Prefix="clients/a")
    (auth,) = mapping.authorizations(listed)
    allowed = evaluator.evaluate(
        evaluator.IamRequest(ROLE_SESSION, auth.action, auth.resource, auth.context),
        identity_policies=[PREFIX_ONLY_LIST],
    )
    assert allowed.allowed


def test_an_explicit_deny_of_a_bucket_policy_binds_even_the_administrator() -> None:
    tls_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::bkt-a", "arn:aws:s3:::bkt-a/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    user = f"arn:aws:iam::{ACCOUNT}:user/moto"
    over_tls = evaluator.IamRequest(user, "s3:GetObject", "arn:aws:s3:::bkt-a/k")
    assert evaluator.evaluate(over_tls, identity_policies=[admin], resource_policy=tls_only).allowed
    plain = evaluator.IamRequest(
        user, "s3:GetObject", "arn:aws:s3:::bkt-a/k", {"aws:SecureTransport": "false"}
    )
    denied = evaluator.evaluate(plain, identity_policies=[admin], resource_policy=tls_only)
    assert (denied.allowed, denied.step, denied.explicit) == (False, "resource", True)
    assert denied.aws_message(user, "s3:GetObject", "arn:aws:s3:::bkt-a/k").endswith(
        "with an explicit deny in a resource-based policy"
    )


def test_a_short_json_target_as_the_cdk_cli_sends_it_is_still_recognised() -> None:
    """The CDK CLI's JS SDK sends ``X-Amz-Target: CloudTrail_20131101.LookupEvents`` (no prefix)."""
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "CloudTrail_20131101.LookupEvents",
        "Authorization": "AWS4-HMAC-SHA256 Credential=ASIAX/20261204/eu-west-3/cloudtrail/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    environ = EnvironBuilder(method="POST", path="/", headers=headers, data=b"{}").get_environ()
    call = enforce.api_call(environ, "cloudtrail", REGION, b"{}")
    assert actions(call) == [("cloudtrail:LookupEvents", "*")]
