"""A Ctrl-C or a lost connection at every step of a promotion and of a guarded deploy that CHANGE
the target (issue 24): generated cases, each costing a restore, not a CDK deploy.

The rule (README, docs/promotion.md): a fault after the target's snapshot is a failure like any
other, a Ctrl-C included. The target is restored and verified, the attempt audited with the step
and the fault, the lock released, exit 1 with one line naming the step. Only a fault before any
change exits 130 (tests/fuzz/test_operation_interrupts.py).

What makes a case cheap: the world's stage already runs dev's assembly (the first promotion deployed
it), and dev already runs the commit's, so the CDK deploy of these operations would change no stack.
It is replaced by a stand-in that checks that it would have changed nothing; every other step runs
for real against the local AWS (the target's smoke test runs the pipeline). A fault at the deploy
step is raised as the step starts (what the CLI failing, or a Ctrl-C during it, leaves: the
operation's handling is the same); one test interrupts the real CLI mid-deploy.

The cases: a counting run (ended after its last step) lists the AWS calls each step makes; then
each step gets one case, at a call drawn with a seeded choice, its fault in rotation;
``VECTORA_FUZZ_SCALE=3`` gives each step three cases (both faults, other calls).
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from tests.fuzz.faults import FAULTS, Call, CallFaults
from tests.promotion.conftest import FirstPromotion
from tests.promotion.support import World
from tests.promotion.test_e2e_b_faults import _MAJOR, _MINOR, _PATCH, CLIENT, fingerprint, publish_to_dev
from vectora_ops.environment import STACK_COMPONENTS
from vectora_ops.operation import records as records_module
from vectora_ops.operation.operation import ChangeFailed
from vectora_ops.operation.records import DeploymentRecord, latest_deployment
from vectora_ops.pipeline_runs import state_machine_arn
from vectora_ops.promotion import assembly as assemblies
from vectora_ops.promotion import deploy as deploy_module
from vectora_ops.promotion.deploy import DeployFailed, GuardedDeploy
from vectora_ops.promotion.plan import Plan
from vectora_ops.promotion.promote import Promotion, PromotionFailed, Request
from vectora_ops.promotion.testrecords import RECORDS_ENV
from vectora_ops.template_diff import diff_templates

SCALE = float(os.environ.get("VECTORA_FUZZ_SCALE", "1"))
PER_STEP: Final = max(1, round(SCALE))
FAULT_NAMES: Final = sorted(FAULTS)  # ctrl-c, lost-connection
PROMOTION_STEPS: Final = ("deploy", "verify-artifact", "configs", "target-smoke", "store-assembly", "record")
DEPLOY_STEPS: Final = ("deploy", "store-assembly", "smoke", "record")
# The version these cases publish to dev (the earlier tests of the scenario published +1 and +2).
VERSION: Final = f"{_MAJOR}.{_MINOR}.{int(_PATCH) + 3}"


class Ended(Exception):
    """Raised once the last step is done, so that every run here is restored: the counting run's
    end, and a case's whose fault the step absorbed (a retried call) rather than failed on."""


ENDED: Final = "ended here by the test"


def ends_after(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original``, then the run ends (``Ended``)."""

    def ended(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise Ended(ENDED)

    return ended


def ends_after_the_deploy_record(original: Callable[..., Any]) -> Callable[..., Any]:
    """``records.write_deployment``, then the run ends (``Ended``) once the deploy's own record is
    written; the restore's (``rollback``) is written as it is."""

    def write(clients: Any, record: DeploymentRecord) -> Any:
        written = original(clients, record)
        if record.via == "deploy":
            raise Ended(ENDED)
        return written

    return write


def cases(steps: tuple[str, ...], offset: int = 0) -> list[tuple[str, str, int]]:
    """(step, fault, draw): every step PER_STEP times, the faults in rotation (from ``offset``)."""
    return [
        (step, FAULT_NAMES[(offset + i + draw) % len(FAULT_NAMES)], draw)
        for i, step in enumerate(steps)
        for draw in range(PER_STEP)
    ]


def case_id(case: tuple[str, str, int]) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}"


def drawn(calls: list[Call], step: str, draw: int) -> Call:
    """Which of the step's calls fails: a seeded choice, the same on every run. It fails where it
    first occurs (a call repeated by a polling loop may be repeated fewer times in another run)."""
    return random.Random(f"{step}/{draw}").choice(calls)  # noqa: S311  # not a secret


