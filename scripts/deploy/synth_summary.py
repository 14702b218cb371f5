"""Print what a synthesized cloud assembly holds: stacks, dependencies, resources by type.

Usage: python scripts/deploy/synth_summary.py [CDK_OUT]   (default: cdk.out)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vectora_ops import cli
from vectora_ops.cloud_assembly import stack_artifacts
from vectora_ops.errors import OperationError, one_line


def stack_rows(out: Path) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, stack in stack_artifacts(out).items():
        try:
            types = Counter(r["Type"].removeprefix("AWS::") for r in stack.template()["Resources"].values())
        except (KeyError, TypeError, AttributeError) as err:
            raise OperationError(
                f"{name}'s template in {out}/ has no resource types ({one_line(err)})"
            ) from None
        rows.append(
            (
                name,
                ", ".join(stack.dependencies) or "-",
                str(sum(types.values())),
                ", ".join(f"{t} x{n}" for t, n in sorted(types.items())),
                "on" if stack.properties.get("terminationProtection") else "off",
            )
        )
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
    for row in stack_rows(out):
        table.add_row(*row)
    Console(width=200).print(table)
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
