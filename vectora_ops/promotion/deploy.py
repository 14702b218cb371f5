"""The guarded deploy of dev or stage: what ``scripts/deploy/deploy_lambda.sh --env dev|stage`` runs.

``pre_deploy_<ts>`` snapshot -> the commit's cloud assembly (``cdk synth -c env=all``, zipped,
stored in the environment's lambda-code bucket) deployed with the pinned CLI -> smoke test ->
deployment record. A failure after the snapshot restores it, stacks included, and exits non-zero.

What this adds to the pre-update snapshot resource of each stack: that resource runs inside
CloudFormation, before a stack changes, so it cannot undo a deployment CloudFormation accepted;
the guarded deploy has the smoke test's verdict on the deployed code and rolls the whole
environment back to its ``pre_deploy_<ts>`` snapshot when the smoke test rejects it. It also
leaves the deployment record a promotion starts from (a plain ``cdk deploy`` leaves none).

An environment without ``direct_changes_allowed`` (prod) is refused: it only receives promotions.
A first deployment (no backups bucket yet) has nothing to snapshot: a failure then keeps what was
created and says so.

Every attempt leaves one audit record (where a backups bucket is reachable), an interrupted or
failed one too, before anything changed or after; a lock that could not be released is added to
the outcome (its message, or a warning) and to that record, never raised instead of it; a Ctrl-C
once the deployment is recorded changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError
from vectora_ops.interrupts import Settlement, deferred_interrupts
from vectora_ops.operation.lock import EnvironmentLock
from vectora_ops.operation.operation import ChangeFailed, Clock, Operation
from vectora_ops.operation.records import (
    latest_deployment,
    record_deployment,
    write_audit,
)
from vectora_ops.operation.state import read_state
from vectora_ops.operation.steps import FaultHook
from vectora_ops.promotion import assembly as assemblies
from vectora_ops.promotion import gitinfo
from vectora_ops.promotion.cdk import run_cdk
from vectora_ops.promotion.smoke import client_ids, smoke
from vectora_ops.snapshots import ProgressCallback, SnapshotEngine
from vectora_ops.snapshots.engine import utc_now
from vectora_ops.template_diff import StackDiff


def deploy_command(env: str) -> str:
    return f"scripts/deploy/deploy_lambda.sh --env {env}"


def script_for(source: str, target: str) -> str:
    return f"scripts/deploy/promote_{source}_to_{target}.sh"


class DeployRefused(OperationError):
    """Refused before anything changed (audited when the environment has a backups bucket)."""


class DeployFailed(ChangeFailed):
    """A step of a guarded deploy failed after the environment's snapshot."""


