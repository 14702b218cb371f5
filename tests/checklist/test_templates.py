"""The template items: ✓ on the session's synth of every environment, ✗ on a copy broken for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.checklist.conftest import Edit, resources
from vectora_ops.checklist import ITEMS, Status
from vectora_ops.checklist.context import Context

TEMPLATE_ITEMS = [item for item in ITEMS if item.kind == "template" and not item.id.startswith("client-")]


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
@pytest.mark.parametrize("item", TEMPLATE_ITEMS, ids=lambda i: i.id)
def test_every_template_item_passes_on_the_synthesized_templates(
    intact: Callable[[str], Context], env: str, item: Any
) -> None:
    result = item.check(intact(env))
    assert result.status is Status.PASSED, result.evidence
    assert "\n" not in result.evidence


def check(broken: Callable[[str, Edit], Context], item_id: str, env: str, edit: Edit) -> str:
    item = next(i for i in ITEMS if i.id == item_id)
    result = item.check(broken(env, edit))
    assert result.status is Status.FAILED, result.evidence
    return result.evidence


def test_env_identified_fails_on_a_function_of_another_env(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        function = resources(templates, "AWS::Lambda::Function", "stage")[-1]
        function["Properties"]["Environment"]["Variables"]["ENV"] = "prod"

    assert "ENV is not 'stage'" in check(broken, "env-identified", "stage", edit)


def test_naming_fails_on_a_name_without_the_env(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        resources(templates, "AWS::S3::Bucket", "dev")[0]["Properties"]["BucketName"] = "vectora-inbox-config"

    assert "'vectora-inbox-config' is not vectora-inbox-<component>-dev" in check(
        broken, "naming", "dev", edit
    )


def test_variables_fail_on_a_wrong_log_level(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        for function in resources(templates, "AWS::Lambda::Function", "prod"):
            if "LOG_LEVEL" in function["Properties"]["Environment"]["Variables"]:
                function["Properties"]["Environment"]["Variables"]["LOG_LEVEL"] = "DEBUG"

    assert "LOG_LEVEL='DEBUG' (want 'INFO')" in check(broken, "env-variables", "prod", edit)


def test_variables_fail_on_an_extra_variable_in_stage(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        resources(templates, "AWS::Lambda::Function", "stage")[-1]["Properties"]["Environment"]["Variables"][
            "X"
        ] = "1"

    assert "X is not one of its variables" in check(broken, "env-variables", "stage", edit)


def test_buckets_fail_on_another_envs_bucket(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        for function in resources(templates, "AWS::Lambda::Function", "stage"):
            variables = function["Properties"]["Environment"]["Variables"]
            if "DATA_BUCKET" in variables:
                variables["DATA_BUCKET"] = "vectora-inbox-data-prod"

    assert "DATA_BUCKET=vectora-inbox-data-prod" in check(broken, "buckets", "stage", edit)


def test_stack_order_fails_without_a_dependency(broken: Callable[[str, Edit], Context]) -> None:
    def edit(_templates: dict, manifest: dict) -> None:
        runtime = manifest["artifacts"]["vectora-inbox-s1-runtime-dev"]
        runtime["dependencies"] = [d for d in runtime["dependencies"] if d != "vectora-inbox-s0-iam-dev"]

    evidence = check(broken, "stack-order", "dev", edit)
    assert "vectora-inbox-s1-runtime-dev does not depend on vectora-inbox-s0-iam-dev" in evidence


def test_parameters_fail_on_a_wrong_log_retention(broken: Callable[[str, Edit], Context]) -> None:
    def edit(templates: dict, _manifest: dict) -> None:
        resources(templates, "AWS::Logs::LogGroup", "prod")[0]["Properties"]["RetentionInDays"] = 14

    assert "log retention 14 days, want 90" in check(broken, "parameters", "prod", edit)
