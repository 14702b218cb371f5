"""S1-runtime: layers, the three pipeline functions, their log groups, the pipeline's state machine
and schedules, and (per env) alarms."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnParameter
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.base import LAMBDA_RUNTIME, VectoraStack, construct_id
from vectora_constructs.alarm_topic import alarm_topic_key, allow_alarms_to_publish
from vectora_constructs.paths import LAMBDAS_DIR, LAYERS_DIR
from vectora_constructs.pipeline_alarms import PipelineAlarms
from vectora_constructs.pipeline_function import PipelineFunction
from vectora_constructs.pipeline_schedule import PipelineSchedules
from vectora_constructs.pipeline_state_machine import PipelineStateMachine
from vectora_constructs.python_layers import requirements_layer, source_layer
from vectora_constructs.reinforced_alarms import ReinforcedAlarms
from vectora_core import RUNTIME_VERSION
from vectora_core.environments import EnvConfig
from vectora_core.functions import FUNCTIONS, FunctionSpec
from vectora_core.naming import (
    ALARM_TOPIC,
    REINFORCED_PARAMETER,
    Function,
    Layer,
    Pipeline,
    StackComponent,
    resource_name,
    role_name,
)


def function_environment(spec: FunctionSpec, config: EnvConfig, extra: Mapping[str, str]) -> dict[str, str]:
    """The function's variables (from its spec) plus the allowed ``-c extra_env`` ones."""
    return {**spec.environment(config), **extra}


class RuntimeStack(VectoraStack):
    """Layers ``vectora-inbox-{vectora-core,common-deps}-{env}`` and the pipeline functions."""

    def __init__(self, scope: Construct, *, config: EnvConfig, extra_environment: Mapping[str, str]) -> None:
        super().__init__(
            scope,
            component=StackComponent.RUNTIME,
            config=config,
            description="Vectora Inbox S1-runtime: layers, pipeline functions, alarms",
        )
        env = config.name
        self.layers: dict[str, lambda_.LayerVersion] = {
            Layer.VECTORA_CORE: source_layer(
                self,
                "VectoraCoreLayer",
                layer_name=resource_name(Layer.VECTORA_CORE, env),
                folder=LAYERS_DIR / "vectora_core",
                runtime=LAMBDA_RUNTIME,
                description=f"vectora_core runtime {RUNTIME_VERSION}: names, settings, config loading, "
                "storage, snapshot engine",
            ),
            Layer.COMMON_DEPS: requirements_layer(
                self,
                "CommonDepsLayer",
                layer_name=resource_name(Layer.COMMON_DEPS, env),
                requirements=LAYERS_DIR / "common_deps" / "requirements.txt",
                runtime=LAMBDA_RUNTIME,
                description="Third-party libraries of the pipeline (layers/common_deps/requirements.txt)",
            ),
        }
        self.alarm_topic: sns.Topic | None = None
        if config.alarms_enabled:
            key = alarm_topic_key(self, "AlarmTopicKey", config=config)
            self.alarm_topic = sns.Topic(
                self,
                "AlarmTopic",
                topic_name=resource_name(ALARM_TOPIC, env),
                display_name=f"Vectora Inbox alarms ({env})",
                enforce_ssl=True,
                # The project's key, not aws/sns: CloudWatch alarms cannot publish to a topic under
                # an AWS-managed key (vectora_constructs/alarm_topic.py).
                master_key=key,
            )
            allow_alarms_to_publish(self.alarm_topic, config=config)
            for email in config.alarm_emails:
                self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))
        self.functions: dict[Function, PipelineFunction] = {}
        for function, spec in FUNCTIONS.items():
            self.functions[function] = PipelineFunction(
                self,
                construct_id(function),
                config=config,
                function=function,
                code_dir=LAMBDAS_DIR / spec.code_dir,
                runtime=LAMBDA_RUNTIME,
                # Created by S0-iam; referred to by name, immutable here (S0-iam owns its policies).
                role=iam.Role.from_role_name(
                    self, f"{function}-role", role_name(function, env), mutable=False
                ),
                layers=list(self.layers.values()),
                environment=function_environment(spec, config, extra_environment),
                alarm_topic=self.alarm_topic,
            )
        self.pipeline = PipelineStateMachine(
            self,
            "Pipeline",
            config=config,
            functions={f: self.functions[f].function for f in Function},
            # S0-iam's roles, by name (immutable here, as the functions' are).
            role=iam.Role.from_role_name(
                self, "PipelineRole", role_name(Pipeline.STATE_MACHINE, env), mutable=False
            ),
            alarm_topic=self.alarm_topic,
        )
        self.schedules = PipelineSchedules(
            self,
            "PipelineSchedules",
            config=config,
            state_machine=self.pipeline.state_machine,
            role=iam.Role.from_role_name(
                self, "PipelineSchedulerRole", role_name(Pipeline.SCHEDULER, env), mutable=False
            ),
        )
        if self.alarm_topic is not None:
            self.pipeline_alarms = PipelineAlarms(
                self,
                "PipelineAlarms",
                config=config,
                topic=self.alarm_topic,
                state_machine=self.pipeline.state_machine,
            )
            if config.post_promotion_watch_hours:
                self._add_reinforced_alarms(config, self.alarm_topic)
        self.add_pre_update_snapshot()

    def _add_reinforced_alarms(self, config: EnvConfig, topic: sns.Topic) -> None:
        """The post-promotion watch: alarms armed until the parameter's instant (0: never armed)."""
        until = CfnParameter(
            self,
            REINFORCED_PARAMETER,
            type="Number",
            default=0,
            min_value=0,
            description="End of the post-promotion watch (epoch seconds): reinforced alarms breach only "
            "before it. Set by the promotion into this environment; 0 disarms them.",
        )
        self.reinforced_alarms = ReinforcedAlarms(
            self,
            "ReinforcedAlarms",
            config=config,
            topic=topic,
            until=until.value_as_string,
            functions={name: f.function for name, f in self.functions.items()},
        )
