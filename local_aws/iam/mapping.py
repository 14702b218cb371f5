"""What IAM sees of a request: its action(s), resource ARN(s) and request context.

One table per service (``MAPPINGS[service][operation]``), each entry a function of the parsed
request (``ApiCall``) returning the ``Authorization``s AWS evaluates for it, in order. Names follow
AWS's Service Authorization Reference ("Actions, resources, and condition keys"); the non-obvious
rows are the point: ``HeadBucket`` is ``s3:ListBucket`` with no ``s3:prefix``, ``ListObjectsV2``
``s3:ListBucket`` with ``s3:prefix``/``s3:delimiter``/``s3:max-keys``, ``HeadObject``
``s3:GetObject``, a ``VersionId`` ``s3:GetObjectVersion``, ``CopyObject`` a read of the source and
a write of the destination, ``Converse`` ``bedrock:InvokeModel`` on the inference profile and on
the foundation model it routes to, a SecureString ``ssm:GetParameter`` also ``kms:Decrypt``.

The facts a row needs from the emulator's state (a parameter's type and key, a key's ARN) come
through ``Lookup``, so the table stays a pure function of the request (unit-tested without a server).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import unquote
from xml.etree import ElementTree

from local_aws import settings

ContextValue = str | Sequence[str]


class NoMappingError(LookupError):
    """The table does not know the operation: a role's call to it is refused, never allowed."""


@dataclass(frozen=True)
class PolicyRef:
    """The resource-based policy that takes part in an authorization."""

    kind: str  # "s3-bucket" | "sns-topic" | "kms-key" | "lambda-function" | "iam-role-trust"
    ref: str  # bucket name, topic ARN, key ARN, function ARN, role ARN


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    policy: PolicyRef | None = None


@dataclass(frozen=True)
class ApiCall:
    """A request as the mapping reads it: operation and flattened parameters."""

    service: str  # botocore's name: "s3", "bedrock-runtime", "stepfunctions"
    operation: str  # botocore's operation name: "HeadBucket"
    region: str
    params: Mapping[str, Any]  # URI labels, query string, form or JSON body (top level)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    account: str = settings.ACCOUNT_ID

    def param(self, *names: str) -> Any:
        for name in names:
            if name in self.params and self.params[name] not in (None, ""):
                return self.params[name]
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Lookup(Protocol):
    """Facts of the emulator's state a row needs."""

    def parameter_kms_key(self, region: str, name: str) -> str | None:
        """The KMS key id (or alias) of a SecureString parameter; None for any other parameter."""

    def kms_key_arn(self, region: str, key_id: str) -> str:
        """The ARN of a key given any of its ids (key id, ARN, alias name or alias ARN)."""

    def topic_kms_key(self, topic_arn: str) -> str | None:
        """The ``KmsMasterKeyId`` of an SNS topic, if it is encrypted."""

    def stack_arn(self, region: str, name_or_arn: str) -> str | None:
        """The ARN of a live stack (by name or ARN), or of a change set's stack; None if unknown."""


class NoLookup:
    """A ``Lookup`` for requests that need no state (and for tests): nothing is encrypted."""

    def parameter_kms_key(self, region: str, name: str) -> str | None:  # noqa: ARG002
        return None

    def kms_key_arn(self, region: str, key_id: str) -> str:
        if key_id.startswith("arn:"):
            return key_id
        name = key_id if key_id.startswith("alias/") else f"key/{key_id}"
        return f"arn:aws:kms:{region}:{settings.ACCOUNT_ID}:{name}"

    def topic_kms_key(self, topic_arn: str) -> str | None:  # noqa: ARG002
        return None

    def stack_arn(self, region: str, name_or_arn: str) -> str | None:  # noqa: ARG002
        return name_or_arn if name_or_arn.startswith("arn:") and ":stack/" in name_or_arn else None


Row = Callable[[ApiCall, Lookup], list[Authorization]]


# --- S3 --------------------------------------------------------------------------------------


