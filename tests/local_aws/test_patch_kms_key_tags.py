"""cfn_kms_key_tags: a template's KMS key with Tags (the stack tags the CDK puts on every taggable
resource, the alarm topic key of stage and prod among them) is created, with its tags."""

from __future__ import annotations

import json
from collections.abc import Callable

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, deploy_with_change_set, outputs, uid
from tests.local_aws.test_patches import assert_patch_needed

TAGS = [{"Key": "project", "Value": "vectora-inbox"}, {"Key": "env", "Value": "stage"}]


def template() -> dict[str, object]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    return {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": policy, "EnableKeyRotation": True, "Tags": TAGS},
            }
        },
        "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }


def check_kms_key_tags(aws: LocalAws) -> None:
    stack = deploy_with_change_set(aws, f"kms-tags-{uid()}", template())
    assert stack["StackStatus"] == "CREATE_COMPLETE", json.dumps(stack, default=str)
    key_arn = outputs(stack)["KeyArn"]
    tags = client(aws, "kms").list_resource_tags(KeyId=key_arn)["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == sorted((t["Key"], t["Value"]) for t in TAGS)


def test_kms_key_from_template_keeps_its_tags(
    patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]
) -> None:
    assert_patch_needed("cfn_kms_key_tags", check_kms_key_tags, patched_aws, aws_without)
