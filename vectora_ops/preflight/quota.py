"""The account's Lambda concurrency against the pipeline's fan-out.

An environment's pipeline runs at most ``pipeline_max_concurrency`` normalize-score invocations at
once (the batch Map's MaxConcurrency; its other steps run one function at a time), and the
environments of one account share its concurrency: stage's and prod's schedules fire at the same
minute. So the unreserved concurrency (``GetAccountSettings``) must cover the sum of that figure
over this environment and every other one already deployed in the account (its S1-runtime stack
exists). New accounts often start at 10 concurrent executions.
"""

from __future__ import annotations

from typing import Final

from vectora_core.environments import ENVIRONMENTS, get_env_config
from vectora_core.naming import StackComponent, resource_name
from vectora_ops.environment import if_found
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip

# Service Quotas' code for "Concurrent executions" (Lambda).
QUOTA_CODE: Final = "L-B99A9384"


def sharing_environments(ctx: Context) -> list[str]:
    """This environment and every other one whose S1-runtime stack is in the account and region."""
    describe, runtime = ctx.client("cloudformation").describe_stacks, StackComponent.RUNTIME
    others = [
        e for e in ENVIRONMENTS if e != ctx.env and if_found(describe, StackName=resource_name(runtime, e))
    ]
    return [ctx.env, *others]


def check_lambda_concurrency(ctx: Context) -> Finding:
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    limit = ctx.client("lambda").get_account_settings()["AccountLimit"]
    total, unreserved = limit.get("ConcurrentExecutions"), limit.get("UnreservedConcurrentExecutions")
    envs = sharing_environments(ctx)
    need = sum(get_env_config(env).pipeline_max_concurrency for env in envs)
    shown = " + ".join(f"{env} {get_env_config(env).pipeline_max_concurrency}" for env in envs)
    seen = f"unreserved {unreserved} of {total}; the Map fan-out needs {need} ({shown})"
    if unreserved is None or int(unreserved) < need:
        return bad(
            seen,
            "an administrator asks for more: aws service-quotas request-service-quota-increase "
            f"--region {ctx.config.region} --service-code lambda --quota-code {QUOTA_CODE} "
            "--desired-value 1000 "
            "(or lowers a function's reserved concurrency)",
        )
    return ok(seen)
