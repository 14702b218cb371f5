"""The deployed items on the local AWS's dev (and the stage publish that needs a recent snapshot)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checklist.conftest import copy_assembly
from tests.conftest import LocalAwsSession
from tests.infra.conftest import CloudAssembly
from vectora_core.naming import Bucket, resource_name
from vectora_ops.checklist import ITEMS, Status
from vectora_ops.checklist.context import Context, connect, load_templates

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def script(aws: LocalAwsSession, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / argv[0]), *argv[1:]],
        env=aws.subprocess_env(), capture_output=True, text=True, timeout=600, check=False, cwd=REPO,
    )  # fmt: skip


@pytest.fixture
def on_dev(deployed_dev: LocalAwsSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAwsSession]:
    for key, value in deployed_dev.client_env.items():
        monkeypatch.setenv(key, value)
    yield deployed_dev


def checked(item_id: str, assembly: CloudAssembly, tmp_path: Path) -> tuple[Status, str]:
    deployed, where = connect("dev")
    assert deployed is not None, where
    folder = copy_assembly(assembly, tmp_path / "assembly")
    ctx = Context("dev", load_templates(folder, "dev"), deployed, where)
    result = next(i for i in ITEMS if i.id == item_id).check(ctx)
    return result.status, result.evidence


def snapshot(aws: LocalAwsSession, name: str) -> str:
    done = script(aws, "maintenance/create_snapshot.py", "--env", "dev", "--name", name, "--no-retention")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_a_change_after_the_newest_snapshot_fails_the_item(
    on_dev: LocalAwsSession, assembly: CloudAssembly, tmp_path: Path
) -> None:
    assert script(on_dev, "config/publish_config.py", "--env", "dev").returncode == 0
    snapshot_id = snapshot(on_dev, "checklist_fresh")
    status, evidence = checked("recent-snapshot", assembly, tmp_path)
    assert status is Status.PASSED and snapshot_id in evidence, evidence
    # a change after it: the same bytes written again are a new write of a config object
    s3, bucket = on_dev.client("s3"), resource_name(Bucket.CONFIG, "dev")
    key = "clients/lai_weekly.yaml"
    time.sleep(1.1)  # snapshot ids carry whole seconds
    s3.put_object(Bucket=bucket, Key=key, Body=s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    status, evidence = checked("recent-snapshot", assembly, tmp_path)
    assert status is Status.FAILED, evidence
    assert f"older than its last change (s3://{bucket}/{key}" in evidence
    assert "python scripts/maintenance/create_snapshot.py --env dev --name NAME" in evidence


def test_a_corrupted_snapshot_fails_rollback_possible(
    on_dev: LocalAwsSession, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # the client config is published here: the test must not depend on which test ran before it
    assert script(on_dev, "config/publish_config.py", "--env", "dev").returncode == 0
    snapshot_id = snapshot(on_dev, "checklist_corrupt")
    status, evidence = checked("rollback-possible", assembly, tmp_path)
    assert status is Status.PASSED and snapshot_id in evidence, evidence
    s3, bucket = on_dev.client("s3"), resource_name(Bucket.BACKUPS, "dev")
    key = f"snapshots/{snapshot_id}/clients/lai_weekly.yaml"
    s3.head_object(Bucket=bucket, Key=key)  # tampering with a file the snapshot holds, not adding one
    s3.put_object(Bucket=bucket, Key=key, Body=b"tampered\n")
    try:
        status, evidence = checked("rollback-possible", assembly, tmp_path)
        assert status is Status.FAILED and snapshot_id in evidence and "clients/lai_weekly.yaml" in evidence
    finally:  # the session's dev must not keep a corrupted newest snapshot
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"snapshots/{snapshot_id}/").get("Contents", [])
        for obj in listed:
            s3.delete_object(Bucket=bucket, Key=obj["Key"])


def test_outputs_not_in_the_newest_snapshot_fail(
    on_dev: LocalAwsSession, assembly: CloudAssembly, tmp_path: Path
) -> None:
    snapshot_id = snapshot(on_dev, "checklist_outputs")
    status, evidence = checked("outputs-saved", assembly, tmp_path)
    assert status is Status.PASSED and snapshot_id in evidence, evidence
    newer = snapshot(on_dev, "checklist_outputs_none")
    s3, bucket = on_dev.client("s3"), resource_name(Bucket.BACKUPS, "dev")
    # the newest snapshot without S1-runtime's outputs (its stack file says the stack was absent)
    stack = resource_name("s1-runtime", "dev")
    s3.put_object(Bucket=bucket, Key=f"snapshots/{newer}/stacks/{stack}.json", Body=b'{"absent": true}')
    try:
        status, evidence = checked("outputs-saved", assembly, tmp_path)
        assert status is Status.FAILED and f"does not hold {stack}'s current outputs" in evidence, evidence
    finally:
        for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"snapshots/{newer}/").get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])


def test_post_deployment_fails_when_no_newsletter_followed_the_change(
    on_dev: LocalAwsSession, assembly: CloudAssembly, tmp_path: Path
) -> None:
    bucket = resource_name(Bucket.NEWSLETTERS, "dev")
    s3 = on_dev.client("s3")
    newsletters = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    status, evidence = checked("post-deployment", assembly, tmp_path)
    if not any(k.endswith("newsletter.md") for k in newsletters):
        assert status is Status.FAILED and "run python scripts/invoke/run_pipeline.py --env dev" in evidence
    else:
        assert status is not Status.NOT_CHECKED, evidence


def test_publish_into_stage_without_a_recent_snapshot_is_refused(on_dev: LocalAwsSession) -> None:
    done = script(on_dev, "config/publish_config.py", "--env", "stage")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "error: --env stage is refused: stage has no complete snapshot"
    )
    assert (
        "take one first: python scripts/maintenance/create_snapshot.py --env stage --name pre_publish"
        in done.stderr
    )
    assert not done.stdout
