"""The planner interface, the plan, and how a plan is applied."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vectora_ops.environment import Environment
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.ids import STACKS
from vectora_ops.snapshots.metadata import SnapshotMetadata
from vectora_ops.snapshots.progress import Reporter
from vectora_ops.snapshots.store import Store


@dataclass
class Change:
    component: str
    target: str
    action: str
    apply: Callable[[], object] = field(repr=False)
    # Changes of one group run one after the other (Lambda refuses concurrent updates of a function).
    group: str | None = None

    def __str__(self) -> str:
        return f"{self.component} {self.target}: {self.action}"


@dataclass(frozen=True)
class SnapshotSource:
    """One snapshot as a restore reads it: its metadata and its files in the store."""

    store: Store
    metadata: SnapshotMetadata

    @property
    def snapshot_id(self) -> str:
        return self.metadata.snapshot_id

    def doc(self, rel: str) -> dict[str, Any]:
        """One of the snapshot's JSON documents (``lambda_*.json``, ``stacks/*.json``...)."""
        raw = self.store.read_bytes(self.snapshot_id, rel)
        if raw is None:
            raise SnapshotError(f"snapshot {self.snapshot_id} has no {rel}")
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise SnapshotError(f"snapshot {self.snapshot_id}: {rel} is not a JSON object")
        return data


class Planner:
    """The changes that make one family of components of the live environment equal to ``source``.

    ``handles``: the components of the family; ``notes``: what the planner left alone, and why.
    """

    handles: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, aws: Environment, source: SnapshotSource, components: tuple[str, ...]) -> None:
        self.aws, self.source, self.components = aws, source, components
        self.notes: list[str] = []

    def plan(self) -> list[Change]:
        raise NotImplementedError


@dataclass(frozen=True)
class Plan:
    changes: list[Change]
    notes: list[str]


def apply_changes(changes: list[Change], workers: int, reporter: Reporter, step: str) -> None:
    """Stacks first (one by one), then everything else concurrently, each group in order."""

    def run(group: list[Change]) -> None:
        for change in group:
            change.apply()
            reporter.advance(step)

    reporter.start(step, len(changes))
    run([c for c in changes if c.component == STACKS])
    # Layers and configuration of a function before its code; S3 objects are independent.
    groups: dict[str, list[Change]] = {}
    for index, change in enumerate(c for c in changes if c.component != STACKS):
        groups.setdefault(change.group or f"#{index}", []).append(change)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, group) for group in groups.values()]:
            future.result()
