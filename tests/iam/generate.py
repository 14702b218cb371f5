"""The generated half of the decision corpus: every permission of every role, once allowed, and its
near misses denied.

For each role the app synthesizes (dev, stage, prod: the three functions', the pre-update
snapshot's, the state machine's and the scheduler's), each action x resource of each statement
becomes one request that must be allowed (wildcards filled in with a real-looking name, the
statement's condition satisfied), and each is followed by its near misses, requests that must be
denied: the same thing in another environment, another bucket or key prefix, another function,
stack, log group or parameter, another model or region, another action of a service without
resource-level permissions. Each role's trust policy gets its service allowed and another service
(or another account) refused.

What a near miss may not reach comes from the specs, not from the templates: the prefixes a
function reads and writes are ``vectora_core.functions.FUNCTIONS``'s, the pre-update snapshot's
are written below. The table is committed (``generated_cases.json``) and must equal what this
module makes of the current synth (tests/iam/test_decision_corpus.py): a permission added or
removed shows in the diff. Regenerate:

    .venv/bin/python -m tests.iam.generate
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from tests.iam.world import PARTITION, Role, UnresolvedError, World, load_world
from vectora_core.environments import get_env_config
from vectora_core.functions import FUNCTIONS
from vectora_core.naming import (
    ENV_NAMES,
    PROJECT_NAME,
    SNAPSHOT_FUNCTION,
    Bucket,
    Function,
    log_group_name,
    resource_name,
)

TABLE: Final = Path(__file__).with_name("generated_cases.json")
ALLOWED: Final = "allowed"
NO_IDENTITY_ALLOW: Final = "no identity-based policy allows the action"
NO_RESOURCE_ALLOW: Final = "no resource-based policy allows the action"
EXPLICIT_RESOURCE_DENY: Final = "explicit deny in a resource-based policy"
OTHER_ACCOUNT: Final = "444455556666"
CLIENT_KEY: Final = "lai_weekly/2026-01-05/items.json"

# The key prefixes each bucket holds (the near misses pick one a role may not touch).
KNOWN_PREFIXES: Final[Mapping[str, tuple[str, ...]]] = {
    Bucket.CONFIG: ("clients/", "canonical/"),
    Bucket.DATA: ("raw/", "curated/"),
    Bucket.NEWSLETTERS: ("",),
    Bucket.BACKUPS: ("snapshots/", "audit/", "locks/"),
    Bucket.LAMBDA_CODE: ("",),
    Bucket.ACCESS_LOGS: ("",),
}
# The pre-update snapshot's S3 objects (vectora_constructs/pre_update_snapshot.py says why).
SNAPSHOT_OBJECTS: Final = {
    "s3:GetObject": {
        (Bucket.CONFIG, "clients/"),
        (Bucket.CONFIG, "canonical/"),
        (Bucket.DATA, "curated/"),
        (Bucket.BACKUPS, "snapshots/"),
    },
    "s3:PutObject": {(Bucket.BACKUPS, "snapshots/")},
    # the sleep tag of the bulk copies it writes (vectora_ops/snapshots/layout.py)
    "s3:PutObjectTagging": {(Bucket.BACKUPS, "snapshots/")},
    "s3:DeleteObject": {(Bucket.BACKUPS, "snapshots/")},
}
# Actions of services without resource-level permissions, for the near misses of a "*" statement.
RESOURCELESS: Final[Mapping[str, tuple[str, ...]]] = {
    "xray": ("xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries"),
    "logs": ("logs:DescribeExportTasks", "logs:DescribeQueryDefinitions"),
}
OTHER_SERVICE: Final = {
    "lambda.amazonaws.com": "states.amazonaws.com",
    "states.amazonaws.com": "lambda.amazonaws.com",
    "scheduler.amazonaws.com": "events.amazonaws.com",
}
OTHER_MODEL: Final = "anthropic.claude-3-haiku-20240307-v1:0"
OTHER_REGION: Final = "us-east-1"
# A region an inference profile may route to that no hand-kept list of ours ever named.
ROUTED_REGION: Final = "eu-central-2"


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def other_env(env: str) -> str:
    return ENV_NAMES[(ENV_NAMES.index(env) + 1) % len(ENV_NAMES)]


def component_of(bucket: str, env: str) -> str:
    return bucket.removeprefix(f"{PROJECT_NAME}-").removesuffix(f"-{env}")


def object_grants(role: Role, action: str) -> set[tuple[str, str]]:
    """(bucket component, prefix) pairs the role may ``action`` by its spec."""
    if role.kind == SNAPSHOT_FUNCTION:
        return {(str(b), p) for b, p in SNAPSHOT_OBJECTS.get(action, set())}
    access = FUNCTIONS[Function(role.kind)].access
    pairs = {"s3:GetObject": access.reads, "s3:PutObject": access.writes}.get(action, ())
    return {(str(b), p) for b, p in pairs}


def sample(arn: str) -> str:
    """A real-looking resource the (possibly wildcarded) ARN of a statement covers."""
    if arn == "*" or "*" not in arn:
        return arn
    service = arn.split(":")[2]
    if service == "s3":
        return arn.replace("*", CLIENT_KEY)
    if service == "logs":
        return arn.replace("log-stream:*", "log-stream:2026/01/05/[$LATEST]0123456789abcdef")
    if service == "lambda":
        return arn.replace(":*", ":7")
    if service == "cloudformation":
        return arn.replace("/*", "/0f6a0c80-1b2c-4d3e-8f90-a1b2c3d4e5f6")
    if service == "bedrock" and arn.split(":")[3] == "*":
        return arn.replace(":*:", f":{ROUTED_REGION}:", 1)  # wherever the profile routes the call
    raise UnresolvedError(f"no sample for the wildcard ARN {arn}")


def short(resource: str) -> str:
    """The part of an ARN that names the thing (bucket/key; region:resource), for case ids."""
    if resource == "*" or resource.startswith(f"arn:{PARTITION}:s3:::"):
        return resource.split(":::", 1)[-1]
    parts = resource.split(":", 5)
    return f"{parts[3]}:{parts[5]}" if parts[3] else parts[5]


def _in_other_env(resource: str, env: str) -> str | None:
    other = other_env(env)
    moved = resource.replace(f"-{env}", f"-{other}").replace(f"/{env}/", f"/{other}/")
    return moved if moved != resource else None


class _Rows:
    """The table being built: ids unique, each row's request spelled once."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self._requests: set[str] = set()

    def add(
        self,
        role: Role,
        label: str,
        action: str,
        resource: str,
        expected: str,
        why: str,
        *,
        context: Mapping[str, Any] | None = None,
        principal: str = "role",
    ) -> None:
        request = json.dumps([role.name, principal, action, resource, context or {}], sort_keys=True)
        if request in self._requests:
            return  # the same request reached from another permission: once is enough
        self._requests.add(request)
        base = f"{role.env}/{role.kind}/{label}"
        case_id, n = base, 1
        while case_id in self._ids:
            n += 1
            case_id = f"{base}#{n}"
        self._ids.add(case_id)
        self.rows.append(
            {
                "id": case_id,
                "role": role.name,
                "principal": principal,
                "action": action,
                "resource": resource,
                "context": dict(context or {}),
                "expected": expected,
                "why": why,
            }
        )


