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

A lock object the tools did not write (not JSON, not an object, a field missing or of the wrong
type, a date that is none) is still a lock: it is reported in one line (what is wrong, and who
wrote it when the body says), never taken for "no lock", and ``break_lock.py`` removes it like
any other. A lock that cannot be released (a lost connection) never hides the outcome of the
operation that held it: ``release`` raises ``LockNotReleased``, naming it and how to break it,
for the operation to add to its outcome. Breaking a lock writes its audit record first: a lock
whose break cannot be recorded stays.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_ops.audit import operator
from vectora_ops.environment import Environment, if_found, is_not_found, is_write_conflict
from vectora_ops.errors import OperationError, one_line, printable_line, typed_line
from vectora_ops.interrupts import deferred_interrupts
from vectora_ops.operation.records import iso, parse_iso
from vectora_ops.snapshots.engine import Clock

LOCK_KEY: Final = "locks/environment.json"
DEFAULT_TTL: Final = timedelta(hours=2)
# The tools write about 300 bytes; more than this is no lock of theirs (and is not read whole).
MAX_LOCK_BYTES: Final = 64 * 1024
_SHOWN: Final = 80  # characters of a field shown back from a malformed lock
BREAK_COMMAND: Final = 'scripts/deploy/break_lock.py --env {env} --reason "..."'


class LockHeld(OperationError):
    """Another operation holds the environment's lock (the message names it)."""


class LockNotReleased(OperationError):
    """The operation's lock could not be deleted (the message names it and how to break it)."""


def first_deployment_key(env: str) -> str:
    return f"locks/first-deployment-of-{env}.json"


@dataclass(frozen=True)
class LockInfo:
    holder: str
    pid: int
    command: str
    started: str
    expires: str
    token: str
    env: str
    # Set on a lock object the tools did not write: what is wrong with it (the fields then hold
    # what could be read of it, "?" otherwise).
    problem: str | None = None

    def describe(self) -> str:
        if self.problem is not None:
            return f"a malformed lock ({self.problem}; written by {self.holder})"
        holder, command, started, expires = map(
            _shown, (self.holder, self.command, self.started, self.expires)
        )
        return f"{holder} (pid {self.pid}, {command!r}, since {started}, expires {expires})"


@dataclass(frozen=True)
class Location:
    clients: Environment
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.clients.backups_bucket}/{self.key}"


def _places(target: Environment, neighbour: Environment | None) -> Iterator[Location]:
    """Where ``target``'s lock may live (see the module docstring), in order, those whose backups
    bucket exists (each asked only once the one before is not the answer)."""
    places = [Location(target, LOCK_KEY)]
    if neighbour is not None:
        places.append(Location(neighbour, first_deployment_key(target.env)))
    return (p for p in places if p.clients.bucket_exists(p.clients.backups_bucket))


def lock_location(target: Environment, neighbour: Environment | None) -> Location | None:
    """Where ``target``'s lock lives now; None if nowhere yet."""
    return next(_places(target, neighbour), None)


_TEXT_FIELDS: Final = ("holder", "command", "started", "expires", "token", "env")
_DATE_FIELDS: Final = ("started", "expires")


def _shown(value: object) -> str:
    """A field of a lock as one short printable line (a malformed lock may hold anything)."""
    return one_line(printable_line(" ".join(str(value).split())), _SHOWN)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _lock_data(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """The lock object's body as a JSON object, and what is wrong with it (None: nothing)."""
    if len(raw) > MAX_LOCK_BYTES:
        return {}, f"a body over {MAX_LOCK_BYTES} bytes"
    try:
        data = json.loads(raw, parse_constant=lambda name: math.nan)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {}, f"its {len(raw)}-byte body is not JSON"
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
            type(data), "a number"
        )
        return {}, f"its body is {kind}, not a JSON object"
    for name in _TEXT_FIELDS:
        if name not in data:
            return data, f"no {name!r} field"
        if not isinstance(data[name], str):
            return data, f"{name!r} is not a string"
    if not _whole(data.get("pid")):
        return data, "'pid' is not a whole number"
    for name in _DATE_FIELDS:
        try:
            parse_iso(data[name])
        except (ValueError, OverflowError):
            return data, f"{name!r} is not a date: {_shown(data[name])}"
    return data, None


def parse_lock(raw: bytes, env: str) -> LockInfo:
    """The lock object's body as a LockInfo; a body the tools did not write gives one whose
    ``problem`` says what is wrong (never an exception: a malformed lock is still a lock)."""
    data, problem = _lock_data(raw)
    if problem is None:
        return LockInfo(**{k: data[k] for k in LockInfo.__dataclass_fields__ if k != "problem"})
    text = {k: _shown(data[k]) if k in data else "?" for k in _TEXT_FIELDS}
    holder = text["holder"] if isinstance(data.get("holder"), str) else "unknown"
    pid = data["pid"] if _whole(data.get("pid")) else 0
    return LockInfo(holder, pid, text["command"], text["started"], text["expires"], "", env, problem)


def _get(location: Location) -> tuple[bytes, dict[str, Any]] | None:
    """The lock object's body (read no further than a lock's size) and the GetObject answer; None
    when there is no lock object at ``location``."""
    clients = location.clients
    response = if_found(clients.s3.get_object, Bucket=clients.backups_bucket, Key=location.key)
    if response is None:
        return None
    with contextlib.closing(response["Body"]) as body:
        return bytes(body.read(MAX_LOCK_BYTES + 1)), response


