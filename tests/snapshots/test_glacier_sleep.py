"""Glacier takes only what may sleep (issue 23, item 3).

The backups bucket's lifecycle moves to Glacier the snapshot files tagged ``vectora:storage=may-sleep``
when written: the bulk copies (S3 objects, function and layer zips), never the metadata, README or
stack documents and templates that list, verify and a rollback read (a Glacier object answers
``InvalidObjectState`` to GetObject until restored). Here: which writes carry the tag, and an old
prod snapshot whose tagged files the lifecycle has moved (done as the rule would, by tag, with
CopyObject to GLACIER) can still be listed and verified, and a rollback from it refuses in one
line, saying to restore from Glacier first, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.snapshots.conftest import CANONICAL_FILES, engine, run_script, session
from tests.snapshots.test_retention_archive import snapshot_at
from vectora_ops.environment import Environment
from vectora_ops.snapshots import BackupsBucketStore, SnapshotError
from vectora_ops.snapshots.layout import (
    SLEEP_TAG_KEY,
    SLEEP_TAG_VALUE,
    lambda_file,
    lambda_zip,
    layer_file,
    layer_zip,
    may_sleep,
    stack_file,
    stack_template_file,
)
from vectora_ops.snapshots.metadata import METADATA_FILE, README_FILE

SLEEPS = [lambda_zip("vectora-inbox-ingest-v2-prod"), layer_zip("vectora-core-prod", 3), *CANONICAL_FILES]
AWAKE = [
    METADATA_FILE,
    README_FILE,
    stack_file("vectora-inbox-s0-core-prod"),
    stack_template_file("vectora-inbox-s0-core-prod"),
    lambda_file("vectora-inbox-ingest-v2-prod"),
    layer_file("vectora-core-prod"),
]


def test_only_the_bulk_copies_may_sleep() -> None:
    assert [rel for rel in SLEEPS if not may_sleep(rel)] == []
    assert [rel for rel in AWAKE if may_sleep(rel)] == []


def tags(bucket: str, key: str) -> dict[str, str]:
    found = session().client("s3").get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in found}


def test_every_write_carries_the_tag_if_and_only_if_the_file_may_sleep(
    prod_bucket: str, prod_canonical: str
) -> None:
    # the engine's own writes: the copies of canonical objects, the metadata, README, stack documents
    sid = snapshot_at("prod", "t", timedelta(days=1), components=["canonical", "stacks"])
    listed = session().client("s3").list_objects_v2(Bucket=prod_bucket, Prefix=f"snapshots/{sid}/")
    written = {o["Key"].split("/", 2)[2] for o in listed["Contents"]}
    assert set(CANONICAL_FILES) < written and METADATA_FILE in written and README_FILE in written
    assert any(rel.startswith("stacks/") for rel in written)
    # and the bytes the store writes itself (what the zips go through)
    store = BackupsBucketStore(Environment("prod"))
    for rel in (lambda_zip("f"), layer_zip("l", 1), lambda_file("f"), stack_template_file("s")):
        store.put_bytes(sid, rel, b"x")
        written.add(rel)
    tagged = {rel for rel in written if tags(prod_bucket, f"snapshots/{sid}/{rel}")}
    assert tagged == {rel for rel in written if may_sleep(rel)}
    assert tags(prod_bucket, f"snapshots/{sid}/{next(iter(CANONICAL_FILES))}") == {
        SLEEP_TAG_KEY: SLEEP_TAG_VALUE
    }


def lifecycle_to_glacier(bucket: str, snapshot_id: str) -> list[str]:
    """What the lifecycle rule does once the files are old enough: every tagged file to GLACIER."""
    s3 = session().client("s3")
    moved = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"snapshots/{snapshot_id}/")["Contents"]:
        if tags(bucket, obj["Key"]).get(SLEEP_TAG_KEY) == SLEEP_TAG_VALUE:
            s3.copy_object(
                Bucket=bucket,
                Key=obj["Key"],
                CopySource={"Bucket": bucket, "Key": obj["Key"]},
                StorageClass="GLACIER",
            )
            moved.append(obj["Key"])
    return moved


@pytest.fixture
def slept(env_of: Any, prod_bucket: str, prod_canonical: str) -> Iterator[tuple[str, str]]:
    """(old prod snapshot whose bulk files sleep in Glacier, a newer one)."""
    old = snapshot_at("prod", "old", timedelta(days=120), components=["canonical", "stacks"])
    recent = snapshot_at("prod", "recent", timedelta(days=1), components=["canonical", "stacks"])
    assert len(lifecycle_to_glacier(prod_bucket, old)) == len(CANONICAL_FILES)
    s3 = session().client("s3")
    with pytest.raises(s3.exceptions.ClientError, match="InvalidObjectState"):
        s3.get_object(Bucket=prod_bucket, Key=f"snapshots/{old}/{next(iter(CANONICAL_FILES))}")
    yield old, recent


def test_an_old_snapshot_whose_bulk_files_sleep_is_still_listed_and_verified(
    env_of: Any, slept: tuple[str, str]
) -> None:
    old, recent = slept
    listed = {i.snapshot_id: i for i in engine("prod").list_snapshots()}
    assert listed[old].complete and listed[old].storage_class == "GLACIER"
    assert listed[recent].storage_class == "STANDARD"
    script = run_script(env_of, "list_snapshots.py", "--env", "prod")
    assert script.code == 0, script.stderr
    assert old in script.stdout
    # verify reads the metadata and heads every file: it names the sleeping ones, in one line
    with pytest.raises(SnapshotError) as refused:
        engine("prod").verify(old)
    message = str(refused.value)
    assert "\n" not in message and f"{len(CANONICAL_FILES)} file(s) are archived in GLACIER" in message
    assert engine("prod").verify(recent).snapshot_id == recent


def test_a_rollback_from_it_refuses_in_one_line_and_changes_nothing(
    env_of: Any, slept: tuple[str, str], prod_canonical: str, prod_bucket: str
) -> None:
    old, _ = slept
    s3 = session().client("s3")

    def state() -> tuple[Any, ...]:
        config = s3.list_objects_v2(Bucket=prod_canonical).get("Contents", [])
        backups = s3.list_objects_v2(Bucket=prod_bucket, Prefix="snapshots/").get("Contents", [])
        return tuple((o["Key"], o["ETag"]) for o in config), tuple(o["Key"] for o in backups)

    before = state()
    for components in ("canonical", "stacks"):
        run = run_script(
            env_of,
            "rollback_snapshot.py",
            "--env",
            "prod",
            "--snapshot",
            old,
            "--approve",
            "bob",
            "--components",
            components,
        )
        assert run.code == 1, run.stdout
        (line,) = run.stderr.strip().splitlines()
        assert "archived in GLACIER: restore the snapshot's objects first" in line, line
        assert "nothing was changed" in line, line
        assert state() == before
