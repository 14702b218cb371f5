"""Security-rule acknowledgements beside the resources they concern, each with a real reason.

- cdk-nag (runs on every synth): ``acknowledge()``, one call per rule (cdk-nag 3 API).
- checkov (``make checkov``, the CI checks' test): ``skip_checkov()``, written into the
  resource's template ``Metadata`` where checkov reads it.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, App, CfnResource, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

CHECKOV_METADATA_KEY = "checkov"


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: Iterable[str] = ()) -> None:
    """Acknowledge ``rule`` on ``scope``: the rule itself, or each finding (``Rule[finding]``) given.

    cdk-nag 3 has no prefix matching: a rule with findings (e.g. AwsSolutions-IAM5 per wildcard
    resource) is acknowledged finding by finding, so a new wildcard is never silently accepted.
    """
    ids = [f"{rule}[{finding}]" for finding in findings] or [rule]
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in ids))


def skip_checkov(scope: IConstruct, check: str, reason: str) -> None:
    """Skip checkov's ``check`` (``CKV_AWS_117``...) on ``scope``'s CloudFormation resource, with ``reason``.

    ``scope`` is the resource (``CfnResource``) or an L2 construct, whose default child is used.
    The skip lands in the template as ``Metadata: {"checkov": {"skip": [{"id", "comment"}]}}``;
    several calls on one resource add up. Template metadata does not count in the pre-update
    snapshot's fingerprint, so a skip never triggers a snapshot on deploy.
    """
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path}: no CloudFormation resource to put a checkov skip on")
    if not check.startswith(("CKV_", "CKV2_")) or not reason.strip():
        raise ValueError(f"{resource.node.path}: a checkov skip needs a CKV_* id and a reason, got {check!r}")
    existing = resource.get_metadata(CHECKOV_METADATA_KEY) or {}
    skips = [s for s in existing.get("skip", []) if s["id"] != check]
    resource.add_metadata(CHECKOV_METADATA_KEY, {"skip": [*skips, {"id": check, "comment": reason.strip()}]})


def add_security_checks(app: App) -> None:
    """Run the AWS Solutions rules on every synth: an unacknowledged finding fails synthesis.

    No scope is passed: cdk-nag 3 uses it only to add an aspect that copies acknowledgements into
    template metadata (v2 compatibility), which we do not use and which costs synth time.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks())
