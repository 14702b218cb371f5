"""``python -m local_aws deploy --env stage|prod`` ends with status 0 once the deploy succeeded.

Its bootstrap synthesized without the alarm subscribers stage and prod require; stage refuses a
publish without a snapshot newer than its last change, prod any publish at all (configs reach it by
promotion), and the demo runs dev only: each turned a successful deploy into exit 1. On an
emulator of its own (both environments deployed by the real CDK CLI), so the session's
``deployed_dev`` stays as it is. The deployed stage alarms reach their topic: the local AWS publishes an
alarm's actions as CloudWatch, through the topic policy and the topic key's policy (issue 23).
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest

from local_aws.deploy import PRE_PUBLISH_SNAPSHOT_NAME, deploy_environment
from local_aws.server import LocalAws
from tests.conftest import remove_caches
from vectora_core.naming import ALARM_TOPIC, Bucket, Function, resource_name

pytestmark = pytest.mark.e2e


def test_a_local_deploy_of_stage_then_prod_ends_with_status_0() -> None:
    work = Path(tempfile.mkdtemp(prefix="vectora-deploy-stage-prod-"))
    aws = LocalAws(port=0, state_dir=work / "state")
    try:
        out = io.StringIO()
        status = deploy_environment(aws, "stage", out=out)
        output = out.getvalue()
        assert status == 0, output
        assert output.rstrip().splitlines()[-1] == f"AWS_ENDPOINT_URL={aws.endpoint_url}"
        s3 = aws.client("s3")
        # stage: snapshotted, then published (its guard holds: the snapshot is what lets it through)
        snapshots = s3.list_objects_v2(Bucket=resource_name(Bucket.BACKUPS, "stage"), Prefix="snapshots/")
        assert any(
            o["Key"].startswith(f"snapshots/{PRE_PUBLISH_SNAPSHOT_NAME}_")
            for o in snapshots.get("Contents", [])
        ), output
        s3.head_object(Bucket=resource_name(Bucket.CONFIG, "stage"), Key="clients/lai_weekly.yaml")
        assert "pipeline not run" in output
        assert_a_deployed_alarm_reaches_its_topic(aws, "stage")

        out = io.StringIO()
        status = deploy_environment(aws, "prod", out=out)
        output = out.getvalue()
        assert status == 0, output
        assert "not published: prod receives configs by promotion from stage" in output
        # nothing reached prod's config bucket directly
        listed = s3.list_objects_v2(Bucket=resource_name(Bucket.CONFIG, "prod"))
        assert not listed.get("Contents"), listed.get("Contents")
    finally:
        aws.stop()
        remove_caches(work)


def assert_a_deployed_alarm_reaches_its_topic(aws: LocalAws, env: str) -> None:
    """An alarm the stack created, set to ALARM, is delivered to a subscriber of the alarm topic."""
    sns, sqs, cloudwatch = aws.client("sns"), aws.client("sqs"), aws.client("cloudwatch")
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{resource_name(ALARM_TOPIC, env)}")
    )
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId"), "not encrypted"
    queue = sqs.create_queue(QueueName=f"alarm-subscriber-{env}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    name = resource_name(f"{Function.INGEST}-errors", env)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: errors")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert len(messages) == 1, summaries
    notification = json.loads(json.loads(messages[0]["Body"])["Message"])
    assert (notification["AlarmName"], notification["NewStateValue"]) == (name, "ALARM")
    assert summaries == [f"Successfully executed action {topic}"]
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test: recovered")
