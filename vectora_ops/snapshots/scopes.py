"""Which S3 objects each data component covers, for a whole environment or one client.

A snapshot file keeps its source key as its path (``clients/lai_weekly.yaml``,
``canonical/scopes/x.yaml``, ``curated/lai_weekly/curated_items.json``), so a restore maps each
file back to exactly where it came from. The curated file sits under its client's folder because
an environment snapshot holds the curated items of every client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vectora_core.naming import Bucket
from vectora_ops.snapshots.ids import CANONICAL, CLIENT_CONFIG, CURATED

CLIENTS_PREFIX: Final = "clients/"
CANONICAL_PREFIX: Final = "canonical/"
CURATED_PREFIX: Final = "curated/"
CURATED_FILE: Final = "curated_items.json"
S3_COMPONENTS: Final = (CLIENT_CONFIG, CANONICAL, CURATED)


@dataclass(frozen=True)
class S3Scope:
    component: str
    bucket_component: str
    list_prefix: str
    client: str | None

    def matches(self, key: str) -> bool:
        if not key.startswith(self.list_prefix) or key.endswith("/"):
            return False
        if self.component == CLIENT_CONFIG:
            if self.client is None:
                return True
            rest = key[len(CLIENTS_PREFIX) :]
            return rest == f"{self.client}.yaml" or rest.startswith(f"{self.client}/")
        if self.component == CURATED:
            parts = key.split("/")
            return len(parts) == 3 and parts[2] == CURATED_FILE and (self.client in (None, parts[1]))
        return True

    def describe(self, bucket: str) -> str:
        if self.component == CLIENT_CONFIG and self.client:
            return f"s3://{bucket}/{CLIENTS_PREFIX}{self.client}.yaml"
        if self.component == CURATED:
            return f"s3://{bucket}/{CURATED_PREFIX}{self.client or '*'}/{CURATED_FILE}"
        return f"s3://{bucket}/{self.list_prefix}"


def s3_scope(component: str, client: str | None) -> S3Scope:
    if component == CLIENT_CONFIG:
        # Listing "clients/lai_weekly" also finds "clients/lai_weekly_v2.yaml": matches() filters.
        prefix = f"{CLIENTS_PREFIX}{client}" if client else CLIENTS_PREFIX
        return S3Scope(component, Bucket.CONFIG, prefix, client)
    if component == CANONICAL:
        return S3Scope(component, Bucket.CONFIG, CANONICAL_PREFIX, None)  # shared by every client
    if component == CURATED:
        prefix = f"{CURATED_PREFIX}{client}/" if client else CURATED_PREFIX
        return S3Scope(component, Bucket.DATA, prefix, client)
    raise ValueError(f"{component} is not an S3 component")


def client_of(key: str) -> str | None:
    """The client id a ``clients/<id>.yaml`` key names."""
    rest = key[len(CLIENTS_PREFIX) :] if key.startswith(CLIENTS_PREFIX) else ""
    return rest[: -len(".yaml")] if rest.endswith(".yaml") and "/" not in rest else None
