"""A promotion, source -> target (dev -> stage, stage -> prod), in the order every record shows:

1. gates, all before anything changes (tests record, the source's deployment record, configs,
   validation/approval, stability and watch freeze where they apply, the preflight's checks on the
   target, then a live smoke test of the source - an execution of its state machine - and a
   snapshot of it); the plan is computed and, just before the target is touched, the source is
   read again: if it moved, the promotion refuses;
2. a ``pre_promotion_from_<source>`` snapshot of the target;
3. the source's own cloud assembly deployed into the target with the pinned CLI, then every
   function's CodeSha256 and every layer's content sha256 compared with the source's;
4. the client-config and canonical object versions the plan showed, validated, copied;
5. the smoke test in the target; the assembly stored in the target's lambda-code bucket; the
   target's deployment record;
6. any failure (an exception, an AWS error, Ctrl-C) after step 2: the snapshot is restored, stacks
   included, and the target is compared with its state before the promotion;
7. one audit record per attempt (refused, dry run, failed, interrupted, done) in the target's
   backups bucket (the source's while the target has none yet), where one is reachable; a lock
   that could not be released is added to the outcome (its message, or a warning) and to that
   record, never raised instead of it; a Ctrl-C once the promotion is recorded changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from vectora_core.environments import get_env_config
from vectora_core.naming import REINFORCED_PARAMETER, StackComponent
from vectora_ops.audit import audit_key
from vectora_ops.config.integrity import byte_differences, config_objects
from vectora_ops.config.runtime import check_runtime, deployed_runtime_version
from vectora_ops.environment import Environment
from vectora_ops.errors import OperationError, one_line, typed_line
from vectora_ops.interrupts import Settlement, deferred_interrupts
from vectora_ops.operation.lock import EnvironmentLock
from vectora_ops.operation.operation import ChangeFailed, Clock, Operation
from vectora_ops.operation.records import (
    DeploymentRecord,
    iso,
    latest_deployment,
    record_deployment,
    write_audit,
)
from vectora_ops.operation.state import ConfigObject, EnvState, read_state
from vectora_ops.operation.steps import FaultHook
from vectora_ops.preflight import Context as PreflightContext
from vectora_ops.preflight import run_checks
from vectora_ops.promotion import assembly as assemblies
from vectora_ops.promotion import configcopy
from vectora_ops.promotion.cdk import run_cdk
from vectora_ops.promotion.deploy import deploy_command, script_for
from vectora_ops.promotion.gates import (
    Gate,
    GateRefused,
    approval_gate,
    configs_gate,
    freeze_gate,
    preflight_gate,
    refuse_if_failed,
    source_record_gate,
    stability_gate,
    tests_gate,
)
from vectora_ops.promotion.plan import Plan, build_plan, moved, source_part
from vectora_ops.promotion.smoke import SmokeFailed, client_ids, smoke
from vectora_ops.promotion.stability import stability
from vectora_ops.promotion.watch import current_watch
from vectora_ops.snapshots import ProgressCallback, SnapshotEngine
from vectora_ops.snapshots.engine import utc_now

SessionFactory = Callable[[str], Any]
# The gates that run last, and only for real: they take minutes, and the snapshot writes.
LIVE_GATES = ("source-smoke", "source-snapshot")


class PromotionRefused(OperationError):
    """Refused before anything changed in the target (audited)."""


class PromotionFailed(ChangeFailed):
    """A step of a promotion failed after the target's snapshot."""


@dataclass(frozen=True)
class Request:
    source: str
    target: str
    client: str | None = None
    validated_by: str | None = None
    approved_by: str | None = None
    hotfix: str | None = None
    dry_run: bool = False
    plan_sha256: str | None = None  # the plan the approver reviewed (--plan)


