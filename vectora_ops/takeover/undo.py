"""``--undo``: the old environment put back from the ``pre_takeover`` archive of the last takeover.

Order, and why:
1. the project's stacks that hold no bucket are deleted, last deployed first (S1-runtime, then
   S0-iam: their functions and roles go; the layers, retained, stay);
2. a project stack that holds buckets (S0-core) is updated back to the team's archived template
   and parameters: the buckets it shares with it stay in place, under the same logical ids; the
   buckets the takeover adopted or created leave it retained, never deleted;
3. the team's other stacks are created again from their archived templates, each once the stacks
   whose outputs it takes exist; a parameter that was another stack's output (a role's ARN) gets
   that output's new value;
4. the functions no stack held are created again from their archived code and configuration (their
   role mapped the same way), their log groups with their retention; every function whose code or
   layers differ from the archive gets them back;
5. the config bucket: each key that existed gets its archived current version back, the keys the
   takeover added (the published files, the ``archive/old-layout/`` copies) a delete marker.

Nothing is deleted that held data: object versions stay, buckets are retained. What stays from
the takeover: the backups bucket (it holds the archive), the layer versions the project published,
the lambda-code bucket's versioning (a bucket's versioning can be suspended, not removed), the
new data written by the pipeline since. The team's roles get new generated names.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from vectora_ops import cli
from vectora_ops.cloudformation import deployed_template
from vectora_ops.environment import Environment, if_found, is_not_found
from vectora_ops.errors import OperationError, one_line
from vectora_ops.operation.records import write_audit
from vectora_ops.takeover.execute import AUDIT_KIND, STATE_KEY, archive_prefix, save_state, wait_stack
from vectora_ops.takeover.inventory import pages
from vectora_ops.takeover.plan import RETAINED

CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# Function settings put back from the archived configuration.
FUNCTION_FIELDS: Final = ("Runtime", "Handler", "Timeout", "MemorySize", "Description")


@dataclass
class Undo:
    env: str
    session: Any
    approved_by: str
    echo: Callable[[str], None] = print
    clients: Environment = field(init=False)
    manifest: dict[str, Any] = field(init=False, default_factory=dict)
    arns: dict[str, str] = field(init=False, default_factory=dict)  # old output value -> new one

    def __post_init__(self) -> None:
        self.clients = Environment(self.env, self.session)
        self.cfn = self.clients.cloudformation

    def _read(self, key: str) -> bytes:
        return bytes(self.clients.s3.get_object(Bucket=self.clients.backups_bucket, Key=key)["Body"].read())

    def load(self) -> dict[str, Any]:
        backups = self.clients.backups_bucket
        if not self.clients.bucket_exists(backups):
            raise OperationError(f"no takeover to undo in {self.env}: {backups} does not exist")
        state = self.clients.read_json(backups, STATE_KEY)
        if not state or "archive" not in state:
            raise OperationError(f"no takeover to undo in {self.env}: no {STATE_KEY} in the backups bucket")
        if "archive" not in state.get("done", []):
            raise OperationError(
                f"the takeover of {self.env} has no complete archive: nothing was changed to undo"
            )
        self.manifest = json.loads(self._read(f"{archive_prefix(state['archive'])}manifest.json"))
        self._check_buckets_retained()
        return dict(state)

    def _check_buckets_retained(self) -> None:
        """Refused before any change: a bucket holding data that putting a stack back would remove
        from it under a Delete policy (CloudFormation would delete it once empty, or fail midway)."""
        for stack in self._bucket_stacks():
            live = deployed_template(self.cfn, stack) or {}
            archived = {r["logical_id"] for r in self.manifest["stacks"][stack]["resources"]}
            for logical_id, resource in live.get("Resources", {}).items():
                bucket = (resource.get("Properties") or {}).get("BucketName")
                leaves = resource.get("Type") == "AWS::S3::Bucket" and logical_id not in archived
                if leaves and resource.get("DeletionPolicy") not in RETAINED and self._has_objects(bucket):
                    raise OperationError(
                        f"--undo refused, nothing changed: {bucket} holds data and leaves {stack} under "
                        f"DeletionPolicy {resource.get('DeletionPolicy', 'Delete')}: list it in cdk.json's "
                        "adopted_buckets, deploy, then undo"
                    )

    def _has_objects(self, bucket: object) -> bool:
        if not isinstance(bucket, str):
            return False
        try:
            return bool(self.clients.s3.list_object_versions(Bucket=bucket, MaxKeys=1).get("Versions"))
        except ClientError as err:
            if is_not_found(err):
                return False
            raise

    def run(self, state: dict[str, Any]) -> str:
        started = datetime.now(UTC)
        done: list[str] = []
        entry = {
            "kind": "takeover-undo",
            "env": self.env,
            "archive": state["archive"],
            "done": done,
            "approved_by": self.approved_by,
        }
        steps: list[tuple[str, Callable[[], None]]] = [
            ("delete the project's stacks", self._delete_project_stacks),
            ("put S0-core back", self._core_back),
            ("create the team's stacks", self._team_stacks),
            ("put the functions back", self._functions),
            ("put the configs back", self._configs),
        ]
        try:
            for label, action in steps:
                self.echo(f"==> {label}")
                action()
                done.append(label)
        except BaseException as err:
            entry["error"] = one_line(err)
            write_audit(self.clients, AUDIT_KIND, started, f"{self.env}_undo_failed", entry)
            raise OperationError(
                f"undo of {self.env} stopped: {one_line(err)}; done: {', '.join(done) or 'nothing'}; "
                f"the archive {state['archive']} is untouched"
            ) from err
        state["undone_at"] = datetime.now(UTC).isoformat()
        save_state(self.clients, state)
        return write_audit(self.clients, AUDIT_KIND, started, f"{self.env}_undo", entry)

    # --- stacks -----------------------------------------------------------------------------------
    def _holds_buckets(self, stack: str) -> bool:
        archived = self.manifest["stacks"].get(stack, {}).get("resources", [])
        return any(r["type"] == "AWS::S3::Bucket" for r in archived)

    def _bucket_stacks(self) -> Iterator[str]:
        """The archived stacks that hold buckets and exist (S0-core)."""
        return (s for s in self.manifest["stacks"] if self._holds_buckets(s) and self._exists(s))

    def _delete_project_stacks(self) -> None:
        for stack in reversed(self.clients.stack_names):
            if self._holds_buckets(stack) or not self._exists(stack):
                continue
            self.cfn.delete_stack(StackName=stack)
            wait_stack(self.cfn, stack, "DELETE_COMPLETE", f"deleting {stack}")
            self.echo(f"    deleted {stack}")

    def _exists(self, stack: str) -> bool:
        found = if_found(self.cfn.describe_stacks, StackName=stack)
        return found is not None and found["Stacks"][0]["StackStatus"] != "DELETE_COMPLETE"

    def _core_back(self) -> None:
        for stack in self._bucket_stacks():
            try:
                self.cfn.update_stack(**self._archived(stack))
            except ClientError as err:
                if "No updates are to be performed" not in str(err):
                    raise
            wait_stack(self.cfn, stack, "UPDATE_COMPLETE", f"updating {stack} back")
            self._map_outputs(stack)
            self.echo(f"    {stack}: the team's template and parameters again")

    def _team_stacks(self) -> None:
        pending = [s for s in self.manifest["stacks"] if not self._exists(s)]
        while pending:
            ready = [s for s in pending if not self._waits_for(s, pending)]
            if not ready:
                raise OperationError(f"the archived stacks {', '.join(pending)} take each other's outputs")
            for stack in ready:
                self.cfn.create_stack(**self._archived(stack))
                wait_stack(self.cfn, stack, "CREATE_COMPLETE", f"creating {stack} again")
                self._map_outputs(stack)
                pending.remove(stack)
                self.echo(f"    {stack} created again from the archive")

    def _waits_for(self, stack: str, pending: list[str]) -> bool:
        """Whether one of ``stack``'s parameters is an output of a stack still to create."""
        values = set(self.manifest["stacks"][stack]["parameters"].values())
        return any(
            values & set(self.manifest["stacks"][other]["outputs"].values())
            for other in pending
            if other != stack
        )

    def _map_outputs(self, stack: str) -> None:
        old = self.manifest["stacks"][stack]["outputs"]
        new = {
            o["OutputKey"]: o["OutputValue"]
            for o in self.cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
        }
        self.arns.update({value: new[key] for key, value in old.items() if key in new and value != new[key]})

    def _archived(self, stack: str) -> dict[str, Any]:
        """The stack's archived template and parameters (an output of a stack put back: its new value)."""
        archived = self.manifest["stacks"][stack]
        return {
            "StackName": stack,
            "TemplateBody": self._read(archived["template"]).decode(),
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": self.arns.get(v, v)}
                for k, v in archived["parameters"].items()
            ],
            "Capabilities": CAPABILITIES,
        }

    # --- functions --------------------------------------------------------------------------------
    def _functions(self) -> None:
        lam = self.clients.lambda_
        for name, archived in self.manifest["functions"].items():
            config = json.loads(self._read(archived["configuration"]))
            code = self._read(archived["code"])
            layers = [layer["Arn"] for layer in config.get("Layers", [])]
            try:
                current = lam.get_function_configuration(FunctionName=name)
            except ClientError as err:
                if not is_not_found(err):
                    raise
                settings = {k: config[k] for k in FUNCTION_FIELDS if k in config}
                if environment := config.get("Environment", {}).get("Variables"):
                    settings["Environment"] = {"Variables": environment}
                role = self.arns.get(config["Role"], config["Role"])
                lam.create_function(
                    FunctionName=name, Role=role, Code={"ZipFile": code}, Layers=layers, **settings
                )
                self.echo(f"    {name} created again from the archive")
                continue
            if current.get("CodeSha256") != config.get("CodeSha256"):
                lam.update_function_code(FunctionName=name, ZipFile=code)
            if [layer["Arn"] for layer in current.get("Layers", [])] != layers:
                lam.update_function_configuration(FunctionName=name, Layers=layers)
                self.echo(f"    {name}: its {len(layers)} layers again")
        logs = self.clients.client("logs")
        existing = {g["logGroupName"] for g in pages(logs, "describe_log_groups", "logGroups")}
        for group, retention in self.manifest["log_groups"].items():
            if group not in existing:
                logs.create_log_group(logGroupName=group)
                if retention:
                    logs.put_retention_policy(logGroupName=group, retentionInDays=retention)

    # --- configs ----------------------------------------------------------------------------------
    def _configs(self) -> None:
        s3, bucket = self.clients.s3, self.clients.config_bucket
        before = {
            o["key"]: o["version_id"]
            for o in self.manifest["objects"]
            if o["bucket"] == bucket and o["latest"]
        }
        listed = pages(s3, "list_object_versions", "Versions", Bucket=bucket)
        current = {v["Key"]: v["VersionId"] for v in listed if v.get("IsLatest")}
        for key, version in sorted(before.items()):
            if current.get(key) != version:  # its archived version, still in place, made current again
                s3.copy_object(
                    Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key, "VersionId": version}
                )
        added = sorted(set(current) - set(before))
        for key in added:
            s3.delete_object(Bucket=bucket, Key=key)  # a delete marker: its versions stay
        self.echo(f"    s3://{bucket}: {len(before)} keys as they were, {len(added)} added keys hidden")


def undo_main(args: argparse.Namespace, session: Any) -> int:
    """The undo reads the archive, not the checkout."""
    undo = Undo(args.env, session, args.approve)
    state = undo.load()
    if args.dry_run:
        print(
            f"dry run: would put {args.env} back from {state['archive']} "
            f"({len(undo.manifest['stacks'])} stacks, {len(undo.manifest['functions'])} functions); "
            "nothing was changed"
        )
        return cli.EXIT_OK
    audit = undo.run(state)
    print(f"{args.env} is back as archived in {state['archive']}; audit {audit}")
    return cli.EXIT_OK
