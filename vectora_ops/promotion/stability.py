"""Is an environment stable? The evidence behind the "stage stable for 14 days" gate.

Stable for N days means, all three from records rather than from anyone's word:
- its last deployment (deploy, promotion or rollback: the newest deployment record) finished at
  least N days ago;
- no rollback succeeded since (the rollbacks' ``audit/rollbacks/`` records, of either key set);
- none of its alarms (the ``AWS::CloudWatch::Alarm`` resources of its stacks) went to ALARM since
  (CloudWatch's alarm history, ``StateUpdate`` items).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from vectora_ops.environment import Environment, if_found
from vectora_ops.operation.records import DeploymentRecord, iso, latest_deployment, parse_iso

ROLLBACK_AUDITS: Final = "audit/rollbacks/"
ALARM_TYPE: Final = "AWS::CloudWatch::Alarm"


@dataclass
class Stability:
    env: str
    days: int
    now: datetime
    last_key: str | None = None
    last: DeploymentRecord | None = None
    rollbacks: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    alarms_watched: int = 0

    @property
    def age(self) -> timedelta | None:
        return self.now - self.last.finished if self.last else None

    def problems(self) -> list[str]:
        if self.last is None:
            return [f"{self.env} has no deployment record: nothing proves what it runs or since when"]
        found = []
        age = self.age or timedelta(0)
        if age < timedelta(days=self.days):
            left = timedelta(days=self.days) - age
            found.append(
                f"its last deployment ({self.last.via}, {self.last.finished_at}) is {_days(age)} old, "
                f"{self.days} days needed ({_days(left)} to go)"
            )
        if self.rollbacks:
            found.append(f"rolled back since then ({', '.join(self.rollbacks)})")
        if self.alarms:
            found.append(f"alarm(s) went to ALARM since then: {', '.join(self.alarms)}")
        return found

    def evidence(self) -> dict[str, Any]:
        return {
            "days_required": self.days,
            "last_deployment": self.last_key,
            "last_deployment_finished": self.last.finished_at if self.last else None,
            "age_days": round(self.age.total_seconds() / 86400, 2) if self.age else None,
            "successful_rollbacks_since": self.rollbacks,
            "alarms_watched": self.alarms_watched,
            "alarm_transitions_to_alarm_since": self.alarms,
        }


def _days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


def rollbacks_since(clients: Environment, since: datetime) -> list[str]:
    """Successful rollbacks of the environment recorded at or after ``since``; a record written
    before the rollback ran in the operations' frame says ``outcome`` and ``time`` instead of
    ``result`` and ``started_at`` (an account keeps its old ones)."""
    found = []
    for key in clients.keys(clients.backups_bucket, ROLLBACK_AUDITS):
        entry = clients.read_json(clients.backups_bucket, key)
        if not isinstance(entry, dict) or entry.get("dry_run"):
            continue
        if entry.get("result", entry.get("outcome")) != "succeeded":
            continue
        try:
            when = parse_iso(str(entry.get("started_at", entry.get("time"))))
        except ValueError:
            continue
        if when >= since:
            found.append(f"{entry.get('snapshot')} at {iso(when)}")
    return found


def alarm_names(clients: Environment) -> list[str]:
    """The alarms the environment's stacks created (their physical ids are the alarm names)."""
    paginator, resources = clients.cloudformation.get_paginator("list_stack_resources"), []
    for stack in clients.stack_names:
        listed = if_found(paginator.paginate(StackName=stack).build_full_result)  # None: not deployed
        resources += (listed or {}).get("StackResourceSummaries", [])
    return sorted(
        r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == ALARM_TYPE and r.get("PhysicalResourceId")
    )


def alarms_since(clients: Environment, names: list[str], since: datetime, now: datetime) -> list[str]:
    """``name at time`` for every transition of ``names`` to ALARM between ``since`` and ``now``."""
    found = []
    paginator = clients.cloudwatch.get_paginator("describe_alarm_history")
    for name in names:
        pages = paginator.paginate(
            AlarmName=name, HistoryItemType="StateUpdate", StartDate=since, EndDate=now
        )
        for page in pages:
            for item in page.get("AlarmHistoryItems", []):
                try:
                    new_state = json.loads(item.get("HistoryData") or "{}").get("newState", {})
                except ValueError:
                    continue
                if new_state.get("stateValue") == "ALARM":
                    found.append(f"{name} at {iso(item['Timestamp'])}")
    return found


def stability(clients: Environment, days: int, now: datetime) -> Stability:
    result = Stability(env=clients.env, days=days, now=now)
    latest = latest_deployment(clients) if clients.bucket_exists(clients.backups_bucket) else None
    if latest is None:
        return result
    result.last_key, result.last = latest
    since = result.last.finished
    result.rollbacks = rollbacks_since(clients, since)
    names = alarm_names(clients)
    result.alarms_watched = len(names)
    result.alarms = alarms_since(clients, names, since, now)
    return result
