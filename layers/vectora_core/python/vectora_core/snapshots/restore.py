"""rollback_snapshot: put an environment back to a snapshot, safely.

Spec order: validate the snapshot (complete, checksums) → snapshot the current state
(``pre_rollback_…``) → restore the chosen components → re-read and compare (the plan computed
again must be empty) → report. A failure after the pre-rollback snapshot restores it, so the
environment ends either at the snapshot or where it started; nothing is lost.

A restore is a *plan* of changes computed against the live state, then applied. ``--dry-run``
prints the plan; verification recomputes it. Lambda configuration/code/layers restored here
change resources CloudFormation owns: the report warns about the drift and how to reconcile it;
the ``stacks`` component instead redeploys the snapshot's templates through CloudFormation.
"""

from __future__ import annotations

import fnmatch
import functools
import getpass
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_core.naming import StackComponent, resource_name
from vectora_core.snapshots.aws import DEFAULT_WORKERS, Aws, get_layer_version, is_not_found, one_line
from vectora_core.snapshots.capture import (
    RESTORABLE_FIELDS,
    Clock,
    create_snapshot,
    layer_name_of,
    stack_template_file,
    utc_now,
)
from vectora_core.snapshots.errors import RollbackError, SnapshotError
from vectora_core.snapshots.ids import (
    COMPONENTS,
    DEFAULT_ROLLBACK_COMPONENTS,
    LAMBDA_CODE,
    LAMBDA_COMPONENTS,
    LAMBDA_CONFIG,
    LAYERS,
    STACKS,
    check_components,
    parse_id,
)
from vectora_core.snapshots.metadata import load_complete, read_metadata, verify_files
from vectora_core.snapshots.progress import ProgressCallback, Reporter
from vectora_core.snapshots.scopes import S3_COMPONENTS, s3_scope
from vectora_core.snapshots.store import Store, b64_to_hex, open_store

PRE_ROLLBACK_PREFIX: Final = "pre_rollback_"
LAMBDA_UPDATE_TIMEOUT_S: Final = 300
TEMPLATE_BODY_LIMIT: Final = 51_200  # CloudFormation's TemplateBody limit; larger ones go by URL
STACK_CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


@dataclass
class Change:
    component: str
    target: str
    action: str
    apply: Callable[[], object] = field(repr=False)
    # Changes of one group run one after the other (Lambda refuses concurrent updates of a function).
    group: str | None = None

    def __str__(self) -> str:
        return f"{self.component} {self.target}: {self.action}"


@dataclass
class RollbackReport:
    snapshot_id: str
    env: str
    components: tuple[str, ...]
    dry_run: bool
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pre_rollback_id: str | None = None
    audit: str | None = None
    verified: bool = False


def _wait_function(aws: Aws, name: str) -> None:
    deadline = time.monotonic() + LAMBDA_UPDATE_TIMEOUT_S
    while True:
        config = aws.lambda_.get_function_configuration(FunctionName=name)
        status = config.get("LastUpdateStatus", "Successful")
        if status != "InProgress":
            if status == "Failed":
                raise SnapshotError(f"update of {name} failed: {config.get('LastUpdateStatusReason')}")
            return
        if time.monotonic() > deadline:
            raise SnapshotError(f"update of {name} still in progress after {LAMBDA_UPDATE_TIMEOUT_S} s")
        time.sleep(1)


