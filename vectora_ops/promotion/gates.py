"""The gates of a promotion: each checked before anything changes, each with its evidence.

A failing gate names itself, what is wrong and how to satisfy it. ``--hotfix "<reason>"`` skips the
stability gate and the post-promotion freeze (each says so in the record), never the approval.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from vectora_core.environments import EnvConfig
from vectora_ops.checklist.model import Status
from vectora_ops.errors import OperationError
from vectora_ops.operation.records import DeploymentRecord
from vectora_ops.operation.state import EnvState
from vectora_ops.preflight.model import Check, Finding
from vectora_ops.promotion import gitinfo
from vectora_ops.promotion.plan import code_differences
from vectora_ops.promotion.stability import Stability
from vectora_ops.promotion.testrecords import read_record, record_path
from vectora_ops.promotion.watch import Watch, human

APPROVER_ENV = "VECTORA_APPROVER"


@dataclass
class Gate:
    name: str
    passed: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    fix: str | None = None
    skipped: str | None = None

    def line(self) -> str:
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        if self.passed:
            return f"{self.name}: ok"
        return f"{self.name}: {self.problem}" + (f"; to pass it: {self.fix}" if self.fix else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "passed": self.passed,
            "skipped": self.skipped,
            "problem": self.problem,
            "fix": self.fix,
            "evidence": self.evidence,
        }


class GateRefused(OperationError):
    """At least one gate failed; ``gates`` holds them all."""

    def __init__(self, message: str, gates: list[Gate]) -> None:
        super().__init__(message)
        self.gates = gates


def person(explicit: str | None, root: Path) -> str:
    """Who validates/approves: the value given, else ``VECTORA_APPROVER``, git ``user.name``, ``$USER``."""
    for candidate in (
        explicit,
        os.environ.get(APPROVER_ENV),
        gitinfo.user_name(root),
        os.environ.get("USER"),
    ):
        if candidate and candidate.strip():
            return " ".join(candidate.split())
    return ""


def tests_gate(root: Path, commit: str | None) -> Gate:
    if not commit:
        return Gate(
            "tests",
            False,
            problem="the source's deployment names no commit",
            fix="deploy it with deploy_lambda.sh",
        )
    record = read_record(root, commit)
    path = str(record_path(root, commit))
    evidence: dict[str, Any] = {"record": path, "commit": commit}
    fix = f"run `make test` on a clean checkout of {commit[:12]} (it writes {path})"
    if record is None:
        return Gate("tests", False, evidence, f"no test record for commit {commit[:12]}", fix)
    evidence.update(
        passed=record.passed, clean=record.clean, counts=record.counts, finished_at=record.finished_at
    )
    if not record.green:
        why = "dirty tree" if not record.clean else f"failed (exit status {record.exit_status})"
        return Gate("tests", False, evidence, f"the test record of {commit[:12]} is not green: {why}", fix)
    return Gate("tests", True, evidence)


def source_record_gate(
    env: str, record: DeploymentRecord | None, key: str | None, live: EnvState, fix_command: str
) -> Gate:
    """The source was deployed by a guarded deploy or a promotion, from a clean tree, and still runs it."""

    def refused(evidence: dict[str, Any], problem: str, fix: str = fix_command) -> Gate:
        return Gate("source-deployment", False, evidence, problem, fix)

    if record is None:
        return refused({}, f"{env} has no deployment record (what it runs is unknown)")
    evidence = {
        "record": key,
        "commit": record.commit,
        "tree_clean": record.tree_clean,
        "assembly": record.assembly,
    }
    if not record.tree_clean:
        return refused(
            evidence, f"{env} was deployed from a dirty tree ({record.commit})", f"commit, then {fix_command}"
        )
    if record.assembly is None:
        return refused(evidence, f"{env}'s deployment record names no cloud assembly")
    recorded = {
        "functions": record.functions,
        "layers": {k: v.get("code_sha256") for k, v in record.layers.items()},
    }
    drift = code_differences(recorded, live.code())
    if drift:
        return refused(
            {**evidence, "drift": drift},
            f"{env} no longer runs what its record says ({', '.join(drift)}: "
            "deployed outside the guarded deploy?)",
        )
    return Gate("source-deployment", True, evidence)


def configs_gate(
    problems: list[str], files: list[str], warnings: list[str] | None = None, runtime: str | None = None
) -> Gate:
    """Valid together and for ``runtime`` (the version the promoted artifact carries)."""
    evidence: dict[str, Any] = {"files": files, "runtime_version": runtime, "warnings": warnings or []}
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Gate(
            "configs", False, {**evidence, "problems": problems},
            f"invalid config: {problems[0]}{more}", "fix the file, publish it to the source, retry",
        )  # fmt: skip
    return Gate("configs", True, evidence)


def stability_gate(stability: Stability | None, hotfix: str | None) -> Gate | None:
    if stability is None:
        return None
    if hotfix:
        return Gate("stability", True, stability.evidence(), skipped=f"hotfix: {hotfix}")
    problems = stability.problems()
    if problems:
        return Gate(
            "stability", False, stability.evidence(),
            f"{stability.env} is not stable for {stability.days} days: {'; '.join(problems)}",
            f"wait until {stability.env} has run {stability.days} days without deployment, rollback or alarm "
            '(or, for an urgent fix, --hotfix "<reason>")',
        )  # fmt: skip
    return Gate("stability", True, stability.evidence())


def freeze_gate(target: EnvConfig, watch: Watch | None, now: datetime, hotfix: str | None) -> Gate | None:
    if target.post_promotion_watch_hours is None:
        return None
    evidence = {"watch_until": watch.record.watch_until if watch else None}
    if watch is None or not watch.active(now):
        return Gate("watch-freeze", True, evidence)
    if hotfix:
        return Gate("watch-freeze", True, evidence, skipped=f"hotfix: {hotfix}")
    return Gate(
        "watch-freeze", False, evidence,
        f"{target.name} is under its post-promotion watch until {watch.record.watch_until} "
        f"({human(watch.left(now))} left): promotions into {target.name} are frozen",
        f"wait until {watch.record.watch_until} (or, for an urgent fix, --hotfix \"<reason>\")",
    )  # fmt: skip


def approval_gate(target: EnvConfig, approver: str | None, validator: str | None) -> Gate:
    """prod (approval_required): a named approver; elsewhere a named business validation (or approver)."""
    if target.approval_required:
        if approver:
            return Gate("approval", True, {"approved_by": approver})
        how = '--approve (records VECTORA_APPROVER, git user.name or $USER) or --approve "<who>"'
        return Gate("approval", False, {}, f"a promotion into {target.name} needs a formal approval", how)
    who = validator or approver
    if who:
        return Gate(
            "validation", True, {"validated_by": who, "as": "approver" if not validator else "validator"}
        )
    return Gate(
        "validation", False, {}, f"a promotion into {target.name} needs a recorded business validation",
        '--validate (records VECTORA_APPROVER, git user.name or $USER) or --validate "<who>"',
    )  # fmt: skip


# The preflight checks that refuse a promotion: what the deploy into the target and the target's
# pipeline need (credentials that reach it, the bootstrap the assembly requires, bucket names that
# are free or its own, the Bedrock model, the PubMed key the roles can decrypt, the Lambda
# concurrency the Map fans out to). Not gates: ``bedrock-invoke`` (a real model call, never made by
# a promotion) and ``alarm-subscriptions``: confirming the alarm e-mails is a recipient's click that
# the first deploy itself asks for; refusing on it would block every promotion after the first
# until someone reads their mail, and the deployed code does not depend on it. Its ✗ is recorded
# as a warning. (The bucket check, the one shaped for a first deploy, passes for a deployed target:
# its names are already this account's; a name owned by another account refuses, always.)
TARGET_PREFLIGHT: Final = "target-preflight"  # the gate's name in every record
PREFLIGHT_GATES: Final = frozenset(
    {"identity", "bootstrap", "buckets", "bedrock", "pubmed-parameter", "lambda-concurrency"}
)


def preflight_gate(env: str, rows: Sequence[tuple[Check, Finding]]) -> Gate:
    """The preflight's rows on the target (``scripts/deploy/preflight.py``'s checks) as one gate
    naming every failed check that refuses, its evidence and its fix."""
    checks = {
        check.id: {
            "status": finding.status.name.lower(),
            "evidence": finding.result.evidence,
            "fix": finding.fix,
            "gate": check.id in PREFLIGHT_GATES,
        }
        for check, finding in rows
    }
    failed = [(c, f) for c, f in rows if f.status is Status.FAILED]
    refusing = [(c, f) for c, f in failed if c.id in PREFLIGHT_GATES]
    evidence: dict[str, Any] = {
        "checks": checks,
        "warnings": [f"{c.id}: {f.result.evidence}" for c, f in failed if c.id not in PREFLIGHT_GATES],
    }
    if not refusing:
        return Gate(TARGET_PREFLIGHT, True, evidence)
    return Gate(
        TARGET_PREFLIGHT, False, evidence,
        f"{env} is not ready: " + "; ".join(f"{c.id} ({f.result.evidence})" for c, f in refusing),
        " ".join(f"{c.id}: {f.fix}." for c, f in refusing if f.fix)
        + f" Then check with make preflight ENV={env}",
    )  # fmt: skip


def refuse_if_failed(gates: list[Gate], what: str) -> None:
    failed = [g for g in gates if not g.passed]
    if failed:
        others = failed[1:]
        more = f" (and {len(others)} more gate(s): {', '.join(g.name for g in others)})" if others else ""
        raise GateRefused(f"{what} refused: gate {failed[0].line()}{more}", gates)
