"""Capture: copy the state of an environment into a reserved ``snapshots/{name}_{YYYYMMDD_HHMMSS}/``.

Order of work (``SnapshotEngine.create``): reserve the id (the metadata file, written with
``complete: false`` and a create-if-absent condition) → discover what exists → copy everything
concurrently → README.md → metadata with the SHA-256 of every file and ``complete: true``, last.
Any failure leaves the metadata at ``complete: false``: such a snapshot is listed but never
restored from.

Missing pieces of the environment (stack not deployed yet, function or bucket absent, empty prefix)
are recorded as absent, not errors: the pre-update custom resource snapshots environments that are
half deployed. Only the backups bucket is required.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import urllib.request
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Final

from vectora_core.naming import (
    CLIENTS_PREFIX,
    Bucket,
    Function,
    Layer,
    StackComponent,
    client_of,
    resource_name,
)
from vectora_ops.cloudformation import template_text as deployed_template_text
from vectora_ops.environment import Environment, get_layer_version, if_found
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.earlier import EarlierStacks, is_changing
from vectora_ops.snapshots.ids import LAMBDA_CODE, LAMBDA_COMPONENTS, LAMBDA_CONFIG, LAYERS, STACKS
from vectora_ops.snapshots.layout import (
    lambda_file,
    lambda_zip,
    layer_file,
    layer_name_of,
    layer_zip,
    stack_file,
    stack_template_file,
)
from vectora_ops.snapshots.metadata import FileRecord, SnapshotMetadata, json_bytes
from vectora_ops.snapshots.progress import Reporter
from vectora_ops.snapshots.scopes import S3_COMPONENTS, s3_scope
from vectora_ops.snapshots.store import CaptureTarget, Written

DOWNLOAD_TIMEOUT_S: Final = 120
# Configuration fields a rollback puts back with UpdateFunctionConfiguration.
RESTORABLE_FIELDS: Final = ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime")


def download(url: str) -> bytes:
    # Code.Location / Content.Location are pre-signed https URLs (the emulator's are http://localhost).
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310  # AWS-issued URL
        return bytes(response.read())


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(eq=False)
class Capture:
    """Discovers what exists of the chosen components and copies it into one reserved snapshot.

    ``files`` (path -> record) and ``contents`` (per-component summary) become the metadata.
    """

    aws: Environment
    store: CaptureTarget
    snapshot_id: str
    components: tuple[str, ...]
    client: str | None
    reporter: Reporter
    earlier: EarlierStacks | None = None  # where a stack's template before an update in progress is found
    files: dict[str, FileRecord] = field(default_factory=dict, init=False)
    contents: dict[str, Any] = field(default_factory=dict, init=False)
    # Appended from worker threads (list.append is atomic).
    stack_warnings: list[str] = field(default_factory=list, init=False)

    # --- helpers ---------------------------------------------------------------------------
    def put(self, component: str, rel: str, data: bytes) -> None:
        written = self.store.put_bytes(self.snapshot_id, rel, data)
        self.files[rel] = FileRecord(component, written.sha256, len(data), written.etag)

    def put_json(self, component: str, rel: str, document: dict[str, Any]) -> None:
        self.put(component, rel, json_bytes(document))

    def run_all(self, step: str, tasks: list[Callable[[], None]]) -> None:
        """Run tasks on the pool, counting each one done; the first failure cancels the rest and is raised."""
        self.reporter.start(step, len(tasks))

        def run(task: Callable[[], None]) -> None:
            task()
            self.reporter.advance(step)

        with ThreadPoolExecutor(max_workers=self.aws.workers) as pool:
            futures = [pool.submit(run, task) for task in tasks]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                for future in futures:
                    future.cancel()
                raise failed.exception()  # type: ignore[misc]  # an exception instance, checked above

    # --- discovery ---------------------------------------------------------------------------
    def discover_s3(self, component: str) -> list[Callable[[], None]]:
        scope = s3_scope(component, self.client)
        bucket = self.aws.name(scope.bucket_component)
        summary: dict[str, Any] = {"source": scope.describe(bucket), "client": self.client}
        self.contents[component] = summary
        # Listed under the scope's prefix, never HeadBucket: the snapshot role may list these buckets
        # under the prefixes it copies only (see Environment.list_objects_if_bucket).
        listed = self.aws.list_objects_if_bucket(bucket, scope.list_prefix)
        if listed is None:
            summary.update(absent=True, reason=f"bucket {bucket} does not exist")
            return []
        objects = [o for o in listed if scope.matches(o["Key"])]
        summary.update(absent=not objects, objects=len(objects), bytes=sum(int(o["Size"]) for o in objects))
        if not objects:
            summary["reason"] = "no object under the prefix"

        def copy(obj: dict[str, Any]) -> None:
            key, size = obj["Key"], int(obj["Size"])
            written = self.store.copy_in(self.snapshot_id, key, bucket, key)
            source = f"s3://{bucket}/{key}"
            self.files[key] = FileRecord(
                component, written.sha256, size, written.etag, source=source, source_etag=obj.get("ETag")
            )

        return [functools.partial(copy, obj) for obj in objects]

    def discover_functions(self) -> list[Callable[[], None]]:
        tasks: list[Callable[[], None]] = []
        layer_versions: dict[str, dict[int, dict[str, Any]]] = {}
        functions: dict[str, Any] = {}
        documents = LAMBDA_CONFIG in self.components or LAMBDA_CODE in self.components
        for function in Function:
            name = resource_name(function, self.aws.env)
            response = if_found(self.aws.lambda_.get_function, FunctionName=name)
            if response is None:
                functions[name] = "absent"
                if documents:
                    self.put_json(LAMBDA_CONFIG, lambda_file(name), {"function_name": name, "absent": True})
                continue
            config = response["Configuration"]
            functions[name] = "present"
            for layer in config.get("Layers", []):
                layer_name, version = layer_name_of(layer["Arn"])
                entry = layer_versions.setdefault(layer_name, {}).setdefault(
                    version, {"arn": layer["Arn"], "used_by": []}
                )
                entry["used_by"].append(name)
            if documents:
                tasks.append(functools.partial(self.capture_function, name, response))
        self.contents["functions"] = functions
        if LAYERS in self.components:
            tasks += self.discover_layers(layer_versions)
        return tasks

    def capture_function(self, name: str, response: dict[str, Any]) -> None:
        config = response["Configuration"]
        document: dict[str, Any] = {
            "function_name": name,
            "absent": False,
            "configuration": {k: config[k] for k in RESTORABLE_FIELDS if k in config},
            "environment": config.get("Environment", {}).get("Variables", {}),
            "layers": [layer["Arn"] for layer in config.get("Layers", [])],
            "code_sha256": config.get("CodeSha256"),
            "code_size": config.get("CodeSize"),
            "version": config.get("Version"),
            "last_modified": config.get("LastModified"),
            "full_configuration": config,
        }
        if LAMBDA_CODE in self.components:
            data = download(response["Code"]["Location"])
            if sha256_b64(data) != config.get("CodeSha256"):
                raise SnapshotError(f"downloaded code of {name} does not match its CodeSha256")
            self.put(LAMBDA_CODE, lambda_zip(name), data)
            document["code_file"] = lambda_zip(name)
        self.put_json(LAMBDA_CONFIG, lambda_file(name), document)

    def discover_layers(self, used: dict[str, dict[int, dict[str, Any]]]) -> list[Callable[[], None]]:
        """``used``: the versions of each layer the functions use (none: the layer is absent)."""
        expected = {resource_name(layer, self.aws.env) for layer in Layer}
        names = sorted(expected | set(used))
        self.contents[LAYERS] = {name: sorted(used[name]) if name in used else "absent" for name in names}
        for layer_name in sorted(expected - set(used)):
            self.put_json(LAYERS, layer_file(layer_name), {"layer_name": layer_name, "absent": True})
        return [functools.partial(self.capture_layer, *named) for named in sorted(used.items())]

    def capture_layer(self, layer_name: str, versions: dict[int, dict[str, Any]]) -> None:
        entries = []
        for version, usage in sorted(versions.items()):
            arn, used_by = usage["arn"], usage["used_by"]
            info = get_layer_version(self.aws, arn)
            data = download(info["Content"]["Location"])
            if info["Content"].get("CodeSha256") and sha256_b64(data) != info["Content"]["CodeSha256"]:
                raise SnapshotError(f"downloaded content of layer {arn} does not match its CodeSha256")
            self.put(LAYERS, layer_zip(layer_name, version), data)
            entries.append(
                {
                    "arn": arn,
                    "version": version,
                    "code_sha256": info["Content"].get("CodeSha256"),
                    "zip": layer_zip(layer_name, version),
                    "compatible_runtimes": info.get("CompatibleRuntimes", []),
                    "compatible_architectures": info.get("CompatibleArchitectures", []),
                    "description": info.get("Description", ""),
                    "used_by": sorted(used_by),
                }
            )
        document = {"layer_name": layer_name, "absent": False, "versions": entries}
        self.put_json(LAYERS, layer_file(layer_name), document)

    def discover_stacks(self) -> list[Callable[[], None]]:
        return [functools.partial(self.capture_stack, resource_name(s, self.aws.env)) for s in StackComponent]

    def capture_stack(self, stack_name: str) -> None:
        described = if_found(self.aws.cloudformation.describe_stacks, StackName=stack_name)
        stacks = described["Stacks"] if described is not None else []
        if not stacks or stacks[0].get("StackStatus") == "DELETE_COMPLETE":
            self.put_json(STACKS, stack_file(stack_name), {"stack_name": stack_name, "absent": True})
            return
        stack = stacks[0]
        template_text = deployed_template_text(self.aws.cloudformation, stack_name)
        parameters, source = stack.get("Parameters", []), "get_template"
        status = str(stack.get("StackStatus", ""))
        if is_changing(status):
            # Inside an update, GetTemplate / DescribeStacks already answer the NEW template and
            # parameters (see vectora_ops.snapshots.earlier): the state before comes from an earlier
            # copy. The fingerprint of the pre-update snapshot resource is not used to tell old from
            # new: on AWS the answer during UPDATE_IN_PROGRESS is always the new template.
            found, why = self.earlier.find(stack_name, stack.get("StackId")) if self.earlier else (None, "")
            if found is not None:
                template_text, parameters = found.template_text, found.document.get("parameters", [])
                source = f"snapshot {found.snapshot_id}"
            else:
                source = f"get_template during {status} (no earlier copy: may be the new template)"
                self.stack_warnings.append(f"{stack_name}: {source}; {why or 'no earlier copy looked up'}")
        self.put(STACKS, stack_template_file(stack_name), template_text.encode())
        document = {
            "stack_name": stack_name,
            "absent": False,
            "stack_id": stack.get("StackId"),
            "status": stack.get("StackStatus"),
            "parameters": parameters,
            "template_source": source,  # template and parameters both come from there
            "outputs": stack.get("Outputs", []),
            "capabilities": stack.get("Capabilities", []),
            "tags": stack.get("Tags", []),
            "termination_protection": stack.get("EnableTerminationProtection", False),
            "template_file": stack_template_file(stack_name),
            "template": json.loads(template_text)
            if template_text.lstrip().startswith("{")
            else template_text,
        }
        self.put_json(STACKS, stack_file(stack_name), document)

    # --- the whole thing -------------------------------------------------------------------
    def run(self, *, execute: bool = True) -> int:
        """Discover, then copy (unless ``execute`` is false); returns the number of copy tasks."""
        tasks = [task for c in S3_COMPONENTS if c in self.components for task in self.discover_s3(c)]
        if any(c in self.components for c in LAMBDA_COMPONENTS):
            tasks += self.discover_functions()
        if STACKS in self.components:
            tasks += self.discover_stacks()
        if execute:
            self.run_all("copy", tasks)
        if self.stack_warnings:  # shown in the README and kept in the metadata's contents
            self.contents[STACKS] = {"warnings": sorted(self.stack_warnings)}
        return len(tasks)


def readme(metadata: SnapshotMetadata) -> bytes:
    rows = "".join(
        f"| {component} | {json.dumps(summary, sort_keys=True, default=str)} |\n"
        for component, summary in sorted(metadata.contents.items())
    )
    return f"""\
