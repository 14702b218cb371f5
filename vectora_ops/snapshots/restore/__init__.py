"""Restoring from a snapshot: one planner per component family behind one small interface.

A restore is a *plan* of changes computed against the live state, then applied. ``plan()`` asks
each planner whose components are chosen - CloudFormation stacks, Lambda (configuration, code,
layers), S3 objects (client configs, canonical files, curated items) - for the changes that make
the live environment equal to the snapshot. A dry run prints the plan; verification computes it
again and expects it empty; the undo of a failed rollback is the plan towards the pre-rollback
snapshot.
"""

from __future__ import annotations

from vectora_ops.environment import Environment
from vectora_ops.snapshots.restore.base import Change, Plan, Planner, SnapshotSource, apply_changes
from vectora_ops.snapshots.restore.lambdas import LambdaPlanner
from vectora_ops.snapshots.restore.s3_objects import S3ObjectsPlanner
from vectora_ops.snapshots.restore.stacks import StackPlanner

# Stacks first: their redeploy may change what the other planners compare against.
PLANNERS: tuple[type[Planner], ...] = (StackPlanner, LambdaPlanner, S3ObjectsPlanner)


def plan(aws: Environment, source: SnapshotSource, components: tuple[str, ...]) -> Plan:
    """Every change the chosen components need to equal ``source``, with the planners' notes."""
    changes: list[Change] = []
    notes: list[str] = []
    for planner_type in PLANNERS:
        if planner_type.handles & set(components):
            planner = planner_type(aws, source, components)
            changes += planner.plan()
            notes += planner.notes
    return Plan(changes, notes)


__all__ = ["PLANNERS", "Change", "Plan", "Planner", "SnapshotSource", "apply_changes", "plan"]
