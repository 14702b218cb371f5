"""The roles and resource policies the app really synthesizes, as IAM sees them once deployed.

Read out of the synthesized templates (the session's ``cdk synth -c env=all``): every
``AWS::IAM::Role`` of the project with its inline policies and trust policy, every bucket policy
and topic policy. Intrinsics (``Ref``, ``Fn::Join``, ``Fn::Sub``, ``Fn::GetAtt``) are resolved to
plain ARNs with a fixed account and the stack's region, as CloudFormation would resolve them in
that account. A construct the resolver does not know fails loudly (never a silent guess).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from local_aws.settings import ACCOUNT_ID
from tests.support.assembly import CloudAssembly
from vectora_core.naming import ENV_NAMES, PROJECT_NAME, resource_name

ACCOUNT: Final = ACCOUNT_ID
PARTITION: Final = "aws"
PSEUDO: Final = {"AWS::Partition": PARTITION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}


class UnresolvedError(ValueError):
    """A template construct the resolver does not know."""


@dataclass(frozen=True)
class Role:
    """One deployed role: who it is, what it may do (identity policies) and who may assume it."""

    env: str
    name: str  # vectora-inbox-{kind}-role-{env}
    kind: str  # ingest-v2, ..., pre-update-snapshot, pipeline, pipeline-scheduler
    trust: Mapping[str, Any]
    policies: tuple[Mapping[str, Any], ...]

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.name}"

    @property
    def principal(self) -> str:
        """The caller ARN of a session of this role (Lambda names the session after the function)."""
        return f"arn:{PARTITION}:sts::{ACCOUNT}:assumed-role/{self.name}/{resource_name(self.kind, self.env)}"

    def statements(self) -> list[Mapping[str, Any]]:
        return [s for policy in self.policies for s in policy["Statement"]]


@dataclass
class World:
    roles: dict[str, Role] = field(default_factory=dict)  # by role name
    bucket_policies: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # by bucket name
    topic_policies: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # by topic ARN
    key_policies: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # by key ARN
    topic_keys: dict[str, str] = field(default_factory=dict)  # topic ARN -> its KMS key (ARN or alias ARN)
    regions: dict[str, str] = field(default_factory=dict)  # env -> region

    def role(self, kind: str, env: str) -> Role:
        return self.roles[resource_name(f"{kind}-role", env)]

    def resource_policy_of(self, resource: str) -> Mapping[str, Any] | None:
        """The bucket policy of an S3 ARN's bucket, the topic policy of a topic ARN; else None."""
        if resource.startswith(f"arn:{PARTITION}:s3:::"):
            return self.bucket_policies.get(resource.split(":::", 1)[1].split("/", 1)[0])
        if resource.startswith(f"arn:{PARTITION}:kms:"):
            return self.key_policies.get(resource)
        return self.topic_policies.get(resource)


class _Resolver:
    def __init__(self, template: Mapping[str, Any], region: str, stack_name: str) -> None:
        self.resources = template.get("Resources", {})
        self.region = region
        self.stack_name = stack_name

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self(p)) for p in parts)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Sub":
                return self.sub(arg)
            if key.startswith("Fn::"):
                raise UnresolvedError(f"intrinsic {key} is not resolved here: {value}")
        return {k: self(v) for k, v in value.items()}

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self(variables[name]))
            if "." in name:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def ref(self, name: str) -> str:
        if name == "AWS::Region":
            return self.region
        if name in PSEUDO:
            return PSEUDO[name]
        resource = self.resources.get(name)
        if resource is None:
            raise UnresolvedError(f"Ref to {name}: not a resource of this template")
        props, type_ = resource.get("Properties", {}), resource["Type"]
        by_type = {
            "AWS::S3::Bucket": lambda: props["BucketName"],
            "AWS::SNS::Topic": lambda: self._arn("sns", props["TopicName"]),
            "AWS::Lambda::Function": lambda: props["FunctionName"],
            "AWS::IAM::Role": lambda: props["RoleName"],
            "AWS::StepFunctions::StateMachine": lambda: self._arn(
                "states", f"stateMachine:{props['StateMachineName']}"
            ),
            "AWS::Logs::LogGroup": lambda: props["LogGroupName"],
            # The key id is AWS's: the stack and logical id stand for it (one per environment).
            "AWS::KMS::Key": lambda: f"{self.stack_name}-{name}",
        }
        if type_ not in by_type:
            raise UnresolvedError(f"Ref to a {type_} ({name}) is not resolved here")
        return str(self(by_type[type_]()))

    def get_att(self, logical: str, attribute: str) -> str:
        type_ = self.resources[logical]["Type"]
        name = self.ref(logical)
        arns = {
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:{PARTITION}:s3:::{name}",
            ("AWS::Lambda::Function", "Arn"): lambda: self._arn("lambda", f"function:{name}"),
            ("AWS::IAM::Role", "Arn"): lambda: f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            ("AWS::Logs::LogGroup", "Arn"): lambda: self._arn("logs", f"log-group:{name}:*"),
            ("AWS::SNS::Topic", "TopicArn"): lambda: name,
            ("AWS::KMS::Key", "Arn"): lambda: self._arn("kms", f"key/{name}"),
        }
        if (type_, attribute) not in arns:
            raise UnresolvedError(f"Fn::GetAtt {logical}.{attribute} ({type_}) is not resolved here")
        return arns[(type_, attribute)]()

    def _arn(self, service: str, rest: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{ACCOUNT}:{rest}"


def _env_of(stack_name: str) -> str:
    env = stack_name.rsplit("-", 1)[-1]
    if env not in ENV_NAMES:
        raise UnresolvedError(f"stack {stack_name}: no environment in its name")
    return env


def _kind_of(role_name: str, env: str) -> str:
    match = re.fullmatch(rf"{PROJECT_NAME}-(.+)-role-{env}", role_name)
    if match is None:
        raise UnresolvedError(f"role {role_name} does not follow the naming rule")
    return match.group(1)


def load_world(assembly: CloudAssembly) -> World:
    world = World()
    for stack_name, template in sorted(assembly.templates.items()):
        env = _env_of(stack_name)
        region = assembly.artifact(stack_name)["environment"].rsplit("/", 1)[-1]
        world.regions[env] = region
        resolve = _Resolver(template, region, stack_name)
        for logical_id, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Role":
                name = resolve(props["RoleName"])
                world.roles[name] = Role(
                    env=env,
                    name=name,
                    kind=_kind_of(name, env),
                    trust=resolve(props["AssumeRolePolicyDocument"]),
                    policies=tuple(resolve(p["PolicyDocument"]) for p in props.get("Policies", [])),
                )
            elif resource["Type"] == "AWS::IAM::Policy":  # none today: every policy is inline
                raise UnresolvedError(f"{stack_name}: a separate AWS::IAM::Policy is not read here")
            elif resource["Type"] == "AWS::S3::BucketPolicy":
                world.bucket_policies[resolve(props["Bucket"])] = resolve(props["PolicyDocument"])
            elif resource["Type"] == "AWS::KMS::Key":
                world.key_policies[resolve({"Fn::GetAtt": [logical_id, "Arn"]})] = resolve(props["KeyPolicy"])
            elif resource["Type"] == "AWS::SNS::Topic" and "KmsMasterKeyId" in props:
                world.topic_keys[resolve({"Ref": logical_id})] = resolve(props["KmsMasterKeyId"])
            elif resource["Type"] == "AWS::SNS::TopicPolicy":
                document = resolve(props["PolicyDocument"])
                for topic in resolve(props["Topics"]):
                    world.topic_policies[topic] = document
    return world