@dataclass
class DeployOutcome:
    result: str
    audit: str | None
    diffs: dict[str, StackDiff] = field(default_factory=dict)
    record: str | None = None
    commit: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class GuardedDeploy(Operation):
    env: str
    root: Path
    alarm_emails: str | None
    dry_run: bool = False
    clock: Clock = utc_now
    progress: ProgressCallback | None = None
    faults: FaultHook | None = None
    session: Any = None
    clients: Environment = field(init=False)
    audited: tuple[str, dict[str, Any]] | None = field(init=False, default=None)
    settled: Settlement = field(init=False, default_factory=Settlement)

    def __post_init__(self) -> None:
        self._begin("deploy", env=self.env, dry_run=self.dry_run)
        self.clients = Environment(self.env, self.session)

    def run(self) -> DeployOutcome:
        config = self.clients.config
        if not config.direct_changes_allowed:
            how = f"{script_for(str(config.promoted_from), self.env)} --client <id> --approve"
            self._refuse(f"--env {self.env} is refused: {self.env} only receives promotions ({how})")
        checkout = gitinfo.checkout(self.root)
        self.entry.update(commit=checkout.commit, tree_clean=checkout.clean)
        if not checkout.clean:
            self.steps.note(
                f"WARNING: the tree is dirty: this deployment of {checkout.commit[:12]} cannot be promoted"
            )
        neighbour = Environment(config.promoted_from, self.session) if config.promoted_from else None
        lock = EnvironmentLock(self.clients, f"deploy {self.env}", neighbour=neighbour, clock=self.clock)
        return self._locked(lock, "vectora-deploy-", lambda work: self._run(lock, checkout, work))

    def _run(self, lock: EnvironmentLock, checkout: gitinfo.Checkout, work: Path) -> DeployOutcome:
        if not self.dry_run:
            try:
                lock.acquire()
            except OperationError as err:
                self._refuse(str(err))
        built = self._synth(work)
        if self.dry_run:
            diffs = built.diffs(self.clients, read_state(self.clients).stacks)
            self.entry["plan"] = {name: d.as_dict() for name, d in diffs.items()}
            self.settled.settle()
            return DeployOutcome("dry run", self._audit("dry run"), diffs, commit=checkout.commit)
        return self._deploy(built, lock, checkout)

    def _refuse(self, why: str) -> None:
        self._audit("refused", error=why)
        raise DeployRefused(why)

    def _synth(self, work: Path) -> assemblies.Assembly:
        with self.steps.step(
            "synth", "cdk synth -c env=all (the commit's cloud assembly)", injectable=False
        ) as info:
            try:
                folder = assemblies.synthesize(
                    self.root, work / "assembly", self.alarm_emails, echo=self.steps.detail
                )
            except OperationError as err:
                self._audit("failed before any change", error=str(err))
                raise
            built = assemblies.build(folder)
            info["assembly_sha256"] = built.sha256
        self.entry["assembly_sha256"] = built.sha256
        return built

    def _deploy(
        self, built: assemblies.Assembly, lock: EnvironmentLock, checkout: gitinfo.Checkout
    ) -> DeployOutcome:
        target = self.clients
        exists = target.bucket_exists(target.backups_bucket)
        before = read_state(target) if exists else None
        previous = latest_deployment(target) if exists else None
        pre_id = None
        if exists:
            with self.steps.step("snapshot", f"pre_deploy snapshot of {self.env}", injectable=False) as info:
                engine = SnapshotEngine.on(target, self.clock, self.progress)
                info["snapshot"] = pre_id = engine.create("pre_deploy")
        self.entry["pre_deploy_snapshot"] = pre_id
        try:
            record = self._apply(built, lock, checkout, pre_id)
        except BaseException as err:  # noqa: BLE001  # Ctrl-C included: the environment is put back first
            line, step, restored = self._restore(
                err, target, pre_id, before=before, previous=previous[1] if previous else None, approve=None,
                cause={"kind": "deploy"},
                first=f"first deployment of {self.env}: nothing to restore, what it created is kept",
            )  # fmt: skip
            raise DeployFailed(f"deploy of {self.env} {line}", step=step, restored=restored) from err
        self.settled.settle()
        return DeployOutcome(
            "done", self._audit("done", record=record), commit=checkout.commit, record=record
        )

    def _apply(
        self,
        built: assemblies.Assembly,
        lock: EnvironmentLock,
        checkout: gitinfo.Checkout,
        pre_id: str | None,
    ) -> str:
        target = self.clients
        with self.steps.step("deploy", f"cdk deploy {self.env} ({', '.join(target.stack_names)})") as info:
            args = built.deploy_args(target.stack_names)
            run_cdk(self.root, args, echo=self.steps.detail)
            info["command"] = args
        lock.take_own()
        with self.steps.step("store-assembly", f"store the assembly in {target.code_bucket}") as info:
            info["location"] = location = assemblies.store(target, built, checkout.commit)
        with self.steps.step("smoke", f"smoke test of {self.env}") as info:
            info["evidence"] = smoke(
                target, client_ids(target), note=self.steps.detail, require_pipeline=False
            )
        with self.steps.step("record", f"deployment record of {self.env}") as info:
            info["record"] = record = record_deployment(
                target, "deploy", commit=checkout.commit, tree_clean=checkout.clean, started=self.started,
                clock=self.clock, assembly={"sha256": built.sha256, "location": location}, snapshot=pre_id,
            )  # fmt: skip
        return record

    def _write_audit(self, entry: dict[str, Any]) -> str | None:
        try:
            with deferred_interrupts():  # every record is an outcome: a Ctrl-C must not lose it
                if self.clients.bucket_exists(self.clients.backups_bucket):
                    label = f"{self.env}_{entry['result']}"
                    return write_audit(self.clients, "deploys", self.started, label, entry)
        except Exception as err:  # noqa: BLE001  # the outcome being reported matters more
            self.steps.note(f"could not write the audit record: {err}")
        return None
