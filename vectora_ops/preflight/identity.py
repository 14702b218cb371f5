"""Who and where: the account and principal the credentials stand for, and the region."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from vectora_ops.errors import one_line
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.model import Finding, bad, ok

NO_ACCOUNT = "no account: the credentials check failed"


def check_identity(ctx: Context) -> Finding:
    try:
        who = ctx.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        return bad(
            f"no credentials answer ({ctx.where}): {one_line(err)}",
            "give credentials of the target account: AWS_PROFILE=<profile> (aws configure sso / aws sso "
            "login), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; AWS_ENDPOINT_URL only for the local AWS",
        )
    ctx.account, ctx.caller = str(who["Account"]), str(who["Arn"])
    return ok(f"account {ctx.account} as {ctx.caller}, region {ctx.config.region} ({ctx.where})")
