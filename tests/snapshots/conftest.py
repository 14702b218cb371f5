"""Fixtures of the snapshot tests: the deployed dev environment of the session's local AWS, the
process environment pointing boto3 at it, and a way to run the maintenance scripts as a user does.
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from vectora_core.naming import Bucket, Function, resource_name
from vectora_ops.environment import DEFAULT_WORKERS, Environment
from vectora_ops.snapshots import LocalStore, SnapshotEngine
from vectora_ops.snapshots.engine import Clock, utc_now

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts" / "maintenance"
ENV = "dev"
CONFIG_BUCKET = resource_name(Bucket.CONFIG, ENV)
DATA_BUCKET = resource_name(Bucket.DATA, ENV)
BACKUPS_BUCKET = resource_name(Bucket.BACKUPS, ENV)
INGEST = resource_name(Function.INGEST, ENV)
SCRIPT_TIMEOUT_S = 180


@dataclass
class Script:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        return self.stdout.strip().splitlines()[-1]


@pytest.fixture
def aws_env(deployed_dev: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployed dev emulator, with this process's boto3 pointed at it (the engine's default session)."""
    for key in [k for k in list(__import__("os").environ) if k.startswith("AWS_")]:
        monkeypatch.delenv(key, raising=False)
    for key, value in deployed_dev.client_env.items():
        monkeypatch.setenv(key, value)
    return deployed_dev


def session() -> boto3.session.Session:
    """A fresh boto3 session (reads AWS_ENDPOINT_URL and the dummy credentials from the environment)."""
    return boto3.session.Session()


def engine(
    env: str = ENV,
    *,
    session: Any = None,
    workers: int = DEFAULT_WORKERS,
    local: Path | None = None,
    clock: Clock = utc_now,
) -> SnapshotEngine:
    """The engine of ``env`` on the process's boto3 (or ``session``), in the bucket or ``local``."""
    aws = Environment(env, session=session, workers=workers)
    store = LocalStore(aws, local) if local is not None else None
    return SnapshotEngine(env, aws=aws, store=store, clock=clock)


def run_script(aws: Any, name: str, *args: str) -> Script:
    """``python scripts/maintenance/<name> <args>``, as an operator runs it (not a terminal: plain lines)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=REPO_ROOT,
        env=aws.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    return Script(result.returncode, result.stdout, result.stderr)


def zip_with(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", text)
    return buffer.getvalue()


class DevState:
    """Reads and changes the parts of dev the tests touch, and puts them back."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.s3 = aws.client("s3")
        self.lam = aws.client("lambda")
        self.client_id = f"snaptest_{uuid.uuid4().hex[:8]}"
        self._saved_env: dict[str, str] | None = None
        self._saved_code: bytes | None = None
        self._saved_sha: str | None = None

    # -- S3 ------------------------------------------------------------------------------------
    @property
    def client_key(self) -> str:
        return f"clients/{self.client_id}.yaml"

    def put(self, key: str, body: bytes, bucket: str = CONFIG_BUCKET) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def get(self, key: str, bucket: str = CONFIG_BUCKET) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def keys(self, prefix: str, bucket: str = CONFIG_BUCKET) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def delete_prefix(self, prefix: str, bucket: str = CONFIG_BUCKET) -> None:
        for key in self.keys(prefix, bucket):
            self.s3.delete_object(Bucket=bucket, Key=key)

    # -- Lambda ------------------------------------------------------------------------------
    def config(self, name: str = INGEST) -> dict[str, Any]:
        return dict(self.lam.get_function_configuration(FunctionName=name))

    def env_vars(self, name: str = INGEST) -> dict[str, str]:
        return dict(self.config(name).get("Environment", {}).get("Variables", {}))

    def code_sha(self, name: str = INGEST) -> str:
        return str(self.config(name)["CodeSha256"])

    def save_function(self) -> None:
        import urllib.request

        self._saved_env = self.env_vars()
        self._saved_sha = self.code_sha()
        location = self.lam.get_function(FunctionName=INGEST)["Code"]["Location"]
        with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310  # the emulator's URL
            self._saved_code = response.read()

    def set_env_var(self, key: str, value: str) -> None:
        variables = {**self.env_vars(), key: value}
        self.lam.update_function_configuration(FunctionName=INGEST, Environment={"Variables": variables})

    def set_code(self, text: str) -> str:
        self.lam.update_function_code(FunctionName=INGEST, ZipFile=zip_with(text))
        return self.code_sha()

    def restore_function(self) -> None:
        if self._saved_env is not None and self.env_vars() != self._saved_env:
            self.lam.update_function_configuration(
                FunctionName=INGEST, Environment={"Variables": self._saved_env}
            )
        if self._saved_code is not None and self.code_sha() != self._saved_sha:
            self.lam.update_function_code(FunctionName=INGEST, ZipFile=self._saved_code)


@pytest.fixture
def dev_state(aws_env: Any) -> Iterator[DevState]:
    """A test client id of its own in dev; the function and the client's objects are put back after."""
    state = DevState(aws_env)
    state.save_function()
    try:
        yield state
    finally:
        state.restore_function()
        state.delete_prefix(f"clients/{state.client_id}")
        state.delete_prefix(f"canonical/scopes/{state.client_id}")
        state.delete_prefix(f"curated/{state.client_id}/", DATA_BUCKET)


# --- stage and prod backups buckets of their own on the session's local AWS (no deploy) ---------


@pytest.fixture
def env_of(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in local_aws.client_env.items():
        monkeypatch.setenv(key, value)
    return local_aws


def make_bucket(aws: Any, env: str, *, versioned: bool = False) -> Iterator[str]:
    s3 = aws.client("s3")
    bucket = f"vectora-inbox-backups-{env}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield bucket
    finally:
        versions = s3.list_object_versions(Bucket=bucket)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=bucket)


@pytest.fixture
def stage_bucket(env_of: Any) -> Iterator[str]:
    yield from make_bucket(env_of, "stage")


@pytest.fixture
def prod_bucket(env_of: Any) -> Iterator[str]:
    yield from make_bucket(env_of, "prod", versioned=True)


# What prod's canonical snapshot copies: the bulk files that may sleep in Glacier.
CANONICAL_FILES = {"canonical/scopes/lai.yaml": b"scopes: []\n", "canonical/prompts/p.yaml": b"prompt: x\n"}


@pytest.fixture
def prod_canonical(env_of: Any) -> Iterator[str]:
    """prod's config bucket with a few canonical files (the rest of prod stays absent)."""
    s3 = env_of.client("s3")
    bucket = "vectora-inbox-config-prod"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    for key, body in CANONICAL_FILES.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    try:
        yield bucket
    finally:
        for key in CANONICAL_FILES:
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
