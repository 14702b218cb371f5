"""One operation at a time per environment: a lock object written with an S3 conditional write.

``locks/environment.json`` in the environment's backups bucket, created with ``IfNoneMatch="*"``
(S3's race-free "create if absent": of two operations starting together exactly one succeeds). It
holds who (user@host, pid), the command, when it started and when it expires, and a token; the
holder deletes it when it ends (only if the token is still its own). An expired lock is NOT
taken over: a stale lock is removed only by ``scripts/deploy/break_lock.py``, which audits it.

An environment deployed for the first time has no backups bucket to hold its lock yet: the lock
then lives in the bucket of the environment it is promoted from, as
``locks/first-deployment-of-<env>.json`` (every first operation on that environment contends for
the same object), and once the environment's own bucket exists the operation takes its own lock
too. dev has no such neighbour: its first deployment runs unlocked (CloudFormation refuses a
second creation of a stack anyway).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_ops.errors import OperationError
from vectora_ops.promotion.clients import EnvClients, error_code, is_not_found
from vectora_ops.promotion.records import iso, parse_iso

LOCK_KEY: Final = "locks/environment.json"
DEFAULT_TTL: Final = timedelta(hours=2)
_TAKEN: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
Clock = Callable[[], datetime]


class LockHeld(OperationError):
    """Another operation holds the environment's lock (the message names it)."""


def first_deployment_key(env: str) -> str:
    return f"locks/first-deployment-of-{env}.json"


def operator() -> str:
    """``user@host``: who runs this operation (audit records, locks)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001  # no user database in a container: still say something
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class LockInfo:
    holder: str
    pid: int
    command: str
    started: str
    expires: str
    token: str
    env: str

    def describe(self) -> str:
        return (
            f"{self.holder} (pid {self.pid}, {self.command!r}, since {self.started}, expires {self.expires})"
        )


@dataclass(frozen=True)
class Location:
    clients: EnvClients
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.clients.backups_bucket}/{self.key}"


def lock_location(target: EnvClients, neighbour: EnvClients | None) -> Location | None:
    """Where ``target``'s lock lives now (see the module docstring); None if nowhere yet."""
    if target.bucket_exists(target.backups_bucket):
        return Location(target, LOCK_KEY)
    if neighbour is not None and neighbour.bucket_exists(neighbour.backups_bucket):
        return Location(neighbour, first_deployment_key(target.env))
    return None


def read_lock(location: Location) -> LockInfo | None:
    data = location.clients.read_json(location.clients.backups_bucket, location.key)
    if not isinstance(data, dict):
        return None
    known = set(LockInfo.__dataclass_fields__)
    try:
        return LockInfo(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return LockInfo("unreadable lock", 0, "?", "?", "?", "", location.clients.env)


@dataclass
class EnvironmentLock:
    """``with EnvironmentLock(target, "promote dev->stage", neighbour=dev):`` or acquire()/release()."""

    target: EnvClients
    command: str
    neighbour: EnvClients | None = None
    clock: Clock = field(default=lambda: datetime.now(UTC))
    ttl: timedelta = DEFAULT_TTL
    held: list[Location] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def _info(self) -> LockInfo:
        now = self.clock()
        return LockInfo(
            holder=operator(),
            pid=os.getpid(),
            command=self.command,
            started=iso(now),
            expires=iso(now + self.ttl),
            token=self.token,
            env=self.target.env,
        )

    def _take(self, location: Location) -> None:
        body = json.dumps(asdict(self._info()), indent=2).encode()
        try:
            location.clients.s3.put_object(
                Bucket=location.clients.backups_bucket,
                Key=location.key,
                Body=body,
                IfNoneMatch="*",
                ContentType="application/json",
            )
        except ClientError as err:
            if error_code(err) not in _TAKEN:
                raise
            raise LockHeld(self._held_message(read_lock(location), location)) from None
        self.held.append(location)

    def _held_message(self, info: LockInfo | None, location: Location) -> str:
        env = self.target.env
        if info is None:  # released between our write and our read: the next attempt may win
            return f"{env} is locked ({location.uri}) by an operation that just ended: try again"
        stale = ""
        try:
            if parse_iso(info.expires) < self.clock():
                stale = " - expired: if nothing runs any more, break it"
        except ValueError:
            stale = " - unreadable: break it"
        return (
            f"{env} is locked by {info.describe()}{stale}; wait for it to end, or break a stale lock with "
            f'scripts/deploy/break_lock.py --env {env} --reason "..."'
        )

    def acquire(self) -> Location | None:
        """Take the lock where it lives now; LockHeld (naming the holder) if another has it."""
        location = lock_location(self.target, self.neighbour)
        if location is not None:
            self._take(location)
        return location

    def take_own(self) -> None:
        """Once the target's backups bucket exists: also take its own lock (first deployments)."""
        if any(loc.key == LOCK_KEY and loc.clients is self.target for loc in self.held):
            return
        if self.target.bucket_exists(self.target.backups_bucket):
            self._take(Location(self.target, LOCK_KEY))

    def release(self) -> None:
        """Delete every lock object this operation took (only while it still holds our token)."""
        for location in reversed(self.held):
            try:
                head = location.clients.s3.get_object(
                    Bucket=location.clients.backups_bucket, Key=location.key
                )
                mine = json.loads(head["Body"].read()).get("token") == self.token
                if mine:
                    location.clients.s3.delete_object(
                        Bucket=location.clients.backups_bucket, Key=location.key, IfMatch=head["ETag"]
                    )
            except ClientError as err:
                if not is_not_found(err) and error_code(err) not in _TAKEN:
                    raise
        self.held.clear()

    def __enter__(self) -> EnvironmentLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def break_lock(target: EnvClients, neighbour: EnvClients | None) -> tuple[Location, LockInfo] | None:
    """Delete the environment's lock wherever it is; the lock that was there, or None."""
    for location in (
        Location(target, LOCK_KEY),
        *([Location(neighbour, first_deployment_key(target.env))] if neighbour is not None else []),
    ):
        if not location.clients.bucket_exists(location.clients.backups_bucket):
            continue
        info = read_lock(location)
        if info is not None:
            location.clients.s3.delete_object(Bucket=location.clients.backups_bucket, Key=location.key)
            return location, info
    return None
