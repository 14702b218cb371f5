"""Which S3 objects each data component covers, for a whole environment or one client, and the
one check that every file a snapshot lists restores into its own component's scope.

A snapshot file keeps its source key as its path (``clients/lai_weekly.yaml``,
``canonical/scopes/x.yaml``, ``curated/lai_weekly/curated_items.json``), so a restore maps each
file back to exactly where it came from. The curated file sits under its client's folder because
an environment snapshot holds the curated items of every client.

A snapshot's metadata says which component each file belongs to; the checksums prove the bytes,
not that label. ``check_targets`` refuses a snapshot any of whose files would be written outside
its component (a ``canonical/`` key labelled ``client_config``, another environment's function):
a rollback of one component must never change another, which neither its pre-rollback snapshot
nor its undo covers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from vectora_core.naming import (
    CANONICAL_PREFIX,
    CLIENTS_PREFIX,
    Bucket,
    Function,
    StackComponent,
    resource_name,
)
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.ids import (
    CANONICAL,
    CLIENT_CONFIG,
    CURATED,
    LAMBDA_CODE,
    LAMBDA_CONFIG,
    STACKS,
)
from vectora_ops.snapshots.layout import lambda_file, lambda_zip, stack_file, stack_template_file
from vectora_ops.snapshots.metadata import SnapshotMetadata

CURATED_PREFIX: Final = "curated/"
CURATED_FILE: Final = "curated_items.json"
S3_COMPONENTS: Final = (CLIENT_CONFIG, CANONICAL, CURATED)
# The files a Lambda or stack component may hold: those of which resources, named how.
_NAMED_FILES: Final[dict[str, tuple[Iterable[str], tuple[Callable[[str], str], ...]]]] = {
    LAMBDA_CONFIG: (Function, (lambda_file,)),
    LAMBDA_CODE: (Function, (lambda_zip,)),
    STACKS: (StackComponent, (stack_file, stack_template_file)),
}


@dataclass(frozen=True)
class S3Scope:
    component: str
    bucket_component: str
    list_prefix: str
    client: str | None

    def matches(self, key: str) -> bool:
        if not key.startswith(self.list_prefix) or key.endswith("/"):
            return False
        if self.component == CLIENT_CONFIG and self.client is not None:
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


def scope_text(component: str, client: str | None) -> str:
    """What an S3 component covers, in words: ``clients/lai_weekly.yaml, clients/lai_weekly/``."""
    if component == CLIENT_CONFIG:
        return f"{CLIENTS_PREFIX}{client}.yaml, {CLIENTS_PREFIX}{client}/" if client else CLIENTS_PREFIX
    if component == CURATED:
        return f"{CURATED_PREFIX}{client or '<client>'}/{CURATED_FILE}"
    return CANONICAL_PREFIX


def target_problem(component: str, rel: str, client: str | None, env: str) -> str | None:
    """Why file ``rel`` listed under ``component`` would restore outside that component, or None.

    Layers are not checked by name: restoring one publishes a new layer version, never
    overwrites one, and only this environment's functions (checked) are pointed at it.
    """
    if component in S3_COMPONENTS:
        if s3_scope(component, client).matches(rel):
            return None
        return f"{rel} is listed as {component}, which covers only {scope_text(component, client)}"
    if component not in _NAMED_FILES:
        return None
    resources, names = _NAMED_FILES[component]
    if rel in {name(resource_name(resource, env)) for resource in resources for name in names}:
        return None
    return f"{rel} is listed as {component} but names no {component} file of {env}"


def check_targets(metadata: SnapshotMetadata, env: str, *components: str) -> None:
    """Refuse (one line, naming the file) a snapshot with a file outside its component's scope;
    with ``components``, of the files of those components only."""
    files = metadata.files_of(*components) if components else metadata.files
    for rel, record in sorted(files.items()):
        problem = target_problem(record.component, rel, metadata.client, env)
        if problem:
            raise SnapshotError(f"snapshot {metadata.snapshot_id} is refused: {problem}; nothing was changed")
