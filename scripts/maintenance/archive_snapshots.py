"""Move old prod snapshots' bulk files to Glacier (idempotent; what list, verify and rollback read stays).

The files moved are the ones the backups bucket's lifecycle rule moves by their tag, by the same
rule (``vectora_ops.snapshots.layout.may_sleep``): copies of S3 objects and the zips; never the
metadata, README, stack templates or function and layer documents.

python scripts/maintenance/archive_snapshots.py --env prod [--older-than 90] [--dry-run] [--approve WHO]

Never archives the newest complete snapshot (a rollback must be able to read it). An age below the
environment's own (90 days in prod) needs ``--approve "<who>"``. Every run, dry runs and refusals
included, is audited in ``audit/archives/`` of the backups bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

from vectora_ops import cli as _cli
from vectora_ops.snapshots import SnapshotEngine


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("archive_snapshots.py", "Move snapshots older than N days to Glacier (prod).")
    p.add_argument(
        "--older-than",
        type=_cli.days_type,
        metavar="DAYS",
        help="archive snapshots older than DAYS days (default: the environment's setting, 90 in prod)",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would move; move nothing")
    p.add_argument(
        "--approve",
        metavar="WHO",
        help="who approves archiving below the environment's archive age (required then; audited)",
    )
    args = p.parse_args(argv)
    with _cli.progress_display() as progress:
        moved = SnapshotEngine.open(args.env, progress=progress).archive(
            args.older_than, dry_run=args.dry_run, approve=args.approve
        )
    verb = "would archive" if args.dry_run else "archived"
    for snapshot_id, files in moved.items():
        print(f"{verb} {snapshot_id} ({files} files -> GLACIER)")
    print(f"{len(moved)} snapshot(s) {verb}" + (" (dry run: nothing was changed)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    _cli.run(main)
