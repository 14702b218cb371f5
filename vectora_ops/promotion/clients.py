"""The AWS clients of one environment and its resource names, created once per operation.

Clients honour ``AWS_ENDPOINT_URL`` (botocore reads it), so the same code runs against the local
AWS and an account. Both environments of a promotion are reached with the same credentials (one
account, or credentials that reach both).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_core.naming import SNAPSHOT_FUNCTION, Bucket, Function, Layer, StackComponent, resource_name
from vectora_ops.snapshots import Aws, ProgressCallback, SnapshotEngine
from vectora_ops.snapshots.aws import is_not_found, list_objects_if_bucket

# Every function of an environment: the pipeline's and the pre-update snapshot's (S0-core).
FUNCTION_COMPONENTS: Final = (*(str(f) for f in Function), SNAPSHOT_FUNCTION)
LAYER_COMPONENTS: Final = tuple(str(layer) for layer in Layer)
STACK_COMPONENTS: Final = tuple(str(s) for s in StackComponent)


@dataclass
class EnvClients(Aws):
    """The snapshot engine's clients of ``env`` (``s3``, ``lambda_``, ``cloudformation``: one set per
    operation, shared with its snapshots) plus ``cloudwatch``, and the environment's names."""

    @property
    def cloudwatch(self) -> Any:
        return self.client("cloudwatch")

    def snapshot_engine(
        self, clock: Callable[[], datetime], progress: ProgressCallback | None
    ) -> SnapshotEngine:
        """The snapshot engine on this environment's clients (the operation's clock and progress)."""
        return SnapshotEngine(self.env, aws=self, clock=clock, progress=progress)

    def name(self, component: str) -> str:
        """``vectora-inbox-{component}-{env}``."""
        return resource_name(component, self.env)

    @property
    def config_bucket(self) -> str:
        return self.name(Bucket.CONFIG)

    @property
    def code_bucket(self) -> str:
        return self.name(Bucket.LAMBDA_CODE)

    @property
    def stack_names(self) -> tuple[str, ...]:
        return tuple(self.name(s) for s in STACK_COMPONENTS)

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Every key under ``prefix``, in key order (an absent bucket has none)."""
        return sorted(o["Key"] for o in list_objects_if_bucket(self.s3, bucket, prefix) or [])

    def read_json(self, bucket: str, key: str) -> Any:
        """The JSON object at ``key``, or None if there is none."""
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            if is_not_found(err):
                return None
            raise
        return json.loads(body)
