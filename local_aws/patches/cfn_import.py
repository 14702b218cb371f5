"""Patch: IMPORT change sets adopt existing resources into a stack, as CloudFormation's import.

Symptom: ``CreateChangeSet`` with ``ChangeSetType=IMPORT`` and ``ResourcesToImport`` makes a
*new* stack of the same name (moto treats every type but UPDATE as CREATE), ignores
``ResourcesToImport``, and executing it creates the resources again (a function overwritten, a
bucket's creation racing the existing one) - the opposite of adopting what exists, which is how
the takeover brings the team's existing buckets, log groups and functions under this project's
stacks without losing their data (issue 27).
Cause: ``CloudFormationResponse.create_change_set`` reads no ``ResourcesToImport``;
``CloudFormationBackend.create_change_set`` knows CREATE and UPDATE only.
Fix: for ``AWS::S3::Bucket``, ``AWS::Logs::LogGroup``, ``AWS::Lambda::Function`` and
``AWS::IAM::Role`` (identifier: their name property): an IMPORT change set, for an existing
stack or a new one, is validated as AWS does - every resource to import is in the template with
its type and a ``DeletionPolicy`` (else ``The following resources to import [X] must have
DeletionPolicy attribute specified in the template.``), nothing else in the template may be
added, changed or removed, nor an existing stack's Outputs (``As part of the import operation, you cannot
modify or add [Outputs]``) - and ends ``FAILED`` when a resource to import does not exist or
already belongs to a stack. Executing it records the existing resource under its logical id
without touching it (``IMPORT_IN_PROGRESS`` / ``IMPORT_COMPLETE`` events; the stack ends
``IMPORT_COMPLETE``, or ``IMPORT_ROLLBACK_COMPLETE`` if a resource vanished meanwhile); later
updates and deletes treat it as any other resource of the stack (its DeletionPolicy decides).
Not emulated: other resource types (``ValidationError`` naming the type), drift of the imported
resource from the template (the next update applies the template's properties).
Builds on cfn_engine (execution, outputs) and cfn_name_conflicts (existence checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from moto.awslambda.models import lambda_backends
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_changeset_id
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from local_aws.patches import cfn_engine
from local_aws.patches.cfn_change_set_api import ChangeSetNotFoundError, find_change_set
from local_aws.patches.cfn_name_conflicts import NAME_PROPERTIES, owning_stack, physical_resource_exists

IMPORTABLE: Final = NAME_PROPERTIES  # the identifier of each importable type is its name property


def _live_stack(backend: CloudFormationBackend, name: str) -> Stack | None:
    return next(
        (s for s in backend.stacks.values() if s.name == name and s.status != "REVIEW_IN_PROGRESS"), None
    )


def _identifier(item: dict[str, Any]) -> str:
    resource_type, logical_id = item.get("ResourceType", ""), item.get("LogicalResourceId", "")
    if resource_type not in IMPORTABLE:
        raise ValidationError(
            message=f"Resource type {resource_type} of {logical_id} cannot be imported on the local AWS "
            f"(importable here: {', '.join(IMPORTABLE)})"
        )
    identifier = item.get("ResourceIdentifier") or {}
    value = identifier.get(IMPORTABLE[resource_type])
    if not isinstance(value, str) or not value:
        raise ValidationError(
            message=f"Invalid ResourceIdentifier for {logical_id}: "
            f"{resource_type} is identified by {IMPORTABLE[resource_type]}"
        )
    return value


def validate_import(
    template: dict[str, Any], imports: list[dict[str, Any]], stack: Stack | None
) -> dict[str, str]:
    """AWS's template checks of an import; returns logical id -> identifier."""
    resources = template.get("Resources") or {}
    identifiers = {item.get("LogicalResourceId", ""): _identifier(item) for item in imports}
    missing = [lid for lid in identifiers if lid not in resources]
    if missing:
        raise ValidationError(message=f"Resources {missing} to import are not in the template")
    for item in imports:
        declared = resources[item["LogicalResourceId"]].get("Type")
        if declared != item["ResourceType"]:
            raise ValidationError(
                message=f"Resource {item['LogicalResourceId']} is of type {declared} in the template, "
                f"not {item['ResourceType']}"
            )
    no_policy = [lid for lid in identifiers if "DeletionPolicy" not in resources[lid]]
    if no_policy:
        raise ValidationError(
            message=f"The following resources to import [{', '.join(no_policy)}] must have "
            "DeletionPolicy attribute specified in the template."
        )
    before: dict[str, Any] = stack.resource_map._resource_json_map if stack is not None else {}
    others = sorted(
        lid
        for lid in set(resources) | set(before)
        if lid not in identifiers and resources.get(lid) != before.get(lid)
    )
    if others:
        raise ValidationError(
            message=f"You have modified resources [{', '.join(others)}] in your template that are not being "
            "imported. Update, create or delete operations cannot be executed during import operations."
        )
    # Into an existing stack the outputs may not change; a new stack from existing resources
    # declares its outputs.
    old_outputs = (stack.template_dict or {}).get("Outputs") if stack is not None else None
    if stack is not None and (template.get("Outputs") or None) != (old_outputs or None):
        raise ValidationError(message="As part of the import operation, you cannot modify or add [Outputs]")
    return identifiers


