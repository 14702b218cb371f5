"""What every Vectora Inbox stack shares: its name, environment, tags and protection."""

from __future__ import annotations

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from vectora_core.environments import EnvConfig
from vectora_core.naming import PROJECT_NAME, resource_name


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
        )
        self.config = config
        Tags.of(self).add("Project", PROJECT_NAME)
        Tags.of(self).add("Environment", config.name)
