"""`python scripts/deploy/takeover.py --env dev|stage [--execute|--undo --approve WHO] [--dry-run]`:
take over an environment the team runs from plain templates (see vectora_ops.takeover and
docs/takeover.md). Without --execute or --undo: the read-only plan, exit 1 while a blocker remains."""

from pathlib import Path

from vectora_ops import cli
from vectora_ops.takeover.cli import main

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    cli.run(lambda argv: main(argv, root=ROOT))
