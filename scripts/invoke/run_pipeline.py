"""`python scripts/invoke/run_pipeline.py --env dev --client-id lai_weekly`: one client's run of the
state machine vectora-inbox-pipeline-{env}, followed state by state, then where the newsletter is;
`--no-wait` prints the execution ARN instead. Optional: --run-date YYYY-MM-DD (default: today, UTC)."""

from vectora_ops import cli
from vectora_ops.pipeline_runs import run_pipeline_main

if __name__ == "__main__":
    cli.run(run_pipeline_main)
