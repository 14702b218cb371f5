"""``scripts/deploy/takeover.py``: the plan (default, read-only), ``--execute``, ``--undo``."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from vectora_ops import cli
from vectora_ops.environment import Environment
from vectora_ops.errors import UsageError
from vectora_ops.promotion.cli import alarm_emails, text_type
from vectora_ops.sessions import new_session
from vectora_ops.takeover import declared as declared_stacks
from vectora_ops.takeover.inventory import Reader
from vectora_ops.takeover.plan import Plan, Verdict, make_plan


def parser() -> cli.OneLineParser:
    p = cli.parser(
        "takeover.py",
        "Take over an environment the team runs from plain templates: the plan (read-only, the default), "
        "--execute it, or --undo it.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--execute", action="store_true", help="carry the plan out (needs --approve)")
    mode.add_argument("--undo", action="store_true", help="put the old environment back from its archive")
    p.add_argument("--approve", metavar="WHO", type=text_type("--approve"), help="who approves (audited)")
    p.add_argument(
        "--dry-run", action="store_true", help="with --execute/--undo: print the steps, change nothing"
    )
    p.add_argument(
        "--assembly",
        metavar="DIR",
        type=cli.existing_dir_type,
        help="a cloud assembly synthesized beforehand (cdk synth -c env=all); default: synth now",
    )
    p.add_argument("--alarm-emails", metavar="A,B", help="alarm subscribers for the synth of stage and prod")
    return p


def render(plan: Plan) -> None:
    print(f"takeover plan for {plan.env}")
    for verdict in Verdict:  # blockers first
        items = sorted((i for i in plan.items if i.verdict is verdict), key=lambda i: (i.kind, i.name))
        if not items:
            continue
        print(f"\n{verdict} ({len(items)})")
        for item in items:
            print(f"  {item.kind:<10} {item.name}: {item.how}")
    for note in plan.notes:
        print(f"\nnote: {note}")
    print(f"\ncut-over window: {plan.cut_over}")
    if plan.blockers:
        print(f"{len(plan.blockers)} blocker(s): fix them, then plan again")
    elif plan.nothing_to_do:
        print("nothing left to do: the environment is this project's")
    else:
        print(f"ready: python scripts/deploy/takeover.py --env {plan.env} --execute --approve <who>")


def main(argv: Sequence[str] | None = None, *, root: Path) -> int:
    args = parser().parse_args(argv)
    if (args.execute or args.undo) and not args.approve:
        raise UsageError(f"--{'execute' if args.execute else 'undo'} needs --approve WHO (audited)")
    if args.dry_run and not (args.execute or args.undo):
        raise UsageError("--dry-run goes with --execute or --undo (the plan alone changes nothing)")
    if args.undo:
        from vectora_ops.takeover.undo import undo_main  # noqa: PLC0415  # only --undo needs it

        return undo_main(args, new_session())
    emails = alarm_emails(args.alarm_emails, root) if args.env != "dev" and not args.assembly else None
    work = Path(tempfile.mkdtemp(prefix="vectora-takeover-"))
    try:
        session = new_session()
        if args.assembly:
            declared = declared_stacks.load(args.env, args.assembly)
        else:
            print(
                f"synthesizing the project's stacks (cdk synth -c env=all) for {args.env}...", file=sys.stderr
            )
            declared = declared_stacks.synthesize(args.env, root, work, emails)
        account = Reader(args.env, session).read()
        # The environment's clients: the config bucket is read by name, and a bucket of that name in
        # another account is refused (ExpectedBucketOwner), never planned from nor changed.
        clients = Environment(args.env, session)
        plan = make_plan(account, declared, root, datetime.now(UTC).date(), clients.s3)
        render(plan)
        if not args.execute:
            return cli.EXIT_FAILED if plan.blockers else cli.EXIT_OK
        from vectora_ops.takeover.execute import execute_main  # noqa: PLC0415  # only --execute needs it

        return execute_main(args, root, plan, declared, account, clients)
    finally:
        shutil.rmtree(work, ignore_errors=True)
