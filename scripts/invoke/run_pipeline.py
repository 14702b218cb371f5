"""`python scripts/invoke/run_pipeline.py --env dev --client-id lai_weekly`: the three functions in order."""

import sys

from vectora_core.pipeline.invoke import run_pipeline_main

if __name__ == "__main__":
    sys.exit(run_pipeline_main())
