"""Lambda: configuration (``lambda_config``), code (``lambda_code``) and layers (``layers``).

Configuration and code go back with UpdateFunctionConfiguration / UpdateFunctionCode (the code
zip is read by Lambda from the backups bucket). Layers are compared by content, not by ARN: a
function points back at the layer version holding the snapshot's content, which is published
again from the snapshot's zip if it was deleted since. These changes bypass CloudFormation: the
rollback report warns about the drift.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar, Final

from vectora_core.naming import StackComponent, resource_name
from vectora_ops.environment import Environment, get_layer_version, if_found
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.capture import RESTORABLE_FIELDS
from vectora_ops.snapshots.ids import LAMBDA_CODE, LAMBDA_COMPONENTS, LAMBDA_CONFIG, LAYERS
from vectora_ops.snapshots.layout import (
    is_lambda_file,
    is_layer_file,
    lambda_file,
    lambda_zip,
    layer_name_of,
)
from vectora_ops.snapshots.restore.base import Change, Planner, SnapshotSource

LAMBDA_UPDATE_TIMEOUT_S: Final = 300


class LambdaPlanner(Planner):
    handles: ClassVar[frozenset[str]] = frozenset(LAMBDA_COMPONENTS)

    def __init__(self, aws: Environment, source: SnapshotSource, components: tuple[str, ...]) -> None:
        super().__init__(aws, source, components)
        self._layer_lock = threading.Lock()
        self._published: dict[str, str] = {}
        self._layer_sha_cache: dict[str, str | None] = {}
        self._layer_entries: dict[str, dict[str, Any]] = {}

    def plan(self) -> list[Change]:
        changes: list[Change] = []
        if LAYERS in self.components:
            self._layer_entries = self.snapshot_layers()
        for rel in sorted(r for r in self.source.metadata.files_of(LAMBDA_CONFIG) if is_lambda_file(r)):
            document = self.source.doc(rel)
            name = document["function_name"]
            if rel != lambda_file(name) or document.get("code_file") not in (None, lambda_zip(name)):
                raise SnapshotError(
                    f"snapshot {self.source.snapshot_id} is refused: {rel} names function {name!r} "
                    f"and code {document.get('code_file')!r}: not its own; nothing was changed"
                )
            if document.get("absent"):
                self.notes.append(f"lambda: {name} did not exist when the snapshot was taken: left as is")
                continue
            changes += self.plan_function(name, document, self.live_configuration(name))
        return changes

    def live_configuration(self, name: str) -> dict[str, Any]:
        live = if_found(self.aws.lambda_.get_function_configuration, FunctionName=name)
        if live is None:
            raise SnapshotError(
                f"function {name} no longer exists: redeploy "
                f"{resource_name(StackComponent.RUNTIME, self.aws.env)} (cdk deploy) "
                "or restore the stacks component"
            )
        return dict(live)

    def plan_function(self, name: str, document: dict[str, Any], live: dict[str, Any]) -> list[Change]:
        update, details = self.config_update(document, live) if LAMBDA_CONFIG in self.components else ({}, [])
        layer_details = self.layers_differ(document, live) if LAYERS in self.components else []
        details += layer_details
        if LAMBDA_CONFIG in self.components and LAYERS not in self.components:
            live_layers = [layer["Arn"] for layer in live.get("Layers", [])]
            if live_layers != document["layers"]:
                update["Layers"] = document["layers"]
                details.append("layers -> " + ", ".join(document["layers"]))
        changes: list[Change] = []
        if update or layer_details:
            changes.append(self.config_change(name, document, update, details, bool(layer_details)))
        if LAMBDA_CODE in self.components:
            changes += self.code_change(name, document, live)
        return changes

    # --- configuration -----------------------------------------------------------------------
    @staticmethod
    def config_update(document: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The UpdateFunctionConfiguration arguments (but layers) that put the snapshot's back."""
        wanted = document["configuration"]
        update = {
            key: wanted[key] for key in RESTORABLE_FIELDS if key in wanted and live.get(key) != wanted[key]
        }
        details = [f"{key} {live.get(key)!r} -> {value!r}" for key, value in update.items()]
        live_env, wanted_env = live.get("Environment", {}).get("Variables", {}), document["environment"]
        if live_env != wanted_env:
            update["Environment"] = {"Variables": wanted_env}
            diff = sorted(k for k in set(live_env) | set(wanted_env) if live_env.get(k) != wanted_env.get(k))
            details.append(f"environment variables {', '.join(diff)}")
        return update, details

    def config_change(
        self, name: str, document: dict[str, Any], update: dict[str, Any], details: list[str], resolve: bool
    ) -> Change:
        def apply() -> None:
            payload = dict(update)
            if resolve:
                payload["Layers"] = [self.resolve_layer(arn) for arn in document["layers"]]
            self.aws.lambda_.update_function_configuration(FunctionName=name, **payload)
            self.wait_function(name)

        component = LAMBDA_CONFIG if update else LAYERS
        return Change(component, name, "update configuration: " + "; ".join(details), apply, name)

    # --- code ----------------------------------------------------------------------------------
    def code_change(self, name: str, document: dict[str, Any], live: dict[str, Any]) -> list[Change]:
        code_file = document.get("code_file")
        if not code_file:
            raise SnapshotError(f"snapshot {self.source.snapshot_id} holds no code for {name}")
        if live.get("CodeSha256") == document["code_sha256"]:
            return []

        def apply() -> None:
            self.aws.lambda_.update_function_code(
                FunctionName=name, **self.source.store.zip_source(self.source.snapshot_id, code_file)
            )
            self.wait_function(name)

        action = f"update code {live.get('CodeSha256', '')[:12]} -> {document['code_sha256'][:12]}"
        return [Change(LAMBDA_CODE, name, action, apply, name)]

    # --- layers --------------------------------------------------------------------------------
    def snapshot_layers(self) -> dict[str, dict[str, Any]]:
        """The snapshot's layer versions by ARN (when the snapshot holds the layers component)."""
        documents = [
            self.source.doc(rel) for rel in self.source.metadata.files_of(LAYERS) if is_layer_file(rel)
        ]
        return {
            e["arn"]: {**e, "layer_name": d["layer_name"]} for d in documents for e in d.get("versions", [])
        }

    def layers_differ(self, document: dict[str, Any], live: dict[str, Any]) -> list[str]:
        """How the function's layers hold other content than the snapshot's (by name and sha): [] if not."""
        missing = [arn for arn in document["layers"] if arn not in self._layer_entries]
        if missing:
            raise SnapshotError(f"snapshot {self.source.snapshot_id} has no content for layer {missing[0]}")
        entries = [self._layer_entries[arn] for arn in document["layers"]]
        wanted = [(entry["layer_name"], entry["code_sha256"]) for entry in entries]
        current = [
            (layer_name_of(layer["Arn"])[0], self.layer_sha(layer["Arn"])) for layer in live.get("Layers", [])
        ]
        if wanted == current:
            return []
        return ["layers -> " + ", ".join(f"{n}@{(s or '')[:8]}" for n, s in wanted)]

    def layer_sha(self, arn: str) -> str | None:
        if arn not in self._layer_sha_cache:
            info = if_found(get_layer_version, self.aws, arn)
            self._layer_sha_cache[arn] = info["Content"].get("CodeSha256") if info is not None else None
        return self._layer_sha_cache[arn]

    def resolve_layer(self, arn: str) -> str:
        """Live ARN with the snapshot's layer content: the same version if it still exists, else a new one."""
        entry = self._layer_entries[arn]
        if self.layer_sha(arn) == entry["code_sha256"]:
            return arn
        with self._layer_lock:
            if arn not in self._published:
                runtimes = entry.get("compatible_runtimes")
                response = self.aws.lambda_.publish_layer_version(
                    LayerName=entry["layer_name"],
                    Description=(entry.get("description") or "")[:200]
                    or f"restored from {self.source.snapshot_id}",
                    Content=self.source.store.zip_source(self.source.snapshot_id, entry["zip"]),
                    **({"CompatibleRuntimes": runtimes} if runtimes else {}),
                )
                self._published[arn] = response["LayerVersionArn"]
                self._layer_sha_cache[response["LayerVersionArn"]] = response["Content"].get("CodeSha256")
            return self._published[arn]

    def wait_function(self, name: str) -> None:
        deadline = time.monotonic() + LAMBDA_UPDATE_TIMEOUT_S
        while True:
            config = self.aws.lambda_.get_function_configuration(FunctionName=name)
            status = config.get("LastUpdateStatus", "Successful")
            if status != "InProgress":
                if status == "Failed":
                    raise SnapshotError(f"update of {name} failed: {config.get('LastUpdateStatusReason')}")
                return
            if time.monotonic() > deadline:
                raise SnapshotError(f"update of {name} still in progress after {LAMBDA_UPDATE_TIMEOUT_S} s")
            time.sleep(1)
