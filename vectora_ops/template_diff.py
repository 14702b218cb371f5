"""What deploying a stack's new template would change, resource by resource: one comparison for
``diff_summary.py`` (the table and the job summary), the guarded deploy's and the promotion's plans
and the takeover's plan.

Compared by logical id, CDK's version-reporting resource left out (it deploys nothing): a resource
is added, removed, or changed when its type, a property or an attribute (DependsOn, policies...)
differs, its Metadata aside. A change that touches permissions or security (IAM, KMS, resource
policies, encryption, public access...) carries its categories: it deserves a reviewer's eye before
an approval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

# Resource types whose every change is a permission or security change.
SECURITY_TYPES: Final = (
    ("AWS::IAM::", "IAM"),
    ("AWS::KMS::", "KMS"),
    ("AWS::Lambda::Permission", "Lambda permission"),
    ("AWS::Lambda::Url", "Lambda permission"),
    ("AWS::S3::BucketPolicy", "resource policy"),
    ("AWS::SNS::TopicPolicy", "resource policy"),
    ("AWS::SQS::QueuePolicy", "resource policy"),
    ("AWS::SecretsManager::ResourcePolicy", "resource policy"),
    ("AWS::EC2::SecurityGroup", "security group"),
)
# Properties (of any resource type) whose change is one.
SECURITY_PROPERTIES: Final = {
    "Role": "IAM",
    "Policies": "IAM",
    "ManagedPolicyArns": "IAM",
    "AssumeRolePolicyDocument": "IAM",
    "PermissionsBoundary": "IAM",
    "PolicyDocument": "IAM",
    "PublicAccessBlockConfiguration": "public access",
    "AccessControl": "public access",
    "OwnershipControls": "public access",
    "BucketEncryption": "encryption",
    "SSESpecification": "encryption",
    "EncryptionConfiguration": "encryption",
    "KmsKeyId": "KMS",
    "KmsKeyArn": "KMS",
    "KmsMasterKeyId": "KMS",
    "VpcConfig": "security group",
    "SecurityGroupIds": "security group",
    "SecurityGroups": "security group",
}
# CDK's version-reporting resource: it changes with the CLI's and the library's usage data, and
# deploys nothing (cdk diff hides it too, and the pre-update snapshot's fingerprint leaves it out).
CDK_METADATA_TYPE: Final = "AWS::CDK::Metadata"
# What a resource's change is, in the order the plans list them.
KINDS: Final = ("added", "changed", "removed")
# Template sections compared besides Resources (a changed output is a change to deploy too).
OTHER_SECTIONS: Final = ("Parameters", "Outputs", "Conditions", "Mappings", "Rules", "Transform")


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    type: str
    kind: str  # one of KINDS
    fields: tuple[str, ...]  # changed (or, added/removed: present) properties and attributes
    flags: tuple[str, ...]  # the security categories it touches, empty if none

    def describe(self) -> str:
        fields = f": {', '.join(self.fields)}" if self.kind == "changed" and self.fields else ""
        return f"{self.logical_id} ({self.type}{fields})"


@dataclass(frozen=True)
class StackSummary:
    env: str
    stack: str
    deployed: bool
    changes: tuple[ResourceChange, ...]
    other_sections: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return bool(self.changes or self.other_sections or not self.deployed)

    def of_kind(self, kind: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.kind == kind]

    def flags(self) -> list[str]:
        """Each security category touched, with how many resources touch it: ``IAM (2)``."""
        counts = Counter(flag for change in self.changes for flag in change.flags)
        return [f"{flag} ({n})" for flag, n in sorted(counts.items())]


def _security_flags(resource_type: str, fields: Iterable[str]) -> tuple[str, ...]:
    flags = {label for prefix, label in SECURITY_TYPES if resource_type.startswith(prefix)}
    flags |= {SECURITY_PROPERTIES[f] for f in fields if f in SECURITY_PROPERTIES}
    return tuple(sorted(flags))


def _fields(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource as the fields a deploy acts on: its properties and attributes, not its Metadata."""
    fields = {k: v for k, v in resource.items() if k not in ("Type", "Properties", "Metadata")}
    fields.update(resource.get("Properties") or {})
    return fields


def _resource_change(
    logical_id: str, new: Mapping[str, Any] | None, old: Mapping[str, Any] | None
) -> ResourceChange | None:
    if new is not None and old is not None:
        if new.get("Type") != old.get("Type"):
            changed = ["Type"]
        else:
            new_fields, old_fields = _fields(new), _fields(old)
            changed = sorted(
                k for k in new_fields.keys() | old_fields.keys() if new_fields.get(k) != old_fields.get(k)
            )
        if not changed:
            return None
        kind, resource, fields = "changed", new, changed
    else:
        resource = new if new is not None else old  # type: ignore[assignment]  # one of them is set
        kind, fields = ("added" if new is not None else "removed"), sorted(_fields(resource))
    resource_type = str(resource.get("Type", "?"))
    return ResourceChange(
        logical_id, resource_type, kind, tuple(fields), _security_flags(resource_type, fields)
    )


def _resources(template: Mapping[str, Any]) -> dict[str, Any]:
    return {k: r for k, r in template.get("Resources", {}).items() if r.get("Type") != CDK_METADATA_TYPE}


def compare(env: str, stack: str, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> StackSummary:
    """``new`` (synthesized) against ``old`` (deployed; ``None``: the stack does not exist)."""
    new_resources, old_resources = _resources(new), _resources(old or {})
    changes = [
        change
        for logical_id in sorted(new_resources.keys() | old_resources.keys())
        if (
            change := _resource_change(
                logical_id, new_resources.get(logical_id), old_resources.get(logical_id)
            )
        )
    ]
    others = tuple(s for s in OTHER_SECTIONS if old is not None and new.get(s) != old.get(s))
    return StackSummary(env, stack, old is not None, tuple(changes), others)


@dataclass(frozen=True)
class StackDiff:
    """The plans' view of a comparison: labels of what is added, changed, removed, and the logical ids
    of the security-sensitive ones (what an audit record keeps)."""

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
        parts = [f"{len(labels)} {kind}" for kind in KINDS if (labels := getattr(self, kind))]
        if self.permissions:
            parts.append(f"PERMISSIONS: {', '.join(self.permissions)}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Every field but ``stack``, the labels as lists (what an audit record keeps)."""
        return {k: v if isinstance(v, bool) else list(v) for k, v in asdict(self).items() if k != "stack"}


def diff_templates(stack: str, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> StackDiff:
    """``new`` (the template to deploy) against ``old`` (deployed; None: the stack does not exist)."""
    summary = compare("", stack, new, old)

    added, changed, removed = (
        tuple(f"{c.logical_id} ({c.type})" for c in summary.of_kind(kind)) for kind in KINDS
    )
    permissions = tuple(sorted(c.logical_id for c in summary.changes if c.flags))
    return StackDiff(stack, old is None, added, changed, removed, permissions)
