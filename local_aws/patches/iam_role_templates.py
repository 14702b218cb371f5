"""Patch: a role created or updated by a stack has the policies its template gives it.

Symptom: once the emulator evaluates IAM, the CDK CLI's deploy role may not even
``cloudformation:DescribeStacks`` (it holds it through the AWS managed policy
``AWSCloudFormationReadOnlyAccess``); a stack update that changes a role's inline policy or trust
policy leaves the old one in force.
Cause: moto's ``Role.create_from_cloudformation_json`` ignores ``ManagedPolicyArns`` and
``PermissionsBoundary`` is kept as given; ``update_from_cloudformation_json`` only updates the
description, never ``Policies``, ``AssumeRolePolicyDocument`` or ``ManagedPolicyArns``; and moto
only knows AWS managed policies when ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is set.
Fix: the server loads AWS managed policies; after moto creates or updates a template role, its
inline policies, trust policy, attached managed policies and permissions boundary are set to
exactly what the template says (policies the template drops are removed); a deleted template role
has its managed policies detached first, as CloudFormation does.
"""

from __future__ import annotations

import json
import os
from typing import Any

from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition

from local_aws import settings

_create = Role.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_update = Role.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_delete = Role.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _sync(role: Role, properties: dict[str, Any], account_id: str, region_name: str) -> Role:
    backend = iam_backends[account_id][get_partition(region_name)]
    role.assume_role_policy_document = _document(properties["AssumeRolePolicyDocument"])
    wanted = {p["PolicyName"]: _document(p["PolicyDocument"]) for p in properties.get("Policies") or []}
    for name in set(role.policies) - set(wanted):
        role.delete_policy(name)
    for name, document in wanted.items():
        role.put_policy(name, document)
    arns = list(properties.get("ManagedPolicyArns") or [])
    for attached in set(role.managed_policies) - set(arns):
        backend.detach_role_policy(attached, role.name)
    for arn in arns:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)  # an unknown ARN fails the resource, as on AWS
    role.permissions_boundary_arn = properties.get("PermissionsBoundary") or None
    return role


def _create_role(
    cls: type[Role],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Role:
    role = _create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    return _sync(role, cloudformation_json["Properties"], account_id, region_name)


def _update_role(
    cls: type[Role],
    original_resource: Role,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Role:
    _update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    name = cloudformation_json["Properties"].get("RoleName", original_resource.name)
    role = iam_backends[account_id][get_partition(region_name)].get_role(name)
    return _sync(role, cloudformation_json["Properties"], account_id, region_name)


def _delete_role(
    cls: type[Role],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    # CloudFormation detaches a role's managed policies before deleting it; moto's DeleteRole
    # refuses a role that still has some (DeleteConflict), and only _sync attaches them.
    backend = iam_backends[account_id][get_partition(region_name)]
    role = next((r for r in backend.roles.values() if r.name == resource_name), None)
    for attached in list(role.managed_policies) if role else []:
        backend.detach_role_policy(attached, resource_name)
    _delete(cls, resource_name, cloudformation_json, account_id, region_name)


def apply() -> None:
    # Read by the IAM backend when it is first built (after the patches are applied).
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    Role.create_from_cloudformation_json = classmethod(_create_role)  # type: ignore[assignment,method-assign]
    Role.update_from_cloudformation_json = classmethod(_update_role)  # type: ignore[assignment,method-assign]
    Role.delete_from_cloudformation_json = classmethod(_delete_role)  # type: ignore[assignment,method-assign]
    # Parsing the ~1600 AWS managed policies takes about half a second: at start, not in whichever
    # request first needs the account's IAM backend (moto looks the caller's key up in it).
    iam_backends[settings.ACCOUNT_ID][get_partition(settings.DEFAULT_REGION)]  # noqa: B018
