"""Patch: a template's ``AWS::KMS::Key`` with ``Tags`` is created, tagged.

Symptom: deploying a stack whose KMS key carries tags (the CDK's stack tags reach every taggable
resource) fails on the key with ``KeyError: 'TagKey'``; stage and prod's alarm topic key is one.
Cause: moto's ``Key.create_from_cloudformation_json`` hands the template's ``Tags`` to
``create_key``, whose tagger reads KMS's API shape (``TagKey``/``TagValue``), whereas
CloudFormation's shape is ``Key``/``Value``.
Fix: the template's tags are translated to the API's shape before moto's own model runs, so the
key is created with them (``ListResourceTags`` shows them, as on AWS).
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import Key

_original_create = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _api_tags(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's ``{Key, Value}`` as KMS's ``{TagKey, TagValue}`` (already API-shaped: kept)."""
    return [
        tag if "TagKey" in tag else {"TagKey": tag["Key"], "TagValue": tag.get("Value", "")} for tag in tags
    ]


def _create_from_cloudformation_json(
    cls: type[Key], resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
) -> Key:
    properties = cloudformation_json.get("Properties", {})
    if properties.get("Tags"):
        properties = {**properties, "Tags": _api_tags(properties["Tags"])}
        cloudformation_json = {**cloudformation_json, "Properties": properties}
    return _original_create(cls, resource_name, cloudformation_json, *args, **kwargs)  # type: ignore[no-any-return]


def apply() -> None:
    Key.create_from_cloudformation_json = classmethod(_create_from_cloudformation_json)  # type: ignore[method-assign,assignment]
