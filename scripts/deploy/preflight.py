"""Is this account ready for the environment? Read-only checks before a first deploy and before
each promotion (``make preflight ENV=stage``).

    python scripts/deploy/preflight.py --env stage [--assembly cdk.out] [--invoke]

Reads, never changes, the account the credentials reach (``AWS_ENDPOINT_URL``, else the local AWS
when it runs, else boto3's default credentials): who and where, the CDK bootstrap stack against
what the cloud assembly requires (a synth of the environment into a temporary folder, or
``--assembly DIR``), every bucket name, Bedrock access to the configured profile and model, the
PubMed key parameter, the alarm topic's subscriptions, the Lambda concurrency quota. ``--invoke``
adds one Converse call of a few tokens. Prints one row per check (✓/✗/–, evidence, fix).
Exit status: 0 ready, 1 not ready (one error line naming the failed checks), 2 bad command line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

# The checkout's root: the local AWS's settings (local_aws, a package of the checkout, not installed)
# say where the emulator listens.
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

from vectora_ops import cli as _cli
from vectora_ops.checklist.context import synthesized
from vectora_ops.errors import OperationError
from vectora_ops.preflight import failures, open_context, run_checks
from vectora_ops.preflight.report import print_report

# The bootstrap requirement does not depend on who the alarms notify; stage and prod need someone
# to synthesize at all.
PLACEHOLDER_EMAILS = "alarms@example.com"


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("preflight.py", "Read-only checks: is this account ready for the environment?")
    p.add_argument(
        "--assembly",
        metavar="DIR",
        type=_cli.existing_dir_type,
        help="the cloud assembly to deploy (default: synthesize the environment)",
    )
    p.add_argument(
        "--invoke", action="store_true", help="also send one tiny Converse request to the configured model"
    )
    args = p.parse_args(argv)
    ctx = open_context(args.env, args.assembly, invoke=args.invoke)
    with ExitStack() as stack:
        if ctx.assembly is None:
            try:
                ctx.assembly = stack.enter_context(synthesized(args.env, PLACEHOLDER_EMAILS))
            except OperationError as err:
                ctx.assembly_error = str(err)
        rows = run_checks(ctx)
    print_report(args.env, rows, ctx.where)
    failed = failures(rows)
    if failed:
        raise OperationError(f"not ready: {len(failed)} check(s) failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    _cli.run(main)
