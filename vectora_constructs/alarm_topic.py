"""The alarm topic's encryption key and who may publish to the topic (stage and prod).

The topic is encrypted, and its key is the project's own, not AWS's ``aws/sns``. CloudWatch
publishes an alarm to an encrypted topic only when the key policy lets the service principal
``cloudwatch.amazonaws.com`` generate a data key and decrypt with it, and the policy of an
AWS-managed key cannot be changed: with ``aws/sns`` every alarm notification was dropped and
nobody was told. The topic policy, which replaced SNS's default one when the TLS-only statement
was added, must let CloudWatch publish too.

Both grants are for this account's alarms of this environment only (``aws:SourceAccount``,
``aws:SourceArn``: no confused deputy). The state machine's role, which publishes a failed run
itself, is granted the key through SNS only (``kms:ViaService``), in the key policy: S0-iam, which
holds the role, is deployed before the key exists and cannot name it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from vectora_core.environments import EnvConfig
from vectora_core.naming import ALARM_TOPIC, PROJECT_NAME, Pipeline, resource_name, role_name

# What SNS asks of the key on a publisher's behalf (named, never kms:*).
PUBLISH_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
CLOUDWATCH = "cloudwatch.amazonaws.com"


def alarm_arn_pattern(stack: Stack, env: str) -> str:
    """Every alarm of the environment: ``vectora-inbox-{rule}-{env}`` (the naming rule's)."""
    return f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{PROJECT_NAME}-*-{env}"


def alarm_topic_key(scope: Construct, id_: str, *, config: EnvConfig) -> kms.Key:
    """The topic's key: rotated yearly, usable by CloudWatch for this environment's alarms and by
    the state machine's role through SNS. The account keeps its default administration of it."""
    stack = Stack.of(scope)
    env, region, account = config.name, stack.region, stack.account
    key = kms.Key(
        scope,
        id_,
        alias=f"alias/{resource_name(ALARM_TOPIC, env)}",
        description=f"Encrypts {resource_name(ALARM_TOPIC, env)}: lets CloudWatch alarms publish to it",
        enable_key_rotation=True,
        # The topic keeps no message once delivered: nothing to lose with the key, so a deleted
        # stack schedules its deletion rather than leaving it billed forever.
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AlarmsOfThisEnvironmentPublish",
            principals=[iam.ServicePrincipal(CLOUDWATCH)],
            actions=PUBLISH_KEY_ACTIONS,
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": alarm_arn_pattern(stack, env)},
            },
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="StateMachinePublishesThroughSns",
            principals=[
                iam.ArnPrincipal(f"arn:aws:iam::{account}:role/{role_name(Pipeline.STATE_MACHINE, env)}")
            ],
            actions=PUBLISH_KEY_ACTIONS,
            resources=["*"],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
        )
    )
    return key


def allow_alarms_to_publish(topic: sns.Topic, *, config: EnvConfig) -> None:
    """The topic policy's grant to CloudWatch, for this environment's alarms only."""
    stack = Stack.of(topic)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AlarmsOfThisEnvironmentPublish",
            principals=[iam.ServicePrincipal(CLOUDWATCH)],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": alarm_arn_pattern(stack, config.name)},
            },
        )
    )
