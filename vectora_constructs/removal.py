"""The removal policy of stateful resources (buckets, log groups), defined once."""

from __future__ import annotations

from aws_cdk import RemovalPolicy


def stateful_removal_policy(retain: bool) -> RemovalPolicy:
    """``retain`` (stage, prod): kept on stack delete and on replacement, but a failed FIRST create
    deletes it (DeletionPolicy ``RetainExceptOnCreate``): a plain Retain would leave an orphan
    holding the global bucket name (or the log group name) and block the retry. Else (dev): deleted
    with its stack."""
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if retain else RemovalPolicy.DESTROY
