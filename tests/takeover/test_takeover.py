"""The takeover of issue 27 on the rehearsal account, chained on one account per module: the
plan (read-only, exit 1 on its blockers), the refused execute, then - bootstrapped, the adopted
buckets in the context - the execute, the pipeline on the new stacks, every old object version
still readable, and the plan again with nothing left to do.

Templates as ``--assembly``: the session's synth (no ``adopted_buckets``: the plan's blocker), and
one dev synth with dev's ``adopted_buckets``, as cdk.json would hold it after the takeover."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_aws import cdk
from local_aws.deploy import app_context
from local_aws.server import LocalAws
from tests.support.assembly import CloudAssembly, load_assembly
from tests.support.cdk_cli import run_cdk
from tests.takeover.legacy_account import (
    CODE_BUCKET,
    ENV,
    LegacyAccount,
    account_state,
    name,
    stack_name,
)
from vectora_core.naming import SNAPSHOT_FUNCTION, Bucket, StackComponent, resource_name
from vectora_ops.errors import OperationError, UsageError
from vectora_ops.takeover import execute
from vectora_ops.takeover.cli import main
from vectora_ops.takeover.execute import STATE_KEY

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
APPROVER = "Rehearsal Tester"
ADOPTED = ["backups", "config", "data", "lambda-code", "newsletters"]


@pytest.fixture(scope="module")
def adopted_assembly() -> CloudAssembly:
    """dev's templates with the takeover's buckets retained (``-c adopted_buckets``)."""
    out = Path(tempfile.mkdtemp(prefix="vectora-takeover-synth-"))
    context = json.dumps({ENV: ADOPTED})
    run_cdk(
        ["synth", "-c", f"env={ENV}", "-c", f"adopted_buckets={context}", "--quiet", "--output", str(out)]
    )
    return load_assembly(out)


@pytest.fixture
def on_account(
    legacy_dev: tuple[LocalAws, LegacyAccount], monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalAws]:
    """The process's AWS variables pointed at the rehearsal account (the script reads them)."""
    aws, _ = legacy_dev
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in aws.client_env().items():
        monkeypatch.setenv(key, value)
    yield aws


def takeover(assembly: CloudAssembly, *args: str) -> int:
    return main(["--env", ENV, "--assembly", str(assembly.directory), *args], root=ROOT)