# Snapshot {metadata.snapshot_id}

- environment: {metadata.env}
- client: {metadata.client or "all clients"}
- created (UTC): {metadata.created_at}
- components: {", ".join(metadata.components)}
- files: {len(metadata.files)} (sha256 of each in snapshot_metadata.json)

| component | content |
|---|---|
{rows}
Restore (validates, snapshots the current state as pre_rollback_..., restores, re-checks):

```
python scripts/maintenance/rollback_snapshot.py --snapshot {metadata.snapshot_id} --env {metadata.env}
```
""".encode()


class NullStore:
    """Discovery without writes, for previews: every write is only counted."""

    def __init__(self, location: str) -> None:
        self.location = location

    def put_bytes(self, snapshot_id: str, rel: str, data: bytes) -> Written:
        return Written("", None)

    def copy_in(self, snapshot_id: str, rel: str, bucket: str, key: str) -> Written:
        raise AssertionError("a preview copies nothing")  # run(execute=False) never calls it


def check_client_exists(aws: Environment, client: str) -> None:
    bucket = aws.name(Bucket.CONFIG)
    listed = aws.list_objects_if_bucket(bucket, CLIENTS_PREFIX)
    if listed is None:
        raise SnapshotError(f"unknown client {client!r}: config bucket {bucket} does not exist")
    known = sorted(filter(None, (client_of(o["Key"]) for o in listed)))
    if client not in known:
        raise SnapshotError(
            f"unknown client {client!r}: no clients/{client}.yaml in {bucket} "
            f"(known: {', '.join(known) or 'none'})"
        )
