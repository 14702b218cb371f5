"""Crafted snapshots: a file listed under a component whose scope does not hold it, its checksum
recomputed so that verification passes. A rollback must refuse the snapshot, naming the file,
before anything changes - a rollback of ``client_config`` that writes ``canonical/`` would go
unrecorded by its pre-rollback snapshot and unreverted by its undo.

The issue's own case is pinned on both backends (``env_aws_backend``: moto in this process and the
local AWS); generated cases (hypothesis: any component, any key outside its scope, environment
or client snapshots) run in moto in this process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.faults import load_script, run_main
from tests.fuzz.worlds import MotoWorld
from vectora_core.naming import ENV_NAMES, Bucket, Function, StackComponent, resource_name
from vectora_ops.environment import Environment
from vectora_ops.snapshots import SnapshotEngine
from vectora_ops.snapshots.ids import CANONICAL, CLIENT_CONFIG, CURATED, LAMBDA_CODE, LAMBDA_CONFIG, STACKS
from vectora_ops.snapshots.layout import lambda_file, lambda_zip, stack_file
from vectora_ops.snapshots.metadata import METADATA_FILE, FileRecord, SnapshotMetadata
from vectora_ops.snapshots.scopes import s3_scope
from vectora_ops.snapshots.store import BackupsBucketStore

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
ENV: Final = "dev"
CLIENT: Final = "lai_weekly"
CONFIG, DATA, BACKUPS = (resource_name(b, ENV) for b in (Bucket.CONFIG, Bucket.DATA, Bucket.BACKUPS))
S3_PARTS: Final = (CLIENT_CONFIG, CANONICAL, CURATED)
CRAFTED: Final = b"crafted: true\n"
rollback = load_script("maintenance/rollback_snapshot.py")


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def live(s3: Any) -> dict[str, dict[str, bytes]]:
    """What a rollback may change: the config and data buckets, and the snapshots."""
    backups = {k: v for k, v in objects(s3, BACKUPS).items() if k.startswith("snapshots/")}
    return {"config": objects(s3, CONFIG), "data": objects(s3, DATA), "snapshots": backups}


def craft(aws: Environment, snapshot_id: str, rel: str, component: str) -> None:
    """Add ``rel`` to the snapshot as a file of ``component``, stored with its true checksum."""
    store = BackupsBucketStore(aws)
    written = store.put_bytes(snapshot_id, rel, CRAFTED)
    metadata = SnapshotMetadata.from_json(store.read_bytes(snapshot_id, METADATA_FILE) or b"")
    record = FileRecord(component, hashlib.sha256(CRAFTED).hexdigest(), len(CRAFTED), written.etag)
    crafted = dataclasses.replace(metadata, files={**metadata.files, rel: record})
    store.put_bytes(snapshot_id, METADATA_FILE, crafted.to_json())


def take_snapshot(aws: Environment, client: str | None, components: tuple[str, ...]) -> str:
    clock = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
    return SnapshotEngine(ENV, aws=aws, clock=lambda: clock).create("base", client, components)


def assert_refused(s3: Any, snapshot_id: str, rel: str, components: str, before: Any) -> None:
    code, out, err = run_main(
        rollback.main, ["--env", ENV, "--snapshot", snapshot_id, "--components", components]
    )
    line = err.strip()
    assert code == 1 and out == "" and "\n" not in line, (code, out, err)
    assert line.startswith(f"error: snapshot {snapshot_id} is refused: {rel} is listed as "), line
    assert line.endswith("nothing was changed"), line
    assert live(s3) == before  # nothing restored, no pre-rollback snapshot taken
    audits = [k for k in objects(s3, BACKUPS) if k.startswith("audit/rollbacks/")]
    assert len(audits) == 1, audits
    entry = json.loads(s3.get_object(Bucket=BACKUPS, Key=audits[0])["Body"].read())
    assert entry["result"] == "refused" and rel in entry["error"], entry


# --- the case, on both backends ----------------------------------------------------------


@pytest.fixture
def dev(env_aws_backend: Any) -> Iterator[Any]:
    s3 = env_aws_backend.client("s3")
    for bucket in (CONFIG, DATA, BACKUPS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket=CONFIG, Key=f"clients/{CLIENT}.yaml", Body=b"client_id: lai_weekly\n")
    s3.put_object(Bucket=CONFIG, Key="canonical/scopes/tech.yaml", Body=b"scope: tech\n")
    yield s3
    for bucket in (CONFIG, DATA, BACKUPS):
        for key in objects(s3, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def test_a_canonical_file_labelled_client_config_is_refused_before_anything_changes(dev: Any) -> None:
    # given: a client_config snapshot that also lists canonical/scopes/tech.yaml as client_config,
    # stored with its checksum (verification passes); the client's config has changed since
    aws = Environment(ENV, workers=2)
    snapshot_id = take_snapshot(aws, CLIENT, (CLIENT_CONFIG,))
    craft(aws, snapshot_id, "canonical/scopes/tech.yaml", CLIENT_CONFIG)
    dev.put_object(Bucket=CONFIG, Key=f"clients/{CLIENT}.yaml", Body=b"client_id: lai_weekly\nv: 2\n")
    before = live(dev)
    # when/then: refused naming the file; canonical/ and the client's config are as they were
    assert_refused(dev, snapshot_id, "canonical/scopes/tech.yaml", CLIENT_CONFIG, before)
    assert objects(dev, CONFIG)["canonical/scopes/tech.yaml"] == b"scope: tech\n"


# --- generated cases (moto in this process) ------------------------------------------------------

SEGMENT = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
OTHER_ENVS = [e for e in ENV_NAMES if e != ENV]


@st.composite
def stray_files(draw: st.DrawFn) -> tuple[str | None, str, str]:
    """(snapshot client, component, a file name outside that component's scope)."""
    client = draw(st.sampled_from([None, CLIENT]))
    component = draw(st.sampled_from([*S3_PARTS, LAMBDA_CONFIG, LAMBDA_CODE, STACKS]))
    name, other = draw(SEGMENT), draw(st.sampled_from(OTHER_ENVS))
    if component in S3_PARTS:
        candidates = [
            f"canonical/{name}.yaml",
            f"clients/{name}.yaml",
            f"clients/{CLIENT}/{name}.yaml",
            f"curated/{name}/curated_items.json",
            f"curated/{CLIENT}/{name}.json",
            f"raw/{name}.json",
            f"{name}.yaml",
            f"newsletters/{name}.md",
        ]
        scope = s3_scope(component, client)
        rel = draw(st.sampled_from([c for c in candidates if not scope.matches(c)]))
    else:
        function = resource_name(draw(st.sampled_from(list(Function))), other)
        stack = resource_name(
            draw(st.sampled_from(list(StackComponent))), draw(st.sampled_from([ENV, other]))
        )
        rel = {
            LAMBDA_CONFIG: draw(st.sampled_from([lambda_file(function), lambda_file(name)])),
            LAMBDA_CODE: draw(st.sampled_from([lambda_zip(function), lambda_zip(name)])),
            STACKS: stack_file(stack if not stack.endswith(f"-{ENV}") else name),
        }[component]
    return client, component, rel


@pytest.mark.timeout(600)
def test_generated_stray_files_are_refused_naming_the_file() -> None:
    with MotoWorld() as world:
        aws = Environment(ENV, workers=2)
        s3 = aws.s3

        @settings(
            max_examples=max(1, int(25 * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(case=stray_files())
        def property_(case: tuple[str | None, str, str]) -> None:
            client, component, rel = case
            world.seed()
            parts = tuple(sorted({*S3_PARTS, component}))
            snapshot_id = take_snapshot(aws, client, parts)
            craft(aws, snapshot_id, rel, component)
            # the live state differs from the snapshot in every S3 component: a rollback would write
            s3.put_object(Bucket=CONFIG, Key=f"clients/{CLIENT}.yaml", Body=b"changed: 1\n")
            s3.put_object(Bucket=CONFIG, Key="canonical/added.yaml", Body=b"added: 1\n")
            s3.put_object(Bucket=DATA, Key=f"curated/{CLIENT}/curated_items.json", Body=b"[9]")
            assert_refused(s3, snapshot_id, rel, component, live(s3))

        property_()
