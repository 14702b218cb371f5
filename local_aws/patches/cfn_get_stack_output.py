"""Patch: the ``Fn::GetStackOutput`` intrinsic function.

Symptom: a stack that uses a value of another stack (aws-cdk-lib 2.275 writes cross-stack
references as ``{"Fn::GetStackOutput": {"StackName", "Region", "OutputName"}}``) receives the
unresolved dict as the property value: e.g. a bucket name that is a dict, rejected by S3.
Cause: moto's ``clean_json`` does not know this intrinsic and returns the dict as is.
Fix: resolve it to the output value of the named stack in the named region (same account);
a missing stack or output fails the resource with CloudFormation's message.
"""

from __future__ import annotations

from typing import Any

import moto.cloudformation.parsing as cfn_parsing
from moto.cloudformation.exceptions import ValidationError

_original_clean_json = cfn_parsing.clean_json


def _get_stack_output(arguments: dict[str, Any], resources_map: Any) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    args = _clean_json(arguments, resources_map)
    stack_name, output_name = args.get("StackName"), args.get("OutputName")
    region = args.get("Region") or resources_map._region_name
    backend = cloudformation_backends[resources_map._account_id][region]
    stack = next((s for s in backend.stacks.values() if stack_name in (s.name, s.stack_id)), None)
    if stack is None:
        raise ValidationError(message=f"Fn::GetStackOutput: stack {stack_name} does not exist in {region}")
    for output in stack.outputs or []:
        if output["OutputKey"] == output_name:
            return output["OutputValue"]
    raise ValidationError(message=f"Fn::GetStackOutput: stack {stack_name} has no output {output_name}")


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
        return _get_stack_output(resource_json["Fn::GetStackOutput"], resources_map)
    return _original_clean_json(resource_json, resources_map)


def apply() -> None:
    # clean_json recurses through the module global, so nested occurrences are resolved too.
    cfn_parsing.clean_json = _clean_json
