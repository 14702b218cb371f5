"""``-c env`` and ``-c extra_env`` as a user meets them through the real CLI, and their parsing."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from stacks.context import ContextError, parse_extra_env, resolve_environments
from tests.infra.conftest import CloudAssembly, load_assembly, pipeline_functions
from tests.support.cdk_cli import ALARM_CONTEXT, run_cdk
from vectora_core.environments import ENVIRONMENTS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "error: missing -c env=<name>: pass -c env=dev, stage or prod "
            "(allowed: dev, stage, prod, or all)",
        ),
        (["-c", "env=qa"], "error: unknown -c env=qa: allowed values are dev, stage, prod (or all)"),
        (
            ["-c", "env=prod", *ALARM_CONTEXT, "-c", 'extra_env={"VECTORA_EXPERIMENT": "on"}'],
            "error: -c extra_env is only allowed for dev, not prod",
        ),
        (
            ["-c", "env=stage"],
            "error: stage has alarms and nobody to notify: "
            "pass -c alarm_emails=ops@example.com[,other@example.com]",
        ),
        (
            ["-c", "env=all", "-c", "alarm_emails=ops@example.com,not-an-address"],
            "error: -c alarm_emails: 'not-an-address' is not an email address (e.g. ops@example.com)",
        ),
    ],
    ids=["missing", "unknown", "extra-env-in-prod", "stage-without-subscribers", "bad-subscriber"],
)
def test_bad_context_fails_with_one_clear_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cdk(["synth", *args, "--quiet", "--output", str(tmp_path)], check=False)
    assert result.returncode != 0
    # one line from the app (no jsii end-of-life banner around it), then the CLI's exit notice
    app_lines = [line for line in result.stderr.splitlines() if "Subprocess exited with error" not in line]
    assert app_lines == [message]
    assert "Traceback" not in result.stderr + result.stdout
    assert not list(tmp_path.glob("*.template.json"))  # nothing synthesized


def test_a_single_environment_synthesizes_its_three_stacks(tmp_path: Path) -> None:
    result = run_cdk(["list", "-c", "env=stage", *ALARM_CONTEXT])
    assert result.stdout.split() == [
        "vectora-inbox-s0-core-stage",
        "vectora-inbox-s0-iam-stage",
        "vectora-inbox-s1-runtime-stage",
    ]


def test_two_synths_of_the_same_commit_are_byte_identical(assembly: CloudAssembly, tmp_path: Path) -> None:
    run_cdk(["synth", "-c", "env=all", *ALARM_CONTEXT, "--quiet", "--output", str(tmp_path)])
    second = load_assembly(tmp_path)
    names = sorted(p.name for p in assembly.directory.glob("*.json") if p.name != "tree.json")
    assert names == sorted(p.name for p in tmp_path.glob("*.json") if p.name != "tree.json")
    _, mismatch, errors = filecmp.cmpfiles(assembly.directory, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == []
    assert second.templates == assembly.templates


def test_extra_env_reaches_every_function_in_dev(dev_with_extra_env: CloudAssembly) -> None:
    functions = pipeline_functions(dev_with_extra_env, "dev").values()
    assert len(functions) == 3
    assert {f["Properties"]["Environment"]["Variables"]["VECTORA_EXPERIMENT"] for f in functions} == {"on"}


# --- parsing, without the CLI ----------------------------------------------------------------


def test_resolve_environments() -> None:
    assert [c.name for c in resolve_environments("all")] == ["dev", "stage", "prod"]
    assert resolve_environments("prod") == [ENVIRONMENTS["prod"]]
    for bad in (None, "", "PROD", "dev,stage", 3):
        with pytest.raises(ContextError):
            resolve_environments(bad)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("not json", "must be a JSON object"),
        ('["A"]', "JSON object of strings"),
        ('{"A": 1}', "JSON object of strings"),
        ('{"1A": "x"}', "not a valid environment variable name"),
        ('{"ENV": "prod"}', "ENV is set from the environment config"),
        ('{"CONFIG_BUCKET": "elsewhere"}', "CONFIG_BUCKET is set from the environment config"),
    ],
)
def test_parse_extra_env_refuses(value: str, error: str) -> None:
    with pytest.raises(ContextError, match=error):
        parse_extra_env(value, [ENVIRONMENTS["dev"]])


def test_parse_extra_env_accepts_new_names_in_dev_only() -> None:
    assert parse_extra_env('{"VECTORA_EXPERIMENT": "on", "X_Y": ""}', [ENVIRONMENTS["dev"]]) == {
        "VECTORA_EXPERIMENT": "on",
        "X_Y": "",
    }
    assert parse_extra_env(None, [ENVIRONMENTS["prod"]]) == {}
    with pytest.raises(ContextError, match="only allowed for dev, not stage, prod"):
        parse_extra_env('{"A": "b"}', list(ENVIRONMENTS.values()))
