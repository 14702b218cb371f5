"""Template assertions for the scheduled pipeline: the state machine, its schedule, roles and alarms.

What the local AWS cannot show (EventBridge Scheduler does not fire, no CloudWatch alarm
evaluates) is asserted here on the synthesized templates, and every environment's definition goes
through an Amazon States Language validator. The guarded runtime paths run on the local AWS's
interpreter: tests/pipeline/test_state_machine_limits.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.infra.conftest import CloudAssembly, resources_of
from tests.support.cdk_cli import REPO_ROOT
from vectora_constructs.pipeline_state_machine import RETRIED_ERRORS, STEPS
from vectora_core.environments import PIPELINE_TIMEZONE, get_env_config
from vectora_core.naming import (
    ALARM_TOPIC,
    Function,
    Pipeline,
    StackComponent,
    resource_name,
    role_name,
    state_machine_log_group_name,
)


def _text(value: Any) -> str:
    """A template value as text: Fn::Join flattened, Ref / GetAtt shown as ``<Ref X>`` / ``<X.Arn>``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if "Ref" in value:
        return f"<Ref {value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    raise AssertionError(f"unexpected template value {value}")


def _machine(assembly: CloudAssembly, env: str) -> tuple[str, dict]:
    (item,) = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::StepFunctions::StateMachine").items()
    return item


def _definition(assembly: CloudAssembly, env: str) -> dict:
    return json.loads(_text(_machine(assembly, env)[1]["Properties"]["DefinitionString"]))


def _states(definition: dict) -> dict[str, dict]:
    """Every state, nested Map item processors included, by name."""
    found: dict[str, dict] = {}
    for name, state in definition["States"].items():
        found[name] = state
        if "ItemProcessor" in state:
            found.update(_states(state["ItemProcessor"]))
    return found


def _function_ids(assembly: CloudAssembly, env: str) -> dict[str, str]:
    """Logical id -> function name of the three pipeline functions."""
    functions = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::Lambda::Function")
    names = {resource_name(f, env) for f in Function}
    return {
        k: v["Properties"]["FunctionName"]
        for k, v in functions.items()
        if v["Properties"]["FunctionName"] in names
    }


def test_state_machine_is_named_logged_with_the_env_retention_traced_and_uses_the_iam_role(
    assembly: CloudAssembly, env: str
) -> None:
    _, machine = _machine(assembly, env)
    props = machine["Properties"]
    assert props["StateMachineName"] == resource_name(Pipeline.STATE_MACHINE, env)
    assert _text(props["RoleArn"]).endswith(f":role/{role_name(Pipeline.STATE_MACHINE, env)}")
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["LogGroupName"] == state_machine_log_group_name(env)
    assert group["Properties"]["RetentionInDays"] == get_env_config(env).log_retention_days


def test_every_task_invokes_a_pipeline_function_and_retries_throttling_but_never_a_timeout(
    assembly: CloudAssembly, env: str
) -> None:
    states = _states(_definition(assembly, env))
    functions = _function_ids(assembly, env)
    lambda_tasks = {
        n: s for n, s in states.items() if s["Type"] == "Task" and "lambda:invoke" in s["Resource"]
    }
    assert set(lambda_tasks) == {"ListClients", "Ingest", "NormalizeBatch", "Merge", "Newsletter"}
    invoked = {}
    for name, task in lambda_tasks.items():
        target = task["Parameters"]["FunctionName"].strip("<>").removesuffix(".Arn")
        invoked[name] = functions[target]
        (retry,) = task["Retry"]
        assert retry["ErrorEquals"] == list(RETRIED_ERRORS)
        # a timed-out invocation still runs: retrying it would run two at once (double Bedrock load)
        assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
        assert not {"States.Timeout", "States.ALL"} & set(retry["ErrorEquals"])
        assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3 and retry["JitterStrategy"] == "FULL"
        # the task gives up after the function's own timeout (plus a margin), never before
        assert task["TimeoutSeconds"] > get_env_config(env).lambda_timeout_seconds
    assert invoked == {
        "ListClients": resource_name(Function.INGEST, env),
        "Ingest": resource_name(Function.INGEST, env),
        "NormalizeBatch": resource_name(Function.NORMALIZE_SCORE, env),
        "Merge": resource_name(Function.NORMALIZE_SCORE, env),
        "Newsletter": resource_name(Function.NEWSLETTER, env),
    }


