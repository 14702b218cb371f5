"""The local AWS patch the promotion needs (``cloudwatch_alarms``): the behaviour AWS has, on an
emulator with every patch, and the same check failing on one with only that patch left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, deploy_with_change_set, uid
from tests.local_aws.test_patches import assert_patch_needed


def alarm_template(name: str, threshold: int, *, until: str = "0") -> dict:
    """A plain alarm, and a metric-math alarm that reads a parameter (the reinforced alarms' shape)."""
    return {
        "Parameters": {"Until": {"Type": "Number", "Default": until}},
        "Resources": {
            "Plain": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": name,
                    "Namespace": "VectoraInbox",
                    "MetricName": "ItemsIngested",
                    "Dimensions": [{"Name": "environment", "Value": "test"}],
                    "Statistic": "Sum",
                    "Period": 3600,
                    "EvaluationPeriods": 1,
                    "Threshold": threshold,
                    "ComparisonOperator": "LessThanThreshold",
                    "TreatMissingData": "notBreaching",
                },
            },
            "Math": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"{name}-math",
                    "EvaluationPeriods": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Metrics": [
                        {
                            "Id": "m",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"},
                                "Period": 60,
                                "Stat": "Sum",
                            },
                        },
                        {
                            "Id": "expr",
                            "Expression": {"Fn::Join": ["", ["IF(EPOCH(m) < ", {"Ref": "Until"}, ", m, 0)"]]},
                            "ReturnData": True,
                        },
                    ],
                },
            },
        },
        "Outputs": {
            "PlainArn": {"Value": {"Fn::GetAtt": ["Plain", "Arn"]}},
            "MathRef": {"Value": {"Ref": "Math"}},
        },
    }


def check_alarms_from_templates_and_history(aws: LocalAws) -> None:
    cfn, cw = client(aws, "cloudformation"), client(aws, "cloudwatch")
    stack, name = f"alarms-{uid()}", f"alarm-{uid()}"
    started = datetime.now(UTC) - timedelta(seconds=5)
    # a stack creates both alarms; Ref is the name, GetAtt Arn the ARN, the expression is resolved
    created = deploy_with_change_set(aws, stack, alarm_template(name, 1, until="1700000000"))
    assert created["StackStatus"] == "CREATE_COMPLETE", created
    outputs = {o["OutputKey"]: o["OutputValue"] for o in created.get("Outputs", [])}
    assert outputs["MathRef"] == f"{name}-math"
    assert outputs["PlainArn"].endswith(f":alarm:{name}")
    (plain,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (plain["MetricName"], plain["Threshold"]) == ("ItemsIngested", 1.0)
    (math,) = cw.describe_alarms(AlarmNames=[f"{name}-math"])["MetricAlarms"]
    expressions = [m.get("Expression") for m in math["Metrics"]]
    assert "IF(EPOCH(m) < 1700000000, m, 0)" in expressions
    # an update changes it in place; the alarm's state changes are its history
    updated = deploy_with_change_set(aws, stack, alarm_template(name, 5))
    assert updated["StackStatus"] == "UPDATE_COMPLETE", updated
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["Threshold"] == 5.0
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: breached")
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test: recovered")
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate", StartDate=started)
    states = [json.loads(i["HistoryData"])["newState"]["stateValue"] for i in history["AlarmHistoryItems"]]
    assert states == ["OK", "ALARM"]  # newest first, as on AWS
    assert history["AlarmHistoryItems"][1]["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert (
        cw.describe_alarm_history(AlarmName=name, StartDate=datetime.now(UTC) + timedelta(hours=1))[
            "AlarmHistoryItems"
        ]
        == []
    )
    # deleting the stack deletes the alarms; their history stays readable
    cfn.delete_stack(StackName=stack)
    assert cw.describe_alarms(AlarmNames=[name, f"{name}-math"])["MetricAlarms"] == []
    assert cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]


def test_alarms_from_templates_and_their_history(patched_aws, aws_without) -> None:
    assert_patch_needed(
        "cloudwatch_alarms", check_alarms_from_templates_and_history, patched_aws, aws_without
    )


def check_template_buckets_are_versioned(aws: LocalAws) -> None:
    s3 = client(aws, "s3")
    stack, bucket = f"versioned-{uid()}", f"versioned-{uid()}"
    template = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": bucket, "VersioningConfiguration": {"Status": "Enabled"}},
            }
        }
    }
    assert deploy_with_change_set(aws, stack, template)["StackStatus"] == "CREATE_COMPLETE"
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert first and second and first != second
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=first)["Body"].read() == b"one"
    # an update that drops the property suspends versioning (a bucket never goes back to unversioned)
    del template["Resources"]["Bucket"]["Properties"]["VersioningConfiguration"]
    template["Resources"]["Bucket"]["Properties"]["Tags"] = [{"Key": "k", "Value": "v"}]
    assert deploy_with_change_set(aws, stack, template)["StackStatus"] == "UPDATE_COMPLETE"
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Suspended"


def test_template_buckets_are_versioned(patched_aws, aws_without) -> None:
    assert_patch_needed("cfn_s3_versioning", check_template_buckets_are_versioned, patched_aws, aws_without)