@dataclass
class Outcome:
    result: str
    audit: str | None
    plan: Plan | None = None
    gates: list[Gate] = field(default_factory=list)
    record: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Promotion(Operation):
    """``Promotion(Request("dev", "stage", client="lai_weekly", validated_by="Ana"), root).run()``.

    ``clock`` and ``faults`` are for tests (the scripts never pass them); ``session_factory(env)``
    gives each environment its boto3 session (default: a new one per environment,
    ``vectora_ops.sessions.new_session``).
    """

    request: Request
    root: Path
    clock: Clock = utc_now
    progress: ProgressCallback | None = None
    faults: FaultHook | None = None
    session_factory: SessionFactory | None = None
    # Set while planning: the source's record, its assembly, the config versions the plan shows.
    source_record: DeploymentRecord | None = field(init=False, default=None)
    assembly: assemblies.Assembly | None = field(init=False, default=None)
    source_configs: dict[str, ConfigObject] = field(init=False, default_factory=dict)
    runtime: str | None = field(init=False, default=None)  # the artifact's runtime version
    source: Environment = field(init=False)
    target: Environment = field(init=False)
    audited: tuple[str, dict[str, Any]] | None = field(init=False, default=None)
    settled: Settlement = field(init=False, default_factory=Settlement)

    def __post_init__(self) -> None:
        r = self.request
        self._begin(
            "promotion", **{"from": r.source}, to=r.target, client=r.client, validated_by=r.validated_by,
            approved_by=r.approved_by, hotfix=r.hotfix, dry_run=r.dry_run, reviewed_plan=r.plan_sha256,
        )  # fmt: skip
        self.source, self.target = self._clients(r.source), self._clients(r.target)

    # --- the whole operation ------------------------------------------------------------------
    def run(self) -> Outcome:
        """Refusals raise PromotionRefused/GateRefused, failures PromotionFailed; all are audited."""
        self._check_direction()
        lock = EnvironmentLock(self.target, self._command(), neighbour=self.source, clock=self.clock)
        return self._locked(lock, "vectora-promotion-", lambda work: self._run(lock, work))

    def _run(self, lock: EnvironmentLock, work: Path) -> Outcome:
        if not self.request.dry_run:
            self._refusing(lock.acquire)
        plan, gates = self._refusing(lambda: self._prepare(work))
        if self.request.dry_run:
            result = "dry run" + ("" if all(g.passed for g in gates) else " (gates would refuse)")
            gates += [Gate(name, True, skipped="not run in a dry run") for name in LIVE_GATES]
            self.entry["gates"] = [g.as_dict() for g in gates]
            self.settled.settle()
            return Outcome(result, self._audit(result), plan, gates)
        self._refusing(lambda: self._live_gates(gates))
        self._refusing(lambda: self._recheck(plan))
        return self._change_target(lock, plan, gates)

    def _refusing(self, action: Callable[[], Any]) -> Any:
        """Run ``action``; a refusal or an error before the target changes is audited and re-raised
        (an interrupt is audited by ``_locked``)."""
        try:
            return action()
        except GateRefused as err:
            self.entry["gates"] = [g.as_dict() for g in err.gates]
            self._audit("refused", error=str(err))
            raise
        except OperationError as err:  # SnapshotError included
            self._audit("refused", error=str(err))
            raise
        except Exception as err:  # an AWS error while only reading: nothing changed
            self._audit("failed before any change", error=typed_line(err))
            raise

    # --- before anything changes -----------------------------------------------------------------
    def _check_direction(self) -> None:
        r, target = self.request, get_env_config(self.request.target)
        if target.promoted_from == r.source:
            return
        if target.promoted_from is None:
            why = f"nothing is promoted into {r.target} (deploy it with {deploy_command(r.target)})"
        else:
            how = script_for(target.promoted_from, r.target)
            why = f"{r.target} receives promotions from {target.promoted_from} only ({how})"
        message = f"promotion {r.source} -> {r.target} refused: {why}"
        self._audit("refused", error=message)
        raise PromotionRefused(message)

    def _prepare(self, work: Path) -> tuple[Plan, list[Gate]]:
        source, target, client = self.source, self.target, self.request.client
        with self.steps.step(
            "plan", f"gates and plan {source.env} -> {target.env}", injectable=False
        ) as info:
            latest = latest_deployment(source) if source.bucket_exists(source.backups_bucket) else None
            key, record = latest if latest else (None, None)
            source_state = read_state(source, client, stacks=False)
            configcopy.check_client(source_state.configs, client, source.config_bucket)
            self.source_record, self.source_configs = record, source_state.configs
            recorded = source_record_gate(source.env, record, key, source_state, deploy_command(source.env))
            gates = [
                tests_gate(self.root, record.commit if record else None),
                recorded,
                self._configs_gate(source_state),
                approval_gate(target.config, self.request.approved_by, self.request.validated_by),
                *self._environment_gates(),
            ]
            plan = self._plan(source_state, record, work) if recorded.passed and record else None
            gates.append(self._preflight_gate())
            info["gates"] = [g.line() for g in gates]
        self.entry.update(source_record=key, commit=record.commit if record else None)
        self.entry["gates"] = [g.as_dict() for g in gates]
        if plan is not None:
            self.entry["plan"] = plan.as_dict()
            self._check_reviewed(plan)
        if plan is None or not self.request.dry_run:
            refuse_if_failed(gates, f"promotion {source.env} -> {target.env}")
        assert plan is not None  # noqa: S101  # refused above otherwise
        return plan, gates

    def _configs_gate(self, source_state: EnvState) -> Gate:
        """The source's configs, valid together and for the runtime the promoted artifact carries."""
        source, unknown = self.source, None
        try:
            self.runtime = deployed_runtime_version(source.lambda_, source.env)
        except OperationError as err:
            unknown = f"the runtime version {source.env}'s artifact carries is unknown: {err}"
        files = configcopy.load(source, source_state.configs)
        checked = configcopy.validate(source, files, runtime=self.runtime, target_env=self.target.env)
        problems = [unknown, *checked.problems] if unknown else checked.problems
        return configs_gate(problems, sorted(source_state.configs), checked.warnings, self.runtime)

    def _environment_gates(self) -> list[Gate]:
        now, days = self.clock(), self.target.config.source_stability_days
        found = [
            stability_gate(stability(self.source, days, now) if days else None, self.request.hotfix),
            freeze_gate(self.target.config, current_watch(self.target), now, self.request.hotfix),
        ]
        return [g for g in found if g is not None]

    def _preflight_gate(self) -> Gate:
        """The preflight (``make preflight ENV=<target>``) on the target, read-only and without a
        model call; the bootstrap it checks is the one the assembly about to be deployed needs."""
        target = self.target
        where = self.assembly.directory if self.assembly is not None else None
        context = PreflightContext(target.env, target.session, "the promotion's credentials", where)
        return preflight_gate(target.env, run_checks(context))

    def _plan(self, source_state: EnvState, record: DeploymentRecord, work: Path) -> Plan:
        assert record.assembly is not None  # noqa: S101  # the record gate requires it
        built = assemblies.fetch(
            self.source, record.assembly["location"], record.assembly["sha256"], work / "assembly"
        )
        self.assembly = built
        target_state = read_state(self.target, self.request.client)
        return build_plan(
            source=source_state, target=target_state, client=self.request.client, commit=record.commit,
            assembly_sha256=record.assembly["sha256"], stacks=built.diffs(self.target, target_state.stacks),
        )  # fmt: skip

    def _check_reviewed(self, plan: Plan) -> None:
        wanted = self.request.plan_sha256
        if wanted and not plan.sha256.startswith(wanted.lower()):
            raise PromotionRefused(
                f"the plan changed since it was reviewed (reviewed {wanted}, now {plan.sha256[:12]}): "
                "review the new plan (--dry-run) and approve that one"
            )

    def _live_gates(self, gates: list[Gate]) -> None:
        """The source's smoke test now, then a snapshot of it: the last gates, the slow ones."""
        source, clients = self.source, self._client_ids()
        with self.steps.step("source-smoke", f"smoke test of {source.env} (now)", injectable=False) as info:
            try:
                info["evidence"] = evidence = smoke(source, clients, note=self.steps.detail)
            except OperationError as err:
                # The failed execution, state by state, in the gate's evidence.
                info["evidence"] = seen = err.evidence if isinstance(err, SmokeFailed) else {}
                gate = Gate("source-smoke", False, seen, str(err), f"fix {source.env} first, then promote")
                what = f"promotion {source.env} -> {self.target.env}"
                raise GateRefused(f"{what} refused: gate {gate.line()}", [*gates, gate]) from err
        gates.append(Gate("source-smoke", True, evidence))
        with self.steps.step("source-snapshot", f"snapshot of {source.env}", injectable=False) as info:
            name = f"pre_promotion_to_{self.target.env}"
            info["snapshot"] = snapshot_id = SnapshotEngine.on(source, self.clock, self.progress).create(name)
        gates.append(Gate("source-snapshot", True, {"snapshot": snapshot_id}))
        self.entry["gates"] = [g.as_dict() for g in gates]

    def _recheck(self, plan: Plan) -> None:
        """The source read again just before the target changes: what was approved is what goes."""
        latest = latest_deployment(self.source)
        record = latest[1] if latest else None
        assembly = (record.assembly or {}).get("sha256") if record else None
        state = read_state(self.source, self.request.client, stacks=False)
        now = source_part(state, record.commit if record else None, assembly)
        changed = moved(plan.source_part, now)
        if changed:
            raise PromotionRefused(
                f"{self.source.env} changed since the plan: {', '.join(changed)}; "
                f"nothing was changed in {self.target.env}"
            )

    # --- changing the target -------------------------------------------------------------------------
    def _change_target(self, lock: EnvironmentLock, plan: Plan, gates: list[Gate]) -> Outcome:
        target = self.target
        before = read_state(target) if target.bucket_exists(target.config_bucket) else None
        pre_id, previous = None, None
        if target.bucket_exists(target.backups_bucket):
            title = f"snapshot of {target.env} before the promotion"
            with self.steps.step("target-snapshot", title, injectable=False) as info:
                name = f"pre_promotion_from_{self.source.env}"
                info["snapshot"] = pre_id = SnapshotEngine.on(target, self.clock, self.progress).create(name)
            latest = latest_deployment(target)
            previous = latest[1] if latest else None
        self.entry["pre_promotion_snapshot"] = pre_id
        try:
            record = self._apply(lock, plan)
        except BaseException as err:  # noqa: BLE001  # Ctrl-C included: the target is put back first
            line, step, restored = self._restore(
                err, target, pre_id, before=before, previous=previous,
                approve=self.request.approved_by or self.request.validated_by,
                cause={"kind": "promotion", "from": self.source.env, "audit": self._audit_uri()},
                first=f"first promotion into {target.env}: nothing to restore, what it created is kept",
            )  # fmt: skip
            what = f"promotion {self.source.env} -> {target.env}"
            raise PromotionFailed(f"{what} {line}", step=step, restored=restored) from err
        self.settled.settle()
        # The plan as deployed (with its watch window); the entry holds the gates since the live ones.
        return Outcome("done", self._audit("done", plan=plan.as_dict(), record=record), plan, gates, record)

    def _apply(self, lock: EnvironmentLock, plan: Plan) -> str:
        source, target = self.source, self.target
        assert self.assembly is not None  # noqa: S101  # fetched while planning
        label = (plan.assembly_sha256 or "")[:12]
        with self.steps.step("deploy", f"deploy {target.env} from {source.env}'s assembly {label}") as info:
            info["command"] = self._deploy(plan)
        lock.take_own()
        with self.steps.step("verify-artifact", "verify function and layer shas equal the source's") as info:
            info["shas"] = self._verify_artifact()
        with self.steps.step(
            "configs", f"copy configs of {self.request.client or 'every client'} and canonical"
        ) as info:
            info["copied"] = self._copy_configs()
        with self.steps.step("target-smoke", f"smoke test of {target.env}") as info:
            try:
                info["evidence"] = smoke(target, self._client_ids(), note=self.steps.detail)
            except SmokeFailed as err:
                info["evidence"] = err.evidence  # the failed execution, state by state, in the audit
                raise
        with self.steps.step("store-assembly", f"store the assembly in {target.code_bucket}") as info:
            info["location"] = location = assemblies.store(target, self.assembly, plan.commit)
        with self.steps.step("record", f"deployment record of {target.env}") as info:
            info["record"] = record = self._record(plan, location)
        return record

    def _deploy(self, plan: Plan) -> list[str]:
        assert self.assembly is not None  # noqa: S101  # fetched while planning
        target = self.target
        args = self.assembly.deploy_args(target.stack_names)
        hours, runtime = target.config.post_promotion_watch_hours, target.name(StackComponent.RUNTIME)
        if hours and REINFORCED_PARAMETER in self.assembly.template(runtime).get("Parameters", {}):
            # The watch starts when the target starts running the new code: the deploy.
            until = self.clock() + timedelta(hours=hours)
            plan.extra["watch_until"] = iso(until)
            args += ["--parameters", f"{runtime}:{REINFORCED_PARAMETER}={int(until.timestamp())}"]
        run_cdk(self.root, args, echo=self.steps.detail)
        return args

    def _verify_artifact(self) -> dict[str, Any]:
        source, target = self.source, self.target
        mine, theirs = read_state(source, stacks=False).code(), read_state(target, stacks=False).code()
        wrong = [
            f"{section[:-1]} {name} ({str(theirs[section].get(name))[:12]} in {target.env}, "
            f"{str(sha)[:12]} in {source.env})"
            for section in ("functions", "layers")
            for name, sha in mine[section].items()
            if theirs[section].get(name) != sha
        ]
        if wrong:
            raise OperationError(f"{target.env} does not run {source.env}'s artifact: {'; '.join(wrong)}")
        assert self.runtime is not None  # noqa: S101  # the configs gate requires it
        return {**theirs, "runtime_version": check_runtime(target.lambda_, target.env, self.runtime)}

    def _copy_configs(self) -> list[dict[str, Any]]:
        """The versions the plan showed (not whatever is current now), validated, then copied."""
        source, target, client = self.source, self.target, self.request.client
        files = configcopy.load(source, self.source_configs)
        problems = configcopy.validate(source, files, runtime=self.runtime, target_env=target.env).problems
        if problems:
            raise OperationError(f"invalid config: {problems[0]}")
        removed = configcopy.removals(
            set(self.source_configs), read_state(target, client, stacks=False).configs, client
        )
        copied = configcopy.copy(target, files, removed)
        # Read back byte for byte (the team's integrity helpers): what was validated is what landed.
        wrong = byte_differences(
            {f.obj.key: f.data for f in files},
            config_objects(target.s3, target.config_bucket, self.source_configs),
        )
        wrong += [
            f"{k}: still there"
            for k, v in config_objects(target.s3, target.config_bucket, removed).items()
            if v is not None
        ]
        if wrong:
            raise OperationError(f"the config copy did not take: {'; '.join(wrong)}")
        return copied

    def _record(self, plan: Plan, location: str) -> str:
        promotion = {
            "from": self.source.env, "plan_sha256": plan.sha256, "audit": self._audit_uri(),
            "approved_by": self.request.approved_by, "validated_by": self.request.validated_by,
            "hotfix": self.request.hotfix,
        }  # fmt: skip
        return record_deployment(
            self.target, "promotion", commit=plan.commit,
            tree_clean=bool(self.source_record and self.source_record.tree_clean), started=self.started,
            clock=self.clock, assembly={"sha256": str(plan.assembly_sha256), "location": location},
            snapshot=self.entry.get("pre_promotion_snapshot"), promotion=promotion,
            watch_until=plan.extra.get("watch_until"),
        )  # fmt: skip

    # --- helpers --------------------------------------------------------------------------------------------
    def _clients(self, env: str) -> Environment:
        return Environment(env, self.session_factory(env) if self.session_factory else None)

    def _client_ids(self) -> list[str]:
        """The client promoted, or every client of the source."""
        return [self.request.client] if self.request.client else client_ids(self.source)

    def _command(self) -> str:
        r = self.request
        return f"promote {r.source} -> {r.target}" + (f" --client {r.client}" if r.client else "")

    def _label(self) -> str:
        return f"{self.request.source}-to-{self.request.target}_{self.request.client or 'all'}"

    def _audit_uri(self) -> str:
        return f"s3://{self.target.backups_bucket}/{audit_key('promotions', self.started, self._label())}"

    def _write_audit(self, entry: dict[str, Any]) -> str | None:
        """In the target's backups bucket (the source's if it has none yet)."""
        missed, tried = f"{self.target.env} has no backups bucket yet", False  # why the target's was passed
        for where in (self.target, self.source):
            try:
                with deferred_interrupts():  # every record is an outcome: a Ctrl-C must not lose it
                    if not where.bucket_exists(where.backups_bucket):
                        continue
                    if where is self.source:
                        entry["audit_note"] = f"{missed}: recorded in {where.env}'s"
                    return write_audit(where, "promotions", self.started, self._label(), entry)
            except Exception as err:  # noqa: BLE001  # the outcome being reported matters more
                why = one_line(err)
                self.steps.note(f"could not write the audit record in {where.backups_bucket}: {why}")
                missed = f"{self.target.env}'s backups bucket could not be written ({why})"
                tried = True
        if not tried:
            self.steps.note("no backups bucket to write the audit record in")
        return None
