"""ARN templates shared by the IAM policies of the project's roles."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws

from vectora_core.naming import resource_name

# Read once: each read of these jsii statics is a round trip to the CDK process.
_PARTITION = Aws.PARTITION
_ACCOUNT_ID = Aws.ACCOUNT_ID


@dataclass(frozen=True)
class Arn:
    """An ARN template with ``{partition}`` and ``{account}`` slots.

    ``value`` is what goes into the policy; ``nag`` is how cdk-nag prints the same ARN, so the
    acknowledgement of a wildcard is derived from the very resource it acknowledges.
    """

    template: str

    @property
    def value(self) -> str:
        return self.template.format(partition=_PARTITION, account=_ACCOUNT_ID)

    @property
    def nag(self) -> str:
        return self.template.format(partition="<AWS::Partition>", account="<AWS::AccountId>")

    @property
    def wildcard(self) -> bool:
        return "*" in self.template


def object_arn(component: str, env: str, prefix: str) -> Arn:
    return Arn(f"arn:{{partition}}:s3:::{resource_name(component, env)}/{prefix}*")


def bucket_arn(component: str, env: str) -> Arn:
    return Arn(f"arn:{{partition}}:s3:::{resource_name(component, env)}")
