"""One real ``cdk synth -c env=all`` per test session, shared by every template test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from tests.support.cdk_cli import ALARM_CONTEXT, run_cdk
from vectora_core.naming import ENV_NAMES, Function, StackComponent, resource_name


@dataclass(frozen=True)
class CloudAssembly:
    directory: Path
    manifest: dict
    templates: dict[str, dict]  # stack name -> template JSON

    def template(self, component: str, env: str) -> Template:
        return Template.from_json(self.templates[resource_name(component, env)])

    def artifact(self, stack_name: str) -> dict:
        return self.manifest["artifacts"][stack_name]


def load_assembly(directory: Path) -> CloudAssembly:
    manifest = json.loads((directory / "manifest.json").read_text())
    templates = {
        name: json.loads((directory / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    return CloudAssembly(directory=directory, manifest=manifest, templates=templates)


def resources_of(assembly: CloudAssembly, component: str, env: str, type_: str) -> dict[str, dict]:
    template = assembly.templates[resource_name(component, env)]
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def pipeline_functions(assembly: CloudAssembly, env: str) -> dict[str, dict]:
    """The three pipeline functions (S1-runtime also holds its pre-update snapshot function)."""
    names = {resource_name(f, env) for f in Function}
    functions = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::Lambda::Function")
    return {k: v for k, v in functions.items() if v["Properties"]["FunctionName"] in names}


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    out = tmp_path_factory.mktemp("cdk-out-all")
    # The real CLI and the real app.py: cdk-nag runs as a validation plugin, so a finding that is
    # not acknowledged makes this synth (and every test using it) fail.
    run_cdk(["synth", "-c", "env=all", *ALARM_CONTEXT, "--quiet", "--output", str(out)])
    return load_assembly(out)


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
