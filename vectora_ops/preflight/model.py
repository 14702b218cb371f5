"""A preflight check and what it finds: the checklist's ✓/✗/– result, plus the fix when it is ✗."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vectora_ops.checklist.model import Result, Status, failed, not_checked, passed

if TYPE_CHECKING:
    from vectora_ops.preflight.context import Context

__all__ = ["Check", "Finding", "Status", "bad", "ok", "skip"]


@dataclass(frozen=True)
class Finding:
    result: Result
    # What to do (who, where, which command) so that the check passes; None when nothing is to do.
    fix: str | None = None

    @property
    def status(self) -> Status:
        return self.result.status


def ok(evidence: str) -> Finding:
    return Finding(passed(evidence))


def bad(evidence: str, fix: str) -> Finding:
    return Finding(failed(evidence), " ".join(fix.split()))


def skip(evidence: str, fix: str | None = None) -> Finding:
    return Finding(not_checked(evidence), fix)


@dataclass(frozen=True)
class Check:
    id: str
    label: str
    run: Callable[[Context], Finding]
