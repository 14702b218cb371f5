"""Snapshot and rollback against the dev environment deployed by the CDK CLI on the local AWS.

snapshot → change a client config, an env variable and the function code → rollback (full and
per component) → the state equals the snapshot, and the pre_rollback_ snapshot holds the changed
state. Each test uses a client id of its own and puts the function back afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.snapshots.conftest import (
    BACKUPS_BUCKET,
    CONFIG_BUCKET,
    DATA_BUCKET,
    ENV,
    INGEST,
    DevState,
    engine,
    run_script,
    session,
)
from vectora_core.naming import Function, Layer, StackComponent, resource_name
from vectora_ops.snapshots import SnapshotError

pytestmark = pytest.mark.e2e
ID_RE = re.compile(r"^[A-Za-z0-9._-]+_\d{8}_\d{6}$")


def snapshot_file(s3: Any, snapshot_id: str, rel: str) -> bytes:
    return bytes(s3.get_object(Bucket=BACKUPS_BUCKET, Key=f"snapshots/{snapshot_id}/{rel}")["Body"].read())


def metadata_of(s3: Any, snapshot_id: str) -> dict[str, Any]:
    return dict(json.loads(snapshot_file(s3, snapshot_id, "snapshot_metadata.json")))


def seed_client(state: DevState, version: str = "1.0.0") -> None:
    state.put(state.client_key, f"client_id: {state.client_id}\nversion: {version}\n".encode())
    state.put(f"curated/{state.client_id}/curated_items.json", b'{"items": [1, 2, 3]}', DATA_BUCKET)


def test_create_snapshot_writes_the_layout_with_a_checksum_per_file(
    dev_state: DevState, aws_env: Any
) -> None:
    # given: two clients; the snapshot is limited to one of them
    seed_client(dev_state)
    dev_state.put("clients/snaptest_other_client.yaml", b"client_id: other\n")
    other_curated = "curated/snaptest_other_client/curated_items.json"
    dev_state.s3.put_object(Bucket="vectora-inbox-data-dev", Key=other_curated, Body=b"[]")
    try:
        # when
        result = run_script(
            aws_env,
            "create_snapshot.py",
            "--env",
            ENV,
            "--name",
            "lai_v7_stable",
            "--client",
            dev_state.client_id,
        )
    finally:
        dev_state.s3.delete_object(
            Bucket="vectora-inbox-config-dev", Key="clients/snaptest_other_client.yaml"
        )
        dev_state.s3.delete_object(Bucket="vectora-inbox-data-dev", Key=other_curated)
    # then
    assert result.code == 0, result.stderr
    snapshot_id = result.last_line
    assert ID_RE.match(snapshot_id) and snapshot_id.startswith("lai_v7_stable_")
    s3 = dev_state.s3
    metadata = metadata_of(s3, snapshot_id)
    assert metadata["complete"] is True
    assert (metadata["env"], metadata["client"], metadata["name"]) == (
        ENV,
        dev_state.client_id,
        "lai_v7_stable",
    )
    files = metadata["files"]
    expected = {
        f"clients/{dev_state.client_id}.yaml",
        f"curated/{dev_state.client_id}/curated_items.json",
        "README.md",
        *(f"lambda_{resource_name(f, ENV)}.json" for f in Function),
        *(f"lambda_{resource_name(f, ENV)}.zip" for f in Function),
        *(f"layer_{resource_name(layer, ENV)}.json" for layer in Layer),
        *(f"stacks/{resource_name(s, ENV)}.json" for s in StackComponent),
    }
    assert expected <= set(files)
    assert "clients/snaptest_other_client.yaml" not in files  # --client limits client configs
    assert other_curated not in files  # and curated data (the other client's exists in the bucket)
    assert not any(k.startswith("curated/") and dev_state.client_id not in k for k in files)
    assert any(re.match(r"layer_vectora-inbox-common-deps-dev_\d+\.zip$", k) for k in files)
    # every file is there with the recorded sha256
    for rel, record in files.items():
        data = snapshot_file(s3, snapshot_id, rel)
        assert hashlib.sha256(data).hexdigest() == record["sha256"], rel
        assert len(data) == record["size"], rel
    # the code zip is the function's code; the stack file holds template, parameters, outputs
    code = snapshot_file(s3, snapshot_id, f"lambda_{INGEST}.zip")
    assert base64.b64encode(hashlib.sha256(code).digest()).decode() == dev_state.code_sha()
    stack = json.loads(
        snapshot_file(s3, snapshot_id, f"stacks/{resource_name(StackComponent.RUNTIME, ENV)}.json")
    )
    assert stack["status"].endswith("_COMPLETE") and "Resources" in stack["template"]
    assert isinstance(stack["parameters"], list) and isinstance(stack["outputs"], list)
    lambda_doc = json.loads(snapshot_file(s3, snapshot_id, f"lambda_{INGEST}.json"))
    assert lambda_doc["environment"] == dev_state.env_vars()
    assert "README.md" in files and snapshot_id in snapshot_file(s3, snapshot_id, "README.md").decode()


def test_same_name_in_the_same_second_never_collides(aws_env: Any) -> None:
    # given: a clock stopped on one second
    frozen = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
    # when: three snapshots of one name (the id is reserved by a conditional write in S3)
    stopped = engine(clock=lambda: frozen)
    ids = [stopped.create("collide", components=["canonical"]) for _ in range(3)]
    # then: three distinct, well-formed, complete snapshots, in the following seconds
    assert ids == ["collide_20260130_143022", "collide_20260130_143023", "collide_20260130_143024"]
    complete = {i.snapshot_id: i.complete for i in engine().list_snapshots()}
    assert all(complete[i] for i in ids)


def test_concurrent_snapshots_of_one_name_never_collide(aws_env: Any, tmp_path: Any) -> None:
    # Truly concurrent, on disk (an atomic mkdir reserves the id). In S3 the conditional write is
    # atomic too; the emulator's If-None-Match check is not, so S3 is tested sequentially above.
    frozen = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
    ids: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            ids.append(
                engine(clock=lambda: frozen, local=tmp_path).create("collide", components=["canonical"])
            )
        except BaseException as err:  # noqa: BLE001  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(ids) == [f"collide_20260130_1430{s}" for s in range(22, 28)]
    for snapshot_id in ids:
        metadata = json.loads((tmp_path / "snapshots" / snapshot_id / "snapshot_metadata.json").read_text())
        assert metadata["complete"] is True and metadata["snapshot_id"] == snapshot_id


def test_full_rollback_restores_config_env_and_code_and_pre_rollback_holds_the_changed_state(
    dev_state: DevState, aws_env: Any
) -> None:
    # given: a snapshot, then a changed client config, a new client file, an env variable and code
    seed_client(dev_state)
    original_config = dev_state.get(dev_state.client_key)
    original_env, original_sha = dev_state.env_vars(), dev_state.code_sha()
    taken = run_script(aws_env, "create_snapshot.py", "--env", ENV, "--name", "before_change")
    assert taken.code == 0, taken.stderr
    snapshot_id = taken.last_line
    dev_state.put(dev_state.client_key, b"client_id: changed\nversion: 2.0.0\n")
    dev_state.put(f"clients/{dev_state.client_id}/added_later.yaml", b"new: true\n")
    canonical_added = f"canonical/scopes/{dev_state.client_id}_added_later.yaml"
    dev_state.put(canonical_added, b"added: true\n")
    curated = f"curated/{dev_state.client_id}/curated_items.json"
    dev_state.put(curated, b'{"items": []}', DATA_BUCKET)
    dev_state.set_env_var("LOG_LEVEL", "ERROR")
    changed_sha = dev_state.set_code("def handler(event, context):\n    return 'changed'\n")
    assert changed_sha != original_sha

    # when
    result = run_script(aws_env, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV)

    # then: the default components (all but stacks) were restored and the state equals the snapshot
    assert result.code == 0, result.stderr
    restored = "lambda_config,lambda_code,layers,client_config,canonical,curated"
    assert f"{snapshot_id} ({restored}):" in result.stdout
    assert dev_state.get(dev_state.client_key) == original_config
    assert dev_state.get(f"clients/{dev_state.client_id}/added_later.yaml") is None
    assert dev_state.get(canonical_added) is None  # canonical/ equals the snapshot: additions go
    assert dev_state.get(curated, DATA_BUCKET) == b'{"items": [1, 2, 3]}'
    assert dev_state.env_vars() == original_env
    assert dev_state.code_sha() == original_sha
    assert "drifts from its template" in result.stderr and "cdk deploy -c env=dev" in result.stderr
    # and the pre_rollback_ snapshot holds the changed state
    pre_id = re.search(r"previous state in (\S+)", result.stdout)
    assert pre_id, result.stdout
    pre = pre_id.group(1)
    assert pre.startswith(f"pre_rollback_{snapshot_id}_")
    s3 = dev_state.s3
    assert snapshot_file(s3, pre, dev_state.client_key) == b"client_id: changed\nversion: 2.0.0\n"
    assert snapshot_file(s3, pre, f"clients/{dev_state.client_id}/added_later.yaml") == b"new: true\n"
    assert snapshot_file(s3, pre, canonical_added) == b"added: true\n"
    assert snapshot_file(s3, pre, curated) == b'{"items": []}'
    pre_lambda = json.loads(snapshot_file(s3, pre, f"lambda_{INGEST}.json"))
    assert pre_lambda["environment"]["LOG_LEVEL"] == "ERROR"
    assert pre_lambda["code_sha256"] == changed_sha
    code = snapshot_file(s3, pre, f"lambda_{INGEST}.zip")
    assert base64.b64encode(hashlib.sha256(code).digest()).decode() == changed_sha
    # and the rollback is in the audit log
    audit = [
        k for k in dev_state.keys("audit/rollbacks/", BACKUPS_BUCKET) if k.endswith(f"{snapshot_id}.json")
    ]
    entries = [json.loads(dev_state.get(k, BACKUPS_BUCKET) or b"{}") for k in audit]
    assert any(e["result"] == "succeeded" and e["pre_rollback"] == pre for e in entries)
    # a second rollback finds nothing to do
    again = run_script(aws_env, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV)
    assert again.code == 0 and "nothing to do" in again.stdout


def test_s3_copies_are_server_side_and_concurrent(dev_state: DevState, aws_env: Any) -> None:
    # given a client with 24 config files and curated data
    seed_client(dev_state)
    sources = [dev_state.client_key]
    for index in range(24):
        key = f"clients/{dev_state.client_id}/part_{index:02d}.yaml"
        dev_state.put(key, f"part: {index}\n".encode())
        sources.append(key)
    calls: list[tuple[str, str | None, str, int]] = []  # operation, bucket, copy source, thread
    lock = threading.Lock()

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        source = params.get("CopySource", "")
        if isinstance(source, dict):
            source = f"{source['Bucket']}/{source['Key']}"
        with lock:
            calls.append((model.name, params.get("Bucket"), source, threading.get_ident()))

    counted = session()
    counted.events.register("before-parameter-build.s3", record)
    # when a snapshot of the client's config and curated data is taken with 8 workers
    engine(session=counted, workers=8).create(
        "server_side", client=dev_state.client_id, components=["client_config", "curated"]
    )
    # then every object is copied by S3 itself into the backups bucket, never downloaded
    copies = [c for c in calls if c[0] == "CopyObject"]
    assert {c[1] for c in copies} == {BACKUPS_BUCKET}
    copied = {c[2] for c in copies}
    assert {f"{CONFIG_BUCKET}/{key}" for key in sources} <= copied
    assert f"{DATA_BUCKET}/curated/{dev_state.client_id}/curated_items.json" in copied
    assert not [c for c in calls if c[0] == "GetObject" and c[1] in (CONFIG_BUCKET, DATA_BUCKET)]
    # and by several threads at once
    assert len({c[3] for c in copies}) > 1


def test_rollback_of_client_config_only_leaves_lambda_alone(dev_state: DevState, aws_env: Any) -> None:
    # given
    seed_client(dev_state)
    original_config = dev_state.get(dev_state.client_key)
    taken = run_script(
        aws_env, "create_snapshot.py", "--env", ENV, "--name", "cc_only", "--client", dev_state.client_id
    )
    assert taken.code == 0, taken.stderr
    dev_state.put(dev_state.client_key, b"client_id: changed\n")
    dev_state.set_env_var("LOG_LEVEL", "WARNING")
    # when
    result = run_script(
        aws_env,
        "rollback_snapshot.py",
        "--snapshot",
        taken.last_line,
        "--env",
        ENV,
        "--components",
        "client_config",
    )
    # then
    assert result.code == 0, result.stderr
    assert dev_state.get(dev_state.client_key) == original_config
    assert dev_state.env_vars()["LOG_LEVEL"] == "WARNING"  # not a chosen component
    assert "drifts" not in result.stderr


def test_rollback_of_lambda_config_only_leaves_s3_alone(dev_state: DevState, aws_env: Any) -> None:
    seed_client(dev_state)
    original_env = dev_state.env_vars()
    snapshot_id = engine().create("env_only", client=dev_state.client_id)
    dev_state.put(dev_state.client_key, b"client_id: changed\n")
    dev_state.set_env_var("EXTRA_SNAPTEST", "1")
    result = run_script(
        aws_env,
        "rollback_snapshot.py",
        "--snapshot",
        snapshot_id,
        "--env",
        ENV,
        "--components",
        "lambda_config",
    )
    assert result.code == 0, result.stderr
    assert dev_state.env_vars() == original_env
    assert dev_state.get(dev_state.client_key) == b"client_id: changed\n"


def test_dry_run_prints_the_changes_and_changes_nothing(dev_state: DevState, aws_env: Any) -> None:
    seed_client(dev_state)
    snapshot_id = engine().create("dry", client=dev_state.client_id)
    dev_state.put(dev_state.client_key, b"client_id: changed\n")
    dev_state.set_env_var("LOG_LEVEL", "ERROR")
    before = {i.snapshot_id for i in engine().list_snapshots()}
    result = run_script(aws_env, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV, "--dry-run")
    assert result.code == 0, result.stderr
    assert (
        f"client_config s3://vectora-inbox-config-dev/{dev_state.client_key}: put (changed)" in result.stdout
    )
    assert f"lambda_config {INGEST}: update configuration: environment variables LOG_LEVEL" in result.stdout
    assert "dry run: nothing was changed" in result.stdout
    assert dev_state.get(dev_state.client_key) == b"client_id: changed\n"
    assert dev_state.env_vars()["LOG_LEVEL"] == "ERROR"
    assert {i.snapshot_id for i in engine().list_snapshots()} == before  # no pre_rollback_ snapshot either


def test_a_pattern_selects_the_newest_complete_snapshot(dev_state: DevState, aws_env: Any) -> None:
    seed_client(dev_state, "1.0.0")
    engine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)).create(
        f"globtest_{dev_state.client_id}", client=dev_state.client_id, components=["client_config"]
    )
    seed_client(dev_state, "2.0.0")
    engine(clock=lambda: datetime(2026, 1, 2, tzinfo=UTC)).create(
        f"globtest_{dev_state.client_id}", client=dev_state.client_id, components=["client_config"]
    )
    seed_client(dev_state, "3.0.0")
    result = run_script(
        aws_env,
        "rollback_snapshot.py",
        "--snapshot",
        f"globtest_{dev_state.client_id}_*",
        "--env",
        ENV,
        "--components",
        "client_config",
    )
    assert result.code == 0, result.stderr
    assert b"version: 2.0.0" in (dev_state.get(dev_state.client_key) or b"")


def test_local_dir_holds_the_same_layout_and_restores(
    dev_state: DevState, aws_env: Any, tmp_path: Any
) -> None:
    seed_client(dev_state)
    original = dev_state.get(dev_state.client_key)
    taken = run_script(
        aws_env,
        "create_snapshot.py",
        "--env",
        ENV,
        "--name",
        "on_disk",
        "--client",
        dev_state.client_id,
        "--local",
        str(tmp_path),
    )
    assert taken.code == 0, taken.stderr
    folder = tmp_path / "snapshots" / taken.last_line
    metadata = json.loads((folder / "snapshot_metadata.json").read_text())
    assert metadata["complete"] is True
    for rel, record in metadata["files"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == record["sha256"], rel
    assert (folder / f"lambda_{INGEST}.zip").is_file() and (folder / "README.md").is_file()
    listed = run_script(aws_env, "list_snapshots.py", "--env", ENV, "--local", str(tmp_path), "--json")
    assert [row["id"] for row in json.loads(listed.stdout)] == [taken.last_line]
    dev_state.put(dev_state.client_key, b"client_id: changed\n")
    result = run_script(
        aws_env,
        "rollback_snapshot.py",
        "--snapshot",
        taken.last_line,
        "--env",
        ENV,
        "--components",
        "client_config,curated",
        "--local",
        str(tmp_path),
    )
    assert result.code == 0, result.stderr
    assert dev_state.get(dev_state.client_key) == original
    assert (tmp_path / "audit" / "rollbacks").is_dir()


def test_list_snapshots_shows_a_table_newest_first(aws_env: Any) -> None:
    engine(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)).create("listing_old", components=["canonical"])
    engine(clock=lambda: datetime(2026, 1, 3, tzinfo=UTC)).create("listing_new", components=["canonical"])
    result = run_script(aws_env, "list_snapshots.py", "--env", ENV)
    assert result.code == 0, result.stderr
    for column in ("id", "created (UTC)", "env", "client", "components", "size", "complete", "storage class"):
        assert column in result.stdout
    assert result.stdout.index("listing_new_20260103_000000") < result.stdout.index(
        "listing_old_20260101_000000"
    )


def test_create_dry_run_previews_and_writes_nothing(dev_state: DevState, aws_env: Any) -> None:
    seed_client(dev_state)
    before = {i.snapshot_id for i in engine().list_snapshots()}
    result = run_script(
        aws_env,
        "create_snapshot.py",
        "--env",
        ENV,
        "--name",
        "preview",
        "--client",
        dev_state.client_id,
        "--dry-run",
    )
    assert result.code == 0, result.stderr
    assert (
        "would write preview_<YYYYMMDD_HHMMSS>/ in s3://vectora-inbox-backups-dev/snapshots/" in result.stdout
    )
    assert f'"source": "s3://vectora-inbox-config-dev/clients/{dev_state.client_id}.yaml"' in result.stdout
    assert result.last_line == "dry run: nothing was changed"
    assert {i.snapshot_id for i in engine().list_snapshots()} == before


def test_unknown_client_is_one_line_and_creates_nothing(aws_env: Any) -> None:
    before = {i.snapshot_id for i in engine().list_snapshots()}
    result = run_script(
        aws_env, "create_snapshot.py", "--env", ENV, "--name", "x", "--client", "no_such_client"
    )
    assert result.code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "unknown client 'no_such_client'" in result.stderr
    assert {i.snapshot_id for i in engine().list_snapshots()} == before


def test_create_snapshot_api_error_for_a_bad_name(aws_env: Any) -> None:
    with pytest.raises(SnapshotError, match="invalid snapshot name"):
        engine(session=session()).create("bad name")
