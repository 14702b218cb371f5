"""The local CloudFormation answers GetTemplate / DescribeStacks as AWS does during an update.

AWS stores the submitted template when an update starts: while the stack is UPDATE_IN_PROGRESS,
GetTemplate returns the NEW template and DescribeStacks the new parameters; after a failed update
(UPDATE_ROLLBACK_COMPLETE) they are the previous ones again. The project's pre-update snapshot
runs inside the update, so what it sees must be what it would see on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from tests.local_aws.helpers import client, create_function, uid, wait_stack

# A custom resource that records what the stack looks like from inside the update.
PEEK_HANDLER = """
import json, time, urllib.request
import boto3

def handler(event, context):
    props = event["ResourceProperties"]
    cfn = boto3.client("cloudformation")
    body = cfn.get_template(StackName=event["StackId"], TemplateStage="Original")["TemplateBody"]
    stack = cfn.describe_stacks(StackName=event["StackId"])["Stacks"][0]
    record = {
        "RequestType": event["RequestType"],
        "Status": stack["StackStatus"],
        "TemplateMark": (body if isinstance(body, dict) else json.loads(body))["Description"],
        "Parameters": {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])},
    }
    key = "peeks/%d.json" % time.time_ns()
    boto3.client("s3").put_object(Bucket=props["Bucket"], Key=key, Body=json.dumps(record).encode())
    failed = props.get("Fail") == "yes"
    body = json.dumps({
        "Status": "FAILED" if failed else "SUCCESS",
        "Reason": "told to fail" if failed else "",
        "PhysicalResourceId": "peek-" + props["Bucket"],
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }).encode()
    urllib.request.urlopen(
        urllib.request.Request(event["ResponseURL"], data=body, method="PUT"), timeout=10
    ).read()
    return {}
"""


def _template(token: str, bucket: str, mark: str, param: str, *, fail: bool = False) -> str:
    peek = {"ServiceToken": token, "Bucket": bucket, "Mark": mark, "Fail": "yes" if fail else "no"}
    resources: dict[str, Any] = {
        "Peek": {"Type": "Custom::Peek", "Properties": peek},
        "Value": {
            "Type": "AWS::SSM::Parameter",
            "DependsOn": "Peek",
            "Properties": {"Name": param, "Type": "String", "Value": {"Ref": "Level"}},
        },
    }
    return json.dumps(
        {
            "Description": mark,
            "Parameters": {"Level": {"Type": "String"}},
            "Resources": resources,
        }
    )


def _peeks(aws: Any, bucket: str) -> list[dict[str, Any]]:
    s3 = client(aws, "s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="peeks/").get("Contents", []))
    return [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]


def _stored(aws: Any, name: str) -> tuple[str, dict[str, str]]:
    cfn = client(aws, "cloudformation")
    body = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    mark = (body if isinstance(body, dict) else json.loads(body))["Description"]
    return mark, {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def test_get_template_answers_the_new_template_during_an_update_and_the_old_after_a_rollback(patched_aws):
    u = uid()
    bucket, param, name = f"peek-{u}", f"/local-aws-test/{u}/level", f"peek-{u}"
    client(patched_aws, "s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    token = create_function(patched_aws, f"peek-{u}", {"index.py": PEEK_HANDLER})["FunctionArn"]
    cfn = client(patched_aws, "cloudformation")

    def update(mark: str, level: str, *, fail: bool = False) -> dict[str, Any]:
        cfn.update_stack(
            StackName=name,
            TemplateBody=_template(token, bucket, mark, param, fail=fail),
            Parameters=[{"ParameterKey": "Level", "ParameterValue": level}],
        )
        return wait_stack(patched_aws, name)

    # given a stack at template "v1"
    cfn.create_stack(
        StackName=name,
        TemplateBody=_template(token, bucket, "v1", param),
        Parameters=[{"ParameterKey": "Level", "ParameterValue": "1"}],
    )
    assert wait_stack(patched_aws, name)["StackStatus"] == "CREATE_COMPLETE"
    # when it is updated to "v2": from inside the update, the stack already answers the new template
    assert update("v2", "2")["StackStatus"] == "UPDATE_COMPLETE"
    assert _peeks(patched_aws, bucket)[-1] == {
        "RequestType": "Update",
        "Status": "UPDATE_IN_PROGRESS",
        "TemplateMark": "v2",
        "Parameters": {"Level": "2"},
    }
    assert _stored(patched_aws, name) == ("v2", {"Level": "2"})
    # when an update to "v3" fails (the peek answers FAILED): inside it the new, after the rollback the old
    assert update("v3", "3", fail=True)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _peeks(patched_aws, bucket)[-1]["TemplateMark"] == "v3"
    assert _peeks(patched_aws, bucket)[-1]["Parameters"] == {"Level": "3"}
    assert _stored(patched_aws, name) == ("v2", {"Level": "2"})
