"""Template-test fixtures. The session synth (``assembly``) is tests/support/assembly.py's, registered in
tests/conftest.py so that the CI checks share it."""

from __future__ import annotations

import json

import pytest

from tests.support.assembly import CloudAssembly, load_assembly
from tests.support.cdk_cli import run_cdk
from vectora_core.naming import ENV_NAMES, Function, StackComponent, resource_name


def resources_of(assembly: CloudAssembly, component: str, env: str, type_: str) -> dict[str, dict]:
    template = assembly.templates[resource_name(component, env)]
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def pipeline_functions(assembly: CloudAssembly, env: str) -> dict[str, dict]:
    """The three pipeline functions (S1-runtime also holds its pre-update snapshot function)."""
    names = {resource_name(f, env) for f in Function}
    functions = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::Lambda::Function")
    return {k: v for k, v in functions.items() if v["Properties"]["FunctionName"] in names}


@pytest.fixture(params=ENV_NAMES)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


ALL_STACKS = [(component, env) for env in ENV_NAMES for component in StackComponent]


# The one extra env variable that dev-only synths add (a typical "one setting changed" deploy).
EXTRA_ENV = {"VECTORA_EXPERIMENT": "on"}


@pytest.fixture(scope="session")
def dev_with_extra_env(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """dev synthesized with ``-c extra_env``: the same app with one Lambda env variable added."""
    out = tmp_path_factory.mktemp("cdk-out-dev-extra-env")
    run_cdk(
        [
            "synth",
            "-c",
            "env=dev",
            "-c",
            f"extra_env={json.dumps(EXTRA_ENV)}",
            "--quiet",
            "--output",
            str(out),
        ]
    )
    return load_assembly(out)
