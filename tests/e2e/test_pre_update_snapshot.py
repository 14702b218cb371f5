"""A snapshot before every stack update, end to end: the real CLI deploys to the local AWS and
CloudFormation (the emulator's) calls the pre-update snapshot resource of each stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_aws.cdk import CdkCommandError
from vectora_core.naming import Bucket, Function, StackComponent, resource_name

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
INGEST = resource_name(Function.INGEST, "dev")
RUNTIME_STACK = resource_name(StackComponent.RUNTIME, "dev")


def snapshot_ids(session: Any, env: str, prefix: str) -> list[str]:
    s3 = session.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=resource_name(Bucket.BACKUPS, env), Prefix=f"snapshots/{prefix}", Delimiter="/"
    )
    return sorted(p["Prefix"].split("/")[1] for page in pages for p in page.get("CommonPrefixes", []))


def read_json(session: Any, env: str, key: str) -> Any:
    body = session.client("s3").get_object(Bucket=resource_name(Bucket.BACKUPS, env), Key=key)["Body"]
    return json.loads(body.read())


def find_value(document: Any, name: str) -> Any:
    """The value of key ``name`` anywhere in a JSON document (the engine owns its exact layout)."""
    if isinstance(document, dict):
        if name in document:
            return document[name]
        document = list(document.values())
    if isinstance(document, list):
        for item in document:
            found = find_value(item, name)
            if found is not None:
                return found
    return None


def function_variables(session: Any, name: str) -> dict[str, str]:
    config = session.client("lambda").get_function_configuration(FunctionName=name)
    return config.get("Environment", {}).get("Variables", {})


def stack_output(session: Any, stack: str) -> str:
    (described,) = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    (value,) = [v for k, v in outputs.items() if k.startswith("PreUpdateSnapshotSnapshotId")]
    return value


def _create_snapshot(session: Any, name: str, components: str) -> str:
    result = subprocess.run(
        [sys.executable, "scripts/maintenance/create_snapshot.py", "--env", "dev", "--name", name,
         "--components", components, "--no-retention"],
        cwd=REPO_ROOT, env=session.subprocess_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return snapshot_ids(session, "dev", f"{name}_")[-1]


def test_an_update_is_preceded_by_a_snapshot_of_the_old_state(deployed_dev: Any) -> None:
    session = deployed_dev
    # given dev deployed with SNAPSHOT_PROBE=old
    session.deploy(extra_env={"SNAPSHOT_PROBE": "old"})
    assert function_variables(session, INGEST)["SNAPSHOT_PROBE"] == "old"
    before = snapshot_ids(session, "dev", f"pre_deploy_{RUNTIME_STACK}_")
    # and a snapshot of the stacks while they are stable (inside the next update GetTemplate answers
    # the NEW template: the pre_deploy snapshot takes the one before from here)
    stable = _create_snapshot(session, "stable_stacks", "stacks")

    # when an env variable of the ingest function changes and dev is deployed again
    session.deploy(extra_env={"SNAPSHOT_PROBE": "new"})

    # then one new, complete pre_deploy snapshot of S1-runtime holds the old value
    after = snapshot_ids(session, "dev", f"pre_deploy_{RUNTIME_STACK}_")
    new = sorted(set(after) - set(before))
    assert len(new) == 1, f"expected one new pre_deploy snapshot, got {new}"
    snapshot_id = new[0]
    metadata = read_json(session, "dev", f"snapshots/{snapshot_id}/snapshot_metadata.json")
    assert metadata["complete"] is True
    saved = read_json(session, "dev", f"snapshots/{snapshot_id}/lambda_{INGEST}.json")
    assert find_value(saved, "SNAPSHOT_PROBE") == "old"
    assert function_variables(session, INGEST)["SNAPSHOT_PROBE"] == "new"
    assert stack_output(session, RUNTIME_STACK) == snapshot_id
    # and its S1-runtime template is the one before the update, from the stable snapshot
    stack = read_json(session, "dev", f"snapshots/{snapshot_id}/stacks/{RUNTIME_STACK}.json")
    assert stack["status"] == "UPDATE_IN_PROGRESS"
    assert stack["template_source"] == f"snapshot {stable}"
    assert find_value(stack["template"], "SNAPSHOT_PROBE") == "old"

    # and a redeploy with no change takes no snapshot
    session.deploy(extra_env={"SNAPSHOT_PROBE": "new"})
    assert snapshot_ids(session, "dev", f"pre_deploy_{RUNTIME_STACK}_") == after
    # S0-core and S0-iam did not change at all: no pre_deploy snapshot of them either
    for component in (StackComponent.CORE, StackComponent.IAM):
        assert snapshot_ids(session, "dev", f"pre_deploy_{resource_name(component, 'dev')}_") == []

    # and rollback_snapshot with that id brings the old value back
    result = subprocess.run(
        [sys.executable, "scripts/maintenance/rollback_snapshot.py", "--snapshot", snapshot_id,
         "--env", "dev", "--components", "lambda_config"],
        cwd=REPO_ROOT, env=session.subprocess_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert function_variables(session, INGEST)["SNAPSHOT_PROBE"] == "old"

    # put dev back as the session fixture deployed it (the template wins over the drift)
    session.deploy()
    assert "SNAPSHOT_PROBE" not in function_variables(session, INGEST)


def _delete_bucket(session: Any, bucket: str) -> None:
    s3 = session.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def test_a_failed_snapshot_stops_a_stage_update(deployed_dev: Any) -> None:
    session = deployed_dev
    stage_ingest = resource_name(Function.INGEST, "stage")
    app = f"{sys.executable} {REPO_ROOT / 'tests' / 'e2e' / 'changed_stage_app.py'}"
    # given stage deployed (its snapshots fail the update when they fail)
    session.cdk("deploy", "-c", "env=stage", "--all", "--require-approval", "never",
                "--app", app, "-c", "snapshot_probe=deployed")  # fmt: skip
    assert function_variables(session, stage_ingest)["SNAPSHOT_PROBE"] == "deployed"
    assert snapshot_ids(session, "stage", f"baseline_{resource_name(StackComponent.RUNTIME, 'stage')}_")
    # and its backups bucket gone, so that no snapshot can be written
    _delete_bucket(session, resource_name(Bucket.BACKUPS, "stage"))

    # when a change to S1-runtime is deployed
    with pytest.raises(CdkCommandError) as failure:
        runtime = resource_name(StackComponent.RUNTIME, "stage")
        session.cdk("deploy", "-c", "env=stage", runtime, "--exclusively",
                    "--require-approval", "never", "--app", app, "-c", "snapshot_probe=changed")  # fmt: skip

    # then the CLI fails, naming the snapshot, and the function was not updated
    # the CLI itself failed (not a timeout), and its own output names the snapshot
    assert "exited with status" in str(failure.value).splitlines()[0]
    assert "pre-update snapshot failed" in failure.value.output
    assert function_variables(session, stage_ingest)["SNAPSHOT_PROBE"] == "deployed"
