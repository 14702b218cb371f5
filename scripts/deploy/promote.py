"""`python scripts/deploy/promote.py SOURCE TARGET [--client ID] [--validate|--approve [WHO]] [--dry-run]`.

The implementation behind promote_dev_to_stage.sh and promote_stage_to_prod.sh (see
vectora_ops.promotion.promote and docs/promotion.md).
"""

from pathlib import Path

from vectora_ops import cli
from vectora_ops.promotion.cli import promote_main

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    cli.run(lambda argv: promote_main(argv, root=ROOT))
