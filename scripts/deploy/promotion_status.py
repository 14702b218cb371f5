"""`python scripts/deploy/promotion_status.py --env prod`: last promotion, watch window, freeze."""

from vectora_ops import cli
from vectora_ops.promotion.cli import status_main

if __name__ == "__main__":
    cli.run(status_main)
