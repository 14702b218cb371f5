"""The alarm topic's subscriptions: every one confirmed (an e-mail subscription stays
``PendingConfirmation`` until its recipient clicks the link AWS sent; until then alarms reach no
one). Checked once the environment is deployed; dev has no alarms."""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_core.naming import ALARM_TOPIC, resource_name
from vectora_ops.environment import error_code
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip

PENDING: Final = "PendingConfirmation"


def topic_arn(ctx: Context) -> str:
    return f"arn:aws:sns:{ctx.config.region}:{ctx.account}:{resource_name(ALARM_TOPIC, ctx.env)}"


def judge(topic: str, subscriptions: list[dict[str, Any]]) -> Finding:
    """The verdict on ListSubscriptionsByTopic's answer."""
    if not subscriptions:
        return bad(
            f"{topic} has no subscription: alarms reach no one",
            "deploy with -c alarm_emails=<address>[,<address>] (cdk.json context), then confirm the e-mails",
        )
    pending = [str(s.get("Endpoint")) for s in subscriptions if s.get("SubscriptionArn") == PENDING]
    if pending:
        return bad(
            f"not confirmed: {', '.join(pending)}",
            f"each recipient opens the e-mail 'AWS Notification - Subscription Confirmation' for {topic} "
            "and clicks Confirm subscription (lost: re-deploy, or aws sns subscribe again)",
        )
    return ok(f"{len(subscriptions)} confirmed: {', '.join(str(s.get('Endpoint')) for s in subscriptions)}")


def check_alarm_subscriptions(ctx: Context) -> Finding:
    if not ctx.config.alarms_enabled:
        return skip(f"{ctx.env} has no alarms")
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    topic, sns = topic_arn(ctx), ctx.client("sns")
    try:
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        subscriptions = [s for page in pages for s in page.get("Subscriptions", [])]
    except ClientError as err:
        if error_code(err) in ("NotFound", "NotFoundException"):
            return skip(f"{topic} not deployed yet: run the preflight again after the first deploy")
        raise
    return judge(topic, subscriptions)
