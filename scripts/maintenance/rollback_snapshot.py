"""Roll an environment back to a snapshot (see docs/snapshots.md).

    python scripts/maintenance/rollback_snapshot.py --snapshot "lai_v7_stable_20260130_143022" --env dev
    python scripts/maintenance/rollback_snapshot.py --snapshot "lai_v7_stable_20260130_143022" --env dev \
        --components client_config

Validates the snapshot (complete, the checksum of every file), snapshots the current state as
``pre_rollback_…``, restores, re-reads and compares. On failure the ``pre_rollback_…`` state is put
back and the exit status is 1. ``--dry-run`` prints the changes and changes nothing. prod needs
``--approve "<who>"``. It holds the environment's lock (the one deploy and promotion take): while
another operation holds it, the rollback is refused, naming the holder. Every attempt is recorded
in the backups bucket under ``audit/rollbacks/`` (or ``DIR/audit/rollbacks/`` with ``--local
DIR``), an interrupted one too (exit 130 before any change; during the restore, the previous
state is put back and the exit status is 1); a malformed command line (exit 2) is not. A snapshot
listing a file outside its component's scope is refused, naming the file. A lock that could not
be released, or an audit record that could not be written, is said with the outcome; a Ctrl-C
once the rollback is verified changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from vectora_ops import cli as _cli
from vectora_ops.environment import Environment
from vectora_ops.interrupts import deferred_interrupts
from vectora_ops.operation.lock import EnvironmentLock
from vectora_ops.operation.rollback import Rollback, RollbackReport
from vectora_ops.snapshots import COMPONENTS, DEFAULT_ROLLBACK_COMPONENTS, SnapshotEngine
from vectora_ops.snapshots.ids import check_ref, parse_components


def print_report(env: str, report: RollbackReport) -> None:
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    verb = "would change" if report.dry_run else "changed"
    print(f"{report.snapshot_id} ({','.join(report.components)}): {len(report.changes)} {verb}")
    for change in report.changes:
        print(f"  {change}")
    for warning in report.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    if report.dry_run:
        print("dry run: nothing was changed")
    elif report.changes:
        pre = report.pre_rollback_id
        undo = f"(undo: --snapshot {pre} --components {','.join(report.components)})"
        print(f"rolled back {env} to {report.snapshot_id}; previous state in {pre} {undo}")
    else:
        print(f"{env} already matches {report.snapshot_id}: nothing to do")
    print(f"audit: {report.audit}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("rollback_snapshot.py", "Restore an environment from a snapshot.")
    p.add_argument(
        "--snapshot",
        required=True,
        type=_cli.arg_type(check_ref),
        help="snapshot id {name}_{YYYYMMDD_HHMMSS}, or a pattern such as 'pre_deploy_*' "
        "(the newest complete match)",
    )
    p.add_argument(
        "--components",
        type=_cli.arg_type(parse_components),
        help=f"comma-separated subset of {','.join(COMPONENTS)} "
        f"(default: {','.join(DEFAULT_ROLLBACK_COMPONENTS)})",
    )
    p.add_argument("--approve", metavar="WHO", help="who approves this rollback (required in prod; audited)")
    p.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    _cli.add_local(p)
    args = p.parse_args(argv)
    # The environment's lock, the one deploy and promotion take: a rollback never runs beside them.
    # A rollback into a local store (--local) changes no environment.
    environment = Environment(args.env)
    lock = None if args.local else EnvironmentLock(environment, f"rollback {args.env} to {args.snapshot}")
    with _cli.progress_display() as progress:
        engine = SnapshotEngine.open(args.env, local=args.local, progress=progress, aws=environment)
        rollback = Rollback(
            engine, args.snapshot, args.components, approve=args.approve, dry_run=args.dry_run, lock=lock
        )
        report = rollback.run()
    with deferred_interrupts():  # the rollback is over: a Ctrl-C must not hide how it ended
        print_report(args.env, report)
    return 0


if __name__ == "__main__":
    _cli.run(main)