class _Planner:
    """Computes the changes that make the live environment equal to one snapshot."""

    def __init__(
        self, aws: Aws, store: Store, snapshot_id: str, metadata: dict[str, Any], components: tuple[str, ...]
    ) -> None:
        self.aws, self.store, self.snapshot_id = aws, store, snapshot_id
        self.metadata, self.components = metadata, components
        self.notes: list[str] = []
        self._layer_lock = threading.Lock()
        self._published: dict[str, str] = {}
        self._layer_sha_cache: dict[str, str | None] = {}

    def doc(self, rel: str) -> dict[str, Any]:
        raw = self.store.read_bytes(self.snapshot_id, rel)
        if raw is None:
            raise SnapshotError(f"snapshot {self.snapshot_id} has no {rel}")
        data: dict[str, Any] = json.loads(raw)
        return data

    def files_of(self, component: str) -> dict[str, dict[str, Any]]:
        return {r: rec for r, rec in self.metadata["files"].items() if rec.get("component") == component}

    def plan(self) -> list[Change]:
        changes: list[Change] = []
        if STACKS in self.components:
            changes += self.plan_stacks()
        if any(c in self.components for c in LAMBDA_COMPONENTS):
            changes += self.plan_functions()
        for component in S3_COMPONENTS:
            if component in self.components:
                changes += self.plan_s3(component)
        return changes

    # --- S3 data ---------------------------------------------------------------------------
    def same_content(self, bucket: str, live: dict[str, Any], record: dict[str, Any]) -> bool:
        """ETag first (free, from the listing); else the SHA-256 S3 stores with the object, when it has one.

        ETags are content MD5s for SSE-S3 single-part objects only; a KMS-encrypted or multipart
        object has another ETag for the same bytes, so the checksum decides then.
        """
        if live.get("ETag") in {record.get("source_etag"), record.get("etag")}:
            return True
        if int(live.get("Size", -1)) != int(record.get("size", -2)):
            return False
        head = self.aws.s3.head_object(Bucket=bucket, Key=live["Key"], ChecksumMode="ENABLED")
        checksum = head.get("ChecksumSHA256")
        return bool(checksum) and "-" not in checksum and b64_to_hex(checksum) == record.get("sha256")

    def plan_s3(self, component: str) -> list[Change]:
        scope = s3_scope(component, self.metadata.get("client"))
        bucket = self.aws.bucket(scope.bucket_component)
        summary = self.metadata.get("contents", {}).get(component, {})
        if summary.get("reason", "").startswith("bucket "):
            self.notes.append(f"{component}: {summary['reason']} when the snapshot was taken: left as is")
            return []
        if not self.aws.bucket_exists(bucket):
            raise SnapshotError(
                f"{component}: bucket {bucket} does not exist: deploy the S0-core stack first"
            )
        wanted = self.files_of(component)
        current = {
            o["Key"]: o for o in self.aws.list_objects(bucket, scope.list_prefix) if scope.matches(o["Key"])
        }
        changes: list[Change] = []
        for rel, record in wanted.items():
            live = current.get(rel)
            if live is not None and self.same_content(bucket, live, record):
                continue
            action = "put (changed)" if live is not None else "put (missing)"
            changes.append(
                Change(
                    component,
                    f"s3://{bucket}/{rel}",
                    action,
                    functools.partial(self.store.restore_to_s3, self.snapshot_id, rel, bucket, rel),
                )
            )
        for key in sorted(set(current) - set(wanted)):
            changes.append(
                Change(
                    component,
                    f"s3://{bucket}/{key}",
                    "delete (not in snapshot)",
                    functools.partial(self.aws.s3.delete_object, Bucket=bucket, Key=key),
                )
            )
        return changes

    # --- Lambda -----------------------------------------------------------------------------
    def layer_sha(self, arn: str) -> str | None:
        if arn not in self._layer_sha_cache:
            try:
                info = get_layer_version(self.aws, arn)
                self._layer_sha_cache[arn] = info["Content"].get("CodeSha256")
            except ClientError as err:
                if not is_not_found(err):
                    raise
                self._layer_sha_cache[arn] = None
        return self._layer_sha_cache[arn]

    def snapshot_layers(self) -> dict[str, dict[str, Any]]:
        """Snapshot layer versions by ARN (only when the snapshot holds the layers component)."""
        versions: dict[str, dict[str, Any]] = {}
        for rel in self.files_of(LAYERS):
            if rel.endswith(".json"):
                document = self.doc(rel)
                for entry in document.get("versions", []):
                    versions[entry["arn"]] = {**entry, "layer_name": document["layer_name"]}
        return versions

    def resolve_layer(self, arn: str, entry: dict[str, Any]) -> str:
        """Live ARN with the snapshot's layer content: the same version if it still exists, else a new one."""
        if self.layer_sha(arn) == entry["code_sha256"]:
            return arn
        with self._layer_lock:
            if arn not in self._published:
                response = self.aws.lambda_.publish_layer_version(
                    LayerName=entry["layer_name"],
                    Description=(entry.get("description") or "")[:200] or f"restored from {self.snapshot_id}",
                    Content=self.store.zip_source(self.snapshot_id, entry["zip"]),
                    **(
                        {"CompatibleRuntimes": entry["compatible_runtimes"]}
                        if entry.get("compatible_runtimes")
                        else {}
                    ),
                )
                self._published[arn] = response["LayerVersionArn"]
                self._layer_sha_cache[response["LayerVersionArn"]] = response["Content"].get("CodeSha256")
            return self._published[arn]

    def plan_functions(self) -> list[Change]:
        changes: list[Change] = []
        layer_entries = self.snapshot_layers() if LAYERS in self.components else {}
        for rel in sorted(
            r for r in self.files_of(LAMBDA_CONFIG) if r.startswith("lambda_") and r.endswith(".json")
        ):
            document = self.doc(rel)
            name = document["function_name"]
            if document.get("absent"):
                self.notes.append(f"lambda: {name} did not exist when the snapshot was taken: left as is")
                continue
            try:
                live = self.aws.lambda_.get_function_configuration(FunctionName=name)
            except ClientError as err:
                if is_not_found(err):
                    raise SnapshotError(
                        f"function {name} no longer exists: redeploy "
                        f"{resource_name(StackComponent.RUNTIME, self.aws.env)} (cdk deploy) "
                        "or restore the stacks component"
                    ) from None
                raise
            changes += self.plan_function(name, document, live, layer_entries)
        return changes

    def plan_function(
        self,
        name: str,
        document: dict[str, Any],
        live: dict[str, Any],
        layer_entries: dict[str, dict[str, Any]],
    ) -> list[Change]:
        update: dict[str, Any] = {}
        details: list[str] = []
        if LAMBDA_CONFIG in self.components:
            for key in RESTORABLE_FIELDS:
                if key in document["configuration"] and live.get(key) != document["configuration"][key]:
                    update[key] = document["configuration"][key]
                    details.append(f"{key} {live.get(key)!r} -> {document['configuration'][key]!r}")
            live_env = live.get("Environment", {}).get("Variables", {})
            if live_env != document["environment"]:
                update["Environment"] = {"Variables": document["environment"]}
                diff = sorted(
                    k
                    for k in set(live_env) | set(document["environment"])
                    if live_env.get(k) != document["environment"].get(k)
                )
                details.append(f"environment variables {', '.join(diff)}")
        live_layers = [layer["Arn"] for layer in live.get("Layers", [])]
        resolve_layers = False
        if LAYERS in self.components:
            missing = [arn for arn in document["layers"] if arn not in layer_entries]
            if missing:
                raise SnapshotError(f"snapshot {self.snapshot_id} has no content for layer {missing[0]}")
            wanted_content = [
                (layer_entries[a]["layer_name"], layer_entries[a]["code_sha256"]) for a in document["layers"]
            ]
            live_content = [(layer_name_of(a)[0], self.layer_sha(a)) for a in live_layers]
            if wanted_content != live_content:
                resolve_layers = True
                details.append("layers -> " + ", ".join(f"{n}@{s[:8]}" for n, s in wanted_content))
        elif LAMBDA_CONFIG in self.components and live_layers != document["layers"]:
            update["Layers"] = document["layers"]
            details.append("layers -> " + ", ".join(document["layers"]))
        changes: list[Change] = []
        if update or resolve_layers:

            def apply_config(update: dict[str, Any] = update, resolve: bool = resolve_layers) -> None:
                payload = dict(update)
                if resolve:
                    payload["Layers"] = [self.resolve_layer(a, layer_entries[a]) for a in document["layers"]]
                self.aws.lambda_.update_function_configuration(FunctionName=name, **payload)
                _wait_function(self.aws, name)

            component = LAMBDA_CONFIG if update else LAYERS
            changes.append(
                Change(component, name, "update configuration: " + "; ".join(details), apply_config, name)
            )
        if LAMBDA_CODE in self.components:
            if not document.get("code_file"):
                raise SnapshotError(f"snapshot {self.snapshot_id} holds no code for {name}")
            if live.get("CodeSha256") != document["code_sha256"]:

                def apply_code(code_file: str = document["code_file"]) -> None:
                    self.aws.lambda_.update_function_code(
                        FunctionName=name, **self.store.zip_source(self.snapshot_id, code_file)
                    )
                    _wait_function(self.aws, name)

                changes.append(
                    Change(
                        LAMBDA_CODE,
                        name,
                        f"update code {live.get('CodeSha256', '')[:12]} -> {document['code_sha256'][:12]}",
                        apply_code,
                        name,
                    )
                )
        return changes

    # --- CloudFormation ----------------------------------------------------------------------
    def plan_stacks(self) -> list[Change]:
        changes: list[Change] = []
        for rel in sorted(r for r in self.files_of(STACKS) if not r.endswith(".template.json")):
            document = self.doc(rel)
            name = document["stack_name"]
            if document.get("absent"):
                self.notes.append(f"stacks: {name} did not exist when the snapshot was taken: left as is")
                continue
            try:
                live = self.aws.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            except ClientError as err:
                if "does not exist" in str(err):
                    raise SnapshotError(
                        f"stack {name} no longer exists: recreate it with cdk deploy first"
                    ) from None
                raise
            body = self.aws.cloudformation.get_template(StackName=name, TemplateStage="Original")[
                "TemplateBody"
            ]
            live_template = body if not isinstance(body, str) else _maybe_json(body)
            live_params = {p["ParameterKey"]: p.get("ParameterValue") for p in live.get("Parameters", [])}
            wanted_params = {p["ParameterKey"]: p.get("ParameterValue") for p in document["parameters"]}
            if _canonical(live_template) == _canonical(document["template"]) and live_params == wanted_params:
                continue
            changes.append(
                Change(
                    STACKS,
                    name,
                    "redeploy the snapshot's template and parameters",
                    functools.partial(self.update_stack, document),
                    f"stack:{name}",
                )
            )
        return changes

    def update_stack(self, document: dict[str, Any]) -> None:
        name = document["stack_name"]
        template_rel = stack_template_file(name)
        raw = self.store.read_bytes(self.snapshot_id, template_rel) or b""
        source: dict[str, Any]
        if len(raw) <= TEMPLATE_BODY_LIMIT:
            source = {"TemplateBody": raw.decode()}
        else:
            located = self.store.zip_source(self.snapshot_id, template_rel)
            if "S3Key" not in located:
                raise SnapshotError(
                    f"template of {name} is over {TEMPLATE_BODY_LIMIT} bytes: restore it from S3, not --local"
                )
            source = {
                "TemplateURL": f"{self.aws.s3.meta.endpoint_url}/{located['S3Bucket']}/{located['S3Key']}"
            }
        parameters = [
            {"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")}
            for p in document["parameters"]
        ]
        try:
            self.aws.cloudformation.update_stack(
                StackName=name, Parameters=parameters, Capabilities=STACK_CAPABILITIES, **source
            )
        except ClientError as err:
            if "No updates are to be performed" in str(err):
                return
            raise
        waiter = self.aws.cloudformation.get_waiter("stack_update_complete")
        waiter.wait(StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 450})


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _canonical(template: Any) -> str:
    return json.dumps(template, sort_keys=True) if not isinstance(template, str) else template


