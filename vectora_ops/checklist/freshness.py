""" "A snapshot newer than the last change": the environment's current state can be rolled back to.

The last change is the newest of: a stack created or updated, a pipeline function's code or
configuration changed, a client config or canonical file written. Pipeline output (raw, curated,
newsletters) is data, not a change. The checklist reports it; publishing into an environment where
a failed snapshot fails an update (stage) refuses when it does not hold, offering the command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from vectora_core.functions import CONFIG_PREFIXES
from vectora_core.naming import Function
from vectora_ops.environment import Environment, if_found
from vectora_ops.snapshots.retention import SnapshotInfo


@dataclass(frozen=True)
class Change:
    when: datetime
    what: str


# Lambda's LastModified: "2026-01-30T14:30:22.123+0000" on AWS, nanoseconds and "Z" on the local AWS.
_LAMBDA_TIME: Final = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$")


def utc(value: datetime | str) -> datetime:
    """A datetime in UTC from boto3's datetimes or Lambda's LastModified text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    match = _LAMBDA_TIME.match(value)
    if match is None:
        raise ValueError(f"not a time: {value!r}")
    zone = "+0000" if match[3] == "Z" else match[3].replace(":", "")
    moment = datetime.strptime(f"{match[1]}.{(match[2] or '0')[:6]:0<6}{zone}", "%Y-%m-%dT%H:%M:%S.%f%z")
    return moment.astimezone(UTC)


def last_change(aws: Environment) -> Change | None:
    """The environment's newest change (see the module docstring), or None when nothing is deployed."""
    changes: list[Change] = []
    for name in aws.stack_names:
        if found := if_found(aws.cloudformation.describe_stacks, StackName=name):
            stack = found["Stacks"][0]
            changes.append(
                Change(utc(stack.get("LastUpdatedTime") or stack["CreationTime"]), f"stack {name}")
            )
    for name in map(aws.name, Function):
        if config := if_found(aws.lambda_.get_function_configuration, FunctionName=name):
            changes.append(Change(utc(config["LastModified"]), f"function {name}"))
    bucket = aws.config_bucket
    objects = [o for prefix in CONFIG_PREFIXES for o in aws.list_objects_if_bucket(bucket, prefix) or []]
    changes += [Change(utc(o["LastModified"]), f"s3://{bucket}/{o['Key']}") for o in objects]
    return max(changes, key=lambda c: c.when, default=None)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def stale_reason(aws: Environment, snapshots: list[SnapshotInfo]) -> str | None:
    """Why the environment has no complete snapshot newer than its last change (None: it has one)."""
    change = last_change(aws)
    newest = next((info for info in snapshots if info.complete), None)
    if newest is None:
        return f"{aws.env} has no complete snapshot" + (
            f" (last change: {change.what} at {stamp(change.when)})" if change else ""
        )
    # Snapshot ids carry whole seconds: a change in the snapshot's own second counts as covered.
    if change is not None and change.when.replace(microsecond=0) > newest.created:
        return (
            f"{aws.env}'s newest snapshot {newest.snapshot_id} is older than its last change "
            f"({change.what} at {stamp(change.when)})"
        )
    return None


def snapshot_command(env: str, name: str) -> str:
    return f"python scripts/maintenance/create_snapshot.py --env {env} --name {name}"
