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


def _prefix_condition(statement: Mapping[str, Any]) -> list[str] | None:
    """The ``s3:prefix`` patterns of a statement's condition; None without one. Any other
    condition is refused: the generator must be taught it before it counts as covered."""
    condition = statement.get("Condition")
    if condition is None:
        return None
    if set(condition) == {"StringLike"} and set(condition["StringLike"]) == {"s3:prefix"}:
        return _listify(condition["StringLike"]["s3:prefix"])
    raise UnresolvedError(f"statement {statement.get('Sid')}: condition {condition} is not generated here")


def _permission_rows(rows: _Rows, role: Role) -> None:
    for statement in role.statements():
        sid = statement.get("Sid", "statement")
        patterns = _prefix_condition(statement)
        for action in _listify(statement["Action"]):
            for arn in _listify(statement["Resource"]):
                resource = sample(arn)
                label = f"{sid}/{action}/{short(resource)}"
                if patterns is None:
                    rows.add(role, label, action, resource, ALLOWED, f"statement {sid}")
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
                            context={"s3:prefix": prefix},
                        )
                for miss, miss_resource, miss_action, context in _near_misses(
                    role, action, resource, patterns
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
    role: Role, action: str, resource: str, patterns: list[str] | None
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(what differs, resource, action, context) of requests one step outside the permission."""
    env = role.env
    context: dict[str, Any] = {} if patterns is None else {"s3:prefix": patterns[0].rstrip("*")}
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
        yield from _s3_misses(role, action, resource, patterns)
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
        yield "another model", resource.replace(config.bedrock_foundation_model_id, OTHER_MODEL), action, {}
        if region != OTHER_REGION:
            moved_region = resource.replace(f":{region}:", f":{OTHER_REGION}:")
            yield "another region", moved_region.replace("/eu.", "/us."), action, {}


def _s3_misses(
    role: Role, action: str, resource: str, patterns: list[str] | None
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    env = role.env
    path = resource.split(":::", 1)[1]
    bucket, _, key = path.partition("/")
    component = component_of(bucket, env)
    forbidden_bucket = Bucket.ACCESS_LOGS if role.kind == SNAPSHOT_FUNCTION else Bucket.BACKUPS
    elsewhere = resource_name(forbidden_bucket, env)
    if action == "s3:ListBucket":
        if patterns is not None:
            yield "no s3:prefix (HeadBucket)", resource, action, {}
            outside = next(
                p
                for p in (*KNOWN_PREFIXES[component], "other/")
                if not any(p.startswith(q.rstrip("*")) for q in patterns)
            )
            yield f"listing under {outside}", resource, action, {"s3:prefix": outside}
        yield "a bucket it may not list", f"arn:{PARTITION}:s3:::{elsewhere}", action, {}
        return
    grants = object_grants(role, action)
    free = [
        p for p in KNOWN_PREFIXES[component] if not any(c == component and p.startswith(q) for c, q in grants)
    ]
    if free:
        yield f"prefix {free[0]}", f"arn:{PARTITION}:s3:::{bucket}/{free[0]}{CLIENT_KEY}", action, {}
    else:
        yield "another bucket", f"arn:{PARTITION}:s3:::{elsewhere}/{key}", action, {}


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
