"""Malformed locks: whatever bytes ``locks/environment.json`` holds, it is a lock. An operation that
meets it is refused in one line saying what is wrong with it (and who wrote it, when the body
says), never a traceback nor a "try again" that no retry will ever pass; ``break_lock.py``
always breaks it, audited, and the environment can be locked again.

The issue's cases are pinned on both backends (``env_aws_backend``); generated bodies (hypothesis:
any bytes, any JSON, lock-shaped objects with fields missing or of the wrong type, dates that
are none) run in moto in this process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.faults import load_script, run_main
from tests.fuzz.worlds import MotoWorld
from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.operation.lock import LOCK_KEY, EnvironmentLock, LockHeld
from vectora_ops.promotion.cli import break_lock_main

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
ENV: Final = "dev"
BACKUPS: Final = resource_name(Bucket.BACKUPS, ENV)
SNAPSHOT: Final = "lai_v7_stable_20260130_143022"
rollback = load_script("maintenance/rollback_snapshot.py")
WELL_FORMED: Final = {
    "holder": "ana@laptop",
    "pid": 4242,
    "command": "deploy dev",
    "started": "2026-01-30T14:30:22+00:00",
    "expires": "2099-01-30T16:30:22+00:00",
    "token": "f" * 32,
    "env": ENV,
}


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].isprintable(), text
    return lines[0]


def audit_keys(s3: Any) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BACKUPS, Prefix="audit/").get("Contents", [])
    return sorted(o["Key"] for o in listed)


def check_lock_body(s3: Any, body: bytes) -> None:
    """Every tool's answer to a lock object holding ``body``."""
    s3.put_object(Bucket=BACKUPS, Key=LOCK_KEY, Body=body)
    audits = audit_keys(s3)
    # an operation wanting the lock: refused in one line naming the lock, whatever the body
    with pytest.raises(LockHeld) as held:
        EnvironmentLock(Environment(ENV), "test").acquire()
    message = one_line(str(held.value))
    assert "try again" not in message and "break_lock.py --env dev" in message, message
    # the rollback script: exit 1, one line, audited as refused
    code, out, err = run_main(rollback.main, ["--env", ENV, "--snapshot", SNAPSHOT])
    assert (code, out) == (1, ""), (code, out, err)
    assert one_line(err).startswith(f"error: {ENV} is locked by "), err
    refused = [k for k in audit_keys(s3) if k not in audits]
    assert len(refused) == 1 and refused[0].startswith("audit/rollbacks/"), refused
    entry = json.loads(s3.get_object(Bucket=BACKUPS, Key=refused[0])["Body"].read())
    assert entry["result"] == "refused: environment locked", entry
    # break_lock.py: always breaks it, audited, one line
    code, out, err = run_main(break_lock_main, ["--env", ENV, "--reason", "fuzzed lock"])
    assert (code, err) == (0, ""), (code, out, err)
    assert one_line(out).startswith(f"broke the lock of {ENV} "), out
    assert "not locked" not in out
    assert not s3.list_objects_v2(Bucket=BACKUPS, Prefix=LOCK_KEY).get("Contents"), "the lock is still there"
    broke = [k for k in audit_keys(s3) if k.startswith("audit/locks/")]
    assert broke, audit_keys(s3)
    # and the environment can be locked again
    lock = EnvironmentLock(Environment(ENV), "after")
    lock.acquire()
    lock.release()


# --- the issue's cases, on both backends ---------------------------------------------------------


@pytest.fixture
def backups(env_aws_backend: Any) -> Iterator[Any]:
    s3 = env_aws_backend.client("s3")
    s3.create_bucket(Bucket=BACKUPS, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield s3
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BACKUPS):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BACKUPS, Key=item["Key"])
    s3.delete_bucket(Bucket=BACKUPS)


ISSUE_BODIES = {
    "not-json": b"\x00\xffnot json{",
    "a-json-array": b"[]",
    "null": b"null",
    "a-date-that-is-none": json.dumps({**WELL_FORMED, "expires": "soon"}).encode(),
    "a-date-of-another-type": json.dumps({**WELL_FORMED, "expires": 12}).encode(),
    "a-field-missing": json.dumps({k: v for k, v in WELL_FORMED.items() if k != "token"}).encode(),
}


@pytest.mark.parametrize("body", ISSUE_BODIES.values(), ids=ISSUE_BODIES.keys())
def test_a_malformed_lock_is_reported_in_one_line_and_broken(backups: Any, body: bytes) -> None:
    check_lock_body(backups, body)


def test_the_report_names_what_is_wrong_and_who_wrote_it(backups: Any) -> None:
    backups.put_object(Bucket=BACKUPS, Key=LOCK_KEY, Body=json.dumps({**WELL_FORMED, "pid": "x"}).encode())
    with pytest.raises(LockHeld) as held:
        EnvironmentLock(Environment(ENV), "test").acquire()
    assert "a malformed lock ('pid' is not a whole number; written by ana@laptop)" in str(held.value)
    backups.put_object(Bucket=BACKUPS, Key=LOCK_KEY, Body=b"\x00\xff")
    with pytest.raises(LockHeld) as held:
        EnvironmentLock(Environment(ENV), "test").acquire()
    assert "a malformed lock (its 2-byte body is not JSON; written by unknown)" in str(held.value)


# --- generated bodies (moto in this process) -----------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def lock_shaped(draw: st.DrawFn) -> bytes:
    """A lock the tools could have written, with some fields dropped or given other values."""
    data: dict[str, Any] = dict(WELL_FORMED)
    for name in draw(st.lists(st.sampled_from(sorted(WELL_FORMED)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del data[name]
        else:
            data[name] = draw(JSON_VALUES | st.sampled_from(["", "9999-99-99", "2026-13-01T00:00:00", "now"]))
    return json.dumps(data).encode()


BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    lock_shaped(),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@pytest.mark.timeout(600)
def test_generated_lock_bodies_never_wedge_the_environment() -> None:
    with MotoWorld() as world:
        s3 = Environment(ENV).s3

        @settings(
            max_examples=max(1, int(40 * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(body=BODIES)
        def property_(body: bytes) -> None:
            world.restore()
            check_lock_body(s3, body)

        property_()
