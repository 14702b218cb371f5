"""The pre-update snapshot: a custom resource that runs before anything else of its stack changes.

CloudFormation calls a custom resource only when its properties change, so the resource carries a
*fingerprint* of the rest of its stack: the sha256 of the template as rendered (every other
resource's type, properties - asset hashes included -, policies and dependencies, outputs,
parameters; not the CDK metadata). ``SnapshotFingerprintSynthesizer`` computes it from the
template file it has just written, so any change there changes the fingerprint and makes
CloudFormation call the handler first; an unchanged stack leaves it untouched. No clock, no
randomness: two synths are byte-identical.

Every other resource of the stack depends on it (an aspect adds the dependency to resources
created later, too), except what it needs to exist already: in S0-core, the environment's
``SnapshotFunction`` (its handler, with role and log group; the other stacks call it by name) and
the ``prerequisites`` (the backups bucket it writes to and that bucket's log bucket).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    Aspects,
    CfnOutput,
    CfnResource,
    CustomResource,
    DefaultStackSynthesizer,
    Duration,
    FileAssetSource,
    IAspect,
    ISynthesisSession,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from vectora_constructs.arns import (
    Arn,
    Statement,
    bucket_arn,
    function_arn,
    least_privilege_role,
    log_streams_arn,
    object_arn,
)
from vectora_constructs.log_group import environment_log_group
from vectora_constructs.nag import acknowledge, skip_checkov
from vectora_constructs.paths import ASSET_EXCLUDES, BUILD_DIR, LAMBDAS_DIR, LAYERS_DIR, REPO_ROOT
from vectora_constructs.pipeline_function import FUNCTION_CHECKOV_SKIPS
from vectora_core.environments import EnvConfig
from vectora_core.naming import (
    SNAPSHOT_FUNCTION,
    Bucket,
    EnvVar,
    Function,
    Layer,
    StackComponent,
    log_group_name,
    resource_name,
    role_name,
)

RESOURCE_TYPE = "Custom::PreUpdateSnapshot"
HANDLER_DIR = LAMBDAS_DIR / "pre_update_snapshot"
CORE_PACKAGE = LAYERS_DIR / "vectora_core" / "python" / "vectora_core"
OPS_PACKAGE = REPO_ROOT / "vectora_ops"
# What the handler imports, and nothing more: the names and configs of vectora_core, and of
# vectora_ops the snapshot engine with the modules it uses (errors, audit keys, its AWS
# sessions, the environment, and how a deployed template is read).
BUNDLED = (
    (CORE_PACKAGE, ("__init__.py", "bucket_owner.py", "naming.py", "environments.py")),
    (
        OPS_PACKAGE,
        (
            "__init__.py",
            "errors.py",
            "audit.py",
            "sessions.py",
            "cloudformation.py",
            "environment.py",
            "snapshots",
        ),
    ),
)
# CloudFormation-internal resources that must not wait for the snapshot (or cannot).
UNGUARDED_TYPES = frozenset({"AWS::CDK::Metadata"})
# Written into the template at construction, replaced by the synthesizer once the template exists.
FINGERPRINT_PLACEHOLDER = "vectora:pre-update-snapshot:fingerprint-pending"
_BUNDLE_FORMAT = "2"  # bump when the bundle recipe below changes


def _bundle_sources() -> list[tuple[str, Path]]:
    """(path in the bundle, source file), sorted, caches excluded."""
    files = [("handler.py", HANDLER_DIR / "handler.py")]
    for package, entries in BUNDLED:
        for entry in entries:
            source = package / entry
            candidates = sorted(source.rglob("*.py")) if source.is_dir() else [source]
            files += [
                (f"{package.name}/{path.relative_to(package).as_posix()}", path)
                for path in candidates
                if path.is_file() and "__pycache__" not in path.parts
            ]
    return sorted(files)


@functools.cache
def bundle_handler() -> Path:
    """Handler + the snapshot engine (``vectora_ops.snapshots``) and the part of ``vectora_core`` it
    reads, copied into ``.build/`` under a content key.

    S0-core cannot use S1-runtime's layers (it is deployed first), and the layers do not carry the
    engine anyway, so the handler ships its own copy - the same files, never a second implementation.
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


