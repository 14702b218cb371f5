"""The stacks of one Vectora Inbox environment, in deployment order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from stacks.core_stack import CoreStack
from stacks.iam_stack import IamStack
from stacks.runtime_stack import RuntimeStack
from vectora_core.environments import EnvConfig


@dataclass(frozen=True)
class EnvironmentStacks:
    core: CoreStack
    iam: IamStack
    runtime: RuntimeStack


def build_environment(
    scope: Construct,
    config: EnvConfig,
    *,
    extra_environment: Mapping[str, str] | None = None,
    adopted_buckets: frozenset[str] = frozenset(),
) -> EnvironmentStacks:
    """S0-core -> S0-iam -> S1-runtime, with explicit dependencies (no cross-stack exports)."""
    core = CoreStack(scope, config=config, adopted_buckets=adopted_buckets)
    iam = IamStack(scope, config=config)
    runtime = RuntimeStack(scope, config=config, extra_environment=extra_environment or {})
    iam.add_stack_dependency(core, "roles name the buckets of S0-core")
    runtime.add_stack_dependency(core, "functions use the buckets of S0-core")
    runtime.add_stack_dependency(iam, "functions assume the roles of S0-iam")
    return EnvironmentStacks(core=core, iam=iam, runtime=runtime)
