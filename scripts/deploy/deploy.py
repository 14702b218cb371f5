"""`python scripts/deploy/deploy.py --env dev|stage [--dry-run]`: the guarded deploy behind deploy_lambda.sh
(see vectora_ops.promotion.deploy and docs/promotion.md)."""

from pathlib import Path

from vectora_ops import cli
from vectora_ops.promotion.cli import deploy_main

ROOT = Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    cli.run(lambda argv: deploy_main(argv, root=ROOT))
