"""``--execute``: the plan's steps in a safe order, each printed and recorded, resumable.

Order, and why (docs/takeover.md):
1. backups: the backups bucket, so the archive has somewhere to go before anything changes (made
   like the project's and imported into S0-core with the other adopted buckets);
2. archive: ``takeover/pre_takeover_<ts>/`` in it: every object version of the environment's
   buckets, every function's configuration and code, every layer version, every stack's template,
   parameters and outputs, the log groups' settings; ``manifest.json`` lists them (what ``--undo``
   reads);
3. import: the unmanaged buckets into S0-core (IMPORT change set, ``DeletionPolicy: Retain``), so
   the deploy updates them instead of failing to create them;
4. cut-over: the old functions, then their log groups, then the old stacks (dependents first: the
   old roles go with S0-iam once no function uses them);
5. deploy: the project's stacks from the same assembly the plan read;
6. configs: the checkout's clients/ and canonical/ published (the team's configs migrated there
   beforehand, as the plan required), then the old layout's keys moved under
   ``archive/old-layout/`` (a copy, then a delete marker: every version stays).

The state (``takeover/state.json`` in the backups bucket) records each finished step: run again
after an interruption, the execute goes on from the first unfinished one with the same archive.
A failure stops, says which steps are done and which are not, and leaves its audit record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_ops import cli
from vectora_ops.audit import operator
from vectora_ops.cloudformation import parse_template
from vectora_ops.config.cli import publish
from vectora_ops.config.publish import repo_files
from vectora_ops.environment import Environment, is_not_found
from vectora_ops.errors import OperationError, one_line
from vectora_ops.operation.records import write_audit
from vectora_ops.promotion.cdk import run_cdk
from vectora_ops.snapshots import SnapshotEngine
from vectora_ops.snapshots.capture import download
from vectora_ops.takeover.declared import Declared, DeclaredStacks
from vectora_ops.takeover.inventory import Account, StackInfo, pages
from vectora_ops.takeover.plan import OLD_LAYOUT_PREFIX, Plan

TAKEOVER_PREFIX: Final = "takeover/"
STATE_KEY: Final = f"{TAKEOVER_PREFIX}state.json"
ARCHIVE_NAME: Final = "pre_takeover"
STEPS: Final = ("backups", "archive", "import", "cut-over", "deploy", "configs")
STACK_WAIT_S: Final = 1800.0
AUDIT_KIND: Final = "takeovers"
PRE_PUBLISH_SNAPSHOT: Final = "pre_publish"


class TakeoverFailed(OperationError):
    """A step failed: the message says which steps are done and which are not."""


def archive_prefix(archive_id: str) -> str:
    return f"{TAKEOVER_PREFIX}{archive_id}/"


def object_key(prefix: str, bucket: str, key: str, version: str) -> str:
    """Where an object version goes in the archive: a digest, never the key itself (a key may hold
    anything; the manifest maps it back)."""
    digest = hashlib.sha256(f"{bucket}\0{key}\0{version}".encode()).hexdigest()
    return f"{prefix}objects/{bucket}/{digest}"


def wait_stack(cfn: Any, stack: str, until: str, doing: str) -> None:
    """Wait until the stack settles: OperationError "``doing`` ended STATUS" unless it settles in
    ``until`` (``DELETE_COMPLETE``: also once the stack is gone)."""
    deadline = time.monotonic() + STACK_WAIT_S
    while True:
        try:
            status: str = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError as err:
            if until == "DELETE_COMPLETE" and is_not_found(err):
                return
            raise
        if not status.endswith("_IN_PROGRESS"):
            if status != until:
                raise OperationError(f"{doing} ended {status}")
            return
        if time.monotonic() > deadline:
            raise OperationError(f"{stack} still {status} after {STACK_WAIT_S:.0f} s")
        time.sleep(1)


def save_state(clients: Environment, state: dict[str, Any]) -> None:
    body = json.dumps(state, indent=2, sort_keys=True).encode()
    clients.s3.put_object(Bucket=clients.backups_bucket, Key=STATE_KEY, Body=body)


@dataclass
class Takeover:
    env: str
    root: Path
    plan: Plan
    declared: DeclaredStacks
    account: Account
    clients: Environment  # the plan's: the same clients, the same bucket-owner check
    approved_by: str
    echo: Callable[[str], None] = print
    state: dict[str, Any] = field(init=False, default_factory=dict)

    # --- the state record -------------------------------------------------------------------------
    def _load_state(self) -> None:
        if self.clients.bucket_exists(self.clients.backups_bucket):
            state = self.clients.read_json(self.clients.backups_bucket, STATE_KEY)
            if state and not state.get("finished_at"):
                self.state = state
                return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.state = {
            "env": self.env,
            "archive": f"{ARCHIVE_NAME}_{stamp}",
            "done": [],
            "imported": [],
            "approved_by": self.approved_by,
            "operator": operator(),
        }

    # --- the run ----------------------------------------------------------------------------------
    def run(self) -> str:
        self._load_state()
        started = datetime.now(UTC)
        if self.state["done"]:
            self.echo(f"resuming {self.state['archive']}: done already: {', '.join(self.state['done'])}")
        actions = (self._backups, self._archive, self._import, self._cut_over, self._deploy, self._configs)
        for step, action in zip(STEPS, actions, strict=True):
            if step in self.state["done"]:
                continue
            self.echo(f"==> {step}")
            try:
                action()
            except BaseException as err:
                self.state["failed"] = {"step": step, "error": one_line(err)}
                self._audit(started, f"failed at {step}")
                not_done = [s for s in STEPS if s not in self.state["done"]]
                raise TakeoverFailed(
                    f"takeover of {self.env} stopped at {step}: {one_line(err)}; done: "
                    f"{', '.join(self.state['done']) or 'nothing'}; not done: {', '.join(not_done)}; "
                    f"run the same command again to resume, or --undo (archive {self.state['archive']})"
                ) from err
            self.state["done"].append(step)
            self.state.pop("failed", None)
            if self.clients.bucket_exists(self.clients.backups_bucket):
                save_state(self.clients, self.state)
        self.state["finished_at"] = datetime.now(UTC).isoformat()
        save_state(self.clients, self.state)
        return self._audit(started, "done")

    def _audit(self, started: datetime, result: str) -> str:
        if not self.clients.bucket_exists(self.clients.backups_bucket):
            return "(no backups bucket yet: not audited)"
        entry = {"kind": "takeover", "env": self.env, "result": result, **self.state}
        return write_audit(self.clients, AUDIT_KIND, started, f"{self.env}_{result}", entry)

    # --- 1. the backups bucket ----------------------------------------------------------------------
    def _backups(self) -> None:
        bucket = self.clients.backups_bucket
        if not self.clients.bucket_exists(bucket):
            s3, region = self.clients.s3, self.clients.config.region
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            blocks = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
            private = dict.fromkeys(blocks, True)
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=private)
            self.echo(f"    created s3://{bucket} (versioned, private); S0-core adopts it")
        save_state(self.clients, self.state)

    # --- 2. the archive -----------------------------------------------------------------------------
    def _archive(self) -> None:
        prefix, account = archive_prefix(self.state["archive"]), self.account
        # Each part is archived as the manifest is built, in this order: object versions, functions,
        # layer versions, stacks.
        manifest: dict[str, Any] = {
            "env": self.env,
            "archive": self.state["archive"],
            "objects": [
                found
                for bucket in account.buckets
                if bucket != self.clients.backups_bucket
                for found in self._archive_bucket(bucket, prefix)
            ],
            "functions": {name: self._archive_function(name, prefix) for name in account.functions},
            "layers": {
                layer: [self._archive_layer(layer, v, prefix) for v in versions]
                for layer, versions in account.layers.items()
            },
            "stacks": {stack.name: self._archive_stack(stack, prefix) for stack in account.stacks.values()},
            "log_groups": dict(account.log_groups),
        }
        self._put(
            f"{prefix}manifest.json", json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        )
        self.echo(
            f"    s3://{self.clients.backups_bucket}/{prefix}: {len(manifest['objects'])} object versions, "
            f"{len(manifest['functions'])} functions, {sum(map(len, manifest['layers'].values()))} "
            f"layer versions, {len(manifest['stacks'])} stacks"
        )

    def _put(self, key: str, data: bytes) -> None:
        self.clients.s3.put_object(Bucket=self.clients.backups_bucket, Key=key, Body=data)

    def _archive_bucket(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        s3, found = self.clients.s3, []
        for version in pages(s3, "list_object_versions", "Versions", Bucket=bucket):
            vid = version.get("VersionId") or "null"
            target = object_key(prefix, bucket, version["Key"], vid)
            source = {"Bucket": bucket, "Key": version["Key"]} | ({"VersionId": vid} if vid != "null" else {})
            s3.copy_object(Bucket=self.clients.backups_bucket, Key=target, CopySource=source)
            found.append(
                {
                    "bucket": bucket,
                    "key": version["Key"],
                    "version_id": vid,
                    "etag": version.get("ETag"),
                    "latest": version.get("IsLatest"),
                    "archive": target,
                }
            )
        return found

    def _archive_function(self, name: str, prefix: str) -> dict[str, Any]:
        response = self.clients.lambda_.get_function(FunctionName=name)
        code, config = f"{prefix}functions/{name}/code.zip", f"{prefix}functions/{name}/configuration.json"
        self._put(code, download(response["Code"]["Location"]))
        self._put(config, json.dumps(response["Configuration"], default=str).encode())
        return {"configuration": config, "code": code, "tags": response.get("Tags", {})}

    def _archive_layer(self, layer: str, version: int, prefix: str) -> dict[str, Any]:
        info = self.clients.lambda_.get_layer_version(LayerName=layer, VersionNumber=version)
        key = f"{prefix}layers/{layer}/{version}.zip"
        self._put(key, download(info["Content"]["Location"]))
        return {"version": version, "content": key, "runtimes": info.get("CompatibleRuntimes", [])}

    def _archive_stack(self, stack: StackInfo, prefix: str) -> dict[str, Any]:
        self._put(f"{prefix}stacks/{stack.name}.template", stack.body.encode())
        return {
            "parameters": stack.parameters,
            "outputs": stack.outputs,
            "template": f"{prefix}stacks/{stack.name}.template",
            "resources": [r.__dict__ for r in stack.resources],
        }

    # --- 3. the import --------------------------------------------------------------------------------
    def _import(self) -> None:
        # Copies of the lists: the plan stays as it was shown.
        imports = {stack: list(resources) for stack, resources in self.plan.imports.items()}
        backups = next((r for r in self.declared.resources() if r.name == self.clients.backups_bucket), None)
        if backups is not None and self.account.owner("AWS::S3::Bucket", backups.name) is None:
            imports.setdefault(backups.stack, []).append(backups)
        for stack, resources in imports.items():
            self._import_into(stack, resources)
            self.state["imported"] += [r.name for r in resources]

    def _import_into(self, stack: str, resources: list[Declared]) -> None:
        cfn = self.clients.cloudformation
        live = self.account.stacks.get(stack)
        template = parse_template(live.body) if live else {"Resources": {}}
        for resource in resources:
            # Only the name: an import may change nothing else; the deploy then applies the rest.
            template["Resources"][resource.logical_id] = {
                "Type": resource.type,
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {"BucketName": resource.name},
            }
        name = f"takeover-import-{int(time.time())}"
        cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType="IMPORT",
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": k, "UsePreviousValue": True} for k in (live.parameters if live else {})
            ],
            ResourcesToImport=[
                {
                    "ResourceType": r.type,
                    "LogicalResourceId": r.logical_id,
                    "ResourceIdentifier": {"BucketName": r.name},
                }
                for r in resources
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        self._wait_change_set(stack, name)
        cfn.execute_change_set(StackName=stack, ChangeSetName=name)
        wait_stack(cfn, stack, "IMPORT_COMPLETE", f"the import into {stack}")
        self.echo(f"    imported {', '.join(r.name for r in resources)} into {stack} (DeletionPolicy Retain)")

    def _wait_change_set(self, stack: str, name: str) -> None:
        """Until the import's change set is created; OperationError if CloudFormation refuses it."""
        cfn, deadline = self.clients.cloudformation, time.monotonic() + STACK_WAIT_S
        while True:
            described = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
            if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                break
            if time.monotonic() > deadline:
                raise OperationError(f"change set {name} of {stack} still pending")
            time.sleep(0.5)
        if described["Status"] != "CREATE_COMPLETE":
            reason = f" ({described['StatusReason']})" if described.get("StatusReason") else ""
            raise OperationError(f"the import into {stack} was refused: {described['Status']}{reason}")

    # --- 4. the cut-over ------------------------------------------------------------------------------
    def _cut_over(self) -> None:
        for function in self.plan.retire_functions:
            try:
                self.clients.lambda_.delete_function(FunctionName=function)
                self.echo(f"    deleted function {function} (archived)")
            except ClientError as err:
                if not is_not_found(err):
                    raise
        logs = self.clients.client("logs")
        for group in self.plan.retire_log_groups:
            try:
                logs.delete_log_group(logGroupName=group)
                self.echo(f"    deleted log group {group}")
            except logs.exceptions.ResourceNotFoundException:
                pass
        cfn = self.clients.cloudformation
        for stack in self.plan.retire_stacks:
            cfn.delete_stack(StackName=stack)
            wait_stack(cfn, stack, "DELETE_COMPLETE", f"deleting {stack}")
            self.echo(f"    deleted stack {stack} (template and parameters archived)")

    # --- 5. the deploy --------------------------------------------------------------------------------
    def _deploy(self) -> None:
        app = str(self.declared.assembly.directory)
        args = ["deploy", "--app", app, *self.declared.stack_names, "--require-approval", "never"]
        run_cdk(self.root, args, echo=lambda line: self.echo(f"    {line}"))

    # --- 6. configs -----------------------------------------------------------------------------------
    def _configs(self) -> None:
        config = self.clients.config
        if not config.direct_changes_allowed:  # prod: configs only by promotion (publish refuses)
            self.echo(
                f"    not published: {self.env} receives configs by promotion from {config.promoted_from}"
            )
        else:
            if config.change_needs_recent_snapshot:  # stage: a publish needs a snapshot newer than the deploy
                snapshot = SnapshotEngine(self.env).create(PRE_PUBLISH_SNAPSHOT)
                self.echo(
                    f"    snapshot {snapshot} (a publish into {self.env} needs one newer than the deploy)"
                )
            files = repo_files(self.root)
            published = publish(self.env, files, s3=self.clients.s3, lambda_client=self.clients.lambda_)
            self.echo(f"    published {len(published.uris)} files of clients/ and canonical/")
        bucket, s3 = self.clients.config_bucket, self.clients.s3
        for key in self.plan.stale_keys:
            target = f"{OLD_LAYOUT_PREFIX}{key}"
            try:
                s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
            except ClientError as err:
                if not is_not_found(err):  # moved already by an interrupted run
                    raise
                continue
            s3.delete_object(Bucket=bucket, Key=key)  # a delete marker: the versions stay
            self.echo(f"    moved s3://{bucket}/{key} to {target}")


def execute_main(
    args: argparse.Namespace,
    root: Path,
    plan: Plan,
    declared: DeclaredStacks,
    account: Account,
    clients: Environment,
) -> int:
    if plan.blockers:
        raise OperationError(f"--execute refused: {len(plan.blockers)} blocker(s) above; nothing was changed")
    if plan.nothing_to_do:
        print("nothing to execute")
        return cli.EXIT_OK
    if args.dry_run:
        print("dry run: the steps would be " + ", ".join(STEPS) + "; nothing was changed")
        return cli.EXIT_OK
    takeover = Takeover(args.env, root, plan, declared, account, clients, args.approve)
    audit = takeover.run()
    print(
        f"takeover of {args.env} done; archive s3://{takeover.clients.backups_bucket}/"
        f"{archive_prefix(takeover.state['archive'])}; audit {audit}"
    )
    return cli.EXIT_OK
