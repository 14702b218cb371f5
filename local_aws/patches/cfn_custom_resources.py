"""Patch: custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``).

Symptom: a custom resource only ever receives ``Create`` (never ``Update`` nor ``Delete``); its
``ResponseURL`` names a Docker host and region-less path the handler cannot reach; the answer is
looked up in the wrong region; a ``FAILED`` answer is ignored; stacks with
``AWS::CloudFormation::CustomResource`` (CDK's default type) are not handled at all; and because
the handler runs in a background thread, resources that depend on the custom resource are created
before it answers (``Fn::GetAtt`` on it yields nothing).
Cause: moto's ``CustomModel`` fires the Lambda in a thread on create only, builds the URL from
``moto_server_host()``, and ``process_cfn_response`` ignores ``FAILED``; ``parsing`` maps only
``Custom::`` types to it.
Fix: ``LocalCustomResource`` invokes the ServiceToken function synchronously (the Lambda runner
patch), with the request CloudFormation sends - ``Create``, ``Update`` (with
``PhysicalResourceId`` and ``OldResourceProperties``) or ``Delete`` - and a ``ResponseURL`` on
the emulator (``local_aws.cfn_responses``); it then waits (bounded) for the answer. ``FAILED``,
no answer, or an answer without ``PhysicalResourceId`` fail the resource with the handler's
reason, which the engine patch turns into a failed stack operation.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import moto.cloudformation.parsing as cfn_parsing
from moto.awslambda.models import lambda_backends
from moto.cloudformation.custom_model import CustomModel

from local_aws import cfn_responses

# An answer PUT asynchronously (e.g. from a thread the handler started) may land just after the
# function returned; AWS waits up to an hour, we wait this long after the function ended.
ANSWER_GRACE_S = 5.0
CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
_original_resource_class_from_type = cfn_parsing.resource_class_from_type


class CustomResourceFailedError(Exception):
    """The custom resource answered FAILED, or did not answer (not an AttributeError on purpose:
    moto swallows those when deleting)."""


def _request(
    *,
    account_id: str,
    region: str,
    request_type: str,
    stack_id: str,
    logical_id: str,
    resource_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Send one request to the custom resource's handler and return its SUCCESS answer."""
    service_token = properties.get("ServiceToken")
    if not service_token:
        raise CustomResourceFailedError(f"{logical_id}: custom resource without ServiceToken")
    try:
        fn = lambda_backends[account_id][region].get_function(service_token)
    except Exception as err:  # noqa: BLE001  # any lookup failure means "no such function"
        raise CustomResourceFailedError(
            f"{logical_id}: ServiceToken {service_token} not found: {err}"
        ) from err
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": cfn_responses.response_url(request_id),
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties
    # Typed `str | None` in moto, but the runner patch takes the event object itself.
    payload, errored, logs = fn._invoke_lambda(event)  # type: ignore[arg-type]
    answer = cfn_responses.pop(request_id) or cfn_responses.wait_for(request_id, ANSWER_GRACE_S)
    if answer is None:
        detail = f"handler error {payload}" if errored else "handler returned without answering"
        tail = "\n".join(logs.splitlines()[-20:])
        raise CustomResourceFailedError(
            f"{logical_id}: no response from custom resource {request_type} ({detail}); log tail:\n{tail}"
        )
    if answer.get("Status") != "SUCCESS":
        reason = answer.get("Reason") or "custom resource answered FAILED without a reason"
        raise CustomResourceFailedError(f"{logical_id}: {reason}")
    if not answer.get("PhysicalResourceId"):
        raise CustomResourceFailedError(
            f"{logical_id}: answer without PhysicalResourceId: {json.dumps(answer)}"
        )
    return answer


class LocalCustomResource(CustomModel):
    """A custom resource whose every request is answered before the stack operation goes on."""

    account_id: str
    stack_id: str
    resource_type: str
    properties: dict[str, Any]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]  # moto's signature, kwargs typed
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalCustomResource:
        properties = cloudformation_json["Properties"]
        answer = _request(
            account_id=account_id,
            region=region_name,
            request_type="Create",
            stack_id=kwargs["StackId"],
            logical_id=kwargs["LogicalId"],
            resource_type=kwargs["ResourceType"],
            properties=properties,
        )
        resource = cls(
            region_name, answer.get("RequestId", ""), kwargs["LogicalId"], answer["PhysicalResourceId"]
        )
        resource.account_id = account_id
        resource.stack_id = kwargs["StackId"]
        resource.resource_type = kwargs["ResourceType"]
        resource.properties = properties
        resource.set_data(answer.get("Data") or {})
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]  # moto's signature
        cls,
        original_resource: LocalCustomResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> LocalCustomResource:
        properties = cloudformation_json["Properties"]
        answer = _request(
            account_id=account_id,
            region=region_name,
            request_type="Update",
            stack_id=original_resource.stack_id,
            logical_id=original_resource.logical_id,
            resource_type=original_resource.resource_type,
            properties=properties,
            physical_id=original_resource.resource_name,
            old_properties=original_resource.properties,
        )
        # A new PhysicalResourceId means replacement; AWS would then send Delete for the old one
        # during cleanup. Not emulated: the old id is simply forgotten (see README).
        original_resource.resource_name = answer["PhysicalResourceId"]
        original_resource.properties = properties
        original_resource.set_data(answer.get("Data") or {})
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _request(
            account_id=account_id,
            region=region,
            request_type="Delete",
            stack_id=self.stack_id,
            logical_id=self.logical_id,
            resource_type=self.resource_type,
            properties=self.properties,
            physical_id=self.resource_name,
        )

    @property
    def physical_resource_id(self) -> str:
        return self.resource_name


def _resource_class_from_type(resource_type: str) -> Any:
    if resource_type.startswith("Custom::") or resource_type == CUSTOM_RESOURCE_TYPE:
        return LocalCustomResource
    return _original_resource_class_from_type(resource_type)


def apply() -> None:
    cfn_parsing.resource_class_from_type = _resource_class_from_type  # type: ignore[assignment]  # the patch itself
