"""``skip_checkov``: the one way a checkov skip gets beside its resource, with its reason."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from vectora_constructs.nag import skip_checkov


def _log_group() -> tuple[cdk.Stack, logs.LogGroup]:
    stack = cdk.Stack(cdk.App(), "Fixture")
    return stack, logs.LogGroup(stack, "Logs")


def _skips(stack: cdk.Stack) -> list[dict[str, str]]:
    (resource,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    return resource["Metadata"]["checkov"]["skip"]


def test_skips_add_up_on_the_resource_of_an_l2_construct() -> None:
    stack, group = _log_group()
    skip_checkov(group, "CKV_AWS_158", "  no secret is logged  ")
    skip_checkov(group.node.default_child, "CKV_AWS_66", "retention set")  # type: ignore[arg-type]  # CfnLogGroup
    assert _skips(stack) == [
        {"id": "CKV_AWS_158", "comment": "no secret is logged"},
        {"id": "CKV_AWS_66", "comment": "retention set"},
    ]


def test_a_second_skip_of_the_same_check_replaces_the_first() -> None:
    stack, group = _log_group()
    skip_checkov(group, "CKV_AWS_158", "first")
    skip_checkov(group, "CKV_AWS_158", "second")
    assert _skips(stack) == [{"id": "CKV_AWS_158", "comment": "second"}]


@pytest.mark.parametrize(
    ("check", "reason"), [("CKV_AWS_158", "  "), ("AwsSolutions-L1", "why"), ("", "why")]
)
def test_a_skip_needs_a_checkov_id_and_a_reason(check: str, reason: str) -> None:
    stack, group = _log_group()
    with pytest.raises(ValueError, match="needs a CKV_\\* id and a reason"):
        skip_checkov(group, check, reason)
    (resource,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    assert "Metadata" not in resource


def test_a_construct_without_a_resource_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Fixture")
    with pytest.raises(TypeError, match="no CloudFormation resource"):
        skip_checkov(cdk.Stack(stack, "Nested"), "CKV_AWS_1", "why")  # a stack has no default child
