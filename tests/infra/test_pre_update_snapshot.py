"""The pre-update snapshot resource, asserted on the synthesized templates (issue: snapshot before
every stack update): one per stack, first in its stack, a fingerprint that follows the stack."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_s3 as s3

from local_aws.lambda_runtime.runner import runtime_sdk_dir
from stacks.base import LAMBDA_RUNTIME
from tests.infra.conftest import ALL_STACKS, CloudAssembly
from vectora_constructs.pre_update_snapshot import (
    FINGERPRINT_PLACEHOLDER,
    RESOURCE_TYPE,
    PreUpdateSnapshot,
    SnapshotFingerprintSynthesizer,
    SnapshotFunction,
    bundle_handler,
    fingerprint,
)
from vectora_core.environments import get_env_config
from vectora_core.naming import ENV_NAMES, SNAPSHOT_FUNCTION, Bucket, StackComponent, resource_name, role_name


def _template(assembly: CloudAssembly, component: str, env: str) -> dict:
    return assembly.templates[resource_name(component, env)]


def _snapshot_resource(template: dict) -> tuple[str, dict]:
    found = [(k, v) for k, v in template["Resources"].items() if v["Type"] == RESOURCE_TYPE]
    assert len(found) == 1, f"expected one {RESOURCE_TYPE}, found {len(found)}"
    return found[0]


def _references(value: object) -> set[str]:
    """Logical IDs a resource refers to through Ref / Fn::GetAtt."""
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text)) | set(
        re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text)
    )


def _depends_on(resource: dict) -> set[str]:
    declared = resource.get("DependsOn", [])
    return {declared} if isinstance(declared, str) else set(declared)


def _upstream(template: dict, logical_id: str) -> set[str]:
    """Every resource ``logical_id`` waits for, directly or transitively."""
    resources = template["Resources"]
    seen: set[str] = set()
    todo = [logical_id]
    while todo:
        current = resources[todo.pop()]
        for dep in (_depends_on(current) | _references(current.get("Properties", {}))) & set(resources):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


@pytest.mark.parametrize(("component", "env"), ALL_STACKS)
def test_every_other_resource_waits_for_the_snapshot(
    assembly: CloudAssembly, component: str, env: str
) -> None:
    template = _template(assembly, component, env)
    snapshot_id, snapshot = _snapshot_resource(template)
    # what the snapshot itself needs (its function, role, policy, log group and, in S0-core, the
    # backups bucket it writes to) must exist before it, so they cannot wait for it
    prerequisites = _upstream(template, snapshot_id)
    if component == StackComponent.CORE:
        assert {"BackupsBucket", "AccessLogsBucket"} <= prerequisites
    assert {"ConfigBucket", "DataBucket"}.isdisjoint(prerequisites)
    for logical_id, resource in template["Resources"].items():
        if (
            logical_id == snapshot_id
            or logical_id in prerequisites
            or resource["Type"] == "AWS::CDK::Metadata"
        ):
            continue
        assert snapshot_id in _upstream(template, logical_id), f"{logical_id} does not wait for the snapshot"
    # and the prerequisites are only the snapshot's own machinery plus the backups bucket's chain:
    # the environment's snapshot function in S0-core, no function at all elsewhere
    functions = [
        template["Resources"][k]["Properties"]["FunctionName"]
        for k in prerequisites
        if template["Resources"][k]["Type"] == "AWS::Lambda::Function"
    ]
    assert functions == ([resource_name(SNAPSHOT_FUNCTION, env)] if component == StackComponent.CORE else [])


@pytest.mark.parametrize(("component", "env"), ALL_STACKS)
def test_properties_outputs_and_failure_policy(assembly: CloudAssembly, component: str, env: str) -> None:
    template = _template(assembly, component, env)
    snapshot_id, snapshot = _snapshot_resource(template)
    props = snapshot["Properties"]
    assert props["Env"] == env
    assert props["StackName"] == resource_name(component, env)
    assert props["FailurePolicy"] == ("fail" if get_env_config(env).snapshot_failure_fails_update else "warn")
    assert props["FailurePolicy"] == ("warn" if env == "dev" else "fail")
    assert re.fullmatch(r"[0-9a-f]{64}", props["Fingerprint"])
    # the handler answers CloudFormation itself: the service token is the environment's snapshot
    # function (no provider) - by reference in S0-core, which holds it, by name elsewhere
    token = props["ServiceToken"]
    if component == StackComponent.CORE:
        function_id, attribute = token["Fn::GetAtt"]
        assert attribute == "Arn"
        function = template["Resources"][function_id]["Properties"]
        assert function["FunctionName"] == resource_name(SNAPSHOT_FUNCTION, env)
    else:
        assert token == {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":lambda:eu-west-3:", {"Ref": "AWS::AccountId"},
                 f":function:{resource_name(SNAPSHOT_FUNCTION, env)}"],
            ]
        }  # fmt: skip
    outputs = [
        o for o in template["Outputs"].values() if o["Value"] == {"Fn::GetAtt": [snapshot_id, "SnapshotId"]}
    ]
    assert len(outputs) == 1


def test_fingerprints_differ_between_stacks_and_environments(assembly: CloudAssembly) -> None:
    fingerprints = [
        _snapshot_resource(_template(assembly, c, e))[1]["Properties"]["Fingerprint"] for c, e in ALL_STACKS
    ]
    assert len(set(fingerprints)) == len(fingerprints)


def test_an_env_variable_changes_the_runtime_fingerprint_only(
    assembly: CloudAssembly, dev_with_extra_env: CloudAssembly
) -> None:
    # given the same commit synthesized with and without one more Lambda env variable in dev
    def fingerprint(a: CloudAssembly, component: str) -> str:
        return _snapshot_resource(_template(a, component, "dev"))[1]["Properties"]["Fingerprint"]

    # then only S1-runtime's snapshot sees a change; S0-core and S0-iam are not called on deploy
    assert fingerprint(assembly, StackComponent.RUNTIME) != fingerprint(
        dev_with_extra_env, StackComponent.RUNTIME
    )
    for component in (StackComponent.CORE, StackComponent.IAM):
        assert fingerprint(assembly, component) == fingerprint(dev_with_extra_env, component)
        assert _template(assembly, component, "dev") == _template(dev_with_extra_env, component, "dev")


@pytest.mark.parametrize("env", ENV_NAMES)
def test_one_snapshot_function_per_environment_in_s0_core(assembly: CloudAssembly, env: str) -> None:
    def snapshot_resources(component: str) -> list[dict]:
        return [
            v
            for v in _template(assembly, component, env)["Resources"].values()
            if v["Properties"].get("FunctionName") == resource_name(SNAPSHOT_FUNCTION, env)
            or v["Properties"].get("RoleName") == role_name(SNAPSHOT_FUNCTION, env)
            or v["Properties"].get("LogGroupName") == f"/aws/lambda/{resource_name(SNAPSHOT_FUNCTION, env)}"
        ]

    assert sorted(r["Type"] for r in snapshot_resources(StackComponent.CORE)) == [
        "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Logs::LogGroup",
    ]  # fmt: skip
    for component in (StackComponent.IAM, StackComponent.RUNTIME):
        assert snapshot_resources(component) == []


@pytest.mark.parametrize("env", ENV_NAMES)
def test_snapshot_role_is_least_privilege(assembly: CloudAssembly, env: str) -> None:
    for component in StackComponent:
        template = _template(assembly, component, env)
        roles = [
            v
            for v in template["Resources"].values()
            if v["Type"] == "AWS::IAM::Role"
            and v["Properties"]["RoleName"] == role_name(SNAPSHOT_FUNCTION, env)
        ]
        assert len(roles) == (1 if component == StackComponent.CORE else 0)
        # every permission is inline: a separate AWS::IAM::Policy would escape these checks
        assert not [v for v in template["Resources"].values() if v["Type"] == "AWS::IAM::Policy"]
        if not roles:
            continue
        statements = [
            s for policy in roles[0]["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]
        ]
        actions = {
            a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert all("*" not in a for a in actions)
        assert all(s["Resource"] != "*" for s in statements)
        # writes go to the environment's backups bucket only
        writes = [
            s
            for s in statements
            if {"s3:PutObject", "s3:DeleteObject"}
            & set(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        ]
        assert writes and all(resource_name(Bucket.BACKUPS, env) in json.dumps(s["Resource"]) for s in writes)
        for s in writes:
            assert resource_name(Bucket.CONFIG, env) not in json.dumps(s["Resource"])
        # prod never deletes a snapshot
        assert ("s3:DeleteObject" in actions) is (get_env_config(env).snapshot_keep_newest is not None)
        # other environments are out of reach
        text = json.dumps(statements)
        for other in ENV_NAMES:
            if other != env:
                assert f"-{other}/" not in text and f'-{other}"' not in text and f"-{other}:" not in text


# --- the fingerprint itself, on a small in-process stack -----------------------------------------


def _guarded_stack(app: App) -> Stack:
    stack = Stack(
        app,
        "vectora-inbox-s0-core-dev",
        env=Environment(region="eu-west-3"),
        synthesizer=SnapshotFingerprintSynthesizer(),
    )
    config = get_env_config("dev")
    function = SnapshotFunction(stack, "Function", config=config, runtime=LAMBDA_RUNTIME)
    PreUpdateSnapshot(stack, "Guard", config=config, function=function)
    return stack


def _fingerprint_of(build) -> str:  # noqa: ANN001  # a callable adding resources to a stack
    app = App()
    stack = _guarded_stack(app)
    build(stack)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    snapshot_id, snapshot = _snapshot_resource(template)
    assert snapshot["Properties"]["Fingerprint"] == fingerprint(template, snapshot_id)
    return snapshot["Properties"]["Fingerprint"]


def test_fingerprint_follows_resources_added_after_it_and_their_properties() -> None:
    def bucket(versioned: bool):  # noqa: ANN202
        return lambda stack: s3.Bucket(stack, "B", versioned=versioned)

    empty = _fingerprint_of(lambda stack: None)
    unversioned = _fingerprint_of(bucket(False))
    assert _fingerprint_of(bucket(False)) == unversioned  # deterministic
    assert len({empty, unversioned, _fingerprint_of(bucket(True))}) == 3


def test_resources_added_after_it_wait_for_it() -> None:
    # given a stack whose bucket is created after the snapshot construct
    app = App()
    stack = _guarded_stack(app)
    s3.Bucket(stack, "Late")
    # when synthesized, then the late bucket depends on the snapshot resource
    template = app.synth().get_stack_by_name(stack.stack_name).template
    snapshot_id, _ = _snapshot_resource(template)
    (late,) = [r for k, r in template["Resources"].items() if k.startswith("Late")]
    assert snapshot_id in _depends_on(late)


def test_fingerprint_covers_the_rest_of_the_stack_but_not_cdk_metadata() -> None:
    template = {
        "Resources": {
            "Snap": {"Type": RESOURCE_TYPE, "Properties": {"Fingerprint": FINGERPRINT_PLACEHOLDER}},
            "Own": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024}},
            "Guarded": {"Type": "AWS::S3::Bucket", "Properties": {"A": 1}, "DependsOn": "Snap"},
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:1"}},
        },
        "Outputs": {"Id": {"Value": {"Fn::GetAtt": ["Snap", "SnapshotId"]}}},
    }
    base = fingerprint(template, "Snap")

    def changed(edit) -> str:  # noqa: ANN001  # edits a copy of the template
        copy = json.loads(json.dumps(template))
        edit(copy)
        return fingerprint(copy, "Snap")

    # CDK metadata (how synth was called, the library's analytics) and the snapshot itself do not count
    assert changed(lambda t: t["Resources"]["Guarded"].update(Metadata={"aws:cdk:path": "x/y"})) == base
    assert changed(lambda t: t["Resources"]["CDKMetadata"]["Properties"].update(Analytics="v2:2")) == base
    assert changed(lambda t: t["Resources"]["Snap"]["Properties"].update(FailurePolicy="warn")) == base
    # everything else of the stack does: what waits for it, its own function, outputs
    assert changed(lambda t: t["Resources"]["Guarded"].update(DeletionPolicy="Retain")) != base
    assert changed(lambda t: t["Resources"]["Own"]["Properties"].update(MemorySize=2048)) != base
    assert changed(lambda t: t["Outputs"].update(Other={"Value": "x"})) != base


def test_the_template_asset_is_the_file_with_the_fingerprint(assembly: CloudAssembly) -> None:
    # the CLI uploads the template by its asset hash: it must be the hash of the final file
    for name, template in assembly.templates.items():
        text = (assembly.directory / f"{name}.template.json").read_text()
        assert FINGERPRINT_PLACEHOLDER not in text
        assets = json.loads((assembly.directory / f"{name}.assets.json").read_text())["files"]
        (template_hash,) = [h for h, a in assets.items() if a["source"]["path"] == f"{name}.template.json"]
        assert template_hash == hashlib.sha256(text.encode()).hexdigest()
        snapshot_id, snapshot = _snapshot_resource(template)
        assert snapshot["Properties"]["Fingerprint"] == fingerprint(template, snapshot_id)


def test_a_stack_without_the_fingerprint_synthesizer_is_refused() -> None:
    # the placeholder would otherwise ship, and the snapshot would never run again
    stack = Stack(App(), "plain", env=Environment(region="eu-west-3"))
    with pytest.raises(TypeError, match="SnapshotFingerprintSynthesizer"):
        PreUpdateSnapshot(stack, "Guard", config=get_env_config("dev"))


def test_the_snapshot_function_of_another_stack_is_refused() -> None:
    # a reference across stacks would become a CloudFormation export, which the project never uses
    app = App()
    holder, other = (
        Stack(app, name, env=Environment(region="eu-west-3"), synthesizer=SnapshotFingerprintSynthesizer())
        for name in ("holder", "other")
    )
    function = SnapshotFunction(holder, "Function", config=get_env_config("dev"), runtime=LAMBDA_RUNTIME)
    with pytest.raises(ValueError, match="called by name"):
        PreUpdateSnapshot(other, "Guard", config=get_env_config("dev"), function=function)


# --- the handler's bundle -----------------------------------------------------------------------

_IMPORT_FROM_BUNDLE = """
import json, sys
sys.path[:0] = sys.argv[1:3]
import handler
engine = handler.Services().engine("dev")  # what a Create or an Update runs, short of AWS calls
bundle = sys.argv[1]
loaded = sorted(
    name for name, module in sys.modules.items()
    if (getattr(module, "__file__", None) or "").startswith(bundle)
)
outside = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] in ("vectora_core", "vectora_ops")
    and not (getattr(module, "__file__", None) or "").startswith(bundle)
)
print(json.dumps({"engine": type(engine).__name__, "loaded": loaded, "outside": outside}))
"""


def _module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def test_the_bundle_holds_what_the_handler_imports_and_nothing_else(tmp_path: Path) -> None:
    # given the handler's asset folder
    bundle = bundle_handler()
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert all(f.endswith(".py") for f in files), files
    assert [f for f in files if not f.startswith("vectora_ops/snapshots/")] == [
        "handler.py",
        "vectora_core/__init__.py",
        "vectora_core/bucket_owner.py",
        "vectora_core/environments.py",
        "vectora_core/naming.py",
        "vectora_ops/__init__.py",
        "vectora_ops/audit.py",
        "vectora_ops/cloudformation.py",
        "vectora_ops/environment.py",
        "vectora_ops/errors.py",
        "vectora_ops/sessions.py",
    ]
    # when the handler builds its engine in an interpreter that sees the bundle and the Lambda
    # runtime's SDK only (-I: no environment, no user site; -S: no site-packages)
    sdk = runtime_sdk_dir(tmp_path)
    result = subprocess.run(
        # -B: the bundle is a shared build folder and an asset; this import must not write into it
        [sys.executable, "-I", "-S", "-B", "-c", _IMPORT_FROM_BUNDLE, str(bundle), str(sdk)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"AWS_REGION": "eu-west-3", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    # then it imports, from the bundle alone, every bundled module and no other of the project
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"] == "SnapshotEngine"
    assert report["outside"] == []
    assert report["loaded"] == sorted(_module_name(f) for f in files)
