"""Patch: CloudFormation refuses to create a named resource whose name already exists.

Symptom: a stack (or a change set) creating ``AWS::Lambda::Function`` ``FunctionName: x`` when a
function ``x`` already exists - made by hand, or by another stack - succeeds locally: moto's
``LambdaFunction.create_from_cloudformation_json`` calls ``put_function``, which overwrites the
existing function, and the new stack now claims a function another stack (or nobody) owns. On
AWS the resource fails (``x already exists``, or ``x already exists in stack <arn>``) and the
stack rolls back; since CloudFormation's pre-deployment validation, the change set itself is
refused before anything runs: status ``FAILED``, reason ``The following hook(s)/validation
failed: [AWS::EarlyValidation::ResourceExistenceCheck]. ...``, and ``DescribeEvents`` on the
change set names each resource (``Resource of type '<type>' with identifier '<name>' already
exists.``, validation ``NAME_CONFLICT_VALIDATION``, path ``/Resources/<LogicalId>``), which the
CDK CLI prints. A local deploy that "works" over an existing account would hide exactly what
refuses a first deploy onto the team's existing environment (issue 27).
Cause: moto checks no name before creating; ``CreateChangeSet`` validates nothing;
``DescribeEvents`` is not implemented. Also, a second CREATE change set for a stack left in
``REVIEW_IN_PROGRESS`` (a refused one) made a second stack of the same name.
Fix: for the four types the takeover meets (function, bucket, role, log group) with an explicit
name property: (a) creating the resource fails with AWS's message when the name exists, so the
engine (cfn_engine) fails the stack and rolls back; (b) a CREATE or UPDATE change set that would
create such a resource ends ``FAILED`` with AWS's early-validation reason, and ``DescribeEvents``
answers its validation events; a CREATE change set for a stack still in ``REVIEW_IN_PROGRESS``
replaces that stack instead of adding a second one. Names are resolved at change-set time from
literals, parameters (given or default), pseudo parameters, ``Fn::Sub`` and ``Fn::Join``; a name
built otherwise is checked only when the resource is created (a).
Builds on cfn_engine (it reports the resource failure) and cfn_change_set_api (lookups).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import moto.cloudformation.parsing as cfn_parsing
from moto.awslambda.models import lambda_backends
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from local_aws.patches.cfn_change_set_api import ChangeSetNotFoundError, find_change_set

# The types whose names the takeover meets, and the property that names each.
NAME_PROPERTIES: Final[dict[str, str]] = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}
EARLY_VALIDATION_REASON: Final = (
    "The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck]. "
    "To troubleshoot Early Validation errors, use the DescribeEvents API for detailed failure information."
)
# change set id -> its failed validation events (DescribeEvents' OperationEvents).
_validation_events: dict[str, list[dict[str, Any]]] = {}


class ResourceAlreadyExists(Exception):
    """A named resource the template creates exists already (the engine fails the resource)."""


# --- what exists ------------------------------------------------------------------------------


def physical_resource_exists(resource_type: str, name: str, account_id: str, region: str) -> bool:
    """Whether the account (S3: any account, bucket names are global) holds this resource."""
    partition = get_partition(region)
    try:
        if resource_type == "AWS::Lambda::Function":
            lambda_backends[account_id][region].get_function(name)
            return True
        if resource_type == "AWS::S3::Bucket":
            return name in s3_backends.bucket_accounts or name in s3_backends[account_id][partition].buckets
        if resource_type == "AWS::IAM::Role":
            return any(role.name == name for role in iam_backends[account_id][partition].roles.values())
        if resource_type == "AWS::Logs::LogGroup":
            return name in logs_backends[account_id][region].groups
    except Exception:  # noqa: BLE001  # moto's "not found" errors differ per service
        return False
    return False


def owning_stack(resource_type: str, name: str, account_id: str, region: str) -> Stack | None:
    """The live stack whose resource of this type has this physical name, if any."""
    for stack in cloudformation_backends[account_id][region].stacks.values():
        rmap = getattr(stack, "resource_map", None)
        if rmap is None or stack.status == "DELETE_COMPLETE":
            continue
        for logical_id, instance in list(rmap._parsed_resources.items()):
            declared = (rmap._resource_json_map.get(logical_id) or {}).get("Type")
            if declared == resource_type and getattr(instance, "physical_resource_id", None) == name:
                return stack
    return None


def conflict_reason(resource_type: str, name: str, account_id: str, region: str) -> str | None:
    """AWS's failure reason for creating this named resource, or None when the name is free."""
    owner = owning_stack(resource_type, name, account_id, region)
    if owner is not None:
        return f"{name} already exists in stack {owner.stack_id}"
    if physical_resource_exists(resource_type, name, account_id, region):
        return f"{name} already exists"
    return None


