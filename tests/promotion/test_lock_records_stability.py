"""The per-environment lock, the deployment records and the stability evidence, on a local AWS
with only the buckets they need (no deployment): the S3 conditional write, CloudWatch's alarm
history and the records are real; only the clock is moved where a test says so."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.local_aws.helpers import deploy_with_change_set
from tests.promotion.support import REPO_ROOT, session_for
from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.operation.lock import LOCK_KEY, EnvironmentLock, LockHeld, first_deployment_key
from vectora_ops.operation.records import (
    DeploymentRecord,
    iso,
    latest_deployment,
    latest_where,
    write_deployment,
)
from vectora_ops.promotion.stability import stability

# The module starts its own local AWS (the fixture below): out of make test-fast.
pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    state = Path(tempfile.mkdtemp(prefix="promotion-bare-"))
    server = LocalAws(port=0, state_dir=state).start()
    try:
        s3 = server.client("s3")
        for env in ("dev", "stage"):
            s3.create_bucket(
                Bucket=resource_name(Bucket.BACKUPS, env),
                CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
            )
        yield server
    finally:
        server.stop()
        remove_caches(state)


def clients(aws: LocalAws, env: str) -> Environment:
    return Environment(env, session_for(aws))


def lock_keys(c: Environment) -> list[str]:
    return c.keys(c.backups_bucket, "locks/")


def test_two_operations_starting_together_exactly_one_wins(aws: LocalAws) -> None:
    stage = clients(aws, "stage")
    barrier, results = threading.Barrier(2), {}

    def attempt(name: str) -> None:
        lock = EnvironmentLock(stage, name)
        barrier.wait()
        try:
            lock.acquire()
            results[name] = lock
        except LockHeld as err:
            results[name] = err

    threads = [threading.Thread(target=attempt, args=(f"promotion {i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [v for v in results.values() if isinstance(v, EnvironmentLock)]
    refused = [v for v in results.values() if isinstance(v, LockHeld)]
    assert len(winners) == 1 and len(refused) == 1
    message = str(refused[0])
    assert (
        f"stage is locked by {winners[0]._info().holder}" in message and repr(winners[0].command) in message
    )
    assert "break_lock.py --env stage" in message and "\n" not in message
    winners[0].release()
    assert lock_keys(stage) == []
    again = EnvironmentLock(stage, "later")
    again.acquire()
    again.release()


def test_an_expired_lock_is_not_taken_over_and_breaking_it_is_audited(aws: LocalAws) -> None:
    stage = clients(aws, "stage")
    stale = EnvironmentLock(
        stage, "a crashed promotion", clock=lambda: datetime.now(UTC) - timedelta(hours=5)
    )
    stale.acquire()
    with pytest.raises(LockHeld, match="expired: if nothing runs any more, break it"):
        EnvironmentLock(stage, "deploy stage").acquire()
    # breaking takes a reason, and leaves an audit record
    script = str(REPO_ROOT / "scripts/deploy/break_lock.py")
    result = subprocess.run(
        [sys.executable, script, "--env", "stage", "--reason", "crashed at 3 am"],
        env=aws.client_env() | {"PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "broke the lock of stage held by" in result.stdout and "a crashed promotion" in result.stdout
    assert lock_keys(stage) == []
    (audit_key,) = stage.keys(stage.backups_bucket, "audit/locks/")
    audit = stage.read_json(stage.backups_bucket, audit_key)
    assert audit["reason"] == "crashed at 3 am" and audit["lock"]["command"] == "a crashed promotion"
    # the crashed operation, should it wake up, does not delete a lock that is no longer its own
    newer = EnvironmentLock(stage, "the next operation")
    newer.acquire()
    stale.release()
    assert lock_keys(stage) == [LOCK_KEY]
    newer.release()


def test_a_first_deployment_locks_in_the_neighbour_then_takes_its_own(aws: LocalAws) -> None:
    stage, prod = clients(aws, "stage"), clients(aws, "prod")
    lock = EnvironmentLock(prod, "first promotion into prod", neighbour=stage)
    where = lock.acquire()
    assert where is not None and where.uri == f"s3://{stage.backups_bucket}/{first_deployment_key('prod')}"
    with pytest.raises(LockHeld):  # every first operation on prod contends for the same object
        EnvironmentLock(prod, "another first deployment", neighbour=stage).acquire()
    prod.s3.create_bucket(
        Bucket=prod.backups_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    lock.take_own()
    assert lock_keys(prod) == [LOCK_KEY] and lock_keys(stage) == [first_deployment_key("prod")]
    lock.release()
    assert lock_keys(prod) == [] and lock_keys(stage) == []


def record(env: str, finished: datetime, via: str = "deploy") -> DeploymentRecord:
    return DeploymentRecord(
        env=env, via=via, commit="c" * 40, tree_clean=True, operator="tests", started_at=iso(finished),  # type: ignore[arg-type]
        finished_at=iso(finished), assembly=None, functions={}, layers={},
    )  # fmt: skip


def test_deployment_records_are_never_overwritten_and_the_newest_wins(aws: LocalAws) -> None:
    dev = clients(aws, "dev")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = write_deployment(dev, record("dev", moment))
    second = write_deployment(dev, record("dev", moment, via="promotion"))  # the same second
    assert first != second
    key, latest = latest_deployment(dev)  # type: ignore[misc]
    assert second.endswith(key) and latest.via == "promotion"
    assert latest_where(dev, lambda r: r.via == "deploy").via == "deploy"  # type: ignore[union-attr]


def test_stability_reads_the_records_the_rollback_audits_and_the_alarm_history(aws: LocalAws) -> None:
    stage, now = clients(aws, "stage"), datetime.now(UTC)
    write_deployment(stage, record("stage", now - timedelta(days=20), via="promotion"))
    assert stability(stage, 14, now).problems() == []  # no rollback, no alarm: stable
    # a successful rollback since the last deployment counts; a dry run or a refused one does not;
    # nor does the format: a record written before the rename (``time``, ``outcome``) counts too
    new, old = ("started_at", "result"), ("time", "outcome")
    audits = [(25, "succeeded", False, new), (9, "dry-run", True, new), (8, "refused", False, new)]
    audits += [(5, "succeeded", False, new), (3, "succeeded", False, old), (2, "refused", False, old)]
    for days, result, dry, (at, said) in audits:
        when = now - timedelta(days=days)
        body = {at: iso(when), said: result, "dry_run": dry, "snapshot": f"snap_{result}_{days}"}
        stage.s3.put_object(
            Bucket=stage.backups_bucket, Key=f"audit/rollbacks/{iso(when)}.json", Body=json.dumps(body)
        )
    assert stability(stage, 14, now).rollbacks == [
        f"snap_succeeded_{days} at {iso(now - timedelta(days=days))}" for days in (5, 3)
    ]
    # an alarm of stage's own stacks that went to ALARM since then counts; dev's does not
    for env in ("stage", "dev"):
        alarm = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"vectora-inbox-ingest-v2-errors-{env}", "Namespace": "AWS/Lambda",
                "MetricName": "Errors", "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
                "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            },
        }  # fmt: skip
        stack = deploy_with_change_set(
            aws, resource_name("s1-runtime", env), {"Resources": {"Errors": alarm}}
        )
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        stage.cloudwatch.set_alarm_state(
            AlarmName=f"vectora-inbox-ingest-v2-errors-{env}", StateValue="ALARM", StateReason="test"
        )
    found = stability(stage, 14, datetime.now(UTC))
    assert found.alarms_watched == 1 and len(found.alarms) == 1
    assert found.alarms[0].startswith("vectora-inbox-ingest-v2-errors-stage at ")
    assert "alarm(s) went to ALARM since then: vectora-inbox-ingest-v2-errors-stage" in found.problems()[1]
