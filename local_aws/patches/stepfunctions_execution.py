"""Patch: Step Functions executions run the state machine, including those CloudFormation created.

Symptom: ``StartExecution`` of a deployed state machine never runs a state (stock moto answers a
canned history), and once moto's ``stepfunctions`` ``execute_state_machine`` setting is on
(``POST /moto-api/config``), a state machine created by a stack is not found at all
(``StateMachineDoesNotExist``).
Cause: moto keeps two Step Functions backends: the plain one (executions are simulated) and the
ASL interpreter's, chosen per request by that setting; its CloudFormation model always creates,
updates and deletes in the plain one.
Fix: the server starts with the setting on (the interpreter runs every state; its Lambda tasks
call the emulator's Lambda API, so the Docker-free runner runs them), and CloudFormation uses the
backend the setting selects; a ``StartExecution`` without a name gets a generated one, as on AWS
(the interpreter's backend named every such execution ``None``: the second one was refused with
``ExecutionAlreadyExists``). Setting it off again on the running emulator
(``{"stepfunctions": {"execute_state_machine": false}}``) gives moto's simulated executions back,
for state machines created from then on.
The interpreter's service calls (a Lambda task's ``Invoke``, an SDK integration) are made with the
state machine's role's credentials, assumed as ``states.amazonaws.com`` (its trust policy checked):
the IAM gate then evaluates ``lambda:InvokeFunction`` for that role (moto used dummy keys).
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any, Final

from botocore.config import Config
from moto.core.config import default_user_config
from moto.stepfunctions import models, responses
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local_aws.iam import credentials


class _SelectedBackends:
    """``stepfunctions_backends[account][region]`` as the responses choose it (the setting)."""

    def __getitem__(self, account_id: str) -> Any:
        return _SelectedRegions(account_id)


class _SelectedRegions:
    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    def __getitem__(self, region_name: str) -> Any:
        return responses.get_backend(self.account_id, region_name)


_start_execution = StepFunctionsParserBackend.start_execution


def _start_named_execution(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: Any = None,
    trace_header: Any = None,
) -> Any:
    return _start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)


_ASL: Final = "moto.stepfunctions.parser.asl.component.state.exec"
# Every module of the interpreter that imported moto's boto_client_for (its service clients).
_CLIENT_MODULES: Final = (
    f"{_ASL}.state_task.lambda_eval_utils",
    *(
        f"{_ASL}.state_task.service.state_task_service_{name}"
        for name in (
            "unsupported",
            "glue",
            "events",
            "ecs",
            "sqs",
            "sfn",
            "dynamodb",
            "batch",
            "sns",
            "aws_sdk",
        )
    ),
    f"{_ASL}.state_map.result_writer.resource_eval.resource_eval_s3",
    f"{_ASL}.state_map.item_reader.eval.resource_eval_s3",
)


def _client_as_role(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's ``boto_client_for``, with the state's role's credentials instead of dummy keys."""
    role_arn = getattr(state_credentials, "role_arn", None) or default_role_arn(region)
    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
    )
    return credentials.client_for_role(role_arn, "states.amazonaws.com", service, region, config=config)


def default_role_arn(region: str) -> str:
    raise credentials.RoleCredentialsError(f"a state machine task in {region} has no role to run as")


def apply() -> None:
    for name in _CLIENT_MODULES:
        importlib.import_module(name).boto_client_for = _client_as_role  # type: ignore[attr-defined]
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    # StateMachine's CloudFormation methods read this module global; the backends' own code and
    # moto's reset use the BackendDict objects themselves, which stay untouched.
    models.stepfunctions_backends = _SelectedBackends()  # type: ignore[assignment]  # the patch itself
    StepFunctionsParserBackend.start_execution = _start_named_execution  # type: ignore[method-assign]
