"""The mains of ``scripts/deploy/*``: command lines, progress on stderr, tables and results on stdout.

Exit status (``vectora_ops.cli``): 0 done, 1 refused or failed (audited), 2 bad command line.
A promotion in the wrong direction is a refusal (1, audited), not a command-line error: its flags
parse fine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from vectora_core.naming import REINFORCED_PARAMETER, StackComponent
from vectora_ops import cli
from vectora_ops.audit import operator
from vectora_ops.cli import client_id_type
from vectora_ops.environment import Environment
from vectora_ops.errors import UsageError
from vectora_ops.operation.lock import Location, LockInfo, break_lock
from vectora_ops.operation.records import iso, latest_deployment, write_audit
from vectora_ops.operation.state import read_state
from vectora_ops.promotion.deploy import GuardedDeploy
from vectora_ops.promotion.gates import GateRefused, person
from vectora_ops.promotion.plan import compare
from vectora_ops.promotion.promote import Outcome, Promotion, Request
from vectora_ops.promotion.render import gates_table, plan_tables, rows_table
from vectora_ops.promotion.watch import current_watch, human

ALARM_EMAILS_ENV = "VECTORA_ALARM_EMAILS"


def console() -> Console:
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)


def text_type(what: str) -> Any:
    def check(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"{what} must not be empty")
        return " ".join(value.split())

    return check


def plan_sha_type(value: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{8,64}", value):
        raise argparse.ArgumentTypeError(f"--plan {value!r}: the plan's sha256 (at least 8 hex digits)")
    return value.lower()


def who(flag: str | bool | None, root: Path) -> str | None:
    """None if the flag was not given; else the person named, or (flag alone: ``True``) the default
    one; ``""`` if nobody can be determined (the gate then refuses)."""
    if flag is None:
        return None
    return person(flag if isinstance(flag, str) else None, root)


# --- promote ---------------------------------------------------------------------------------------
def promote_parser() -> argparse.ArgumentParser:
    p = cli.parser(
        "promote", "Promote an environment's code, layers and configs into the next one.", env=False
    )
    p.add_argument("source", type=cli.env_type, help="dev or stage")
    p.add_argument("target", type=cli.env_type, help="stage or prod")
    p.add_argument("--client", type=client_id_type, help="promote this client's config only (default: all)")
    people = {  # a flag alone records the default person (``who``)
        "--validate": "record the business validation "
        "(WHO defaults to VECTORA_APPROVER, git user.name, $USER)",
        "--approve": "record the formal approval (required into prod; same default as --validate)",
    }
    for flag, help_text in people.items():
        p.add_argument(flag, nargs="?", const=True, type=text_type(flag), metavar="WHO", help=help_text)
    p.add_argument(
        "--hotfix",
        type=text_type("--hotfix"),
        metavar="REASON",
        help="urgent fix: skip the stability gate and the post-promotion freeze (never the approval)",
    )
    p.add_argument(
        "--plan",
        type=plan_sha_type,
        metavar="SHA256",
        help="refuse unless the plan is still the one reviewed (its sha256, from --dry-run)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and the gates; change nothing")
    return p  # fmt: skip


def promote_main(argv: Sequence[str] | None = None, *, root: Path) -> int:
    args = promote_parser().parse_args(argv)
    request = Request(
        source=args.source, target=args.target, client=args.client,
        validated_by=who(args.validate, root), approved_by=who(args.approve, root),
        hotfix=args.hotfix, dry_run=args.dry_run, plan_sha256=args.plan,
    )  # fmt: skip
    for label, name in (("business validation", request.validated_by), ("approval", request.approved_by)):
        if name is not None:
            print(f"{label} recorded for: {name or '(nobody: no name could be determined)'}", file=sys.stderr)
    refused: GateRefused | None = None
    with cli.progress_display() as progress:
        promotion = Promotion(request, root, progress=progress)
        try:
            outcome = promotion.run()
        except GateRefused as err:
            refused = err
    out = console()
    if refused is not None:
        out.print(gates_table(refused.gates))
        raise refused
    return _report_promotion(out, outcome)


def _report_promotion(out: Console, outcome: Outcome) -> int:
    if outcome.plan is not None:
        for table in plan_tables(outcome.plan):
            out.print(table)
        out.print(f"plan sha256: {outcome.plan.sha256}")
    out.print(gates_table(outcome.gates))
    for warning in outcome.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(f"audit: {outcome.audit}", file=sys.stderr)
    if outcome.result.startswith("dry run"):
        failed = [g for g in outcome.gates if not g.passed]
        if failed:
            cli.fail(f"dry run: the promotion would be refused: gate {failed[0].line()}")
        print("dry run: nothing was changed")
        return 0
    plan = outcome.plan
    assert plan is not None  # noqa: S101  # a done promotion has a plan
    print(f"promoted {plan.source_env} -> {plan.target_env} ({plan.commit}); record: {outcome.record}")
    return 0


# --- deploy ------------------------------------------------------------------------------------------
def alarm_emails(flag: str | None, root: Path) -> str | None:
    """``--alarm-emails``, else ``VECTORA_ALARM_EMAILS``, else cdk.json's context (None: the app reads it)."""
    value = flag or os.environ.get(ALARM_EMAILS_ENV, "").strip()
    if value:
        return value
    try:
        context = json.loads((root / "cdk.json").read_text()).get("context", {})
    except (OSError, ValueError):
        context = {}
    if context.get("alarm_emails"):
        return None
    raise UsageError(
        "stage and prod alarms need subscribers (the assembly holds every environment): pass "
        f"--alarm-emails ops@example.com[,other@example.com], set {ALARM_EMAILS_ENV}, "
        "or put alarm_emails in cdk.json's context"
    )


