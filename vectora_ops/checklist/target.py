"""Environnement cible: the environment is identified, named, configured and has its own buckets."""

from __future__ import annotations

from typing import Any, Final

from vectora_core.functions import FUNCTIONS
from vectora_core.naming import PROJECT_NAME, Bucket, Function, StackComponent, resource_name
from vectora_ops.checklist.context import NOT_REACHABLE, Context
from vectora_ops.checklist.model import Result, failed, first_failure, not_checked, passed

# The template properties that hold a physical name, and what comes before the name proper.
NAME_PROPERTIES: Final = {
    "BucketName": "",
    "FunctionName": "",
    "RoleName": "",
    "LayerName": "",
    "TopicName": "",
    "AlarmName": "",
    "LogGroupName": "/aws/lambda/",
}
# Deployed resource types whose physical id is their name (the others are ARNs or generated ids).
NAMED_TYPES: Final = ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup")


def unreachable(ctx: Context) -> Result:
    return not_checked(ctx.where if NOT_REACHABLE in ctx.where else NOT_REACHABLE)


def deployed_stacks(ctx: Context) -> Result | None:
    """None when every stack of the environment is deployed, else the failure naming the missing ones."""
    if ctx.deployed is None:
        return None
    missing = ctx.deployed.missing_stacks()
    return failed(f"not deployed in {ctx.deployed.where}: {', '.join(missing)}") if missing else None


def function_variables(template_function: dict[str, Any]) -> dict[str, str]:
    variables = template_function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    return {str(k): str(v) for k, v in variables.items()}


def pipeline_functions(ctx: Context) -> dict[str, dict[str, Any]]:
    """The environment's pipeline functions in its templates, by function name."""
    found = {}
    for resource in ctx.templates.resources(ctx.env, "AWS::Lambda::Function").values():
        name = resource.get("Properties", {}).get("FunctionName")
        if isinstance(name, str):
            found[name] = resource
    return {
        resource_name(f, ctx.env): found[resource_name(f, ctx.env)]
        for f in Function
        if resource_name(f, ctx.env) in found
    }


# --- environment identified -----------------------------------------------------------------------
def check_identified(ctx: Context) -> Result:
    functions = pipeline_functions(ctx)
    absent = [resource_name(f, ctx.env) for f in Function if resource_name(f, ctx.env) not in functions]
    if absent:
        return failed(f"no {', '.join(absent)} in the templates")
    wrong = {
        n: v.get("ENV") for n, f in functions.items() if (v := function_variables(f)).get("ENV") != ctx.env
    }
    if wrong:
        return failed(f"ENV is not {ctx.env!r} on {', '.join(f'{n} ({v!r})' for n, v in wrong.items())}")
    template = passed(f"--env {ctx.env}: 3 stacks of {ctx.env}, ENV={ctx.env} on its 3 functions")
    if ctx.deployed is None:
        return template
    missing = deployed_stacks(ctx)
    if missing:
        return missing
    deployed_wrong = []
    for name in functions:
        config = ctx.deployed.function_config(name)
        value = (config or {}).get("Environment", {}).get("Variables", {}).get("ENV")
        if value != ctx.env:
            deployed_wrong.append(f"{name} ({'absent' if config is None else repr(value)})")
    if deployed_wrong:
        return failed(f"deployed ENV is not {ctx.env!r} on {', '.join(deployed_wrong)}")
    return passed(f"{template.evidence}; deployed alike")


# --- naming ---------------------------------------------------------------------------------------
def name_problem(name: str, env: str, alarm: bool = False) -> str | None:
    # An alarm is named after what it watches ("vectora-inbox-ingest-v2-dev-errors"): the name of
    # the environment's resource comes first, the metric after it.
    in_name = f"-{env}-" in name if alarm else False
    if not name.startswith(f"{PROJECT_NAME}-") or not (name.endswith(f"-{env}") or in_name):
        return f"{name!r} is not {PROJECT_NAME}-<component>-{env}"
    return None


def template_names(ctx: Context) -> list[tuple[str, bool]]:
    """Every physical name in the templates, and whether it is an alarm's."""
    names = [(stack, False) for stack in ctx.templates.templates]
    for template in ctx.templates.templates.values():
        for resource in template.get("Resources", {}).values():
            for prop, prefix in NAME_PROPERTIES.items():
                value = resource.get("Properties", {}).get(prop)
                if isinstance(value, str):
                    names.append((value.removeprefix(prefix), prop == "AlarmName"))
    return names


def check_naming(ctx: Context) -> Result:
    names = template_names(ctx)
    problems = [p for name, alarm in names if (p := name_problem(name, ctx.env, alarm))]
    if problems:
        return failed(
            f"{len(problems)} of {len(names)} names: {problems[0]}" + (" ..." if len(problems) > 1 else "")
        )
    template = passed(f"{len(names)} physical names in the templates end with -{ctx.env}")
    if ctx.deployed is None:
        return template
    missing = deployed_stacks(ctx)
    if missing:
        return missing
    deployed = []
    for stack in ctx.deployed.stacks:
        pages = ctx.deployed.aws.cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack
        )
        for page in pages:
            for resource in page["StackResourceSummaries"]:
                if resource["ResourceType"] in NAMED_TYPES and resource.get("PhysicalResourceId"):
                    deployed.append(str(resource["PhysicalResourceId"]).removeprefix("/aws/lambda/"))
    problems = [p for name in deployed if (p := name_problem(name, ctx.env))]
    if problems:
        return failed(f"deployed: {problems[0]}" + (f" (+{len(problems) - 1})" if len(problems) > 1 else ""))
    return passed(f"{template.evidence}; {len(deployed)} deployed names too")


# --- environment variables ------------------------------------------------------------------------
def expected_variables(ctx: Context) -> dict[str, dict[str, str]]:
    return {resource_name(f, ctx.env): FUNCTIONS[f].environment(ctx.config) for f in Function}


def variable_problems(expected: dict[str, str], actual: dict[str, str], extra_allowed: bool) -> list[str]:
    problems = [f"{k}={actual.get(k)!r} (want {v!r})" for k, v in expected.items() if actual.get(k) != v]
    if not extra_allowed:
        problems += [f"{k} is not one of its variables" for k in actual if k not in expected]
    return problems


def check_variables(ctx: Context) -> Result:
    functions, expected = pipeline_functions(ctx), expected_variables(ctx)
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
    if ctx.deployed is None:
        return template
    if missing := deployed_stacks(ctx):
        return missing
    for name in expected:
        config = ctx.deployed.function_config(name) or {}
        actual = {str(k): str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()}
        problems = variable_problems(function_variables(functions[name]), actual, extra_allowed=False)
        if problems:
            return failed(f"deployed {name} differs from its template: {'; '.join(problems)}")
    return passed(f"{template.evidence}; deployed as synthesized")


# --- buckets --------------------------------------------------------------------------------------
def check_buckets(ctx: Context) -> Result:
    wanted = [resource_name(b, ctx.env) for b in Bucket]
    core = ctx.templates.stack(StackComponent.CORE, ctx.env).get("Resources", {}).values()
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
