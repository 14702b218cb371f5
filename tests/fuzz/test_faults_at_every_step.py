"""A lost connection or a Ctrl-C at every step of a rollback: the outcome always reaches the user
and the audit record, and is true.

``rollback_snapshot.py`` restores the S3 components of dev (client configs, canonical files,
curated items) from a snapshot, holding the environment's lock; one AWS call of the run - the
nth, for every n the run makes - fails (``EndpointConnectionError``, not retried: a connection
that stays lost) or is interrupted (``KeyboardInterrupt``, as Ctrl-C). Whatever n:

- nothing escapes but the exit status: 0 (rolled back), 1 (refused or failed: one line) or 130
  (interrupted before anything changed);
- the environment is either as before or as the snapshot, and the output says which: exit 0 is
  the snapshot's state; "nothing was changed", "previous state ... restored" and exit 130 are the
  state before;
- one audit record says the same (unless the failed call was the one writing it: the output then
  says ``NOT written``);
- the lock is released, or the output says it could not be;
- a pre-rollback snapshot cut short says why in its metadata (``complete: false`` and an error).

A Ctrl-C after the rollback is verified (while its record is written, its lock released, its
outcome printed) changes nothing: exit 0 and a warning. The issue's cases are pinned on both
backends (``env_aws_backend``); every step of a run is covered in moto in this process.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.faults import FAULTS, Call, CallFaults, load_script, on_every_call, run_main
from tests.fuzz.worlds import MotoWorld
from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.interrupts import LATE_INTERRUPT
from vectora_ops.operation.lock import LOCK_KEY
from vectora_ops.snapshots import SnapshotEngine

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
ENV: Final = "dev"
CONFIG, DATA, BACKUPS = (resource_name(b, ENV) for b in (Bucket.CONFIG, Bucket.DATA, Bucket.BACKUPS))
PARTS: Final = ("client_config", "canonical", "curated")
CLIENT_KEY: Final = "clients/lai_weekly.yaml"
CURATED_KEY: Final = "curated/lai_weekly/curated_items.json"
rollback = load_script("maintenance/rollback_snapshot.py")


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def live(s3: Any) -> dict[str, dict[str, bytes]]:
    return {"config": objects(s3, CONFIG), "data": objects(s3, DATA)}


def prepare(s3: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A snapshot of dev's S3 components, then dev changed in each: (id, snapshot state, now)."""
    s3.put_object(Bucket=CONFIG, Key=CLIENT_KEY, Body=b"client_id: lai_weekly\nversion: 1\n")
    s3.put_object(Bucket=DATA, Key=CURATED_KEY, Body=b'{"items": [1]}')
    moment = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
    snapshot_id = SnapshotEngine(ENV, aws=Environment(ENV, workers=2), clock=lambda: moment).create(
        "base", None, PARTS
    )
    wanted = live(s3)
    s3.put_object(Bucket=CONFIG, Key=CLIENT_KEY, Body=b"client_id: lai_weekly\nversion: 2\n")
    s3.put_object(Bucket=CONFIG, Key="canonical/added.yaml", Body=b"added: 1\n")
    s3.put_object(Bucket=DATA, Key=CURATED_KEY, Body=b'{"items": [2]}')
    return snapshot_id, wanted, live(s3)


def audits(s3: Any) -> list[dict[str, Any]]:
    return [json.loads(body) for body in objects(s3, BACKUPS, "audit/rollbacks/").values()]


# The calls that open the audit store: HeadBucket of the backups bucket, and the STS call that
# resolves the account its S3 client expects as bucket owner (vectora_core.bucket_owner), made on
# the first S3 request.
OPENING_CALLS = frozenset({"HeadBucket", "GetCallerIdentity"})