def test_batches_run_in_a_map_bounded_by_the_env_concurrency_sized_by_ingest(
    assembly: CloudAssembly, env: str
) -> None:
    config = get_env_config(env)
    states = _states(_definition(assembly, env))
    batches = states["NormalizeBatches"]
    assert batches["Type"] == "Map" and batches["MaxConcurrency"] == config.pipeline_max_concurrency
    assert batches["ItemsPath"] == "$.ingest.batch_indexes"
    # ingest evens the batches out for the Map (at most the env's size, the Map's concurrency at once)
    # and every batch gets the size its answer says
    payload = states["Ingest"]["Parameters"]["Payload"]
    assert payload["batch_size"] == config.pipeline_batch_size
    assert payload["batches_in_flight"] == config.pipeline_max_concurrency
    assert states["Ingest"]["ResultSelector"]["batch_size.$"] == "$.Payload.batch_size"
    assert batches["ItemSelector"]["batch_size.$"] == "$.ingest.batch_size"
    # clients one after the other: they share the account's Bedrock quota
    assert states["Clients"]["Type"] == "Map" and states["Clients"]["MaxConcurrency"] == 1


def test_a_failing_step_is_recorded_and_the_failure_path_notifies_the_alarm_topic_where_there_is_one(
    assembly: CloudAssembly, env: str
) -> None:
    definition = _definition(assembly, env)
    states = _states(definition)
    for step in STEPS:
        (catch,) = states[step]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == f"{step}Failed"
        record = states[f"{step}Failed"]["Parameters"]
        # step and error name only: a cause may be absent, and is up to 32,768 characters
        assert record == {
            "client_id.$": "$.client_id",
            "status": "failed",
            "step": step,
            "error.$": "$.error.Error",
        }
    for top in ("ListClients", "Clients"):
        assert [c["Next"] for c in states[top]["Catch"]] == ["PipelineErrorHasCause"]
    # "$.error.Cause" is read only where a Choice found it
    has_cause = states["PipelineErrorHasCause"]
    assert has_cause["Choices"] == [
        {"Variable": "$.error.Cause", "IsPresent": True, "Next": "PipelineFailed"}
    ]
    assert has_cause["Default"] == "PipelineFailedWithoutCause"
    readers = {n for n, s in states.items() if "$.error.Cause" in json.dumps(s.get("Parameters", {}))}
    assert readers == {"PipelineFailed"}
    # the summary (ArrayContains over "$.results[*]") only runs when there is a result
    assert states["AnyClientRun"]["Choices"] == [
        {"Variable": "$.results[0]", "IsPresent": True, "Next": "Summarize"}
    ]
    assert states["AnyClientRun"]["Default"] == "NoClient" and states["Clients"]["Next"] == "AnyClientRun"
    assert states["Failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.failure.error",
        "CausePath": "$.failure.cause",
    }
    topics = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::SNS::Topic")
    if not get_env_config(env).alarms_enabled:
        assert states["PipelineFailed"]["Next"] == states["ClientsFailure"]["Next"] == "Failed"
        assert "NotifyFailure" not in states
        return
    (topic_id,) = topics
    notify = states["NotifyFailure"]
    assert states["ClientsFailed"]["Next"] == "ClientsFailure"
    assert {
        states[n]["Next"] for n in ("PipelineFailed", "PipelineFailedWithoutCause", "ClientsFailure")
    } == {"NotifyFailure"}
    assert notify["Resource"].endswith(":states:::sns:publish") and notify["Next"] == "Failed"
    assert notify["Parameters"]["TopicArn"] == f"<Ref {topic_id}>"
    # a notification that cannot be sent still ends in the failure
    assert [c["Next"] for c in notify["Catch"]] == ["Failed"]


def _role_statements(assembly: CloudAssembly, env: str, name: str) -> tuple[dict, list[dict]]:
    roles = resources_of(assembly, StackComponent.IAM, env, "AWS::IAM::Role")
    (role,) = [r for r in roles.values() if r["Properties"]["RoleName"] == name]
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    return role, statements


