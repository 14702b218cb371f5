"""Print what a synthesized cloud assembly holds: stacks, dependencies, resources by type.

Usage: python scripts/deploy/synth_summary.py [CDK_OUT]   (default: cdk.out)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vectora_ops import cli
from vectora_ops.errors import OperationError


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise OperationError(f"{path} is not a cloud assembly's JSON ({err.__class__.__name__})") from None


def stack_rows(out: Path, manifest: Any) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    try:
        for name, artifact in manifest["artifacts"].items():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            template = read_json(out / artifact["properties"]["templateFile"])
            types = Counter(r["Type"].removeprefix("AWS::") for r in template["Resources"].values())
            depends = [d for d in artifact.get("dependencies", []) if not d.endswith(".assets")]
            rows.append(
                (
                    name,
                    ", ".join(depends) or "-",
                    str(sum(types.values())),
                    ", ".join(f"{t} x{n}" for t, n in sorted(types.items())),
                    "on" if artifact["properties"].get("terminationProtection") else "off",
                )
            )
    except (KeyError, TypeError, AttributeError) as err:
        raise OperationError(f"{out}/ is not a cloud assembly CDK wrote (missing or odd {err})") from None
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("synth_summary.py", __doc__.splitlines()[0], env=False)
    parser.add_argument(
        "assembly", nargs="?", default=Path("cdk.out"), type=cli.existing_dir_type, help="default: cdk.out"
    )
    out: Path = parser.parse_args(argv).assembly
    manifest_file = out / "manifest.json"
    if not manifest_file.is_file():
        raise OperationError(f"no cloud assembly in {out}/ (run 'make synth ENV=all' first)")
    table = Table(title=f"Cloud assembly {out}/")
    for column in ("stack", "depends on", "resources", "by type", "termination protection"):
        table.add_column(column)
    for row in stack_rows(out, read_json(manifest_file)):
        table.add_row(*row)
    Console(width=200).print(table)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
