"""cdk-nag acknowledgements: one call per rule, each with a real reason (cdk-nag 3 API)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: Iterable[str] = ()) -> None:
    """Acknowledge ``rule`` on ``scope``: the rule itself, or each finding (``Rule[finding]``) given.

    cdk-nag 3 has no prefix matching: a rule with findings (e.g. AwsSolutions-IAM5 per wildcard
    resource) is acknowledged finding by finding, so a new wildcard is never silently accepted.
    """
    ids = [f"{rule}[{finding}]" for finding in findings] or [rule]
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in ids))


def add_security_checks(app: App) -> None:
    """Run the AWS Solutions rules on every synth: an unacknowledged finding fails synthesis.

    No scope is passed: cdk-nag 3 uses it only to add an aspect that copies acknowledgements into
    template metadata (v2 compatibility), which we do not use and which costs synth time.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks())
