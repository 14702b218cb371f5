"""The takeover plan: the account's inventory against the declared stacks, one verdict per resource.

Verdicts (docs/takeover.md):
- kept in place: the same name under the same logical id and type in the stack of the same name
  (CloudFormation updates it, never replaces it); or outside any stack and left alone;
- adopted: an existing bucket with no stack, imported into the declared stack (IMPORT change set,
  ``DeletionPolicy: Retain``) before that stack's update would try to create it;
- replaced after an archive: a function or log group of the old generation whose name a declared
  stack creates: archived, deleted at the cut-over, created by the new stack;
- retired: what the new stacks do not declare (an old stack, its roles and functions, a stale key
  of the old layout), with what still depends on it; archived first, never data deleted;
- created: new;
- blocker: what the takeover cannot do safely by itself, with its fix. While one remains the plan
  exits 1 and ``--execute`` refuses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from vectora_core.environments import get_env_config
from vectora_core.naming import (
    CANONICAL_PREFIX,
    CLIENTS_PREFIX,
    Bucket,
    StackComponent,
    client_of,
    pubmed_api_key_param,
    resource_name,
)
from vectora_ops.config.migration import MigrationError, migrate_text
from vectora_ops.config.publish import repo_files
from vectora_ops.environment import list_objects_if_bucket
from vectora_ops.takeover.declared import Declared, DeclaredStacks
from vectora_ops.takeover.inventory import BOOTSTRAP_STACK, Account, StackResource
from vectora_ops.template_diff import diff_templates

# Where a stale key of the old layout goes in its own bucket (moved, never deleted).
OLD_LAYOUT_PREFIX: Final = "archive/old-layout/"
# Deletion policies that keep a bucket when its stack or its resource goes.
RETAINED: Final = frozenset({"Retain", "RetainExceptOnCreate"})
# Statuses a stack can be updated or deleted from.
SETTLED: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")
# Rough minutes a CloudFormation change takes on AWS (to name the cut-over window, not to time it).
MINUTES_PER_STACK_CREATED: Final = 3
MINUTES_PER_STACK_DELETED: Final = 1


class Verdict(StrEnum):
    """In the order the plan prints them."""

    BLOCKER = "blocker"
    KEPT = "kept in place"
    UPDATED = "updated in place"
    ADOPTED = "adopted"
    REPLACED = "replaced after an archive"
    RETIRED = "retired"
    CREATED = "created"


# The verdicts that leave something for --execute to do.
ACTIONS: Final = frozenset(Verdict) - {Verdict.BLOCKER, Verdict.KEPT}


# A resource's verdict and how it is carried out (or why it cannot be).
Judged = tuple[Verdict, str]


@dataclass(frozen=True)
class Item:
    verdict: Verdict
    kind: str  # stack, bucket, function, log group, layer, role, parameter, key, account
    name: str
    how: str


@dataclass
class Plan:
    env: str
    items: list[Item] = field(default_factory=list)
    # What the execute does, by kind, with the names it acts on.
    imports: dict[str, list[Declared]] = field(default_factory=dict)  # stack -> buckets to import
    retire_stacks: list[str] = field(default_factory=list)  # deleted at the cut-over, in this order
    retire_functions: list[str] = field(default_factory=list)  # unmanaged, deleted at the cut-over
    retire_log_groups: list[str] = field(default_factory=list)  # unmanaged, deleted at the cut-over
    stale_keys: list[str] = field(default_factory=list)  # config-bucket keys moved under the archive
    cut_over: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, verdict: Verdict, kind: str, name: str, how: str) -> None:
        self.items.append(Item(verdict, kind, name, how))

    @property
    def blockers(self) -> list[Item]:
        return [i for i in self.items if i.verdict is Verdict.BLOCKER]

    @property
    def nothing_to_do(self) -> bool:
        return not self.blockers and not any(i.verdict in ACTIONS for i in self.items)


@dataclass
class Planner:
    account: Account
    declared: DeclaredStacks
    root: Path  # the checkout whose clients/ and canonical/ get published
    today: date
    # The config bucket's clients/ and canonical/ keys, each client config's text (read_config_keys).
    config_keys: list[tuple[str, str | None]] = field(default_factory=list)
    plan: Plan = field(init=False)

    def __post_init__(self) -> None:
        self.plan = Plan(self.account.env)

    def run(self) -> Plan:
        self._account()
        self._declared_resources()
        self._old_stack_contents()
        self._foreign_stacks()
        self._unmanaged()
        self._config_keys()
        self._retention()
        self._cut_over()
        return self.plan

    # --- the account itself -----------------------------------------------------------------------
    def _account(self) -> None:
        if not self.account.bootstrapped:
            self.plan.add(
                Verdict.BLOCKER,
                "account",
                BOOTSTRAP_STACK,
                "the account is not bootstrapped for the CDK: run "
                f"`npx cdk bootstrap -c env={self.account.env}` (docs/first-deploy.md), then plan again",
            )
        for stack in self.account.stacks.values():
            if stack.status not in SETTLED:
                self.plan.add(
                    Verdict.BLOCKER,
                    "stack",
                    stack.name,
                    f"in {stack.status}: settle it first (wait, or continue its rollback in the "
                    "CloudFormation console), then plan again",
                )
        self.plan.notes.extend(self.account.notes)

    # --- every named resource the new stacks declare --------------------------------------------------
    def _declared_resources(self) -> None:
        for resource in self.declared.resources():
            owner = self.account.owner(resource.type, resource.name)
            if owner == (resource.stack, resource.logical_id) or self._deployed(resource):
                verdict, how = self._kept(resource)
            elif owner is not None:
                verdict, how = self._owned_elsewhere(resource, owner)
            elif self._exists(resource):
                verdict, how = self._unowned(resource)
            else:
                verdict, how = Verdict.CREATED, f"by {resource.stack}"
            self.plan.add(verdict, _kind(resource.type), resource.name, how)
        for stack in self.declared.stack_names:
            live = self.account.stacks.get(stack)
            if live is None or not live.made_by_cdk:
                continue
            diff = diff_templates(stack, self.declared.templates[stack], live.template)
            if not diff.empty:  # the project's own stack, behind this checkout's template
                self.plan.add(Verdict.UPDATED, "stack", stack, f"by the deploy: {diff.summary()}")

    def _deployed(self, resource: Declared) -> bool:
        """Declared, same logical id and type, by the project's template the stack already runs
        (for the types an account lists no resource of, such as a schedule on the local AWS)."""
        live = self.account.stacks.get(resource.stack)
        if live is None or not live.made_by_cdk or live.resource(resource.logical_id) is not None:
            return False
        deployed = live.template.get("Resources", {}).get(resource.logical_id) or {}
        return bool(deployed.get("Type") == resource.type)

    def _exists(self, resource: Declared) -> bool:
        listed: dict[str, Mapping[str, object]] = {
            "AWS::S3::Bucket": self.account.buckets,
            "AWS::Lambda::Function": self.account.functions,
            "AWS::Logs::LogGroup": self.account.log_groups,
            "AWS::Lambda::LayerVersion": self.account.layers,
        }  # roles, state machines, schedules: known through their stacks only
        return resource.name in listed.get(resource.type, {})

    def _kept(self, resource: Declared) -> Judged:
        live = self.account.stacks[resource.stack]
        how = f"{resource.logical_id} of {resource.stack}"
        if live.drifted(resource.logical_id):
            how += " (drifted: the next update applies the template)"
        if resource.type == "AWS::S3::Bucket" and not live.made_by_cdk:
            how += "; the project's template updates it in place (encryption, versioning, policy, logs)"
        return Verdict.KEPT, how

    def _owned_elsewhere(self, resource: Declared, owner: tuple[str, str]) -> Judged:
        stack, logical_id = owner
        if resource.type in ("AWS::Lambda::Function", "AWS::Logs::LogGroup"):
            self._retire_stack(stack)
            return Verdict.REPLACED, (
                f"{logical_id} of {stack}: archived, deleted with {stack} at the cut-over, "
                f"created by {resource.stack}{self._function_drift(stack, logical_id, resource.name)}"
            )
        return Verdict.BLOCKER, (
            f"is {logical_id} of {stack}, declared as {resource.logical_id} of {resource.stack}: "
            f"set `DeletionPolicy: Retain` on {logical_id} in {stack}'s template and update it, "
            f"remove it from {stack}, then plan again (it is then imported)"
        )

    def _unowned(self, resource: Declared) -> Judged:
        if resource.type == "AWS::Lambda::LayerVersion":
            versions = self.account.layers[resource.name]
            return Verdict.KEPT, (
                f"versions {versions[0]}-{versions[-1]} stay (a layer version is never replaced); "
                f"{resource.stack} publishes the next one"
            )
        if resource.type == "AWS::S3::Bucket":
            self.plan.imports.setdefault(resource.stack, []).append(resource)
            info = self.account.buckets[resource.name]
            return Verdict.ADOPTED, (
                f"imported into {resource.stack} as {resource.logical_id} (IMPORT change set, "
                f"DeletionPolicy Retain) before {resource.stack}'s update; {info.objects} objects, "
                f"{info.versions} versions, versioning {info.versioning or 'off'}"
            )
        if resource.type == "AWS::Lambda::Function":
            self.plan.retire_functions.append(resource.name)
        else:
            self.plan.retire_log_groups.append(resource.name)
        return (
            Verdict.REPLACED,
            f"outside any stack: archived, deleted at the cut-over, created by {resource.stack}",
        )

    # --- what the old stacks of the declared names hold and the new templates do not -------------------
    def _old_stack_contents(self) -> None:
        for stack in self.declared.stack_names:
            live = self.account.stacks.get(stack)
            if live is None or live.made_by_cdk:
                continue
            declared = self.declared.templates[stack].get("Resources", {})
            leaves = [r for r in live.resources if declared.get(r.logical_id, {}).get("Type") != r.type]
            if len(leaves) == len(live.resources):  # nothing stays: the stack goes, the new one is created
                self._retire_stack(stack)
            else:  # what stays is kept in place; the stack itself still needs the project's template
                kept = len(live.resources) - len(leaves)
                how = f"by the deploy: the project's template replaces the team's ({kept} resources kept)"
                self.plan.add(Verdict.UPDATED, "stack", stack, how)
            for resource in leaves:
                self._retired_resource(stack, resource)

    def _retired_resource(self, stack: str, resource: StackResource) -> None:
        logical_id, name = resource.logical_id, resource.name
        verdict, how = Verdict.RETIRED, f"{logical_id} of {stack}: archived, deleted at the cut-over"
        if resource.type == "AWS::S3::Bucket" and self._holds_data(name):
            verdict = Verdict.BLOCKER
            how = (
                f"{logical_id} of {stack} holds data and no declared stack keeps it: set "
                f"`DeletionPolicy: Retain` on it in {stack}'s template and update the stack, "
                "then plan again"
            )
        elif resource.type == "AWS::IAM::Role":
            users = self.account.functions_using_role(resource.physical_id)
            how = (
                f"{logical_id} of {stack}, used by {', '.join(users) or 'nothing'}: kept until those "
                "functions are retired at the cut-over, then deleted with its stack"
            )
        elif resource.type == "AWS::Lambda::Function":
            how += self._function_drift(stack, logical_id, name)
        self.plan.add(verdict, _kind(resource.type), name, how)

    def _holds_data(self, bucket: str) -> bool:
        info = self.account.buckets.get(bucket)
        return info is not None and info.holds_data

    def _function_drift(self, stack: str, logical_id: str, name: str) -> str:
        """A function's layers attached outside CloudFormation (the drift the team has), found by
        comparing with its template where the account's drift detection is not available."""
        live = self.account.stacks[stack]
        if live.drifted(logical_id):
            return " (drifted: archived as it runs)"
        declared_layers = (
            (live.template.get("Resources", {}).get(logical_id) or {}).get("Properties") or {}
        ).get("Layers")
        function = self.account.functions.get(name)
        if function and function.layers and not declared_layers:
            layers = len(function.layers)
            return f" (drifted: {layers} layers attached outside CloudFormation; archived as it runs)"
        return ""

    def _retire_stack(self, stack: str) -> None:
        if stack not in self.plan.retire_stacks:
            self.plan.retire_stacks.append(stack)

    # --- stacks of the environment's names that the project does not declare ------------------------------
    def _foreign_stacks(self) -> None:
        for stack in self.account.stacks.values():
            if stack.name in self.declared.stack_names:
                continue
            self._retire_stack(stack.name)
            for resource in stack.resources:
                if not any(i.name == resource.name for i in self.plan.items):
                    self._retired_resource(stack.name, resource)
        for retired in self.plan.retire_stacks:
            anew = " (the project creates it anew)" if retired in self.declared.stack_names else ""
            resources = len(self.account.stacks[retired].resources)
            how = f"{resources} resources; template and parameters archived, deleted at the cut-over{anew}"
            self.plan.add(Verdict.RETIRED, "stack", retired, how)
        # dependents first: a stack whose roles others use goes last (s1-* before s0-iam)
        self.plan.retire_stacks.sort(key=lambda s: (StackComponent.IAM in s, StackComponent.CORE in s, s))

    # --- what no stack holds --------------------------------------------------------------------------
    def _unmanaged(self) -> None:
        named = {i.name for i in self.plan.items}

        def free(resource_type: str, name: str) -> bool:  # neither planned nor in a stack
            return name not in named and self.account.owner(resource_type, name) is None

        for function in self.account.functions:
            if free("AWS::Lambda::Function", function):
                how = "outside any stack, not declared: archived, deleted at the cut-over"
                self.plan.add(Verdict.RETIRED, "function", function, how)
                self.plan.retire_functions.append(function)
        for group in self.account.log_groups:
            owner = group.rsplit("/", 1)[-1]  # the function it logs
            if owner in self.plan.retire_functions and free("AWS::Logs::LogGroup", group):
                self.plan.add(Verdict.RETIRED, "log group", group, f"of {owner}: deleted with it")
                self.plan.retire_log_groups.append(group)
        for layer, versions in self.account.layers.items():
            if layer not in named:
                self.plan.add(
                    Verdict.KEPT,
                    "layer",
                    layer,
                    f"versions {versions[0]}-{versions[-1]} stay, "
                    "outside the stacks; no declared stack uses it",
                )
        pubmed = pubmed_api_key_param(self.account.env)
        for parameter, kind in self.account.parameters.items():
            how = "the PubMed key the functions read" if parameter == pubmed else "outside the stacks"
            self.plan.add(Verdict.KEPT, "parameter", parameter, f"{how} ({kind}), left alone")
        for bucket in self.account.buckets:
            if free("AWS::S3::Bucket", bucket):
                self.plan.add(Verdict.KEPT, "bucket", bucket, "outside the stacks, not declared: left alone")

    # --- the config bucket's old layout ---------------------------------------------------------------
    def _config_keys(self) -> None:
        """Client configs and canonical files the publish would not write are stale: moved under
        the archive prefix. A team client config must have its migrated counterpart in the checkout
        (migrate_config.py, reviewed and committed), else it is a blocker."""
        bucket = resource_name(Bucket.CONFIG, self.account.env)
        published = {f.key for f in repo_files(self.root)}
        for key, text in self.config_keys:
            if key in published:
                continue
            self.plan.stale_keys.append(key)
            if client_of(key) is None:
                verdict, how = Verdict.RETIRED, f"old layout: moved under {OLD_LAYOUT_PREFIX} (versions kept)"
            else:
                verdict, how = self._team_client(key, text, published)
            self.plan.add(verdict, "key", f"s3://{bucket}/{key}", how)

    def _team_client(self, key: str, text: str | None, published: set[str]) -> Judged:
        try:
            migrated = migrate_text(text or "", today=self.today)
        except MigrationError as err:
            return Verdict.BLOCKER, (
                f"cannot be migrated ({'; '.join(err.problems)[:200]}): complete it, run "
                "scripts/config/migrate_config.py on it and commit the result in clients/"
            )
        target = f"{CLIENTS_PREFIX}{migrated.client_id}.yaml"
        if target not in published:
            return Verdict.BLOCKER, (
                f"its migrated form {target} is not in the checkout: run `python scripts/config/"
                f"migrate_config.py <downloaded {key}>`, review and commit {target}"
            )
        return (
            Verdict.RETIRED,
            f"migrated as {target} (in the checkout, published); moved under {OLD_LAYOUT_PREFIX}",
        )

    # --- no bucket holding data under a Delete policy ---------------------------------------------
    def _retention(self) -> None:
        """dev's template deletes its (empty) buckets with their stack; a bucket that held the
        team's data, or the archive, must be retained instead: the app retains the buckets
        cdk.json's ``adopted_buckets`` lists for the environment (stacks/context.py)."""
        env = self.account.env
        backups = resource_name(Bucket.BACKUPS, env)
        data = any(b.holds_data for b in self.account.buckets.values())
        exposed = [
            r
            for r in self.declared.resources()
            if r.type == "AWS::S3::Bucket"
            and r.deletion_policy not in RETAINED
            and (self._holds_data(r.name) or (r.name == backups and data))
        ]
        if not exposed:
            return
        components = sorted(c.value for c in Bucket if resource_name(c, env) in {r.name for r in exposed})
        self.plan.add(
            Verdict.BLOCKER,
            "bucket",
            ", ".join(r.name for r in exposed),
            "hold data (or the archive) and the project's template would leave them under "
            f"DeletionPolicy Delete: add to cdk.json's context "
            f'"adopted_buckets": {json.dumps({env: components})} (the takeover adopts them for good), '
            "commit it and plan again",
        )

    # --- the cut-over window ------------------------------------------------------------------------
    def _cut_over(self) -> None:
        retired = self.plan.retire_stacks
        with_stacks = [r for s in retired for r in self.account.stacks[s].resources]  # deleted with them
        stops = sorted(
            {*self.plan.retire_functions, *(r.name for r in with_stacks if r.type == "AWS::Lambda::Function")}
        )
        if not stops:
            self.plan.cut_over = "none: no running function is retired"
            return
        created = sum(1 for s in self.declared.stack_names if s not in self.account.stacks or s in retired)
        minutes = created * MINUTES_PER_STACK_CREATED + len(retired) * MINUTES_PER_STACK_DELETED
        schedule = get_env_config(self.account.env).pipeline_schedule_enabled
        self.plan.cut_over = (
            f"{', '.join(stops)} stop from their retirement until the new stacks are deployed, about "
            f"{minutes} minutes on AWS ({len(retired)} stacks deleted, {created} created)"
            + ("; a scheduled run in that window is missed" if schedule else "; no schedule runs in it")
        )


