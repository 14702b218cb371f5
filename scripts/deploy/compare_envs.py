"""`python scripts/deploy/compare_envs.py dev stage`: drift report between two environments.

Exit 0 when code, layers, client configs and canonical files are identical, 1 otherwise.
"""

from vectora_ops import cli
from vectora_ops.promotion.cli import compare_main

if __name__ == "__main__":
    cli.run(compare_main)
