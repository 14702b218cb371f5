"""What deploying this commit would change in the deployed environments: per stack, then one table.

    python scripts/deploy/diff_summary.py --env dev|stage|prod|all [--alarm-emails A[,B]]
        [--assembly DIR] [--no-cli-diff] [--markdown FILE]

1. The CDK CLI's own per-stack diff: ``cdk diff -c env=<env> [-c alarm_emails=...] --method=template``
   (with ``--assembly DIR``: ``cdk diff --app DIR``, an assembly synthesized beforehand);
   ``--no-cli-diff`` only synthesizes.
2. A summary built from the templates themselves, not from the CLI's text: for every stack of the
   environment(s), the template CloudFormation holds (GetTemplate) against the synthesized one,
   resource by resource (logical id): added, changed, removed, and a flag for what touches IAM or
   security (roles and policies, resource policies, public access, encryption, KMS, security
   groups, Lambda permissions). A stack not deployed yet counts as all added. CDK's metadata is
   left out (each resource's ``Metadata``, where the checkov skips live, and the
   ``AWS::CDK::Metadata`` resource): CloudFormation changes nothing for it.
3. The same table as Markdown in ``--markdown FILE``, else appended to ``$GITHUB_STEP_SUMMARY``
   when that is set (a GitHub job summary).

Exit status (``cdk diff --fail`` style, usable in CI): 0 when nothing differs, 1 when something
does (or the diff could not be made: the CLI failed, AWS refused), 2 when the command line is wrong.
AWS access is the usual one (profile, role, ``AWS_ENDPOINT_URL`` for the local AWS).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from vectora_core.environments import ENVIRONMENTS
from vectora_core.naming import ENV_NAMES, StackComponent, resource_name
from vectora_ops import cli as _cli
from vectora_ops.cdk_cli import cdk_cli_env, node_bin
from vectora_ops.cloud_assembly import stack_artifacts
from vectora_ops.cloudformation import deployed_template
from vectora_ops.errors import OperationError, UsageError
from vectora_ops.sessions import new_session
from vectora_ops.template_diff import StackSummary, compare

REPO_ROOT: Final = Path(__file__).resolve().parents[2]

# The app's own words (stacks/context.py, not imported: the stacks package loads aws_cdk).
ALL_ENVS: Final = "all"
ALARM_EMAILS_FLAG: Final = "alarm_emails"
CDK_BIN: Final = node_bin(REPO_ROOT) / "cdk"
CDK_TIMEOUT_S: Final = 1800
STEP_SUMMARY_ENV: Final = "GITHUB_STEP_SUMMARY"


# -- the synthesized side --------------------------------------------------------------------------
def stack_envs() -> dict[str, str]:
    """Stack name -> environment, for every stack the app can build."""
    return {resource_name(component, env): env for env in ENV_NAMES for component in StackComponent}


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    env: str
    region: str
    template: dict[str, Any]


def synthesized_stacks(assembly: Path, env: str) -> list[SynthesizedStack]:
    envs = stack_envs()
    found = [
        SynthesizedStack(name, envs[name], stack.region, stack.template())
        for name, stack in stack_artifacts(assembly).items()
        if envs.get(name) in _selected(env)
    ]
    if not found:
        raise OperationError(f"{assembly}/ holds no stack of {env}")
    order = list(envs)
    return sorted(found, key=lambda s: order.index(s.name))


def _selected(env: str) -> tuple[str, ...]:
    return ENV_NAMES if env == ALL_ENVS else (env,)


def run_cli(args: argparse.Namespace, output: Path) -> None:
    """The CLI's own diff (or, with --no-cli-diff, a synth) of the environment(s) into ``output``."""
    if args.assembly is not None:
        if args.no_cli_diff:
            return
        command = ["diff", "--app", str(args.assembly), "--method=template"]
    else:
        context = ["-c", f"env={args.env}"]
        if args.alarm_emails:
            context += ["-c", f"{ALARM_EMAILS_FLAG}={args.alarm_emails}"]
        verb = ["synth", "--quiet"] if args.no_cli_diff else ["diff", "--method=template"]
        command = [*verb, *context, "--output", str(output)]
    if not CDK_BIN.exists():
        raise OperationError(f"no CDK CLI at {CDK_BIN.relative_to(REPO_ROOT)}: run make install first")
    try:
        result = subprocess.run(  # noqa: S603  # the pinned CLI, arguments built above
            [str(CDK_BIN), *command],
            cwd=REPO_ROOT,
            env={**os.environ, **cdk_cli_env(REPO_ROOT)},
            timeout=CDK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OperationError(f"cdk {command[0]} did not finish within {CDK_TIMEOUT_S} s") from None
    if result.returncode != 0:
        raise OperationError(f"cdk {command[0]} exited with status {result.returncode} (its output is above)")


# -- output ----------------------------------------------------------------------------------------
COLUMNS: Final = ("environment", "stack", "added", "changed", "removed", "IAM / security")


def rows(summaries: Sequence[StackSummary]) -> list[tuple[str, ...]]:
    return [
        (
            s.env,
            s.stack if s.deployed else f"{s.stack} (not deployed)",
            str(len(s.of_kind("added"))),
            str(len(s.of_kind("changed")))
            + (f" + {', '.join(s.other_sections)}" if s.other_sections else ""),
            str(len(s.of_kind("removed"))),
            ", ".join(s.flags()) or "-",
        )
        for s in summaries
    ]


def verdict(summaries: Sequence[StackSummary]) -> str:
    differing = [s for s in summaries if s.differs]
    if not differing:
        return f"no difference: the {len(summaries)} stack(s) deployed are what this commit synthesizes"
    flagged = sum(1 for s in differing if s.flags())
    return f"{len(differing)} of {len(summaries)} stack(s) differ" + (
        f", {flagged} with IAM / security changes to review" if flagged else ""
    )


def details(summary: StackSummary) -> list[str]:
    lines = []
    for kind in ("added", "changed", "removed"):
        changes = summary.of_kind(kind)
        if changes and (kind != "added" or summary.deployed):
            lines.append(f"{kind}: " + "; ".join(c.describe() for c in changes))
        elif changes:
            lines.append(f"new stack: {len(changes)} resources")
    flagged = [c.logical_id for c in summary.changes if c.flags]
    if flagged and summary.deployed:
        lines.append(f"IAM / security: {', '.join(flagged)}")
    return lines


def print_table(summaries: Sequence[StackSummary]) -> None:
    table = Table(title="Template diff: deployed vs this commit")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows(summaries):
        table.add_row(*row)
    console = Console(width=200)
    console.print(table)
    for summary in summaries:
        for line in details(summary):
            console.print(f"{summary.stack}: {line}", highlight=False, markup=False)
    console.print(verdict(summaries), highlight=False, markup=False)


def markdown(summaries: Sequence[StackSummary]) -> str:
    lines = [
        "### Template diff: deployed vs this commit",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(row) + " |" for row in rows(summaries)),
        "",
        f"**{verdict(summaries)}**",
        "",
    ]
    for summary in summaries:
        lines += [f"- `{summary.stack}`: {line}" for line in details(summary)]
    return "\n".join(lines) + "\n"