def test_a_bad_command_line_changes_nothing(on_account: LocalAws, assembly: CloudAssembly) -> None:
    with pytest.raises(UsageError, match="--approve"):
        takeover(assembly, "--execute")
    with pytest.raises(UsageError, match="--dry-run goes with"):
        takeover(assembly, "--dry-run")
    completed = subprocess.run(  # noqa: S603  # the script itself: exit 2, one line
        [sys.executable, str(ROOT / "scripts/deploy/takeover.py"), "--env", "qa"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "dev, stage, prod" in completed.stderr


def test_the_plan_names_its_blocker_and_changes_nothing(
    on_account: LocalAws, assembly: CloudAssembly, capsys: pytest.CaptureFixture[str]
) -> None:
    before = account_state(on_account)
    assert takeover(assembly) == 1
    out = capsys.readouterr().out
    assert "blocker (2)" in out and "not bootstrapped" in out
    # dev's template would leave the team's buckets under Delete: the fix names the context
    assert f'"adopted_buckets": {json.dumps({ENV: ADOPTED})}' in out
    assert f"{CODE_BUCKET}: imported into {stack_name('s0-core')} as LambdaCodeBucket" in out
    # the functions whose names the new stacks take are replaced; ingest-v2's drift is named
    assert f"function   {name('normalize-score-v2')}: outside any stack" in out
    assert "2 layers attached outside CloudFormation" in out
    # the old roles stay until their functions are retired; configs have their migrated form
    assert "IngestNormalizeRole of vectora-inbox-s0-iam-dev, used by" in out
    assert "migrated as clients/lai_weekly.yaml" in out
    assert "cut-over window: " in out and name("engine") in out
    # refused while the blocker remains, before anything changes
    with pytest.raises(OperationError, match="--execute refused: 2 blocker"):
        takeover(assembly, "--execute", "--approve", APPROVER)
    assert account_state(on_account) == before


def _failing_cdk(*_args: object, **_kwargs: object) -> str:
    raise OperationError("cdk deploy interrupted (rehearsed)")


@pytest.mark.e2e
def test_execute_takes_over_and_the_pipeline_runs(
    on_account: LocalAws,
    adopted_assembly: CloudAssembly,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assembly = adopted_assembly
    cdk.bootstrap(
        on_account,
        output_dir=Path(tempfile.mkdtemp(prefix="vectora-takeover-cdk-")),
        context=app_context(ENV),
    )
    before = account_state(on_account)
    capsys.readouterr()
    # the deploy fails once (as an interrupted CLI would): the failure says what is done and not
    with monkeypatch.context() as patched:
        patched.setattr(execute, "run_cdk", _failing_cdk)
        with pytest.raises(execute.TakeoverFailed) as failed:
            takeover(assembly, "--execute", "--approve", APPROVER)
    assert "stopped at deploy" in str(failed.value)
    assert "done: backups, archive, import, cut-over; not done: deploy, configs" in str(failed.value)
    # run again: it resumes at the deploy, with the same archive
    capsys.readouterr()
    assert takeover(assembly, "--execute", "--approve", APPROVER) == 0
    out = capsys.readouterr().out
    assert "resuming pre_takeover_" in out and "==> archive" not in out
    assert "==> deploy" in out and "takeover of dev done" in out

    # the new stacks, complete; the adopted buckets under Retain
    cfn = on_account.client("cloudformation")
    for component in StackComponent:
        status = cfn.describe_stacks(StackName=resource_name(component, ENV))["Stacks"][0]["StackStatus"]
        assert status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (component, status)
    body = cfn.get_template(StackName=resource_name(StackComponent.CORE, ENV))["TemplateBody"]
    core = json.loads(body) if isinstance(body, str) else body  # boto3 parses a JSON body itself
    policies = {
        lid: r.get("DeletionPolicy") for lid, r in core["Resources"].items() if r["Type"] == "AWS::S3::Bucket"
    }
    assert {lid: p for lid, p in policies.items() if lid != "AccessLogsBucket"} == dict.fromkeys(
        ("ConfigBucket", "DataBucket", "NewslettersBucket", "LambdaCodeBucket", "BackupsBucket"),
        "RetainExceptOnCreate",
    )
    assert not any(s.startswith(stack_name("s1-ingest-v2")) for s in account_state(on_account)["stacks"])

    # every object version that existed is readable: in place, or in the archive
    s3 = on_account.client("s3")
    backups = resource_name(Bucket.BACKUPS, ENV)
    state = json.loads(s3.get_object(Bucket=backups, Key=STATE_KEY)["Body"].read())
    prefix = f"takeover/{state['archive']}/"
    manifest = json.loads(s3.get_object(Bucket=backups, Key=f"{prefix}manifest.json")["Body"].read())
    archived = {(o["bucket"], o["key"], o["version_id"]): o["archive"] for o in manifest["objects"]}
    for bucket, info in before["buckets"].items():
        if bucket.startswith("cdk-"):
            continue
        for key, version, etag, _ in info["versions"]:
            in_place = s3.get_object(Bucket=bucket, Key=key, VersionId=version)
            assert in_place["ETag"] == etag
            copy = s3.get_object(Bucket=backups, Key=archived[(bucket, key, version)])
            assert copy["ETag"] == etag
    # the old layout's keys moved, never deleted
    config = resource_name(Bucket.CONFIG, ENV)
    moved = s3.list_objects_v2(Bucket=config, Prefix="archive/old-layout/")["KeyCount"]
    assert moved == 6
    assert set(manifest["functions"]) == set(before["functions"])

    # the pipeline writes a newsletter on the new stacks
    completed = subprocess.run(  # noqa: S603  # the project's script
        [
            sys.executable,
            str(ROOT / "scripts/invoke/run_pipeline.py"),
            "--env",
            ENV,
            "--client-id",
            "lai_weekly",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "newsletter (markdown): s3://" in completed.stdout

    # the plan again: nothing left to do
    capsys.readouterr()
    assert takeover(assembly) == 0
    assert "nothing left to do" in capsys.readouterr().out


@pytest.mark.e2e
def test_undo_puts_the_old_environment_back(
    legacy_dev: tuple[LocalAws, LegacyAccount],
    on_account: LocalAws,
    adopted_assembly: CloudAssembly,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After the execute above: the team's stacks, functions and configs are back as archived."""
    _, legacy = legacy_dev
    s3 = on_account.client("s3")
    backups = resource_name(Bucket.BACKUPS, ENV)
    state = json.loads(s3.get_object(Bucket=backups, Key=STATE_KEY)["Body"].read())
    prefix = f"takeover/{state['archive']}/"
    manifest = json.loads(s3.get_object(Bucket=backups, Key=f"{prefix}manifest.json")["Body"].read())
    capsys.readouterr()
    assert main(["--env", ENV, "--undo", "--approve", APPROVER], root=ROOT) == 0
    assert f"{ENV} is back as archived" in capsys.readouterr().out
    after = account_state(on_account)

    # the team's four stacks, with their own templates again
    for stack in legacy.stacks:
        assert after["stacks"][stack]["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack
        archived = s3.get_object(Bucket=backups, Key=manifest["stacks"][stack]["template"])["Body"].read()
        assert after["stacks"][stack]["template"] == archived.decode(), stack
    assert not any(lid == "CDKMetadata" for s in after["stacks"].values() for lid, _ in s["resources"])
    # the five functions: their code, and ingest-v2's hand-attached layers
    for function in legacy.functions:
        archived = json.loads(
            s3.get_object(Bucket=backups, Key=manifest["functions"][function]["configuration"])["Body"].read()
        )
        assert after["functions"][function]["CodeSha256"] == archived["CodeSha256"], function
    assert len(after["functions"][name("ingest-v2")]["Layers"]) == 2
    assert resource_name(SNAPSHOT_FUNCTION, ENV) not in after["functions"]
    # the config bucket's current keys are the team's, as they were
    config = resource_name(Bucket.CONFIG, ENV)
    was = {(o["key"], o["etag"]) for o in manifest["objects"] if o["bucket"] == config and o["latest"]}
    now = {(k, etag) for k, _, etag, latest in after["buckets"][config]["versions"] if latest}
    assert now == was
    # the buckets stay (retained), the archive with them; the plan is the takeover's again
    assert {CODE_BUCKET, backups} <= set(after["buckets"])
    assert takeover(adopted_assembly) == 0
    assert "ready: " in capsys.readouterr().out
