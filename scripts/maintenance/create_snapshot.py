"""Snapshot an environment (see docs/snapshots.md).

    python scripts/maintenance/create_snapshot.py --env dev --name "lai_v7_stable" --client lai_weekly
    python scripts/maintenance/create_snapshot.py --env dev --name "pre_migration_v8"

Writes ``snapshots/{name}_{YYYYMMDD_HHMMSS}/`` (UTC) in ``vectora-inbox-backups-{env}`` (or
``--local DIR``), then applies the environment's retention (a snapshot with damaged metadata is
left alone with a warning; retention failing is a warning too). The last line on stdout is the
snapshot id, so a deploy script can capture it: ``id=$(... | tail -1)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from vectora_ops import cli as _cli
from vectora_ops.errors import OperationError, one_line, printable_line
from vectora_ops.snapshots import COMPONENTS, SnapshotEngine
from vectora_ops.snapshots.ids import check_client, check_name, parse_components


def dry_run(engine: SnapshotEngine, args: argparse.Namespace) -> int:
    preview = engine.preview(args.name, args.client, args.components)
    print(f"would write {args.name}_<YYYYMMDD_HHMMSS>/ in {preview.location} ({preview.copies} files)")
    for component, summary in sorted(preview.contents.items()):
        print(f"  {component}: {json.dumps(summary, sort_keys=True)}")
    if not args.no_retention:
        for old in engine.apply_retention(dry_run=True, pending=1):
            print(f"retention would delete {old}")
    print("dry run: nothing was changed")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser(
        "create_snapshot.py",
        "Snapshot Lambda config/code, layers, client configs, canonical, "
        "curated data and stacks of an environment.",
    )
    p.add_argument(
        "--name",
        required=True,
        type=_cli.arg_type(check_name),
        help="snapshot name, e.g. lai_v7_stable (the id adds _YYYYMMDD_HHMMSS)",
    )
    p.add_argument(
        "--client",
        type=_cli.arg_type(check_client),
        help="limit client configs and curated data to this client (default: all)",
    )
    p.add_argument(
        "--components",
        type=_cli.arg_type(parse_components),
        help=f"comma-separated subset of {','.join(COMPONENTS)} (default: all)",
    )
    p.add_argument("--no-retention", action="store_true", help="do not apply the retention policy afterwards")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be captured and what retention would delete"
    )
    _cli.add_local(p)
    args = p.parse_args(argv)
    with _cli.progress_display() as progress:
        engine = SnapshotEngine.open(args.env, local=args.local, progress=progress)
        if args.dry_run:
            return dry_run(engine, args)
        snapshot_id = engine.create(args.name, args.client, args.components)
        if not args.no_retention:
            apply_retention(engine)
    print(snapshot_id)
    return 0


def apply_retention(engine: SnapshotEngine) -> None:
    """Retention after a snapshot that is complete: its failure is a warning, never the snapshot's
    (deploy scripts read the id from the last line: it is printed whatever happens here)."""
    try:
        for old in engine.apply_retention():
            print(f"retention: deleted {old}", file=sys.stderr)
    except (OperationError, ClientError, BotoCoreError, OSError) as err:
        print(f"warning: retention not applied: {printable_line(one_line(err))}", file=sys.stderr)


if __name__ == "__main__":
    _cli.run(main)
