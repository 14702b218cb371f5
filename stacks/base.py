"""What every Vectora Inbox stack shares: its name, environment, tags and protection."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Environment, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from vectora_constructs.pre_update_snapshot import (
    PreUpdateSnapshot,
    SnapshotFingerprintSynthesizer,
    SnapshotFunction,
)
from vectora_core.environments import EnvConfig
from vectora_core.naming import PROJECT_NAME, resource_name

# Every Python function of the project (pipeline and pre-update snapshot) runs this runtime.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13


def construct_id(function: str) -> str:
    """Construct id for a pipeline function's constructs: ``normalize-score-v2`` -> ``NormalizeScoreV2``."""
    return "".join(part.title() for part in function.split("-"))


class VectoraStack(Stack):
    """A stack named ``vectora-inbox-{component}-{env}``, tagged, protected as its config says."""

    def __init__(self, scope: Construct, *, component: str, config: EnvConfig, description: str) -> None:
        name = resource_name(component, config.name)
        super().__init__(
            scope,
            name,
            stack_name=name,
            description=description,
            # Region pinned by config; account left to the CLI unless the config names one, so
            # synth needs no credentials and makes no AWS call.
            env=Environment(account=config.account, region=config.region),
            termination_protection=config.termination_protection,
            # The default synthesizer, plus the pre-update snapshot's fingerprint (see there).
            synthesizer=SnapshotFingerprintSynthesizer(),
        )
        self.config = config
        self.component = component
        for key, value in self.tags_of(config).items():
            Tags.of(self).add(key, value)

    @staticmethod
    def tags_of(config: EnvConfig) -> dict[str, str]:
        """The tags every resource of the environment's stacks carries."""
        return {"Project": PROJECT_NAME, "Environment": config.name}

    def add_pre_update_snapshot(
        self, *, function: SnapshotFunction | None = None, prerequisites: Sequence[IConstruct] = ()
    ) -> PreUpdateSnapshot:
        """The custom resource that snapshots the environment before anything else here changes.

        Call it once, at the end of the stack's constructor. ``function``: the environment's
        snapshot function if this stack holds it (S0-core), else it is called by name;
        ``prerequisites`` are what it needs to exist before it runs (they are then not guarded by it).
        """
        self.pre_update_snapshot = PreUpdateSnapshot(
            self, "PreUpdateSnapshot", config=self.config, function=function, prerequisites=prerequisites
        )
        return self.pre_update_snapshot
