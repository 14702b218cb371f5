"""Delete old snapshots of dev or stage (never prod; never the newest complete snapshot).

    python scripts/maintenance/cleanup_snapshots.py --env dev --older-than 7 [--dry-run] [--local DIR]

Deletes snapshots older than N days, plus those the environment's retention does not keep
(dev: the 7 newest, stage: the 30 newest) and incomplete leftovers.
"""

from __future__ import annotations

from collections.abc import Sequence

from vectora_ops import cli as _cli
from vectora_ops.snapshots import SnapshotEngine


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("cleanup_snapshots.py", "Delete old snapshots (dev/stage only).")
    p.add_argument(
        "--older-than", type=_cli.days_type, metavar="DAYS", help="delete snapshots older than DAYS days"
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be deleted; delete nothing")
    _cli.add_local(p)
    args = p.parse_args(argv)
    with _cli.progress_display() as progress:
        engine = SnapshotEngine.open(args.env, local=args.local, progress=progress)
        deleted = engine.cleanup(args.older_than, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for snapshot_id, reason in deleted.items():
        print(f"{verb} {snapshot_id} ({reason})")
    print(f"{len(deleted)} snapshot(s) {verb}" + (" (dry run: nothing was changed)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    _cli.run(main)
