"""The CDK bootstrap stack: present in the environment's region, with the qualifier and at least
the version the cloud assembly requires.

The requirement is read from the assembly itself: each stack artifact of ``manifest.json`` names
``requiresBootstrapStackVersion`` and the SSM parameter ``/cdk-bootstrap/<qualifier>/version`` that
holds the deployed version (the qualifier is read from that name). The deployed side is the
``CDKToolkit`` stack's ``Qualifier`` parameter and ``BootstrapVersion`` output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from vectora_core.naming import StackComponent, resource_name
from vectora_ops.cloud_assembly import stack_artifacts
from vectora_ops.environment import if_found
from vectora_ops.errors import OperationError
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip

TOOLKIT_STACK: Final = "CDKToolkit"  # the CLI's default --toolkit-stack-name
DEFAULT_QUALIFIER: Final = "hnb659fds"
_VERSION_PARAMETER: Final = re.compile(r"^/cdk-bootstrap/(?P<qualifier>[^/]+)/version$")


@dataclass(frozen=True)
class Requirement:
    qualifier: str
    version: int


def requirement(assembly: Path, env: str) -> Requirement:
    """The bootstrap the environment's stacks in ``assembly`` need (the strictest of them)."""
    artifacts = stack_artifacts(assembly)
    found: list[Requirement] = []
    for component in StackComponent:
        stack = artifacts.get(resource_name(component, env))
        properties = stack.properties if stack else {}
        version = properties.get("requiresBootstrapStackVersion")
        if version is None:
            continue
        match = _VERSION_PARAMETER.match(str(properties.get("bootstrapStackVersionSsmParameter", "")))
        found.append(Requirement(match["qualifier"] if match else DEFAULT_QUALIFIER, int(version)))
    if not found:
        raise OperationError(
            f"the cloud assembly {assembly} holds no stack of {env}: synthesize -c env={env}"
        )
    qualifiers = {r.qualifier for r in found}
    if len(qualifiers) > 1:
        raise OperationError(
            f"the stacks of {env} in {assembly} name several qualifiers: {sorted(qualifiers)}"
        )
    return Requirement(found[0].qualifier, max(r.version for r in found))


def bootstrap_command(ctx: Context, qualifier: str) -> str:
    extra = "" if qualifier == DEFAULT_QUALIFIER else f" --qualifier {qualifier}"
    return f"npx cdk bootstrap aws://{ctx.account}/{ctx.config.region}{extra} -c env={ctx.env}"


def check_bootstrap(ctx: Context) -> Finding:
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    if ctx.assembly is None:
        if ctx.assembly_error:
            return bad(ctx.assembly_error, "fix the synth (make synth ENV=...), or pass --assembly DIR")
        return skip("no cloud assembly to read the requirement from (--assembly DIR)")
    need = requirement(ctx.assembly, ctx.env)
    fix = f"an administrator runs, once per account and region: {bootstrap_command(ctx, need.qualifier)}"
    found = if_found(ctx.client("cloudformation").describe_stacks, StackName=TOOLKIT_STACK)
    if found is None:
        return bad(f"no {TOOLKIT_STACK} stack in {ctx.config.region} of {ctx.account}", fix)
    stack = found["Stacks"][0]
    status = str(stack.get("StackStatus", ""))
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    qualifier, version = parameters.get("Qualifier") or DEFAULT_QUALIFIER, outputs.get("BootstrapVersion")
    seen = f"{TOOLKIT_STACK} {status}, qualifier {qualifier}, version {version}"
    wanted = f"the assembly needs qualifier {need.qualifier}, version >= {need.version}"
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status or "DELETE" in status:
        return bad(f"{seen}: not usable; {wanted}", fix)
    if qualifier != need.qualifier:
        return bad(f"{seen}: {wanted}", fix)
    if not str(version).isdigit() or int(str(version)) < need.version:
        return bad(
            f"{seen}: too old; {wanted}", f"an administrator upgrades it: {bootstrap_command(ctx, qualifier)}"
        )
    return ok(f"{seen} ({wanted})")