def _bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_context(call: ApiCall, **extra: ContextValue) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {
        "s3:ResourceAccount": call.account,
        "s3:authType": "REST-HEADER",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:TlsVersion": "1.3",
    }
    context.update(extra)
    return context


def _bucket(call: ApiCall) -> str:
    return str(call.param("Bucket"))


def _key(call: ApiCall) -> str:
    return str(call.param("Key"))


def s3_bucket_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        bucket = _bucket(call)
        return [Authorization(action, _bucket_arn(bucket), _s3_context(call), PolicyRef("s3-bucket", bucket))]

    return row


def _list_context(call: ApiCall) -> dict[str, ContextValue]:
    extra: dict[str, ContextValue] = {}
    for param, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter"), ("MaxKeys", "s3:max-keys")):
        value = call.params.get(param)
        if value is not None:
            extra[key] = str(value)
    return _s3_context(call, **extra)


def s3_list(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        bucket = _bucket(call)
        return [
            Authorization(action, _bucket_arn(bucket), _list_context(call), PolicyRef("s3-bucket", bucket))
        ]

    return row


def s3_object_action(action: str, versioned: str | None = None) -> Row:
    """``action`` on the object; ``versioned`` instead when the request names a ``VersionId``."""

    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        bucket = _bucket(call)
        version = call.param("VersionId")
        chosen = versioned if versioned and version else action
        extra: dict[str, ContextValue] = {"s3:versionid": str(version)} if version else {}
        return [
            Authorization(
                chosen,
                _object_arn(bucket, _key(call)),
                _s3_context(call, **extra),
                PolicyRef("s3-bucket", bucket),
            )
        ]

    return row


def _put_context(call: ApiCall) -> dict[str, ContextValue]:
    extra: dict[str, ContextValue] = {}
    for header in (
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-acl",
    ):
        value = call.header(header)
        if value:
            extra[f"s3:{header}"] = value
    return _s3_context(call, **extra)


def s3_put_object(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    """PutObject (and CopyObject's write); tags in the request (``x-amz-tagging``) are also
    ``s3:PutObjectTagging``, as S3 authorizes them."""
    bucket = _bucket(call)
    arn, context, policy = _object_arn(bucket, _key(call)), _put_context(call), PolicyRef("s3-bucket", bucket)
    authorizations = [Authorization("s3:PutObject", arn, context, policy)]
    if call.param("Tagging") or call.header("x-amz-tagging"):
        authorizations.append(Authorization("s3:PutObjectTagging", arn, context, policy))
    return authorizations


def _copy_source(call: ApiCall) -> tuple[str, str, str | None]:
    raw = str(call.param("CopySource") or call.header("x-amz-copy-source") or "")
    path, _, query = unquote(raw).lstrip("/").partition("?versionId=")
    bucket, _, key = path.partition("/")
    return bucket, key, query or None


def s3_copy_object(call: ApiCall, lookup: Lookup) -> list[Authorization]:
    """CopyObject: read the source (a version when named), write the destination."""
    source_bucket, source_key, version = _copy_source(call)
    read = "s3:GetObjectVersion" if version else "s3:GetObject"
    extra: dict[str, ContextValue] = {"s3:versionid": version} if version else {}
    return [
        Authorization(
            read,
            _object_arn(source_bucket, source_key),
            _s3_context(call, **extra),
            PolicyRef("s3-bucket", source_bucket),
        ),
        *s3_put_object(call, lookup),
    ]


def s3_delete_objects(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    """DeleteObjects is authorized object by object (``s3:DeleteObject`` / ``s3:DeleteObjectVersion``)."""
    bucket = _bucket(call)
    authorizations = []
    root = ElementTree.fromstring(call.body or b"<Delete/>")  # noqa: S314  # the caller's own request
    for element in root.iter():
        if not element.tag.endswith("Object"):
            continue
        key = next((c.text or "" for c in element if c.tag.endswith("Key")), "")
        version = next((c.text or "" for c in element if c.tag.endswith("VersionId")), "")
        action = "s3:DeleteObjectVersion" if version else "s3:DeleteObject"
        authorizations.append(
            Authorization(action, _object_arn(bucket, key), _s3_context(call), PolicyRef("s3-bucket", bucket))
        )
    return authorizations


def s3_list_buckets(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    return [Authorization("s3:ListAllMyBuckets", "*", _s3_context(call))]


_S3_BUCKET_ACTIONS: Final = {
    "CreateBucket": "s3:CreateBucket",
    "DeleteBucket": "s3:DeleteBucket",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketTagging": "s3:GetBucketTagging",
    "PutBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketLogging": "s3:GetBucketLogging",
    "PutBucketLogging": "s3:PutBucketLogging",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
}

S3: Final[dict[str, Row]] = {
    "ListBuckets": s3_list_buckets,
    # AWS authorizes HeadBucket as s3:ListBucket, with no s3:prefix in the context.
    "HeadBucket": s3_bucket_action("s3:ListBucket"),
    "ListObjects": s3_list("s3:ListBucket"),
    "ListObjectsV2": s3_list("s3:ListBucket"),
    "ListObjectVersions": s3_list("s3:ListBucketVersions"),
    "GetObject": s3_object_action("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": s3_object_action("s3:GetObject", "s3:GetObjectVersion"),
    "GetObjectAttributes": s3_object_action("s3:GetObject", "s3:GetObjectVersion"),
    "PutObject": s3_put_object,
    "CopyObject": s3_copy_object,
    "DeleteObject": s3_object_action("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "DeleteObjects": s3_delete_objects,
    "GetObjectTagging": s3_object_action("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": s3_object_action("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": s3_object_action("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "GetObjectAcl": s3_object_action("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "CreateMultipartUpload": s3_put_object,
    "UploadPart": s3_put_object,
    "CompleteMultipartUpload": s3_put_object,
    "AbortMultipartUpload": s3_object_action("s3:AbortMultipartUpload"),
    "ListParts": s3_object_action("s3:ListMultipartUploadParts"),
    **{operation: s3_bucket_action(action) for operation, action in _S3_BUCKET_ACTIONS.items()},
}


# --- generic helpers -------------------------------------------------------------------------


def arn(
    call: ApiCall, service: str, resource: str, *, region: str | None = None, account: str | None = None
) -> str:
    region = call.region if region is None else region
    account = call.account if account is None else account
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def on_star(action: str) -> Row:
    """An action that takes no resource (``Resource: "*"`` in the Authorization Reference)."""

    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:  # noqa: ARG001
        return [Authorization(action, "*")]

    return row


def always_allowed(_call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    """No permission is needed (``sts:GetCallerIdentity``): nothing to evaluate."""
    return []


# --- STS -------------------------------------------------------------------------------------


def sts_assume_role(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    role = str(call.param("RoleArn"))
    context: dict[str, ContextValue] = {}
    if call.param("RoleSessionName"):
        context["sts:RoleSessionName"] = str(call.param("RoleSessionName"))
    if call.param("ExternalId"):
        context["sts:ExternalId"] = str(call.param("ExternalId"))
    return [Authorization("sts:AssumeRole", role, context, PolicyRef("iam-role-trust", role))]


STS: Final[dict[str, Row]] = {
    "AssumeRole": sts_assume_role,
    "GetCallerIdentity": always_allowed,
    "GetSessionToken": always_allowed,
}


# --- SSM -------------------------------------------------------------------------------------


# The fixed key policy of the AWS managed key aws/ssm: principals of the account may use it
# through SSM in the key's region (AWS documents this policy; it cannot be changed).
def aws_managed_key_policy(service: str, region: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}",
        "Statement": [
            {
                "Sid": "Allow access through the service for all principals in the account "
                "that are authorized to use it",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


def parameter_arn(call: ApiCall, name: str) -> str:
    if name.startswith("arn:"):
        return name.split(":", 1)[0] + ":" + name.split(":", 1)[1]
    return arn(call, "ssm", f"parameter/{name.split(':')[0].lstrip('/')}")


def _decrypt_via(
    call: ApiCall, lookup: Lookup, key_id: str, via: str, encryption_context: Mapping[str, str]
) -> Authorization:
    key_arn = lookup.kms_key_arn(call.region, key_id)
    context: dict[str, ContextValue] = {
        "kms:ViaService": f"{via}.{call.region}.amazonaws.com",
        "kms:CallerAccount": call.account,
        "aws:ViaAWSService": "true",
        **{f"kms:EncryptionContext:{k}": v for k, v in encryption_context.items()},
        "kms:EncryptionContextKeys": list(encryption_context),
    }
    return Authorization("kms:Decrypt", key_arn, context, PolicyRef("kms-key", key_arn))


def _parameters(call: ApiCall, lookup: Lookup, action: str, names: list[str]) -> list[Authorization]:
    authorizations = [Authorization(action, parameter_arn(call, name)) for name in names]
    decrypt = str(call.param("WithDecryption")).lower() == "true"
    for name in names if decrypt else []:
        key = lookup.parameter_kms_key(call.region, name)
        if key is not None:
            full = parameter_arn(call, name)
            authorizations.append(_decrypt_via(call, lookup, key, "ssm", {"PARAMETER_ARN": full}))
    return authorizations


def ssm_get_parameter(call: ApiCall, lookup: Lookup) -> list[Authorization]:
    return _parameters(call, lookup, "ssm:GetParameter", [str(call.param("Name"))])


def ssm_get_parameters(call: ApiCall, lookup: Lookup) -> list[Authorization]:
    return _parameters(call, lookup, "ssm:GetParameters", [str(n) for n in call.param("Names") or []])


def ssm_parameter_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        return [Authorization(action, parameter_arn(call, str(call.param("Name", "Path"))))]

    return row


def ssm_tags(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        return [Authorization(action, parameter_arn(call, str(call.param("ResourceId"))))]

    return row


SSM: Final[dict[str, Row]] = {
    "GetParameter": ssm_get_parameter,
    "GetParameters": ssm_get_parameters,
    "GetParametersByPath": ssm_parameter_action("ssm:GetParametersByPath"),
    "PutParameter": ssm_parameter_action("ssm:PutParameter"),
    "DeleteParameter": ssm_parameter_action("ssm:DeleteParameter"),
    "GetParameterHistory": ssm_parameter_action("ssm:GetParameterHistory"),
    "DescribeParameters": on_star("ssm:DescribeParameters"),
    "AddTagsToResource": ssm_tags("ssm:AddTagsToResource"),
    "RemoveTagsFromResource": ssm_tags("ssm:RemoveTagsFromResource"),
    "ListTagsForResource": ssm_tags("ssm:ListTagsForResource"),
}


# --- KMS -------------------------------------------------------------------------------------


def kms_key_action(action: str) -> Row:
    def row(call: ApiCall, lookup: Lookup) -> list[Authorization]:
        key_arn = lookup.kms_key_arn(call.region, str(call.param("KeyId")))
        context: dict[str, ContextValue] = {"kms:CallerAccount": call.account}
        for k, v in (call.param("EncryptionContext") or {}).items():
            context[f"kms:EncryptionContext:{k}"] = str(v)
        return [Authorization(action, key_arn, context, PolicyRef("kms-key", key_arn))]

    return row


KMS: Final[dict[str, Row]] = {
    **{
        op: kms_key_action(f"kms:{op}")
        for op in (
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "DescribeKey",
            "GetKeyPolicy",
            "PutKeyPolicy",
            "EnableKeyRotation",
            "GetKeyRotationStatus",
            "ScheduleKeyDeletion",
            "TagResource",
            "UntagResource",
            "ListResourceTags",
        )
    },  # fmt: skip
    "CreateKey": on_star("kms:CreateKey"),
    "ListKeys": on_star("kms:ListKeys"),
    "ListAliases": on_star("kms:ListAliases"),
}


# --- Lambda ----------------------------------------------------------------------------------


def function_arn(call: ApiCall, name: str, qualifier: str | None = None) -> str:
    if name.startswith("arn:"):
        base = name
    elif ":" in name:  # "name:qualifier" or "account:function:name"
        base = arn(call, "lambda", f"function:{name}")
    else:
        base = arn(call, "lambda", f"function:{name}")
    return f"{base}:{qualifier}" if qualifier and base.count(":") == 6 else base


def _unqualified(function: str) -> str:
    return ":".join(function.split(":")[:7])


def lambda_function_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        function = function_arn(call, str(call.param("FunctionName")), call.param("Qualifier"))
        return [Authorization(action, function, {}, PolicyRef("lambda-function", _unqualified(function)))]

    return row


def lambda_layer_action(action: str, *, with_version: bool) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        name = str(call.param("LayerName"))
        layer = name if name.startswith("arn:") else arn(call, "lambda", f"layer:{name}")
        if with_version and call.param("VersionNumber") is not None:
            layer = f"{layer}:{call.param('VersionNumber')}"
        return [Authorization(action, layer)]

    return row


def lambda_layer_by_arn(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    return [Authorization("lambda:GetLayerVersion", str(call.param("Arn")))]


_LAMBDA_FUNCTION_OPERATIONS: Final = {
    "Invoke": "lambda:InvokeFunction",
    "InvokeAsync": "lambda:InvokeAsync",
    "GetFunction": "lambda:GetFunction",
    "GetFunctionConfiguration": "lambda:GetFunctionConfiguration",
    "UpdateFunctionCode": "lambda:UpdateFunctionCode",
    "UpdateFunctionConfiguration": "lambda:UpdateFunctionConfiguration",
    "DeleteFunction": "lambda:DeleteFunction",
    "CreateFunction": "lambda:CreateFunction",
    "AddPermission": "lambda:AddPermission",
    "RemovePermission": "lambda:RemovePermission",
    "GetPolicy": "lambda:GetPolicy",
    "PublishVersion": "lambda:PublishVersion",
    "ListVersionsByFunction": "lambda:ListVersionsByFunction",
    "PutFunctionConcurrency": "lambda:PutFunctionConcurrency",
    "GetFunctionConcurrency": "lambda:GetFunctionConcurrency",
}

LAMBDA: Final[dict[str, Row]] = {
    **{op: lambda_function_action(action) for op, action in _LAMBDA_FUNCTION_OPERATIONS.items()},
    "ListFunctions": on_star("lambda:ListFunctions"),
    "ListLayers": on_star("lambda:ListLayers"),
    "GetLayerVersion": lambda_layer_action("lambda:GetLayerVersion", with_version=True),
    "GetLayerVersionByArn": lambda_layer_by_arn,
    "PublishLayerVersion": lambda_layer_action("lambda:PublishLayerVersion", with_version=False),
    "DeleteLayerVersion": lambda_layer_action("lambda:DeleteLayerVersion", with_version=True),
    "ListLayerVersions": on_star("lambda:ListLayerVersions"),
}


# --- Bedrock ---------------------------------------------------------------------------------

_PROFILE_PREFIXES: Final = ("eu.", "us.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def bedrock_invoke(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    """InvokeModel/Converse: on a cross-region inference profile, the profile and the foundation model
    in the region the profile routes to (locally: the request's own region, one of every system
    profile's destinations), with ``bedrock:InferenceProfileArn`` in the model's context."""
    model_id = unquote(str(call.param("modelId")))
    if model_id.startswith("arn:"):
        if ":inference-profile/" in model_id:
            profile_arn = model_id
            model_id = model_id.split(":inference-profile/", 1)[1]
        else:
            return [Authorization("bedrock:InvokeModel", model_id)]
    elif model_id.startswith(_PROFILE_PREFIXES):
        profile_arn = arn(call, "bedrock", f"inference-profile/{model_id}")
    else:
        return [
            Authorization(
                "bedrock:InvokeModel", arn(call, "bedrock", f"foundation-model/{model_id}", account="")
            )
        ]
    foundation = model_id.split(".", 1)[1]
    return [
        Authorization("bedrock:InvokeModel", profile_arn),
        Authorization(
            "bedrock:InvokeModel",
            arn(call, "bedrock", f"foundation-model/{foundation}", account=""),
            {"bedrock:InferenceProfileArn": profile_arn},
        ),
    ]


def bedrock_stream(call: ApiCall, lookup: Lookup) -> list[Authorization]:
    return [
        Authorization("bedrock:InvokeModelWithResponseStream", a.resource, a.context)
        for a in bedrock_invoke(call, lookup)
    ]


BEDROCK_RUNTIME: Final[dict[str, Row]] = {
    "Converse": bedrock_invoke,
    "InvokeModel": bedrock_invoke,
    "ConverseStream": bedrock_stream,
    "InvokeModelWithResponseStream": bedrock_stream,
}


# --- CloudFormation --------------------------------------------------------------------------


# The id part of a stack ARN for a stack that does not exist (yet): policies name stacks as
# ``stack/<name>/*``, which it matches as the real id would.
NEW_STACK_ID: Final = "00000000-0000-0000-0000-000000000000"


def stack_arn(call: ApiCall, lookup: Lookup, name: str | None) -> str:
    """The stack's ARN, as AWS authorizes stack actions; "*" when the request names no stack."""
    if not name:
        return "*"
    known = lookup.stack_arn(call.region, name)
    if known:
        return known
    if name.startswith("arn:"):
        return name
    return arn(call, "cloudformation", f"stack/{name}/{NEW_STACK_ID}")


def cfn_stack_action(action: str) -> Row:
    def row(call: ApiCall, lookup: Lookup) -> list[Authorization]:
        name = call.param("StackName")
        return [Authorization(action, stack_arn(call, lookup, str(name) if name else None))]

    return row


def cfn_change_set_action(action: str) -> Row:
    """Change-set actions are authorized on the stack (ARN or name; with a change-set ARN, its stack)."""

    def row(call: ApiCall, lookup: Lookup) -> list[Authorization]:
        name = call.param("StackName")
        change_set = str(call.param("ChangeSetName") or "")
        context: dict[str, ContextValue] = {}
        if change_set and not change_set.startswith("arn:"):
            context["cloudformation:ChangeSetName"] = change_set
        target = str(name) if name else (change_set or None)
        return [Authorization(action, stack_arn(call, lookup, target), context)]

    return row


_CFN_STACK_OPERATIONS: Final = (
    "DescribeStacks", "DescribeStackEvents", "DescribeStackResource", "DescribeStackResources",
    "GetTemplate", "GetTemplateSummary", "ListStackResources", "CreateStack", "UpdateStack", "DeleteStack",
    "UpdateTerminationProtection", "ContinueUpdateRollback", "RollbackStack", "CancelUpdateStack",
    "DetectStackDrift", "SignalResource", "TagResource", "UntagResource",
)  # fmt: skip

CLOUDFORMATION: Final[dict[str, Row]] = {
    **{op: cfn_stack_action(f"cloudformation:{op}") for op in _CFN_STACK_OPERATIONS},
    **{
        op: cfn_change_set_action(f"cloudformation:{op}")
        for op in (
            "CreateChangeSet",
            "DescribeChangeSet",
            "ExecuteChangeSet",
            "DeleteChangeSet",
            "ListChangeSets",
            "DescribeEvents",  # a change set's validation events (cfn_name_conflicts)
        )
    },
    "ListStacks": on_star("cloudformation:ListStacks"),
    "ListExports": on_star("cloudformation:ListExports"),
    "ValidateTemplate": on_star("cloudformation:ValidateTemplate"),
    "DescribeStackSet": on_star("cloudformation:DescribeStackSet"),
}


# --- SNS, Step Functions, CloudWatch, Logs -----------------------------------------------------


def sns_topic_action(action: str) -> Row:
    def row(call: ApiCall, lookup: Lookup) -> list[Authorization]:
        topic = str(call.param("TopicArn", "TargetArn", "ResourceArn"))
        authorizations = [Authorization(action, topic, {}, PolicyRef("sns-topic", topic))]
        key = lookup.topic_kms_key(topic) if action == "sns:Publish" else None
        if key is not None:
            # SNS encrypts the message with the topic's key on the caller's behalf: the caller needs
            # kms:GenerateDataKey* and kms:Decrypt on it (the key policy of aws/sns is fixed).
            key_arn = lookup.kms_key_arn(call.region, key)
            context: dict[str, ContextValue] = {
                "kms:ViaService": f"sns.{call.region}.amazonaws.com",
                "kms:CallerAccount": call.account,
                "aws:ViaAWSService": "true",
            }
            for kms_action in ("kms:GenerateDataKey", "kms:Decrypt"):
                authorizations.append(
                    Authorization(kms_action, key_arn, context, PolicyRef("kms-key", key_arn))
                )
        return authorizations

    return row


SNS: Final[dict[str, Row]] = {
    "Publish": sns_topic_action("sns:Publish"),
    "GetTopicAttributes": sns_topic_action("sns:GetTopicAttributes"),
    "SetTopicAttributes": sns_topic_action("sns:SetTopicAttributes"),
    "Subscribe": sns_topic_action("sns:Subscribe"),
    "ListSubscriptionsByTopic": sns_topic_action("sns:ListSubscriptionsByTopic"),
    "DeleteTopic": sns_topic_action("sns:DeleteTopic"),
    "CreateTopic": lambda call, _l: [
        Authorization("sns:CreateTopic", arn(call, "sns", str(call.param("Name"))))
    ],
    "ListTopics": on_star("sns:ListTopics"),
}


def sfn_state_machine_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        return [Authorization(action, str(call.param("stateMachineArn")))]

    return row


def sfn_execution_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        return [Authorization(action, str(call.param("executionArn")))]

    return row


STEPFUNCTIONS: Final[dict[str, Row]] = {
    "StartExecution": sfn_state_machine_action("states:StartExecution"),
    "StartSyncExecution": sfn_state_machine_action("states:StartSyncExecution"),
    "DescribeStateMachine": sfn_state_machine_action("states:DescribeStateMachine"),
    "ListExecutions": sfn_state_machine_action("states:ListExecutions"),
    "UpdateStateMachine": sfn_state_machine_action("states:UpdateStateMachine"),
    "DeleteStateMachine": sfn_state_machine_action("states:DeleteStateMachine"),
    "DescribeExecution": sfn_execution_action("states:DescribeExecution"),
    "GetExecutionHistory": sfn_execution_action("states:GetExecutionHistory"),
    "StopExecution": sfn_execution_action("states:StopExecution"),
    "ListStateMachines": on_star("states:ListStateMachines"),
    "CreateStateMachine": on_star("states:CreateStateMachine"),
}


def cloudwatch_put_metric_data(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
    namespace = call.param("Namespace")
    context: dict[str, ContextValue] = {"cloudwatch:namespace": str(namespace)} if namespace else {}
    return [Authorization("cloudwatch:PutMetricData", "*", context)]


def cloudwatch_alarm_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        names = call.param("AlarmNames") or ([call.param("AlarmName")] if call.param("AlarmName") else [])
        if not names:
            return [Authorization(action, "*")]
        return [Authorization(action, arn(call, "cloudwatch", f"alarm:{name}")) for name in names]

    return row


CLOUDWATCH: Final[dict[str, Row]] = {
    "PutMetricData": cloudwatch_put_metric_data,
    "GetMetricData": on_star("cloudwatch:GetMetricData"),
    "GetMetricStatistics": on_star("cloudwatch:GetMetricStatistics"),
    "ListMetrics": on_star("cloudwatch:ListMetrics"),
    "DescribeAlarms": on_star("cloudwatch:DescribeAlarms"),
    "DescribeAlarmHistory": cloudwatch_alarm_action("cloudwatch:DescribeAlarmHistory"),
    "SetAlarmState": cloudwatch_alarm_action("cloudwatch:SetAlarmState"),
    "PutMetricAlarm": cloudwatch_alarm_action("cloudwatch:PutMetricAlarm"),
    "DeleteAlarms": cloudwatch_alarm_action("cloudwatch:DeleteAlarms"),
}


def log_group_arn(call: ApiCall, group: str, stream: str | None = None) -> str:
    suffix = f":log-stream:{stream}" if stream else ":*"
    return arn(call, "logs", f"log-group:{group}{suffix}")


def logs_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        group = call.param("logGroupName")
        if not group:
            return [Authorization(action, "*")]
        return [Authorization(action, log_group_arn(call, str(group), call.param("logStreamName")))]

    return row


LOGS: Final[dict[str, Row]] = {
    op: logs_action(f"logs:{op}")
    for op in (
        "CreateLogGroup", "CreateLogStream", "PutLogEvents", "GetLogEvents", "FilterLogEvents",
        "DescribeLogGroups", "DescribeLogStreams", "PutRetentionPolicy", "DeleteLogGroup", "StartQuery",
    )
}  # fmt: skip


# --- IAM (what the CDK deploy role and operators may call) -------------------------------------


def iam_role_action(action: str) -> Row:
    def row(call: ApiCall, _lookup: Lookup) -> list[Authorization]:
        return [Authorization(action, f"arn:aws:iam::{call.account}:role/{call.param('RoleName')}")]

    return row


IAM: Final[dict[str, Row]] = {
    **{
        op: iam_role_action(f"iam:{op}")
        for op in (
            "GetRole",
            "CreateRole",
            "DeleteRole",
            "UpdateRole",
            "UpdateAssumeRolePolicy",
            "PassRole",
            "GetRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "ListRolePolicies",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "ListAttachedRolePolicies",
            "TagRole",
            "UntagRole",
        )
    },  # fmt: skip
    "ListRoles": on_star("iam:ListRoles"),
}


CLOUDTRAIL: Final[dict[str, Row]] = {
    # The CDK CLI's lookup role reads the events of a failed deployment.
    "LookupEvents": on_star("cloudtrail:LookupEvents"),
}


MAPPINGS: Final[dict[str, dict[str, Row]]] = {
    "s3": S3,
    "sts": STS,
    "ssm": SSM,
    "kms": KMS,
    "lambda": LAMBDA,
    "bedrock-runtime": BEDROCK_RUNTIME,
    "cloudformation": CLOUDFORMATION,
    "sns": SNS,
    "stepfunctions": STEPFUNCTIONS,
    "cloudwatch": CLOUDWATCH,
    "logs": LOGS,
    "iam": IAM,
    "cloudtrail": CLOUDTRAIL,
}

# The IAM service prefix of each botocore service name (the prefix of its actions).
IAM_PREFIX: Final = {"bedrock-runtime": "bedrock", "stepfunctions": "states", "cloudwatch": "cloudwatch"}


def authorizations(call: ApiCall, lookup: Lookup | None = None) -> list[Authorization]:
    """The authorizations AWS evaluates for ``call``; ``NoMappingError`` if the table lacks it."""
    row = MAPPINGS.get(call.service, {}).get(call.operation)
    if row is None:
        raise NoMappingError(f"no IAM mapping for {call.service}:{call.operation}")
    return row(call, lookup or NoLookup())


def coverage() -> list[str]:
    """Every mapped operation, ``service:Operation -> action(s)``-free: one name a line, sorted."""
    return [
        f"{service}:{operation}" for service, rows in sorted(MAPPINGS.items()) for operation in sorted(rows)
    ]


def parse_json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


_INDEXED: Final = re.compile(r"^(?P<name>[A-Za-z]+)\.member\.\d+$")


def flatten_query(values: Mapping[str, str]) -> dict[str, Any]:
    """Query-protocol parameters; ``Names.member.1`` lists become ``Names: [...]``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        match = _INDEXED.match(key)
        if match:
            flat.setdefault(match.group("name"), []).append(value)
        else:
            flat[key] = value
    return flat
