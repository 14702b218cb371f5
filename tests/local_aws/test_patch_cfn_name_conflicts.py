"""cfn_name_conflicts: creating a named function, bucket, role or log group whose name exists
fails as on AWS (the stack rolls back, the existing resource untouched), and a change set that
would do it is refused before anything runs (early validation, DescribeEvents names it).
Also cfn_engine's RetainExceptOnCreate: deleted when the stack create that made it rolls back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, create_function, lambda_role, uid, wait_change_set, wait_stack
from tests.local_aws.test_patches import assert_patch_needed

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def named_resource(aws: LocalAws, resource_type: str, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AWS::S3::Bucket": {"BucketName": name},
        "AWS::Logs::LogGroup": {"LogGroupName": name},
        "AWS::IAM::Role": {"RoleName": name, "AssumeRolePolicyDocument": TRUST},
        "AWS::Lambda::Function": {
            "FunctionName": name,
            "Runtime": "python3.13",
            "Handler": "index.handler",
            "Role": lambda_role(aws) if resource_type == "AWS::Lambda::Function" else "",
            "Code": {"ZipFile": "def handler(event, context):\n    return 'from the template'\n"},
        },
    }[resource_type]
    return {"Type": resource_type, "Properties": properties}


def make_outside_any_stack(aws: LocalAws, resource_type: str, name: str) -> None:
    if resource_type == "AWS::S3::Bucket":
        client(aws, "s3").create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        client(aws, "s3").put_object(Bucket=name, Key="data.json", Body=b"{}")
    elif resource_type == "AWS::Logs::LogGroup":
        client(aws, "logs").create_log_group(logGroupName=name)
    elif resource_type == "AWS::IAM::Role":
        client(aws, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    else:
        create_function(aws, name, {"index.py": "def handler(event, context):\n    return 'original'\n"})


def fingerprint(aws: LocalAws, resource_type: str, name: str) -> Any:
    """What must not change when a stack fails to take the name."""
    if resource_type == "AWS::S3::Bucket":
        return [o["Key"] for o in client(aws, "s3").list_objects_v2(Bucket=name).get("Contents", [])]
    if resource_type == "AWS::Logs::LogGroup":
        return client(aws, "logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["arn"]
    if resource_type == "AWS::IAM::Role":
        return client(aws, "iam").get_role(RoleName=name)["Role"]["RoleId"]
    config = client(aws, "lambda").get_function(FunctionName=name)["Configuration"]
    return config["CodeSha256"], config["Role"]


def failure_reasons(aws: LocalAws, stack: str) -> dict[str, str]:
    events = client(aws, "cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return {
        e["LogicalResourceId"]: e.get("ResourceStatusReason", "")
        for e in events
        if e["ResourceStatus"] == "CREATE_FAILED"
    }


TYPES = ("AWS::Lambda::Function", "AWS::S3::Bucket", "AWS::IAM::Role", "AWS::Logs::LogGroup")


def check_create_over_existing_names_fails(aws: LocalAws) -> None:
    cfn = client(aws, "cloudformation")
    for resource_type in TYPES:
        name = f"taken-{uid()}"
        make_outside_any_stack(aws, resource_type, name)
        before = fingerprint(aws, resource_type, name)
        stack = f"conflict-{uid()}"
        sibling = f"sibling-{uid()}"  # created first, must be rolled back
        template = {
            "Resources": {
                "Sibling": named_resource(aws, "AWS::Logs::LogGroup", sibling),
                "Taken": {**named_resource(aws, resource_type, name), "DependsOn": "Sibling"},
            }
        }
        cfn.create_stack(
            StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
        )
        assert wait_stack(aws, stack)["StackStatus"] == "ROLLBACK_COMPLETE", resource_type
        assert failure_reasons(aws, stack)["Taken"] == f"{name} already exists", resource_type
        assert fingerprint(aws, resource_type, name) == before, resource_type
        assert client(aws, "logs").describe_log_groups(logGroupNamePrefix=sibling)["logGroups"] == []


def check_name_of_another_stack(aws: LocalAws) -> None:
    cfn = client(aws, "cloudformation")
    name, owner, other = f"/owned/{uid()}", f"owner-{uid()}", f"other-{uid()}"
    template = json.dumps({"Resources": {"Logs": named_resource(aws, "AWS::Logs::LogGroup", name)}})
    cfn.create_stack(StackName=owner, TemplateBody=template)
    owner_id = wait_stack(aws, owner)["StackId"]
    cfn.create_stack(StackName=other, TemplateBody=template)
    assert wait_stack(aws, other)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert failure_reasons(aws, other)["Logs"] == f"{name} already exists in stack {owner_id}"
    # the owner still has it
    resources = cfn.describe_stack_resources(StackName=owner)["StackResources"]
    assert [r["PhysicalResourceId"] for r in resources] == [name]


def test_create_over_an_existing_name_fails_and_rolls_back(
    patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    assert_patch_needed(
        "cfn_name_conflicts", check_create_over_existing_names_fails, patched_aws, aws_without
    )


def test_a_name_owned_by_another_stack_is_named_in_the_failure(patched_aws: LocalAws) -> None:
    check_name_of_another_stack(patched_aws)


def check_change_sets_refused_early(aws: LocalAws) -> None:
    cfn = client(aws, "cloudformation")
    bucket, function = f"early-{uid()}", f"early-fn-{uid()}"
    make_outside_any_stack(aws, "AWS::S3::Bucket", bucket)
    make_outside_any_stack(aws, "AWS::Lambda::Function", function)
    before = fingerprint(aws, "AWS::Lambda::Function", function)
    stack = f"early-{uid()}"
    # CREATE: the name comes from a parameter (as the team's templates pass it)
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Data": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": {"Fn::Sub": f"{bucket[:-3]}${{Suffix}}"}},
            },
        },
    }
    template["Parameters"]["Suffix"] = {"Type": "String"}
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName="cs1",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Suffix", "ParameterValue": bucket[-3:]}],
    )
    described = wait_change_set(aws, stack, "cs1")
    assert described["Status"] == "FAILED"
    assert described["ExecutionStatus"] == "UNAVAILABLE"
    assert "[AWS::EarlyValidation::ResourceExistenceCheck]" in described["StatusReason"]
    events = cfn.describe_events(StackName=stack, ChangeSetName="cs1", Filters={"FailedEvents": True})
    [event] = events["OperationEvents"]
    assert event["LogicalResourceId"] == "Data"
    assert event["ValidationName"] == "NAME_CONFLICT_VALIDATION"
    assert event["ValidationStatusReason"] == (
        f"Resource of type 'AWS::S3::Bucket' with identifier '{bucket}' already exists."
    )
    assert event["ValidationPath"] == "/Resources/Data"
    with pytest.raises(ClientError, match="cannot be executed"):
        cfn.execute_change_set(StackName=stack, ChangeSetName="cs1")
    # a new CREATE change set with a free name: the same stack (not a second one), created
    free = {"Resources": {"Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"free-{uid()}"}}}}
    cfn.create_change_set(
        StackName=stack, ChangeSetName="cs2", ChangeSetType="CREATE", TemplateBody=json.dumps(free)
    )
    assert wait_change_set(aws, stack, "cs2")["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(StackName=stack, ChangeSetName="cs2")
    assert wait_stack(aws, stack)["StackStatus"] == "CREATE_COMPLETE"
    live = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == stack]
    assert [s["StackStatus"] for s in live] == ["CREATE_COMPLETE"]
    # UPDATE adding a function whose name exists: refused, nothing changed
    updated = {
        "Resources": {**free["Resources"], "Fn": named_resource(aws, "AWS::Lambda::Function", function)}
    }
    cfn.create_change_set(
        StackName=stack, ChangeSetName="cs3", ChangeSetType="UPDATE", TemplateBody=json.dumps(updated)
    )
    described = wait_change_set(aws, stack, "cs3")
    assert described["Status"] == "FAILED"
    assert "AWS::EarlyValidation" in described["StatusReason"]
    [event] = cfn.describe_events(StackName=stack, ChangeSetName="cs3")["OperationEvents"]
    assert (event["LogicalResourceId"], event["ResourceType"]) == ("Fn", "AWS::Lambda::Function")
    assert fingerprint(aws, "AWS::Lambda::Function", function) == before
    # an update that keeps its own named resources is not a conflict
    tagged = json.loads(json.dumps(free))
    tagged["Resources"]["Data"]["Properties"]["Tags"] = [{"Key": "k", "Value": "v"}]
    cfn.create_change_set(
        StackName=stack, ChangeSetName="cs4", ChangeSetType="UPDATE", TemplateBody=json.dumps(tagged)
    )
    assert wait_change_set(aws, stack, "cs4")["Status"] == "CREATE_COMPLETE"


def test_change_sets_creating_existing_names_are_refused_early(
    patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    assert_patch_needed("cfn_name_conflicts", check_change_sets_refused_early, patched_aws, aws_without)


def check_retain_except_on_create(aws: LocalAws) -> None:
    cfn, s3 = client(aws, "cloudformation"), client(aws, "s3")
    kept, dropped = f"retain-{uid()}", f"retain-except-{uid()}"

    def resources(failing: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "Kept": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "Properties": {"BucketName": kept},
            },
            "Dropped": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "RetainExceptOnCreate",
                "UpdateReplacePolicy": "RetainExceptOnCreate",
                "Properties": {"BucketName": dropped},
            },
        }
        if failing:  # an SSM parameter without its Value fails (moto: KeyError), after both buckets
            found["Broken"] = {
                "Type": "AWS::SSM::Parameter",
                "DependsOn": ["Kept", "Dropped"],
                "Properties": {"Name": f"/broken/{uid()}", "Type": "String"},
            }
        return found

    def buckets() -> set[str]:
        return {b["Name"] for b in s3.list_buckets()["Buckets"]} & {kept, dropped}

    stack = f"rexc-{uid()}"
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": resources(failing=True)}))
    assert wait_stack(aws, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    # the create that made them rolled back: Retain keeps its bucket, RetainExceptOnCreate does not
    assert buckets() == {kept}
    s3.delete_bucket(Bucket=kept)
    cfn.delete_stack(StackName=stack)
    wait_stack(aws, stack)
    # created by a stack create that succeeded: both are retained when the stack is deleted
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": resources(failing=False)}))
    assert wait_stack(aws, stack)["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=stack)
    assert wait_stack(aws, stack)["StackStatus"] == "DELETE_COMPLETE"
    assert buckets() == {kept, dropped}


def test_retain_except_on_create(patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]) -> None:
    assert_patch_needed("cfn_engine", check_retain_except_on_create, patched_aws, aws_without)
