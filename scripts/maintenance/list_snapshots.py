"""List the snapshots of an environment, newest first.

python scripts/maintenance/list_snapshots.py --env dev [--local DIR] [--json]

A snapshot whose metadata is not what the engine writes is listed as damaged, with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from vectora_ops import cli as _cli
from vectora_ops.snapshots import COMPONENTS, SnapshotEngine, SnapshotInfo


def as_json(infos: list[SnapshotInfo]) -> str:
    rows = [
        {
            "id": i.snapshot_id,
            "created": i.created.isoformat(),
            "env": i.env,
            "client": i.client,
            "components": list(i.components),
            "size": i.size,
            "complete": i.complete,
            "damaged": i.damaged,
            "storage_class": i.storage_class,
        }
        for i in infos
    ]
    return json.dumps(rows, indent=2)


def as_table(env: str, infos: list[SnapshotInfo]) -> Table:
    table = Table(title=f"snapshots of {env} ({len(infos)})")
    for column in ("id", "created (UTC)", "env", "client", "components", "size", "complete", "storage class"):
        table.add_column(column, overflow="fold")
    for i in infos:
        table.add_row(
            i.snapshot_id,
            i.created.strftime("%Y-%m-%d %H:%M:%S"),
            i.env or "?",
            i.client or "all",
            "all" if set(i.components) == set(COMPONENTS) else ",".join(i.components) or "?",
            _cli.human_size(i.size),
            f"DAMAGED: {i.damaged}" if i.damaged else ("yes" if i.complete else "NO"),
            i.storage_class,
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("list_snapshots.py", "List the snapshots of an environment (newest first).")
    _cli.add_local(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    infos = SnapshotEngine.open(args.env, local=args.local).list_snapshots()
    if args.json:
        print(as_json(infos))
    else:
        Console(width=200).print(as_table(args.env, infos))
    return 0


if __name__ == "__main__":
    _cli.run(main)
