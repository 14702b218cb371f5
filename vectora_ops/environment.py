"""One environment as every operation sees it: its AWS clients, its resource names, the not-found rule.

One session, each client made once, on first use, under a lock (clients are thread-safe, their
creation is not), a connection pool sized for the snapshot engine's copy workers. Clients honour
``AWS_ENDPOINT_URL`` (botocore reads it), so the same code runs against the local AWS and an
account; both environments of a promotion are reached with the same credentials. The snapshot
engine, the pre-update Lambda (which bundles this module), deploy, promotion, rollback, the
checklist and the takeover all use ``Environment``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from botocore.config import Config
from botocore.exceptions import ClientError

from vectora_core.bucket_owner import caller_account, expect_bucket_owner
from vectora_core.environments import EnvConfig, get_env_config
from vectora_core.naming import (
    SNAPSHOT_FUNCTION,
    Bucket,
    Function,
    Layer,
    StackComponent,
    UnknownEnvironmentError,
    resource_name,
)
from vectora_ops.errors import SnapshotError
from vectora_ops.sessions import new_session

DEFAULT_WORKERS: Final = 32
# Every function of an environment: the pipeline's and the pre-update snapshot's (S0-core).
FUNCTION_COMPONENTS: Final = (*(str(f) for f in Function), SNAPSHOT_FUNCTION)
LAYER_COMPONENTS: Final = tuple(str(layer) for layer in Layer)
STACK_COMPONENTS: Final = tuple(str(s) for s in StackComponent)
# The not-found rule of every operation (snapshots, promotion and deploy, the checklist): S3 (404 of a
# HEAD, NoSuchBucket, NoSuchKey, NoSuchVersion), Lambda (ResourceNotFoundException), IAM
# (NoSuchEntity), botocore's NotFound; CloudFormation says "Stack with id X does not exist" with a
# ValidationError. A 403 is never "not found": S3 answers it for a missing key to a role without
# s3:ListBucket and for a bucket another account owns (ExpectedBucketOwner), both to be reported.
NOT_FOUND_CODES: Final = frozenset(
    {
        "404",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchVersion",
        "NotFound",
        "ResourceNotFoundException",
        "NoSuchEntity",
    }
)


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def is_not_found(err: ClientError) -> bool:
    """The thing asked for does not exist (see ``NOT_FOUND_CODES``)."""
    code = error_code(err)
    return code in NOT_FOUND_CODES or (code == "ValidationError" and "does not exist" in str(err))


# S3's refusals of a conditional write (IfNoneMatch/IfMatch): the key exists or changed
# (PreconditionFailed), or a concurrent conditional write to it is in flight
# (ConditionalRequestConflict); the bare statuses when a response carries no error code.
WRITE_CONFLICT_CODES: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})


def is_write_conflict(err: ClientError) -> bool:
    """A conditional write lost to another (see ``WRITE_CONFLICT_CODES``): the snapshot store's
    reservations, the environment's lock and the deployment records all read it so."""
    return error_code(err) in WRITE_CONFLICT_CODES


T = TypeVar("T")


