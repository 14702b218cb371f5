"""The two AWS worlds a fuzzed script runs in, and what may be written to S3.

- ``MotoWorld``: moto's in-process AWS (``mock_aws``) holding every environment's buckets, with
  the repository's client configs and canonical files in each config bucket and curated items in
  each data bucket. Every object is read straight from moto's S3 backend after each example (no
  request: fast), and the world is seeded again only when an example changed something.
- ``UnreachableWorld``: no AWS at all (``AWS_ENDPOINT_URL`` on a closed local port), retries
  without their back-off sleeps: every AWS call fails at once, as on a machine without network.

``key_problem`` is the S3 half of "reach nothing they shouldn't": a key a script writes must be
one safe path under its bucket's own prefixes, in an environment the command line named.
"""

from __future__ import annotations

import contextlib
import os
import re
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import boto3
import botocore.endpoint
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from tests.fuzz.harness import REPO
from tests.fuzz.strategies import SEED_ID
from vectora_core.naming import ENV_NAMES, Bucket, resource_name
from vectora_ops.environment import Environment
from vectora_ops.snapshots import LocalStore, SnapshotEngine

REGION: Final = "eu-west-3"
SEED_TIME: Final = datetime(2026, 1, 30, 14, 30, 22, tzinfo=UTC)
CURATED_KEY: Final = "curated/lai_weekly/curated_items.json"
# Where each bucket kind receives objects (docs/snapshots.md's layout; promotion's records, locks and
# assemblies included). The newsletters bucket holds one folder per client id.
PREFIXES: Final[dict[str, tuple[str, ...]]] = {
    Bucket.CONFIG: ("clients/", "canonical/"),
    Bucket.DATA: ("raw/", "curated/"),
    Bucket.NEWSLETTERS: ("",),
    Bucket.LAMBDA_CODE: ("assemblies/",),
    Bucket.BACKUPS: ("snapshots/", "audit/", "deployments/", "locks/"),
    Bucket.ACCESS_LOGS: (),
}
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=+-]*")
BUCKETS: Final = {resource_name(kind, env): (kind, env) for env in ENV_NAMES for kind in Bucket}

Objects = dict[tuple[str, str], str]


def key_problem(bucket: str, key: str, envs: frozenset[str]) -> str | None:
    """Why ``key`` should not have been written to ``bucket`` by a command naming ``envs``, or None."""
    if bucket not in BUCKETS:
        return f"a bucket of no environment: {bucket}"
    kind, env = BUCKETS[bucket]
    if env not in envs:
        return f"{env}'s bucket, but the command line named {sorted(envs) or 'no environment'}"
    bad = [part for part in key.split("/") if not _SEGMENT.fullmatch(part)]
    if bad:
        return f"unsafe key segment {bad[0]!r} (a key is /-separated [A-Za-z0-9._=+-] names, no '..')"
    if not key.startswith(PREFIXES[kind]) or kind == Bucket.NEWSLETTERS and key.count("/") < 1:
        return f"outside the {kind} bucket's prefixes {PREFIXES[kind]}"
    return None


def repository_config() -> dict[str, bytes]:
    """What publish_config.py puts in a config bucket: clients/*.yaml and canonical/**/*.yaml."""
    files = sorted((REPO / "clients").glob("*.yaml")) + sorted((REPO / "canonical").rglob("*.yaml"))
    return {path.relative_to(REPO).as_posix(): path.read_bytes() for path in files}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` without any ``AWS_*`` of the machine, plus ``values``; restored afterwards."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = None


DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class MotoWorld:
    name = "moto"

    def __init__(self) -> None:
        self._config = repository_config()
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> MotoWorld:
        self._stack.enter_context(environment(DUMMY_CREDENTIALS))
        self._stack.enter_context(mock_aws())
        self.seed()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def _s3(self) -> Any:
        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def seed(self) -> None:
        backend = self._s3
        backend.reset()
        for bucket, (kind, _env) in BUCKETS.items():
            backend.create_bucket(bucket, REGION)
            if kind == Bucket.CONFIG:
                for key, body in self._config.items():
                    backend.put_object(bucket, key, body)
            if kind == Bucket.DATA:
                backend.put_object(bucket, CURATED_KEY, b'{"items": []}')
        self.seeded = self.objects()

    def objects(self) -> Objects:
        return {(b.name, k): v.etag for b in self._s3.buckets.values() for k, v in b.keys.items()}

    def restore(self) -> None:
        """Seed again if the last example changed anything (most change nothing)."""
        if self.objects() != self.seeded:
            self.seed()


class UnreachableWorld:
    name = "no-aws"

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> UnreachableWorld:
        # localhost:1 answers nothing; botocore's retries then sleep up to seconds each: not here.
        no_sleep = types.SimpleNamespace(sleep=lambda seconds: None)
        original = botocore.endpoint.time
        self._stack.callback(setattr, botocore.endpoint, "time", original)
        botocore.endpoint.time = no_sleep  # type: ignore[assignment]
        self._stack.enter_context(
            environment({**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": "http://localhost:1"})
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def objects(self) -> Objects:
        return {}

    def restore(self) -> None:
        return None


def seed_local_store(store_root: Path) -> str:
    """A complete snapshot ``SEED_ID`` of a moto dev in ``store_root/snapshots/`` (``--local``)."""
    with MotoWorld():
        aws = Environment("dev", workers=4)
        engine = SnapshotEngine("dev", aws=aws, store=LocalStore(aws, store_root), clock=lambda: SEED_TIME)
        snapshot_id = engine.create("seed")
    assert snapshot_id == SEED_ID, snapshot_id
    return snapshot_id
