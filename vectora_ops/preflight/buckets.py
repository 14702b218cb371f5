"""Every bucket name the stacks will create: free, or already this account's.

S3 bucket names are global. ``HeadBucket`` with ``ExpectedBucketOwner`` = the caller's account
answers 404 (the name is free), 200 (the bucket exists and is this account's, e.g. a redeploy) or
403 (another account owns it: the deploy would fail on that name, and nothing here may write to
it).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from vectora_core.naming import Bucket, resource_name
from vectora_ops.environment import error_code
from vectora_ops.errors import one_line
from vectora_ops.preflight.context import Context
from vectora_ops.preflight.identity import NO_ACCOUNT
from vectora_ops.preflight.model import Finding, bad, ok, skip


def check_buckets(ctx: Context) -> Finding:
    if ctx.account is None:
        return skip(NO_ACCOUNT)
    s3 = ctx.client("s3")
    free, ours, elsewhere, unknown = [], [], [], []
    for name in (resource_name(bucket, ctx.env) for bucket in Bucket):
        try:
            s3.head_bucket(Bucket=name, ExpectedBucketOwner=ctx.account)
        except ClientError as err:
            code = error_code(err)
            if code in ("404", "NoSuchBucket", "NotFound"):
                free.append(name)
            elif code in ("403", "AccessDenied", "Forbidden"):
                elsewhere.append(name)
            else:
                unknown.append(f"{name} ({one_line(err)})")
            continue
        ours.append(name)
    if elsewhere:
        return bad(
            f"owned by another account: {', '.join(elsewhere)}",
            "these names cannot be created in this account: free them in the account that owns "
            "them (delete the buckets there), or deploy this environment where they are its own",
        )
    if unknown:
        return bad(f"cannot tell: {'; '.join(unknown)}", "give the credentials s3:ListBucket, then retry")
    return ok(f"{len(free)} free, {len(ours)} already this account's ({', '.join(ours) or 'none'})")
