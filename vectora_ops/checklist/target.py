"""Environnement cible: the environment is identified, named, configured and has its own buckets."""

from __future__ import annotations

from typing import Any, Final

from vectora_core.functions import FUNCTIONS
from vectora_core.naming import PROJECT_NAME, Bucket, Function, StackComponent, resource_name
from vectora_ops.checklist.context import Context, Deployed, on_deployed
from vectora_ops.checklist.model import Result, failed, first_failure, first_problems, passed

# The template properties that hold a physical name.
NAME_PROPERTIES: Final = (
    "BucketName",
    "FunctionName",
    "RoleName",
    "LayerName",
    "TopicName",
    "AlarmName",
    "LogGroupName",
    "StateMachineName",
)
# Log groups are named under the service's prefix: the functions' and the state machine's.
LOG_GROUP_PREFIXES: Final = ("/aws/lambda/", "/aws/vendedlogs/states/")
# Deployed resource types whose physical id is their name (the others are ARNs or generated ids).
NAMED_TYPES: Final = ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup")


def function_variables(function: dict[str, Any]) -> dict[str, str]:
    """The environment variables of a function: a template's resource (its ``Properties``), or a
    deployed function's configuration (GetFunctionConfiguration's answer)."""
    variables = function.get("Properties", function).get("Environment", {}).get("Variables", {})
    return {str(k): str(v) for k, v in variables.items()}


def pipeline_functions(ctx: Context) -> dict[str, dict[str, Any]]:
    """The environment's pipeline functions in its templates, by function name."""
    found = {
        name: resource
        for resource in ctx.templates.resources("AWS::Lambda::Function").values()
        if isinstance(name := resource.get("Properties", {}).get("FunctionName"), str)
    }
    return {name: found[name] for f in Function if (name := resource_name(f, ctx.env)) in found}


# --- environment identified -----------------------------------------------------------------------
def check_identified(ctx: Context) -> Result:
    functions = pipeline_functions(ctx)
    if absent := [name for f in Function if (name := resource_name(f, ctx.env)) not in functions]:
        return failed(f"no {', '.join(absent)} in the templates")
    wrong = {
        n: v.get("ENV") for n, f in functions.items() if (v := function_variables(f)).get("ENV") != ctx.env
    }
    if wrong:
        return failed(f"ENV is not {ctx.env!r} on {', '.join(f'{n} ({v!r})' for n, v in wrong.items())}")
    template = passed(f"--env {ctx.env}: 3 stacks of {ctx.env}, ENV={ctx.env} on its 3 functions")
    return on_deployed(ctx, deployed_identified, template)


def deployed_identified(ctx: Context, deployed: Deployed) -> Result:
    wrong = []
    for name in pipeline_functions(ctx):
        config = deployed.function_config(name)
        value = function_variables(config or {}).get("ENV")
        if value != ctx.env:
            wrong.append(f"{name} ({'absent' if config is None else repr(value)})")
    if wrong:
        return failed(f"deployed ENV is not {ctx.env!r} on {', '.join(wrong)}")
    return passed("deployed alike")


# --- naming ---------------------------------------------------------------------------------------
def name_problem(name: str, env: str) -> str | None:
    base = next((name.removeprefix(p) for p in LOG_GROUP_PREFIXES if name.startswith(p)), name)
    if not base.startswith(f"{PROJECT_NAME}-") or not base.endswith(f"-{env}"):
        return f"{name!r} is not {PROJECT_NAME}-<component>-{env}"
    return None


def template_names(ctx: Context) -> list[str]:
    """Every physical name in the templates (alarms and log groups included)."""
    resources = [r for t in ctx.templates.templates.values() for r in t.get("Resources", {}).values()]
    values = [r.get("Properties", {}).get(prop) for r in resources for prop in NAME_PROPERTIES]
    return [*ctx.templates.templates, *(value for value in values if isinstance(value, str))]


