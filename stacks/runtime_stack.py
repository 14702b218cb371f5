"""S1-runtime: layers, the three pipeline functions, their log groups and (per env) alarms."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.base import LAMBDA_RUNTIME, VectoraStack, construct_id
from vectora_constructs.paths import LAMBDAS_DIR, LAYERS_DIR
from vectora_constructs.pipeline_function import PipelineFunction
from vectora_constructs.python_layers import requirements_layer, source_layer
from vectora_core.environments import EnvConfig
from vectora_core.naming import (
    PROJECT_NAME,
    Bucket,
    EnvVar,
    Function,
    Layer,
    Stack,
    pubmed_api_key_param,
    resource_name,
    role_name,
)

RUNTIME = LAMBDA_RUNTIME


def function_environment(config: EnvConfig, function: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The spec's environment variables of ``function``: the common set plus what it uses."""
    env = config.name
    variables = {
        EnvVar.ENV: env,
        EnvVar.PROJECT_NAME: PROJECT_NAME,
        EnvVar.CONFIG_BUCKET: resource_name(Bucket.CONFIG, env),
        EnvVar.DATA_BUCKET: resource_name(Bucket.DATA, env),
        EnvVar.LOG_LEVEL: config.log_level,
        EnvVar.DEBUG: "true" if config.debug else "false",
    }
    if function == Function.INGEST:
        variables[EnvVar.PUBMED_API_KEY_PARAM] = pubmed_api_key_param(env)
    if function in (Function.NORMALIZE_SCORE, Function.NEWSLETTER):
        variables[EnvVar.BEDROCK_MODEL_ID] = config.bedrock_model_id
        variables[EnvVar.BEDROCK_REGION] = config.bedrock_region
    if function == Function.NEWSLETTER:
        variables[EnvVar.NEWSLETTERS_BUCKET] = resource_name(Bucket.NEWSLETTERS, env)
    return {**variables, **extra}


class RuntimeStack(VectoraStack):
    """Layers ``vectora-inbox-{vectora-core,common-deps}-{env}`` and the pipeline functions."""

    def __init__(self, scope: Construct, *, config: EnvConfig, extra_environment: Mapping[str, str]) -> None:
        super().__init__(
            scope,
            component=Stack.RUNTIME,
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
                runtime=RUNTIME,
                description="vectora_core: names, settings, config loading, storage, snapshot engine",
            ),
            Layer.COMMON_DEPS: requirements_layer(
                self,
                "CommonDepsLayer",
                layer_name=resource_name(Layer.COMMON_DEPS, env),
                requirements=LAYERS_DIR / "common_deps" / "requirements.txt",
                runtime=RUNTIME,
                description="Third-party libraries of the pipeline (layers/common_deps/requirements.txt)",
            ),
        }
        self.alarm_topic: sns.Topic | None = None
        if config.alarms_enabled:
            self.alarm_topic = sns.Topic(
                self,
                "AlarmTopic",
                topic_name=resource_name("alarms", env),
                display_name=f"Vectora Inbox alarms ({env})",
                enforce_ssl=True,
                master_key=kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns"),
            )
        self.functions: dict[str, PipelineFunction] = {}
        for function in Function.ALL:
            self.functions[function] = PipelineFunction(
                self,
                construct_id(function),
                config=config,
                function=function,
                code_dir=LAMBDAS_DIR / function.replace("-", "_"),
                runtime=RUNTIME,
                # Created by S0-iam; referred to by name, immutable here (S0-iam owns its policies).
                role=iam.Role.from_role_name(
                    self, f"{function}-role", role_name(function, env), mutable=False
                ),
                layers=list(self.layers.values()),
                environment=function_environment(config, function, extra_environment),
                alarm_topic=self.alarm_topic,
            )
        self.add_pre_update_snapshot()
