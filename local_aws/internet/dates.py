"""Dates of recorded content, shifted to the day they are served.

A recording (or a fixture feed) writes ``{{days_ago:N:FORMAT}}`` where a date goes: the date N
days before ``today`` (UTC midnight), formatted with strftime. Served today, an item written
"2 days ago" always falls in a weekly client's period, whatever day the rehearsal runs.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

DAYS_AGO = re.compile(r"\{\{days_ago:(\d+):([^}]+)\}\}")


def render(text: str, today: date) -> str:
    """``text`` with every ``{{days_ago:N:FORMAT}}`` replaced by that date."""

    def replace(match: re.Match[str]) -> str:
        moment = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(
            days=int(match.group(1))
        )
        return moment.strftime(match.group(2))

    return DAYS_AGO.sub(replace, text)


def today_utc() -> date:
    return datetime.now(UTC).date()