def check_naming(ctx: Context) -> Result:
    names = template_names(ctx)
    if problems := [p for name in names if (p := name_problem(name, ctx.env))]:
        return failed(
            f"{len(problems)} of {len(names)} names: {problems[0]}" + (" ..." if len(problems) > 1 else "")
        )
    template = passed(f"{len(names)} physical names in the templates end with -{ctx.env}")
    return on_deployed(ctx, deployed_names, template)


def deployed_names(ctx: Context, deployed: Deployed) -> Result:
    pages = deployed.aws.cloudformation.get_paginator("list_stack_resources")
    names = [
        str(resource["PhysicalResourceId"])
        for stack in deployed.stacks
        for page in pages.paginate(StackName=stack)
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] in NAMED_TYPES and resource.get("PhysicalResourceId")
    ]
    if problems := [p for name in names if (p := name_problem(name, ctx.env))]:
        return failed(f"deployed: {first_problems(problems)}")
    return passed(f"{len(names)} deployed names too")


# --- environment variables ------------------------------------------------------------------------
def variable_problems(expected: dict[str, str], actual: dict[str, str], extra_allowed: bool) -> list[str]:
    problems = [f"{k}={actual.get(k)!r} (want {v!r})" for k, v in expected.items() if actual.get(k) != v]
    if not extra_allowed:
        problems += [f"{k} is not one of its variables" for k in actual if k not in expected]
    return problems


def check_variables(ctx: Context) -> Result:
    functions = pipeline_functions(ctx)
    expected = {resource_name(f, ctx.env): FUNCTIONS[f].environment(ctx.config) for f in Function}
    for name, wanted in expected.items():
        if name not in functions:
            return failed(f"{name} is not in the templates")
        # dev may carry -c extra_env experiments; stage and prod exactly their config.
        problems = variable_problems(
            wanted, function_variables(functions[name]), ctx.config.extra_env_allowed
        )
        if problems:
            return failed(f"{name}: {'; '.join(problems)}")
    count = sum(len(v) for v in expected.values())
    template = passed(
        f"{count} variables of 3 functions as {ctx.env}'s config says (LOG_LEVEL={ctx.config.log_level})"
    )
    return on_deployed(ctx, deployed_variables, template)


def deployed_variables(ctx: Context, deployed: Deployed) -> Result:
    for name, function in pipeline_functions(ctx).items():
        actual = function_variables(deployed.function_config(name) or {})
        problems = variable_problems(function_variables(function), actual, extra_allowed=False)
        if problems:
            return failed(f"deployed {name} differs from its template: {'; '.join(problems)}")
    return passed("deployed as synthesized")


# --- buckets --------------------------------------------------------------------------------------
def check_buckets(ctx: Context) -> Result:
    wanted = [resource_name(b, ctx.env) for b in Bucket]
    core = ctx.templates.templates[resource_name(StackComponent.CORE, ctx.env)].get("Resources", {}).values()
    declared = {r.get("Properties", {}).get("BucketName") for r in core if r.get("Type") == "AWS::S3::Bucket"}
    if absent := [b for b in wanted if b not in declared]:
        return failed(f"S0-core declares no {', '.join(absent)}")
    pointing = [
        f"{name}: {var}={value}"
        for name, function in pipeline_functions(ctx).items()
        for var, value in function_variables(function).items()
        if var.endswith("_BUCKET") and value not in wanted
    ]
    if pointing:
        return failed(f"a function names another environment's bucket: {pointing[0]}")
    results = [
        passed(f"S0-core declares the {len(wanted)} buckets of {ctx.env}; the functions name only them")
    ]
    if ctx.deployed is not None:
        absent = [b for b in wanted if not ctx.deployed.aws.bucket_exists(b)]
        results.append(
            failed(f"absent from {ctx.deployed.where}: {', '.join(absent)}")
            if absent
            else passed("all exist")
        )
    return first_failure(*results)
