"""The pre-update snapshot: a custom resource that runs before anything else of its stack changes.

CloudFormation calls a custom resource only when its properties change, so the resource carries a
*fingerprint* of every other resource of its stack (type, properties - asset hashes included -,
policies and dependencies), computed at synth time from the resolved template content: any change
elsewhere in the stack changes the fingerprint and makes CloudFormation call the handler first;
an unchanged stack leaves it untouched. No clock, no randomness: two synths are byte-identical.

Every other resource of the stack depends on it (an aspect adds the dependency to resources
created later, too), except its own function, role and log group and the ``prerequisites`` it
needs to exist already (in S0-core: the backups bucket it writes to and that bucket's log bucket).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import (
    Aspects,
    CfnOutput,
    CfnResource,
    CustomResource,
    Duration,
    IAspect,
    IResolveContext,
    IStableStringProducer,
    Lazy,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from vectora_constructs.arns import Arn, Statement, attach_statements, bucket_arn, log_streams_arn, object_arn
from vectora_constructs.log_retention import retention_days
from vectora_constructs.nag import acknowledge
from vectora_constructs.paths import BUILD_DIR, LAMBDAS_DIR, LAYERS_DIR
from vectora_core.environments import EnvConfig
from vectora_core.naming import Bucket, EnvVar, Function, Layer, log_group_name, resource_name
from vectora_core.naming import Stack as StackName

RESOURCE_TYPE = "Custom::PreUpdateSnapshot"
HANDLER_DIR = LAMBDAS_DIR / "pre_update_snapshot"
CORE_PACKAGE = LAYERS_DIR / "vectora_core" / "python" / "vectora_core"
# What of vectora_core the handler needs: the snapshot engine and the names/configs it reads.
CORE_FILES = ("__init__.py", "naming.py", "environments.py", "snapshots")
# CloudFormation-internal resources that must not wait for the snapshot (or cannot).
UNGUARDED_TYPES = frozenset({"AWS::CDK::Metadata"})
_BUNDLE_FORMAT = "1"  # bump when the bundle recipe below changes


def _bundle_sources() -> list[tuple[str, Path]]:
    """(path in the bundle, source file), sorted, caches excluded."""
    files = [("handler.py", HANDLER_DIR / "handler.py")]
    for entry in CORE_FILES:
        source = CORE_PACKAGE / entry
        candidates = sorted(source.rglob("*.py")) if source.is_dir() else [source]
        files += [
            (f"vectora_core/{path.relative_to(CORE_PACKAGE).as_posix()}", path)
            for path in candidates
            if path.is_file() and "__pycache__" not in path.parts
        ]
    return sorted(files)


@functools.cache
def bundle_handler() -> Path:
    """Handler + the engine's part of vectora_core, copied into ``.build/`` under a content key.

    S0-core cannot use S1-runtime's layers (it is deployed first), so the handler ships its own
    copy of the engine - the same files, never a second implementation.
    """
    sources = _bundle_sources()
    digest = hashlib.sha256(_BUNDLE_FORMAT.encode())
    for relative, path in sources:
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    target = BUILD_DIR / "bundles" / f"pre-update-snapshot-{digest.hexdigest()[:32]}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix="tmp-"))
    try:
        for relative, path in sources:
            destination = scratch / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        if not target.exists():  # a concurrent synth may have finished the same bundle first
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


@jsii.implements(IStableStringProducer)
class _Fingerprint:
    """Produces the sha256 of every resource the snapshot guards, resolved, in logical-ID order."""

    def __init__(self, guard: PreUpdateSnapshot) -> None:
        self._guard = guard

    def produce(self, context: IResolveContext | None = None) -> str | None:  # noqa: ARG002  # jsii API
        return self._guard.fingerprint()


@jsii.implements(IAspect)
class _RunsFirst:
    """Makes every guarded resource of the stack depend on the snapshot resource.

    Aspects run at synth, once every construct exists, so resources added to the stack after the
    snapshot construct are guarded too. It is added to the snapshot construct, not to the stack:
    CDK calls an aspect once per construct of its scope (a jsii callback each, ~0.25 s of synth
    over the nine stacks), and one visit is all the wiring needs.
    """

    def __init__(self, guard: PreUpdateSnapshot) -> None:
        self._guard = guard

    def visit(self, node: IConstruct) -> None:
        # isinstance is plain Python (no jsii round trip); the snapshot's own children pass by.
        if isinstance(node, PreUpdateSnapshot):
            self._guard.wire()


class PreUpdateSnapshot(Construct):
    """``vectora-inbox-{stack}-snapshot-{env}``: snapshots the environment before its stack changes.

    Public: ``resource`` (the custom resource), ``function``, ``role``, ``snapshot_id`` (attribute).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        stack_component: str,
        runtime: lambda_.Runtime,
        prerequisites: Sequence[IConstruct] = (),
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        env = config.name
        self._stack = stack
        # The guarded resources, fixed once the aspect has made them depend on the snapshot.
        self._wired: list[CfnResource] | None = None
        self._excluded_paths = (self.node.path, *(p.node.path for p in prerequisites))
        self.function_name = resource_name(f"{stack_component}-snapshot", env)
        self.log_group_name = log_group_name(f"{stack_component}-snapshot", env)
        log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=self.log_group_name,
            retention=retention_days(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if config.retain_stateful else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=resource_name(f"{stack_component}-snapshot-role", env),
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Pre-update snapshot of {stack.stack_name}: reads the environment, writes backups",
        )
        self._grant(config, stack)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=self.function_name,
            runtime=runtime,
            architecture=lambda_.Architecture.X86_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(bundle_handler())),
            role=self.role,
            memory_size=1024,  # more memory, more network: code zips are copied into the backups bucket
            timeout=Duration.minutes(15),  # the handler answers CloudFormation before this hits
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={EnvVar.ENV: env, EnvVar.LOG_LEVEL: config.log_level},
            description=f"Snapshot of {env} before each update of {stack.stack_name}",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13, like the pipeline functions: the newest runtime the Docker-free local AWS can run "
            "with a matching interpreter; Lambda supports it until 2029.",
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "Env": env,
                "StackName": stack.stack_name,
                "FailurePolicy": "fail" if config.snapshot_failure_fails_update else "warn",
                "Fingerprint": Lazy.string(_Fingerprint(self)),
            },
            removal_policy=RemovalPolicy.DESTROY,  # Delete does nothing: snapshots outlive stacks
        )
        if prerequisites:
            self.resource.node.add_dependency(*prerequisites)
        self.snapshot_id = self.resource.get_att_string("SnapshotId")
        CfnOutput(
            self,
            "SnapshotId",
            value=self.snapshot_id,
            description="Snapshot taken by the last deployment that changed this stack",
        )
        Aspects.of(self).add(_RunsFirst(self))

    # -- what it guards ------------------------------------------------------------------------
    def guards(self, resource: CfnResource) -> bool:
        """Whether ``resource`` must wait for the snapshot (and counts in its fingerprint).

        By construct path: jsii may hand back a new Python proxy for the same construct, so
        identity cannot tell the snapshot's own resources apart.
        """
        path = resource.node.path
        if any(path == p or path.startswith(f"{p}/") for p in self._excluded_paths):
            return False
        return resource.cfn_resource_type not in UNGUARDED_TYPES

    def guarded_resources(self) -> list[CfnResource]:
        """Every resource of the stack that waits for the snapshot.

        Fixed by ``wire`` (the aspect, at synth, once every construct exists), so the dependencies
        and the fingerprint cover the very same resources; before that, found anew on each call.
        """
        if self._wired is not None:
            return self._wired
        nodes = self._stack.node.find_all()
        return [node for node in nodes if isinstance(node, CfnResource) and self.guards(node)]

    def wire(self) -> None:
        """Make every guarded resource depend on the snapshot resource (once)."""
        if self._wired is not None:
            return
        own = self.resource.node.default_child
        self._wired = self.guarded_resources()
        for node in self._wired:
            node.add_resource_dependency(own)  # type: ignore[arg-type]  # the custom resource's CfnResource

    def fingerprint(self) -> str:
        stack = self._stack
        documents = []
        for node in self.guarded_resources():
            options = node.cfn_options
            documents.append(
                {
                    "LogicalId": node.logical_id,
                    "Type": node.cfn_resource_type,
                    "Properties": node._cfn_properties,  # noqa: SLF001  # jsii-exposed protected API
                    "DeletionPolicy": str(options.deletion_policy),
                    "UpdateReplacePolicy": str(options.update_replace_policy),
                    # Dependencies on other stacks are the stacks' own business, not this template's.
                    "DependsOn": [
                        d.logical_id for d in node.obtain_dependencies() if isinstance(d, CfnResource)
                    ],
                }
            )
        # One resolve for the whole stack: each jsii round trip costs, and there are ~15 resources.
        resolved = stack.resolve(documents)
        for document in resolved:
            document["DependsOn"] = sorted(document["DependsOn"])
        resolved.sort(key=lambda doc: doc["LogicalId"])
        canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    # -- least privilege -----------------------------------------------------------------------
    def _grant(self, config: EnvConfig, stack: Stack) -> None:
        env, region = config.name, stack.region
        backups = Bucket.BACKUPS
        statements: list[Statement] = [
            (
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_streams_arn(region, self.log_group_name)],
                None,
            ),
            (
                "ReadFunctions",
                ["lambda:GetFunction", "lambda:GetFunctionConfiguration"],
                [
                    Arn(f"arn:{{partition}}:lambda:{region}:{{account}}:function:{resource_name(f, env)}")
                    for f in Function.ALL
                ],
                None,
            ),
            (
                "ReadLayerVersions",
                ["lambda:GetLayerVersion"],
                [
                    Arn(f"arn:{{partition}}:lambda:{region}:{{account}}:layer:{resource_name(layer, env)}:*")
                    for layer in Layer.ALL
                ],
                None,
            ),
            (
                "ReadStacks",
                ["cloudformation:DescribeStacks", "cloudformation:GetTemplate"],
                [
                    Arn(f"arn:{{partition}}:cloudformation:{region}:{{account}}:stack/{stack_name}/*")
                    for stack_name in (resource_name(s, env) for s in StackName.ALL)
                ],
                None,
            ),
            (
                "ReadSnapshottedObjects",
                ["s3:GetObject"],
                [
                    object_arn(Bucket.CONFIG, env, "clients/"),
                    object_arn(Bucket.CONFIG, env, "canonical/"),
                    object_arn(Bucket.DATA, env, "curated/"),
                    object_arn(backups, env, "snapshots/"),
                ],
                None,
            ),
            (
                "ListConfig",
                ["s3:ListBucket"],
                [bucket_arn(Bucket.CONFIG, env)],
                {"StringLike": {"s3:prefix": ["clients/*", "canonical/*"]}},
            ),
            (
                "ListData",
                ["s3:ListBucket"],
                [bucket_arn(Bucket.DATA, env)],
                {"StringLike": {"s3:prefix": ["curated/*"]}},
            ),
            ("ListBackups", ["s3:ListBucket"], [bucket_arn(backups, env)], None),
            ("WriteSnapshots", ["s3:PutObject"], [object_arn(backups, env, "snapshots/")], None),
        ]
        if config.snapshot_keep_newest is not None:
            # Retention deletes old snapshots (the bucket keeps them as noncurrent versions for a while).
            statements.append(
                ("ApplyRetention", ["s3:DeleteObject"], [object_arn(backups, env, "snapshots/")], None)
            )
        attach_statements(
            self.role,
            statements,
            wildcard_reason="Wildcards are confined to names unknown in advance: log streams in this "
            "function's own log group, version numbers of the environment's two layers, stack ids of its "
            "three stacks, and object keys under the prefixes a snapshot copies (clients/, canonical/, "
            "curated/) or writes (snapshots/ in the environment's backups bucket).",
        )


__all__ = ["RESOURCE_TYPE", "PreUpdateSnapshot", "StackName", "bundle_handler"]
