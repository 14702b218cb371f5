"""A custom resource that answers CloudFormation itself (no CDK Provider framework).

Each request is recorded in the bucket under ``probe/`` with what the probe saw of the watched
function at that moment, so tests can prove the order CloudFormation ran things in.
"""

import json
import time
import urllib.request

import boto3


def _watched_greeting(name):
    try:
        config = boto3.client("lambda").get_function_configuration(FunctionName=name)
    except Exception:  # the function does not exist (yet)
        return None
    return config.get("Environment", {}).get("Variables", {}).get("GREETING")


def handler(event, context):
    props = event["ResourceProperties"]
    request_type = event["RequestType"]
    physical_id = event.get("PhysicalResourceId") or "probe-" + event["LogicalResourceId"]
    status, reason, data = "SUCCESS", "", {}
    try:
        record = {
            "RequestType": request_type,
            "Greeting": props.get("Greeting"),
            "OldGreeting": (event.get("OldResourceProperties") or {}).get("Greeting"),
            "WatchedGreeting": _watched_greeting(props["WatchedFunction"]),
            "PhysicalResourceId": event.get("PhysicalResourceId"),
        }
        key = f"probe/{time.time_ns()}-{request_type}.json"
        boto3.client("s3").put_object(Bucket=props["Bucket"], Key=key, Body=json.dumps(record).encode())
        if props.get("FailOn") == request_type:
            raise RuntimeError("probe told to fail on " + request_type)
        data = {"Greeting": str(props.get("Greeting", "")).upper()}
    except Exception as err:
        status, reason = "FAILED", str(err)
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    # The ResponseURL CloudFormation gave us (http on the local AWS, https on AWS).
    request = urllib.request.Request(  # noqa: S310
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # see above
        response.read()
    return {"Status": status}
