"""Print what a synthesized cloud assembly holds: stacks, dependencies, resources by type.

Usage: python scripts/deploy/synth_summary.py [CDK_OUT]   (default: cdk.out)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "cdk.out")
    manifest_file = out / "manifest.json"
    if not manifest_file.is_file():
        print(f"error: no cloud assembly in {out}/ (run 'make synth ENV=all' first)", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_file.read_text())
    table = Table(title=f"Cloud assembly {out}/")
    for column in ("stack", "depends on", "resources", "by type", "termination protection"):
        table.add_column(column)
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((out / artifact["properties"]["templateFile"]).read_text())
        types = Counter(r["Type"].removeprefix("AWS::") for r in template["Resources"].values())
        table.add_row(
            name,
            ", ".join(d for d in artifact.get("dependencies", []) if not d.endswith(".assets")) or "-",
            str(sum(types.values())),
            ", ".join(f"{t} x{n}" for t, n in sorted(types.items())),
            "on" if artifact["properties"].get("terminationProtection") else "off",
        )
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
