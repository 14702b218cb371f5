"""ARN templates and the explicit-statement policies of the project's roles, defined once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct

from vectora_constructs.nag import acknowledge
from vectora_core.naming import resource_name

# Read once: each read of these jsii statics is a round trip to the CDK process.
_PARTITION = Aws.PARTITION
_ACCOUNT_ID = Aws.ACCOUNT_ID


@dataclass(frozen=True)
class Arn:
    """An ARN template with ``{partition}`` and ``{account}`` slots.

    ``value`` is what goes into the policy; ``nag`` is how cdk-nag prints the same ARN, so the
    acknowledgement of a wildcard is derived from the very resource it acknowledges. ``reason``:
    this wildcard's own cdk-nag reason (else the role's ``wildcard_reason`` covers it).
    """

    template: str
    reason: str | None = None

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


def function_arn(region: str, function_name: str) -> Arn:
    return Arn(f"arn:{{partition}}:lambda:{region}:{{account}}:function:{function_name}")


def state_machine_arn(region: str, name: str) -> Arn:
    return Arn(f"arn:{{partition}}:states:{region}:{{account}}:stateMachine:{name}")


def topic_arn(region: str, name: str) -> Arn:
    return Arn(f"arn:{{partition}}:sns:{region}:{{account}}:{name}")


def service_principal(service: str) -> iam.ServicePrincipal:
    """``service``'s principal, for this account's resources only (no confused deputy)."""
    return iam.ServicePrincipal(service, conditions={"StringEquals": {"aws:SourceAccount": _ACCOUNT_ID}})


# Services with no resource-level permissions for these actions: their resource is "*".
ANY_RESOURCE: Final = Arn("*")
# Lambda active tracing and the state machine's tracing send segments to X-Ray.
XRAY_WRITE: Final = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
# CloudWatch Logs' log-delivery actions (how Step Functions delivers execution logs): "*" only too.
LOG_DELIVERY: Final = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]
XRAY_SAMPLING: Final = ["xray:GetSamplingRules", "xray:GetSamplingTargets"]
# The only actions a role of this project may be given on resource "*" (tests/infra checks it).
NO_RESOURCE_LEVEL_ACTIONS: Final = (*XRAY_WRITE, *XRAY_SAMPLING, *LOG_DELIVERY)
XRAY_REASON: Final = (
    "X-Ray has no resource-level permissions: sending trace segments (active tracing) is allowed on "
    "resource '*' only."
)


def log_streams_arn(region: str, log_group: str) -> Arn:
    """The log streams Lambda creates in ``log_group`` (names unknown in advance)."""
    return Arn(f"arn:{{partition}}:logs:{region}:{{account}}:log-group:{log_group}:log-stream:*")


# (sid, actions, resources, conditions): every action named, every resource explicit.
Statement = tuple[str, list[str], list[Arn], dict[str, Any] | None]


INLINE_POLICY_NAME = "LeastPrivilege"


def _with_resource_account(
    actions: Sequence[str], conditions: dict[str, Any] | None
) -> dict[str, Any] | None:
    """An S3 statement's conditions plus ``s3:ResourceAccount`` = this account.

    Bucket names are global: the conventional name of one of our buckets may belong to another
    account (taken before us, or re-registered after a dev bucket was deleted). The condition makes
    every S3 permission of every role valid on this account's buckets only, so such a bucket never
    receives our data nor feeds us its own. Added here, for every role, so none can be forgotten.
    """
    if not any(a.startswith("s3:") for a in actions):
        return conditions
    if not all(a.startswith("s3:") for a in actions):
        raise ValueError(f"an S3 statement holds other services' actions: {list(actions)}")
    merged = dict(conditions or {})
    merged["StringEquals"] = {**merged.get("StringEquals", {}), "s3:ResourceAccount": _ACCOUNT_ID}
    return merged


def least_privilege_role(
    scope: Construct,
    id_: str,
    *,
    role_name: str,
    description: str,
    statements: Sequence[Statement],
    wildcard_reason: str,
    assumed_by: iam.IPrincipal | None = None,
) -> iam.Role:
    """An execution role (Lambda's unless ``assumed_by`` says which service's) whose one inline
    policy is exactly ``statements``.

    Inline (``AWS::IAM::Role`` ``Policies``) rather than a separate ``AWS::IAM::Policy``: the
    permissions exist as soon as the role does, and the whole document crosses to the CDK process
    in one call rather than two per statement. cdk-nag IAM5 is acknowledged for exactly the
    wildcard resources listed, finding by finding, so a wildcard added later is reported rather
    than silently accepted.
    """
    document = iam.PolicyDocument.from_json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": [r.value for r in resources],
                    **({"Condition": c} if (c := _with_resource_account(actions, conditions)) else {}),
                }
                for sid, actions, resources, conditions in statements
            ],
        }
    )
    role = iam.Role(
        scope,
        id_,
        role_name=role_name,
        assumed_by=assumed_by or iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
        inline_policies={INLINE_POLICY_NAME: document},
    )
    wildcards = [r for _, _, resources, _ in statements for r in resources if r.wildcard]
    # One acknowledgement per reason; none given (no wildcard): the role's reason, as before.
    for reason in dict.fromkeys(r.reason or wildcard_reason for r in wildcards) or [wildcard_reason]:
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            reason,
            findings=[f"Resource::{r.nag}" for r in wildcards if (r.reason or wildcard_reason) == reason],
        )
    return role
