"""What the account holds for one environment, read only: stacks (resources, drift), functions,
layers, log groups, buckets (object and version counts), SSM parameters.

"Of the environment" is by name: the project's prefix and the ``-{env}`` suffix (the team used
the same convention before this project), the ``/aws/lambda/`` log groups of such functions, and
the parameters under the PubMed key's folder. Anything else in the account is not ours to plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_core.naming import PROJECT_NAME, pubmed_api_key_param
from vectora_ops.cloudformation import parse_template, template_text
from vectora_ops.environment import error_code

BOOTSTRAP_STACK: Final = "CDKToolkit"
# Stack statuses that are not a stack any more (or not yet one).
GONE: Final = frozenset({"DELETE_COMPLETE", "REVIEW_IN_PROGRESS"})
# The marks a template synthesized by the CDK carries: the other stacks are the team's own.
CDK_MARKS: Final = ("BootstrapVersion", "CDKMetadata")
# Per resource type, the property that holds its physical name (how a template names it).
NAME_PROPERTIES: Final = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Scheduler::Schedule": "Name",
}


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str
    drift: str | None = None  # IN_SYNC, MODIFIED, DELETED, NOT_CHECKED; None: not checked

    @property
    def name(self) -> str:
        return physical_name(self.type, self.physical_id)


@dataclass
class StackInfo:
    name: str
    status: str
    parameters: dict[str, str]
    template: dict[str, Any]
    resources: list[StackResource]
    body: str = ""  # the template as CloudFormation holds it (archived as is)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def made_by_cdk(self) -> bool:
        return any(
            mark in self.template.get("Parameters", {}) or mark in self.template.get("Resources", {})
            for mark in CDK_MARKS
        )

    def resource(self, logical_id: str) -> StackResource | None:
        return next((r for r in self.resources if r.logical_id == logical_id), None)

    def drifted(self, logical_id: str) -> bool:
        resource = self.resource(logical_id)
        return resource is not None and resource.drift == "MODIFIED"


@dataclass(frozen=True)
class FunctionInfo:
    role: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class BucketInfo:
    versioning: str | None
    objects: int  # current objects
    versions: int  # every object version (current and noncurrent)

    @property
    def holds_data(self) -> bool:
        return self.versions > 0


@dataclass
class Account:
    env: str
    bootstrapped: bool = False
    stacks: dict[str, StackInfo] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    buckets: dict[str, BucketInfo] = field(default_factory=dict)
    layers: dict[str, list[int]] = field(default_factory=dict)  # name -> versions, ascending
    log_groups: dict[str, int | None] = field(default_factory=dict)  # name -> retention days
    parameters: dict[str, str] = field(default_factory=dict)  # name -> type
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    def owner(self, resource_type: str, name: str) -> tuple[str, str] | None:
        """(stack, logical id) of the stack resource with this type and physical name, if any."""
        for stack in self.stacks.values():
            for resource in stack.resources:
                if resource.type == resource_type and resource.name == name:
                    return stack.name, resource.logical_id
        return None

    def functions_using_role(self, role_arn_or_name: str) -> list[str]:
        role = role_arn_or_name.rsplit("/", 1)[-1]
        return sorted(name for name, f in self.functions.items() if f.role.rsplit("/", 1)[-1] == role)


def physical_name(resource_type: str, physical_id: str) -> str:
    """The name in a stack resource's physical id: a function's or a role's may be an ARN on some
    paths, a layer version's is ``arn:...:layer:NAME:VERSION``."""
    if resource_type == "AWS::Lambda::LayerVersion":
        return physical_id.split(":")[-2] if physical_id.count(":") >= 2 else physical_id
    if resource_type in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine"):
        return physical_id.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if resource_type == "AWS::Scheduler::Schedule":  # ``group|name`` on some paths
        return physical_id.rsplit("|", 1)[-1].rsplit("/", 1)[-1]
    return physical_id


def is_ours(name: str, env: str) -> bool:
    """A physical name of the environment under the naming convention ``vectora-inbox-*-{env}``."""
    return name.startswith(f"{PROJECT_NAME}-") and name.endswith(f"-{env}")


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


