"""Déploiement: stack order and dependencies, the environment's parameters, outputs saved,
post-deployment validation."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from vectora_core.naming import Bucket, Function, StackComponent, resource_name
from vectora_ops.checklist.context import Context, Deployed, on_deployed, unreachable
from vectora_ops.checklist.freshness import utc
from vectora_ops.checklist.model import Result, failed, first_failure, first_problems, passed
from vectora_ops.checklist.target import pipeline_functions
from vectora_ops.snapshots.layout import stack_file


def _names(ctx: Context) -> list[str]:
    return [resource_name(c, ctx.env) for c in StackComponent]  # S0-core -> S0-iam -> S1-runtime


# --- stack order --------------------------------------------------------------------------------------
def template_order(ctx: Context) -> Result:
    names = _names(ctx)
    for position, name in enumerate(names):
        depends = set(ctx.templates.artifacts[name].get("dependencies", []))
        if missing := [earlier for earlier in names[:position] if earlier not in depends]:
            return failed(f"{name} does not depend on {', '.join(missing)}: the CLI could deploy it first")
        if later := [n for n in names[position + 1 :] if n in depends]:
            return failed(f"{name} depends on {', '.join(later)}, which comes after it")
        if "Fn::ImportValue" in json.dumps(ctx.templates.templates[name]):
            return failed(f"{name} imports a CloudFormation export: stacks refer to each other by name only")
    return passed(" -> ".join(names) + " (explicit dependencies, no exports)")


def check_stack_order(ctx: Context) -> Result:
    return on_deployed(ctx, deployed_order, template_order(ctx))


def deployed_order(ctx: Context, deployed: Deployed) -> Result:
    stacks = [deployed.stacks[n] or {} for n in _names(ctx)]
    if bad := [
        f"{s['StackName']} {s['StackStatus']}"
        for s in stacks
        if not str(s["StackStatus"]).endswith("_COMPLETE") or "ROLLBACK" in str(s["StackStatus"])
    ]:
        return failed(f"deployed: {', '.join(bad)}")
    created = [s["CreationTime"] for s in stacks]
    if created != sorted(created):
        return failed(
            "deployed: the stacks were created out of order: "
            + ", ".join(f"{s['StackName']} {s['CreationTime']:%H:%M:%S}" for s in stacks)
        )
    return passed("deployed in that order, each *_COMPLETE")


# --- parameters ---------------------------------------------------------------------------------------
def template_parameters(ctx: Context) -> Result:
    config, problems = ctx.config, []
    sizing = (config.lambda_memory_mb, config.lambda_timeout_seconds)
    for name, function in pipeline_functions(ctx).items():
        props = function.get("Properties", {})
        if (props.get("MemorySize"), props.get("Timeout")) != sizing:
            problems.append(
                f"{name}: {props.get('MemorySize')} MB / {props.get('Timeout')} s, "
                f"want {config.lambda_memory_mb} MB / {config.lambda_timeout_seconds} s"
            )
    for key, group in ctx.templates.resources("AWS::Logs::LogGroup").items():
        if (retention := group.get("Properties", {}).get("RetentionInDays")) != config.log_retention_days:
            problems.append(f"{key}: log retention {retention} days, want {config.log_retention_days}")
    for name, artifact in ctx.templates.artifacts.items():
        if bool(artifact.get("properties", {}).get("terminationProtection")) != config.termination_protection:
            problems.append(f"{name}: termination protection is not {config.termination_protection}")
    alarms = len(ctx.templates.resources("AWS::CloudWatch::Alarm"))
    if bool(alarms) != config.alarms_enabled:
        problems.append(f"{alarms} alarms, but alarms_enabled is {config.alarms_enabled}")
    if problems:
        return failed(first_problems(problems, shown=2))
    return passed(
        f"{config.lambda_memory_mb} MB / {config.lambda_timeout_seconds} s, "
        f"logs {config.log_retention_days} days, "
        f"termination protection {'on' if config.termination_protection else 'off'}, {alarms} alarms"
    )


def check_parameters(ctx: Context) -> Result:
    return on_deployed(ctx, deployed_parameters, template_parameters(ctx))


def deployed_parameters(ctx: Context, deployed: Deployed) -> Result:
    config, problems = ctx.config, []
    sizing = (config.lambda_memory_mb, config.lambda_timeout_seconds)
    for name in _names(ctx):
        stack: dict[str, Any] = deployed.stacks[name] or {}
        declared = set(ctx.templates.templates[name].get("Parameters", {}))
        live = {p["ParameterKey"] for p in stack.get("Parameters", [])}
        if declared != live:
            problems.append(f"{name} parameters {sorted(live)}, template {sorted(declared)}")
        if bool(stack.get("EnableTerminationProtection")) != config.termination_protection:
            problems.append(f"{name}: deployed termination protection is not {config.termination_protection}")
    for name in pipeline_functions(ctx):
        function = deployed.function_config(name) or {}
        if (function.get("MemorySize"), function.get("Timeout")) != sizing:
            problems.append(f"deployed {name}: {function.get('MemorySize')} MB / {function.get('Timeout')} s")
    if problems:
        return failed("; ".join(problems[:2]))
    return passed("deployed alike")


# --- outputs saved --------------------------------------------------------------------------------------
def _outputs(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {str(o.get("OutputKey")): str(o.get("OutputValue")) for o in entries}


def check_outputs_saved(ctx: Context) -> Result:
    declared = {n: set(t.get("Outputs", {})) for n, t in ctx.templates.templates.items()}
    if bare := [n for n, outputs in declared.items() if not outputs]:
        return failed(f"{', '.join(bare)} declare no outputs (the snapshot id of their pre-update snapshot)")
    if ctx.deployed is None:
        return first_failure(passed(f"{sum(map(len, declared.values()))} outputs declared"), unreachable(ctx))
    return on_deployed(ctx, saved_outputs)


def saved_outputs(ctx: Context, deployed: Deployed) -> Result:
    newest = deployed.newest_complete()
    if newest is None:
        return failed("no complete snapshot holds the stacks' outputs")
    for name in _names(ctx):
        saved = deployed.engine.store.read_bytes(newest.snapshot_id, stack_file(name))
        document = json.loads(saved) if saved else {}
        live = _outputs((deployed.stacks[name] or {}).get("Outputs", []))
        if document.get("absent") or _outputs(document.get("outputs", [])) != live:
            return failed(f"{newest.snapshot_id} does not hold {name}'s current outputs: take a snapshot")
    return passed(f"{newest.snapshot_id} holds the current outputs of the 3 stacks")


# --- post-deployment validation ---------------------------------------------------------------------------
def check_post_deployment(ctx: Context) -> Result:
    return on_deployed(ctx, post_deployment)


def post_deployment(ctx: Context, deployed: Deployed) -> Result:
    changed = []
    for name in map(deployed.aws.name, Function):
        config = deployed.function_config(name) or {}
        state = (config.get("State", "Active"), config.get("LastUpdateStatus", "Successful"))
        if state != ("Active", "Successful"):
            return failed(f"{name} is {config.get('State')} / {config.get('LastUpdateStatus')}")
        changed.append(utc(config["LastModified"]))
    bucket = deployed.aws.name(Bucket.NEWSLETTERS)
    objects = deployed.aws.list_objects_if_bucket(bucket, "") or []
    newsletters = [o for o in objects if o["Key"].endswith("newsletter.md")]
    newest = max(newsletters, key=lambda o: o["LastModified"], default=None)
    if newest is None or newest["LastModified"].astimezone(UTC) < max(changed).replace(microsecond=0):
        return failed(
            f"no newsletter written since the functions last changed ({max(changed):%Y-%m-%d %H:%M:%S} UTC): "
            f"run python scripts/invoke/run_pipeline.py --env {ctx.env} --client-id <id>"
        )
    return passed(f"s3://{bucket}/{newest['Key']} written after the functions' last change")
