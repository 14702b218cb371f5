"""`python scripts/invoke/invoke_newsletter_v2.py --env dev --client-id lai_weekly`.

Optional: --run-date YYYY-MM-DD (default: today, UTC).
"""

from vectora_core.naming import Function
from vectora_ops import cli
from vectora_ops.invoke import invoke_main

if __name__ == "__main__":
    cli.run(lambda argv: invoke_main(Function.NEWSLETTER, argv))
