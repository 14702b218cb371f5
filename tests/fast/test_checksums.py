"""A snapshot is verified whole before any restore: every file its metadata lists, whatever the
components asked for; S3's stored SHA-256 answers without reading the bytes where it can."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fast.conftest import BACKUPS, CONFIG, EngineFactory, get, keys, put
from vectora_ops.operation.rollback import Rollback
from vectora_ops.snapshots import SnapshotEngine, SnapshotError, SnapshotMetadata

COMPONENTS = ["client_config", "canonical", "curated"]
CANONICAL_FILE = "canonical/scopes/tech.yaml"


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def count_calls(engine: SnapshotEngine, operation: str) -> list[str]:
    """Keys of every ``operation`` the engine's S3 client sends from now on."""
    seen: list[str] = []
    engine.aws.s3.meta.events.register(
        f"before-parameter-build.s3.{operation}", lambda params, **_: seen.append(params["Key"])
    )
    return seen


@pytest.mark.parametrize("with_checksum", [False, True], ids=["plain-put", "put-with-new-sha256"])
def test_a_tampered_canonical_file_refuses_a_client_config_rollback(
    s3: Any, make_engine: EngineFactory, with_checksum: bool
) -> None:
    # given a snapshot, one of its canonical files rewritten (with or without a SHA-256 of the new
    # bytes), and a changed client config
    engine = make_engine()
    snapshot_id = engine.create("tampered", components=COMPONENTS)
    bad = b"scope: TAMPERED\n"
    extra = {"ChecksumAlgorithm": "SHA256", "ChecksumSHA256": sha256_b64(bad)} if with_checksum else {}
    key = f"snapshots/{snapshot_id}/{CANONICAL_FILE}"
    put(s3, BACKUPS, key, bad, **extra)
    stored = s3.head_object(Bucket=BACKUPS, Key=key, ChecksumMode="ENABLED").get("ChecksumSHA256")
    assert stored == (sha256_b64(bad) if with_checksum else None)  # the head path, or the read path
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    backups_before = keys(s3, BACKUPS, "snapshots/")
    # when only client_config is asked for
    with pytest.raises(SnapshotError) as err:
        Rollback(engine, snapshot_id, components=["client_config"]).run()
    # then refused, naming the file, and nothing changed: no restore, no pre_rollback_ snapshot
    assert str(err.value) == (
        f"snapshot {snapshot_id} is refused: 1 file(s) fail their checksum: {CANONICAL_FILE}; "
        "nothing was changed"
    )
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"changed\n"
    assert keys(s3, BACKUPS, "snapshots/") == backups_before
    (audit,) = keys(s3, BACKUPS, "audit/rollbacks/")
    assert json.loads(get(s3, BACKUPS, audit) or b"")["result"] == "refused"


def test_every_bad_file_is_named_in_one_line(s3: Any, make_engine: EngineFactory) -> None:
    engine = make_engine()
    snapshot_id = engine.create("many_bad", components=COMPONENTS)
    prefix = f"snapshots/{snapshot_id}/"
    put(s3, BACKUPS, f"{prefix}{CANONICAL_FILE}", b"scope: teck\n")  # same size, other bytes
    put(s3, BACKUPS, f"{prefix}canonical/prompts/summary.yaml", b"longer than before\n")
    s3.delete_object(Bucket=BACKUPS, Key=f"{prefix}clients/lai_weekly.yaml")
    with pytest.raises(SnapshotError) as err:
        engine.verify(snapshot_id)
    assert str(err.value) == (
        f"snapshot {snapshot_id} is refused: 2 file(s) fail their checksum: canonical/prompts/summary.yaml, "
        f"{CANONICAL_FILE}; 1 file(s) are missing: clients/lai_weekly.yaml; nothing was changed"
    )


def test_verification_asks_s3_for_the_checksums_and_reads_no_file(
    s3: Any, make_engine: EngineFactory
) -> None:
    engine = make_engine()
    snapshot_id = engine.create("intact", components=COMPONENTS)
    files = SnapshotMetadata.from_json(
        get(s3, BACKUPS, f"snapshots/{snapshot_id}/snapshot_metadata.json") or b""
    ).files
    heads, reads = count_calls(engine, "HeadObject"), count_calls(engine, "GetObject")
    engine.verify(snapshot_id)
    assert sorted(heads) == sorted(f"snapshots/{snapshot_id}/{rel}" for rel in files)
    assert reads == [f"snapshots/{snapshot_id}/snapshot_metadata.json"]


def test_a_file_s3_keeps_no_sha256_for_is_read_and_hashed(s3: Any, make_engine: EngineFactory) -> None:
    # given a snapshot file rewritten with its very bytes but no SHA-256 (a copy by another tool)
    engine = make_engine()
    snapshot_id = engine.create("rewritten", components=COMPONENTS)
    key = f"snapshots/{snapshot_id}/{CANONICAL_FILE}"
    put(s3, BACKUPS, key, get(s3, BACKUPS, key) or b"")
    assert "ChecksumSHA256" not in s3.head_object(Bucket=BACKUPS, Key=key, ChecksumMode="ENABLED")
    reads = count_calls(engine, "GetObject")
    # when, then: it still checks out, and only that file was read
    engine.verify(snapshot_id)
    assert sorted(reads) == sorted([f"snapshots/{snapshot_id}/snapshot_metadata.json", key])


def test_a_tampered_file_on_disk_is_refused(s3: Any, make_engine: EngineFactory, tmp_path: Path) -> None:
    engine = make_engine(local=tmp_path)
    snapshot_id = engine.create("on_disk", components=COMPONENTS)
    (tmp_path / "snapshots" / snapshot_id / CANONICAL_FILE).write_bytes(b"scope: TAMPERED\n")
    with pytest.raises(SnapshotError, match=rf"1 file\(s\) fail their checksum: {CANONICAL_FILE};"):
        Rollback(engine, snapshot_id, components=["client_config"]).run()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m["files"].update({"../../outside.yaml": m["files"].pop("README.md")}),
            "not a plain relative",
        ),
        (lambda m: m["files"]["README.md"].update(sha256="abc"), "sha256 is not 64 lower-case hex digits"),
        (lambda m: m["files"]["README.md"].update(size="12"), "size must be int, not str"),
        (lambda m: m["files"]["README.md"].update(component="everything"), "is not a snapshot component"),
        (lambda m: m.update(components=["lambdas"]), "components holds 'lambdas'"),
        (lambda m: m.update(snapshot_id="other_20260101_000000"), "names 'other_20260101_000000'"),
        (lambda m: m.pop("env"), "env must be str, not NoneType"),
    ],
    ids=["path-outside", "bad-sha", "size-as-text", "unknown-component", "components", "other-id", "no-env"],
)
def test_a_hand_edited_metadata_file_is_refused_and_listed_as_incomplete(
    s3: Any, make_engine: EngineFactory, edit: Any, message: str
) -> None:
    engine = make_engine()
    snapshot_id = engine.create("edited", components=["canonical"])
    key = f"snapshots/{snapshot_id}/snapshot_metadata.json"
    metadata = json.loads(get(s3, BACKUPS, key) or b"")
    edit(metadata)
    put(s3, BACKUPS, key, json.dumps(metadata).encode())
    with pytest.raises(SnapshotError, match=message) as err:
        Rollback(engine, snapshot_id).run()
    assert str(err.value).startswith(f"snapshot {snapshot_id} is refused: ")
    assert [(i.snapshot_id, i.complete) for i in engine.list_snapshots()] == [(snapshot_id, False)]
