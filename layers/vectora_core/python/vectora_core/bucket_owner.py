"""The one place where S3 requests name the account that must own the bucket.

Bucket names are global: one of our conventional names may be held by another account (taken
before us, or a dev bucket deleted and re-registered by someone else). Every operation that
accepts ``ExpectedBucketOwner`` (and CopyObject's ``ExpectedSourceBucketOwner``) then gets this
account, so S3 answers 403 AccessDenied instead of storing our data in, or reading config from,
a bucket that is not ours. A botocore handler sets it on the client, once, rather than a
parameter at each call, which a new call would forget.
"""

from __future__ import annotations

from typing import Any, Final

OWNER_PARAMETERS: Final = ("ExpectedBucketOwner", "ExpectedSourceBucketOwner")
_EVENT: Final = "before-parameter-build.s3"


def expect_bucket_owner(client: Any, account: str) -> Any:
    """``client`` (an S3 client) with every request expecting ``account`` as the bucket owner.

    A parameter the caller passes explicitly wins. Returns the client, for
    ``s3 = expect_bucket_owner(session.client("s3"), account)``.
    """
    if not (len(account) == 12 and account.isdigit()):
        raise ValueError(f"expect_bucket_owner: {account!r} is not a 12-digit AWS account id")

    def set_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
        members = model.input_shape.members if model.input_shape is not None else {}
        for name in OWNER_PARAMETERS:
            if name in members:
                params.setdefault(name, account)

    client.meta.events.register(_EVENT, set_owner, unique_id=f"vectora-expected-bucket-owner-{id(client)}")
    return client
