"""Every alarm action of every environment can be published by CloudWatch (issue 23, item 1).

CloudWatch publishes an alarm to an encrypted topic as the service principal
``cloudwatch.amazonaws.com``, with the alarm as ``aws:SourceArn`` and its account as
``aws:SourceAccount``: the topic's key policy must let it ``kms:GenerateDataKey`` and ``kms:Decrypt``,
and the topic policy (when the stack sets one, it replaces SNS's default) must let it
``sns:Publish``. Read from the session's synthesized templates (``tests/iam/world.py`` resolves
them as CloudFormation would in one account) and decided by the project's IAM evaluator, the one
the local AWS enforces with. The last test proves the check fails where AWS would drop the alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from local_aws.iam.evaluator import IamRequest, evaluate
from local_aws.iam.mapping import aws_managed_key_policy
from tests.iam.world import ACCOUNT, World, _Resolver, load_world
from tests.support.assembly import CloudAssembly
from vectora_core.naming import ENV_NAMES

CLOUDWATCH = "cloudwatch.amazonaws.com"
ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# What SNS asks of the topic key when it encrypts a message for a publisher.
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True)
class AlarmAction:
    env: str
    region: str
    alarm: str  # the alarm's name
    topic: str  # the action's ARN

    @property
    def alarm_arn(self) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{ACCOUNT}:alarm:{self.alarm}"


def alarm_actions(assembly: CloudAssembly) -> list[AlarmAction]:
    """Every action of every alarm of every stack, resolved."""
    found = []
    for stack_name, template in sorted(assembly.templates.items()):
        env = stack_name.rsplit("-", 1)[-1]
        region = assembly.artifact(stack_name)["environment"].rsplit("/", 1)[-1]
        resolve = _Resolver(template, region, stack_name)
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::CloudWatch::Alarm":
                continue
            props = resource["Properties"]
            for key in ACTION_KEYS:
                for action in props.get(key, []):
                    found.append(AlarmAction(env, region, resolve(props["AlarmName"]), resolve(action)))
    return found


def publish_denials(
    world: World,
    action: AlarmAction,
    *,
    key_policy: Mapping[str, Any] | None = None,
    source_account: str = ACCOUNT,
) -> list[str]:
    """What stops CloudWatch from publishing ``action``'s alarm (empty: AWS delivers it).

    ``key_policy`` stands for the topic key's policy (a test of the check itself)."""
    topic = action.topic
    if not topic.startswith("arn:aws:sns:"):
        return [f"{action.alarm}: action {topic} is not an SNS topic (no other kind is checked here)"]
    key = world.topic_keys.get(topic)
    if key is None:
        return [f"{action.alarm}: topic {topic} is not encrypted (KmsMasterKeyId)"]
    if key_policy is None:
        managed = key.split(":")[-1].startswith("alias/aws/")
        key_policy = (
            aws_managed_key_policy("sns", action.region, ACCOUNT) if managed else world.key_policies[key]
        )
    source = {"aws:SourceAccount": source_account, "aws:SourceArn": action.alarm_arn}
    checks: list[tuple[str, str, Mapping[str, Any] | None, dict[str, str]]] = [
        (kms_action, key, key_policy, {**source, "kms:ViaService": f"sns.{action.region}.amazonaws.com"})
        for kms_action in KEY_ACTIONS
    ]
    topic_policy = world.topic_policies.get(topic)
    if topic_policy is not None:  # without one, SNS's default policy lets the account's alarms publish
        checks.append(("sns:Publish", topic, topic_policy, source))
    denials = []
    for iam_action, resource, policy, context in checks:
        decision = evaluate(
            IamRequest(CLOUDWATCH, iam_action, resource, context),
            identity_policies=[],
            resource_policy=policy,
            resource_account=ACCOUNT,
            region=action.region,
        )
        if not decision.allowed:
            denials.append(f"{action.alarm} -> {topic}: {iam_action} on {resource}: {decision.reason}")
    return denials


@pytest.fixture(scope="module")
def world(assembly: CloudAssembly) -> World:
    return load_world(assembly)


@pytest.fixture(scope="module")
def actions(assembly: CloudAssembly) -> list[AlarmAction]:
    return alarm_actions(assembly)


def test_every_alarm_of_stage_and_prod_has_an_action(actions: list[AlarmAction]) -> None:
    # An alarm without action reaches nobody either; and the check below must not pass on nothing.
    envs_with_actions = {a.env for a in actions}
    assert {"stage", "prod"} <= envs_with_actions, envs_with_actions
    assert envs_with_actions <= set(ENV_NAMES)


def test_every_alarm_action_can_be_published_by_cloudwatch(world: World, actions: list[AlarmAction]) -> None:
    denials = [denial for action in actions for denial in publish_denials(world, action)]
    assert denials == []


def test_the_check_fails_where_aws_drops_the_alarm(world: World, actions: list[AlarmAction]) -> None:
    action = next(a for a in actions if a.env == "prod")
    key_policy = world.key_policies[world.topic_keys[action.topic]]
    # the AWS-managed aws/sns key (the defect): its fixed policy serves the account's principals only
    managed = aws_managed_key_policy("sns", action.region, ACCOUNT)
    assert len(publish_denials(world, action, key_policy=managed)) == len(KEY_ACTIONS)
    # the project's key without its CloudWatch statement
    without = {
        **key_policy,
        "Statement": [
            s
            for s in key_policy["Statement"]
            if CLOUDWATCH not in str(s.get("Principal", {}).get("Service", ""))
        ],
    }
    assert len(without["Statement"]) < len(key_policy["Statement"])
    assert len(publish_denials(world, action, key_policy=without)) == len(KEY_ACTIONS)
    # another account's alarm (the confused deputy): neither the key nor the topic takes it
    assert len(publish_denials(world, action, source_account="444455556666")) == len(KEY_ACTIONS) + 1
    # another environment's alarm cannot publish to this environment's topic
    stage_alarm = AlarmAction("prod", action.region, action.alarm.replace("-prod", "-stage"), action.topic)
    assert publish_denials(world, stage_alarm)
