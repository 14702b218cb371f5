"""The dev environment deployed by the real CDK CLI on the local AWS (the session's ``deployed_dev``):
every resource by name, each function run with its variables and layers, an env-variable change
redeployed and shown by ``cdk diff``. ``make local`` and destroy: ``test_make_local.py``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from vectora_core.environments import get_env_config
from vectora_core.naming import (
    PROJECT_NAME,
    SNAPSHOT_FUNCTION,
    Bucket,
    EnvVar,
    Function,
    Layer,
    StackComponent,
    resource_name,
    role_name,
)

pytestmark = pytest.mark.e2e

ENV = "dev"
MARKER = "LOCAL_AWS_E2E_MARKER"
# A client no test publishes: handlers get past their imports and settings, then stop at once on
# the missing config (no network, no pipeline work): enough to see what they ran with.
UNKNOWN_CLIENT_EVENT = {"client_id": "local_aws_e2e_unknown"}
IMPORT_ERRORS = {"Runtime.ImportModuleError", "ModuleNotFoundError", "ImportError"}


def _expected_variables(function: str) -> dict[str, str]:
    config = get_env_config(ENV)
    expected = {
        EnvVar.ENV: ENV,
        EnvVar.PROJECT_NAME: PROJECT_NAME,
        EnvVar.CONFIG_BUCKET: resource_name(Bucket.CONFIG, ENV),
        EnvVar.DATA_BUCKET: resource_name(Bucket.DATA, ENV),
        EnvVar.LOG_LEVEL: config.log_level,
    }
    if function == Function.NEWSLETTER:
        expected[EnvVar.NEWSLETTERS_BUCKET] = resource_name(Bucket.NEWSLETTERS, ENV)
    return expected


def _latest_layer_arns(session: Any) -> dict[str, str]:
    lambda_ = session.client("lambda")
    arns = {}
    for layer in Layer:
        versions = lambda_.list_layer_versions(LayerName=resource_name(layer, ENV))["LayerVersions"]
        assert versions, f"layer {resource_name(layer, ENV)} has no version"
        arns[layer] = max(versions, key=lambda v: v["Version"])["LayerVersionArn"]
    return arns


def _invoke(session: Any, function: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(decoded payload, the emulator's record of what the invocation ran with)."""
    name = resource_name(function, ENV)
    response = session.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(UNKNOWN_CLIENT_EVENT).encode()
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        # It may fail on the unknown client, never on what it imports or reads at cold start.
        assert payload.get("errorType") not in IMPORT_ERRORS, payload
    records = session.invocations(name)
    assert records, f"the emulator recorded no invocation of {name}"
    return payload, records[-1]


def test_every_resource_of_dev_exists_by_name(deployed_dev):
    cfn, s3, iam, lambda_ = (deployed_dev.client(s) for s in ("cloudformation", "s3", "iam", "lambda"))
    for stack in StackComponent:
        status = cfn.describe_stacks(StackName=resource_name(stack, ENV))["Stacks"][0]["StackStatus"]
        assert status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (stack, status)
    for bucket in Bucket:
        s3.head_bucket(Bucket=resource_name(bucket, ENV))
    for function in Function:
        role = iam.get_role(RoleName=role_name(function, ENV))["Role"]
        config = lambda_.get_function_configuration(FunctionName=resource_name(function, ENV))
        assert config["Role"] == role["Arn"]  # each function runs with its own role
        assert config["Runtime"] == "python3.13"
    # and the environment's pre-update snapshot function, with its own role
    role = iam.get_role(RoleName=role_name(SNAPSHOT_FUNCTION, ENV))["Role"]
    config = lambda_.get_function_configuration(FunctionName=resource_name(SNAPSHOT_FUNCTION, ENV))
    assert config["Role"] == role["Arn"]
    layer_arns = _latest_layer_arns(deployed_dev)
    assert set(layer_arns) == set(Layer)


@pytest.mark.parametrize("function", Function)
def test_each_function_runs_with_its_variables_and_layers(deployed_dev, function):
    config = deployed_dev.client("lambda").get_function_configuration(
        FunctionName=resource_name(function, ENV)
    )
    layer_arns = _latest_layer_arns(deployed_dev)
    assert sorted(layer["Arn"] for layer in config["Layers"]) == sorted(layer_arns.values())

    _payload, record = _invoke(deployed_dev, function)

    # the handler ran with the function's variables (and the endpoint back to the emulator)
    seen = record["environment"]
    for name, value in _expected_variables(function).items():
        assert seen.get(name) == value, (name, seen.get(name))
    assert seen["AWS_ENDPOINT_URL"] == deployed_dev.endpoint_url
    # and with both layers' python/ folders on its path, before the runtime SDK
    assert sorted(record["layers"]) == sorted(layer_arns.values())
    paths = [Path(p) for p in record["layer_paths"]]
    assert any((p / "vectora_core" / "naming.py").is_file() for p in paths), paths
    assert any((p / "pydantic").is_dir() for p in paths), paths
    sys_path = record["sys_path"]
    assert sys_path.index(record["layer_paths"][0]) < sys_path.index(sys_path[-1])
    assert record["interpreter"].endswith("python3.13")


def test_env_variable_change_is_redeployed_and_shown_by_diff(deployed_dev):
    lambda_ = deployed_dev.client("lambda")
    ingest = resource_name(Function.INGEST, ENV)
    try:
        # when dev is redeployed with one more variable
        deployed_dev.deploy(extra_env={MARKER: "v2"})
        # then every function has it, and the handler sees it
        for function in Function:
            variables = lambda_.get_function_configuration(FunctionName=resource_name(function, ENV))[
                "Environment"
            ]["Variables"]
            assert variables.get(MARKER) == "v2", function
        _, record = _invoke(deployed_dev, Function.INGEST)
        assert record["environment"].get(MARKER) == "v2"

        # and `cdk diff` of the app as deployed shows nothing (--fail: exit 1 on any difference)
        same = json.dumps({MARKER: "v2"}, sort_keys=True)
        unchanged = deployed_dev.cdk(
            "diff", "-c", f"env={ENV}", "--method=template", "--fail", "-c", f"extra_env={same}", check=False
        )
        assert unchanged.returncode == 0, unchanged.output
        assert unchanged.output.count("There were no differences") == len(StackComponent), unchanged.output

        # and `cdk diff --method=template` against the emulator shows the next change
        extra = json.dumps({MARKER: "v3"}, sort_keys=True)
        diff = deployed_dev.cdk("diff", "-c", f"env={ENV}", "--method=template", "-c", f"extra_env={extra}")
        runtime_section = diff.output.split(f"Stack {resource_name(StackComponent.RUNTIME, ENV)}", 1)[-1]
        changed = re.findall(rf"\.{MARKER}:\s*\n\s*\S+ \[-\] v2\s*\n\s*\S+ \[\+\] v3", runtime_section)
        assert len(changed) == len(Function), diff.output
    finally:
        # put dev back as the fixture deployed it (other tests share it)
        deployed_dev.deploy()
    variables = lambda_.get_function_configuration(FunctionName=ingest)["Environment"]["Variables"]
    assert MARKER not in variables
