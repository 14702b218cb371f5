"""prod's reinforced monitoring, on the template (the emulator evaluates no alarm): a
``ReinforcedMonitoringUntil`` parameter (default 0: never armed) and the stricter alarms whose
metric math reads the metric before that instant and 0 after it; stage and dev have neither. The
value a promotion sets is asserted on the deployed prod stack (test_e2e_e_prod)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks import build_environment
from stacks.context import with_alarm_emails
from tests.promotion.support import REPO_ROOT
from tests.support.cdk_cli import TEST_ALARM_EMAIL
from vectora_core.environments import ENVIRONMENTS
from vectora_core.naming import REINFORCED_PARAMETER, Function


@pytest.fixture(scope="module")
def runtime_templates() -> dict[str, dict[str, Any]]:
    app = cdk.App(context=json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
    built = {
        config.name: build_environment(app, config)
        for config in with_alarm_emails(list(ENVIRONMENTS.values()), TEST_ALARM_EMAIL)
    }
    return {env: Template.from_stack(stacks.runtime).to_json() for env, stacks in built.items()}


def reinforced(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "-reinforced-" in r["Properties"]["AlarmName"]
    }


def test_the_parameter_the_promotion_sets_is_the_one_the_stack_declares(runtime_templates: dict) -> None:
    parameter = runtime_templates["prod"]["Parameters"][REINFORCED_PARAMETER]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    for env in ("dev", "stage"):
        assert REINFORCED_PARAMETER not in runtime_templates[env].get("Parameters", {})
        assert reinforced(runtime_templates[env]) == {}


def test_reinforced_alarms_breach_only_before_the_parameter(runtime_templates: dict) -> None:
    alarms = reinforced(runtime_templates["prod"])
    expected = {"any-source-failed", "bedrock-throttled"} | {
        f"{f}-{kind}" for f in Function for kind in ("duration", "errors-1min")
    }
    assert set(alarms) == {f"vectora-inbox-reinforced-{label}-prod" for label in expected}
    for name, props in alarms.items():
        (expression,) = [m for m in props["Metrics"] if "Expression" in m]
        (metric,) = [m for m in props["Metrics"] if "MetricStat" in m]
        # IF(EPOCH(m) < <until>, m, 0): the metric during the watch, 0 once it has ended
        assert expression["Expression"] == {
            "Fn::Join": ["", ["IF(EPOCH(m) < ", {"Ref": REINFORCED_PARAMETER}, ", m, 0)"]]
        }, name
        assert metric["Id"] == "m" and metric["ReturnData"] is False
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching" and props["AlarmActions"], name
        if name.endswith("-duration-prod"):
            assert metric["MetricStat"]["Metric"]["MetricName"] == "Duration"
            assert props["Threshold"] == ENVIRONMENTS["prod"].lambda_timeout_seconds * 1000 / 2
        elif name.endswith("-errors-1min-prod"):
            assert (metric["MetricStat"]["Metric"]["MetricName"], metric["MetricStat"]["Period"]) == (
                "Errors",
                60,
            )
            assert props["Threshold"] == 1
        else:
            assert metric["MetricStat"]["Metric"]["Namespace"] == "VectoraInbox" and props["Threshold"] == 1
