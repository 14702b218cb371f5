"""Who calls, and which policies take part: read from moto's STS, IAM and resource backends.

A request's SigV4 access key is an STS session of a role when the emulator's STS issued it
(``AssumeRole``: moto keeps every session it issued), else the account's administrator (the tests'
dummy ``test`` keys, an operator's profile): allowed by identity, as an admin user is on AWS, but
still subject to explicit denies of resource policies. Policies are read from moto's backends on
each request (dictionary look-ups; parsed documents are cached by their text), so a change through
the IAM API, CloudFormation or a bucket policy write counts from the next request on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from local_aws import settings
from local_aws.iam import mapping

PARTITION: Final = "aws"
ADMIN_POLICY: Final = {
    "name": "AdministratorAccess",
    "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
}
# The AWS managed keys whose key policy AWS fixes (moto gives them an account-root policy).
AWS_MANAGED_KEY_SERVICES: Final = {"alias/aws/ssm": "ssm", "alias/aws/sns": "sns", "alias/aws/s3": "s3"}


@dataclass(frozen=True)
class Principal:
    arn: str
    account: str
    role_name: str | None = None  # set for an assumed-role session

    @property
    def is_admin(self) -> bool:
        return self.role_name is None


def admin(account: str = settings.ACCOUNT_ID) -> Principal:
    # moto's own GetCallerIdentity answer for keys it did not issue is "user/moto" in the account.
    return Principal(f"arn:aws:iam::{account}:user/moto", account)


def for_access_key(access_key: str, account: str = settings.ACCOUNT_ID) -> Principal:
    if access_key.startswith("ASIA"):  # moto's STS keys; plain keys never are
        from moto.sts.models import sts_backends

        session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
        if session is not None:
            role_name = session.role_arn.split("/")[-1]
            return Principal(session.arn, session.account_id, role_name)
    return admin(account)


@lru_cache(maxsize=4096)
def parse(document: str) -> Any:
    return _without_nulls(json.loads(document))


def _without_nulls(value: Any) -> Any:
    """A policy as AWS stores it: moto's CloudFormation writes ``AWS::NoValue`` (the bootstrap
    template's optional trusted accounts, under ``Fn::If``) as ``null`` where AWS drops the element."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _document(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return parse(value)
    return _without_nulls(value)


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account][PARTITION]


def _default_version(policy: Any) -> Any:
    for version in policy.versions:
        if version.is_default:
            return _document(version.document)
    return _document(policy.versions[0].document)


def role_policies(account: str, role_name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(identity policies, permission boundaries) of a role: inline, then attached managed."""
    role = _iam(account).get_role(role_name)
    identity = [{"name": name, "policy": _document(doc)} for name, doc in sorted(role.policies.items())]
    for policy_arn, policy in sorted(role.managed_policies.items()):
        identity.append({"name": policy_arn, "policy": _default_version(policy)})
    boundaries = []
    if role.permissions_boundary_arn:
        boundary = _iam(account).get_policy(role.permissions_boundary_arn)
        boundaries.append({"name": role.permissions_boundary_arn, "policy": _default_version(boundary)})
    return identity, boundaries


def trust_policy(role_arn: str) -> Any | None:
    account = role_arn.split(":")[4]
    try:
        role = _iam(account).get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001  # moto raises its IAMNotFoundException: no such role
        return None
    return _document(role.assume_role_policy_document)


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def resource_policy(ref: mapping.PolicyRef, account: str) -> Any | None:
    """The resource-based policy ``ref`` names, or None (no such resource, or no policy)."""
    if ref.kind == "iam-role-trust":
        return trust_policy(ref.ref)
    if ref.kind == "s3-bucket":
        from moto.s3.models import s3_backends

        bucket = s3_backends[account][PARTITION].buckets.get(ref.ref)
        return _document(bucket.policy) if bucket is not None and bucket.policy else None
    if ref.kind == "sns-topic":
        from moto.sns.models import sns_backends

        topic = sns_backends[account][_region_of(ref.ref)].topics.get(ref.ref)
        return _document(topic.policy) if topic is not None else None
    if ref.kind == "kms-key":
        return key_policy(ref.ref)
    if ref.kind == "lambda-function":
        from moto.awslambda.models import lambda_backends

        try:
            fn = lambda_backends[account][_region_of(ref.ref)].get_function(ref.ref)
        except Exception:  # noqa: BLE001  # no such function: moto answers its own 404
            return None
        if not fn.policy.statements:
            return None  # moto's get_policy raises a 404 for a function with no policy
        return fn.policy.get_policy()
    raise ValueError(f"unknown resource policy kind {ref.kind}")


def key_policy(key_arn: str) -> Any | None:
    from moto.kms.models import kms_backends

    account, region = key_arn.split(":")[4], _region_of(key_arn)
    backend = kms_backends[account][region]
    try:
        key = backend.keys[backend.any_id_to_key_id(key_arn)]
    except (KeyError, TypeError):
        return None
    for alias, service in AWS_MANAGED_KEY_SERVICES.items():
        if alias in key.aliases:
            return mapping.aws_managed_key_policy(service, region, account)
    return _document(key.policy)


class MotoLookup:
    """``mapping.Lookup`` over moto's backends."""

    def __init__(self, account: str) -> None:
        self.account = account

    def parameter_kms_key(self, region: str, name: str) -> str | None:
        from moto.ssm.models import ssm_backends

        parameter = ssm_backends[self.account][region].get_parameter(name)
        if parameter is None or parameter.parameter_type != "SecureString":
            return None
        return str(parameter.keyid or "alias/aws/ssm")

    def kms_key_arn(self, region: str, key_id: str) -> str:
        from moto.kms.models import kms_backends

        backend = kms_backends[self.account][region]
        try:
            return str(backend.keys[backend.any_id_to_key_id(key_id)].arn)
        except (KeyError, TypeError):
            return mapping.NoLookup().kms_key_arn(region, key_id)

    def topic_kms_key(self, topic_arn: str) -> str | None:
        from moto.sns.models import sns_backends

        topic = sns_backends[self.account][_region_of(topic_arn)].topics.get(topic_arn)
        return str(topic.kms_master_key_id) if topic is not None and topic.kms_master_key_id else None

    def stack_arn(self, region: str, name_or_arn: str) -> str | None:
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[self.account][region]
        if ":changeSet/" in name_or_arn:
            change_set = backend.change_sets.get(name_or_arn)
            return str(change_set.stack_id) if change_set is not None else None
        if name_or_arn in backend.stacks:
            return name_or_arn
        for stack in backend.stacks.values():
            if stack.name == name_or_arn and not str(stack.status).startswith("DELETE_COMPLETE"):
                return str(stack.stack_id)
        return None