def _problem(
    backend: CloudFormationBackend, identifiers: dict[str, str], types: dict[str, str]
) -> str | None:
    account, region = backend.account_id, backend.region_name
    for lid, name in identifiers.items():
        if not physical_resource_exists(types[lid], name, account, region):
            return f"Resource of type '{types[lid]}' with identifier '{name}' ({lid}) does not exist."
        owner = owning_stack(types[lid], name, account, region)
        if owner is not None:
            return (
                f"Resource of type '{types[lid]}' with identifier '{name}' ({lid}) "
                f"already belongs to stack {owner.stack_id}."
            )
    return None


_original_response_create_change_set: Callable[..., Any] = CloudFormationResponse.create_change_set


def _response_create_change_set(self: CloudFormationResponse) -> ActionResult:
    if self._get_param("ChangeSetType", "CREATE") != "IMPORT":
        return _original_response_create_change_set(self)  # type: ignore[no-any-return]
    backend = self.cloudformation_backend
    stack_name, change_set_name = self._get_param("StackName"), self._get_param("ChangeSetName")
    stack = _live_stack(backend, stack_name)
    body = self._get_param("TemplateBody")
    if self._get_param("TemplateURL"):
        body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    elif self._get_bool_param("UsePreviousTemplate", False) and stack is not None:
        body = stack.template
    if not body:
        raise ValidationError(message="Either Template URL or Template Body must be specified.")
    previous = stack.stack_parameters if stack is not None else {}
    parameters = {
        p["ParameterKey"]: previous[p["ParameterKey"]] if p.get("UsePreviousValue") else p["ParameterValue"]
        for p in self._get_param("Parameters", [])
    }
    imports: list[dict[str, Any]] = self._get_param("ResourcesToImport", [])
    if not imports:
        raise ValidationError(message="ResourcesToImport must be specified for an IMPORT change set")
    template = Stack.parse_template(body)
    identifiers = validate_import(template, imports, stack)
    tags = {item["Key"]: item["Value"] for item in self._get_param("Tags", [])}
    common = {
        "template": body,
        "parameters": parameters,
        "description": self._get_param("Description"),
        "notification_arns": self._get_param("NotificationARNs", []),
        "tags": tags,
        "role_arn": self._get_param("RoleARN"),
    }
    if stack is None:  # a new stack from existing resources (moto makes it REVIEW_IN_PROGRESS)
        change_set_id, _ = backend.create_change_set(
            stack_name=stack_name, change_set_name=change_set_name, change_set_type="IMPORT", **common
        )
        change_set = backend.change_sets[change_set_id]
    else:
        change_set_id = generate_changeset_id(change_set_name, backend.region_name, backend.account_id)
        change_set = ChangeSet(
            change_set_type="IMPORT",
            change_set_id=change_set_id,
            change_set_name=change_set_name,
            stack=stack,
            **common,
        )
        backend.change_sets[change_set_id] = change_set
    types = {item["LogicalResourceId"]: item["ResourceType"] for item in imports}
    change_set.changes = [Change("Import", lid, types[lid]) for lid in identifiers]
    change_set.resources_to_import = identifiers  # type: ignore[attr-defined]  # not in moto: added here
    problem = _problem(backend, identifiers, types)
    change_set.status = "FAILED" if problem else "CREATE_COMPLETE"
    change_set.execution_status = "UNAVAILABLE" if problem else "AVAILABLE"
    change_set.status_reason = problem
    return ActionResult({"Id": change_set_id, "StackId": change_set.stack_id})


