"""The decision corpus: what IAM answers each request of the project's roles, as synthesized.

Every case is put to the local AWS's evaluator (``local_aws.iam.evaluator``, the pinned
``@cloud-copilot/iam-simulate``) with the identity policies of its role and the resource policy of
its target read out of the session's ``cdk synth -c env=all`` (tests/iam/world.py). The cases are
data: ``generated_cases.json`` (every permission of every role once allowed, and its near misses
denied; tests/iam/generate.py) and ``important_cases.yaml`` (what the code needs, the defects of
issue 22). All are evaluated once, in one batch (a few hundred answers in about a second); each
case is then one parametrized test, named by its id.
"""

from __future__ import annotations

from collections import Counter

import pytest

from local_aws.iam.evaluator import Decision
from tests.iam.corpus import Case, all_cases, decide, important_cases
from tests.iam.generate import ALLOWED, TABLE, dump, generate
from tests.iam.world import World, load_world
from tests.support.assembly import CloudAssembly
from vectora_core.naming import ENV_NAMES, SNAPSHOT_FUNCTION, Function, Pipeline, role_name

CASES = all_cases()
MIN_CASES = 300
ROLE_KINDS = (*Function, SNAPSHOT_FUNCTION, Pipeline.STATE_MACHINE, Pipeline.SCHEDULER)


@pytest.fixture(scope="module")
def world(assembly: CloudAssembly) -> World:
    return load_world(assembly)


@pytest.fixture(scope="module")
def decisions(world: World) -> dict[str, Decision]:
    return {case.id: decide(world, case) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decision(case: Case, decisions: dict[str, Decision]) -> None:
    decision = decisions[case.id]
    assert decision.allowed is case.allowed and decision.reason.startswith(case.expected), (
        f"{case.action} on {case.resource} by {case.role or case.principal} {dict(case.context)}: "
        f"expected {case.expected}, got {decision.reason} ({case.why})"
    )


def test_the_generated_table_is_the_one_of_this_synth(world: World) -> None:
    """A permission added to or taken from a role changes the table: regenerate it
    (``.venv/bin/python -m tests.iam.generate``) and review the diff."""
    assert dump(generate(world)) == TABLE.read_text(encoding="utf-8"), (
        "tests/iam/generated_cases.json is not this synth's table: run .venv/bin/python -m tests.iam.generate"
    )


def test_the_corpus_covers_every_role_of_every_environment(world: World) -> None:
    assert len(CASES) >= MIN_CASES
    assert len({c.id for c in CASES}) == len(CASES)
    expected_roles = {role_name(kind, env) for kind in ROLE_KINDS for env in ENV_NAMES}
    assert set(world.roles) == expected_roles  # no role of the app escapes the corpus
    allowed = Counter(c.role for c in CASES if c.allowed and c.role)
    denied = Counter(c.role for c in CASES if not c.allowed and c.role)
    for name in expected_roles:
        assert allowed[name] and denied[name], name
    # every statement of every role is exercised as allowed at least once
    for role in world.roles.values():
        sids = {str(s.get("Sid")) for s in role.statements()}
        exercised = {
            c.why.removeprefix("statement ").split(",")[0] for c in CASES if c.role == role.name and c.allowed
        }
        assert sids <= exercised, f"{role.name}: {sorted(sids - exercised)}"


def test_the_two_defects_of_issue_22_are_cases() -> None:
    ids = {c.id for c in important_cases()}
    for env in ENV_NAMES:
        assert f"important/{env}/snapshot/existence-of-config-by-listing-clients" in ids
        assert f"important/{env}/ingest/missing-config-is-404" in ids
    assert all(c.expected == ALLOWED or c.expected.startswith(("no ", "explicit deny")) for c in CASES)
