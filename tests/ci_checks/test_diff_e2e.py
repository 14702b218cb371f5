"""``make diff`` / scripts/deploy/diff_summary.py against dev deployed on the local AWS by the real
CLI: no difference (exit 0), a changed app (exit 1, the three functions listed), an IAM change
(flagged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cdk_cli import REPO_ROOT, run_cdk
from vectora_core.naming import Function, StackComponent, resource_name

pytestmark = pytest.mark.e2e

SCRIPT = REPO_ROOT / "scripts" / "deploy" / "diff_summary.py"
VARIANT_APP = Path(__file__).with_name("iam_variant_app.py")
STACKS = {component: resource_name(component, "dev") for component in StackComponent}


def table_row(markdown: str, stack: str) -> list[str]:
    (row,) = [line for line in markdown.splitlines() if line.startswith(f"| dev | {stack} |")]
    return [cell.strip() for cell in row.strip("|").split("|")]


def summarize(session: Any, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    markdown = tmp_path / "summary.md"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--env", "dev", "--markdown", str(markdown), *args],
        cwd=REPO_ROOT,
        env=session.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result, markdown.read_text() if markdown.exists() else ""


def pipeline_function_ids(template: dict[str, Any]) -> set[str]:
    names = {resource_name(f, "dev") for f in Function}
    return {
        logical_id
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["FunctionName"] in names
    }


def test_make_diff_says_no_difference_and_exits_0(deployed_dev: Any, tmp_path: Path) -> None:
    # given dev as the app deploys it (a no-op when the other tests left it so)
    deployed_dev.deploy()
    # when `make diff ENV=dev` runs against it
    markdown = tmp_path / "summary.md"
    result = subprocess.run(
        ["make", "--no-print-directory", "diff", "ENV=dev", f"MARKDOWN={markdown}"],
        cwd=REPO_ROOT,
        env=deployed_dev.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # then the CLI's own diff and the summary agree: nothing differs
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count("There were no differences") == len(StackComponent), output
    assert "no difference: the 3 stack(s) deployed are what this commit synthesizes" in result.stdout
    text = markdown.read_text()
    for stack in STACKS.values():
        assert table_row(text, stack) == ["dev", stack, "0", "0", "0", "-"]


def test_a_changed_app_lists_the_three_functions_and_exits_1(deployed_dev: Any, tmp_path: Path) -> None:
    # given the app synthesized with one more Lambda variable (the dev-only -c extra_env)
    out = tmp_path / "cdk.out"
    extra = json.dumps({"VECTORA_DIFF_PROBE": "on"})
    run_cdk(["synth", "-c", "env=dev", "-c", f"extra_env={extra}", "--quiet", "--output", str(out)])
    runtime = json.loads((out / f"{STACKS[StackComponent.RUNTIME]}.template.json").read_text())
    functions = pipeline_function_ids(runtime)
    assert len(functions) == 3
    # when the summary compares it with the deployed dev (after the CLI's own diff of it)
    result, text = summarize(deployed_dev, tmp_path, "--assembly", str(out))
    # then it differs: S1-runtime's three functions changed (and its snapshot's fingerprint with them)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VECTORA_DIFF_PROBE" in result.stdout + result.stderr  # the CLI's per-stack diff ran
    runtime_row = table_row(text, STACKS[StackComponent.RUNTIME])
    assert runtime_row == ["dev", STACKS[StackComponent.RUNTIME], "0", "4", "0", "-"], text
    (details,) = [
        line for line in text.splitlines() if line.startswith(f"- `{STACKS[StackComponent.RUNTIME]}`")
    ]
    for logical_id in functions:
        assert f"{logical_id} (AWS::Lambda::Function: Environment)" in details
    assert "(Custom::PreUpdateSnapshot: Fingerprint)" in details
    # and the other stacks did not change
    for component in (StackComponent.CORE, StackComponent.IAM):
        assert table_row(text, STACKS[component])[2:] == ["0", "0", "0", "-"]
    assert "**1 of 3 stack(s) differ**" in text


def test_an_iam_change_is_flagged(deployed_dev: Any, tmp_path: Path) -> None:
    # given a variant of the app whose ingest role gains one statement
    out = tmp_path / "cdk.out"
    app = f"{sys.executable} {VARIANT_APP}"
    run_cdk(["synth", "--app", app, "--quiet", "--output", str(out)])
    # when the summary compares it with the deployed dev
    result, text = summarize(deployed_dev, tmp_path, "--assembly", str(out), "--no-cli-diff")
    # then S0-iam differs by an added IAM policy, flagged for review; nothing else changed
    assert result.returncode == 1, result.stdout + result.stderr
    iam_row = table_row(text, STACKS[StackComponent.IAM])
    assert iam_row[2:] == ["1", "1", "0", "IAM (1)"]
    assert "1 with IAM / security changes to review" in text
    assert "added: " in text and "(AWS::IAM::Policy)" in text
    for component in (StackComponent.CORE, StackComponent.RUNTIME):
        assert table_row(text, STACKS[component])[2:] == ["0", "0", "0", "-"]
    # the terminal shows the same verdict
    assert "1 of 3 stack(s) differ, 1 with IAM / security changes to review" in result.stdout
