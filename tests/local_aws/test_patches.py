"""One test per patch of ``local_aws/patches/``: the behaviour AWS has, on an emulator with every
patch, and the same check failing on an emulator with only that patch left out (so no test here
passes on stock moto by accident).

The checks talk to the emulator the way the CDK CLI does (API calls, change sets); the real CLI
runs against the fixture app in ``test_cdk_cli.py``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from local_aws.lambda_runtime import runner
from local_aws.server import LocalAws
from tests.local_aws.helpers import (
    client,
    create_function,
    deploy_with_change_set,
    invoke,
    outputs,
    uid,
    wait_stack,
    zip_bytes,
)

# What "the check fails" may look like on an emulator without the patch.
# (an HTTP 500 from moto is an HTML page: ResponseParserError)
FAILURES = (AssertionError, ClientError, BotoCoreError, ResponseParserError, TimeoutError, KeyError)

Check = Callable[[LocalAws], None]


def assert_patch_needed(
    patch: str, check: Check, patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    # given every patch, the check passes
    check(patched_aws)
    # given all but this one, the same check fails
    with pytest.raises(FAILURES):
        check(aws_without(patch))


# --- lambda_runner -----------------------------------------------------------------------------

RUNNER_HANDLER = """
import importlib.util, os, sys
import boto3