# The keys a statement may require to equal one value (StringEquals): the request carries it.
EQUALS_KEYS: Final = ("s3:ResourceAccount", "bedrock:InferenceProfileArn")


def _conditions(statement: Mapping[str, Any]) -> tuple[list[str] | None, dict[str, Any]]:
    """The ``s3:prefix`` patterns of a statement's condition (None without), and the context its
    StringEquals keys require. Any other condition is refused: the generator must be taught it
    before it counts as covered."""
    condition = dict(statement.get("Condition") or {})
    equals = dict(condition.pop("StringEquals", {}))
    if set(equals) - set(EQUALS_KEYS) or any(not isinstance(v, str) for v in equals.values()):
        raise UnresolvedError(f"statement {statement.get('Sid')}: condition {equals} is not generated here")
    if not condition:
        return None, equals
    if set(condition) == {"StringLike"} and set(condition["StringLike"]) == {"s3:prefix"}:
        return _listify(condition["StringLike"]["s3:prefix"]), equals
    raise UnresolvedError(f"statement {statement.get('Sid')}: condition {condition} is not generated here")


def _permission_rows(rows: _Rows, role: Role) -> None:
    for statement in role.statements():
        sid = statement.get("Sid", "statement")
        patterns, required = _conditions(statement)
        for action in _listify(statement["Action"]):
            for arn in _listify(statement["Resource"]):
                resource = sample(arn)
                label = f"{sid}/{action}/{short(resource)}"
                if patterns is None:
                    rows.add(role, label, action, resource, ALLOWED, f"statement {sid}", context=required)
                else:
                    for pattern in patterns:
                        prefix = pattern.rstrip("*")
                        rows.add(
                            role,
                            f"{label}/prefix={prefix}",
                            action,
                            resource,
                            ALLOWED,
                            f"statement {sid}, listing under {prefix}",
                            context={**required, "s3:prefix": prefix},
                        )
                for miss, miss_resource, miss_action, context in _near_misses(
                    role, action, resource, patterns, required
                ):
                    rows.add(
                        role,
                        f"{label}/miss:{miss}",
                        miss_action,
                        miss_resource,
                        NO_IDENTITY_ALLOW,
                        f"near miss of {sid}: {miss}",
                        context=context,
                    )