def apply_changes(changes: list[Change], workers: int, reporter: Reporter, step: str) -> None:
    """Stacks first (one by one), then everything else concurrently, each group in order."""
    reporter.start(step, len(changes))
    for change in (c for c in changes if c.component == STACKS):
        change.apply()
        reporter.advance(step)
    rest = [c for c in changes if c.component != STACKS]
    groups: dict[str, list[Change]] = {}
    for index, change in enumerate(rest):
        groups.setdefault(change.group or f"#{index}", []).append(change)
    # Layers and configuration of a function before its code; S3 objects are independent.

    def run(group: list[Change]) -> None:
        for change in group:
            change.apply()
            reporter.advance(step)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, group) for group in groups.values()]:
            future.result()


def resolve_snapshot_id(store: Store, env: str, snapshot: str) -> str:
    """An id, or a glob (``pre_deploy_*``, as in the spec) naming the newest complete match."""
    if not any(ch in snapshot for ch in "*?["):
        parse_id(snapshot)
        return snapshot
    candidates = sorted(
        (sid for sid in store.list_all() if fnmatch.fnmatchcase(sid, snapshot)),
        key=lambda sid: parse_id(sid)[1] if _is_id(sid) else datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    for sid in candidates:
        metadata = read_metadata(store, sid)
        if metadata and metadata.get("complete") is True and metadata.get("env") == env:
            return sid
    raise SnapshotError(f"no complete snapshot of {env} matches {snapshot!r} in {store.location}")


def _is_id(text: str) -> bool:
    try:
        parse_id(text)
    except SnapshotError:
        return False
    return True


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  # no user database in a container: the audit still gets written
        return "unknown"


def rollback_snapshot(
    env: str,
    snapshot: str,
    components: list[str] | tuple[str, ...] | str | None = None,
    session: Any = None,
    *,
    approve: str | None = None,
    dry_run: bool = False,
    local_dir: Path | str | None = None,
    progress: ProgressCallback | None = None,
    clock: Clock = utc_now,
    workers: int = DEFAULT_WORKERS,
    store: Store | None = None,
    aws: Aws | None = None,
) -> RollbackReport:
    """Restore ``components`` of ``env`` from ``snapshot`` (an id, or a glob for the newest match).

    Raises SnapshotError (one line, nothing changed) when the input or the snapshot is refused,
    and RollbackError when a step failed after the pre-rollback snapshot (``restored`` tells
    whether the previous state was put back).
    """
    explicit = components is not None
    chosen = check_components(components, default=DEFAULT_ROLLBACK_COMPONENTS)
    aws = aws or Aws(env, session, workers)
    store = store or open_store(aws, local_dir)
    reporter = Reporter(progress)
    started = clock()
    audit: dict[str, Any] = {
        "time": started.astimezone(UTC).isoformat(),
        "env": env,
        "snapshot": snapshot,
        "components": list(chosen),
        "approved_by": approve,
        "operator": _operator(),
        "dry_run": dry_run,
    }

    def record(outcome: str, **extra: Any) -> str:
        entry = {**audit, "outcome": outcome, **extra}
        name = f"{started.astimezone(UTC).strftime('%Y%m%dT%H%M%S%fZ')}_{snapshot.replace('*', 'x')[:100]}"
        return store.write_audit(name, entry)

    if aws.config.approval_required and not (approve or "").strip():
        record("refused: no approval")
        raise SnapshotError(
            f'rollback in {env} needs --approve "<who>" (recorded in the audit log); nothing was changed'
        )
    try:
        snapshot_id = resolve_snapshot_id(store, env, snapshot)
        audit["snapshot"] = snapshot_id
        metadata = load_complete(store, snapshot_id, env)
        held = tuple(metadata.get("components", []))
        absent = [c for c in chosen if c not in held]
        if absent and explicit:
            raise SnapshotError(
                f"snapshot {snapshot_id} holds no {absent[0]!r} component (it holds: {', '.join(held)})"
            )
        chosen = tuple(c for c in chosen if c in held)
        audit["components"] = list(chosen)
        needed = chosen + ((LAMBDA_CONFIG,) if any(c in LAMBDA_COMPONENTS for c in chosen) else ())
        verify_files(store, snapshot_id, metadata, needed, aws.workers)
        planner = _Planner(aws, store, snapshot_id, metadata, chosen)
        changes = planner.plan()
    except Exception as err:
        # Validation and planning only read: whatever failed, nothing was changed.
        record("refused", error=str(err) if isinstance(err, SnapshotError) else one_line(err))
        raise
    report = RollbackReport(snapshot_id, env, chosen, dry_run, [str(c) for c in changes], planner.notes)
    if dry_run or not changes:
        report.verified = not changes
        report.audit = record("dry-run" if dry_run else "nothing to change", changes=report.changes)
        return report

    pre_name = (PRE_ROLLBACK_PREFIX + snapshot_id)[:128]
    capture_components = tuple(c for c in COMPONENTS if c in needed)
    reporter.note(f"snapshot of the current state ({pre_name}_...)")
    try:
        pre_id = create_snapshot(
            env,
            pre_name,
            metadata.get("client"),
            capture_components,
            store=store,
            aws=aws,
            clock=clock,
            progress=progress,
        )
    except SnapshotError as err:
        record("failed before any change", error=str(err))
        raise SnapshotError(f"could not snapshot the current state, nothing was changed: {err}") from err
    report.pre_rollback_id = pre_id
    try:
        apply_changes(changes, aws.workers, reporter, "restore")
        remaining = _Planner(aws, store, snapshot_id, metadata, chosen).plan()
        if remaining:
            raise SnapshotError(f"verification failed: {remaining[0]} still differs from the snapshot")
        report.verified = True
    except (Exception, KeyboardInterrupt) as err:  # an interrupted restore is undone too
        reason = str(err) if isinstance(err, SnapshotError) else f"{type(err).__name__}: {one_line(err)}"
        try:
            pre_metadata = load_complete(store, pre_id, env)
            undo = _Planner(aws, store, pre_id, pre_metadata, chosen)
            apply_changes(undo.plan(), aws.workers, reporter, "undo")
            if _Planner(aws, store, pre_id, pre_metadata, chosen).plan():
                raise SnapshotError("state still differs from the pre-rollback snapshot")
        except Exception as undo_err:  # noqa: BLE001  # reported with both errors below
            audit_at = record(
                "failed, previous state NOT restored",
                error=reason,
                undo_error=one_line(undo_err),
                pre_rollback=pre_id,
            )
            raise RollbackError(
                f"rollback failed ({reason}) and restoring {pre_id} failed too ({one_line(undo_err)}): "
                f"restore it by hand with --snapshot {pre_id}; audit: {audit_at}",
                pre_rollback_id=pre_id,
                restored=False,
            ) from err
        record("failed, previous state restored", error=reason, pre_rollback=pre_id)
        raise RollbackError(
            f"rollback failed ({reason}); the previous state was restored from {pre_id}",
            pre_rollback_id=pre_id,
            restored=True,
        ) from err
    if any(change.component in LAMBDA_COMPONENTS for change in changes):
        stack = resource_name(StackComponent.RUNTIME, env)
        report.warnings.append(
            f"{stack} now drifts from its template (Lambda configuration/code changed outside "
            "CloudFormation): "
            f"reconcile with `cdk deploy -c env={env} {stack}` from the commit that matches {snapshot_id}, "
            "or roll back with --components stacks"
        )
    report.audit = record("succeeded", changes=report.changes, pre_rollback=pre_id)
    return report