def existing_model(resource_type: str, name: str, account_id: str, region: str) -> Any:
    """moto's model object of an existing resource (what the stack will hold for it)."""
    partition = get_partition(region)
    if resource_type == "AWS::S3::Bucket":
        return s3_backends[account_id][partition].get_bucket(name)
    if resource_type == "AWS::Logs::LogGroup":
        return logs_backends[account_id][region].groups[name]
    if resource_type == "AWS::Lambda::Function":
        return lambda_backends[account_id][region].get_function(name)
    return next(r for r in iam_backends[account_id][partition].roles.values() if r.name == name)


def _import(backend: CloudFormationBackend, stack: Stack, change_set: ChangeSet) -> None:
    template = Stack.parse_template(change_set.template)
    resources: dict[str, Any] = template.get("Resources") or {}
    parameters = dict(change_set.parameters or {})
    new_stack = stack.status == "REVIEW_IN_PROGRESS"
    cfn_engine.stack_event(stack, "IMPORT_IN_PROGRESS", "User Initiated")
    old = None
    if not new_stack:
        old = (stack.template, stack.template_dict, dict(stack.resource_map.input_parameters or {}))
    stack.template = change_set.template
    stack._parse_template()
    stack.parameters = parameters
    stack.description = stack.template_dict.get("Description")
    stack.cross_stack_resources = backend.exports
    if new_stack:
        stack.resource_map = stack._create_resource_map()
        rmap = stack.resource_map
        rmap.cross_stack_resources = backend.exports
        rmap._template = stack.template_dict
        rmap.tags.update(
            {"aws:cloudformation:stack-name": stack.name, "aws:cloudformation:stack-id": stack.stack_id}
        )
    else:
        rmap = stack.resource_map
        cfn_engine._reload_parameters(rmap, template, parameters)
    rmap._resource_json_map = resources
    identifiers: dict[str, str] = change_set.resources_to_import  # type: ignore[attr-defined]  # set above
    imported: list[str] = []
    try:
        for lid, name in identifiers.items():
            resource_type = resources[lid]["Type"]
            cfn_engine.resource_event(stack, lid, resource_type, "IMPORT_IN_PROGRESS", name)
            try:
                instance = existing_model(resource_type, name, backend.account_id, backend.region_name)
            except Exception as err:
                raise cfn_engine.ResourceFailure(lid, resource_type, f"{name} does not exist") from err
            instance.cf_resource_type = resource_type
            instance.logical_resource_id = lid
            rmap._parsed_resources[lid] = instance
            imported.append(lid)
            cfn_engine._resolved_cache(rmap)[lid] = cfn_engine._resolved_properties(rmap, resources[lid])
            cfn_engine.resource_event(stack, lid, resource_type, "IMPORT_COMPLETE", name)
        cfn_engine._refresh_outputs(backend, stack)
    except (cfn_engine.ResourceFailure, ValidationError) as failure:
        # Nothing was changed in the account: un-adopt, keep the stack as it was.
        for lid in imported:
            rmap._parsed_resources.pop(lid, None)
        reason = failure.reason if isinstance(failure, cfn_engine.ResourceFailure) else str(failure)
        cfn_engine.stack_event(stack, "IMPORT_ROLLBACK_IN_PROGRESS", reason)
        if old is not None:
            stack.template, stack.template_dict = old[0], old[1]
            rmap._resource_json_map = old[1].get("Resources", {})
            cfn_engine._reload_parameters(rmap, old[1], old[2])
        cfn_engine.stack_event(stack, "IMPORT_ROLLBACK_COMPLETE", reason)
        return
    cfn_engine.stack_event(stack, "IMPORT_COMPLETE")


# The engine's execute_change_set (cfn_engine is applied first), taken in apply().
_original_execute_change_set: Callable[..., Any] = CloudFormationBackend.execute_change_set


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set = find_change_set(self, change_set_name)
    if change_set is None:
        raise ChangeSetNotFoundError(change_set_name)
    if change_set.change_set_type != "IMPORT":
        _original_execute_change_set(self, change_set_name, stack_name)
        return
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed "
            f"in its current status of [{change_set.status}]"
        )
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"

    def done() -> None:
        failed = stack.status.endswith(("FAILED", "ROLLBACK_COMPLETE"))
        change_set.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"

    cfn_engine.run_operation(
        stack, "IMPORT_ROLLBACK_COMPLETE", lambda: _import(self, stack, change_set), done
    )


def apply() -> None:
    global _original_execute_change_set
    _original_execute_change_set = CloudFormationBackend.execute_change_set
    CloudFormationResponse.create_change_set = _response_create_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]  # the patch itself