def deploy_main(argv: Sequence[str] | None = None, *, root: Path) -> int:
    p = cli.parser("deploy_lambda.sh", "Guarded deploy: snapshot, deploy the commit's assembly, smoke test, "
                   "roll back on failure.")  # fmt: skip
    p.add_argument(
        "--dry-run", action="store_true", help="synthesize and print the per-stack changes; change nothing"
    )
    p.add_argument(
        "--alarm-emails", metavar="A,B", help=f"alarm subscribers (else {ALARM_EMAILS_ENV}, else cdk.json)"
    )
    args = p.parse_args(argv)
    emails = alarm_emails(args.alarm_emails, root)
    with cli.progress_display() as progress:
        outcome = GuardedDeploy(args.env, root, emails, dry_run=args.dry_run, progress=progress).run()
    for warning in outcome.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(f"audit: {outcome.audit}", file=sys.stderr)
    if outcome.diffs:
        for name, diff in sorted(outcome.diffs.items()):
            print(f"{name}: {diff.summary()}")
        print("dry run: nothing was changed")
        return 0
    print(f"deployed {args.env} at {outcome.commit}; record: {outcome.record}")
    return 0


# --- compare, status, break-lock ------------------------------------------------------------------------
def compare_main(argv: Sequence[str] | None = None) -> int:
    what = "Drift report: code, layers, configs and canonical files of two environments."
    p = cli.parser("compare_envs.py", what, env=False)
    p.add_argument("first", type=cli.env_type)
    p.add_argument("second", type=cli.env_type)
    args = p.parse_args(argv)
    if args.first == args.second:
        raise UsageError(f"compare two different environments (got {args.first} twice)")
    a, b = Environment(args.first), Environment(args.second)
    rows = compare(read_state(a, stacks=False), read_state(b, stacks=False))
    commits = "; ".join(f"{c.env}: {_commit_of(c)}" for c in (a, b))
    title = f"{args.first} vs {args.second} (commits: {commits})"
    console().print(rows_table(title, rows, args.first, args.second))
    drift = [r for r in rows if r.change != "same"]
    if drift:
        print(f"{len(drift)} difference(s) between {args.first} and {args.second}")
        return 1
    print(f"{args.first} and {args.second} run the same code, layers, configs and canonical files")
    return 0


def _commit_of(clients: Environment) -> str:
    latest = latest_deployment(clients) if clients.bucket_exists(clients.backups_bucket) else None
    return f"{(latest[1].commit or '?')[:12]} ({latest[1].via})" if latest else "no record"


def status_main(argv: Sequence[str] | None = None) -> int:
    args = cli.parser(
        "promotion_status.py", "The last promotion into an environment and its watch window."
    ).parse_args(argv)
    clients = Environment(args.env)
    now = datetime.now(UTC)
    latest = latest_deployment(clients) if clients.bucket_exists(clients.backups_bucket) else None
    if latest is None:
        print(f"{args.env}: no deployment record")
        return 0
    record = latest[1]
    when = f"{record.commit} at {record.finished_at}"
    print(f"{args.env}: last deployment {record.via} of {when} by {record.operator}")
    hours = clients.config.post_promotion_watch_hours
    if not hours:
        print(f"{args.env} has no post-promotion watch")
        return 0
    watch = current_watch(clients)
    if watch is None:
        print(f"watch: none recorded yet ({hours} h after each promotion)")
        return 0
    origin = (watch.record.promotion or {}).get("from")
    print(f"last promotion: from {origin}, {watch.record.commit}, finished {watch.record.finished_at}")
    if watch.active(now):
        print(
            f"watch: ACTIVE until {watch.record.watch_until} ({human(watch.left(now))} left): "
            "reinforced alarms armed"
        )
        print(f"freeze: promotions into {args.env} refused until then (--hotfix aside)")
    else:
        print(f"watch: ended at {watch.record.watch_until}; freeze: none")
    print(f"deployed {REINFORCED_PARAMETER}: {_parameter(clients)}")
    return 0


def _parameter(clients: Environment) -> str:
    stacks = clients.cloudformation.describe_stacks(StackName=clients.name(StackComponent.RUNTIME))["Stacks"]
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in stacks[0].get("Parameters", [])}
    value = values.get(REINFORCED_PARAMETER)
    if value in (None, ""):
        return "absent"
    return f"{value} ({iso(datetime.fromtimestamp(int(value), UTC))})"


def break_lock_main(argv: Sequence[str] | None = None) -> int:
    p = cli.parser("break_lock.py", "Break an environment's stale lock (audited).")
    p.add_argument("--reason", required=True, type=text_type("--reason"), help="why the lock is stale")
    args = p.parse_args(argv)
    clients = Environment(args.env)
    source = clients.config.promoted_from
    started = datetime.now(UTC)

    def record(location: Location, info: LockInfo) -> str:
        entry = {
            "kind": "break-lock", "env": args.env, "operator": operator(), "reason": args.reason,
            "lock": info.__dict__, "location": location.uri, "time": iso(started),
        }  # fmt: skip
        return write_audit(location.clients, "locks", started, f"{args.env}_break", entry)

    # The record is written before the lock is deleted: see lock.break_lock.
    broken = break_lock(clients, Environment(source) if source else None, record)
    if broken is None:
        print(f"{args.env} is not locked")
        return 0
    _location, info, audit = broken
    held = info.describe() if info.problem else f"held by {info.describe()}"
    print(f"broke the lock of {args.env} {held}; audit: {audit}")
    return 0
