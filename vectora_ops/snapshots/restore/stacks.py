"""CloudFormation stacks (``stacks``): each stack that differs from the snapshot (template or
parameters) is updated with the snapshot's template and parameters, through CloudFormation - so,
unlike a direct Lambda restore, it leaves no drift."""

from __future__ import annotations

import functools
import json
from typing import Any, ClassVar, Final

from botocore.exceptions import ClientError

from vectora_ops.cloudformation import deployed_template, parse_template
from vectora_ops.environment import if_found
from vectora_ops.errors import SnapshotError
from vectora_ops.snapshots.ids import STACKS
from vectora_ops.snapshots.layout import is_stack_file, stack_file, stack_template_file
from vectora_ops.snapshots.restore.base import Change, Planner

TEMPLATE_BODY_LIMIT: Final = 51_200  # CloudFormation's TemplateBody limit; larger ones go by URL
STACK_CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def _canonical(template: Any) -> str:
    # A snapshot keeps a YAML template as its text: parsed like the live one, so both compare.
    return json.dumps(parse_template(template) if isinstance(template, str) else template, sort_keys=True)


def _parameters(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["ParameterKey"]: p.get("ParameterValue") for p in parameters}


class StackPlanner(Planner):
    handles: ClassVar[frozenset[str]] = frozenset({STACKS})

    def plan(self) -> list[Change]:
        changes: list[Change] = []
        for rel in sorted(r for r in self.source.metadata.files_of(STACKS) if is_stack_file(r)):
            document = self.source.doc(rel)
            name = document["stack_name"]
            if rel != stack_file(name):
                raise SnapshotError(
                    f"snapshot {self.source.snapshot_id} is refused: {rel} names stack {name!r}, "
                    "not its own; nothing was changed"
                )
            if document.get("absent"):
                self.notes.append(f"stacks: {name} did not exist when the snapshot was taken: left as is")
                continue
            if self.matches(name, document):
                continue
            update = functools.partial(self.update_stack, document)
            action = "redeploy the snapshot's template and parameters"
            changes.append(Change(STACKS, name, action, update, f"stack:{name}"))
        return changes

    def matches(self, name: str, document: dict[str, Any]) -> bool:
        """Whether the live stack has the snapshot's template and parameters."""
        described = if_found(self.aws.cloudformation.describe_stacks, StackName=name)
        if described is None:
            raise SnapshotError(f"stack {name} no longer exists: recreate it with cdk deploy first")
        live = described["Stacks"][0]
        live_template = deployed_template(self.aws.cloudformation, name)
        return _canonical(live_template) == _canonical(document["template"]) and _parameters(
            live.get("Parameters", [])
        ) == _parameters(document["parameters"])

    def template_source(self, name: str) -> dict[str, Any]:
        """TemplateBody, or (over CloudFormation's body limit) a TemplateURL into the backups bucket."""
        store, snapshot_id = self.source.store, self.source.snapshot_id
        template_rel = stack_template_file(name)
        raw = store.read_bytes(snapshot_id, template_rel) or b""
        if len(raw) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": raw.decode()}
        located = store.zip_source(snapshot_id, template_rel)
        if "S3Key" not in located:
            raise SnapshotError(
                f"template of {name} is over {TEMPLATE_BODY_LIMIT} bytes: restore it from S3, not --local"
            )
        return {"TemplateURL": f"{self.aws.s3.meta.endpoint_url}/{located['S3Bucket']}/{located['S3Key']}"}

    def update_stack(self, document: dict[str, Any]) -> None:
        name = document["stack_name"]
        parameters = [
            {"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")}
            for p in document["parameters"]
        ]
        try:
            self.aws.cloudformation.update_stack(
                StackName=name,
                Parameters=parameters,
                Capabilities=STACK_CAPABILITIES,
                **self.template_source(name),
            )
        except ClientError as err:
            if "No updates are to be performed" in str(err):
                return
            raise
        waiter = self.aws.cloudformation.get_waiter("stack_update_complete")
        waiter.wait(StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 450})