def _kind(resource_type: str) -> str:
    return {
        "AWS::S3::Bucket": "bucket",
        "AWS::Lambda::Function": "function",
        "AWS::Logs::LogGroup": "log group",
        "AWS::IAM::Role": "role",
        "AWS::Lambda::LayerVersion": "layer",
        "AWS::StepFunctions::StateMachine": "state machine",
        "AWS::Scheduler::Schedule": "schedule",
    }.get(resource_type, resource_type)


def read_config_keys(s3: Any, bucket: str) -> list[tuple[str, str | None]]:
    """The config bucket's clients/ and canonical/ keys (and each client config's text), outside
    the archive prefix; none when the bucket does not exist yet."""
    found: list[tuple[str, str | None]] = []
    for prefix in (CLIENTS_PREFIX, CANONICAL_PREFIX):
        objects = list_objects_if_bucket(s3, bucket, prefix)
        if objects is None:
            return []
        for key in (o["Key"] for o in objects):
            text = None
            if client_of(key) is not None:
                text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
            found.append((key, text))
    return found


def make_plan(account: Account, declared: DeclaredStacks, root: Path, today: date, s3: Any) -> Plan:
    bucket = resource_name(Bucket.CONFIG, account.env)
    return Planner(account, declared, root, today, read_config_keys(s3, bucket)).run()