class FingerprintError(RuntimeError):
    """The fingerprint of a pre-update snapshot could not be filled in."""


def fingerprint(template: dict[str, Any], snapshot_logical_id: str) -> str:
    """sha256 of ``template`` as rendered, but for the snapshot resource itself: the rest of the stack.

    Every other resource counts - also the snapshot function and role where the stack holds them
    and the prerequisites that must exist before it (they change the stack too; hashing them
    creates no dependency) - and so do outputs, parameters, rules and conditions. CDK metadata is
    left out (the ``AWS::CDK::Metadata`` resource and each resource's ``Metadata``), so the value
    does not depend on how synth was called (``--path-metadata``, ``--version-reporting``, in-process tests).
    """
    rest = {k: v for k, v in template.items() if k not in ("Resources", "Metadata")}
    rest["Resources"] = {
        logical_id: {k: v for k, v in resource.items() if k != "Metadata"}
        for logical_id, resource in template.get("Resources", {}).items()
        if logical_id != snapshot_logical_id and resource.get("Type") not in UNGUARDED_TYPES
    }
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SnapshotFingerprintSynthesizer(DefaultStackSynthesizer):
    """The default synthesizer, which also fills in the stack's pre-update snapshot fingerprint.

    Once the stack's template file is written, the snapshot resource's ``Fingerprint`` placeholder
    is replaced by ``fingerprint()`` of that very file, and the template's asset hash is computed
    again from the final bytes. One synthesizer per stack: the default one is shared by cloning it
    for each stack (``reusableBind``), and a clone would not reach this Python override.
    """

    def reusable_bind(self, stack: Stack) -> SnapshotFingerprintSynthesizer:
        self.bind(stack)
        return self

    def _synthesize_template(
        self,
        session: ISynthesisSession,
        lookup_role_arn: str | None = None,
        lookup_role_external_id: str | None = None,
        lookup_role_additional_options: Mapping[str, Any] | None = None,
    ) -> FileAssetSource:
        source = super()._synthesize_template(
            session, lookup_role_arn, lookup_role_external_id, lookup_role_additional_options
        )
        if source.file_name is None:  # the default synthesizer always writes the template to a file
            raise FingerprintError(f"{self._bound_stack.stack_name}: the template was not written to a file")
        path = Path(session.outdir) / source.file_name
        text = path.read_text(encoding="utf-8")
        placeholder = json.dumps(FINGERPRINT_PLACEHOLDER)
        count = text.count(placeholder)
        if count == 0:
            return source  # no pre-update snapshot in this stack
        template = json.loads(text)
        owners = [
            logical_id
            for logical_id, resource in template.get("Resources", {}).items()
            if resource.get("Properties", {}).get("Fingerprint") == FINGERPRINT_PLACEHOLDER
        ]
        if count != 1 or len(owners) != 1:
            raise FingerprintError(f"{path.name}: expected one pre-update snapshot, found {count}")
        text = text.replace(placeholder, json.dumps(fingerprint(template, owners[0])))
        path.write_text(text, encoding="utf-8")
        return FileAssetSource(
            file_name=source.file_name,
            packaging=source.packaging,
            source_hash=hashlib.sha256(text.encode()).hexdigest(),
        )


@jsii.implements(IAspect)
class _RunsFirst:
    """Makes every guarded resource of the stack depend on the snapshot resource.

    Aspects run at synth, once every construct exists, so resources added to the stack after the
    snapshot construct are guarded too. It is added to a leaf (the custom resource's
    CfnResource), not to the stack: CDK calls an aspect once per construct of its scope (a jsii
    callback each), and one visit is all the wiring needs.
    """

    def __init__(self, guard: PreUpdateSnapshot) -> None:
        self._guard = guard

    def visit(self, node: IConstruct) -> None:  # noqa: ARG002  # the one construct it is added to
        self._guard.wire()


