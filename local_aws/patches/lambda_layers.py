"""Patch: Lambda layers deployed by CloudFormation.

Symptom: a function created from a template has no layers (``Layers`` is dropped), so handlers
fail to import the shared package; a LayerVersion gets a generated name instead of its
``LayerName``; ``Ref`` to a LayerVersion yields a Python object instead of the version ARN; an
update of a LayerVersion stores ``None`` in the stack; deleting the stack leaves the layer behind.
Cause: moto's ``LambdaFunction.create_from_cloudformation_json`` copies a fixed list of optional
properties without ``Layers``; ``LayerVersion.cloudformation_name_type`` says ``LayerVersion``;
``LayerVersion`` has no ``physical_resource_id``, no update and no delete.
Fix: pass ``Layers`` (and clear ``Layers``/``Environment`` when an update removes them); name the
layer from ``LayerName``; ``Ref`` is the version ARN; an update publishes a new version (a layer
version is immutable, so CloudFormation replaces it); delete removes the version.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.models import LambdaFunction, LayerVersion
from moto.awslambda.utils import get_backend

_original_function_create = LambdaFunction.create_from_cloudformation_json
_original_function_update = LambdaFunction.update_from_cloudformation_json


def _function_create(
    cls: type[LambdaFunction],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    fn = _original_function_create.__func__(  # type: ignore[attr-defined]  # unbound classmethod
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    properties = cloudformation_json["Properties"]
    fn.layers = fn._get_layers_data(properties.get("Layers", []))
    if "Architectures" in properties:
        fn.architectures = properties["Architectures"]
    return fn


def _function_update(
    cls: type[LambdaFunction],
    original_resource: LambdaFunction,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LambdaFunction:
    fn = _original_function_update.__func__(  # type: ignore[attr-defined]  # unbound classmethod
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    properties = cloudformation_json["Properties"]
    # CloudFormation sets the whole configuration: a property removed from the template is reset.
    fn.layers = fn._get_layers_data(properties.get("Layers", []))
    fn.environment_vars = properties.get("Environment", {}).get("Variables", {})
    return fn


def _layer_create(
    cls: type[LayerVersion],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LayerVersion:
    properties = cloudformation_json["Properties"]
    spec: dict[str, Any] = {"Content": properties["Content"], "LayerName": resource_name}
    for prop in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
        if prop in properties:
            spec[prop] = properties[prop]
    return get_backend(account_id, region_name).publish_layer_version(spec)


def _layer_update(
    cls: type[LayerVersion],
    original_resource: LayerVersion,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LayerVersion:
    # Immutable: CloudFormation publishes a replacement version. The old version is kept, as with
    # a retained replacement, so functions not yet updated in this deployment still resolve it.
    return _layer_create(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _layer_delete(self: LayerVersion, account_id: str, region: str) -> None:
    get_backend(account_id, region).delete_layer_version(self.name, str(self.version))


def apply() -> None:
    LambdaFunction.create_from_cloudformation_json = classmethod(_function_create)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
    LambdaFunction.update_from_cloudformation_json = classmethod(_function_update)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
    LayerVersion.create_from_cloudformation_json = classmethod(_layer_create)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
    LayerVersion.update_from_cloudformation_json = classmethod(_layer_update)  # type: ignore[assignment,method-assign,arg-type]  # the patch itself
    LayerVersion.cloudformation_name_type = staticmethod(lambda: "LayerName")  # type: ignore[method-assign]  # CFN's property
    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]  # Ref = version ARN
    LayerVersion.delete = _layer_delete  # type: ignore[attr-defined]  # called by moto's stack delete
