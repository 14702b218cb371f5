"""`python scripts/invoke/list_runs.py --env dev [--limit 10]`: the state machine's last runs
(start, status, duration, items, newsletter, execution name), newest first."""

from vectora_ops import cli
from vectora_ops.pipeline_runs import list_runs_main

if __name__ == "__main__":
    cli.run(list_runs_main)
