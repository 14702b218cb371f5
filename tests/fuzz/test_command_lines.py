"""Every operations script, driven with generated command lines (hypothesis), in two AWS worlds.

For each script found under ``scripts/`` (``harness.discover_scripts``: a script added later is
fuzzed too) and each world (moto's in-process AWS with every environment's buckets; no AWS at all),
hypothesis builds command lines from the script's own parser (``strategies.command_lines``) and
runs the script in this process. Whatever the command line:

- no exception but ``SystemExit`` escapes, and the exit status is 0, 1 or 2;
- a command line that breaks a documented rule (unknown flag, missing argument, a value the rule
  rejects) exits 2, and an exit 2 changed nothing: no file, no S3 object (nothing attempted, so
  nothing audited);
- a failure (exit 1 or 2) says so in exactly one printable error line on stderr (the config
  scripts: one line per problem found, then that line), and no output holds a traceback;
- nothing changes outside the sandbox (the repository, the sandbox's neighbours, ``/``);
- every S3 object written is under its bucket's prefixes, a safe key, in an environment the
  command line named.

"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.harness import (
    CASES,
    Outcome,
    Sandbox,
    discover_scripts,
    no_spawn,
    outside_changes,
    parser_of,
    record,
    run_script,
    script_id,
)
from tests.fuzz.strategies import Case, CommandSpec, command_lines, free_command_lines
from tests.fuzz.worlds import MotoWorld, Objects, UnreachableWorld, key_problem

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
EXAMPLES = {"moto": 12, "no-aws": 6}
# A valid command line of these synthesizes the app or deploys (tens of seconds each): generated
# lines would take the tier past CI's budget. Their bad command lines have their own tests
# (tests/checklist/test_cli.py, tests/promotion/test_e2e_d_refusals.py, tests/preflight/test_cli.py,
# tests/takeover/test_takeover.py);
# the convention test (test_convention.py) still covers them.
HEAVY = frozenset(
    {"checklist.py", "deploy/promote.py", "deploy/deploy.py", "deploy/preflight.py", "deploy/takeover.py"}
)


def params() -> list[object]:
    return [
        pytest.param(path, world, id=f"{script_id(path)}-{world.name}")
        for path in discover_scripts()
        if script_id(path) not in HEAVY
        for world in (MotoWorld, UnreachableWorld)
    ]


# Their documented contract is one line per problem found (a config's every violation, with its
# field path), then the verdict: the verdict is the error line, each problem a line before it.
REPORTS_PROBLEMS = frozenset(
    {"config/validate_config.py", "config/publish_config.py", "config/migrate_config.py"}
)


def one_line_problem(stderr: str, reports_problems: bool) -> str | None:
    lines = stderr.splitlines()
    if not lines or (len(lines) != 1 and not reports_problems):
        return f"a failure must be one line on stderr, got {len(lines)}"
    if "error" not in lines[-1].lower():
        return "the (last) line on stderr does not say it is an error"
    if not all(line.strip() and line.isprintable() for line in lines):
        return "a line on stderr is empty or not printable"
    return None


@dataclass(frozen=True)
class Effects:
    """What a run changed: outside the sandbox (never allowed), inside it, in S3."""

    outside: list[str]
    box_changed: bool
    s3_changed: bool
    s3_problems: list[str]


def judge(case: Case, outcome: Outcome, effects: Effects, reports_problems: bool = False) -> list[str]:
    """Every property a run breaks (empty: all hold)."""
    problems = []
    if outcome.escaped is not None:
        problems.append(f"{type(outcome.escaped).__name__} escaped")
    if outcome.code not in (0, 1, 2):
        problems.append(f"exit status {outcome.code}, not 0, 1 or 2")
    if case.wrong and outcome.code != 2:
        problems.append(
            f"the command line is wrong ({'; '.join(case.reasons)}) but the exit status is {outcome.code}"
        )
    if outcome.code != 0 and outcome.escaped is None:
        problems += [p for p in [one_line_problem(outcome.stderr, reports_problems)] if p]
    if "Traceback (most recent call last)" in outcome.stdout + outcome.stderr:
        problems.append("a traceback was printed")
    if outcome.code == 2 and (effects.box_changed or effects.s3_changed):
        problems.append("exit 2 (nothing attempted) but a file or an S3 object changed")
    return problems + [f"outside the sandbox: {t}" for t in effects.outside] + effects.s3_problems


def s3_effects(before: Objects, after: Objects, case: Case) -> tuple[bool, list[str]]:
    written = [k for k in after if before.get(k) != after[k]]
    deleted = [k for k in before if k not in after]
    problems = [f"S3: wrote s3://{b}/{k}: {why}" for b, k in written if (why := key_problem(b, k, case.envs))]
    problems += [
        f"S3: deleted s3://{b}/{k}: {why}" for b, k in deleted if (why := key_problem(b, k, case.envs))
    ]
    return bool(written or deleted), problems


def name_of(path: Path, world: MotoWorld | UnreachableWorld) -> str:
    return f"{script_id(path)} [{world.name}]"


def check(path: Path, case: Case, sandbox: Sandbox, world: MotoWorld | UnreachableWorld) -> None:
    outside, box, objects = sandbox.outside_state(), sandbox.box_listing(), world.objects()
    try:
        outcome = record(name_of(path, world), run_script(path, case.argv, sandbox.cwd))
        s3_changed, s3_problems = s3_effects(objects, world.objects(), case)
        effects = Effects(
            outside_changes(outside, sandbox.outside_state()),
            sandbox.box_listing() != box,
            s3_changed,
            s3_problems,
        )
    finally:
        world.restore()
    if effects.box_changed:
        sandbox.reset()
    problems = judge(case, outcome, effects, script_id(path) in REPORTS_PROBLEMS)
    assert not problems, f"argv={list(case.argv)!r}\n" + "\n".join(problems) + "\n" + outcome.describe()


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("path", "world_class"), params())
def test_generated_command_lines(path: Path, world_class: type, sandbox: Sandbox) -> None:
    with world_class() as world, no_spawn():
        parser = parser_of(path, sandbox.cwd)
        strategy = command_lines(CommandSpec.of(parser), sandbox) if parser else free_command_lines(sandbox)

        @settings(
            max_examples=max(1, int(EXAMPLES[world.name] * SCALE)),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        )
        @given(case=strategy)
        def property_(case: Case) -> None:
            check(path, case, sandbox, world)

        property_()
    # The generator must reach past the parser: some cases are requests the script acts on.
    codes = CASES[name_of(path, world)]
    assert codes[0] + codes[1] > 0, f"every case was a bad command line: {dict(codes)}"
