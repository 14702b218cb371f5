"""Two records that must say what happened (moto in this process):

- ``break_lock.py`` writes its audit record BEFORE it deletes the lock: when the record cannot be
  written, the lock stays and the command fails in one line (a break is never unrecorded);
- a promotion whose target's backups bucket exists but cannot be written records its attempt in
  the source's, and the record says why (not "no backups bucket yet", which would be false).
"""

from __future__ import annotations

import json
from typing import Any, Final

import boto3
import pytest

from tests.fuzz.faults import FAULTS, Call, CallFaults, run_main
from tests.fuzz.harness import REPO
from tests.fuzz.worlds import MotoWorld
from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError
from vectora_ops.operation.lock import LOCK_KEY, EnvironmentLock
from vectora_ops.promotion.cli import break_lock_main
from vectora_ops.promotion.promote import Promotion, Request

BACKUPS: Final = {env: resource_name(Bucket.BACKUPS, env) for env in ("dev", "stage")}


def keys(s3: Any, env: str, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BACKUPS[env], Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def audit_write(call: Call) -> bool:
    return call.operation == "PutObject" and (call.key or "").startswith("audit/")


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_break_whose_record_cannot_be_written_leaves_the_lock(fault: str) -> None:
    with MotoWorld():
        faults = CallFaults()
        s3 = boto3.session.Session().client("s3")
        EnvironmentLock(Environment("dev"), "a crashed deploy").acquire()
        with faults.armed(1, FAULTS[fault], where=audit_write):
            if fault == "ctrl-c":  # the record is written with interrupts deferred: it lands
                code, out, err = run_main(break_lock_main, ["--env", "dev", "--reason", "stale"])
                assert code == 0 and out.startswith("broke the lock of dev held by "), (code, out, err)
                assert keys(s3, "dev", "audit/locks/") and not keys(s3, "dev", LOCK_KEY)
                return
            code, out, err = run_main(break_lock_main, ["--env", "dev", "--reason", "stale"])
        assert faults.fired is not None
        assert (code, out) == (1, ""), (code, out, err)
        assert len(err.splitlines()) == 1 and "the lock of dev was not broken" in err, err
        assert keys(s3, "dev", LOCK_KEY) == [LOCK_KEY], "broken without a record"
        assert keys(s3, "dev", "audit/locks/") == []


def test_a_broken_lock_is_recorded_then_deleted() -> None:
    with MotoWorld():
        s3 = boto3.session.Session().client("s3")
        EnvironmentLock(Environment("dev"), "a crashed deploy").acquire()
        code, out, err = run_main(break_lock_main, ["--env", "dev", "--reason", "stale"])
        assert (code, err) == (0, "") and "audit: s3://" in out, (code, out, err)
        (key,) = keys(s3, "dev", "audit/locks/")
        record = json.loads(s3.get_object(Bucket=BACKUPS["dev"], Key=key)["Body"].read())
        assert record["reason"] == "stale" and record["lock"]["command"] == "a crashed deploy"
        assert keys(s3, "dev", LOCK_KEY) == []


def test_a_target_bucket_that_cannot_be_written_is_not_called_missing() -> None:
    with MotoWorld():
        faults = CallFaults()
        s3 = boto3.session.Session().client("s3")

        def stage_audit(call: Call) -> bool:
            return audit_write(call) and call.bucket == BACKUPS["stage"]

        notes: list[str] = []
        promotion = Promotion(
            Request("dev", "stage", validated_by="Ana"),
            REPO,
            progress=lambda event: notes.append(event.message or ""),
        )
        # refused (dev has no deployment record), its record written to dev's bucket
        with faults.armed(1, FAULTS["lost-connection"], where=stage_audit), pytest.raises(OperationError):
            promotion.run()
        assert faults.fired is not None
        (key,) = keys(s3, "dev", "audit/promotions/")
        record = json.loads(s3.get_object(Bucket=BACKUPS["dev"], Key=key)["Body"].read())
        note = record["audit_note"]
        assert note.startswith("stage's backups bucket could not be written (Could not connect")
        assert note.endswith("recorded in dev's")
        assert "no backups bucket" not in note and "no backups bucket" not in " ".join(notes)
