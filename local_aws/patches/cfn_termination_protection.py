"""Patch: ``UpdateTerminationProtection`` works, and a protected stack cannot be deleted.

Symptom: deploying stage or prod (stacks with termination protection on) fails: the CDK CLI
calls ``UpdateTerminationProtection`` and moto answers HTTP 500 ("has not been implemented").
Cause: moto stores ``EnableTerminationProtection`` at CreateStack but implements neither the
update call nor the protection itself.
Fix: the call sets the flag on the stack; ``DeleteStack`` of a protected stack fails with the
ValidationError real CloudFormation gives, so `cdk destroy` of stage/prod is refused locally too.
"""

from __future__ import annotations

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult

_original_delete_stack = CloudFormationResponse.delete_stack


def _update_termination_protection(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = (
        str(self._get_param("EnableTerminationProtection")).lower() == "true"
    )
    return ActionResult({"StackId": stack.stack_id})


def _delete_stack(self: CloudFormationResponse) -> ActionResult | EmptyResult:
    name = self._get_param("StackName")
    try:
        stacks = [s for s in self.cloudformation_backend.describe_stacks(name) if "DELETE" not in s.status]
    except ValidationError:  # unknown stack: moto's own behaviour (real AWS succeeds silently)
        return _original_delete_stack(self)
    if any(getattr(s, "enable_termination_protection", False) for s in stacks):
        raise ValidationError(
            message=f"Stack [{name}] cannot be deleted while TerminationProtection is enabled"
        )
    return _original_delete_stack(self)


def apply() -> None:
    CloudFormationResponse.update_termination_protection = _update_termination_protection  # type: ignore[attr-defined]
    CloudFormationResponse.delete_stack = _delete_stack  # type: ignore[method-assign]
