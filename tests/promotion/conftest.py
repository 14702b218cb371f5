"""Fixtures of the promotion tests.

``world`` (session): a clean commit of the code under test (``support.clean_clone``), a local AWS of
its own (stage and prod must start empty, whatever other tests do with theirs), bootstrapped, dev
deployed by the guarded deploy (``deploy_lambda.sh --env dev``) and the repository's configs
published to dev as they are (``support.publish_dev_configs``): the real lai_weekly, its sources
answered by the local AWS's local internet; stage's and prod's PubMed key parameter put as the
first-deploy guide says (the target's preflight gate checks it). Later fixtures move the scenario
on: each is the state a group of tests asserts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_aws import cdk as local_cdk
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from tests.promotion.support import (
    REPO_ROOT,
    SPEC_DEV_TO_STAGE,
    Run,
    World,
    clean_clone,
    publish_dev_configs,
)
from vectora_core.naming import pubmed_api_key_param
from vectora_ops.operation.state import EnvState
from vectora_ops.promotion.promote import Promotion, Request
from vectora_ops.promotion.testrecords import RECORDS_ENV

VALIDATOR = "Ana Validator"
# Without the CDK's built-in template validator (~1.5 s of WebAssembly): a bootstrap-only app, no
# template of the project's (whose app keeps the validator).
BOOTSTRAP_APP = (
    "import aws_cdk as cdk\napp = cdk.App(builtin_cloud_formation_validation=False)\n"
    "cdk.Stack(app, 'BootstrapOnly')\napp.synth()\n"
)


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    base = Path(tempfile.mkdtemp(prefix="vectora-promotion-tests-"))
    repo = clean_clone(REPO_ROOT, base / "repo")
    aws = LocalAws(port=0, state_dir=base / "state").start()
    try:
        app = base / "bootstrap_app.py"
        app.write_text(BOOTSTRAP_APP)
        local_cdk.bootstrap(aws, app=local_cdk.python_app(app), output_dir=base / "bootstrap.out")
        world = World(aws, repo, base / "records")
        prepare_targets(world)
        world.green_record()
        deployed = world.run("deploy_lambda.sh", "--env", "dev")
        assert deployed.code == 0, deployed
        publish_dev_configs(world)
        yield world
    finally:
        aws.stop()
        remove_caches(base)
        shutil.rmtree(repo, ignore_errors=True)


def prepare_targets(world: World) -> None:
    """What docs/first-deploy.md has an operator do once before the first promotion into stage and
    prod, and the target's preflight gate checks: the PubMed key, a SecureString under aws/ssm."""
    ssm = world.session().client("ssm")
    for env in ("stage", "prod"):
        ssm.put_parameter(Name=pubmed_api_key_param(env), Value="test-key", Type="SecureString")


@dataclass
class FirstPromotion:
    run: Run
    dev: EnvState
    stage: EnvState


@pytest.fixture(scope="session")
def first_promotion(world: World) -> FirstPromotion:
    """The documented command line (docs/promotion.md), verbatim, into a stage that does not exist yet."""
    assert world.state("stage").stacks == {"s0-core": None, "s0-iam": None, "s1-runtime": None}
    run = world.typed(SPEC_DEV_TO_STAGE, extra={"VECTORA_APPROVER": VALIDATOR})
    return FirstPromotion(run, world.state("dev", "lai_weekly"), world.state("stage", "lai_weekly"))


@pytest.fixture
def in_process(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Promotion]:
    """A promotion run in this process (so a test can inject faults), against the world's emulator."""
    for name, value in world.env().items():
        if name.startswith("AWS_") or name == RECORDS_ENV:
            monkeypatch.setenv(name, value)

    def make(request: Request, **kwargs: object) -> Promotion:
        return Promotion(request, world.repo, session_factory=lambda env: world.session(), **kwargs)  # type: ignore[arg-type]

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    world: Any = (getattr(item, "funcargs", {}) or {}).get("world")
    if report.failed and isinstance(world, World):
        report.sections.append(("local AWS log (tail)", world.aws.log_tail(120)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "world" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)
