"""The real, pinned CDK CLI against the local AWS, on the small fixture app (two stacks, a layer,
a function, a Python custom resource every other resource depends on): bootstrap, deploy,
update, a failing update, diff and destroy."""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_aws import cdk
from local_aws.server import LocalAws
from tests.local_aws.helpers import client, invoke

FIXTURE_APP = Path(__file__).resolve().parent / "fixture_app" / "app.py"
MAIN_FUNCTION = "local-aws-fixture-main"
BUCKET = "local-aws-fixture-bucket"
RUNTIME_STACK = "LocalAwsFixtureRuntime"
# Stock moto makes the CLI retry DeleteChangeSet / LookupEvents for over a minute; patched, a
# failed deployment reports within seconds.
FAILED_DEPLOY_MAX_S = 60.0


class FixtureCli:
    def __init__(self, aws: LocalAws, output_dir: Path) -> None:
        self.aws, self.output_dir = aws, output_dir

    def __call__(self, *args: str, check: bool = True) -> cdk.CdkResult:
        return cdk.run_cdk(
            self.aws, list(args), app=cdk.python_app(FIXTURE_APP), output_dir=self.output_dir, check=check
        )

    def deploy(self, greeting: str, fail_on: str = "", check: bool = True) -> cdk.CdkResult:
        context = ["-c", f"greeting={greeting}"] + (["-c", f"fail_on={fail_on}"] if fail_on else [])
        return self("deploy", "--all", "--require-approval", "never", *context, check=check)


@pytest.fixture(scope="module")
def fixture_cli(patched_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixtureCli]:
    cli = FixtureCli(patched_aws, tmp_path_factory.mktemp("fixture-cdk-out"))
    cdk.bootstrap(patched_aws, app=cdk.python_app(FIXTURE_APP), output_dir=cli.output_dir)
    yield cli


def _probe_records(aws: LocalAws) -> list[dict[str, Any]]:
    s3 = client(aws, "s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="probe/").get("Contents", []))
    return [json.loads(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]


def _greeting(aws: LocalAws) -> str:
    config = client(aws, "lambda").get_function_configuration(FunctionName=MAIN_FUNCTION)
    return str(config["Environment"]["Variables"]["GREETING"])


@pytest.mark.e2e
def test_cli_deploys_updates_diffs_and_destroys(fixture_cli: FixtureCli) -> None:
    aws = fixture_cli.aws
    # given the fixture app deployed by the CLI
    fixture_cli.deploy("hello")
    payload, error = invoke(aws, MAIN_FUNCTION, {"n": 1})
    assert error is None, payload
    assert payload["greeting"] == "hello"
    assert payload["probe_greeting"] == "HELLO"  # Fn::GetAtt on the custom resource's answer
    assert payload["layer"] == "from-layer"  # the function's layer is on its path
    assert payload["venv_only_module_visible"] is False
    assert BUCKET in payload["buckets"]  # the handler reached the emulator

    # when a second deploy changes the function's variable and the custom resource's property
    fixture_cli.deploy("bye")
    # then the custom resource got an Update, and ran before the function changed
    update = [r for r in _probe_records(aws) if r["RequestType"] == "Update"][-1]
    assert (update["Greeting"], update["OldGreeting"], update["WatchedGreeting"]) == ("bye", "hello", "hello")
    assert update["PhysicalResourceId"] == "probe-Probe"
    payload, _ = invoke(aws, MAIN_FUNCTION)
    assert (payload["greeting"], payload["probe_greeting"]) == ("bye", "BYE")

    # when the custom resource answers FAILED to an update
    started = time.monotonic()
    failed = fixture_cli.deploy("broken", fail_on="Update", check=False)
    # then the CLI fails, quickly, naming the reason; nothing after the custom resource changed
    assert failed.returncode != 0, failed.output
    assert time.monotonic() - started < FAILED_DEPLOY_MAX_S
    assert "probe told to fail on Update" in failed.output
    stack = client(aws, "cloudformation").describe_stacks(StackName=RUNTIME_STACK)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _greeting(aws) == "bye"

    # `cdk diff --method=template` shows a changed variable
    diff = fixture_cli("diff", "--method=template", "-c", "greeting=diffed", check=False)
    assert "GREETING" in diff.output or "diffed" in diff.output, diff.output
    assert "diffed" in diff.output

    # destroying the runtime stack sends the custom resource its Delete
    fixture_cli("destroy", RUNTIME_STACK, "--force")
    assert _probe_records(aws)[-1]["RequestType"] == "Delete"
    # and destroy removes the rest (the bucket emptied first: as on AWS, a non-empty bucket stops
    # the delete)
    s3 = client(aws, "s3")
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    fixture_cli("destroy", "--all", "--force")
    names = {
        s["StackName"]
        for s in client(aws, "cloudformation").list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
    assert not names & {RUNTIME_STACK, "LocalAwsFixtureBuckets"}
    functions = [f["FunctionName"] for f in client(aws, "lambda").list_functions()["Functions"]]
    assert MAIN_FUNCTION not in functions


HUNG_APP = f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(600)'"
# Long enough for the CLI to start the app even on a loaded machine; the app never ends anyway.
HUNG_TIMEOUT_S = 15


def test_a_hung_cdk_command_is_killed_and_explained(patched_aws: LocalAws, tmp_path: Path) -> None:
    # given an app that never finishes synthesizing (so the CLI hangs): a real app cut short by a
    # bound of a few seconds was not always started yet on a loaded machine
    output_dir = tmp_path / "hung-cdk-out"
    seen: list[int] = []  # how many processes of this run existed, sampled while it ran
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            seen.append(len(_processes_mentioning(str(output_dir))))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with pytest.raises(cdk.CdkCommandError) as raised:
        cdk.run_cdk(
            patched_aws,
            ["deploy", "--all", "--require-approval", "never"],
            app=HUNG_APP,
            output_dir=output_dir,
            timeout_s=HUNG_TIMEOUT_S,
        )
    running.clear()
    sampler.join()
    assert max(seen) >= 2, seen  # the CLI and the app it synthesizes were both running
    # then the failure says so and carries the emulator's log
    message = str(raised.value)
    assert f"did not finish within {HUNG_TIMEOUT_S} s" in message
    assert "--- local AWS log (tail) ---" in message
    assert "serving on http://localhost" in raised.value.emulator_log
    # and neither the CLI nor the app it was synthesizing is left running
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(output_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(output_dir)) == []


def _processes_mentioning(text: str) -> list[int]:
    """Processes whose command line (the CLI's --output) or environment (the app's CDK_OUTDIR)
    contains ``text``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # the process ended meanwhile
            continue
    return found