def handler(event, context):
    return {
        "greeting": os.environ["GREETING"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "python": list(sys.version_info[:2]),
        "venv_module_visible": importlib.util.find_spec("yaml") is not None,
        "boto3": boto3.__version__,
        "function_name": context.function_name,
        "event": event,
    }
"""


def check_lambda_runner(aws: LocalAws) -> None:
    name = f"runner-{uid()}"
    create_function(aws, name, {"index.py": RUNNER_HANDLER}, env={"GREETING": "hi"})
    payload, error = invoke(aws, name, {"n": 1})
    assert error is None, payload
    assert payload["greeting"] == "hi"
    assert payload["endpoint"] == aws.endpoint_url  # the handler calls back into the emulator
    # the runtime's interpreter (python3.13; on a machine without one, the runner's fallback)
    interpreter = runner.find_interpreter("python3.13")
    assert payload["python"] == [int(part) for part in interpreter.version.split(".")[:2]]
    assert payload["venv_module_visible"] is False  # only code, layers and the runtime SDK
    assert payload["function_name"] == name
    assert payload["event"] == {"n": 1}


def test_lambda_runner_runs_the_handler_without_docker(patched_aws, aws_without):
    assert_patch_needed("lambda_runner", check_lambda_runner, patched_aws, aws_without)


# --- lambda_layers -----------------------------------------------------------------------------

LAYER_HANDLER = """
import local_aws_test_layer

def handler(event, context):
    return {"layer": local_aws_test_layer.VALUE}
"""


def _role_resource() -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }


def check_lambda_layers(aws: LocalAws) -> None:
    u = uid()
    s3, bucket = client(aws, "s3"), f"layers-{u}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(
        Bucket=bucket, Key="layer.zip", Body=zip_bytes({"python/local_aws_test_layer.py": "VALUE = 'L'"})
    )
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=zip_bytes({"index.py": LAYER_HANDLER}))
    template = {
        "Resources": {
            "Role": _role_resource(),
            "Layer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {
                    "LayerName": f"lyr-{u}",
                    "Content": {"S3Bucket": bucket, "S3Key": "layer.zip"},
                    "CompatibleRuntimes": ["python3.13"],
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"fn-{u}",
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"S3Bucket": bucket, "S3Key": "fn.zip"},
                    "Layers": [{"Ref": "Layer"}],
                    "Timeout": 30,
                },
            },
        },
        "Outputs": {"LayerArn": {"Value": {"Ref": "Layer"}}},
    }
    stack = deploy_with_change_set(aws, f"layers-{u}", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    layer_arn = f"arn:aws:lambda:eu-west-3:123456789012:layer:lyr-{u}:1"
    assert outputs(stack)["LayerArn"] == layer_arn  # Ref is the version ARN
    config = client(aws, "lambda").get_function_configuration(FunctionName=f"fn-{u}")
    assert [layer["Arn"] for layer in config.get("Layers", [])] == [layer_arn]
    payload, error = invoke(aws, f"fn-{u}")
    assert (payload, error) == ({"layer": "L"}, None)
    # an update of the layer's content publishes version 2, which the function then uses
    s3.put_object(
        Bucket=bucket, Key="layer2.zip", Body=zip_bytes({"python/local_aws_test_layer.py": "VALUE = 'L2'"})
    )
    template["Resources"]["Layer"]["Properties"]["Content"]["S3Key"] = "layer2.zip"
    stack = deploy_with_change_set(aws, f"layers-{u}", template)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    assert outputs(stack)["LayerArn"] == layer_arn.removesuffix(":1") + ":2"
    assert invoke(aws, f"fn-{u}") == ({"layer": "L2"}, None)
    # and deleting the stack removes the layer version it holds
    client(aws, "cloudformation").delete_stack(StackName=f"layers-{u}")
    assert wait_stack(aws, f"layers-{u}")["StackStatus"] == "DELETE_COMPLETE"
    versions = client(aws, "lambda").list_layer_versions(LayerName=f"lyr-{u}")["LayerVersions"]
    assert 2 not in [v["Version"] for v in versions], versions


def test_lambda_layers_from_templates(patched_aws, aws_without):
    assert_patch_needed("lambda_layers", check_lambda_layers, patched_aws, aws_without)


# --- lambda_code_location ----------------------------------------------------------------------


def _download(url: str, aws: LocalAws) -> bytes:
    # Only the emulator may be fetched: a URL elsewhere is the bug being tested, not a thing to GET.
    assert url.startswith(aws.endpoint_url + "/"), url
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # http://localhost only
        return bytes(response.read())


def check_lambda_code_location(aws: LocalAws) -> None:
    u = uid()
    code = {"index.py": "def handler(event, context):\n    return 1\n"}
    create_function(aws, f"code-{u}", code)
    lambda_ = client(aws, "lambda")
    location = lambda_.get_function(FunctionName=f"code-{u}")["Code"]["Location"]
    assert _download(location, aws) == zip_bytes(code)
    layer_zip = zip_bytes({"python/x.py": "X = 1"})
    version = lambda_.publish_layer_version(LayerName=f"code-layer-{u}", Content={"ZipFile": layer_zip})
    content = lambda_.get_layer_version(LayerName=f"code-layer-{u}", VersionNumber=version["Version"])[
        "Content"
    ]
    assert _download(content["Location"], aws) == layer_zip


def test_lambda_code_location_is_downloadable(patched_aws, aws_without):
    assert_patch_needed("lambda_code_location", check_lambda_code_location, patched_aws, aws_without)


# --- cfn_change_set_api ------------------------------------------------------------------------

MINIMAL_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def check_change_set_api(aws: LocalAws) -> None:
    u = uid()
    cfn = client(aws, "cloudformation")
    # Deleting an unknown change set succeeds (the CLI does it before every deploy).
    cfn.delete_change_set(StackName=f"nothing-{u}", ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(ClientError) as raised:
        cfn.describe_change_set(StackName=f"nothing-{u}", ChangeSetName="cdk-deploy-change-set")
    assert raised.value.response["Error"]["Code"] == "ChangeSetNotFound"
    # The CLI gives every stack's change set the same name: each stays its stack's own.
    for stack in (f"first-{u}", f"second-{u}"):
        cfn.create_change_set(
            StackName=stack,
            ChangeSetName="cdk-deploy-change-set",
            ChangeSetType="CREATE",
            TemplateBody=json.dumps(MINIMAL_TEMPLATE),
        )
    described = cfn.describe_change_set(StackName=f"first-{u}", ChangeSetName="cdk-deploy-change-set")
    assert described["StackName"] == f"first-{u}"
    listed = cfn.list_change_sets(StackName=f"second-{u}")["Summaries"]
    assert [s["StackName"] for s in listed] == [f"second-{u}"]


def test_change_set_api_unknown_names_and_per_stack_lookup(patched_aws, aws_without):
    assert_patch_needed("cfn_change_set_api", check_change_set_api, patched_aws, aws_without)


# --- cfn_get_stack_output ----------------------------------------------------------------------


def check_get_stack_output(aws: LocalAws) -> None:
    u = uid()
    producer = {
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"gso-{u}"}}},
        "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}},
    }
    assert deploy_with_change_set(aws, f"producer-{u}", producer)["StackStatus"] == "CREATE_COMPLETE"
    reference = {
        "Fn::GetStackOutput": {
            "StackName": f"producer-{u}",
            "Region": "eu-west-3",
            "OutputName": "BucketName",
        }
    }
    consumer = {
        "Resources": {
            "Copy": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": {"Fn::Join": ["", [reference, "-copy"]]}},
            }
        }
    }
    stack = deploy_with_change_set(aws, f"consumer-{u}", consumer)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    client(aws, "s3").head_bucket(Bucket=f"gso-{u}-copy")


def test_get_stack_output_resolves(patched_aws, aws_without):
    assert_patch_needed("cfn_get_stack_output", check_get_stack_output, patched_aws, aws_without)


# --- cloudtrail_lookup_events ------------------------------------------------------------------


def check_cloudtrail_lookup_events(aws: LocalAws) -> None:
    assert client(aws, "cloudtrail").lookup_events(MaxResults=5)["Events"] == []


def test_cloudtrail_lookup_events_answers(patched_aws, aws_without):
    assert_patch_needed("cloudtrail_lookup_events", check_cloudtrail_lookup_events, patched_aws, aws_without)


# --- cfn_parameters ----------------------------------------------------------------------------


def check_parameters(aws: LocalAws) -> None:
    u = uid()
    ssm_name = f"/local-aws-test/{u}/version"
    client(aws, "ssm").put_parameter(Name=ssm_name, Value="21", Type="String")

    def template(description: str) -> dict[str, Any]:
        return {
            "Description": description,
            "Parameters": {
                "Version": {"Type": "String", "Default": "6"},
                "Bootstrap": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": ssm_name},
            },
            "Resources": {
                "Copy": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {
                        "Name": f"/local-aws-test/{u}/copy",
                        "Type": "String",
                        "Value": {"Fn::Join": ["-", [{"Ref": "Version"}, {"Ref": "Bootstrap"}]]},
                    },
                }
            },
        }

    stack_name = f"params-{u}"
    assert deploy_with_change_set(aws, stack_name, template("first"))["StackStatus"] == "CREATE_COMPLETE"
    # The CLI's second deploy: every parameter left as it was.
    previous = [{"ParameterKey": k, "UsePreviousValue": True} for k in ("Version", "Bootstrap")]
    stack = deploy_with_change_set(aws, stack_name, template("second"), previous)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    shown = {p["ParameterKey"]: p for p in stack["Parameters"]}
    assert shown["Version"]["ParameterValue"] == "6"
    assert shown["Bootstrap"]["ParameterValue"] == ssm_name  # the name, as AWS shows it
    assert shown["Bootstrap"]["ResolvedValue"] == "21"
    copied = client(aws, "ssm").get_parameter(Name=f"/local-aws-test/{u}/copy")["Parameter"]["Value"]
    assert copied == "6-21"


def test_parameters_use_previous_value_and_ssm_types(patched_aws, aws_without):
    assert_patch_needed("cfn_parameters", check_parameters, patched_aws, aws_without)


# --- cfn_custom_resources ----------------------------------------------------------------------

# Answers CloudFormation itself (no CDK Provider framework), like the project's custom resources,
# and records every request (with what it saw of a watched SSM parameter) in a bucket.
CUSTOM_RESOURCE_HANDLER = """
import json, time, urllib.request
import boto3

def handler(event, context):
    props = event["ResourceProperties"]
    seen = None
    if props.get("Watch"):
        try:
            seen = boto3.client("ssm").get_parameter(Name=props["Watch"])["Parameter"]["Value"]
        except Exception:
            seen = None
    record = {
        "RequestType": event["RequestType"],
        "Value": props.get("Value"),
        "OldValue": (event.get("OldResourceProperties") or {}).get("Value"),
        "PhysicalResourceId": event.get("PhysicalResourceId"),
        "Seen": seen,
    }
    key = "requests/%d-%s.json" % (time.time_ns(), event["RequestType"])
    boto3.client("s3").put_object(Bucket=props["Bucket"], Key=key, Body=json.dumps(record).encode())
    failed = props.get("FailOn") == event["RequestType"]
    body = json.dumps({
        "Status": "FAILED" if failed else "SUCCESS",
        "Reason": "told to fail on " + event["RequestType"] if failed else "",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "gate-" + props["Bucket"],
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Echo": str(props.get("Value", "")).upper()},
    }).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT")
    urllib.request.urlopen(request, timeout=10).read()
    return {}
"""


def _gate_function(aws: LocalAws, u: str) -> tuple[str, str]:
    """(function ARN, records bucket) of a custom-resource handler."""
    bucket = f"gate-{u}"
    client(aws, "s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    fn = create_function(aws, f"gate-{u}", {"index.py": CUSTOM_RESOURCE_HANDLER})
    return fn["FunctionArn"], bucket


def _records(aws: LocalAws, bucket: str) -> list[dict[str, Any]]:
    s3 = client(aws, "s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="requests/").get("Contents", []))
    return [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]


def _custom_template(token: str, bucket: str, value: str, fail_on: str = "") -> str:
    return json.dumps(
        {
            "Resources": {
                "Gate": {
                    "Type": "Custom::Gate",
                    "Properties": {
                        "ServiceToken": token,
                        "Bucket": bucket,
                        "Value": value,
                        "FailOn": fail_on,
                    },
                }
            },
            "Outputs": {"Echo": {"Value": {"Fn::GetAtt": ["Gate", "Echo"]}}},
        }
    )


def check_custom_resources(aws: LocalAws) -> None:
    u = uid()
    token, bucket = _gate_function(aws, u)
    cfn, name = client(aws, "cloudformation"), f"custom-{u}"
    cfn.create_stack(StackName=name, TemplateBody=_custom_template(token, bucket, "a"))
    stack = wait_stack(aws, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    assert outputs(stack)["Echo"] == "A"  # the handler's Data, available to Fn::GetAtt
    cfn.update_stack(StackName=name, TemplateBody=_custom_template(token, bucket, "b"))
    stack = wait_stack(aws, name)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    assert outputs(stack)["Echo"] == "B"
    # A FAILED answer fails the update, with the handler's reason.
    cfn.update_stack(StackName=name, TemplateBody=_custom_template(token, bucket, "c", fail_on="Update"))
    stack = wait_stack(aws, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", stack
    reasons = [
        e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
    ]
    assert any("told to fail on Update" in r for r in reasons), reasons
    cfn.delete_stack(StackName=name)
    assert wait_stack(aws, name)["StackStatus"] == "DELETE_COMPLETE"
    seen = [(r["RequestType"], r["Value"], r["OldValue"]) for r in _records(aws, bucket)]
    assert seen == [("Create", "a", None), ("Update", "b", "a"), ("Update", "c", "b"), ("Delete", "b", None)]
    assert {r["PhysicalResourceId"] for r in _records(aws, bucket)[1:]} == {f"gate-{bucket}"}


def test_custom_resources_get_create_update_delete(patched_aws, aws_without):
    assert_patch_needed("cfn_custom_resources", check_custom_resources, patched_aws, aws_without)


def test_a_custom_resource_that_never_answers_fails_the_stack(patched_aws):
    # given a handler that returns without PUTting an answer to the ResponseURL
    u = uid()
    fn = create_function(
        patched_aws, f"silent-{u}", {"index.py": "def handler(event, context):\n    return {}\n"}
    )
    template = {
        "Resources": {"Silent": {"Type": "Custom::Silent", "Properties": {"ServiceToken": fn["FunctionArn"]}}}
    }
    cfn, name = client(patched_aws, "cloudformation"), f"silent-{u}"
    # when a stack creates it
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    # then the creation fails (bounded: the wait gives up) and says why
    stack = wait_stack(patched_aws, name)
    assert stack["StackStatus"] in ("CREATE_FAILED", "ROLLBACK_COMPLETE"), stack
    reasons = [
        e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
    ]
    assert any(
        "no response from custom resource Create (handler returned without answering)" in r for r in reasons
    )


# --- cfn_engine --------------------------------------------------------------------------------


def _gated_template(token: str, bucket: str, param: str, value: str, fail_on: str = "") -> dict[str, Any]:
    # The parameter comes first in the template but depends on the gate (like every resource of
    # a project stack depends on its pre-update snapshot): the gate must run first.
    return {
        "Resources": {
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "DependsOn": "Gate",
                "Properties": {"Name": param, "Type": "String", "Value": value},
            },
            "Gate": {
                "Type": "AWS::CloudFormation::CustomResource",
                "Properties": {
                    "ServiceToken": token,
                    "Bucket": bucket,
                    "Value": value,
                    "FailOn": fail_on,
                    "Watch": param,
                },
            },
        },
        "Outputs": {
            "Echo": {"Value": {"Fn::GetAtt": ["Gate", "Echo"]}},
            "ParamName": {
                "Value": {"Ref": "Param"},
                "Export": {"Name": f"{param.strip('/').replace('/', '-')}-name"},
            },
        },
    }


def check_engine_order_failure_and_outputs(aws: LocalAws) -> None:
    u = uid()
    token, bucket = _gate_function(aws, u)
    param, name = f"/local-aws-test/{u}/gated", f"gated-{u}"
    ssm = client(aws, "ssm")
    # given a stack created by a change set: its outputs and exports are recorded
    stack = deploy_with_change_set(aws, name, _gated_template(token, bucket, param, "v1"))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    assert outputs(stack) == {"Echo": "V1", "ParamName": param}
    export_name = f"local-aws-test-{u}-gated-name"
    exports = {e["Name"]: e["Value"] for e in client(aws, "cloudformation").list_exports()["Exports"]}
    assert exports.get(export_name) == param
    # and another stack created by a change set sees that export
    importer = {
        "Resources": {
            "Copy": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": f"{param}-copy",
                    "Type": "String",
                    "Value": {"Fn::ImportValue": export_name},
                },
            }
        }
    }
    assert deploy_with_change_set(aws, f"importer-{u}", importer)["StackStatus"] == "CREATE_COMPLETE"
    assert ssm.get_parameter(Name=f"{param}-copy")["Parameter"]["Value"] == param
    # when an update changes both: the gate runs before the resource that depends on it changes
    stack = deploy_with_change_set(aws, name, _gated_template(token, bucket, param, "v2"))
    assert stack["StackStatus"] == "UPDATE_COMPLETE", stack
    assert ssm.get_parameter(Name=param)["Parameter"]["Value"] == "v2"
    assert outputs(stack)["Echo"] == "V2"
    # when the gate answers FAILED: the update stops before the dependent resource changes
    stack = deploy_with_change_set(aws, name, _gated_template(token, bucket, param, "v3", fail_on="Update"))
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", stack
    assert ssm.get_parameter(Name=param)["Parameter"]["Value"] == "v2"
    updates = [(r["Value"], r["Seen"]) for r in _records(aws, bucket) if r["RequestType"] == "Update"]
    assert updates == [("v2", "v1"), ("v3", "v2")]


def test_engine_dependency_order_failure_and_change_set_outputs(patched_aws, aws_without):
    assert_patch_needed("cfn_engine", check_engine_order_failure_and_outputs, patched_aws, aws_without)


# --- cfn_s3_bucket_delete ----------------------------------------------------------------------


def check_bucket_delete(aws: LocalAws) -> None:
    u = uid()
    name, bucket = f"bucket-stack-{u}", f"not-empty-{u}"
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}}}
    assert deploy_with_change_set(aws, name, template)["StackStatus"] == "CREATE_COMPLETE"
    s3, cfn = client(aws, "s3"), client(aws, "cloudformation")
    s3.put_object(Bucket=bucket, Key="data.json", Body=b"{}")
    # a bucket that still holds objects stops the delete, as on AWS
    cfn.delete_stack(StackName=name)
    stack = wait_stack(aws, name)
    assert stack["StackStatus"] == "DELETE_FAILED", stack
    assert "not empty" in stack.get("StackStatusReason", ""), stack
    s3.head_bucket(Bucket=bucket)
    # once emptied, the stack and its bucket go
    s3.delete_object(Bucket=bucket, Key="data.json")
    cfn.delete_stack(StackName=name)
    assert wait_stack(aws, name)["StackStatus"] == "DELETE_COMPLETE"
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_deleting_a_non_empty_bucket_fails_the_stack_delete(patched_aws, aws_without):
    assert_patch_needed("cfn_s3_bucket_delete", check_bucket_delete, patched_aws, aws_without)
