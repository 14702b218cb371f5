"""Patch: the CloudFormation engine - order, execution, failure, outputs and exports.

Symptom:
- a change set executes without recording the stack's outputs and exports, so a dependent stack
  fails with ``No export named ...``; a stack created by a change set never sees other stacks'
  exports;
- resources are created in template order (only ``DependsOn`` is honoured, and only on create;
  updates run in dictionary order with retries), so a custom resource that every other resource
  depends on does not run first on update;
- an error while creating/updating a resource becomes an HTTP 500 (or is swallowed by the retry
  loop) instead of a failed stack, and the CLI cannot tell what failed;
- a resource whose template JSON is unchanged but whose resolved properties changed (a Ref to a
  replaced layer version) is not updated;
- describing a stack's resources creates the ones that do not exist (moto's lazy map), e.g.
  right after a rollback deleted them;
- stacks are deleted in random order, so a custom resource's function may be gone before the
  custom resource gets its Delete.
Cause: ``ResourceMap.create/update/delete`` and ``CloudFormationBackend.execute_change_set``,
``create_stack``, ``delete_stack``, ``Stack.update``.
Fix: one engine for every stack operation. It orders resources by their dependencies (DependsOn,
Ref, Fn::GetAtt, Fn::Sub), creates/updates them in that order and deletes removed resources
last, in reverse order; a resource is updated when its template JSON or its resolved properties
changed. Operations run in a background thread, as on AWS, and clients poll; the API call waits
for the operation up to ``ANSWER_WAIT_S`` first, so that a client's first poll usually sees the
final status (the CDK CLI polls every 5 s: without this wait, every stack operation costs 5 s
more). The first failing resource stops the operation: a create ends
in ``ROLLBACK_COMPLETE`` (created resources deleted), an update in ``UPDATE_ROLLBACK_COMPLETE``
with the previous template and parameters back (resources updated before the failure keep their
new state: rollback of individual resources is NOT emulated), a delete in ``DELETE_FAILED``.
As on AWS, an update stores the new template and parameters when it starts: GetTemplate and
DescribeStacks answer the new ones while the stack is ``UPDATE_IN_PROGRESS``.
Every resource gets stack events with the failure reason. Outputs and exports are recomputed after
each successful operation and the backend's export table is shared with every stack.
Builds on the cfn_custom_resources patch (custom resources answer synchronously).
"""

from __future__ import annotations

import copy
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import moto.cloudformation.parsing as cfn_parsing
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Event, Stack
from moto.cloudformation.utils import generate_stack_id

from local_aws.patches.cfn_change_set_api import ChangeSetNotFoundError, find_change_set

logger = logging.getLogger("local_aws.cfn")
# One stack operation at a time per emulator: the CLI deploys stacks one after the other anyway,
# and moto's models are not written for concurrent mutation.
_operation_lock = threading.Lock()
PSEUDO_PREFIX = "AWS::"
# How long the API call that starts a stack operation waits for it before answering.
ANSWER_WAIT_S = 20.0


class ResourceFailure(Exception):
    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


# --- dependency order -------------------------------------------------------------------------


def _sub_names(template: str) -> Iterator[str]:
    # "${Name}" or "${Name.Attr}"; "${!Literal}" is an escaped literal.
    start = template.find("${")
    while start != -1:
        end = template.find("}", start)
        if end == -1:
            return
        inner = template[start + 2 : end]
        if inner and not inner.startswith("!"):
            yield inner.split(".", 1)[0]
        start = template.find("${", end)


def referenced_names(node: Any) -> set[str]:
    """Every logical name a template fragment refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                if isinstance(text, str):
                    found.update(_sub_names(text))
                if isinstance(value, list) and len(value) > 1:
                    found -= set(value[1]) if isinstance(value[1], dict) else set()
                    found |= referenced_names(value[1])
            else:
                found |= referenced_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced_names(item)
    return found


def dependencies(resource_json: dict[str, Any], names: set[str]) -> set[str]:
    depends_on = resource_json.get("DependsOn", [])
    explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    implicit = referenced_names({k: v for k, v in resource_json.items() if k != "DependsOn"})
    return (explicit | implicit) & names


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids, each after everything it depends on; template order breaks ties."""
    names = set(resources)
    pending = {name: dependencies(resources[name], names) - {name} for name in resources}
    order: list[str] = []
    while pending:
        ready = [name for name, deps in pending.items() if not deps]
        if not ready:
            raise ValidationError(message=f"Circular dependency between resources: {sorted(pending)}")
        for name in ready:
            order.append(name)
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