def check_outcome(
    s3: Any, snapshot_id: str, wanted: Any, before: Any, result: tuple[int, str, str], fired: Call | None
) -> None:
    """The properties of the module docstring, for one run."""
    code, out, err = result
    said = out + err
    assert "Traceback" not in said, said
    assert code in (0, 1, 130), result
    state = live(s3)
    if code == 0:
        assert state == wanted and f"rolled back {ENV} to {snapshot_id}" in out, result
        outcome = "succeeded"
    else:
        error = err.strip().splitlines()[-1]
        assert error.startswith("error: "), result
        if code == 130:
            assert state == before, result
            outcome = "interrupted before any change"
        elif "restored from pre_rollback_" in error:
            assert "previous state of client_config, canonical, curated was restored" in error, error
            assert state == before, result
            outcome = "failed, previous state restored"
        else:  # refused or failed before any change: one fault cannot both fail a restore and its undo
            assert state == before, result
            outcome = ""
    records = audits(s3)
    if fired is not None and fired.operation == "PutObject" and (fired.key or "").startswith("audit/"):
        assert "NOT written" in said, result  # the record was the failed call: the output says so
    elif fired is not None and fired.operation in OPENING_CALLS and not records:
        assert state == before, result  # opening the audit store (the backups bucket) failed
    else:
        assert len(records) == 1, (records, result)
        assert records[0]["result"].startswith(outcome), (records[0], result)
    lock_left = objects(s3, BACKUPS, LOCK_KEY)
    assert not lock_left or "could not be released" in said, result
    for key, body in objects(s3, BACKUPS, "snapshots/").items():
        if key.endswith("/snapshot_metadata.json"):
            metadata = json.loads(body)
            assert metadata["complete"] or metadata.get("error"), (key, metadata, result)


def argv(snapshot_id: str) -> list[str]:
    return ["--env", ENV, "--snapshot", snapshot_id, "--components", ",".join(PARTS)]


# --- the cases, on both backends ---------------------------------------------------------


