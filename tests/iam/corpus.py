"""The decision corpus as data: the generated table plus the hand-written cases, and how one case is
put to the evaluator (``local_aws.iam.evaluator.evaluate``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from local_aws.iam.evaluator import Decision, IamRequest, evaluate
from tests.iam.generate import ALLOWED, TABLE
from tests.iam.world import ACCOUNT, World
from vectora_core.environments import get_env_config
from vectora_core.naming import ALARM_TOPIC, ENV_NAMES, resource_name

IMPORTANT: Final = Path(__file__).with_name("important_cases.yaml")


@dataclass(frozen=True)
class Case:
    id: str
    env: str
    role: str | None  # role name of the caller (its session); None for a service principal
    principal: str | None  # service principal, when the caller is a service
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    expected: str = ALLOWED
    why: str = ""
    key_policy: Mapping[str, Any] | None = None

    @property
    def allowed(self) -> bool:
        return self.expected == ALLOWED


def _fill(value: Any, env: str) -> Any:
    if isinstance(value, str):
        region = get_env_config(env).region
        return value.replace("{env}", env).replace("{account}", ACCOUNT).replace("{region}", region)
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    if isinstance(value, dict):
        return {_fill(k, env): _fill(v, env) for k, v in value.items()}
    return value


def generated_cases() -> list[Case]:
    cases = []
    for row in json.loads(TABLE.read_text(encoding="utf-8")):
        env = row["id"].split("/", 1)[0]
        service = row["principal"] != "role"
        cases.append(
            Case(
                id=f"generated/{row['id']}",
                env=env,
                role=None if service else row["role"],
                principal=row["principal"] if service else None,
                action=row["action"],
                resource=row["resource"],
                context=row["context"],
                expected=row["expected"],
                why=row["why"],
            )
        )
    return cases


def important_cases() -> list[Case]:
    document = yaml.safe_load(IMPORTANT.read_text(encoding="utf-8"))
    key_policies = document["key_policies"]
    cases = []
    for entry in document["cases"]:
        for env in entry.get("envs", ENV_NAMES):
            kind = entry.get("role")
            cases.append(
                Case(
                    id=f"important/{env}/{entry['id']}",
                    env=env,
                    role=resource_name(f"{kind}-role", env) if kind else None,
                    principal=entry.get("principal"),
                    action=entry["action"],
                    resource=_fill(entry["resource"], env),
                    context=_fill(entry.get("context", {}), env),
                    expected=entry["expected"],
                    why=" ".join(entry["why"].split()),
                    key_policy=_fill(key_policies[entry["key_policy"]], env)
                    if "key_policy" in entry
                    else None,
                )
            )
    return cases


def all_cases() -> list[Case]:
    return [*important_cases(), *generated_cases()]


# A resource the synth names but AWS numbers: the alarm topic's key (its ARN holds a key id).
ALARM_TOPIC_KEY: Final = "{alarm_topic_key}"


def _resource(world: World, case: Case) -> str:
    if ALARM_TOPIC_KEY not in case.resource:
        return case.resource
    topic = f"arn:aws:sns:{world.regions[case.env]}:{ACCOUNT}:{resource_name(ALARM_TOPIC, case.env)}"
    return case.resource.replace(ALARM_TOPIC_KEY, world.topic_keys[topic])


def decide(world: World, case: Case) -> Decision:
    """What IAM answers ``case``, given the synthesized policies of ``world``."""
    resource = _resource(world, case)
    if case.role is not None:
        role = world.roles[case.role]
        principal, identity = role.principal, list(role.policies)
    else:
        assert case.principal is not None  # noqa: S101  # a case names a role or a service
        principal, identity = case.principal, []
    if case.action == "sts:AssumeRole":
        resource_policy: Mapping[str, Any] | None = next(
            r.trust for r in world.roles.values() if r.arn == resource
        )
    elif case.key_policy is not None:
        resource_policy = case.key_policy
    else:
        resource_policy = world.resource_policy_of(resource)
    context = dict(case.context)
    if resource.startswith("arn:aws:s3:::"):
        # AWS sets the bucket owner's account on every S3 request; a case may name another owner.
        context.setdefault("s3:ResourceAccount", ACCOUNT)
    return evaluate(
        IamRequest(principal, case.action, resource, context),
        identity_policies=identity,
        resource_policy=resource_policy,
        resource_account=ACCOUNT,
        region=world.regions[case.env],
    )