class SnapshotFunction(Construct):
    """``vectora-inbox-pre-update-snapshot-{env}``: the handler of every pre-update snapshot of the
    environment, with its log group and least-privilege role. One per environment, in S0-core.

    A snapshot covers the whole environment whichever stack is about to change, so one function
    serves the three stacks' snapshot resources; the other stacks call it by name (they are
    deployed after S0-core). Public: ``function``, ``role``, ``function_name``.
    """

    def __init__(self, scope: Construct, id_: str, *, config: EnvConfig, runtime: lambda_.Runtime) -> None:
        super().__init__(scope, id_)
        env, region = config.name, Stack.of(self).region
        self.function_name = resource_name(SNAPSHOT_FUNCTION, env)
        self.log_group_name = log_group_name(SNAPSHOT_FUNCTION, env)
        log_group = environment_log_group(self, "LogGroup", name=self.log_group_name, config=config)
        self.role = least_privilege_role(
            self,
            "Role",
            role_name=role_name(SNAPSHOT_FUNCTION, env),
            description=f"Pre-update snapshots of {env}: reads the environment, writes backups",
            statements=self._statements(config, region),
            wildcard_reason="Wildcards are confined to names unknown in advance: log streams in this "
            "function's own log group, version numbers of the environment's two layers, stack ids of its "
            "three stacks, and object keys under the prefixes a snapshot copies (clients/, canonical/, "
            "curated/) or writes (snapshots/ in the environment's backups bucket).",
        )
        self.function = lambda_.Function(
            self,
            "Handler",
            function_name=self.function_name,
            runtime=runtime,
            architecture=lambda_.Architecture.X86_64,
            handler="handler.handler",
            # Caches are excluded as everywhere: the bundle folder is also importable by tools.
            code=lambda_.Code.from_asset(str(bundle_handler()), exclude=ASSET_EXCLUDES),
            role=self.role,
            memory_size=1024,  # more memory, more network: code zips are copied into the backups bucket
            timeout=Duration.minutes(15),  # the handler answers CloudFormation before this hits
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={EnvVar.ENV: env, EnvVar.LOG_LEVEL: config.log_level},
            description=f"Snapshot of {env} before each update of one of its stacks",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13, like the pipeline functions: the newest runtime the Docker-free local AWS can run "
            "with a matching interpreter; Lambda supports it until 2029.",
        )
        for check, reason in FUNCTION_CHECKOV_SKIPS.items():
            skip_checkov(self.function, check, reason)
        skip_checkov(
            self.function,
            "CKV_AWS_116",
            "CloudFormation invokes it asynchronously, and the handler answers CloudFormation itself "
            "(success, error, imminent timeout); an event that never arrives fails the stack operation, "
            "which a dead-letter queue would not make more visible.",
        )
        skip_checkov(
            self.function,
            "CKV_AWS_117",
            "It calls only AWS APIs (Lambda, CloudFormation, S3): no private resource to reach, and a VPC "
            "would need a NAT gateway or one endpoint per service.",
        )

    def _statements(self, config: EnvConfig, region: str) -> list[Statement]:
        env = config.name
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
                # A capture reads a function with GetFunction only (configuration and code location).
                ["lambda:GetFunction"],
                [function_arn(region, resource_name(f, env)) for f in Function],
                None,
            ),
            (
                "ReadLayerVersions",
                ["lambda:GetLayerVersion"],
                [
                    Arn(f"arn:{{partition}}:lambda:{region}:{{account}}:layer:{resource_name(layer, env)}:*")
                    for layer in Layer
                ],
                None,
            ),
            (
                "ReadStacks",
                ["cloudformation:DescribeStacks", "cloudformation:GetTemplate"],
                [
                    Arn(f"arn:{{partition}}:cloudformation:{region}:{{account}}:stack/{stack_name}/*")
                    for stack_name in (resource_name(s, env) for s in StackComponent)
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
            # Tagging: the sleep tag a bulk copy carries when written (layout.SLEEP_TAGGING), which
            # S3 authorizes as s3:PutObjectTagging too.
            (
                "WriteSnapshots",
                ["s3:PutObject", "s3:PutObjectTagging"],
                [object_arn(backups, env, "snapshots/")],
                None,
            ),
        ]
        if config.snapshot_keep_newest is not None:
            # Retention deletes old snapshots (the bucket keeps them as noncurrent versions for a while).
            statements.append(
                ("ApplyRetention", ["s3:DeleteObject"], [object_arn(backups, env, "snapshots/")], None)
            )
        return statements


class PreUpdateSnapshot(Construct):
    """The custom resource that snapshots the environment before anything else of its stack changes.

    ``function``: the environment's ``SnapshotFunction`` when it is in this stack (S0-core);
    otherwise (``None``) the resource calls it by name, and the stack must be deployed after the one
    that holds it. Public: ``resource`` (the custom resource), ``snapshot_id`` (attribute).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        function: SnapshotFunction | None = None,
        prerequisites: Sequence[IConstruct] = (),
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        if not isinstance(stack.synthesizer, SnapshotFingerprintSynthesizer):
            raise TypeError(
                f"{stack.stack_name}: a PreUpdateSnapshot needs its stack created with "
                "synthesizer=SnapshotFingerprintSynthesizer() (it fills in the fingerprint)"
            )
        env = config.name
        self._stack = stack
        self._wired = False  # set once the aspect has made the guarded resources depend on it
        # What must exist before the snapshot runs is not guarded: its own subtree, the prerequisites
        # and, when this stack holds it, the snapshot function.
        excluded = [self.node.path, *(p.node.path for p in prerequisites)]
        if function is None:
            service_token = function_arn(stack.region, resource_name(SNAPSHOT_FUNCTION, env)).value
        else:
            if Stack.of(function).node.path != stack.node.path:
                raise ValueError(
                    f"{stack.stack_name}: the snapshot function of another stack is called by name: "
                    "pass function=None"
                )
            service_token = function.function.function_arn
            excluded.append(function.node.path)
        self._excluded_paths = tuple(excluded)
        # CloudFormation cannot change a custom resource's ServiceToken in place: a new handler needs
        # a new construct id, hence a new logical ID and a replacement (Create takes a baseline
        # snapshot, the old resource's Delete does nothing). "Snapshot" replaced "Resource" when the
        # per-stack functions became one function per environment.
        self.resource = CustomResource(
            self,
            "Snapshot",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            properties={
                "Env": env,
                "StackName": stack.stack_name,
                "FailurePolicy": "fail" if config.snapshot_failure_fails_update else "warn",
                "Fingerprint": FINGERPRINT_PLACEHOLDER,  # see SnapshotFingerprintSynthesizer
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
        Aspects.of(self.resource.node.default_child or self.resource).add(_RunsFirst(self))

    # -- what it guards ------------------------------------------------------------------------
    def wire(self) -> None:
        """Make everything else of the stack depend on the snapshot resource (once, from the aspect
        at synth, when every construct exists).

        Dependencies are added per construct, as high in the tree as possible: CDK turns them into a
        ``DependsOn`` of every resource below onto the custom resource (one jsii call per subtree,
        not per resource). The snapshot's own subtree and the prerequisites are left out, by
        construct path (jsii may hand back a new Python proxy for the same construct, so identity
        cannot tell them apart).
        """
        if self._wired:
            return
        self._wired = True
        excluded = self._excluded_paths

        def visit(scope: IConstruct) -> None:
            for child in scope.node.children:
                node = child.node  # each attribute read is a round trip to the CDK process
                path = node.path
                if path in excluded:
                    continue
                if any(p.startswith(f"{path}/") for p in excluded):
                    visit(child)  # holds a prerequisite: guard its other parts one by one
                elif not (isinstance(child, CfnResource) and child.cfn_resource_type in UNGUARDED_TYPES):
                    node.add_dependency(self.resource)

        visit(self._stack)


__all__ = [
    "RESOURCE_TYPE",
    "PreUpdateSnapshot",
    "SnapshotFingerprintSynthesizer",
    "SnapshotFunction",
    "bundle_handler",
    "fingerprint",
]
