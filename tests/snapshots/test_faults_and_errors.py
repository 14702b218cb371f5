"""Fault injection (an S3 error part-way through a snapshot or a rollback) and every error case:
one clear line, exit status != 0, nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.snapshots.conftest import BACKUPS_BUCKET, CONFIG_BUCKET, ENV, DevState, run_script, session
from vectora_core.snapshots import (
    RollbackError,
    SnapshotError,
    create_snapshot,
    list_snapshots,
    rollback_snapshot,
)

pytestmark = pytest.mark.e2e


def failing_on(
    operation: str, nth: int, *, bucket: str | None = None
) -> tuple[boto3.session.Session, list[int]]:
    """A session whose ``nth`` call of ``operation`` (into ``bucket``, if given) raises, once."""
    faulty = session()
    calls = [0]

    def hook(params: dict[str, Any], **_: Any) -> None:
        if bucket is not None and params.get("Bucket") != bucket:
            return
        calls[0] += 1
        if calls[0] == nth:
            raise ConnectionError(f"injected failure on {operation} #{nth}")

    faulty.events.register(f"before-parameter-build.s3.{operation}", hook)
    return faulty, calls


def backups_keys(state: DevState) -> list[str]:
    return sorted(k for k in state.keys("snapshots/", BACKUPS_BUCKET))


def fingerprint(state: DevState) -> tuple[Any, ...]:
    """What an error must not change: snapshots, client configs, the function."""
    configs = {k: state.get(k) for k in state.keys("clients/")}
    return backups_keys(state), configs, state.env_vars(), state.code_sha()


def test_s3_error_during_a_snapshot_leaves_it_incomplete_and_rollback_refuses_it(dev_state: DevState) -> None:
    # given: the 3rd copy into the backups bucket fails
    dev_state.put(dev_state.client_key, b"client_id: x\n")
    dev_state.put(f"clients/{dev_state.client_id}/a.yaml", b"a: 1\n")
    dev_state.put(f"clients/{dev_state.client_id}/b.yaml", b"b: 1\n")
    faulty, calls = failing_on("CopyObject", 3, bucket=BACKUPS_BUCKET)
    # when
    with pytest.raises(SnapshotError) as err:
        create_snapshot(ENV, "faulty", client=dev_state.client_id, session=faulty, workers=1)
    # then
    assert calls[0] >= 3
    message = str(err.value)
    assert "left incomplete" in message and "injected failure" in message and "\n" not in message
    snapshot_id = message.split()[1]
    info = next(i for i in list_snapshots(ENV) if i.snapshot_id == snapshot_id)
    assert info.complete is False
    metadata = json.loads(
        dev_state.get(f"snapshots/{snapshot_id}/snapshot_metadata.json", BACKUPS_BUCKET) or b"{}"
    )
    assert metadata["complete"] is False and "injected failure" in metadata["error"]
    before = fingerprint(dev_state)
    refused = run_script_env(dev_state, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV)
    assert refused[0] == 1
    assert refused[1].strip() == (
        f"error: snapshot {snapshot_id} is incomplete (complete is not true): "
        f"{metadata['error']}: it is never restored from"
    )
    assert fingerprint(dev_state) == before


def test_a_checksum_mismatch_is_refused_and_changes_nothing(dev_state: DevState) -> None:
    dev_state.put(dev_state.client_key, b"client_id: x\n")
    snapshot_id = create_snapshot(ENV, "tampered", client=dev_state.client_id, components=["client_config"])
    # the stored copy is altered behind the engine's back
    dev_state.put(f"snapshots/{snapshot_id}/{dev_state.client_key}", b"client_id: y\n", BACKUPS_BUCKET)
    dev_state.put(dev_state.client_key, b"client_id: current\n")
    before = fingerprint(dev_state)
    code, stderr = run_script_env(dev_state, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV)
    assert code == 1
    assert stderr.strip().startswith(
        f"error: snapshot {snapshot_id} is refused: {dev_state.client_key} fails its checksum (sha256 "
    )
    assert "nothing was changed" in stderr and stderr.strip().count("\n") == 0
    assert fingerprint(dev_state) == before


def test_a_failure_part_way_through_a_rollback_restores_the_previous_state(dev_state: DevState) -> None:
    # given: a snapshot, then changes to three client files and to an env variable
    keys = [dev_state.client_key, *(f"clients/{dev_state.client_id}/{n}.yaml" for n in ("a", "b"))]
    for key in keys:
        dev_state.put(key, b"original\n")
    snapshot_id = create_snapshot(ENV, "partway", client=dev_state.client_id)
    for key in keys:
        dev_state.put(key, b"changed\n")
    dev_state.set_env_var("LOG_LEVEL", "ERROR")
    changed = {k: dev_state.get(k) for k in keys}, dev_state.env_vars(), dev_state.code_sha()
    # the 2nd restore copy into the config bucket fails (the 1st has already changed a file)
    faulty, calls = failing_on("CopyObject", 2, bucket=CONFIG_BUCKET)
    # when
    with pytest.raises(RollbackError) as err:
        rollback_snapshot(ENV, snapshot_id, session=faulty, workers=1)
    # then: the previous (changed) state is back, and the error says so in one line
    assert calls[0] >= 2
    assert err.value.restored is True and err.value.pre_rollback_id
    assert "the previous state was restored from pre_rollback_" in str(err.value) and "\n" not in str(
        err.value
    )
    assert ({k: dev_state.get(k) for k in keys}, dev_state.env_vars(), dev_state.code_sha()) == changed
    audits = [
        json.loads(dev_state.get(k, BACKUPS_BUCKET) or b"{}")
        for k in dev_state.keys("audit/rollbacks/", BACKUPS_BUCKET)
        if k.endswith(f"_{snapshot_id}.json")
    ]
    assert [a["outcome"] for a in audits] == ["failed, previous state restored"]


def test_a_failed_verification_also_restores_the_previous_state(
    dev_state: DevState, monkeypatch: Any
) -> None:
    # A restore that "succeeds" but leaves a difference (simulated: deletes are silently skipped).
    from vectora_core.snapshots import restore

    dev_state.put(dev_state.client_key, b"original\n")
    snapshot_id = create_snapshot(ENV, "verify", client=dev_state.client_id, components=["client_config"])
    extra = f"clients/{dev_state.client_id}/added.yaml"
    dev_state.put(extra, b"added\n")
    dev_state.put(dev_state.client_key, b"changed\n")
    real_plan_s3 = restore._Planner.plan_s3
    first = [True]

    def plan_without_deletes(self: Any, component: str) -> list[Any]:
        changes = real_plan_s3(self, component)
        if first[0] and self.snapshot_id == snapshot_id:
            first[0] = False
            return [c for c in changes if not c.action.startswith("delete")]
        return changes

    monkeypatch.setattr(restore._Planner, "plan_s3", plan_without_deletes)
    with pytest.raises(RollbackError, match=r"verification failed: client_config .*added\.yaml: delete"):
        rollback_snapshot(ENV, snapshot_id, components="client_config")
    assert dev_state.get(dev_state.client_key) == b"changed\n"
    assert dev_state.get(extra) == b"added\n"


def run_script_env(state: DevState, name: str, *args: str) -> tuple[int, str]:
    result = run_script(state.aws, name, *args)
    return result.code, result.stderr


ErrorCase = tuple[str, list[str], str]
ERROR_CASES: list[ErrorCase] = [
    (
        "create_snapshot.py",
        ["--env", "qa", "--name", "x"],
        "unknown environment 'qa': allowed values are dev, stage, prod",
    ),
    ("rollback_snapshot.py", ["--env", "qa", "--snapshot", "x_20260101_000000"], "unknown environment 'qa'"),
    ("list_snapshots.py", ["--env", "Prod"], "unknown environment 'Prod'"),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "lai_v7_stable"],
        "malformed snapshot id 'lai_v7_stable': expected {name}_{YYYYMMDD_HHMMSS}, "
        "e.g. lai_v7_stable_20260130_143022",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "no_such_snapshot_20260101_000000"],
        "unknown snapshot 'no_such_snapshot_20260101_000000' in s3://vectora-inbox-backups-dev/snapshots/",
    ),
    (
        "rollback_snapshot.py",
        ["--env", "dev", "--snapshot", "x_20260101_000000", "--components", "client_config,lambdas"],
        "unknown component 'lambdas': allowed values are lambda_config, lambda_code, layers, client_config, "
        "canonical, curated, stacks",
    ),
    (
        "create_snapshot.py",
        ["--env", "dev", "--name", "x", "--components", "everything"],
        "unknown component 'everything'",
    ),
    ("create_snapshot.py", ["--env", "dev", "--name", "x", "--client", "nobody"], "unknown client 'nobody'"),
    (
        "create_snapshot.py",
        ["--env", "stage", "--name", "x"],
        "backups bucket vectora-inbox-backups-stage does not exist: deploy vectora-inbox-s0-core-stage first",
    ),
    ("list_snapshots.py", ["--env", "stage"], "backups bucket vectora-inbox-backups-stage does not exist"),
    ("cleanup_snapshots.py", ["--env", "prod", "--older-than", "7"], "cleanup never deletes prod snapshots"),
    ("cleanup_snapshots.py", ["--env", "dev", "--older-than", "seven"], "'seven' is not a number of days"),
    (
        "archive_snapshots.py",
        ["--env", "dev", "--older-than", "90"],
        "archive applies to environments that keep",
    ),
    ("rollback_snapshot.py", ["--env", "dev"], "the following arguments are required: --snapshot"),
]


@pytest.mark.parametrize(
    ("script", "args", "message"), ERROR_CASES, ids=[" ".join(c[1]) for c in ERROR_CASES]
)
def test_every_error_is_one_line_exit_non_zero_and_changes_nothing(
    dev_state: DevState, script: str, args: list[str], message: str
) -> None:
    before = fingerprint(dev_state)
    result = run_script(dev_state.aws, script, *args)
    assert result.code != 0
    assert result.stderr.count("\n") == 1, result.stderr  # exactly one line
    assert message in result.stderr
    assert fingerprint(dev_state) == before


def test_a_snapshot_missing_the_asked_component_is_refused(dev_state: DevState) -> None:
    dev_state.put(dev_state.client_key, b"x: 1\n")
    snapshot_id = create_snapshot(ENV, "only_cc", client=dev_state.client_id, components=["client_config"])
    result = run_script(
        dev_state.aws,
        "rollback_snapshot.py",
        "--env",
        ENV,
        "--snapshot",
        snapshot_id,
        "--components",
        "lambda_code",
    )
    assert result.code == 1
    assert (
        f"snapshot {snapshot_id} holds no 'lambda_code' component (it holds: client_config)" in result.stderr
    )


def test_a_snapshot_of_another_environment_is_refused(dev_state: DevState, tmp_path: Any) -> None:
    dev_state.put(dev_state.client_key, b"x: 1\n")
    taken = run_script(
        dev_state.aws,
        "create_snapshot.py",
        "--env",
        ENV,
        "--name",
        "other_env",
        "--components",
        "canonical",
        "--local",
        str(tmp_path),
    )
    metadata_path = tmp_path / "snapshots" / taken.last_line / "snapshot_metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["env"] = "stage"
    metadata_path.write_text(json.dumps(metadata))
    result = run_script(
        dev_state.aws,
        "rollback_snapshot.py",
        "--env",
        ENV,
        "--snapshot",
        taken.last_line,
        "--local",
        str(tmp_path),
    )
    assert result.code == 1
    assert "belongs to 'stage', not 'dev'" in result.stderr


@pytest.fixture
def prod_backups(dev_state: DevState) -> Iterator[None]:
    """A prod backups bucket on the emulator (nothing else of prod), removed afterwards."""
    s3 = dev_state.s3
    bucket = "vectora-inbox-backups-prod"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield
    for key in dev_state.keys("", bucket):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


def test_prod_rollback_needs_an_approver_and_every_attempt_is_audited(
    dev_state: DevState, prod_backups: Any
) -> None:
    refused = run_script(
        dev_state.aws, "rollback_snapshot.py", "--env", "prod", "--snapshot", "x_20260101_000000"
    )
    assert refused.code == 1
    assert refused.stderr.strip() == (
        'error: rollback in prod needs --approve "<who>" (recorded in the audit log); nothing was changed'
    )
    approved = run_script(
        dev_state.aws,
        "rollback_snapshot.py",
        "--env",
        "prod",
        "--snapshot",
        "x_20260101_000000",
        "--approve",
        "alice",
    )
    assert approved.code == 1 and "unknown snapshot" in approved.stderr
    entries = [
        json.loads(dev_state.get(k, "vectora-inbox-backups-prod") or b"{}")
        for k in dev_state.keys("audit/rollbacks/", "vectora-inbox-backups-prod")
    ]
    outcomes = {(e["approved_by"], e["outcome"]) for e in entries}
    assert outcomes == {(None, "refused: no approval"), ("alice", "refused")}
