"""`python scripts/deploy/break_lock.py --env stage --reason "..."`: remove a stale lock, audited.

The audit record is written before the lock is deleted: if it cannot be written, the lock stays and
the command fails in one line (exit 1).
"""

from vectora_ops import cli
from vectora_ops.promotion.cli import break_lock_main

if __name__ == "__main__":
    cli.run(break_lock_main)