@dataclass
class Reader:
    """The read-only calls of an inventory (AWS_ENDPOINT_URL is honoured)."""

    env: str
    session: Any
    drift_unavailable: bool = False

    def __post_init__(self) -> None:
        self.s3 = self.session.client("s3")
        self.lambda_ = self.session.client("lambda")
        self.cfn = self.session.client("cloudformation")
        self.logs = self.session.client("logs")
        self.ssm = self.session.client("ssm")

    def read(self) -> Account:
        account = Account(self.env)
        self._stacks(account)
        self._functions(account)
        self._layers(account)
        self._buckets(account)
        self._log_groups(account)
        self._parameters(account)
        return account

    def _stacks(self, account: Account) -> None:
        for summary in pages(self.cfn, "list_stacks", "StackSummaries"):
            name, status = summary["StackName"], summary["StackStatus"]
            if status in GONE:
                continue
            if name == BOOTSTRAP_STACK:
                account.bootstrapped = status.endswith("_COMPLETE") and "ROLLBACK" not in status
                continue
            if not is_ours(name, self.env):
                continue
            described = self.cfn.describe_stacks(StackName=summary["StackId"])["Stacks"][0]
            body = template_text(self.cfn, summary["StackId"])
            listed = self.cfn.describe_stack_resources(StackName=summary["StackId"])["StackResources"]
            drift = self._drift(name, account)
            account.stacks[name] = StackInfo(
                name=name,
                status=status,
                parameters={
                    p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])
                },
                template=parse_template(body),
                resources=[
                    StackResource(
                        r["LogicalResourceId"],
                        r["ResourceType"],
                        r.get("PhysicalResourceId", ""),
                        drift.get(r["LogicalResourceId"]),
                    )
                    for r in listed
                ],
                body=body,
                outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
            )

    def _drift(self, stack: str, account: Account) -> dict[str, str]:
        """Logical id -> drift status where the AWS answers it (the local AWS does not: noted, and a
        function's layers are then compared with its template, the drift the team is known to have)."""
        if self.drift_unavailable:
            return {}
        try:
            drifts = self.cfn.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]
        except Exception as err:  # noqa: BLE001  # an emulator may answer anything; drift is optional
            # (one failure is enough: every stack would fail the same way, each after retries)
            code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
            account.notes.append(
                f"stack drift not available here ({code}): functions' layers compared instead"
            )
            self.drift_unavailable = True
            return {}
        return {d["LogicalResourceId"]: d["StackResourceDriftStatus"] for d in drifts}

    def _functions(self, account: Account) -> None:
        for function in pages(self.lambda_, "list_functions", "Functions"):
            name = function["FunctionName"]
            if not is_ours(name, self.env):
                continue
            layers = tuple(layer["Arn"] for layer in function.get("Layers", []))
            account.functions[name] = FunctionInfo(role=function.get("Role", ""), layers=layers)

    def _layers(self, account: Account) -> None:
        for layer in pages(self.lambda_, "list_layers", "Layers"):
            name = layer["LayerName"]
            if is_ours(name, self.env):
                versions = pages(self.lambda_, "list_layer_versions", "LayerVersions", LayerName=name)
                account.layers[name] = sorted(v["Version"] for v in versions)

    def _buckets(self, account: Account) -> None:
        for bucket in sorted(b["Name"] for b in self.s3.list_buckets()["Buckets"]):
            if not is_ours(bucket, self.env):
                continue
            versions = pages(self.s3, "list_object_versions", "Versions", Bucket=bucket)
            account.buckets[bucket] = BucketInfo(
                versioning=self.s3.get_bucket_versioning(Bucket=bucket).get("Status"),
                objects=sum(1 for v in versions if v.get("IsLatest")),
                versions=len(versions),
            )

    def _log_groups(self, account: Account) -> None:
        for prefix in (f"/aws/lambda/{PROJECT_NAME}-", f"/aws/vendedlogs/states/{PROJECT_NAME}-"):
            for group in pages(self.logs, "describe_log_groups", "logGroups", logGroupNamePrefix=prefix):
                if group["logGroupName"].endswith(f"-{self.env}"):
                    account.log_groups[group["logGroupName"]] = group.get("retentionInDays")

    def _parameters(self, account: Account) -> None:
        folder = pubmed_api_key_param(self.env).rsplit("/", 2)[0] + "/"
        filters = [{"Key": "Name", "Option": "BeginsWith", "Values": [folder]}]
        for parameter in pages(self.ssm, "describe_parameters", "Parameters", ParameterFilters=filters):
            account.parameters[parameter["Name"]] = parameter.get("Type", "String")
