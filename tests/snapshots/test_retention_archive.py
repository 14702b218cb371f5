"""Retention, cleanup and archive with snapshots of chosen ages (the engine's clock is injected).

Runs on stage and prod backups buckets created on the local AWS for the test (nothing else of
those environments exists: every other component is recorded as absent, which is also what the
pre-update snapshot of a first deployment sees).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.snapshots.conftest import CANONICAL_FILES, engine, run_script, session
from vectora_ops.snapshots import SnapshotError

NOW = datetime.now(UTC).replace(microsecond=0)


def snapshot_at(
    env: str, name: str, age: timedelta, *, fail: bool = False, components: list[str] | None = None
) -> str:
    """A snapshot taken ``age`` ago; ``fail`` makes its README write fail, leaving it incomplete."""
    faulty = session()
    if fail:

        def hook(params: dict[str, Any], **_: Any) -> None:
            if str(params.get("Key", "")).endswith("README.md"):
                raise ConnectionError("injected failure")

        faulty.events.register("before-parameter-build.s3.PutObject", hook)
    try:
        return engine(env, session=faulty, clock=lambda: NOW - age).create(
            name, components=components or ["canonical"]
        )
    except SnapshotError as err:
        assert fail, err
        return str(err).split()[1]


def ids(env: str) -> list[str]:
    return [i.snapshot_id for i in engine(env).list_snapshots()]


def test_stage_retention_keeps_the_30_newest_and_removes_stale_incomplete_ones(stage_bucket: str) -> None:
    # given: 32 complete snapshots 0..31 days old, one incomplete 2 h old, one 10 min old
    complete = [snapshot_at("stage", "r", timedelta(days=d, hours=1)) for d in range(32)]
    stale = snapshot_at("stage", "broken", timedelta(hours=2), fail=True)
    fresh = snapshot_at("stage", "inflight", timedelta(minutes=10), fail=True)
    info = {i.snapshot_id: i for i in engine("stage").list_snapshots()}
    assert not info[stale].complete and not info[fresh].complete
    assert info[complete[0]].complete and info[complete[0]].env == "stage"
    # the absent parts of stage are recorded, not errors
    metadata = json.loads(
        session()
        .client("s3")
        .get_object(Bucket=stage_bucket, Key=f"snapshots/{complete[0]}/snapshot_metadata.json")["Body"]
        .read()
    )
    assert metadata["contents"]["canonical"]["absent"] is True
    # when: a dry run, then the real thing
    planned = engine("stage", clock=lambda: NOW).apply_retention(dry_run=True)
    assert len(ids("stage")) == 34
    deleted = engine("stage", clock=lambda: NOW).apply_retention()
    # then
    assert deleted == planned == sorted([complete[30], complete[31], stale])
    assert set(ids("stage")) == set(complete[:30]) | {fresh}


def test_cleanup_deletes_by_age_but_never_the_newest_complete_snapshot(
    env_of: Any, stage_bucket: str
) -> None:
    complete = [snapshot_at("stage", "c", timedelta(days=d, hours=1)) for d in range(10)]
    incomplete = snapshot_at("stage", "c_broken", timedelta(minutes=5), fail=True)
    # dry run: prints what would go, deletes nothing
    dry = run_script(env_of, "cleanup_snapshots.py", "--env", "stage", "--older-than", "7", "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "3 snapshot(s) would delete (dry run: nothing was changed)" in dry.stdout
    assert f"would delete {complete[9]} (older than 7 days)" in dry.stdout
    assert len(ids("stage")) == 11
    # real run
    real = run_script(env_of, "cleanup_snapshots.py", "--env", "stage", "--older-than", "7")
    assert real.code == 0, real.stderr
    assert set(ids("stage")) == set(complete[:7]) | {incomplete}
    # everything is older than 0 days: all go except the newest complete snapshot
    deleted = engine("stage").cleanup(older_than_days=0)
    assert set(deleted) == set(complete[1:7]) | {incomplete}
    assert ids("stage") == [complete[0]]


def test_dev_retention_is_count_based_on_the_environment_setting(env_of: Any, tmp_path: Any) -> None:
    # --local keeps this off the dev bucket other tests use; same engine, same policy (7 newest).
    made = [
        engine("dev", local=tmp_path, clock=functools.partial(lambda d: NOW - timedelta(days=d), d)).create(
            "d", components=["canonical"]
        )
        for d in range(9)
    ]
    deleted = engine("dev", local=tmp_path).apply_retention()
    assert deleted == sorted(made[7:])
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == sorted(made[:7])


def test_prod_keeps_everything_and_refuses_cleanup(prod_bucket: str) -> None:
    for days in (400, 200, 1):
        snapshot_at("prod", "p", timedelta(days=days))
    assert engine("prod").apply_retention() == []
    with pytest.raises(SnapshotError, match="cleanup never deletes prod snapshots"):
        engine("prod").cleanup(older_than_days=1)
    assert len(ids("prod")) == 3


def test_archive_moves_old_prod_snapshots_to_glacier_idempotently(
    env_of: Any, prod_bucket: str, prod_canonical: str
) -> None:
    old = [snapshot_at("prod", "a", timedelta(days=d), components=["canonical", "stacks"]) for d in (100, 95)]
    recent = snapshot_at("prod", "a", timedelta(days=10), components=["canonical", "stacks"])
    s3 = session().client("s3")

    def classes(snapshot_id: str) -> dict[str, str]:
        listing = s3.list_objects_v2(Bucket=prod_bucket, Prefix=f"snapshots/{snapshot_id}/")["Contents"]
        return {o["Key"].rsplit("/", 1)[-1]: o["StorageClass"] for o in listing}

    dry = run_script(env_of, "archive_snapshots.py", "--env", "prod", "--older-than", "90", "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "2 snapshot(s) would archive" in dry.stdout
    assert set(classes(old[0]).values()) == {"STANDARD"}
    # when
    first = run_script(env_of, "archive_snapshots.py", "--env", "prod", "--older-than", "90")
    # then: the bulk copies of the old ones are in GLACIER; metadata, README and stack documents
    # (what list, verify and a rollback's plan read) stay readable
    assert first.code == 0, first.stderr
    assert "2 snapshot(s) archived" in first.stdout
    for snapshot_id in old:
        stored = classes(snapshot_id)
        assert {stored.pop(name.rsplit("/", 1)[-1]) for name in CANONICAL_FILES} == {"GLACIER"}
        assert set(stored.values()) == {"STANDARD"}, stored
    assert set(classes(recent).values()) == {"STANDARD"}
    listed = {i.snapshot_id: i.storage_class for i in engine("prod").list_snapshots()}
    assert listed == {old[0]: "GLACIER", old[1]: "GLACIER", recent: "STANDARD"}
    # no STANDARD copy of an archived file left behind as a noncurrent version
    versions = s3.list_object_versions(Bucket=prod_bucket, Prefix=f"snapshots/{old[0]}/")["Versions"]
    archived = [v for v in versions if v["Key"].split("/", 2)[-1] in CANONICAL_FILES]
    assert archived and all(v["IsLatest"] and v["StorageClass"] == "GLACIER" for v in archived)
    # idempotent; the default age is the environment's (90 days)
    again = run_script(env_of, "archive_snapshots.py", "--env", "prod")
    assert again.code == 0 and "0 snapshot(s) archived" in again.stdout
    # below prod's archive age needs an approval, and the newest complete snapshot is never archived
    with pytest.raises(SnapshotError, match='needs --approve "<who>"'):
        engine("prod").archive(older_than_days=5)
    assert engine("prod").archive(older_than_days=0, approve="bob") == {}
    assert set(classes(recent).values()) == {"STANDARD"}
    # an archived snapshot is never restored from
    refused = run_script(
        env_of,
        "rollback_snapshot.py",
        "--env",
        "prod",
        "--snapshot",
        old[0],
        "--approve",
        "bob",
        "--components",
        "canonical",
    )
    assert refused.code == 1
    assert "file(s) are archived in GLACIER: restore the snapshot's objects first: " in refused.stderr


def audit_records(bucket: str, kind: str) -> list[dict[str, Any]]:
    s3 = session().client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"audit/{kind}/").get("Contents", [])
    return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()) for o in listed]


def test_archive_keeps_the_newest_and_below_the_archive_age_needs_an_approval_all_audited(
    env_of: Any, prod_bucket: str, prod_canonical: str
) -> None:
    # given three prod snapshots, 3, 2 and 1 days old (all younger than prod's 90 days)
    made = [snapshot_at("prod", "n", timedelta(days=d), components=["canonical"]) for d in (3, 2, 1)]
    newest = made[-1]
    s3 = session().client("s3")

    def archived() -> set[str]:
        listing = s3.list_objects_v2(Bucket=prod_bucket, Prefix="snapshots/")["Contents"]
        return {o["Key"].split("/")[1] for o in listing if o["StorageClass"] == "GLACIER"}

    # when: everything older than 0 days, without an approval: refused in one line, nothing moved
    refused = run_script(env_of, "archive_snapshots.py", "--env", "prod", "--older-than", "0")
    assert refused.code == 1, refused.stderr
    assert refused.stderr.count("\n") == 1 and 'needs --approve "<who>"' in refused.stderr
    assert archived() == set()
    assert [r["result"] for r in audit_records(prod_bucket, "archives")] == ["refused: no approval"]
    # when approved: every snapshot but the newest complete one moves
    done = run_script(
        env_of, "archive_snapshots.py", "--env", "prod", "--older-than", "0", "--approve", "Olga Ops"
    )
    assert done.code == 0, done.stderr
    assert "2 snapshot(s) archived" in done.stdout
    assert archived() == set(made[:2])
    records = {r["result"]: r for r in audit_records(prod_bucket, "archives")}
    assert set(records) == {"refused: no approval", "succeeded"}
    assert records["succeeded"]["approved_by"] == "Olga Ops" and records["succeeded"]["kept_newest"] == newest
    done_record = records["succeeded"]  # keyed as every operation's audit record
    assert done_record["kind"] == "archive" and {"operator", "started_at"} <= set(done_record)
    assert sorted(records["succeeded"]["archived"]) == sorted(made[:2])
    # then prod's safety net is still readable: an approved rollback can verify it
    assert engine("prod").verify(newest).snapshot_id == newest


def test_a_damaged_metadata_is_listed_as_damaged_and_never_stops_the_others(
    env_of: Any, stage_bucket: str
) -> None:
    # given two good snapshots and two whose metadata the engine never wrote: one nested deeper
    # than any parser's stack, one of the wrong shape (both dated long ago)
    good = [snapshot_at("stage", "g", timedelta(days=d, hours=1)) for d in (40, 2)]
    s3 = session().client("s3")
    crafted = {
        "deep_20260101_000000": b"[" * 200_000 + b"]" * 200_000,
        "shape_20260101_000000": json.dumps(
            {"snapshot_id": "shape_20260101_000000", "name": "shape", "env": "stage", "components": "all"}
        ).encode(),
    }
    for snapshot_id, body in crafted.items():
        s3.put_object(Bucket=stage_bucket, Key=f"snapshots/{snapshot_id}/snapshot_metadata.json", Body=body)
    # when listed: every snapshot, the damaged ones with why
    listed = run_script(env_of, "list_snapshots.py", "--env", "stage", "--json")
    assert listed.code == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {*good, *crafted}
    assert "nests deeper than" in rows["deep_20260101_000000"]["damaged"]
    assert "components must be list" in rows["shape_20260101_000000"]["damaged"]
    assert all(rows[g]["complete"] and rows[g]["damaged"] is None for g in good)
    table = run_script(env_of, "list_snapshots.py", "--env", "stage")
    assert table.code == 0 and "DAMAGED" in table.stdout, table.stderr
    # when a snapshot is created: retention runs, warns, and the id is still the last line
    created = run_script(
        env_of, "create_snapshot.py", "--env", "stage", "--name", "after", "--components", "canonical"
    )
    assert created.code == 0, created.stderr
    assert created.last_line.startswith("after_")
    assert "warning: snapshot deep_20260101_000000 is damaged" in created.stderr
    # when cleaned up by age: the old good one goes, the damaged ones stay (with a warning)
    cleaned = run_script(env_of, "cleanup_snapshots.py", "--env", "stage", "--older-than", "7")
    assert cleaned.code == 0, cleaned.stderr
    assert "cleanup leaves it alone" in cleaned.stderr
    assert set(ids("stage")) == {good[1], created.last_line, *crafted}
