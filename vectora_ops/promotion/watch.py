"""The watch after a promotion into an environment with ``post_promotion_watch_hours`` (prod: 48 h).

The state is the recorded window, nothing else: the promotion's deployment record holds
``watch_until`` (its end + the watch hours) and deploys S1-runtime with the CloudFormation parameter
``ReinforcedMonitoringUntil`` set to that instant (epoch seconds). Until then the reinforced alarms
can breach and further promotions into the environment are refused (a hotfix aside); afterwards
the alarms' metric math reads 0 and the freeze gate passes, without anyone acting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vectora_ops.environment import Environment
from vectora_ops.operation.records import DeploymentRecord, latest_where, parse_iso


@dataclass(frozen=True)
class Watch:
    record: DeploymentRecord
    until: datetime

    def left(self, now: datetime) -> timedelta:
        return max(self.until - now, timedelta(0))

    def active(self, now: datetime) -> bool:
        return now < self.until


def current_watch(clients: Environment) -> Watch | None:
    """The newest recorded watch window of the environment (ended or not), or None."""
    if not clients.bucket_exists(clients.backups_bucket):
        return None
    record = latest_where(clients, lambda r: bool(r.watch_until))
    if record is None or not record.watch_until:
        return None
    return Watch(record=record, until=parse_iso(record.watch_until))


def human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
