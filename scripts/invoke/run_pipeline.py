"""`python scripts/invoke/run_pipeline.py --env dev --client-id lai_weekly`: the three functions in order."""

from vectora_ops import cli
from vectora_ops.invoke import run_pipeline_main

if __name__ == "__main__":
    cli.run(run_pipeline_main)
