"""Putting an environment back after a failed promotion or deploy, and proving it.

The snapshot taken before the change is restored with every component, stack templates included
(the engine redeploys them through CloudFormation), then the environment is read again and
compared with its state before the change: function and layer shas, config and canonical
contents, stack templates. A successful restore leaves a ``rollback`` deployment record, so the
environment's newest record describes what it runs again.

A Ctrl-C during a change is a failure like any other: the target is restored (exit 1). A second
one while restoring stops the restore, and the outcome says the target was NOT restored and gives
the command that restores it by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from vectora_ops.environment import Environment
from vectora_ops.errors import stop_reason, typed_line
from vectora_ops.interrupts import deferred_interrupts
from vectora_ops.operation.records import DeploymentRecord, record_deployment
from vectora_ops.operation.state import EnvState, read_state
from vectora_ops.operation.steps import Steps
from vectora_ops.snapshots import COMPONENTS, ProgressCallback, SnapshotEngine


def differences(before: EnvState | None, after: EnvState) -> list[str]:
    """What differs between two readings of one environment (empty: the same)."""
    if before is None:
        return ["(no state was read before)"]
    found = [f"{k} code" for k in ("functions", "layers") if before.code()[k] != after.code()[k]]
    if before.config_digests() != after.config_digests():
        found.append("configs")
    found += [f"stack {k} template" for k, v in before.templates().items() if after.templates().get(k) != v]
    return found


def restore(
    steps: Steps,
    target: Environment,
    snapshot_id: str,
    *,
    before: EnvState | None,
    previous: DeploymentRecord | None,
    approve: str | None,
    clock: Callable[[], datetime],
    progress: ProgressCallback | None,
    started: datetime,
    cause: dict[str, str],
) -> tuple[bool, str]:
    """Restore ``snapshot_id`` into ``target`` and compare with ``before``: (restored, one line).

    Never raises: the caller's outcome is this line. A Ctrl-C during the restore or its
    verification stops them (an operator pressing it again wants out): the target is then NOT
    restored and the line gives the command that restores it by hand. Once verified, the restore
    stands: a Ctrl-C or a lost connection while its deployment record is written is only said.
    """
    by_hand = (
        f"scripts/maintenance/rollback_snapshot.py --env {target.env} --snapshot {snapshot_id} "
        f"--components {','.join(COMPONENTS)}" + (' --approve "<who>"' if target.env == "prod" else "")
    )
    # Imported here: the rollback runs in the frame (``operation``) that imports this module.
    from vectora_ops.operation.rollback import Rollback

    try:
        with steps.step(
            "restore", f"restore {target.env} from {snapshot_id} (stacks included)", injectable=False
        ):
            engine = SnapshotEngine.on(target, clock, progress)
            # Stacks included; no lock: the failed operation holds it.
            Rollback(engine, snapshot_id, COMPONENTS, approve=approve).run()
        with steps.step(
            "verify-restore", f"compare {target.env} with its state before", injectable=False
        ) as info:
            info["differences"] = found = differences(before, read_state(target))
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001  # reported, with the first error, in one line
        why = stop_reason(err, 200)
        return False, f"restoring {snapshot_id} FAILED ({why}): restore it by hand with {by_hand}"
    if found:
        return False, f"{target.env} restored from {snapshot_id} but still differs: {', '.join(found)}"
    verified = f"{target.env} restored from {snapshot_id} and verified equal to its state before"
    if previous is None:
        return True, verified
    try:
        # The restore is verified: a Ctrl-C now cannot undo it. Its ``rollback`` deployment record
        # makes the environment's newest record describe what it runs again.
        with deferred_interrupts():
            record_deployment(
                target, "rollback", commit=previous.commit, tree_clean=previous.tree_clean,
                started=started, clock=clock, assembly=previous.assembly, snapshot=snapshot_id,
                promotion={"rolled_back": cause},
            )  # fmt: skip
    except Exception as err:  # noqa: BLE001  # the target is restored whatever this record's fate
        why = typed_line(err, 200)
        return True, f"{verified} (its rollback deployment record could not be written: {why})"
    return True, verified