# --- events -----------------------------------------------------------------------------------


def _physical_id(instance: Any) -> str:
    try:
        value = getattr(instance, "physical_resource_id", "")
    except Exception:  # noqa: BLE001  # some moto models compute it lazily and may fail
        return ""
    return value if isinstance(value, str) else ""


def resource_event(
    stack: Stack,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def stack_event(stack: Stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    # DescribeStacks' StackStatusReason (moto's serializer reads the snake_case attribute).
    stack.stack_status_reason = reason  # type: ignore[attr-defined]  # not in moto: added here
    logger.info("stack %s: %s%s", stack.name, status, f" ({reason})" if reason else "")
    resource_event(stack, stack.name, "AWS::CloudFormation::Stack", status, stack.stack_id, reason)


# --- resource operations ------------------------------------------------------------------------


def _resolved_properties(rmap: Any, resource_json: dict[str, Any]) -> Any:
    try:
        return cfn_parsing.clean_json(copy.deepcopy(resource_json.get("Properties", {})), rmap)
    except Exception:  # noqa: BLE001  # unresolvable now: treat as changed
        return None


def _resolved_cache(rmap: Any) -> dict[str, Any]:
    if not hasattr(rmap, "_local_aws_resolved"):
        rmap._local_aws_resolved = {}
    return rmap._local_aws_resolved  # type: ignore[no-any-return]


def _create_resource(stack: Stack, rmap: Any, logical_id: str, resource_json: dict[str, Any]) -> None:
    resource_type = resource_json["Type"]
    condition = resource_json.get("Condition")
    if condition and not rmap.lazy_condition_map[condition]:
        return
    resource_event(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
    try:
        instance = rmap[logical_id]  # moto creates lazily on first access
    except Exception as err:
        raise ResourceFailure(logical_id, resource_type, str(err) or type(err).__name__) from err
    _resolved_cache(rmap)[logical_id] = _resolved_properties(rmap, resource_json)
    resource_event(stack, logical_id, resource_type, "CREATE_COMPLETE", _physical_id(instance))


def _update_resource(stack: Stack, rmap: Any, logical_id: str, resource_json: dict[str, Any]) -> None:
    resource_type = resource_json["Type"]
    original = rmap._parsed_resources.get(logical_id)
    resource_event(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", _physical_id(original))
    resource_class = cfn_parsing.resource_class_from_type(resource_type)
    try:
        if resource_class is None:
            instance = original  # not emulated by moto: nothing to update
        elif hasattr(resource_class.update_from_cloudformation_json, "__isabstractmethod__"):
            # No update in moto: replace it, as CloudFormation does for immutable properties.
            rmap._parsed_resources.pop(logical_id, None)
            if original is not None and not isinstance(original, str):
                rmap._delete_resource(original, resource_json)
            instance = rmap[logical_id]
        else:
            instance = cfn_parsing.parse_and_update_resource(
                logical_id, resource_json, rmap, account_id=rmap._account_id, region_name=rmap._region_name
            )
            if instance is not None:
                rmap._parsed_resources[logical_id] = instance
    except Exception as err:
        raise ResourceFailure(logical_id, resource_type, str(err) or type(err).__name__) from err
    _resolved_cache(rmap)[logical_id] = _resolved_properties(rmap, resource_json)
    resource_event(stack, logical_id, resource_type, "UPDATE_COMPLETE", _physical_id(instance))


def _delete_resource(
    stack: Stack, rmap: Any, logical_id: str, resource_json: dict[str, Any], *, create_rollback: bool = False
) -> None:
    resource_type = resource_json.get("Type", "")
    instance = rmap._parsed_resources.get(logical_id)
    # RetainExceptOnCreate retains like Retain, except when the stack create that made the resource
    # rolls back: then it is deleted (stage and prod stateful resources use it, issue 23).
    retained = ("Retain",) if create_rollback else ("Retain", "RetainExceptOnCreate")
    if resource_json.get("DeletionPolicy") in retained:
        rmap._parsed_resources.pop(logical_id, None)
        resource_event(stack, logical_id, resource_type, "DELETE_SKIPPED", _physical_id(instance))
        return
    resource_event(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", _physical_id(instance))
    if instance is not None and not isinstance(instance, str):
        try:
            rmap._delete_resource(instance, resource_json)
        except Exception as err:
            raise ResourceFailure(logical_id, resource_type, str(err) or type(err).__name__) from err
    rmap._parsed_resources.pop(logical_id, None)
    _resolved_cache(rmap).pop(logical_id, None)
    resource_event(stack, logical_id, resource_type, "DELETE_COMPLETE", _physical_id(instance))


def _delete_all(stack: Stack, rmap: Any, resources: dict[str, Any], *, create_rollback: bool = False) -> None:
    for logical_id in reversed(dependency_order(resources)):
        _delete_resource(stack, rmap, logical_id, resources[logical_id], create_rollback=create_rollback)


def _reload_parameters(rmap: Any, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    rmap._template = template
    rmap.input_parameters = parameters
    rmap.resolved_parameters = {}
    rmap.load_mapping()
    rmap.load_parameters()
    rmap.load_conditions()


# --- stack operations ---------------------------------------------------------------------------


def _refresh_outputs(backend: CloudFormationBackend, stack: Stack) -> None:
    stack.output_map = stack._create_output_map()
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        owner = backend.exports.get(export.name)
        if owner is not None:
            raise ValidationError(
                message=f"Export with name {export.name} is already exported by {owner.exporting_stack_id}"
            )
        backend.exports[export.name] = export


def _create(backend: CloudFormationBackend, stack: Stack, template: str, parameters: dict[str, Any]) -> None:
    stack.template = template
    stack._parse_template()
    stack.parameters = parameters
    stack.description = stack.template_dict.get("Description")
    stack.cross_stack_resources = backend.exports
    stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    try:
        stack.resource_map = stack._create_resource_map()
        stack.resource_map.cross_stack_resources = backend.exports  # shared, not a copy
    except Exception as err:
        stack_event(stack, "ROLLBACK_IN_PROGRESS", str(err))
        stack_event(stack, "ROLLBACK_COMPLETE")
        return
    rmap = stack.resource_map
    resources = stack.template_dict.get("Resources", {})
    rmap._template = stack.template_dict
    rmap._resource_json_map = resources
    rmap.tags.update(
        {"aws:cloudformation:stack-name": stack.name, "aws:cloudformation:stack-id": stack.stack_id}
    )
    try:
        for logical_id in dependency_order(resources):
            _create_resource(stack, rmap, logical_id, resources[logical_id])
        _refresh_outputs(backend, stack)
    except (ResourceFailure, ValidationError) as failure:
        _fail_create(stack, rmap, resources, failure)
        return
    stack_event(stack, "CREATE_COMPLETE")


def _fail_create(stack: Stack, rmap: Any, resources: dict[str, Any], failure: Exception) -> None:
    if isinstance(failure, ResourceFailure):
        resource_event(
            stack, failure.logical_id, failure.resource_type, "CREATE_FAILED", reason=failure.reason
        )
        reason = f"The following resource(s) failed to create: [{failure.logical_id}]. {failure.reason}"
    else:
        reason = str(failure)
    stack_event(stack, "ROLLBACK_IN_PROGRESS", reason)
    created = {k: v for k, v in resources.items() if k in rmap._parsed_resources}
    try:
        _delete_all(stack, rmap, created, create_rollback=True)
    except ResourceFailure as err:
        stack_event(stack, "ROLLBACK_FAILED", str(err))
        return
    stack_event(stack, "ROLLBACK_COMPLETE", reason)


def _store_template(stack: Stack, template: str | dict[str, Any], parameters: dict[str, Any]) -> None:
    """What GetTemplate / DescribeStacks answer for the stack (``template`` as the stack stores it)."""
    stack.template = template
    stack._parse_template()
    stack.parameters = parameters
    stack.description = stack.template_dict.get("Description")


def _update(backend: CloudFormationBackend, stack: Stack, template: str, parameters: dict[str, Any]) -> None:
    rmap = stack.resource_map
    new_template = Stack.parse_template(template)
    old_resources: dict[str, Any] = dict(rmap._resource_json_map)
    new_resources: dict[str, Any] = new_template.get("Resources", {})
    old_template, old_parameters = stack.template_dict, dict(rmap.input_parameters or {})
    old_stored = (stack.template, stack.parameters)
    # AWS stores the submitted template when the update starts: GetTemplate / DescribeStacks answer
    # the new template and parameters while UPDATE_IN_PROGRESS (the project's pre-update snapshot,
    # which runs inside the update, must see what it really sees on AWS).
    _store_template(stack, template, parameters)
    stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    applied = dict(old_resources)  # what the stack's resources reflect so far
    cache = _resolved_cache(rmap)
    try:
        rmap.cross_stack_resources = backend.exports
        _reload_parameters(rmap, new_template, parameters)
        rmap._resource_json_map = new_resources
        for logical_id in dependency_order(new_resources):
            resource_json = new_resources[logical_id]
            if logical_id not in old_resources or logical_id not in rmap._parsed_resources:
                _create_resource(stack, rmap, logical_id, resource_json)
            elif resource_json != old_resources[logical_id] or (
                logical_id in cache and cache[logical_id] != _resolved_properties(rmap, resource_json)
            ):
                _update_resource(stack, rmap, logical_id, resource_json)
            applied[logical_id] = resource_json
        for logical_id in reversed(dependency_order(old_resources)):
            if logical_id not in new_resources:
                _delete_resource(stack, rmap, logical_id, old_resources[logical_id])
                applied.pop(logical_id, None)
        _refresh_outputs(backend, stack)
    except (ResourceFailure, ValidationError) as failure:
        # The stack gets its previous template and parameters back; resources changed before the
        # failure keep their new state (resource-level rollback is not emulated), and are
        # compared with what they really are on the next deployment.
        _store_template(stack, *old_stored)
        rmap._resource_json_map = applied
        try:
            _reload_parameters(rmap, old_template, old_parameters)
        except Exception:  # noqa: BLE001  # the failure being reported matters more
            logger.exception("could not restore parameters of %s", stack.name)
        if isinstance(failure, ResourceFailure):
            resource_event(
                stack, failure.logical_id, failure.resource_type, "UPDATE_FAILED", reason=failure.reason
            )
            reason = f"The following resource(s) failed to update: [{failure.logical_id}]. {failure.reason}"
        else:
            reason = str(failure)
        stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")
        return
    except Exception:
        _store_template(stack, *old_stored)  # run_operation reports it as UPDATE_ROLLBACK_COMPLETE
        raise
    stack_event(stack, "UPDATE_COMPLETE")


def _delete(backend: CloudFormationBackend, stack: Stack) -> None:
    stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    rmap = stack.resource_map
    try:
        _delete_all(stack, rmap, dict(rmap._resource_json_map))
    except ResourceFailure as failure:
        resource_event(
            stack, failure.logical_id, failure.resource_type, "DELETE_FAILED", reason=failure.reason
        )
        stack_event(
            stack,
            "DELETE_FAILED",
            f"The following resource(s) failed to delete: [{failure.logical_id}]. {failure.reason}",
        )
        return
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    stack_event(stack, "DELETE_COMPLETE")


def run_operation(
    stack: Stack, failed_status: str, work: Callable[[], None], on_done: Callable[[], None] | None = None
) -> threading.Thread:
    """Run a stack operation in the background; an unexpected error still ends in ``failed_status``."""

    def target() -> None:
        with _operation_lock:
            try:
                work()
            except Exception as err:  # noqa: BLE001  # must never leave a stack IN_PROGRESS
                logger.error("stack %s: %s\n%s", stack.name, err, traceback.format_exc())
                stack_event(stack, failed_status, f"local_aws internal error: {err}")
            finally:
                if on_done is not None:
                    on_done()

    thread = threading.Thread(target=target, name=f"cfn-{stack.name}", daemon=True)
    thread.start()
    thread.join(timeout=ANSWER_WAIT_S)  # still *_IN_PROGRESS after that: the client polls
    return thread


# --- backend API replacements ---------------------------------------------------------------------


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set: ChangeSet | None = find_change_set(self, change_set_name)
    if change_set is None:
        raise ChangeSetNotFoundError(change_set_name)
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed "
            f"in its current status of [{change_set.status}]"
        )
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    if change_set.tags:
        stack.tags = change_set.tags
    template, parameters = change_set.template, dict(change_set.parameters or {})

    def done() -> None:
        failed = stack.status.endswith(("FAILED", "ROLLBACK_COMPLETE"))
        change_set.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"

    if change_set.change_set_type == "CREATE":
        stack.status = "CREATE_IN_PROGRESS"
        run_operation(stack, "ROLLBACK_COMPLETE", lambda: _create(self, stack, template, parameters), done)
    else:
        stack.status = "UPDATE_IN_PROGRESS"
        run_operation(
            stack, "UPDATE_ROLLBACK_COMPLETE", lambda: _update(self, stack, template, parameters), done
        )


def _create_stack(
    self: CloudFormationBackend,
    name: str,
    template: str,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
) -> Stack:
    if any(stack.name == name for stack in self.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack = Stack(  # type: ignore[abstract]  # moto instantiates it too; the abstract bits are unused
        stack_id=generate_stack_id(name, self.region_name, self.account_id),
        name=name,
        template={},
        parameters=parameters,
        account_id=self.account_id,
        region_name=self.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    parsed = Stack.parse_template(template)  # template errors are reported synchronously, as on AWS
    if not isinstance(parsed, dict) or "Resources" not in parsed:
        raise ValidationError(message="Template format error: At least one Resources member must be defined.")
    self.stacks[stack.stack_id] = stack
    stack.status = "CREATE_IN_PROGRESS"
    run_operation(stack, "ROLLBACK_COMPLETE", lambda: _create(self, stack, template, parameters))
    return stack


def _stack_update(
    self: Stack,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[self.account_id][self.region_name]
    if role_arn:
        self.role_arn = role_arn
    if tags is not None:
        self.tags = tags
    self.status = "UPDATE_IN_PROGRESS"
    params = parameters if parameters is not None else dict(self.resource_map.input_parameters or {})
    run_operation(self, "UPDATE_ROLLBACK_COMPLETE", lambda: _update(backend, self, template, params))


def _delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None or stack.status == "DELETE_IN_PROGRESS":
        return  # AWS: deleting a stack that does not exist (any more) succeeds
    if stack.enable_termination_protection:
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    stack.status = "DELETE_IN_PROGRESS"
    run_operation(stack, "DELETE_FAILED", lambda: _delete(self, stack))


def _stack_resources(self: Stack) -> list[Any]:
    # Only resources that exist: iterating moto's lazy ResourceMap would create missing ones.
    rmap = self.resource_map
    return [
        rmap._parsed_resources[name]
        for name in rmap._resource_json_map
        if name in rmap._parsed_resources and not isinstance(rmap._parsed_resources[name], str | None)
    ]


def apply() -> None:
    Stack.stack_resources = property(_stack_resources)  # type: ignore[assignment,method-assign]  # reads only
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationBackend.create_stack = _create_stack  # type: ignore[method-assign]  # the patch itself
    CloudFormationBackend.delete_stack = _delete_stack  # type: ignore[method-assign]  # the patch itself
    Stack.update = _stack_update  # type: ignore[method-assign]  # the patch itself
