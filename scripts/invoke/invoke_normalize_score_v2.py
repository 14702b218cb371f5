"""`python scripts/invoke/invoke_normalize_score_v2.py --env dev --client-id lai_weekly`.

Optional: --run-date YYYY-MM-DD (default: today, UTC).
"""

import sys

from vectora_core.naming import Function
from vectora_core.pipeline.invoke import invoke_main

if __name__ == "__main__":
    sys.exit(invoke_main(Function.NORMALIZE_SCORE))
