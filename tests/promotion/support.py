"""What the promotion tests share: a clean commit of the code under test, an emulator of its own,
and readers for what a promotion leaves (states, deployment records, audit records).

A promotion trusts only a real commit on a clean tree, and no variable can fake one: the tests run
the scripts from a clone of this checkout whose working tree (tracked files and untracked ones that
are not ignored) is committed there, with the checkout's ``.venv``, ``node_modules`` and ``.build``
(a cache) linked in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.server import LocalAws
from tests.support.cdk_cli import TEST_ALARM_EMAIL
from vectora_constructs.synth_cache import CACHE_ENV
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import repo_files
from vectora_ops.environment import Environment
from vectora_ops.operation.records import DeploymentRecord
from vectora_ops.operation.state import EnvState, read_state
from vectora_ops.promotion.testrecords import RECORDS_ENV, TestRecord, write_record

REPO_ROOT = Path(__file__).resolve().parents[2]
LINKED = (".venv", "node_modules", ".build")
SCRIPT_TIMEOUT_S = 900
# The two command lines docs/promotion.md documents, typed verbatim at the repository root (``World.typed``).
SPEC_DEV_TO_STAGE = "./scripts/deploy/promote_dev_to_stage.sh --client lai_weekly --validate"
SPEC_STAGE_TO_PROD = "./scripts/deploy/promote_stage_to_prod.sh --client lai_weekly --approve"
GIT_IDENTITY = ("-c", "user.name=Promotion Tests", "-c", "user.email=promotion-tests@example.com")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def clean_clone(source: Path, dest: Path) -> Path:
    """``dest``: a clone of ``source`` with its working tree committed (a real, clean commit)."""
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(source), str(dest)], check=True, timeout=120
    )
    git(dest, "checkout", "--quiet", "HEAD")
    wanted = set(git(source, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")) - {
        ""
    }
    for rel in git(dest, "ls-files", "-z").split("\0"):
        if rel and rel not in wanted:
            (dest / rel).unlink(missing_ok=True)
    for rel in sorted(wanted):
        origin, target = source / rel, dest / rel
        if origin.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    for name in LINKED:
        # .build (the layer cache) appears with the checkout's first synth: a link to nothing
        # would make the clone's synth fail on its mkdir (a fresh clone's promotion tests start first)
        (source / name).mkdir(exist_ok=True)
        (dest / name).symlink_to(source / name)
    # The links are this clone's own business: ignored locally, never committed.
    with (dest / ".git" / "info" / "exclude").open("a") as excludes:
        excludes.write("".join(f"/{name}\n" for name in LINKED))
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "--allow-empty", "-m", "the code under test")
    assert git(dest, "status", "--porcelain") == ""
    return dest


def session_for(aws: LocalAws) -> boto3.session.Session:
    """A boto3 session bound to ``aws`` (what AWS_ENDPOINT_URL does for a process, for it alone)."""
    env = aws.client_env()
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    )
    session._session.get_component("config_store").set_config_variable(
        "endpoint_url", env["AWS_ENDPOINT_URL"]
    )
    return session


@dataclass(frozen=True, repr=False)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(("error:", "promote"))]

    def __repr__(self) -> str:  # what an assertion failure shows: the script's own output
        return f"exit {self.code}\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n{self.stderr[-6000:]}"


@dataclass
class World:
    """The clone, its emulator and the folder its test records live in."""

    aws: LocalAws
    repo: Path
    records: Path

    @property
    def commit(self) -> str:
        return git(self.repo, "rev-parse", "HEAD")

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VECTORA_"))}
        if CACHE_ENV in os.environ:  # the run's synth cache (tests/conftest.py), not a setting
            env[CACHE_ENV] = os.environ[CACHE_ENV]
        env.update(self.aws.client_env())
        env.update({RECORDS_ENV: str(self.records), "VECTORA_ALARM_EMAILS": TEST_ALARM_EMAIL})
        env.update(extra or {})
        return env

    def run(self, script: str, *args: str, extra: Mapping[str, str] | None = None) -> Run:
        """``./scripts/deploy/<script> args`` from the clone's root, as an operator runs it (a
        ``.py`` script with the clone's ``.venv`` Python)."""
        relative = f"./scripts/deploy/{script}"
        command = [relative, *args] if script.endswith(".sh") else [".venv/bin/python", relative, *args]
        return self._execute(command, extra)

    def typed(self, line: str, extra: Mapping[str, str] | None = None) -> Run:
        """``line`` exactly as typed in a shell at the clone's root (docs/promotion.md's command lines)."""
        return self._execute(["bash", "-c", line], extra)

    def _execute(self, command: list[str], extra: Mapping[str, str] | None) -> Run:
        result = subprocess.run(
            command,
            cwd=self.repo,
            env=self.env(extra),
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            check=False,
        )
        return Run(result.returncode, result.stdout, result.stderr)

    @contextlib.contextmanager
    def process_env(self) -> Iterator[None]:
        """This process pointed at the world's emulator (for an operation run in-process)."""
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.env().items():
                if name.startswith(("AWS_", "VECTORA_")):
                    patch.setenv(name, value)
            yield

    def session(self) -> boto3.session.Session:
        return session_for(self.aws)

    def clients(self, env: str) -> Environment:
        return Environment(env, self.session())

    def state(self, env: str, client: str | None = None) -> EnvState:
        return read_state(self.clients(env), client)

    def objects(self, env: str, prefix: str) -> list[dict[str, Any]]:
        """The JSON objects under ``prefix`` in ``env``'s backups bucket, oldest first."""
        clients = self.clients(env)
        return [
            clients.read_json(clients.backups_bucket, key)
            for key in clients.keys(clients.backups_bucket, prefix)
        ]

    def deployments(self, env: str) -> list[DeploymentRecord]:
        return [DeploymentRecord.from_json(d) for d in self.objects(env, "deployments/")]

    def audits(self, env: str, kind: str = "promotions") -> list[dict[str, Any]]:
        return self.objects(env, f"audit/{kind}/")

    def green_record(self, commit: str | None = None) -> None:
        """The record ``make test`` would leave for the clone's commit (this run cannot be that run)."""
        record = TestRecord(
            commit or self.commit, True, True, 0, datetime.now(UTC).isoformat(), {"passed": 1}
        )
        write_record(self.repo, record, folder=self.records)

    def change(self, rel: str, old: str, new: str, message: str) -> str:
        """Edit one file of the clone, commit it (clean tree), give it a green test record."""
        path = self.repo / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))
        git(self.repo, "commit", "--quiet", "-am", message)
        self.green_record()
        return self.commit

    def backdate(self, env: str, days: float) -> None:
        """Shift ``env``'s recorded history (deployment records, rollback audits) ``days`` into the past.

        The records are the evidence of stability and of the watch window; moving the whole history
        keeps its order (a rollback's audit stays before the record it left).
        """
        clients, delta = self.clients(env), timedelta(days=days)
        times = ("started_at", "finished_at")
        fields = {"deployments/": (*times, "watch_until"), "audit/rollbacks/": times}
        for prefix, names in fields.items():
            for key in clients.keys(clients.backups_bucket, prefix):
                data = clients.read_json(clients.backups_bucket, key)
                for name in names:
                    if data.get(name):
                        data[name] = (datetime.fromisoformat(data[name]) - delta).isoformat(
                            timespec="seconds"
                        )
                body = json.dumps(data, indent=2, sort_keys=True).encode()
                clients.s3.put_object(Bucket=clients.backups_bucket, Key=key, Body=body)


def publish_dev_configs(world: World) -> None:
    """What an operator publishes to dev (``publish_config.py --env dev``: clients/ and canonical/),
    every byte the clone's: lai_weekly's own sources are answered by the local AWS's local internet
    (``local_aws/recordings/``), so the smoke tests run the real client in every environment."""
    session = world.session()
    publish(
        "dev",
        repo_files(world.repo),
        s3=session.client("s3"),
        lambda_client=session.client("lambda"),
    )
