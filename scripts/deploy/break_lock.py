"""`python scripts/deploy/break_lock.py --env stage --reason "..."`: remove a stale lock, audited."""

from vectora_ops import cli
from vectora_ops.promotion.cli import break_lock_main

if __name__ == "__main__":
    cli.run(break_lock_main)
