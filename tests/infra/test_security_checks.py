"""cdk-nag and cfn-lint over the synthesized templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from stacks import build_environment
from tests.infra.conftest import CloudAssembly
from tests.support.cdk_cli import REPO_ROOT, VALIDATION_ENV
from vectora_constructs.nag import add_security_checks
from vectora_core.environments import get_env_config


def test_cdk_nag_reports_no_unacknowledged_finding(assembly: CloudAssembly) -> None:
    # The session synth ran app.py with the AwsSolutions plugin: it would have failed on any finding.
    report = (assembly.directory / "validation-report.json").read_text()
    assert '"pluginReports": []' in report


def test_a_new_wildcard_is_not_covered_by_existing_acknowledgements(tmp_path: Path) -> None:
    # given the real dev stacks with the app's security checks
    feature_flags = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(tmp_path), context=feature_flags)
    stacks = build_environment(app, get_env_config("dev"))
    add_security_checks(app)
    # when a role gains one more wildcard resource than was acknowledged
    role = stacks.iam.roles["ingest-v2"]
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::other-bucket/*"])
    )
    # then synthesis fails and names that very finding
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]" in report
    assert "vectora-inbox-config-dev" not in report  # the acknowledged wildcards stay acknowledged


def test_cfn_lint_finds_no_error_in_any_template(assembly: CloudAssembly) -> None:
    templates = sorted(
        str(assembly.directory / a["properties"]["templateFile"])
        for a in (assembly.manifest["artifacts"][name] for name in assembly.templates)
    )
    assert len(templates) == 9
    # W3005 (redundant DependsOn) is raised by the DependsOn CDK itself writes; nothing else is ignored.
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--regions",
            "eu-west-3",
            "--ignore-checks",
            "W3005",
            "--",
            *templates,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# A GameLift fleet whose ingress port range is inverted: schema-valid, refused by GameLift at deploy
# time, and caught by one of the CDK's default rules (CDK-GameLift-001), the reason the project
# keeps the CDK's built-in validator (cdk.json's validateAgainstDefaultRules makes it an error).
DEFAULT_RULE_PROBE = """
import json, sys
import aws_cdk as cdk
from aws_cdk import aws_gamelift as gamelift
app = cdk.App(context=json.loads(open(sys.argv[1]).read())["context"])
inverted = gamelift.CfnFleet.IpPermissionProperty(
    from_port=2000, to_port=1000, ip_range="10.0.0.0/16", protocol="TCP"
)
stack = cdk.Stack(app, "DefaultRuleProbe")
gamelift.CfnFleet(stack, "Fleet", name="probe", ec2_inbound_permissions=[inverted])
app.synth()
"""


@pytest.mark.parametrize("validation", ["true", "false"])
def test_the_cdk_default_rules_fail_synth_unless_the_suite_turns_the_validator_off(
    tmp_path: Path, validation: str
) -> None:
    # given a template only the CDK's default rules catch, and the project's feature flags
    app = tmp_path / "app.py"
    app.write_text(DEFAULT_RULE_PROBE)
    # when it is synthesized with the built-in validator on (as every synth outside the suite, and
    # the suite's session synth) or off (the suite's other synths)
    result = subprocess.run(
        [sys.executable, str(app), str(REPO_ROOT / "cdk.json")],
        env={**os.environ, VALIDATION_ENV: validation, "CDK_OUTDIR": str(tmp_path / "out")},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    # then the validator's finding fails the synth, by its rule's id; without it, nothing does
    if validation == "true":
        assert result.returncode != 0
        assert "Acknowledge with 'CloudFormation-Validate::CDK-GameLift-001'" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
