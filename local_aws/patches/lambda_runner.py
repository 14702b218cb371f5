"""Patch: Lambda Invoke without Docker.

Symptom: without a Docker engine every Invoke answers ``error running docker``; custom resources
never answer CloudFormation, so stacks hang or complete with empty attributes. moto's docker-less
mode (``awslambda_simple``) only echoes the event back.
Cause: ``LambdaFunction._invoke_lambda`` always runs the handler in a Docker container.
Fix: run it in a subprocess of the runtime's own Python (``local_aws.lambda_runtime.runner``; on a
machine without it, the emulator's base interpreter, with a warning in the log), kept warm for the
next invocation as Lambda keeps its execution environments (``LOCAL_AWS_LAMBDA_WARM=0``: a fresh
interpreter each time):
function code, layers and the runtime SDK on ``sys.path`` and nothing else, the function's
environment plus ``AWS_ENDPOINT_URL`` back to the emulator, the execution role's temporary
credentials (``local_aws.iam.credentials``) and the region;
bounded by the function's timeout. Output goes to the function's CloudWatch log group, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import LambdaFunction

from local_aws.iam import credentials
from local_aws.lambda_runtime import runner, workers


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    self.logs_backend.ensure_log_group(self.logs_group_name)
    try:
        result = runner.invoke(self, event if event is not None else {})
    except runner.RuntimeNotFoundError as err:
        self.save_logs(str(err))
        return json.dumps({"errorMessage": str(err), "errorType": "Runtime.InvalidRuntime"}), True, str(err)
    except credentials.RoleCredentialsError as err:
        # Lambda's answer when it cannot assume the execution role (its trust policy refuses it).
        message = f"The role defined for the function cannot be assumed by Lambda. {err}"
        self.save_logs(message)
        return json.dumps({"errorMessage": message, "errorType": "InvalidRuntimeException"}), True, message
    self.save_logs(result.logs or "(no output)")
    return result.payload, result.errored, result.logs


def apply() -> None:
    workers.warm_enabled()  # a bad LOCAL_AWS_LAMBDA_WARM stops the start, with one line
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]  # the patch itself
