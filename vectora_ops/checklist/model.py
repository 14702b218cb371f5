"""An item of the checklist and what its check returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from vectora_ops.checklist.context import Context


class Status(Enum):
    PASSED = "✓"
    FAILED = "✗"
    NOT_CHECKED = "–"


@dataclass(frozen=True)
class Result:
    status: Status
    evidence: str  # one line

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", " ".join(self.evidence.split()))


def passed(evidence: str) -> Result:
    return Result(Status.PASSED, evidence)


def failed(evidence: str) -> Result:
    return Result(Status.FAILED, evidence)


def not_checked(evidence: str) -> Result:
    return Result(Status.NOT_CHECKED, evidence)


def first_problems(problems: list[str], shown: int = 1) -> str:
    """The first ``shown`` problems, and how many more there are."""
    more = len(problems) - shown
    return "; ".join(problems[:shown]) + (f" (+{more})" if more > 0 else "")


def first_failure(*results: Result) -> Result:
    """One result for several parts: the first failure, else every part's evidence joined."""
    for result in results:
        if result.status is Status.FAILED:
            return result
    if all(r.status is Status.NOT_CHECKED for r in results):
        return not_checked("; ".join(r.evidence for r in results))
    return passed("; ".join(r.evidence for r in results))


# What an item is checked against: the templates, the deployed environment (both when it is
# reachable), this checkout's code, or a record a person makes (never ✓ here: shown with its place).
Kind = Literal["template", "deployed", "code", "recorded"]


@dataclass(frozen=True)
class Item:
    id: str
    label: str  # the checklist's wording, in French as the team writes it
    kind: Kind
    check: Callable[[Context], Result]
    # The tests that enforce the item, by pytest node id (the checklist's own tests prove that the
    # check turns ✗ when the thing is broken).
    tests: tuple[str, ...]
