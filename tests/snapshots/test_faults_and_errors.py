"""Fault injection (an S3 error part-way through a snapshot or a rollback) and every error case:
one clear line, exit status != 0, nothing changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.snapshots.conftest import BACKUPS_BUCKET, CONFIG_BUCKET, ENV, DevState, engine, run_script, session
from tests.support.cli_cases import REAL_ENTRY_CASES, USAGE
from vectora_ops.environment import Environment
from vectora_ops.operation.lock import LOCK_KEY, EnvironmentLock
from vectora_ops.operation.rollback import Rollback
from vectora_ops.snapshots import RollbackError, SnapshotError
from vectora_ops.snapshots.restore.s3_objects import S3ObjectsPlanner

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


def audit_keys(state: DevState) -> list[str]:
    return sorted(state.keys("audit/", BACKUPS_BUCKET))


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
        engine(session=faulty, workers=1).create("faulty", client=dev_state.client_id)
    # then
    assert calls[0] >= 3
    message = str(err.value)
    assert "left incomplete" in message and "injected failure" in message and "\n" not in message
    snapshot_id = message.split()[1]
    info = next(i for i in engine().list_snapshots() if i.snapshot_id == snapshot_id)
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


def tamper(state: DevState, key: str, data: bytes, *, with_checksum: bool) -> None:
    """Rewrite a stored snapshot file behind the engine's back: a plain PutObject (S3 then keeps
    no SHA-256 of it: verification reads it), or one carrying the SHA-256 of the new bytes (S3
    then answers the HeadObject with that checksum: verification needs no read)."""
    extra = (
        {"ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode()} if with_checksum else {}
    )
    state.s3.put_object(Bucket=BACKUPS_BUCKET, Key=key, Body=data, **extra)


@pytest.mark.parametrize("with_checksum", [False, True], ids=["plain-put", "put-with-new-sha256"])
def test_a_tampered_file_of_another_component_refuses_the_rollback(
    dev_state: DevState, with_checksum: bool
) -> None:
    # given: a snapshot of the client's config and of canonical; then one canonical file of the
    # snapshot is rewritten and the client config changes
    canonical_key = f"canonical/scopes/{dev_state.client_id}.yaml"
    dev_state.put(dev_state.client_key, b"client_id: x\n")
    dev_state.put(canonical_key, b"scope: original\n")
    snapshot_id = engine().create(
        "tampered", client=dev_state.client_id, components=["client_config", "canonical"]
    )
    tamper(
        dev_state,
        f"snapshots/{snapshot_id}/{canonical_key}",
        b"scope: TAMPERED\n",
        with_checksum=with_checksum,
    )
    dev_state.put(dev_state.client_key, b"client_id: current\n")
    before = fingerprint(dev_state)
    # when: only client_config is rolled back (its own files are intact)
    result = run_script(
        dev_state.aws, "rollback_snapshot.py", "--snapshot", snapshot_id, "--env", ENV,
        "--components", "client_config",
    )  # fmt: skip
    # then: refused, naming the tampered file, one line, exit 1, nothing changed (no pre_rollback_ either)
    assert result.code == 1
    assert result.stderr.strip() == (
        f"error: snapshot {snapshot_id} is refused: 1 file(s) fail their checksum: {canonical_key}; "
        "nothing was changed"
    )
    assert fingerprint(dev_state) == before
    assert dev_state.get(dev_state.client_key) == b"client_id: current\n"
    # and the refusal is audited (a valid request, refused)
    (audit_key,) = [
        k for k in dev_state.keys("audit/rollbacks/", BACKUPS_BUCKET) if k.endswith(f"_{snapshot_id}.json")
    ]
    entry = json.loads(dev_state.get(audit_key, BACKUPS_BUCKET) or b"{}")
    assert entry["result"] == "refused" and canonical_key in entry["error"]


def test_a_rollback_while_another_operation_holds_the_lock_is_refused_and_audited(
    dev_state: DevState,
) -> None:
    # given: a snapshot of the client's config, the config changed since, and a promotion holding
    # dev's lock
    dev_state.put(dev_state.client_key, b"client_id: saved\n")
    snapshot_id = engine().create("locked", client=dev_state.client_id, components=["client_config"])
    dev_state.put(dev_state.client_key, b"client_id: changed\n")
    before = fingerprint(dev_state)
    rollback = (
        "rollback_snapshot.py",
        "--snapshot",
        snapshot_id,
        "--env",
        ENV,
        "--components",
        "client_config",
    )
    promotion = EnvironmentLock(Environment(ENV), "promote (a test holding the lock)")
    promotion.acquire()
    try:
        # when
        refused = run_script(dev_state.aws, *rollback)
        # a dry run changes nothing: it needs no lock
        dry_run = run_script(dev_state.aws, *rollback, "--dry-run")
    finally:
        promotion.release()
    # then: refused in one line naming the holder, nothing changed, the refusal audited
    assert refused.code == 1, refused
    assert refused.stderr.strip().startswith(f"error: {ENV} is locked by ")
    assert "promote (a test holding the lock)" in refused.stderr and refused.stderr.count("\n") == 1
    assert fingerprint(dev_state) == before
    audits = [
        json.loads(dev_state.get(k, BACKUPS_BUCKET) or b"{}")
        for k in dev_state.keys("audit/rollbacks/", BACKUPS_BUCKET)
        if k.endswith(f"_{snapshot_id}.json")
    ]
    assert [a["result"] for a in audits].count("refused: environment locked") == 1
    assert dry_run.code == 0 and "1 would change" in dry_run.stdout, dry_run
    # and once the lock is released, the same rollback goes through (and leaves no lock behind)
    assert run_script(dev_state.aws, *rollback).code == 0
    assert dev_state.get(dev_state.client_key) == b"client_id: saved\n"
    assert dev_state.get(LOCK_KEY, BACKUPS_BUCKET) is None


def test_every_bad_file_is_named_in_one_line(dev_state: DevState) -> None:
    dev_state.put(dev_state.client_key, b"client_id: x\n")
    dev_state.put(f"clients/{dev_state.client_id}/a.yaml", b"a: 1\n")
    snapshot_id = engine().create("tampered_twice", client=dev_state.client_id, components=["client_config"])
    prefix = f"snapshots/{snapshot_id}/"
    tamper(dev_state, f"{prefix}clients/{dev_state.client_id}/a.yaml", b"a: 2\n", with_checksum=True)
    tamper(dev_state, f"{prefix}README.md", b"# not the README\n", with_checksum=False)
    dev_state.s3.delete_object(Bucket=BACKUPS_BUCKET, Key=f"{prefix}{dev_state.client_key}")
    with pytest.raises(SnapshotError) as err:
        Rollback(engine(), snapshot_id).run()
    assert str(err.value) == (
        f"snapshot {snapshot_id} is refused: 2 file(s) fail their checksum: README.md, "
        f"clients/{dev_state.client_id}/a.yaml; 1 file(s) are missing: {dev_state.client_key}; "
        "nothing was changed"
    )


def test_a_failure_part_way_through_a_rollback_restores_the_previous_state(dev_state: DevState) -> None:
    # given: a snapshot, then changes to three client files and to an env variable
    keys = [dev_state.client_key, *(f"clients/{dev_state.client_id}/{n}.yaml" for n in ("a", "b"))]
    for key in keys:
        dev_state.put(key, b"original\n")
    snapshot_id = engine().create("partway", client=dev_state.client_id)
    for key in keys:
        dev_state.put(key, b"changed\n")
    dev_state.set_env_var("LOG_LEVEL", "ERROR")
    changed = {k: dev_state.get(k) for k in keys}, dev_state.env_vars(), dev_state.code_sha()
    # the 2nd restore copy into the config bucket fails (the 1st has already changed a file)
    faulty, calls = failing_on("CopyObject", 2, bucket=CONFIG_BUCKET)
    # when
    with pytest.raises(RollbackError) as err:
        Rollback(engine(session=faulty, workers=1), snapshot_id).run()
    # then: the previous (changed) state is back, and the error says so in one line
    assert calls[0] >= 2
    assert err.value.restored is True and err.value.pre_rollback_id
    message = str(err.value)
    assert "the previous state of " in message and " was restored from pre_rollback_" in message
    assert "\n" not in message
    assert ({k: dev_state.get(k) for k in keys}, dev_state.env_vars(), dev_state.code_sha()) == changed
    audits = [
        json.loads(dev_state.get(k, BACKUPS_BUCKET) or b"{}")
        for k in dev_state.keys("audit/rollbacks/", BACKUPS_BUCKET)
        if k.endswith(f"_{snapshot_id}.json")
    ]
    assert [a["result"] for a in audits] == ["failed, previous state restored"]


def test_a_failed_verification_also_restores_the_previous_state(
    dev_state: DevState, monkeypatch: Any
) -> None:
    # A restore that "succeeds" but leaves a difference (simulated: deletes are silently skipped).
    dev_state.put(dev_state.client_key, b"original\n")
    snapshot_id = engine().create("verify", client=dev_state.client_id, components=["client_config"])
    extra = f"clients/{dev_state.client_id}/added.yaml"
    dev_state.put(extra, b"added\n")
    dev_state.put(dev_state.client_key, b"changed\n")
    real_plan = S3ObjectsPlanner.plan_component
    first = [True]

    def plan_without_deletes(self: S3ObjectsPlanner, component: str) -> list[Any]:
        changes = real_plan(self, component)
        if first[0] and self.source.snapshot_id == snapshot_id:
            first[0] = False
            return [c for c in changes if not c.action.startswith("delete")]
        return changes

    monkeypatch.setattr(S3ObjectsPlanner, "plan_component", plan_without_deletes)
    with pytest.raises(RollbackError, match=r"verification failed: client_config .*added\.yaml: delete"):
        Rollback(engine(), snapshot_id, components="client_config").run()
    assert dev_state.get(dev_state.client_key) == b"changed\n"
    assert dev_state.get(extra) == b"added\n"


def run_script_env(state: DevState, name: str, *args: str) -> tuple[int, str]:
    result = run_script(state.aws, name, *args)
    return result.code, result.stderr


@pytest.mark.parametrize(
    ("script", "args", "code", "message"),
    REAL_ENTRY_CASES,
    ids=[f"{c[0]} {' '.join(c[1])}" for c in REAL_ENTRY_CASES],
)
def test_each_refusal_and_bad_command_line_is_one_line_and_changes_nothing(
    dev_state: DevState, script: str, args: list[str], code: int, message: str
) -> None:
    before, audits_before = fingerprint(dev_state), audit_keys(dev_state)
    result = run_script(dev_state.aws, script, *args)
    assert result.code == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # exactly one line
    assert message in result.stderr
    assert fingerprint(dev_state) == before
    if code == USAGE:  # a wrong command line attempts nothing, so nothing is audited
        assert audit_keys(dev_state) == audits_before


def test_a_snapshot_id_that_climbs_out_of_local_dir_writes_nothing_anywhere(
    dev_state: DevState, tmp_path: Path
) -> None:
    # given --local DIR three levels below tmp_path
    local = tmp_path / "x" / "a" / "b"
    local.mkdir(parents=True)
    audits_before = audit_keys(dev_state)
    for snapshot in ("../../../../../escaped", "../escaped_20260101_000000", "pre_deploy_*/../../x"):
        # when
        result = run_script(
            dev_state.aws, "rollback_snapshot.py", "--env", ENV, "--local", str(local), "--snapshot", snapshot
        )
        # then: a bad command line, refused before anything is attempted
        assert result.code == USAGE, result.stderr
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert audit_keys(dev_state) == audits_before  # nor in the bucket


def test_the_audit_key_of_a_pattern_names_the_snapshot_it_resolved_to(
    dev_state: DevState, tmp_path: Path
) -> None:
    dev_state.put(dev_state.client_key, b"client_id: x\n")
    snapshot_id = engine(local=tmp_path).create(
        f"auditglob_{dev_state.client_id}", client=dev_state.client_id, components=["client_config"]
    )
    result = run_script(
        dev_state.aws, "rollback_snapshot.py", "--env", ENV, "--local", str(tmp_path),
        "--snapshot", f"auditglob_{dev_state.client_id}_*", "--dry-run",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    written = [p for p in tmp_path.rglob("*.json") if "audit" in p.parts]
    (record,) = written
    assert record.parent == tmp_path / "audit" / "rollbacks"
    assert record.name.endswith(f"_{snapshot_id}.json") and "*" not in record.name
    entry = json.loads(record.read_text())
    assert (entry["snapshot"], entry["pattern"], entry["result"]) == (
        snapshot_id,
        f"auditglob_{dev_state.client_id}_*",
        "dry-run",
    )


def test_a_snapshot_missing_the_asked_component_is_refused(dev_state: DevState) -> None:
    dev_state.put(dev_state.client_key, b"x: 1\n")
    snapshot_id = engine().create("only_cc", client=dev_state.client_id, components=["client_config"])
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
    outcomes = {(e["approved_by"], e["result"]) for e in entries}
    assert outcomes == {(None, "refused: no approval"), ("alice", "refused")}
