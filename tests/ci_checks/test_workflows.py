"""The GitHub workflows (.github/workflows/): actionlint (with ShellCheck on every ``run:`` script)
finds nothing, a broken workflow is caught, and the rules the workflows follow hold.

actionlint and ShellCheck are pinned in requirements-dev.txt; both wheels carry their binary, so
nothing is downloaded when they run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cdk_cli import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
SHELLCHECK = BIN / "shellcheck"
# `uses: owner/repo@<40 hex> # v1.2.3`: a tag can be moved, a commit cannot.
PINNED = re.compile(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"


def actionlint(folder: Path) -> subprocess.CompletedProcess[str]:
    """actionlint over every workflow of ``folder`` (a repository root), ShellCheck included."""
    files = sorted(str(p) for p in (folder / ".github" / "workflows").glob("*.yml"))
    assert files, f"no workflow in {folder}"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck", str(SHELLCHECK), "-pyflakes=", *files],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in load(path.name)["jobs"].items():
            yield path.name, name, job


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job.get("steps", []) if "uses" in step]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def test_the_linters_are_the_pinned_binaries() -> None:
    assert "1.17.0" in subprocess.run([str(ACTIONLINT), "-version"], capture_output=True, text=True).stdout
    assert "version: 0.11.0" in subprocess.run([str(SHELLCHECK), "-V"], capture_output=True, text=True).stdout


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == {"ci.yml", "promote.yml"}
    result = actionlint(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        # a job that needs one that does not exist
        (("    needs: pr\n", "    needs: tests\n"), "needs"),
        # an expression on a context that does not exist
        (("${{ matrix.env }}\n", "${{ matrix.environment }}\n"), 'property "environment" is not defined'),
        # a shell mistake in a run: script (ShellCheck SC2086: word splitting)
        (('--env "$ENV_NAME" \\\n', "--env $ENV_NAME \\\n"), "SC2086"),
    ],
    ids=["unknown-job", "unknown-property", "shellcheck"],
)
def test_a_broken_workflow_fails_the_check(tmp_path: Path, broken: tuple[str, str], expected: str) -> None:
    # given a copy of the workflows with one mistake in ci.yml
    shutil.copytree(WORKFLOWS, tmp_path / ".github" / "workflows")
    ci = tmp_path / ".github" / "workflows" / "ci.yml"
    text = ci.read_text()
    assert broken[0] in text
    ci.write_text(text.replace(broken[0], broken[1], 1))
    # when actionlint runs over it, then it fails and names the mistake in ci.yml
    result = actionlint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout and "ci.yml" in result.stdout, result.stdout


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    lines = [
        line.strip().removeprefix("- ")
        for path in WORKFLOWS.glob("*.yml")
        for line in path.read_text().splitlines()
        if line.strip().removeprefix("- ").startswith("uses:")
    ]
    assert len(lines) >= 5
    assert [line for line in lines if not PINNED.match(line)] == []
    # one commit per action across the workflows
    by_action: dict[str, set[str]] = {}
    for line in lines:
        match = PINNED.match(line)
        assert match is not None
        by_action.setdefault(match[1], set()).add(match[2])
    assert all(len(shas) == 1 for shas in by_action.values()), by_action


def test_permissions_are_least_privilege_and_aws_access_is_oidc_only() -> None:
    for name in ("ci.yml", "promote.yml"):
        workflow = load(name)
        assert workflow["permissions"] == {"contents": "read"}, name
        text = (WORKFLOWS / name).read_text()
        assert "secrets." not in text and "aws-access-key-id" not in text, name
    for file_name, job_name, job in jobs():
        oidc = CREDENTIALS_ACTION in uses(job)
        expected = {"contents": "read", "id-token": "write"} if oidc else None
        assert job.get("permissions") == expected, f"{file_name} {job_name}"
        for step in job["steps"]:
            if step.get("uses", "").startswith(CREDENTIALS_ACTION):
                assert re.fullmatch(
                    r"\$\{\{ vars(\.[A-Z_]+|\[matrix\.role\]) \}\}", step["with"]["role-to-assume"]
                )


def test_deploys_and_promotions_run_in_their_environment_one_at_a_time() -> None:
    deploying = {
        (file_name, job_name): job
        for file_name, job_name, job in jobs()
        if "scripts/deploy/deploy_lambda.sh" in runs(job) or "scripts/deploy/promote_" in runs(job)
    }
    assert set(deploying) == {
        ("ci.yml", "deploy-dev"),
        ("promote.yml", "dev-to-stage"),
        ("promote.yml", "stage-to-prod"),
    }
    environments = {key: job["environment"] for key, job in deploying.items()}
    assert environments == {
        ("ci.yml", "deploy-dev"): "dev",
        ("promote.yml", "dev-to-stage"): "stage",
        ("promote.yml", "stage-to-prod"): "prod",
    }
    for key, job in deploying.items():
        # one operation per environment at a time, never cancelled half-way
        assert job["concurrency"]["group"].endswith(environments[key]), key
        assert job["concurrency"]["cancel-in-progress"] is False, key
        # the role of that environment
        (role,) = [
            s["with"]["role-to-assume"] for s in job["steps"] if CREDENTIALS_ACTION in s.get("uses", "")
        ]
        assert role == f"${{{{ vars.AWS_ROLE_{environments[key].upper()} }}}}", key


def test_the_triggers_and_the_commands() -> None:
    ci, promote = load("ci.yml"), load("promote.yml")
    assert set(ci["on"]) == {"pull_request", "push"} and ci["on"]["push"]["branches"] == ["main"]
    assert "make pr" in runs(ci["jobs"]["pr"])
    assert "scripts/deploy/diff_summary.py --env" in runs(ci["jobs"]["diff"])
    assert "GITHUB_STEP_SUMMARY" in runs(ci["jobs"]["diff"])
    assert [e["env"] for e in ci["jobs"]["diff"]["strategy"]["matrix"]["include"]] == ["dev", "stage", "prod"]
    assert ci["jobs"]["deploy-dev"]["needs"] == "pr"
    assert "github.ref == 'refs/heads/main'" in ci["jobs"]["deploy-dev"]["if"]
    assert "./scripts/deploy/deploy_lambda.sh --env dev" in runs(ci["jobs"]["deploy-dev"])
    # promotions only by hand, with the client as an input (passed by variable, never pasted in a script)
    assert set(promote["on"]) == {"workflow_dispatch"}
    assert promote["on"]["workflow_dispatch"]["inputs"]["client"]["required"] is True
    commands = {name: runs(job) for name, job in promote["jobs"].items()}
    assert (
        './scripts/deploy/promote_dev_to_stage.sh --client "$CLIENT" --validate' in commands["dev-to-stage"]
    )
    assert (
        './scripts/deploy/promote_stage_to_prod.sh --client "$CLIENT" --approve' in commands["stage-to-prod"]
    )
    assert "inputs.client" not in "".join(commands.values())
