"""scripts/deploy/diff_summary.py without AWS: the comparison of two templates, the security
flags, the Markdown, and the command line's exit statuses (2 for a bad one, 1 for a failure)."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.cdk_cli import REPO_ROOT
from vectora_ops.template_diff import compare

SCRIPT = REPO_ROOT / "scripts" / "deploy" / "diff_summary.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("diff_summary", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


diff_summary = _load()

FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "FunctionName": "vectora-inbox-ingest-v2-dev",
        "Role": "arn:aws:iam::123456789012:role/vectora-inbox-ingest-v2-role-dev",
        "Environment": {"Variables": {"ENV": "dev"}},
    },
    "DependsOn": ["Snapshot"],
    "Metadata": {"aws:cdk:path": "x/Function/Resource"},
}
BUCKET = {
    "Type": "AWS::S3::Bucket",
    "Properties": {
        "BucketName": "vectora-inbox-config-dev",
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True},
    },
}
CDK_METADATA = {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:a"}}
ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {"RoleName": "r", "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": []}}]},
}


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": copy.deepcopy(resources), "Outputs": {"Id": {"Value": "x"}}}


def summary(new: dict[str, Any], old: dict[str, Any] | None) -> Any:
    return compare("dev", "vectora-inbox-s1-runtime-dev", new, old)


def test_identical_templates_do_not_differ_and_cdk_metadata_does_not_count() -> None:
    deployed = template(Fn=FUNCTION, Bucket=BUCKET, CDKMetadata=CDK_METADATA)
    new = template(
        Fn=FUNCTION, Bucket=BUCKET, CDKMetadata={**CDK_METADATA, "Properties": {"Analytics": "v2:b"}}
    )
    new["Resources"]["Fn"]["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}
    result = summary(new, deployed)
    assert result.changes == () and result.other_sections == () and not result.differs


def test_a_changed_variable_is_a_changed_function_and_not_a_security_change() -> None:
    new = template(Fn=FUNCTION, Bucket=BUCKET)
    new["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]["EXTRA"] = "on"
    result = summary(new, template(Fn=FUNCTION, Bucket=BUCKET))
    (change,) = result.changes
    assert (change.logical_id, change.kind, change.fields, change.flags) == (
        "Fn",
        "changed",
        ("Environment",),
        (),
    )
    assert result.differs and result.flags() == []


def _public_bucket(r: dict[str, Any]) -> None:
    r["Bucket"]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] = False


def _wider_role(r: dict[str, Any]) -> None:
    r["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append({"Action": "*"})


def _added(logical_id: str, resource_type: str) -> Any:
    return lambda r: r.update({logical_id: {"Type": resource_type, "Properties": {}}})


SECURITY_EDITS = {
    "function-role": (lambda r: r["Fn"]["Properties"].update(Role="arn:aws:iam::1:role/admin"), "IAM"),
    "depends-on": (lambda r: r["Fn"].update(DependsOn=[]), None),
    "encryption": (lambda r: r["Bucket"]["Properties"].pop("BucketEncryption"), "encryption"),
    "public-access": (_public_bucket, "public access"),
    "role-policy": (_wider_role, "IAM"),
    "lambda-permission": (_added("Perm", "AWS::Lambda::Permission"), "Lambda permission"),
    "kms-key": (_added("Key", "AWS::KMS::Key"), "KMS"),
    "bucket-policy": (_added("Policy", "AWS::S3::BucketPolicy"), "resource policy"),
    "security-group": (_added("Sg", "AWS::EC2::SecurityGroup"), "security group"),
    "role-removed": (lambda r: r.pop("Role"), "IAM"),
}


@pytest.mark.parametrize(("edit", "flag"), SECURITY_EDITS.values(), ids=SECURITY_EDITS.keys())
def test_iam_and_security_changes_are_flagged(edit: Any, flag: str | None) -> None:
    deployed = template(Fn=FUNCTION, Bucket=BUCKET, Role=ROLE)
    new = copy.deepcopy(deployed)
    edit(new["Resources"])
    result = summary(new, deployed)
    (change,) = result.changes
    assert change.flags == ((flag,) if flag else ())
    assert result.flags() == ([f"{flag} (1)"] if flag else [])


def test_added_removed_and_other_sections() -> None:
    deployed = template(Fn=FUNCTION, Old=BUCKET)
    new = template(Fn=FUNCTION, New=BUCKET)
    new["Outputs"]["Id"]["Value"] = "y"
    result = summary(new, deployed)
    assert [(c.logical_id, c.kind) for c in result.changes] == [("New", "added"), ("Old", "removed")]
    assert result.other_sections == ("Outputs",)
    (row,) = diff_summary.rows([result])
    assert row == (
        "dev",
        "vectora-inbox-s1-runtime-dev",
        "1",
        "0 + Outputs",
        "1",
        "encryption (2), public access (2)",
    )


def test_a_stack_not_deployed_is_all_added() -> None:
    result = summary(template(Fn=FUNCTION, Bucket=BUCKET), None)
    assert result.differs and not result.deployed
    assert [c.kind for c in result.changes] == ["added", "added"]
    assert diff_summary.details(result) == ["new stack: 2 resources"]


def test_markdown_holds_the_table_the_verdict_and_the_details() -> None:
    same = compare("dev", "vectora-inbox-s0-core-dev", template(B=BUCKET), template(B=BUCKET))
    changed_new = template(R=ROLE)
    changed_new["Resources"]["R"]["Properties"]["RoleName"] = "other"
    changed = compare("dev", "vectora-inbox-s0-iam-dev", changed_new, template(R=ROLE))
    text = diff_summary.markdown([same, changed])
    assert "| environment | stack | added | changed | removed | IAM / security |" in text
    assert "| dev | vectora-inbox-s0-core-dev | 0 | 0 | 0 | - |" in text
    assert "| dev | vectora-inbox-s0-iam-dev | 0 | 1 | 0 | IAM (1) |" in text
    assert "**1 of 2 stack(s) differ, 1 with IAM / security changes to review**" in text
    assert "- `vectora-inbox-s0-iam-dev`: changed: R (AWS::IAM::Role: RoleName)" in text
    assert diff_summary.verdict([same]).startswith("no difference")


# -- the command line ------------------------------------------------------------------------------
def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fake_assembly(folder: Path) -> Path:
    """A cloud assembly of one dev stack, as the CLI writes it."""
    folder.mkdir()
    stack = "vectora-inbox-s0-core-dev"
    (folder / f"{stack}.template.json").write_text(json.dumps(template(B=BUCKET)))
    artifact = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://unknown-account/eu-west-3",
        "properties": {"templateFile": f"{stack}.template.json"},
    }
    (folder / "manifest.json").write_text(json.dumps({"artifacts": {stack: artifact}}))
    return folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa"], "unknown environment 'qa': allowed values are dev, stage, prod or all"),
        ([], "which environment"),
        (["--env", "dev", "--colour"], "unrecognized arguments: --colour"),
        (["--env", "stage"], "stage has alarms and nobody to notify: pass --alarm-emails"),
        (["--env", "all"], "stage has alarms and nobody to notify"),
        (["--env", "dev", "--assembly", "."], "is not a cloud assembly"),
        (["--env", "dev", "--markdown", "no/such/folder/x.md"], "not a file in an existing folder"),
    ],
    ids=["unknown-env", "no-env", "unknown-flag", "stage-without-subscribers", "all-without-subscribers",
         "not-an-assembly", "markdown-nowhere"],
)  # fmt: skip
def test_a_bad_command_line_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "error" in line]
    assert message in line
    assert result.stdout == ""  # nothing synthesized, nothing summarized


def test_alarm_emails_with_an_assembly_is_a_bad_command_line(tmp_path: Path) -> None:
    result = run("--env", "dev", "--assembly", str(fake_assembly(tmp_path / "a")), "--alarm-emails", "a@b.co")
    assert result.returncode == 2 and "--alarm-emails is for a synth" in result.stderr


def test_an_unreachable_aws_exits_1_with_one_line_and_no_summary(tmp_path: Path) -> None:
    # given an assembly and an endpoint where nothing listens
    markdown = tmp_path / "summary.md"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ENDPOINT_URL": "http://localhost:9",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_MAX_ATTEMPTS": "1",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    assembly = fake_assembly(tmp_path / "a")
    # when the summary is asked for
    result = run(
        "--env", "dev", "--assembly", str(assembly), "--no-cli-diff", "--markdown", str(markdown), env=env
    )
    # then it fails in one line, and writes no summary that could pass for a result
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "AWS_ENDPOINT_URL" in result.stderr
    assert not markdown.exists() and not (tmp_path / "step-summary.md").exists()