@pytest.fixture
def dev(env_aws_backend: Any) -> Iterator[tuple[Any, CallFaults]]:
    """dev's buckets, and the faults that make any AWS call of the run fail."""
    s3 = env_aws_backend.client("s3")
    for bucket in (CONFIG, DATA, BACKUPS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket=CONFIG, Key="canonical/scopes/tech.yaml", Body=b"scope: tech\n")
    yield s3, CallFaults()
    for bucket in (CONFIG, DATA, BACKUPS):
        for key in objects(s3, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def first(operation: str, key_start: str) -> Callable[[Call], bool]:
    return lambda call: call.operation == operation and (call.key or "").startswith(key_start)


def test_a_lock_that_cannot_be_released_does_not_hide_a_finished_rollback(
    dev: tuple[Any, CallFaults],
) -> None:
    # given: the connection is lost when the lock is to be released, after a verified rollback
    s3, faults = dev
    snapshot_id, wanted, before = prepare(s3)
    with faults.armed(1, FAULTS["lost-connection"], where=first("GetObject", LOCK_KEY)):
        result = run_main(rollback.main, argv(snapshot_id))
    # then: the rollback's outcome is reported (exit 0), with the lock that stayed
    code, out, err = result
    assert faults.fired is not None and code == 0, result
    assert f"rolled back {ENV} to {snapshot_id}" in out and live(s3) == wanted
    assert "(undo: --snapshot pre_rollback_base_20260130_143022_" in out, out
    assert "WARNING: the lock s3://vectora-inbox-backups-dev/locks/environment.json" in err, err
    assert "could not be released" in err and "break_lock.py --env dev" in err, err
    (record,) = audits(s3)
    assert record["result"] == "succeeded" and "could not be released" in record["lock"], record


def test_a_lock_that_cannot_be_released_does_not_hide_a_restored_failure(dev: tuple[Any, CallFaults]) -> None:
    # given: the restore fails (a lost connection on a write into dev), then so does the release
    s3, _ = dev
    snapshot_id, _, before = prepare(s3)
    fired: list[str] = []

    def twice(operation: str, params: dict[str, Any]) -> None:
        key = str(params.get("Key") or "")
        if operation == "CopyObject" and key.startswith("clients/") and not fired:
            fired.append("restore")
        elif operation == "GetObject" and key == LOCK_KEY and fired == ["restore"]:
            fired.append("release")
        else:
            return
        raise FAULTS["lost-connection"]()

    with on_every_call(twice):
        result = run_main(rollback.main, argv(snapshot_id))
    # then: one line that says the previous state was restored, how, and that the lock stayed
    code, _, err = result
    line = err.strip().splitlines()[-1]
    assert fired == ["restore", "release"] and code == 1, result
    assert "the previous state of client_config, canonical, curated was restored" in line, result
    assert "could not be released" in line and live(s3) == before, result
    (record,) = audits(s3)
    assert record["result"] == "failed, previous state restored" and "could not be released" in record["lock"]


@pytest.mark.parametrize(
    "step",
    [first("HeadObject", "snapshots/base_"), first("CopyObject", "snapshots/pre_rollback_")],
    ids=["validation", "pre-rollback-snapshot"],
)
def test_an_interrupt_before_any_change_is_audited(dev: tuple[Any, CallFaults], step: Any) -> None:
    s3, faults = dev
    snapshot_id, _, before = prepare(s3)
    with faults.armed(1, FAULTS["ctrl-c"], where=step):
        result = run_main(rollback.main, argv(snapshot_id))
    assert faults.fired is not None and result[0] == 130, result
    assert live(s3) == before
    (record,) = audits(s3)
    assert record["result"] == "interrupted before any change" and record["error"] == "interrupted (Ctrl-C)"
    for key, body in objects(s3, BACKUPS, "snapshots/pre_rollback_").items():
        if key.endswith("/snapshot_metadata.json"):
            metadata = json.loads(body)
            assert metadata["complete"] is False and metadata["error"] == "interrupted (Ctrl-C)", metadata
    assert not objects(s3, BACKUPS, LOCK_KEY)


def test_an_interrupt_after_the_rollback_finished_changes_nothing(dev: tuple[Any, CallFaults]) -> None:
    # given: Ctrl-C (a real SIGINT) while the rollback's "succeeded" record is written
    s3, _ = dev
    snapshot_id, wanted, _ = prepare(s3)

    def late(operation: str, params: dict[str, Any]) -> None:
        if operation == "PutObject" and str(params.get("Key", "")).startswith("audit/rollbacks/"):
            body = params.get("Body", b"")
            if b'"succeeded"' in (body.getvalue() if hasattr(body, "getvalue") else body):
                os.kill(os.getpid(), signal.SIGINT)

    try:
        with on_every_call(late):
            result = run_main(rollback.main, argv(snapshot_id))
    except KeyboardInterrupt:  # pragma: no cover  # the bug: the interrupt escaped
        pytest.fail("the interrupt after the rollback escaped")
    code, out, err = result
    assert code == 0 and f"rolled back {ENV} to {snapshot_id}" in out, result
    assert f"WARNING: {LATE_INTERRUPT}" in err and live(s3) == wanted
    (record,) = audits(s3)
    assert record["result"] == "succeeded"
    assert not objects(s3, BACKUPS, LOCK_KEY)


# --- every step (moto in this process) -----------------------------------------------------------


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_at_every_step_of_a_rollback(fault: str) -> None:
    with MotoWorld() as world:
        faults = CallFaults()
        s3 = Environment(ENV).s3
        world.seed()
        snapshot_id, _, _ = prepare(s3)
        with faults.armed():
            counted = run_main(rollback.main, argv(snapshot_id))
        assert counted[0] == 0, counted
        steps = len(faults.calls)

        @settings(
            max_examples=max(1, int(30 * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(nth=st.integers(1, steps))
        def property_(nth: int) -> None:
            world.seed()
            snapshot_id, wanted, before = prepare(s3)
            with faults.armed(nth, FAULTS[fault]):
                result = run_main(rollback.main, argv(snapshot_id))
            check_outcome(s3, snapshot_id, wanted, before, result, faults.fired)

        property_()