def _listify(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_the_state_machine_role_invokes_only_the_three_functions_and_publishes_only_to_the_alarm_topic(
    assembly: CloudAssembly, env: str
) -> None:
    role, statements = _role_statements(assembly, env, role_name(Pipeline.STATE_MACHINE, env))
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]  # no confused deputy
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        for action in _listify(statement["Action"]):
            by_action.setdefault(action, []).extend(_text(r) for r in _listify(statement["Resource"]))
    invoked = sorted(arn.rsplit(":function:", 1)[1] for arn in by_action.pop("lambda:InvokeFunction"))
    assert invoked == sorted(resource_name(f, env) for f in Function)
    published = by_action.pop("sns:Publish", [])
    if get_env_config(env).alarms_enabled:
        assert [arn.rsplit(":", 1)[1] for arn in published] == [resource_name(ALARM_TOPIC, env)]
    else:
        assert published == []
    # the rest: log delivery and X-Ray, which have no resource-level permissions
    assert {a.split(":")[0] for a in by_action} == {"logs", "xray"}
    assert not any(a.startswith(("lambda:", "states:", "s3:", "bedrock:")) for a in by_action)


def test_the_scheduler_role_only_starts_this_environments_state_machine(
    assembly: CloudAssembly, env: str
) -> None:
    role, statements = _role_statements(assembly, env, role_name(Pipeline.SCHEDULER, env))
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    (statement,) = statements
    assert statement["Action"] == "states:StartExecution"
    assert _text(statement["Resource"]).endswith(
        f":stateMachine:{resource_name(Pipeline.STATE_MACHINE, env)}"
    )


def test_the_weekly_schedule_is_off_in_dev_on_in_stage_and_prod_in_paris_time(
    assembly: CloudAssembly, env: str
) -> None:
    config = get_env_config(env)
    schedules = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::Scheduler::Schedule")
    machine_id, _ = _machine(assembly, env)
    assert len(schedules) == len(config.pipeline_schedules) == 1
    (schedule,) = (s["Properties"] for s in schedules.values())
    assert schedule["Name"] == resource_name("pipeline-weekly", env)
    assert schedule["State"] == ("DISABLED" if env == "dev" else "ENABLED")
    assert schedule["ScheduleExpressionTimezone"] == PIPELINE_TIMEZONE == "Europe/Paris"
    assert schedule["ScheduleExpression"] == dict(config.pipeline_schedules)["weekly"]
    target = schedule["Target"]
    assert target["Arn"] == {"Ref": machine_id}
    assert json.loads(target["Input"]) == {"frequency": "weekly"}
    assert _text(target["RoleArn"]).endswith(f":role/{role_name(Pipeline.SCHEDULER, env)}")


def test_failed_and_timed_out_executions_alarm_in_stage_and_prod(assembly: CloudAssembly, env: str) -> None:
    alarms = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::CloudWatch::Alarm")
    machine_id, _ = _machine(assembly, env)
    executions = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/States"
    }
    if env == "dev":
        assert executions == {}
        return
    assert sorted(executions) == sorted(
        resource_name(f"pipeline-executions-{label}", env) for label in ("failed", "timed-out")
    )
    for alarm in executions.values():
        assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# asl-validator (pinned in package.json) reads a plain definition: the template's references become
# ARNs of their kind, so its Resource and path checks apply.
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-3", "AWS::AccountId": "123456789012"}


def _resolved(value: Any) -> str:
    """A DefinitionString with Ref / GetAtt replaced: pseudo parameters by values, a function's Arn
    by a Lambda ARN, any other Ref (the alarm topic) by an SNS topic ARN."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolved(part) for part in parts)
    if "Ref" in value:
        return _PSEUDO.get(value["Ref"], f"arn:aws:sns:eu-west-3:123456789012:{value['Ref']}")
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return f"arn:aws:lambda:eu-west-3:123456789012:function:{value['Fn::GetAtt'][0]}"
    raise AssertionError(f"unexpected template value {value}")


def test_the_definition_is_valid_amazon_states_language(
    assembly: CloudAssembly, env: str, tmp_path: Path
) -> None:
    definition = tmp_path / f"pipeline-{env}.asl.json"
    definition.write_text(_resolved(_machine(assembly, env)[1]["Properties"]["DefinitionString"]))
    result = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(definition)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # and the validator does fail a broken one (a transition to no state)
    broken = json.loads(definition.read_text())
    broken["States"]["AnyClientRun"]["Default"] = "NoSuchState"
    definition.write_text(json.dumps(broken))
    result = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(definition)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and "NoSuchState" in result.stdout + result.stderr