def if_found(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T | None:
    """``call(*args, **kwargs)``, or None when AWS answers that what it asks for does not exist."""
    try:
        return call(*args, **kwargs)
    except ClientError as err:
        if is_not_found(err):
            return None
        raise


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under ``prefix`` (Key, ETag, Size, StorageClass), in key order."""
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend(page.get("Contents", []))
    return objects


def list_objects_if_bucket(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]] | None:
    """``list_objects``, or None when the bucket does not exist (S3 answers NoSuchBucket).

    The existence check of a role that may list ``bucket`` under some prefixes only (the
    pre-update snapshot's on the config and data buckets): the listing under ``prefix`` is what
    its policy allows, where HeadBucket needs ``s3:ListBucket`` on the whole bucket. One request
    instead of two, too.
    """
    return if_found(list_objects, s3, bucket, prefix)


def get_layer_version(aws: Environment, arn: str) -> dict[str, Any]:
    """GetLayerVersion by name and number (GetLayerVersionByArn is not emulated; this works on both)."""
    layer_arn, _, version = arn.rpartition(":")
    return dict(
        aws.lambda_.get_layer_version(LayerName=layer_arn.rsplit(":", 1)[-1], VersionNumber=int(version))
    )


@dataclass
class Environment:
    """The clients of one environment's operation (one set, shared with its snapshots), and its
    resource names.

    Each client is made on first use, once (under a lock: the engine's worker threads may ask
    first, and a botocore session does not make clients safely from several threads): an
    operation on configs alone never builds the Lambda or CloudFormation client (about 20 ms each).
    """

    env: str
    session: Any = None
    workers: int = DEFAULT_WORKERS
    config: EnvConfig = field(init=False)
    _clients: dict[str, Any] = field(init=False, repr=False, default_factory=dict)
    _clients_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        try:
            self.config = get_env_config(self.env)
        except UnknownEnvironmentError as err:
            raise SnapshotError(str(err)) from None
        self.session = self.session or new_session()

    def client(self, service: str) -> Any:
        """The operation's client of ``service``: standard retries, a connection per worker. S3's
        expects every bucket to be the caller's account's (ExpectedBucketOwner on every request,
        the one place the operations code sets it; the account asked of STS on the first request):
        a bucket of our name in another account is refused."""
        made = self._clients.get(service)  # made already: no lock (a dict read is atomic)
        if made is not None:
            return made
        with self._clients_lock:
            made = self._clients.get(service)
            if made is None:
                config = Config(
                    max_pool_connections=self.workers + 4, retries={"mode": "standard", "max_attempts": 5}
                )
                region = self.session.region_name or self.config.region
                made = self.session.client(service, region_name=region, config=config)
                if service == "s3":
                    expect_bucket_owner(made, lambda: caller_account(self.client("sts")))
                self._clients[service] = made
        return made

    s3 = property(lambda self: self.client("s3"))
    lambda_ = property(lambda self: self.client("lambda"))
    cloudformation = property(lambda self: self.client("cloudformation"))
    cloudwatch = property(lambda self: self.client("cloudwatch"))

    def name(self, component: str) -> str:
        """``vectora-inbox-{component}-{env}``."""
        return resource_name(component, self.env)

    @property
    def backups_bucket(self) -> str:
        return self.name(Bucket.BACKUPS)

    @property
    def config_bucket(self) -> str:
        return self.name(Bucket.CONFIG)

    @property
    def code_bucket(self) -> str:
        return self.name(Bucket.LAMBDA_CODE)

    @property
    def stack_names(self) -> tuple[str, ...]:
        return tuple(self.name(s) for s in STACK_COMPONENTS)

    def bucket_exists(self, bucket: str) -> bool:
        """HeadBucket: for callers that may list the whole bucket (AWS authorizes HeadBucket as
        ``s3:ListBucket`` with no ``s3:prefix``, so a role whose listing is limited to prefixes gets
        403, not an answer). Such a role uses ``list_objects_if_bucket`` instead."""
        return if_found(self.s3.head_bucket, Bucket=bucket) is not None

    def require_backups_bucket(self) -> str:
        bucket = self.backups_bucket
        if not self.bucket_exists(bucket):
            raise SnapshotError(
                f"backups bucket {bucket} does not exist: deploy {self.name(StackComponent.CORE)} first "
                "(or use --local DIR)"
            )
        return bucket

    def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        return list_objects(self.s3, bucket, prefix)

    def list_objects_if_bucket(self, bucket: str, prefix: str) -> list[dict[str, Any]] | None:
        return list_objects_if_bucket(self.s3, bucket, prefix)

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Every key under ``prefix``, in key order (an absent bucket has none)."""
        return sorted(o["Key"] for o in self.list_objects_if_bucket(bucket, prefix) or [])

    def read_json(self, bucket: str, key: str) -> Any:
        """The JSON object at ``key``, or None if there is none."""
        found = if_found(self.s3.get_object, Bucket=bucket, Key=key)
        return None if found is None else json.loads(found["Body"].read())