def read_lock(location: Location) -> LockInfo | None:
    """The lock at ``location``: None only when there is no lock object there."""
    found = _get(location)
    return None if found is None else parse_lock(found[0], location.clients.env)


@dataclass
class EnvironmentLock:
    """``with EnvironmentLock(target, "promote dev->stage", neighbour=dev):`` or acquire()/release()."""

    target: Environment
    command: str
    neighbour: Environment | None = None
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
        fields = {k: v for k, v in asdict(self._info()).items() if k != "problem"}
        body = json.dumps(fields, indent=2).encode()
        try:
            location.clients.s3.put_object(
                Bucket=location.clients.backups_bucket,
                Key=location.key,
                Body=body,
                IfNoneMatch="*",
                ContentType="application/json",
            )
        except ClientError as err:
            if not is_write_conflict(err):
                raise
            raise LockHeld(self._held_message(read_lock(location), location)) from None
        self.held.append(location)

    def _held_message(self, info: LockInfo | None, location: Location) -> str:
        env = self.target.env
        breaking = BREAK_COMMAND.format(env=env)
        if info is None:  # released between our write and our read: the next attempt may win
            return f"{env} is locked ({location.uri}) by an operation that just ended: try again"
        if info.problem is not None:
            return (
                f"{env} is locked by {info.describe()} at {location.uri}: no tool wrote it as it is; "
                f"if nothing runs any more, break it with {breaking}"
            )
        expired = parse_iso(info.expires) < self.clock()
        stale = " - expired: if nothing runs any more, break it" if expired else ""
        return (
            f"{env} is locked by {info.describe()}{stale}; wait for it to end, "
            f"or break a stale lock with {breaking}"
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
        """Delete every lock object this operation took (only while it still holds our token).

        Every one is tried; LockNotReleased (one line: which, why, how to break it) if any stayed.
        """
        failed: list[str] = []
        for location in reversed(self.held):
            try:
                self._release_one(location)
            except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001  # reported below, all of them
                why = "interrupted" if isinstance(err, KeyboardInterrupt) else typed_line(err)
                failed.append(f"{location.uri} ({why})")
        self.held.clear()
        if failed:
            raise LockNotReleased(
                f"the lock {', '.join(failed)} could not be released: once nothing runs, break it with "
                + BREAK_COMMAND.format(env=self.target.env)
            )

    def _release_one(self, location: Location) -> None:
        clients = location.clients
        try:
            found = _get(location)
            # Another body (replaced, malformed) is not ours to delete: only our token is.
            if found is not None and parse_lock(found[0], clients.env).token == self.token:
                clients.s3.delete_object(
                    Bucket=clients.backups_bucket, Key=location.key, IfMatch=found[1]["ETag"]
                )
        except ClientError as err:
            if not is_not_found(err) and not is_write_conflict(err):
                raise

    def __enter__(self) -> EnvironmentLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


Recorder = Callable[[Location, LockInfo], str]


def break_lock(
    target: Environment, neighbour: Environment | None, record: Recorder
) -> tuple[Location, LockInfo, str] | None:
    """Delete the environment's lock wherever it is: (where, the lock that was there, its audit
    record's URI), or None when there is none.

    ``record(location, info)`` writes the audit record BEFORE the lock is deleted: a break is never
    unrecorded. If it fails, the lock stays (OperationError, one line). A Ctrl-C during the record
    and the delete (two calls) is held back until both are done: it cannot leave a recorded break
    undone or an unrecorded one done.
    """
    for location in _places(target, neighbour):
        clients = location.clients
        info = read_lock(location)
        if info is None:
            continue
        not_broken = f"the lock of {target.env} was not broken ({location.uri})"
        with deferred_interrupts():
            try:
                audit = record(location, info)
            except Exception as err:  # noqa: BLE001  # one line, the lock left as it was
                raise OperationError(
                    f"{not_broken}: its audit record could not be written ({typed_line(err)})"
                ) from err
            try:
                clients.s3.delete_object(Bucket=clients.backups_bucket, Key=location.key)
            except Exception as err:  # noqa: BLE001  # the record says it was attempted
                raise OperationError(
                    f"{not_broken}: {typed_line(err)}; the attempt is recorded: {audit}"
                ) from err
        return location, info, audit
    return None


def lock_outcome(
    lock: EnvironmentLock, outcome: BaseException | None, note: Callable[[str], None]
) -> str | None:
    """Release ``lock`` at the end of an operation; a lock that stayed is returned (one line, for
    the warnings of a successful outcome), added to a failed ``outcome``'s message (or shown through
    ``note``): never raised in place of the outcome."""
    try:
        lock.release()
    except LockNotReleased as err:
        problem = one_line(err)
        if isinstance(outcome, OperationError):
            # The one line the user reads is the outcome's: it must say the lock stayed too.
            outcome.args = (f"{outcome}; {problem}", *outcome.args[1:])
        elif outcome is not None:  # an interrupt, an unexpected error: no message to add it to
            note(f"WARNING: {problem}")
        return problem
    return None
