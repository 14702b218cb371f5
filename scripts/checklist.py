"""The environment checklist: every item a program can check, as a table (``make checklist ENV=dev``).

    python scripts/checklist.py --env dev [--assembly cdk.out] [--alarm-emails ops@example.com]

Checks the environment's templates (synthesized with the pinned CDK CLI into a temporary folder,
or read from ``--assembly DIR``, e.g. an ``-c env=all`` cdk.out) and, when the environment is
reachable (``AWS_ENDPOINT_URL``, the local AWS on its port, or boto3's default credentials), what
is deployed there; it only reads. Prints one row per item: id and wording, ✓/✗/–, one line of
evidence, the tests that enforce it. Exit status 1 when an item is ✗ (one error line naming them),
0 otherwise; – is an item not checked here (the environment not reachable, or a record a person
makes: its row says where it lives).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

# The checkout's root: the local AWS's settings (local_aws, a package of the checkout, not installed)
# say where the emulator listens.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from vectora_ops import cli as _cli
from vectora_ops.checklist import run_items
from vectora_ops.checklist.context import Context, connect, load_templates, synthesized
from vectora_ops.checklist.report import counts, failures, print_table
from vectora_ops.errors import OperationError


def main(argv: Sequence[str] | None = None) -> int:
    p = _cli.parser("checklist.py", "The environment checklist: templates and deployed state, item by item.")
    p.add_argument(
        "--assembly", metavar="DIR", help="read the templates from this cloud assembly (default: synthesize)"
    )
    p.add_argument(
        "--alarm-emails",
        metavar="EMAILS",
        help="stage/prod synth: who the alarms notify, comma-separated (default: cdk.json's context)",
    )
    args = p.parse_args(argv)
    with ExitStack() as stack:
        if args.assembly is not None and not Path(args.assembly).is_dir():
            raise OperationError(
                f"--assembly {args.assembly!r} is not a folder (a cloud assembly, e.g. cdk.out)"
            )
        folder = (
            Path(args.assembly)
            if args.assembly
            else stack.enter_context(synthesized(args.env, args.alarm_emails))
        )
        templates = load_templates(folder, args.env)
        deployed, where = connect(args.env)
        rows = run_items(Context(args.env, templates, deployed, where))
    print_table(args.env, rows, where)
    print(counts(rows))
    failed = failures(rows)
    if failed:
        raise OperationError(f"{len(failed)} item(s) failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    _cli.run(main)