def _near_misses(
    role: Role, action: str, resource: str, patterns: list[str] | None, required: Mapping[str, Any]
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(what differs, resource, action, context) of requests one step outside the permission."""
    env = role.env
    context: dict[str, Any] = dict(required)
    if patterns is not None:
        context["s3:prefix"] = patterns[0].rstrip("*")
    if "s3:ResourceAccount" in required:
        yield (
            "a bucket of another account",
            resource,
            action,
            {**context, "s3:ResourceAccount": OTHER_ACCOUNT},
        )
    if "bedrock:InferenceProfileArn" in required:
        direct = {k: v for k, v in context.items() if k != "bedrock:InferenceProfileArn"}
        yield "the model called directly", resource, action, direct
        other_profile = required["bedrock:InferenceProfileArn"].replace("/eu.", "/us.")
        yield (
            "through another profile",
            resource,
            action,
            {**context, "bedrock:InferenceProfileArn": other_profile},
        )
    if resource == "*":
        service = action.split(":")[0]
        granted = {
            a for s in role.statements() if "*" in _listify(s["Resource"]) for a in _listify(s["Action"])
        }
        other = next(a for a in RESOURCELESS[service] if a not in granted)
        yield "another action", "*", other, {}
        return
    moved = _in_other_env(resource, env)
    if moved is not None:
        yield f"{other_env(env)}'s", moved, action, context
    service = resource.split(":")[2]
    if service == "s3":
        yield from _s3_misses(role, action, resource, patterns, required)
    elif service == "lambda" and ":function:" in resource:
        name = resource.rsplit(":", 1)[-1]
        yield (
            "the snapshot function",
            resource.replace(name, resource_name(SNAPSHOT_FUNCTION, env)),
            action,
            {},
        )
    elif service == "logs":
        group = resource.split(":log-group:", 1)[1].split(":log-stream:", 1)[0]
        others = [log_group_name(f, env) for f in Function if log_group_name(f, env) != group]
        yield "another log group", resource.replace(group, others[0]), action, {}
    elif service == "cloudformation":
        name = resource.split(":stack/", 1)[1].split("/", 1)[0]
        yield "the CDK toolkit stack", resource.replace(f"stack/{name}/", "stack/CDKToolkit/"), action, {}
    elif service == "ssm":
        yield "another parameter", resource.replace("/pubmed/api-key", "/admin/token"), action, {}
    elif service == "bedrock":
        region = resource.split(":")[3]
        config = get_env_config(env)
        other_model = resource.replace(config.bedrock_foundation_model_id, OTHER_MODEL)
        yield "another model", other_model, action, context
        if region != OTHER_REGION and ":inference-profile/" in resource:
            moved_region = resource.replace(f":{region}:", f":{OTHER_REGION}:")
            yield "another region", moved_region.replace("/eu.", "/us."), action, context


def _s3_misses(
    role: Role, action: str, resource: str, patterns: list[str] | None, required: Mapping[str, Any]
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    env = role.env
    path = resource.split(":::", 1)[1]
    bucket, _, key = path.partition("/")
    component = component_of(bucket, env)
    forbidden_bucket = Bucket.ACCESS_LOGS if role.kind == SNAPSHOT_FUNCTION else Bucket.BACKUPS
    elsewhere = resource_name(forbidden_bucket, env)
    if action == "s3:ListBucket":
        if patterns is not None:
            yield "no s3:prefix (HeadBucket)", resource, action, dict(required)
            outside = next(
                p
                for p in (*KNOWN_PREFIXES[component], "other/")
                if not any(p.startswith(q.rstrip("*")) for q in patterns)
            )
            yield f"listing under {outside}", resource, action, {**required, "s3:prefix": outside}
        yield "a bucket it may not list", f"arn:{PARTITION}:s3:::{elsewhere}", action, dict(required)
        return
    grants = object_grants(role, action)
    free = [
        p for p in KNOWN_PREFIXES[component] if not any(c == component and p.startswith(q) for c, q in grants)
    ]
    if free:
        yield (
            f"prefix {free[0]}",
            f"arn:{PARTITION}:s3:::{bucket}/{free[0]}{CLIENT_KEY}",
            action,
            dict(required),
        )
    else:
        yield "another bucket", f"arn:{PARTITION}:s3:::{elsewhere}/{key}", action, dict(required)


def _trust_rows(rows: _Rows, role: Role) -> None:
    for statement in role.trust["Statement"]:
        service = statement["Principal"]["Service"]
        condition = statement.get("Condition", {})
        source_account = condition.get("StringEquals", {}).get("aws:SourceAccount")
        context = {"aws:SourceAccount": source_account} if source_account else {}
        if set(condition) - {"StringEquals"} or set(condition.get("StringEquals", {})) - {
            "aws:SourceAccount"
        }:
            raise UnresolvedError(f"{role.name}: trust condition {condition} is not generated here")
        rows.add(
            role,
            f"trust/{service}",
            "sts:AssumeRole",
            role.arn,
            ALLOWED,
            "trust policy",
            context=context,
            principal=service,
        )
        rows.add(
            role,
            f"trust/{OTHER_SERVICE[service]}/miss:another service",
            "sts:AssumeRole",
            role.arn,
            NO_RESOURCE_ALLOW,
            f"near miss of the trust policy: {OTHER_SERVICE[service]} is not {service}",
            context=context,
            principal=OTHER_SERVICE[service],
        )
        if source_account:
            rows.add(
                role,
                f"trust/{service}/miss:another account",
                "sts:AssumeRole",
                role.arn,
                NO_RESOURCE_ALLOW,
                "near miss of the trust policy: on behalf of another account (confused deputy)",
                context={"aws:SourceAccount": OTHER_ACCOUNT},
                principal=service,
            )


def generate(world: World) -> list[dict[str, Any]]:
    rows = _Rows()
    for name in sorted(world.roles):
        role = world.roles[name]
        _permission_rows(rows, role)
        _trust_rows(rows, role)
    return rows.rows


def dump(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    from tests.support.assembly import load_assembly
    from tests.support.cdk_cli import ALARM_CONTEXT, run_cdk

    with tempfile.TemporaryDirectory(prefix="iam-corpus-") as out:
        run_cdk(["synth", "-c", "env=all", *ALARM_CONTEXT, "--quiet", "--output", out])
        rows = generate(load_world(load_assembly(Path(out))))
    TABLE.write_text(dump(rows), encoding="utf-8")
    print(f"{len(rows)} cases written to {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
