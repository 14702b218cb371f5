"""Snapshot an environment (spec: "Créer un Snapshot").

    python scripts/maintenance/create_snapshot.py --env dev --name "lai_v7_stable" --client lai_weekly
    python scripts/maintenance/create_snapshot.py --env dev --name "pre_migration_v8"

Writes ``snapshots/{name}_{YYYYMMDD_HHMMSS}/`` (UTC) in ``vectora-inbox-backups-{env}`` (or
``--local DIR``), then applies the environment's retention. The last line on stdout is the
snapshot id, so a deploy script can capture it: ``id=$(... | tail -1)``.
"""

from __future__ import annotations

import sys

import _cli

from vectora_core.snapshots import COMPONENTS, apply_retention, create_snapshot


def main() -> int:
    p = _cli.parser(
        "create_snapshot.py",
        "Snapshot Lambda config/code, layers, client configs, canonical, "
        "curated data and stacks of an environment.",
    )
    p.add_argument(
        "--name", required=True, help="snapshot name, e.g. lai_v7_stable (the id adds _YYYYMMDD_HHMMSS)"
    )
    p.add_argument("--client", help="limit client configs and curated data to this client (default: all)")
    p.add_argument(
        "--components",
        help=f"comma-separated subset of {','.join(COMPONENTS)} (default: all)",
    )
    p.add_argument("--no-retention", action="store_true", help="do not apply the retention policy afterwards")
    _cli.add_local(p)
    args = p.parse_args()
    with _cli.progress_display() as progress:
        snapshot_id = create_snapshot(
            env=args.env,
            name=args.name,
            client=args.client,
            components=args.components,
            local_dir=args.local,
            progress=progress,
        )
        if not args.no_retention:
            deleted = apply_retention(env=args.env, local_dir=args.local, progress=progress)
            for old in deleted:
                print(f"retention: deleted {old}", file=sys.stderr)
    print(snapshot_id)
    return 0


if __name__ == "__main__":
    _cli.run(main)
