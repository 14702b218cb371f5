"""The stacks of one Vectora Inbox environment, in deployment order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import aws_cdk as cdk
from constructs import Construct

from stacks.core_stack import CoreStack
from stacks.iam_stack import IamStack
from stacks.runtime_stack import RuntimeStack
from vectora_core.environments import EnvConfig

# What new_app sets; the synth benchmark gives its one-bucket app the same (a test holds them equal).
APP_PROPS: Final[dict[str, Any]] = {"builtin_cloud_formation_validation": False}


def new_app(**props: Any) -> cdk.App:
    """The CDK app these stacks are built in: app.py's, and every app the tests build from them.

    Without the CDK's built-in template validator. cfn-lint checks every environment's templates
    in the suite, its errors and warnings failing, and a promotion into stage or prod needs the
    suite green for its commit (the ``tests`` gate); the built-in one (whose errors cdk.json's
    ``validateAgainstDefaultRules`` makes fail) costs more than the rest of a synth: an 8.8 MB
    WebAssembly module compiled on every synth, and the jsii process waiting at exit for its
    background compilation (1-2 s of each ``cdk synth|diff|deploy`` on a 2-core machine).
    """
    return cdk.App(**APP_PROPS, **props)


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