def signature(call: Call) -> tuple[str, str | None, str | None]:
    """A call as another run makes it again: its key's folder, not its name (a record's key holds
    the time it is written)."""
    return call.operation, call.bucket, call.key.rpartition("/")[0] if call.key else None


# --- the world pointed at from this process ----------------------------------------------------
@pytest.fixture
def here(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    for name, value in world.env().items():
        if name.startswith("AWS_") or name in (RECORDS_ENV, "VECTORA_ALARM_EMAILS"):
            monkeypatch.setenv(name, value)
    return world


class Faulted:
    """One session for the operation; the AWS calls of the process counted by step (only the steps
    in ``steps``) and failed at the chosen one; or, at a step holding no AWS call, failed as the
    step starts."""

    def __init__(self, world: World, steps: tuple[str, ...]) -> None:
        self.session = world.session()
        self.calls = CallFaults()
        self.steps = steps
        self.current: Callable[[], str | None] = lambda: None
        self.by_step: dict[str, list[Call]] = {}
        self.at_start: tuple[str, str] | None = None  # (step, fault) raised as the step starts
        self.fired_at: str | None = None

    def count(self, call: Call) -> bool:
        step = self.current()
        if step not in self.steps:
            return False
        self.by_step.setdefault(step, []).append(call)
        return True

    def only(self, step: str, chosen: Call) -> Callable[[Call], bool]:
        return lambda call: self.current() == step and signature(call) == signature(chosen)

    def hook(self, name: str) -> None:
        """The Steps fault hook: the fault of a step without AWS calls in this process."""
        if self.at_start is not None and self.at_start[0] == name:
            self.fired_at = name
            error = FAULTS[self.at_start[1]]()
            if error is not None:
                raise error


def no_cdk(check: Callable[..., bool]) -> Callable[..., list[str]]:
    """The CDK deploy's stand-in: it checks (``check`` with the deploy's arguments) that the
    deploy would change no stack."""

    def stand_in(*args: Any, **_: Any) -> list[str]:
        assert check(*args), "this deploy would change a stack: the stand-in does not apply"
        return ["deploy", "(stand-in: no stack would change)"]

    return stand_in


def no_stack_change(_promotion: Promotion, plan: Plan) -> bool:
    return all(d.empty for d in plan.stacks.values())


def check_failed(
    err: ChangeFailed,
    step: str,
    fault: str,
    audit: dict[str, Any],
    kind: str,
    fired: object,
) -> None:
    """The operation failed at ``step`` on its fault, restored, audited, one line; or the step
    absorbed the fault (a retried call: it finished) and the run ended after its last step."""
    message = str(err)
    assert "\n" not in message and message.isprintable(), message
    assert "could not be released" not in message and "lock" not in audit, message
    ended = [s["step"] for s in audit["steps"]][-2:]
    assert audit["kind"] == kind and ended == ["restore", "verify-restore"], (audit.get("restore"), message)
    assert (audit["result"], audit["restore"]["restored"]) == ("failed, restored", True), audit
    assert "verified equal to its state before" in message, message
    assert "could not be written" not in message, message  # the restore's own record is there
    if err.step != step:  # absorbed
        assert fault == "lost-connection", message  # a Ctrl-C is never absorbed
        assert (err.step, audit["error"]) == ("record", ENDED), message
        assert [s["outcome"] for s in audit["steps"] if s["step"] == step] == ["done"], audit["steps"]
        ABSORBED.append(f"{kind} {step}: {fired}")
        return
    why = "interrupted" if fault == "ctrl-c" else "Could not connect to the endpoint URL"
    assert (err.step, err.restored) == (step, True), message
    assert f"failed at step {step} ({why}" in message, message
    assert audit["failed_step"] == step and audit["error"].startswith(why), audit


# The cases whose fault a step absorbed: which call (printed at the end of the module, with -s).
ABSORBED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def absorbed() -> Iterator[None]:
    yield
    for line in ABSORBED:
        print(f"absorbed (the step retried and finished): {line}")


def unlocked(world: World, *envs: str) -> bool:
    return not any(world.clients(env).keys(world.clients(env).backups_bucket, "locks/") for env in envs)


# --- the promotion dev -> stage ------------------------------------------------------------------
@pytest.fixture(scope="module")
def newer_in_dev(
    world: World, first_promotion: FirstPromotion, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """dev holds a lai_weekly newer than stage's: each case's promotion has a config to copy."""
    assert first_promotion.run.code == 0, first_promotion.run
    publish_to_dev(world, VERSION, tmp_path_factory.mktemp("configs"))
    return VERSION


def promotion(world: World, faulted: Faulted) -> Promotion:
    made = Promotion(
        Request("dev", "stage", client=CLIENT, validated_by="Fault Injection"),
        world.repo,
        faults=faulted.hook,
        session_factory=lambda env: faulted.session,
    )
    faulted.current = lambda: made.steps.current
    return made


@pytest.fixture(scope="module")
def promotion_calls(world: World, newer_in_dev: str) -> dict[str, list[Call]]:
    """The AWS calls each changing step of the promotion makes, from one run failed after its
    last step (restored: stage is as before it)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in world.env().items():
            if name.startswith("AWS_") or name == RECORDS_ENV:
                patch.setenv(name, value)
        before = world.state("stage")
        faulted = Faulted(world, PROMOTION_STEPS)
        run = promotion(world, faulted)
        patch.setattr(Promotion, "_deploy", no_cdk(no_stack_change))
        patch.setattr(Promotion, "_record", ends_after(Promotion._record))
        with faulted.calls.armed(where=faulted.count), pytest.raises(PromotionFailed) as failed:
            run.run()
        assert (failed.value.step, failed.value.restored) == ("record", True), failed.value
        assert fingerprint(world.state("stage")) == fingerprint(before)
    return faulted.by_step


@pytest.mark.parametrize("case", cases(PROMOTION_STEPS), ids=case_id)
def test_a_fault_at_each_step_of_a_promotion_restores_stage(
    here: World,
    promotion_calls: dict[str, list[Call]],
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, int],
) -> None:
    world, (step, fault, draw) = here, case
    before = world.state("stage")
    faulted = Faulted(world, PROMOTION_STEPS)
    run = promotion(world, faulted)
    monkeypatch.setattr(Promotion, "_deploy", no_cdk(no_stack_change))
    calls = promotion_calls.get(step, [])
    if calls:
        armed = faulted.calls.armed(1, FAULTS[fault], where=faulted.only(step, drawn(calls, step, draw)))
    else:  # a step without AWS calls here (the deploy: the CLI's are its own)
        faulted.at_start, armed = (step, fault), faulted.calls.armed()
    monkeypatch.setattr(Promotion, "_record", ends_after(Promotion._record))
    with armed, pytest.raises(PromotionFailed) as failed:
        run.run()
    assert faulted.fired_at == step or faulted.calls.fired is not None, failed.value
    check_failed(failed.value, step, fault, world.audits("stage")[-1], "promotion", faulted.calls.fired)
    assert fingerprint(world.state("stage")) == fingerprint(before)
    # a smoke that lost sight of its execution stopped it: nothing kept running into the restore
    sfn = world.session().client("stepfunctions")
    for env in ("dev", "stage"):
        running = sfn.list_executions(stateMachineArn=state_machine_arn(env, sfn), statusFilter="RUNNING")
        assert running["executions"] == [], (env, running["executions"])
    latest = world.deployments("stage")[-1]
    assert latest.via == "rollback" and latest.functions == before.functions
    assert unlocked(world, "dev", "stage")


# --- the guarded deploy of dev -------------------------------------------------------------------
@pytest.fixture(scope="module")
def dev_assembly(
    world: World, first_promotion: FirstPromotion, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """dev's deployed cloud assembly (what the commit's synth gives): the synth's stand-in."""
    dev = world.clients("dev")
    latest = latest_deployment(dev)
    assert latest is not None and latest[1].assembly is not None and latest[1].commit == world.commit
    record = latest[1].assembly
    assert record is not None
    built = assemblies.fetch(dev, record["location"], record["sha256"], tmp_path_factory.mktemp("dev") / "a")
    return built.directory


def guarded_deploy(world: World, faulted: Faulted, folder: Path, patch: pytest.MonkeyPatch) -> GuardedDeploy:
    made = GuardedDeploy("dev", world.repo, None, faults=faulted.hook, session=faulted.session)
    faulted.current = lambda: made.steps.current
    patch.setattr(deploy_module.assemblies, "synthesize", lambda *_a, **_k: folder)
    patch.setattr(deploy_module, "run_cdk", no_cdk(lambda *_: unchanged(world, folder)))
    return made


def unchanged(world: World, folder: Path) -> bool:
    """Whether deploying ``folder`` into dev would change no stack (the promotion's own diff)."""
    built, dev = assemblies.build(folder), world.clients("dev")
    stacks = world.state("dev").stacks
    return all(
        (deployed := stacks.get(component)) is not None
        and diff_templates(dev.name(component), built.template(dev.name(component)), deployed.template).empty
        for component in STACK_COMPONENTS
    )


@pytest.fixture(scope="module")
def deploy_calls(world: World, dev_assembly: Path) -> dict[str, list[Call]]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in world.env().items():
            if name.startswith("AWS_") or name in (RECORDS_ENV, "VECTORA_ALARM_EMAILS"):
                patch.setenv(name, value)
        before = world.state("dev")
        faulted = Faulted(world, DEPLOY_STEPS)
        run = guarded_deploy(world, faulted, dev_assembly, patch)
        patch.setattr(
            records_module, "write_deployment", ends_after_the_deploy_record(records_module.write_deployment)
        )
        with faulted.calls.armed(where=faulted.count), pytest.raises(DeployFailed) as failed:
            run.run()
        assert (failed.value.step, failed.value.restored) == ("record", True), failed.value
        assert fingerprint(world.state("dev")) == fingerprint(before)
    return faulted.by_step


@pytest.mark.parametrize("case", cases(DEPLOY_STEPS, offset=1), ids=case_id)
def test_a_fault_at_each_step_of_a_guarded_deploy_restores_dev(
    here: World, deploy_calls: dict[str, list[Call]], dev_assembly: Path, monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, int],
) -> None:  # fmt: skip
    world, (step, fault, draw) = here, case
    before = world.state("dev")
    faulted = Faulted(world, DEPLOY_STEPS)
    run = guarded_deploy(world, faulted, dev_assembly, monkeypatch)
    monkeypatch.setattr(
        records_module, "write_deployment", ends_after_the_deploy_record(records_module.write_deployment)
    )
    calls = deploy_calls.get(step, [])
    if calls:
        armed = faulted.calls.armed(1, FAULTS[fault], where=faulted.only(step, drawn(calls, step, draw)))
    else:
        faulted.at_start, armed = (step, fault), faulted.calls.armed()
    with armed, pytest.raises(DeployFailed) as failed:
        run.run()
    assert faulted.fired_at == step or faulted.calls.fired is not None, failed.value
    check_failed(failed.value, step, fault, world.audits("dev", "deploys")[-1], "deploy", faulted.calls.fired)
    assert fingerprint(world.state("dev")) == fingerprint(before)
    assert world.deployments("dev")[-1].via == "rollback"
    assert unlocked(world, "dev")


# --- a Ctrl-C while the CDK CLI deploys ----------------------------------------------------------
def test_a_ctrl_c_during_the_cdk_deploy_stops_the_cli_and_restores_stage(
    here: World, newer_in_dev: str
) -> None:
    """The one case that runs the CLI: SIGINT as its first line of output arrives."""
    world = here
    before = world.state("stage")
    sent = threading.Event()

    def progress(event: Any) -> None:
        message = getattr(event, "message", "") or ""
        if not sent.is_set() and message.startswith("    ") and run.steps.current == "deploy":
            sent.set()
            os.kill(os.getpid(), signal.SIGINT)

    faulted = Faulted(world, PROMOTION_STEPS)
    run = Promotion(
        Request("dev", "stage", client=CLIENT, validated_by="Fault Injection"),
        world.repo,
        progress=progress,
        session_factory=lambda env: faulted.session,
    )
    with pytest.raises(PromotionFailed) as failed:
        run.run()
    assert sent.is_set()
    check_failed(failed.value, "deploy", "ctrl-c", world.audits("stage")[-1], "promotion", "SIGINT")
    assert fingerprint(world.state("stage")) == fingerprint(before)
    assert unlocked(world, "dev", "stage")
