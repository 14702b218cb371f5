"""S0-iam: one least-privilege execution role per pipeline function, the state machine's and the
scheduler's.

Statements are written out rather than produced by ``bucket.grant_*``, whose action lists carry
wildcards (``s3:GetObject*``, ``s3:List*``); every action here is named and every resource is the
narrowest the function needs. Buckets are referred to by their conventional names, not by
cross-stack exports (exports would lock S0-core against updates).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.base import VectoraStack, construct_id
from vectora_constructs.arns import (
    ANY_RESOURCE,
    LOG_DELIVERY,
    XRAY_REASON,
    XRAY_SAMPLING,
    XRAY_WRITE,
    Arn,
    Statement,
    bucket_arn,
    function_arn,
    least_privilege_role,
    log_streams_arn,
    object_arn,
    service_principal,
    state_machine_arn,
    topic_arn,
)
from vectora_core.environments import EnvConfig
from vectora_core.functions import FUNCTIONS, Access
from vectora_core.naming import (
    ALARM_TOPIC,
    Function,
    Pipeline,
    StackComponent,
    log_group_name,
    pubmed_api_key_param,
    resource_name,
    role_name,
)


class IamStack(VectoraStack):
    """Roles ``vectora-inbox-{function}-role-{env}`` for the three pipeline functions, and
    ``vectora-inbox-pipeline-role-{env}`` / ``vectora-inbox-pipeline-scheduler-role-{env}``."""

    def __init__(self, scope: Construct, *, config: EnvConfig) -> None:
        super().__init__(
            scope,
            component=StackComponent.IAM,
            config=config,
            description="Vectora Inbox S0-iam: execution roles",
        )
        self.roles: dict[Function, iam.Role] = {
            name: self._role(name, spec.access) for name, spec in FUNCTIONS.items()
        }
        self.pipeline_role = self._pipeline_role()
        self.scheduler_role = self._scheduler_role()
        self.add_pre_update_snapshot()

    def _pipeline_role(self) -> iam.Role:
        """The state machine's: invoke the three functions, deliver its logs, trace, and (where
        there are alarms) publish its failures to the alarm topic. Nothing else."""
        env, region = self.config.name, self.region
        statements: list[Statement] = [
            (
                "InvokePipelineFunctions",
                ["lambda:InvokeFunction"],
                [function_arn(region, resource_name(f, env)) for f in Function],
                None,
            ),
            # What Step Functions needs to deliver its execution logs to CloudWatch Logs.
            (
                "DeliverLogs",
                LOG_DELIVERY,
                [ANY_RESOURCE],
                None,
            ),
            (
                "WriteTraces",
                [*XRAY_WRITE, *XRAY_SAMPLING],
                [ANY_RESOURCE],
                None,
            ),
        ]
        if self.config.alarms_enabled:
            statements.append(
                (
                    "NotifyFailures",
                    ["sns:Publish"],
                    [topic_arn(region, resource_name(ALARM_TOPIC, env))],
                    None,
                )
            )
        return least_privilege_role(
            self,
            "PipelineRole",
            role_name=role_name(Pipeline.STATE_MACHINE, env),
            description=f"Execution role of the state machine {resource_name(Pipeline.STATE_MACHINE, env)}",
            statements=statements,
            assumed_by=service_principal("states.amazonaws.com"),
            wildcard_reason="CloudWatch Logs' log-delivery actions (how Step Functions delivers execution "
            f"logs) have no resource-level permissions and take resource '*' only. {XRAY_REASON}",
        )

    def _scheduler_role(self) -> iam.Role:
        """EventBridge Scheduler's: start this environment's state machine, nothing else."""
        env = self.config.name
        return least_privilege_role(
            self,
            "PipelineSchedulerRole",
            role_name=role_name(Pipeline.SCHEDULER, env),
            description=f"Starts {resource_name(Pipeline.STATE_MACHINE, env)} on its schedules",
            statements=[
                (
                    "StartPipeline",
                    ["states:StartExecution"],
                    [state_machine_arn(self.region, resource_name(Pipeline.STATE_MACHINE, env))],
                    None,
                )
            ],
            assumed_by=service_principal("scheduler.amazonaws.com"),
            wildcard_reason="no wildcard",
        )

    def _role(self, function: Function, access: Access) -> iam.Role:
        env = self.config.name
        statements: list[Statement] = [
            (
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_streams_arn(self.region, log_group_name(function, env))],
                None,
            ),
            # Active tracing (Powertools Tracer): the function sends its segments to X-Ray.
            ("WriteTraces", XRAY_WRITE, [ANY_RESOURCE], None),
        ]
        if access.reads:
            statements.append(
                ("ReadObjects", ["s3:GetObject"], [object_arn(b, env, p) for b, p in access.reads], None)
            )
            # Listing without an s3:prefix condition, on each bucket the function reads. A read of a
            # key that does not exist is answered 404 NoSuchKey only to a caller that may
            # s3:ListBucket the bucket, and S3 evaluates that with no s3:prefix in the context: a
            # prefix-conditioned listing does not count, and the answer is 403 AccessDenied. Every
            # bucket a function reads has a "not there yet" path its code relies on (a config not
            # published, the first run of a day, an empty run, an empty newsletter), so each must
            # be listable whole. What this adds is the key names (never the contents) of the other
            # prefixes of those buckets; reads stay limited to the function's prefixes.
            statements.append(
                (
                    "ListReadBuckets",
                    ["s3:ListBucket"],
                    [bucket_arn(b, env) for b in sorted({b for b, _ in access.reads})],
                    None,
                )
            )
        if access.writes:
            statements.append(
                ("WriteObjects", ["s3:PutObject"], [object_arn(b, env, p) for b, p in access.writes], None)
            )
        if access.bedrock:
            statements.extend(self._bedrock_statements())
        if access.pubmed_key:
            parameter = pubmed_api_key_param(env)  # starts with "/": the ARN has "parameter/rag-lai/..."
            statements.append(
                (
                    "ReadPubmedApiKey",
                    ["ssm:GetParameter"],
                    [Arn(f"arn:{{partition}}:ssm:{self.region}:{{account}}:parameter{parameter}")],
                    None,
                )
            )
        return least_privilege_role(
            self,
            f"{construct_id(function)}Role",
            role_name=role_name(function, env),
            description=f"Execution role of {resource_name(function, env)}",
            statements=statements,
            wildcard_reason="Wildcards are confined to names that cannot be known in advance: the log "
            "streams Lambda creates inside this function's own log group, and object keys (per client and "
            f"run date) under the key prefixes this function owns in one bucket. {XRAY_REASON}",
        )

    def _bedrock_statements(self) -> list[Statement]:
        """The configured model: the inference profile, and the foundation model behind it in any
        region but only through that profile (AWS decides where the profile routes a call, and
        authorizes the foundation model there with ``bedrock:InferenceProfileArn`` set to the
        profile). Converse is authorized as bedrock:InvokeModel; nothing calls a streaming API."""
        cfg = self.config
        model = cfg.bedrock_foundation_model_id
        if not cfg.is_inference_profile:
            direct = Arn(f"arn:{{partition}}:bedrock:{cfg.bedrock_region}::foundation-model/{model}")
            return [("InvokeConfiguredModel", ["bedrock:InvokeModel"], [direct], None)]
        profile = Arn(
            f"arn:{{partition}}:bedrock:{cfg.bedrock_region}:{{account}}:inference-profile/{cfg.bedrock_model_id}"
        )
        routed = Arn(
            f"arn:{{partition}}:bedrock:*::foundation-model/{model}",
            reason=f"The region is the only wildcard: the inference profile {cfg.bedrock_model_id} routes "
            "each call to a region AWS chooses (and may add), where the foundation model is authorized; "
            "the condition on bedrock:InferenceProfileArn allows it only through that profile, never "
            "called directly.",
        )
        return [
            ("InvokeConfiguredProfile", ["bedrock:InvokeModel"], [profile], None),
            (
                "InvokeModelThroughProfile",
                ["bedrock:InvokeModel"],
                [routed],
                {"StringEquals": {"bedrock:InferenceProfileArn": profile.value}},
            ),
        ]
