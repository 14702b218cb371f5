"""The one place where S3 requests name the account that must own the bucket.

Bucket names are global: one of our conventional names may be held by another account (taken
before us, or a dev bucket deleted and re-registered by someone else). Every operation that
accepts ``ExpectedBucketOwner`` (and CopyObject's ``ExpectedSourceBucketOwner``) then gets this
account, so S3 answers 403 AccessDenied instead of storing our data in, or reading config from,
a bucket that is not ours. A botocore handler sets it on the client, once, rather than a
parameter at each call, which a new call would forget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

OWNER_PARAMETERS: Final = ("ExpectedBucketOwner", "ExpectedSourceBucketOwner")
_EVENT: Final = "before-parameter-build.s3"


def expect_bucket_owner(client: Any, account: str | Callable[[], str]) -> Any:
    """``client`` (an S3 client) with every request expecting ``account`` as the bucket owner.

    ``account`` may be a callable, called once on the first request that needs it (an operator's
    account from STS, without a call at construction). A parameter the caller passes explicitly
    wins. Returns the client, for ``s3 = expect_bucket_owner(session.client("s3"), account)``.
    """
    resolved: list[str] = []

    def owner() -> str:
        if not resolved:
            value = account() if callable(account) else account
            if not (len(value) == 12 and value.isdigit()):
                raise ValueError(f"expect_bucket_owner: {value!r} is not a 12-digit AWS account id")
            resolved.append(value)
        return resolved[0]

    if not callable(account):
        owner()  # a malformed account fails here, not at the first request

    def set_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
        members = model.input_shape.members if model.input_shape is not None else {}
        for name in OWNER_PARAMETERS:
            if name in members:
                params.setdefault(name, owner())

    client.meta.events.register(_EVENT, set_owner, unique_id=f"vectora-expected-bucket-owner-{id(client)}")
    return client


def caller_account(sts: Any) -> str:
    """The account of ``sts``'s credentials (GetCallerIdentity: no permission needed)."""
    return str(sts.get_caller_identity()["Account"])


def expect_own_buckets(client: Any, session: Any) -> Any:
    """``client`` expecting the caller's own account (``session``'s, asked of STS once, on the first
    S3 request) to own every bucket: the operations code deploys and reads one account's buckets."""
    return expect_bucket_owner(
        client, lambda: caller_account(session.client("sts", region_name=client.meta.region_name))
    )
