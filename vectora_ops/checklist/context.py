"""What the checks read: the environment's templates and, when it is reachable, its deployed state.

Templates come from a cloud assembly: an existing folder (``--assembly DIR``, e.g. ``cdk.out``; an
``-c env=all`` assembly serves every environment) or a synth of the environment by the pinned CLI
into a temporary folder. The deployed state is read through boto3 (read only), where
``vectora_ops.reach.session_for`` points (``AWS_ENDPOINT_URL``, else the local AWS when it
answers, else an AWS account). Every read is made once and kept.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vectora_core.environments import EnvConfig, get_env_config
from vectora_core.naming import StackComponent, resource_name
from vectora_ops.cdk_cli import cdk_cli_env, node_bin
from vectora_ops.checklist.model import Result, Status, failed, first_failure, not_checked
from vectora_ops.cloud_assembly import stack_artifacts
from vectora_ops.environment import Environment, if_found
from vectora_ops.errors import OperationError, one_line
from vectora_ops.reach import session_for
from vectora_ops.snapshots import SnapshotEngine
from vectora_ops.snapshots.retention import SnapshotInfo

ROOT: Final = Path(__file__).resolve().parents[2]
CDK: Final = node_bin(ROOT) / "cdk"
SYNTH_TIMEOUT_S: Final = 600
# A reachability probe answers quickly or not at all: no retries, short timeouts.
PROBE_CONFIG: Final = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1})
NOT_REACHABLE: Final = "environment not reachable"


# --- templates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Templates:
    """The environment's stacks as synthesized: template and manifest artifact, by stack name."""

    directory: str
    templates: dict[str, dict[str, Any]]
    artifacts: dict[str, dict[str, Any]]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Every resource of ``type_`` in the environment's stacks, by ``stack/logical id``."""
        return {
            f"{name}/{logical}": resource
            for name, template in self.templates.items()
            for logical, resource in template.get("Resources", {}).items()
            if resource.get("Type") == type_
        }


def load_templates(directory: Path, env: str) -> Templates:
    """The stacks of ``env`` in the cloud assembly ``directory``; OperationError (one line) if not one."""
    artifacts = stack_artifacts(directory)
    wanted = [resource_name(component, env) for component in StackComponent]
    missing = [name for name in wanted if name not in artifacts]
    if missing:
        raise OperationError(
            f"the cloud assembly {directory} holds no {', '.join(missing)}: synthesize it with -c env={env} "
            "(or -c env=all)"
        )
    templates = {name: artifacts[name].template() for name in wanted}
    return Templates(str(directory), templates, {name: artifacts[name].artifact for name in wanted})


@contextmanager
def synthesized(env: str, alarm_emails: str | None) -> Iterator[Path]:
    """A synth of ``env`` by the pinned CDK CLI in a temporary folder, removed afterwards."""
    out = Path(tempfile.mkdtemp(prefix="vectora-checklist-"))
    command = [str(CDK), "synth", "-c", f"env={env}", "--quiet", "-o", str(out)]
    if alarm_emails:
        command += ["-c", f"alarm_emails={alarm_emails}"]
    try:
        try:
            done = subprocess.run(  # noqa: S603  # the pinned CLI, arguments validated
                command,
                cwd=ROOT,
                env={**os.environ, **cdk_cli_env(ROOT)},
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise OperationError(
                f"cannot run the CDK CLI ({CDK}: {one_line(err)}): run make install"
            ) from None
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            raise OperationError(f"cdk synth -c env={env} failed: {lines[-1] if lines else done.returncode}")
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


# --- the deployed environment -------------------------------------------------------------------
@dataclass
class Deployed:
    """Read-only access to what runs in one environment (every read made once)."""

    env: str
    session: Any
    where: str
    aws: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.aws = Environment(self.env, session=self.session, workers=8)

    @functools.cached_property
    def stacks(self) -> dict[str, dict[str, Any] | None]:
        """Each stack of the environment as DescribeStacks returns it, None when it does not exist."""
        describe = self.aws.cloudformation.describe_stacks
        found = {name: if_found(describe, StackName=name) for name in self.aws.stack_names}
        return {name: answer["Stacks"][0] if answer else None for name, answer in found.items()}

    @functools.cached_property
    def engine(self) -> SnapshotEngine:
        return SnapshotEngine(self.env, aws=self.aws)

    @functools.cached_property
    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, newest first; empty when there is no backups bucket."""
        if not self.aws.bucket_exists(self.aws.backups_bucket):
            return []
        return self.engine.list_snapshots()

    def newest_complete(self) -> SnapshotInfo | None:
        return next((info for info in self.snapshots if info.complete), None)

    def function_config(self, name: str) -> dict[str, Any] | None:
        """GetFunctionConfiguration's answer, None when the function does not exist."""
        found = if_found(self.aws.lambda_.get_function_configuration, FunctionName=name)
        return None if found is None else dict(found)


def connect(env: str) -> tuple[Deployed | None, str]:
    """The deployed environment, or None and why it is not reachable."""
    session, where = session_for(env)
    try:
        session.client(
            "sts", region_name=session.region_name or get_env_config(env).region, config=PROBE_CONFIG
        ).get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        return None, f"{NOT_REACHABLE} ({where}: {one_line(err)})"
    return Deployed(env, session, where), where


# --- what every check receives --------------------------------------------------------------------
@dataclass
class Context:
    env: str
    templates: Templates
    deployed: Deployed | None
    where: str  # where the deployed state was read, or why it was not
    root: Path = ROOT
    cache: dict[str, Any] = field(default_factory=dict)  # shared by the checks of one run

    @property
    def config(self) -> EnvConfig:
        return get_env_config(self.env)


# The part of a check that reads the deployed environment (see ``on_deployed``).
DeployedCheck = Callable[[Context, Deployed], Result]


def unreachable(ctx: Context) -> Result:
    return not_checked(ctx.where if NOT_REACHABLE in ctx.where else NOT_REACHABLE)


def on_deployed(ctx: Context, check: DeployedCheck, template: Result | None = None) -> Result:
    """``template`` (what the templates say), then, once it passed, ``check`` of the deployed environment
    when it is reachable and every stack of it deployed (else the failure naming the missing ones):
    one result, their evidence joined. With no template part, an unreachable environment is –."""
    if ctx.deployed is None or (template is not None and template.status is Status.FAILED):
        return unreachable(ctx) if template is None else template
    missing = [name for name, stack in ctx.deployed.stacks.items() if stack is None]
    if missing:
        found = failed(f"not deployed in {ctx.deployed.where}: {', '.join(missing)}")
    else:
        found = check(ctx, ctx.deployed)
    return found if template is None else first_failure(template, found)
