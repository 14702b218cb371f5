"""Reports what it sees: its environment, its layer, the runtime SDK, and nothing of the venv."""

import importlib.util
import os

import boto3
import fixture_layer


def handler(event, context):
    s3 = boto3.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    return {
        "greeting": os.environ["GREETING"],
        "probe_greeting": os.environ.get("PROBE_GREETING"),
        "layer": fixture_layer.VALUE,
        "boto3": boto3.__version__,
        "venv_only_module_visible": importlib.util.find_spec("yaml") is not None,
        "buckets": buckets,
        "region": os.environ.get("AWS_REGION"),
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "event": event,
    }
