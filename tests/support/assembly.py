"""The session's cloud assembly: one real ``cdk synth -c env=all`` shared by every template check.

The template tests (``tests/infra``) and the CI checks (``tests/ci_checks``: checkov)
read the same synth, so what is checked is what the snapshots, cdk-nag and cfn-lint saw. The
fixture is registered once, in ``tests/conftest.py``: a session fixture defined in two conftest
files would run twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.cdk_cli import ALARM_CONTEXT, VALIDATION_ENV, run_cdk
from vectora_core.naming import resource_name

if TYPE_CHECKING:
    from aws_cdk.assertions import Template


@dataclass(frozen=True)
class CloudAssembly:
    directory: Path
    manifest: dict
    templates: dict[str, dict]  # stack name -> template JSON

    def template(self, component: str, env: str) -> Template:
        # Imported here: tests/conftest.py imports this module before it sets the CDK CLI's
        # environment, and aws_cdk starts its jsii runtime (node) on import.
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[resource_name(component, env)])

    def artifact(self, stack_name: str) -> dict:
        return self.manifest["artifacts"][stack_name]

    def template_files(self) -> list[Path]:
        """The stacks' template files, sorted."""
        return sorted(
            self.directory / self.artifact(name)["properties"]["templateFile"] for name in self.templates
        )


def load_assembly(directory: Path) -> CloudAssembly:
    manifest = json.loads((directory / "manifest.json").read_text())
    templates = {
        name: json.loads((directory / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    return CloudAssembly(directory=directory, manifest=manifest, templates=templates)


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    out = tmp_path_factory.mktemp("cdk-out-all")
    # The real CLI and the real app.py: cdk-nag runs as a validation plugin, so a finding that is
    # not acknowledged makes this synth (and every test using it) fail; so does a breach of the
    # CDK's default rules (its built-in validator, which the suite runs here only).
    args = ["synth", "-c", "env=all", *ALARM_CONTEXT, "--quiet", "--output", str(out)]
    run_cdk(args, extra_env={VALIDATION_ENV: "true"})
    return load_assembly(out)
