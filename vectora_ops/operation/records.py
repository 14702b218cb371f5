"""Deployment records (which commit and cloud assembly an environment runs) and audit records.

Every guarded deploy and promotion, and the restore after either one failed, writes
``deployments/<UTC ts>_<via>.json`` in the environment's backups bucket: the commit and whether
its tree was clean, the cloud assembly (sha256 and where it is stored), the function CodeSha256s
and layer versions as deployed, the config and canonical object versions, who and when. The commit
lives here, never in a template: a commit id in a template would change every stack on every commit.

Audit records (``audit/<kind>/<UTC ts>_<label>.json``, see ``vectora_ops.audit``) say what was
attempted and how it ended, refusals included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from botocore.exceptions import ClientError

from vectora_ops.audit import audit_key, dated_key, operator
from vectora_ops.environment import Environment, is_write_conflict
from vectora_ops.operation.state import read_state

DEPLOYMENTS_PREFIX: Final = "deployments/"
FORMAT: Final = 1
Via = Literal["deploy", "promotion", "rollback"]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass
class DeploymentRecord:
    """What one deployment put into ``env`` (``via``: deploy, promotion or rollback)."""

    env: str
    via: Via
    commit: str | None
    tree_clean: bool
    operator: str  # user@host (``who`` in records written before it was named so)
    started_at: str
    finished_at: str
    assembly: dict[str, str] | None
    functions: dict[str, str | None]
    layers: dict[str, dict[str, str | None]]
    configs: dict[str, dict[str, str | None]] = field(default_factory=dict)
    snapshot: str | None = None
    # Promotions: where from, the audit record, the approved plan; prod: the watch window.
    promotion: dict[str, Any] | None = None
    watch_until: str | None = None
    format: int = FORMAT

    @property
    def finished(self) -> datetime:
        return parse_iso(self.finished_at)

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeploymentRecord:
        if "operator" not in data and "who" in data:  # a record written before the key was renamed
            data = {**data, "operator": data["who"]}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def write_deployment(clients: Environment, record: DeploymentRecord) -> str:
    """Store ``record`` in the environment's backups bucket; returns its ``s3://`` URI.

    Never overwrites: a record finishing in the same second as another gets the next microsecond.
    """
    for offset in range(1000):
        key = dated_key(DEPLOYMENTS_PREFIX, record.finished + timedelta(microseconds=offset), record.via)
        try:
            clients.s3.put_object(
                Bucket=clients.backups_bucket,
                Key=key,
                Body=record.to_json(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as err:
            if not is_write_conflict(err):
                raise
            continue
        return f"s3://{clients.backups_bucket}/{key}"
    raise RuntimeError(f"no free deployment record key near {record.finished_at}")


def record_deployment(
    target: Environment,
    via: Via,
    *,
    commit: str | None,
    tree_clean: bool,
    started: datetime,
    clock: Callable[[], datetime],
    assembly: dict[str, str] | None,
    snapshot: str | None,
    promotion: dict[str, Any] | None = None,
    watch_until: str | None = None,
) -> str:
    """The deployment record of what ``target`` runs now (its functions, layers and configs read
    again), written by the operation that put it there; returns its ``s3://`` URI."""
    state = read_state(target, stacks=False)
    return write_deployment(target, DeploymentRecord(
        env=target.env, via=via, commit=commit, tree_clean=tree_clean, operator=operator(),
        started_at=iso(started), finished_at=iso(clock()), assembly=assembly,
        functions=state.functions, layers=state.layers,
        configs={k: v.brief() for k, v in state.configs.items()}, snapshot=snapshot,
        promotion=promotion, watch_until=watch_until,
    ))  # fmt: skip


def _newest_first(clients: Environment) -> Iterator[tuple[str, DeploymentRecord]]:
    """Each deployment record (key, record), newest first (keys sort by time), read as asked for."""
    keys = clients.keys(clients.backups_bucket, DEPLOYMENTS_PREFIX)
    for key in reversed([k for k in keys if k.endswith(".json")]):
        data = clients.read_json(clients.backups_bucket, key)
        if isinstance(data, dict):
            yield key, DeploymentRecord.from_json(data)


def latest_deployment(clients: Environment) -> tuple[str, DeploymentRecord] | None:
    """The newest deployment record of the environment (key, record), or None."""
    return next(_newest_first(clients), None)


def latest_where(clients: Environment, wanted: Any) -> DeploymentRecord | None:
    """The newest record for which ``wanted(record)`` is true."""
    return next((record for _, record in _newest_first(clients) if wanted(record)), None)


def write_audit(clients: Environment, kind: str, started: datetime, label: str, entry: dict[str, Any]) -> str:
    """Append one audit record to ``clients``' backups bucket; returns its ``s3://`` URI."""
    key = audit_key(kind, started, label)
    body = (json.dumps(entry, indent=2, sort_keys=True, default=str) + "\n").encode()
    clients.s3.put_object(Bucket=clients.backups_bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{clients.backups_bucket}/{key}"
