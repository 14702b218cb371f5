"""Template diff summary: what deploying a stack's new template would change, resource by resource.

Compared by logical id: a resource is added, removed, or changed when anything but its CDK
metadata differs (type, properties, dependencies, policies). Changes that touch permissions (IAM
roles and policies, resource policies, Lambda permissions) are flagged: they deserve a reviewer's
eye before an approval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

PERMISSION_TYPES: Final = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Permission",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
    }
)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    new_stack: bool
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    permissions: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.new_stack or self.added or self.changed or self.removed)

    def summary(self) -> str:
        if self.empty:
            return "no change"
        if self.new_stack:
            return f"new stack ({len(self.added)} resources)"
        parts = []
        parts += [
            f"{len(v)} {k}"
            for k, v in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if v
        ]
        if self.permissions:
            parts.append(f"PERMISSIONS: {', '.join(self.permissions)}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new_stack": self.new_stack,
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "permissions": list(self.permissions),
        }


def _comparable(resource: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in resource.items() if k != "Metadata"}, sort_keys=True)


def _label(logical_id: str, resource: dict[str, Any]) -> str:
    return f"{logical_id} ({resource.get('Type', '?')})"


def diff_templates(stack: str, new: dict[str, Any], old: dict[str, Any] | None) -> StackDiff:
    """``new`` (the template to deploy) against ``old`` (deployed; None: the stack does not exist)."""
    new_resources: dict[str, Any] = new.get("Resources", {})
    old_resources: dict[str, Any] = (old or {}).get("Resources", {})
    added = sorted(set(new_resources) - set(old_resources))
    removed = sorted(set(old_resources) - set(new_resources))
    changed = sorted(
        k
        for k in set(new_resources) & set(old_resources)
        if _comparable(new_resources[k]) != _comparable(old_resources[k])
    )
    touched = [(k, new_resources.get(k) or old_resources[k]) for k in (*added, *changed, *removed)]
    permissions = sorted(k for k, r in touched if r.get("Type") in PERMISSION_TYPES)
    return StackDiff(
        stack=stack,
        new_stack=old is None,
        added=tuple(_label(k, new_resources[k]) for k in added),
        changed=tuple(_label(k, new_resources[k]) for k in changed),
        removed=tuple(_label(k, old_resources[k]) for k in removed),
        permissions=tuple(permissions),
    )
