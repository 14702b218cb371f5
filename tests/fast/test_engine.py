"""The engine on in-process S3: create, preview, list, retention, cleanup and rollback of the S3
components (client configs, canonical files, curated items)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fast.conftest import BACKUPS, CONFIG, DATA, Clock, EngineFactory, get, keys, make_buckets, put
from vectora_ops.operation.rollback import Rollback
from vectora_ops.snapshots import SnapshotError, SnapshotMetadata

S3_COMPONENTS = ["client_config", "canonical", "curated"]


def metadata_of(s3: Any, snapshot_id: str) -> SnapshotMetadata:
    raw = get(s3, BACKUPS, f"snapshots/{snapshot_id}/snapshot_metadata.json")
    assert raw is not None
    return SnapshotMetadata.from_json(raw)


def test_create_writes_every_file_with_its_checksum_and_records_what_is_absent(
    s3: Any, make_engine: EngineFactory
) -> None:
    # when
    snapshot_id = make_engine().create("lai_v7_stable")
    # then: the id carries the clock's second; every file listed is stored with its sha256
    assert snapshot_id == "lai_v7_stable_20260130_143022"
    metadata = metadata_of(s3, snapshot_id)
    assert metadata.complete and metadata.env == "dev" and metadata.client is None
    assert {
        "clients/lai_weekly.yaml",
        "canonical/scopes/tech.yaml",
        "canonical/prompts/summary.yaml",
        "curated/lai_weekly/curated_items.json",
        "README.md",
        "stacks/vectora-inbox-s1-runtime-dev.json",
        "lambda_vectora-inbox-ingest-v2-dev.json",
    } <= set(metadata.files)
    for rel, record in metadata.files.items():
        data = get(s3, BACKUPS, f"snapshots/{snapshot_id}/{rel}")
        assert (
            data is not None
            and hashlib.sha256(data).hexdigest() == record.sha256
            and len(data) == record.size
        )
    assert metadata.files["clients/lai_weekly.yaml"].source == f"s3://{CONFIG}/clients/lai_weekly.yaml"
    # nothing of Lambda or CloudFormation is deployed here: recorded as absent, not an error
    stack = json.loads(
        get(s3, BACKUPS, f"snapshots/{snapshot_id}/stacks/vectora-inbox-s1-runtime-dev.json") or b""
    )
    assert stack == {"absent": True, "stack_name": "vectora-inbox-s1-runtime-dev"}
    assert metadata.contents["functions"] == dict.fromkeys(
        [
            "vectora-inbox-ingest-v2-dev",
            "vectora-inbox-normalize-score-v2-dev",
            "vectora-inbox-newsletter-v2-dev",
        ],
        "absent",
    )


def test_metadata_json_round_trips_through_the_model(s3: Any, make_engine: EngineFactory) -> None:
    snapshot_id = make_engine().create("round_trip", components=S3_COMPONENTS)
    raw = get(s3, BACKUPS, f"snapshots/{snapshot_id}/snapshot_metadata.json") or b""
    assert SnapshotMetadata.from_json(raw).to_json() == raw


def test_a_client_snapshot_holds_that_client_only(s3: Any, make_engine: EngineFactory) -> None:
    put(s3, CONFIG, "clients/other.yaml", b"client_id: other\n")
    put(s3, DATA, "curated/other/curated_items.json", b"[]")
    snapshot_id = make_engine().create("one_client", client="lai_weekly", components=S3_COMPONENTS)
    files = set(metadata_of(s3, snapshot_id).files)
    assert "clients/lai_weekly.yaml" in files and "curated/lai_weekly/curated_items.json" in files
    assert "clients/other.yaml" not in files and "curated/other/curated_items.json" not in files


def test_same_name_in_the_same_second_takes_the_next_seconds(s3: Any, make_engine: EngineFactory) -> None:
    engine = make_engine()
    ids = [engine.create("collide", components=["canonical"]) for _ in range(3)]
    assert ids == ["collide_20260130_143022", "collide_20260130_143023", "collide_20260130_143024"]
    assert [i.complete for i in engine.list_snapshots()] == [True, True, True]


def test_preview_counts_and_writes_nothing(s3: Any, make_engine: EngineFactory) -> None:
    preview = make_engine().preview("nothing_yet", components=S3_COMPONENTS)
    assert preview.location == f"s3://{BACKUPS}/snapshots/"
    assert preview.contents["canonical"]["objects"] == 2
    assert preview.copies == 4  # 1 client config + 2 canonical + 1 curated
    assert keys(s3, BACKUPS) == []


def test_an_unknown_client_and_a_missing_backups_bucket_are_refused(
    aws: Any, make_engine: EngineFactory
) -> None:
    with pytest.raises(SnapshotError, match=r"backups bucket vectora-inbox-backups-dev does not exist"):
        make_engine().create("x")
    make_buckets(aws)
    with pytest.raises(SnapshotError, match=r"unknown client 'nobody': no clients/nobody.yaml"):
        make_engine().create("x", client="nobody")
    assert keys(aws, BACKUPS) == []


def test_list_is_newest_first_and_shows_incomplete_snapshots(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    older = engine.create("listed", components=["canonical"])
    clock.advance(days=1)
    newer = engine.create("listed", components=["canonical"])
    # a snapshot whose capture never finished: its metadata says complete: false
    put(s3, BACKUPS, "snapshots/broken_20260101_000000/snapshot_metadata.json", b"{not json")
    infos = engine.list_snapshots()
    assert [(i.snapshot_id, i.complete) for i in infos] == [
        (newer, True),
        (older, True),
        ("broken_20260101_000000", False),
    ]
    assert infos[0].components == ("canonical",) and infos[0].files == 4  # 2 files, README, metadata


def test_retention_keeps_the_7_newest_in_dev_and_stale_incomplete_ones_go(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    made = []
    for _ in range(9):
        made.append(engine.create("r", components=["canonical"]))
        clock.advance(days=1)
    # an interrupted capture (the reserved metadata, complete: false), and a damaged one: what the
    # engine never writes is kept (it cannot tell what it is), with a warning
    stale = SnapshotMetadata("stale_20260101_000000", "stale", "dev", None, ("canonical",), "2026-01-01")
    put(s3, BACKUPS, "snapshots/stale_20260101_000000/snapshot_metadata.json", stale.to_json())
    put(s3, BACKUPS, "snapshots/damaged_20260101_000000/snapshot_metadata.json", b'{"complete": false}')
    # a dry run plans, the real run deletes the same
    assert engine.apply_retention(dry_run=True) == sorted([*made[:2], "stale_20260101_000000"])
    assert engine.apply_retention(dry_run=True, pending=1) == sorted([*made[:3], "stale_20260101_000000"])
    assert len(engine.list_snapshots()) == 11
    assert engine.apply_retention() == sorted([*made[:2], "stale_20260101_000000"])
    left = sorted(i.snapshot_id for i in engine.list_snapshots())
    assert left == sorted([*made[2:], "damaged_20260101_000000"])
    assert [k for k in keys(s3, BACKUPS) if k.startswith(f"snapshots/{made[0]}/")] == []


def test_cleanup_deletes_by_age_but_never_the_newest_complete_one(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    made = []
    for _ in range(3):
        made.append(engine.create("c", components=["canonical"]))
        clock.advance(days=5)
    # ages: 15, 10 and 5 days
    assert engine.cleanup(older_than_days=12, dry_run=True) == {made[0]: "older than 12 days"}
    assert engine.cleanup(older_than_days=0) == {made[0]: "older than 0 days", made[1]: "older than 0 days"}
    assert [i.snapshot_id for i in engine.list_snapshots()] == [made[2]]


def test_prod_keeps_everything_cleanup_is_refused_and_archive_needs_the_bucket(
    aws: Any, make_engine: EngineFactory, tmp_path: Path
) -> None:
    make_buckets(aws, "prod")
    engine = make_engine("prod")
    engine.create("p", components=["canonical"])
    assert engine.apply_retention() == []
    with pytest.raises(SnapshotError, match="cleanup never deletes prod snapshots"):
        engine.cleanup(older_than_days=1)
    with pytest.raises(SnapshotError, match="snapshots on disk .* have no storage class"):
        make_engine("prod", local=tmp_path).archive()
    with pytest.raises(SnapshotError, match="archive applies to environments that keep every snapshot"):
        make_engine("dev").archive()


def test_rollback_restores_the_s3_components_after_a_pre_rollback_snapshot(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    # given a snapshot, then a changed client config, an added canonical file, changed curated items
    engine = make_engine()
    snapshot_id = engine.create("before_change", components=S3_COMPONENTS)
    clock.advance(minutes=5)
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"client_id: lai_weekly\nversion: 2.0.0\n")
    put(s3, CONFIG, "canonical/scopes/added.yaml", b"added: true\n")
    put(s3, DATA, "curated/lai_weekly/curated_items.json", b'{"items": []}')
    # when
    report = Rollback(engine, snapshot_id).run()
    # then the three prefixes equal the snapshot again
    assert report.verified and report.warnings == []
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"client_id: lai_weekly\nversion: 1.0.0\n"
    assert get(s3, CONFIG, "canonical/scopes/added.yaml") is None
    assert get(s3, DATA, "curated/lai_weekly/curated_items.json") == b'{"items": [1, 2, 3]}'
    assert sorted(report.changes) == [
        f"canonical s3://{CONFIG}/canonical/scopes/added.yaml: delete (not in snapshot)",
        f"client_config s3://{CONFIG}/clients/lai_weekly.yaml: put (changed)",
        f"curated s3://{DATA}/curated/lai_weekly/curated_items.json: put (changed)",
    ]
    # and the pre_rollback_ snapshot holds the state it replaced
    assert report.pre_rollback_id == f"pre_rollback_{snapshot_id}_20260130_143522"
    pre = f"snapshots/{report.pre_rollback_id}/"
    assert get(s3, BACKUPS, f"{pre}clients/lai_weekly.yaml") == b"client_id: lai_weekly\nversion: 2.0.0\n"
    assert get(s3, BACKUPS, f"{pre}canonical/scopes/added.yaml") == b"added: true\n"
    # and the attempt is audited
    assert report.audit == f"s3://{BACKUPS}/audit/rollbacks/20260130T143522000000Z_{snapshot_id}.json"
    entry = json.loads(get(s3, BACKUPS, report.audit.split("/", 3)[3]) or b"")
    assert (entry["result"], entry["pre_rollback"], entry["snapshot"]) == (
        "succeeded",
        report.pre_rollback_id,
        snapshot_id,
    )
    # in the frame every operation's record has (vectora_ops.operation.operation)
    assert (entry["kind"], entry["started_at"]) == ("rollback", "2026-01-30T14:35:22+00:00")
    assert {"operator", "steps", "finished_at", "duration_s"} <= set(entry) and "outcome" not in entry
    # a second rollback has nothing to do
    clock.advance(minutes=1)
    again = Rollback(engine, snapshot_id).run()
    assert again.changes == [] and again.pre_rollback_id is None and again.verified


def test_a_rollback_of_one_component_leaves_the_others_alone(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    snapshot_id = engine.create("one_component", components=S3_COMPONENTS)
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    put(s3, CONFIG, "canonical/scopes/tech.yaml", b"changed\n")
    clock.advance(seconds=1)
    report = Rollback(engine, snapshot_id, components=["client_config"]).run()
    assert report.components == ("client_config",)
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"client_id: lai_weekly\nversion: 1.0.0\n"
    assert get(s3, CONFIG, "canonical/scopes/tech.yaml") == b"changed\n"


def test_a_dry_run_changes_nothing_and_takes_no_snapshot(s3: Any, make_engine: EngineFactory) -> None:
    engine = make_engine()
    snapshot_id = engine.create("dry", components=S3_COMPONENTS)
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    report = Rollback(engine, snapshot_id, dry_run=True).run()
    assert report.changes == [f"client_config s3://{CONFIG}/clients/lai_weekly.yaml: put (changed)"]
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"changed\n"
    assert [i.snapshot_id for i in engine.list_snapshots()] == [snapshot_id]


def test_a_pattern_rolls_back_to_its_newest_complete_match(
    s3: Any, make_engine: EngineFactory, clock: Clock
) -> None:
    engine = make_engine()
    for version in ("1.0.0", "2.0.0"):
        put(s3, CONFIG, "clients/lai_weekly.yaml", f"version: {version}\n".encode())
        engine.create("pre_deploy_x", components=["client_config"])
        clock.advance(hours=1)
    put(s3, BACKUPS, "snapshots/pre_deploy_x_20270101_000000/snapshot_metadata.json", b'{"complete": false}')
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"version: 3.0.0\n")
    report = Rollback(engine, "pre_deploy_*", components=["client_config"]).run()
    assert report.snapshot_id == "pre_deploy_x_20260130_153022"
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"version: 2.0.0\n"


def test_a_snapshot_lacking_an_asked_component_is_refused(s3: Any, make_engine: EngineFactory) -> None:
    engine = make_engine()
    snapshot_id = engine.create("only_canonical", components=["canonical"])
    with pytest.raises(SnapshotError, match=r"holds no 'client_config' component \(it holds: canonical\)"):
        Rollback(engine, snapshot_id, components=["client_config"]).run()
    # without an explicit choice, the components it holds are restored
    assert Rollback(engine, snapshot_id).run().components == ("canonical",)


def test_a_local_dir_holds_the_same_layout_and_restores(
    s3: Any, make_engine: EngineFactory, tmp_path: Path
) -> None:
    engine = make_engine(local=tmp_path)
    snapshot_id = engine.create("on_disk", components=S3_COMPONENTS)
    folder = tmp_path / "snapshots" / snapshot_id
    metadata = SnapshotMetadata.from_json((folder / "snapshot_metadata.json").read_bytes())
    for rel, record in metadata.files.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == record.sha256
    put(s3, CONFIG, "clients/lai_weekly.yaml", b"changed\n")
    report = Rollback(engine, snapshot_id, components=["client_config"]).run()
    assert get(s3, CONFIG, "clients/lai_weekly.yaml") == b"client_id: lai_weekly\nversion: 1.0.0\n"
    assert report.audit and Path(report.audit).parent == tmp_path / "audit" / "rollbacks"
    assert keys(s3, BACKUPS) == []  # nothing went to the bucket


def test_keys_with_spaces_and_symbols_are_snapshotted_and_restored(
    s3: Any, make_engine: EngineFactory
) -> None:
    # S3 keys are not limited to the id alphabet: the snapshot keeps them as they are
    odd = "canonical/scopes/Scope (v2) + notes@été.yaml"
    put(s3, CONFIG, odd, b"odd: 1\n")
    engine = make_engine()
    snapshot_id = engine.create("odd_keys", components=["canonical"])
    assert odd in engine.verify(snapshot_id).files
    put(s3, CONFIG, odd, b"odd: 2\n")
    Rollback(engine, snapshot_id).run()
    assert get(s3, CONFIG, odd) == b"odd: 1\n"
