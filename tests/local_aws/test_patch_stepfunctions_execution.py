"""The ``stepfunctions_execution`` patch: a state machine a stack created runs for real, its Lambda
task through the Docker-free runner, its retry and catch as the ASL says; and without the patch
the same check fails (moto's simulated executions never call the function)."""

from __future__ import annotations

import json
import time
from typing import Any

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, create_function, deploy_with_change_set, outputs, uid
from tests.local_aws.test_patches import assert_patch_needed

HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail: " + event["fail"])
    return {"doubled": event["n"] * 2}
"""


def _template(function_arn: str, name: str) -> dict[str, Any]:
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "ResultSelector": {"doubled.$": "$.Payload.doubled"},
                "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recorded"}],
                "End": True,
            },
            "Recorded": {"Type": "Pass", "Parameters": {"failed.$": "$.error.Error"}, "End": True},
        },
    }
    # The tasks run as the state machine's role (the emulator evaluates IAM): it may invoke the function.
    trust = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    invoke = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": f"{name}-role",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "Policies": [
                        {
                            "PolicyName": "invoke",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": [invoke]},
                        }
                    ],
                },
            },
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": name,
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "DefinitionString": json.dumps(definition),
                },
            },
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}},
    }


def _run(aws: LocalAws, arn: str, payload: dict[str, Any], timeout_s: float = 20) -> dict[str, Any]:
    sfn = client(aws, "stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + timeout_s
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution} still RUNNING after {timeout_s:.0f} s")
        time.sleep(0.2)


def check_stack_state_machine_runs(aws: LocalAws) -> None:
    u = uid()
    function = create_function(aws, f"local-aws-test-sfn-{u}", {"index.py": HANDLER})
    stack = deploy_with_change_set(
        aws, f"local-aws-test-sfn-{u}", _template(function["FunctionArn"], f"m-{u}")
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    arn = outputs(stack)["Arn"]
    done = _run(aws, arn, {"n": 21})
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"doubled": 42}
    # the function's own error goes to the Catch, as on AWS
    failed = _run(aws, arn, {"n": 1, "fail": "test"})
    assert failed["status"] == "SUCCEEDED" and json.loads(failed["output"]) == {"failed": "ValueError"}


def test_stepfunctions_executions_run_stack_state_machines(patched_aws, aws_without) -> None:
    assert_patch_needed("stepfunctions_execution", check_stack_state_machine_runs, patched_aws, aws_without)