def write_markdown(text: str, target: Path | None) -> None:
    if target is not None:
        target.write_text(text)
    elif os.environ.get(STEP_SUMMARY_ENV):
        with Path(os.environ[STEP_SUMMARY_ENV]).open("a") as summary:
            summary.write(text)


# -- command line ----------------------------------------------------------------------------------
def _env(value: str) -> str:
    if value != ALL_ENVS and value not in ENV_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown environment {value!r}: allowed values are {', '.join(ENV_NAMES)} or {ALL_ENVS}"
        )
    return value


def _assembly(value: str) -> Path:
    path = Path(value)
    if not (path / "manifest.json").is_file():
        raise argparse.ArgumentTypeError(f"{value} is not a cloud assembly (no manifest.json)")
    return path


def _markdown_file(value: str) -> Path:
    path = Path(value)
    if not path.parent.is_dir() or path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: not a file in an existing folder")
    return path


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = _cli.parser("diff_summary.py", "Diff of the deployed environment(s) against this commit.", env=False)
    p.add_argument("--env", required=True, type=_env, help=f"{', '.join(ENV_NAMES)} or {ALL_ENVS}")
    p.add_argument("--alarm-emails", metavar="A[,B]", help="stage/prod alarm subscribers (else cdk.json)")
    p.add_argument("--assembly", type=_assembly, metavar="DIR", help="an assembly already synthesized")
    p.add_argument("--no-cli-diff", action="store_true", help="skip the CLI's own diff (summary only)")
    p.add_argument(
        "--markdown", type=_markdown_file, metavar="FILE", help=f"Markdown here (else ${STEP_SUMMARY_ENV})"
    )
    args = p.parse_args(argv)
    if args.assembly is not None and args.alarm_emails:
        raise UsageError("--alarm-emails is for a synth: an --assembly is synthesized already")
    if args.assembly is None:
        _check_subscribers(args.env, args.alarm_emails)
    return args


def _check_subscribers(env: str, flag: str | None) -> None:
    """An environment with alarms synthesizes only with subscribers: say so before any synth (the app
    then checks the addresses themselves)."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text()).get("context", {}).get(ALARM_EMAILS_FLAG)
    for name in _selected(env):
        given = flag or (context.get(name) if isinstance(context, Mapping) else context)
        if ENVIRONMENTS[name].alarms_enabled and not given:  # type: ignore[index]  # a known env
            raise UsageError(
                f"{name} has alarms and nobody to notify: pass --alarm-emails ops@example.com[,b@x.com] "
                f"(or set {ALARM_EMAILS_FLAG} in cdk.json's context)"
            )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="vectora-diff-") as scratch:
        assembly = args.assembly or Path(scratch)
        run_cli(args, assembly)
        summaries = []
        clients: dict[str, Any] = {}
        for stack in synthesized_stacks(assembly, args.env):
            if stack.region not in clients:
                clients[stack.region] = new_session().client("cloudformation", region_name=stack.region)
            deployed = deployed_template(clients[stack.region], stack.name, missing_ok=True)
            summaries.append(compare(stack.env, stack.name, stack.template, deployed))
    print_table(summaries)
    write_markdown(markdown(summaries), args.markdown)
    return _cli.EXIT_FAILED if any(s.differs for s in summaries) else _cli.EXIT_OK


if __name__ == "__main__":
    _cli.run(main)
