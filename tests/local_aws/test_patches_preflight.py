"""The patches the preflight's reads need (``bedrock_catalog``, ``lambda_account_settings``,
``s3_expected_bucket_owner``): AWS's answer on an emulator with every patch, and the same check
failing on an emulator with only that patch left out (as in ``test_patches.py``)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, create_function, uid
from tests.local_aws.test_patches import assert_patch_needed

PROFILE = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def check_bedrock_catalog(aws: LocalAws) -> None:
    bedrock = client(aws, "bedrock")
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier=PROFILE)
    assert profile["status"] == "ACTIVE" and profile["type"] == "SYSTEM_DEFINED"
    regions = {m["modelArn"].split(":")[3] for m in profile["models"]}
    assert "eu-west-3" in regions and all(r.startswith("eu-") for r in regions)
    assert all(m["modelArn"].endswith(f"foundation-model/{MODEL}") for m in profile["models"])
    assert bedrock.get_foundation_model(modelIdentifier=MODEL)["modelDetails"]["modelLifecycle"] == {
        "status": "ACTIVE"
    }
    availability = bedrock.get_foundation_model_availability(modelId=MODEL)
    assert availability["authorizationStatus"] == "AUTHORIZED"
    assert availability["agreementAvailability"]["status"] == "AVAILABLE"
    # an identifier Bedrock does not know: 404 ResourceNotFoundException, as on AWS
    try:
        bedrock.get_inference_profile(inferenceProfileIdentifier="eu.no-such-model")
        raise AssertionError("an unknown profile was found")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bedrock_catalog_answers_the_profile_and_model(patched_aws, aws_without):
    assert_patch_needed("bedrock_catalog", check_bedrock_catalog, patched_aws, aws_without)


def check_lambda_account_settings(aws: LocalAws) -> None:
    lambda_ = client(aws, "lambda")
    before = lambda_.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == 1000
    name = f"reserved-{uid()}"
    create_function(aws, name, {"index.py": "def handler(event, context):\n    return 1\n"})
    lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
    try:
        after = lambda_.get_account_settings()
        # reserved concurrency comes out of the unreserved pool, as on AWS
        assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == (
            before["UnreservedConcurrentExecutions"] - 7
        )
        assert after["AccountUsage"]["FunctionCount"] >= 1
    finally:
        lambda_.delete_function(FunctionName=name)


def test_lambda_account_settings_answers_the_concurrency(patched_aws, aws_without):
    assert_patch_needed("lambda_account_settings", check_lambda_account_settings, patched_aws, aws_without)


def head_status(s3, bucket: str, owner: str) -> str:
    """HeadBucket's HTTP status as S3 answers it (an error's code is its status for HEAD)."""
    try:
        return str(
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=owner)["ResponseMetadata"]["HTTPStatusCode"]
        )
    except ClientError as err:
        return str(err.response["Error"]["Code"])


def check_expected_bucket_owner(aws: LocalAws) -> None:
    s3, name = client(aws, "s3"), f"owner-test-{uid()}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    try:
        # the caller's own bucket, another account's (as seen from that account), a free name
        assert head_status(s3, name, "123456789012") == "200"
        assert head_status(s3, name, "111111111111") == "403"
        assert head_status(s3, f"{name}-free", "123456789012") == "404"
    finally:
        s3.delete_bucket(Bucket=name)


def test_head_bucket_honours_expected_bucket_owner(patched_aws, aws_without):
    assert_patch_needed("s3_expected_bucket_owner", check_expected_bucket_owner, patched_aws, aws_without)