# --- (a) the resource fails ---------------------------------------------------------------------

_original_parse_and_create: Callable[..., Any] = cfn_parsing.parse_and_create_resource


def _parse_and_create_resource(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    prop = NAME_PROPERTIES.get(resource_json.get("Type", ""))
    condition = resource_json.get("Condition")
    raw = (resource_json.get("Properties") or {}).get(prop) if prop else None
    if raw is not None and not (condition and not resources_map.lazy_condition_map[condition]):
        name = cfn_parsing.clean_json(copy.deepcopy(raw), resources_map)
        if isinstance(name, str):
            reason = conflict_reason(resource_json["Type"], name, account_id, region_name)
            if reason:
                raise ResourceAlreadyExists(reason)
    return _original_parse_and_create(logical_id, resource_json, resources_map, account_id, region_name)


# --- (b) the change set is refused ----------------------------------------------------------------

_PSEUDO: Final = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}


def resolve_name(node: Any, values: dict[str, Any]) -> str | None:
    """A template string value from literals, Ref, Fn::Sub and Fn::Join; None if built otherwise."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        return None
    (key, arg) = next(iter(node.items()))
    if key == "Ref":
        value = values.get(arg)
        return value if isinstance(value, str) else None
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        parts = [resolve_name(part, values) for part in arg[1]]
        return None if any(p is None for p in parts) else str(arg[0]).join(p or "" for p in parts)
    if key == "Fn::Sub":
        text, extra = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
        local = {**values, **{k: resolve_name(v, values) for k, v in (extra or {}).items()}}
        out, start = "", 0
        while (begin := text.find("${", start)) != -1:
            end = text.find("}", begin)
            inner = text[begin + 2 : end]
            if inner.startswith("!"):
                out += text[start:begin] + "${" + inner[1:] + "}"
            else:
                value = local.get(inner)
                if not isinstance(value, str):
                    return None
                out += text[start:begin] + value
            start = end + 1
        return out + text[start:]
    return None


def _template_values(backend: CloudFormationBackend, change_set: ChangeSet) -> dict[str, Any]:
    declared = (change_set.template_dict or {}).get("Parameters") or {}
    values: dict[str, Any] = {
        key: slot["Default"]
        for key, slot in declared.items()
        if "Default" in slot and not str(slot.get("Type", "")).startswith("AWS::SSM::")
    }
    for key, value in (change_set.parameters or {}).items():
        if not str(declared.get(key, {}).get("Type", "")).startswith("AWS::SSM::"):
            values[key] = value
    values.update(
        {
            **_PSEUDO,
            "AWS::AccountId": backend.account_id,
            "AWS::Region": backend.region_name,
            "AWS::StackName": change_set.stack_name,
            "AWS::StackId": change_set.stack_id,
        }
    )
    return values


@dataclass(frozen=True)
class NameConflict:
    logical_id: str
    resource_type: str
    name: str


def change_set_conflicts(backend: CloudFormationBackend, change_set: ChangeSet) -> list[NameConflict]:
    """The named resources this change set would create although their names exist."""
    stack = change_set.stack
    existing: dict[str, Any] = {}
    if change_set.change_set_type == "UPDATE":
        rmap = stack.resource_map
        existing = {lid: rmap._resource_json_map.get(lid) for lid in rmap._parsed_resources}
    values = _template_values(backend, change_set)
    conflicts = []
    for logical_id, resource_json in ((change_set.template_dict or {}).get("Resources") or {}).items():
        resource_type = resource_json.get("Type", "")
        prop = NAME_PROPERTIES.get(resource_type)
        if prop is None or "Condition" in resource_json:
            continue
        if (existing.get(logical_id) or {}).get("Type") == resource_type:
            continue  # kept (updated in place), not created
        name = resolve_name((resource_json.get("Properties") or {}).get(prop), values)
        if name and conflict_reason(resource_type, name, backend.account_id, backend.region_name):
            conflicts.append(NameConflict(logical_id, resource_type, name))
    return conflicts


def _validation_event(change_set: ChangeSet, conflict: NameConflict) -> dict[str, Any]:
    now = utcnow()
    return {
        "EventId": str(uuid.uuid4()),
        "StackId": change_set.stack_id,
        "OperationId": change_set.change_set_id,
        "OperationType": "CREATE_CHANGESET",
        "OperationStatus": "FAILED",
        "EventType": "VALIDATION_ERROR",
        "LogicalResourceId": conflict.logical_id,
        "PhysicalResourceId": conflict.name,
        "ResourceType": conflict.resource_type,
        "Timestamp": now,
        "StartTime": now,
        "EndTime": now,
        "ValidationFailureMode": "FAIL",
        "ValidationName": "NAME_CONFLICT_VALIDATION",
        "ValidationStatus": "FAILED",
        "ValidationStatusReason": (
            f"Resource of type '{conflict.resource_type}' with identifier '{conflict.name}' already exists."
        ),
        "ValidationPath": f"/Resources/{conflict.logical_id}",
    }


_original_create_change_set: Callable[..., Any] = CloudFormationBackend.create_change_set


def _create_change_set(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> tuple[str, str]:
    stack_name, change_set_type = kwargs.get("stack_name"), kwargs.get("change_set_type")
    if change_set_type == "CREATE":
        # AWS re-uses a stack left in REVIEW_IN_PROGRESS (a refused change set); moto would add a
        # second stack of the same name.
        for stack_id, stack in list(self.stacks.items()):
            if stack.name == stack_name and stack.status == "REVIEW_IN_PROGRESS":
                del self.stacks[stack_id]
                for cs_id in [i for i, cs in self.change_sets.items() if cs.stack_id == stack_id]:
                    del self.change_sets[cs_id]
    change_set_id, stack_id = _original_create_change_set(self, *args, **kwargs)
    change_set = self.change_sets[change_set_id]
    if change_set_type in ("CREATE", "UPDATE") and change_set.status == "CREATE_COMPLETE":
        conflicts = change_set_conflicts(self, change_set)
        if conflicts:
            change_set.status = "FAILED"
            change_set.execution_status = "UNAVAILABLE"
            change_set.status_reason = EARLY_VALIDATION_REASON
            _validation_events[change_set_id] = [_validation_event(change_set, c) for c in conflicts]
    return change_set_id, stack_id


def _describe_events(self: CloudFormationResponse) -> ActionResult:
    backend = self.cloudformation_backend
    name, stack_name = self._get_param("ChangeSetName"), self._get_param("StackName")
    if name:
        change_set = find_change_set(backend, name, stack_name)
        if change_set is None:
            raise ChangeSetNotFoundError(name)
        ids = [change_set.change_set_id]
    else:
        ids = [i for i, cs in backend.change_sets.items() if stack_name in (cs.stack_name, cs.stack_id)]
    return ActionResult({"OperationEvents": [e for i in ids for e in _validation_events.get(i, [])]})


def apply() -> None:
    global _original_parse_and_create, _original_create_change_set
    _original_parse_and_create = cfn_parsing.parse_and_create_resource
    _original_create_change_set = CloudFormationBackend.create_change_set
    cfn_parsing.parse_and_create_resource = _parse_and_create_resource
    CloudFormationBackend.create_change_set = _create_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationResponse.describe_events = _describe_events  # type: ignore[attr-defined]  # not in moto: added here
