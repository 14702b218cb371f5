"""End to end on the deployed dev: a heavily commented French config goes through publish, snapshot
and rollback byte for byte; publishing is gated by the runtime version dev runs.

The scripts run as an operator runs them (subprocesses, the local AWS through AWS_ENDPOINT_URL).
Each test uses a client id of its own and removes what it created.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import CONFIGS, REPO_ROOT, config_root
from tests.snapshots.conftest import CONFIG_BUCKET, ENV, run_script
from vectora_core import RUNTIME_VERSION
from vectora_core.naming import EnvVar, Function, resource_name
from vectora_ops.config.integrity import byte_differences, config_objects

pytestmark = pytest.mark.e2e


def publish_script(aws: Any, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/config/publish_config.py", "--env", ENV, "--root", str(root), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=aws.subprocess_env(),
        check=False,
        timeout=180,
    )


def french_config(client_id: str) -> bytes:
    """The team-format test config under ``client_id``, with CRLF line ends and trailing blanks:
    nothing a re-serialization would keep."""
    text = (CONFIGS / "lai_weekly.yaml").read_text("utf-8")
    text = text.replace('client_id: "lai_weekly"  ', f'client_id: "{client_id}"  ')
    text = text.replace("\n\n", "\n    \n", 3)
    return text.replace("\n", "\r\n").encode("utf-8")


@pytest.fixture
def own_client(deployed_dev, tmp_path) -> Iterator[tuple[str, Path, Any]]:
    client_id = f"bytes_{uuid.uuid4().hex[:8]}"
    root = config_root(tmp_path)
    (root / "clients" / f"{client_id}.yaml").write_bytes(french_config(client_id))
    s3 = deployed_dev.client("s3")
    yield client_id, root, s3
    s3.delete_object(Bucket=CONFIG_BUCKET, Key=f"clients/{client_id}.yaml")


def test_a_config_is_byte_identical_through_publish_snapshot_and_rollback(deployed_dev, own_client) -> None:
    client_id, root, s3 = own_client
    key = f"clients/{client_id}.yaml"
    expected = {key: (root / key).read_bytes()}
    # publish
    published = publish_script(deployed_dev, root, "--client", client_id)
    assert published.returncode == 0, published.stderr
    assert published.stdout.splitlines()[0] == f"s3://{CONFIG_BUCKET}/{key}"
    assert "warning: 6 key(s) unknown to the schema, kept as they are" in published.stderr
    assert byte_differences(expected, config_objects(s3, CONFIG_BUCKET, [key])) == []
    # snapshot
    snapshot = run_script(
        deployed_dev, "create_snapshot.py", "--env", ENV, "--name", "bytes", "--client", client_id
    )
    assert snapshot.code == 0, snapshot.stderr
    snapshot_id = snapshot.last_line
    backups = resource_name("backups", ENV)
    copy = {key: s3.get_object(Bucket=backups, Key=f"snapshots/{snapshot_id}/{key}")["Body"].read()}
    assert byte_differences(expected, copy) == []
    # a bad edit lands in the bucket, then the rollback puts the snapshot's bytes back
    s3.put_object(Bucket=CONFIG_BUCKET, Key=key, Body=b"client_profile: {client_id: broken}\n")
    rollback = run_script(
        deployed_dev,
        "rollback_snapshot.py",
        "--snapshot",
        snapshot_id,
        "--env",
        ENV,
        "--components",
        "client_config",
    )
    assert rollback.code == 0, rollback.stderr
    assert byte_differences(expected, config_objects(s3, CONFIG_BUCKET, [key])) == []


def test_every_function_shows_the_runtime_it_runs(deployed_dev) -> None:
    lambda_ = deployed_dev.client("lambda")
    for function in Function:
        variables = lambda_.get_function_configuration(FunctionName=resource_name(function, ENV))[
            "Environment"
        ]
        assert variables["Variables"][EnvVar.RUNTIME_VERSION] == RUNTIME_VERSION


def test_publishing_a_config_for_a_newer_runtime_is_refused_naming_both_versions(
    deployed_dev, own_client
) -> None:
    client_id, root, s3 = own_client
    path = root / "clients" / f"{client_id}.yaml"
    path.write_bytes(
        path.read_bytes().replace(b'min_runtime_version: "2.0.0"', b'min_runtime_version: "99.0.0"')
    )
    result = publish_script(deployed_dev, root, "--client", client_id)
    assert result.returncode == 1
    assert (
        f"{path}: metadata.min_runtime_version: 99.0.0 is newer than the runtime {RUNTIME_VERSION} of dev "
        "(deployed); deploy a runtime >= 99.0.0 first"
    ) in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == "error: nothing uploaded: 1 problem(s)"
    assert config_objects(s3, CONFIG_BUCKET, [f"clients/{client_id}.yaml"]) == {
        f"clients/{client_id}.yaml": None
    }


def test_an_environment_running_an_older_runtime_refuses_the_repository_config(
    deployed_dev, tmp_path
) -> None:
    # given dev's ingest function still on runtime 2.0.0 (a deployment that has not reached it yet)
    lambda_ = deployed_dev.client("lambda")
    name = resource_name(Function.INGEST, ENV)
    variables = lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lambda_.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, EnvVar.RUNTIME_VERSION: "2.0.0"}}
    )
    try:
        result = publish_script(deployed_dev, REPO_ROOT, "--client", "lai_weekly")
    finally:
        lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    # then lai_weekly (min_runtime_version 2.1.0) is refused, naming both versions
    assert result.returncode == 1
    assert (
        f"{REPO_ROOT / 'clients' / 'lai_weekly.yaml'}: metadata.min_runtime_version: 2.1.0 is newer than the "
        "runtime 2.0.0 of dev (deployed); deploy a runtime >= 2.1.0 first"
    ) in result.stderr.splitlines()
