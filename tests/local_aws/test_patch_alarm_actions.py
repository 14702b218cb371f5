"""The ``cloudwatch_alarms`` patch executes an alarm's SNS actions as CloudWatch, through the IAM/KMS
evaluation: a topic whose key lets ``cloudwatch.amazonaws.com`` use it receives the alarm, one whose
key policy omits CloudWatch does not, and the alarm's history says "Failed to execute action", as on
AWS. Without the patch no alarm notifies anyone."""

from __future__ import annotations

import json
from typing import Any

from local_aws import settings
from local_aws.server import LocalAws
from tests.local_aws.helpers import REGION, client, uid
from tests.local_aws.test_patches import assert_patch_needed

ACCOUNT = settings.ACCOUNT_ID
ROOT = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def _cloudwatch_may(actions: list[str], resource: str, alarm_prefix: str) -> dict[str, Any]:
    """The grant of vectora_constructs/alarm_topic.py: this account's alarms of one name pattern."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": actions,
        "Resource": resource,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_prefix}*"},
        },
    }


def _topic(aws: LocalAws, key: str, prefix: str) -> tuple[str, str]:
    """(topic ARN, subscribed queue URL): a topic under ``key``, its policy letting the alarms publish."""
    sns, sqs = client(aws, "sns"), client(aws, "sqs")
    topic = sns.create_topic(Name=f"alarms-{uid()}", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    policy = {"Version": "2012-10-17", "Statement": [_cloudwatch_may(["sns:Publish"], topic, prefix)]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    queue = sqs.create_queue(QueueName=f"subscriber-{uid()}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def _key(aws: LocalAws, statements: list[dict[str, Any]]) -> str:
    policy = {"Version": "2012-10-17", "Statement": statements}
    return str(client(aws, "kms").create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def _received(aws: LocalAws, queue: str) -> list[dict[str, Any]]:
    messages = client(aws, "sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]


def _alarm(aws: LocalAws, name: str, topics: list[str]) -> None:
    client(aws, "cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="VectoraInbox",
        MetricName="ItemsIngested",
        Statistic="Sum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        AlarmActions=topics,
    )


def _actions(aws: LocalAws, name: str) -> list[str]:
    items = client(aws, "cloudwatch").describe_alarm_history(
        AlarmName=name, HistoryItemType="Action", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    return [item["HistorySummary"] for item in items]


def check_alarm_actions_as_cloudwatch(aws: LocalAws) -> None:
    prefix = f"vectora-inbox-{uid()}-"
    name = f"{prefix}errors-stage"
    usable = _key(aws, [ROOT, _cloudwatch_may(["kms:Decrypt", "kms:GenerateDataKey"], "*", prefix)])
    reached, reached_queue = _topic(aws, usable, prefix)
    # the key policy omits CloudWatch (the account's administration only)
    silent, silent_queue = _topic(aws, _key(aws, [ROOT]), prefix)
    _alarm(aws, name, [reached, silent])

    client(aws, "cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="test: breached"
    )

    received = _received(aws, reached_queue)
    assert len(received) == 1, received  # (stock moto notifies nobody)
    notification = received[0]
    assert (notification["AlarmName"], notification["NewStateValue"]) == (name, "ALARM")
    assert notification["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
    assert _received(aws, silent_queue) == []
    actions = _actions(aws, name)
    assert len(actions) == 2, actions
    succeeded, failed = actions
    assert succeeded == f"Successfully executed action {reached}"
    assert failed.startswith(f"Failed to execute action {silent}. Received error: ")
    assert "User: cloudwatch.amazonaws.com is not authorized to perform: kms:GenerateDataKey" in failed

    # the same state again is no change: nobody is notified twice
    client(aws, "cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: still")
    assert _received(aws, reached_queue) == [] and len(_actions(aws, name)) == 2

    # an alarm the grants do not name (another environment's, say) cannot publish to the topic
    other = f"vectora-inbox-{uid()}-errors-dev"
    _alarm(aws, other, [reached])
    client(aws, "cloudwatch").set_alarm_state(AlarmName=other, StateValue="ALARM", StateReason="test")
    assert _received(aws, reached_queue) == []
    assert [a for a in _actions(aws, other) if "is not authorized to perform: sns:Publish" in a]


def test_alarm_actions_are_executed_as_cloudwatch_through_iam_and_kms(patched_aws, aws_without) -> None:
    assert_patch_needed("cloudwatch_alarms", check_alarm_actions_as_cloudwatch, patched_aws, aws_without)
