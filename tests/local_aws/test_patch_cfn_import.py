"""cfn_import: an IMPORT change set adopts existing buckets, log groups and functions into a
stack without recreating them (objects and code kept), and refuses what AWS refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, create_function, uid, wait_change_set, wait_stack
from tests.local_aws.test_patches import assert_patch_needed

MARKER = {
    "Type": "AWS::SSM::Parameter",
    "Properties": {"Name": f"/imp/{uid()}", "Type": "String", "Value": "x"},
}


def adopted(bucket: str, logs: str, function: str, role_arn: str) -> dict[str, Any]:
    return {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {"BucketName": bucket},
        },
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "Properties": {"LogGroupName": logs},
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "DeletionPolicy": "Retain",
            "Properties": {
                "FunctionName": function,
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": role_arn,
                "Code": {"ZipFile": "def handler(event, context):\n    return 'template'\n"},
            },
        },
    }


def to_import(bucket: str, logs: str, function: str) -> list[dict[str, Any]]:
    return [
        {
            "ResourceType": "AWS::S3::Bucket",
            "LogicalResourceId": "Bucket",
            "ResourceIdentifier": {"BucketName": bucket},
        },
        {
            "ResourceType": "AWS::Logs::LogGroup",
            "LogicalResourceId": "Logs",
            "ResourceIdentifier": {"LogGroupName": logs},
        },
        {
            "ResourceType": "AWS::Lambda::Function",
            "LogicalResourceId": "Fn",
            "ResourceIdentifier": {"FunctionName": function},
        },
    ]


def check_import_adopts_existing_resources(aws: LocalAws) -> None:
    cfn, s3 = client(aws, "cloudformation"), client(aws, "s3")
    bucket, logs, function = f"imp-{uid()}", f"/aws/lambda/imp-{uid()}", f"imp-{uid()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    versions = [s3.put_object(Bucket=bucket, Key="k.json", Body=body)["VersionId"] for body in (b"1", b"2")]
    client(aws, "logs").create_log_group(logGroupName=logs)
    config = create_function(aws, function, {"index.py": "def handler(event, context):\n    return 'mine'\n"})
    stack = f"imp-{uid()}"
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"Marker": MARKER}}))
    assert wait_stack(aws, stack)["StackStatus"] == "CREATE_COMPLETE"

    template = {"Resources": {"Marker": MARKER, **adopted(bucket, logs, function, config["Role"])}}
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName="adopt",
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps(template),
        ResourcesToImport=to_import(bucket, logs, function),
    )
    described = wait_change_set(aws, stack, "adopt")
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    assert sorted(
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"])
        for c in described["Changes"]
    ) == [
        ("Import", "Bucket"),
        ("Import", "Fn"),
        ("Import", "Logs"),
    ]
    cfn.execute_change_set(StackName=stack, ChangeSetName="adopt")
    assert wait_stack(aws, stack)["StackStatus"] == "IMPORT_COMPLETE"
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
    }
    assert {k: resources[k] for k in ("Bucket", "Logs", "Fn")} == {
        "Bucket": bucket,
        "Logs": logs,
        "Fn": function,
    }
    # adopted, not recreated: every object version and the function's own code are still there
    listed = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["VersionId"] for v in listed) == sorted(versions)
    now = client(aws, "lambda").get_function(FunctionName=function)["Configuration"]
    assert now["CodeSha256"] == config["CodeSha256"]
    # a later update of the stack works on the imported resources, and Retain keeps them on delete
    template["Resources"]["Bucket"]["Properties"]["Tags"] = [{"Key": "Project", "Value": "vectora-inbox"}]
    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(template))
    assert wait_stack(aws, stack)["StackStatus"] == "UPDATE_COMPLETE"
    cfn.delete_stack(StackName=stack)
    assert wait_stack(aws, stack)["StackStatus"] == "DELETE_COMPLETE"
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 2
    client(aws, "lambda").get_function(FunctionName=function)


def test_import_adopts_existing_resources(
    patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    assert_patch_needed("cfn_import", check_import_adopts_existing_resources, patched_aws, aws_without)


def test_import_into_a_new_stack(patched_aws: LocalAws) -> None:
    cfn, s3 = client(aws := patched_aws, "cloudformation"), client(patched_aws, "s3")
    bucket, stack = f"imp-new-{uid()}", f"imp-new-{uid()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    resource = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": bucket}}
    template = {"Resources": {"Bucket": resource}, "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}}}
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName="adopt",
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps(template),
        ResourcesToImport=to_import(bucket, "", "")[:1],
    )
    assert wait_change_set(aws, stack, "adopt")["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(StackName=stack, ChangeSetName="adopt")
    described = wait_stack(aws, stack)
    assert described["StackStatus"] == "IMPORT_COMPLETE"
    assert described["Outputs"][0]["OutputValue"] == bucket
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"
    # the bucket now belongs to that stack: another import of it is refused
    other = f"imp-other-{uid()}"
    cfn.create_change_set(
        StackName=other,
        ChangeSetName="again",
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps({"Resources": {"Bucket": resource}}),
        ResourcesToImport=to_import(bucket, "", "")[:1],
    )
    refused = wait_change_set(aws, other, "again")
    assert refused["Status"] == "FAILED"
    assert "already belongs to stack" in refused["StatusReason"]


def test_import_refusals(patched_aws: LocalAws) -> None:
    aws = patched_aws
    cfn = client(aws, "cloudformation")
    stack = f"imp-no-{uid()}"
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"Marker": MARKER}}))
    wait_stack(aws, stack)
    missing = f"imp-missing-{uid()}"
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": missing}}
    request = {
        "StackName": stack,
        "ChangeSetType": "IMPORT",
        "ResourcesToImport": to_import(missing, "", "")[:1],
    }
    # AWS requires a DeletionPolicy on every imported resource
    with pytest.raises(ClientError, match=r"resources to import \[Bucket\] must have DeletionPolicy"):
        cfn.create_change_set(
            ChangeSetName="a",
            TemplateBody=json.dumps({"Resources": {"Marker": MARKER, "Bucket": bucket}}),
            **request,
        )
    retained = {**bucket, "DeletionPolicy": "Retain"}
    # nothing but the import may change
    changed = {
        "Resources": {
            "Marker": {**MARKER, "Properties": {**MARKER["Properties"], "Value": "y"}},
            "Bucket": retained,
        }
    }
    with pytest.raises(ClientError, match=r"modified resources \[Marker\]"):
        cfn.create_change_set(ChangeSetName="b", TemplateBody=json.dumps(changed), **request)
    # a resource that does not exist cannot be imported
    cfn.create_change_set(
        ChangeSetName="c",
        TemplateBody=json.dumps({"Resources": {"Marker": MARKER, "Bucket": retained}}),
        **request,
    )
    described = wait_change_set(aws, stack, "c")
    assert described["Status"] == "FAILED"
    assert f"'{missing}' (Bucket) does not exist" in described["StatusReason"]
    assert wait_stack(aws, stack)["StackStatus"] == "CREATE_COMPLETE"
