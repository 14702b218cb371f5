"""Patch: stack parameters as CloudFormation keeps them (input value, resolved value).

Symptom: the second ``cdk deploy`` of a stack fails: ``KeyError: 'BootstrapVersion'`` when the CLI
passes ``UsePreviousValue`` for a parameter that was left at its default, and
``ParameterNotFound`` for SSM-typed parameters (``AWS::SSM::Parameter::Value<String>``).
Cause: moto answers ``UsePreviousValue`` from the *resolved* parameters, which (a) lack a
defaulted parameter of a stack created by a change set and (b) hold the SSM parameter's *value*,
which moto then resolves again as if it were the SSM parameter *name*. DescribeStacks likewise
shows the resolved value where AWS shows the name (and the value as ``ResolvedValue``).
Fix: ``Stack.stack_parameters`` is the input value of every template parameter (the default
when none was passed): the previous value CloudFormation reuses. ``DescribeStacks`` answers
``ParameterValue`` = input value and ``ResolvedValue`` for SSM-typed parameters; "no changes"
compares parameters with defaults filled in.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import Stack


def input_parameters(stack: Stack) -> dict[str, Any]:
    """The value given for each template parameter, or its default."""
    declared = (stack.template_dict or {}).get("Parameters") or {}
    given = stack.resource_map.input_parameters or {}
    values: dict[str, Any] = {}
    for key, slot in declared.items():
        if key in given:
            values[key] = given[key]
        elif "Default" in slot:
            values[key] = slot["Default"]
    return values


def _stack_parameters(self: Stack) -> dict[str, Any]:
    return input_parameters(self)


def _parameter_list(self: Stack) -> list[dict[str, Any]]:
    declared = (self.template_dict or {}).get("Parameters") or {}
    resolved = self.resource_map.resolved_parameters
    result = []
    for key, value in input_parameters(self).items():
        slot = declared.get(key, {})
        entry: dict[str, Any] = {
            "ParameterKey": key,
            "ParameterValue": "****" if slot.get("NoEcho") else value,
        }
        if str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::Value") and key in resolved:
            entry["ResolvedValue"] = resolved[key]
        result.append(entry)
    return result


def _has_parameters(self: Stack, other_parameters: dict[str, Any]) -> bool:
    # Compared with the defaults filled in: "left at default" and "passed the default" are equal.
    declared = (self.template_dict or {}).get("Parameters") or {}
    defaults = {key: slot["Default"] for key, slot in declared.items() if "Default" in slot}
    return input_parameters(self) == {**defaults, **(other_parameters or {})}


def apply() -> None:
    Stack.has_parameters = _has_parameters  # type: ignore[method-assign]  # the patch itself
    Stack.stack_parameters = property(_stack_parameters)  # type: ignore[assignment,method-assign]  # the patch itself
    Stack.parameter_list = property(_parameter_list)  # type: ignore[assignment,method-assign]  # the patch itself
