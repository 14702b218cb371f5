"""cfn_termination_protection: the CLI's UpdateTerminationProtection call works (stage and prod
stacks are protected), and a protected stack refuses DeleteStack as on AWS."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAws
from tests.local_aws.helpers import client, uid, wait_stack
from tests.local_aws.test_patches import assert_patch_needed


def template(name: str) -> str:
    marker = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": f"/{name}", "Type": "String", "Value": "x"},
    }
    return json.dumps({"Resources": {"Marker": marker}})


def check_termination_protection(aws: LocalAws) -> None:
    cfn = client(aws, "cloudformation")
    name = f"protected-{uid()}"
    cfn.create_stack(StackName=name, TemplateBody=template(name))
    wait_stack(aws, name)
    # what `cdk deploy` of a stage/prod stack does
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=True)
    with pytest.raises(ClientError, match="cannot be deleted while TerminationProtection is enabled"):
        cfn.delete_stack(StackName=name)
    assert wait_stack(aws, name)["StackStatus"] == "CREATE_COMPLETE"
    # turned off again, the stack can go
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    cfn.delete_stack(StackName=name)
    assert wait_stack(aws, name)["StackStatus"] == "DELETE_COMPLETE"


def test_termination_protection(patched_aws: LocalAws, aws_without: Callable[[str], LocalAws]) -> None:
    assert_patch_needed("cfn_termination_protection", check_termination_protection, patched_aws, aws_without)
