"""In-process tier of the snapshot engine: moto's ``mock_aws`` inside the test process, no emulator.

The same behaviour is proven end to end on the local AWS in ``tests/snapshots``; here the engine
runs against S3 buckets that exist only in this process (Lambda and CloudFormation answer that
nothing is deployed, which the engine records as absent), so the tier starts nothing and runs in
seconds. The clock is injected: ids and ages are exact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.snapshots import LocalStore, SnapshotEngine

ENV = "dev"
REGION = "eu-west-3"
START = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
CONFIG, DATA, BACKUPS = (resource_name(b, ENV) for b in (Bucket.CONFIG, Bucket.DATA, Bucket.BACKUPS))


class Clock:
    """A clock that only moves when told to (each snapshot id takes the second it reads)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in this process; boto3 pointed at it (no endpoint, dummy credentials). Sessions are
    cheap: every session of the suite shares the loaded service models (tests/support/models.py)."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.session.Session().client("s3")


def make_buckets(s3: Any, env: str = ENV) -> None:
    for bucket in (Bucket.CONFIG, Bucket.DATA, Bucket.BACKUPS):
        s3.create_bucket(
            Bucket=resource_name(bucket, env), CreateBucketConfiguration={"LocationConstraint": REGION}
        )


@pytest.fixture
def s3(aws: Any) -> Any:
    """dev's config, data and backups buckets, with one client, canonical files and curated items."""
    make_buckets(aws)
    put(aws, CONFIG, "clients/lai_weekly.yaml", b"client_id: lai_weekly\nversion: 1.0.0\n")
    put(aws, CONFIG, "canonical/scopes/tech.yaml", b"scope: tech\n")
    put(aws, CONFIG, "canonical/prompts/summary.yaml", b"prompt: summarize\n")
    put(aws, DATA, "curated/lai_weekly/curated_items.json", b'{"items": [1, 2, 3]}')
    return aws


@pytest.fixture
def clock() -> Clock:
    return Clock()


EngineFactory = Callable[..., SnapshotEngine]


@pytest.fixture
def make_engine(clock: Clock) -> EngineFactory:
    """``make_engine(env="dev", local=None)``: an engine on the test's clock, 4 workers."""

    def build(env: str = ENV, local: Path | None = None) -> SnapshotEngine:
        clients = Environment(env, workers=4)
        store = LocalStore(clients, local) if local is not None else None
        return SnapshotEngine(env, aws=clients, store=store, clock=clock)

    return build


def put(s3: Any, bucket: str, key: str, body: bytes, **extra: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def get(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))
