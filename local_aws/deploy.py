"""``python -m local_aws deploy --env dev`` (what ``make local`` runs).

Start the local AWS (or re-use the running one), bootstrap it, deploy every stack of the
environment with the real CDK CLI, publish ``clients/`` and ``canonical/`` to the config bucket,
run the pipeline demo (which invokes each pipeline function through the Lambda API for the real
``lai_weekly``, its sources answered by the local internet) or, in a project without one, invoke
each pipeline function once, and print what was
deployed and where the results are. stage gets a ``pre_publish`` snapshot before the publish (it
refuses one without a snapshot newer than the deploy) and no demo (it runs dev only); prod gets
neither publish nor demo (configs reach it by promotion only): both end with status 0.
The last line is ``AWS_ENDPOINT_URL=...``: the one setting every script of the project needs to
work against this local AWS.

A second run updates the stacks in place (CloudFormation change sets, as on AWS).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from botocore.config import Config

from local_aws import cdk, settings
from local_aws.server import LocalAws
from vectora_core.environments import get_env_config
from vectora_core.naming import (
    PROJECT_NAME,
    Bucket,
    Function,
    Layer,
    StackComponent,
    UnknownEnvironmentError,
    check_env,
    resource_name,
)

# stage and prod refuse to synthesize without alarm subscribers; locally SNS delivers nowhere.
LOCAL_ALARM_EMAILS = "alarms@example.com"
BOOTSTRAP_STACK = "CDKToolkit"
PUBLISH_SCRIPT = settings.REPO_ROOT / "scripts" / "config" / "publish_config.py"
DEMO_SCRIPT = settings.REPO_ROOT / "scripts" / "invoke" / "local_demo.py"
SNAPSHOT_SCRIPT = settings.REPO_ROOT / "scripts" / "maintenance" / "create_snapshot.py"
# The state the demo has just validated, snapshotted: the environment's newest change (the publish)
# is then covered by a snapshot to roll back to, as the checklist (make checklist) asks.
VALIDATED_SNAPSHOT_NAME = "local_validated"
# stage refuses a publish without a snapshot newer than its last change (the deploy just made).
PRE_PUBLISH_SNAPSHOT_NAME = "pre_publish"
DEMO_ENV = "dev"  # local_demo.py refuses the other environments
SCRIPT_TIMEOUT_S = 300.0
INVOKE_READ_TIMEOUT_S = 960  # the longest function timeout of any environment (900 s), plus margin
DONE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


class DeployError(RuntimeError):
    """A step of ``deploy`` failed; the message names the step."""


def app_context(env: str) -> list[str]:
    """``-c`` arguments of every CDK command on ``env`` (bootstrap too: it synthesizes the app):
    the environment, plus alarm subscribers where it has alarms."""
    context = ["-c", f"env={env}"]
    if get_env_config(env).alarms_enabled:
        context += ["-c", f"alarm_emails={LOCAL_ALARM_EMAILS}"]
    return context


def deploy_args(env: str) -> list[str]:
    """``cdk deploy`` arguments for every stack of ``env``: the same command as on AWS (the local
    AWS answers Bedrock too)."""
    return ["deploy", *app_context(env), "--all", "--require-approval", "never"]


def _step(out: TextIO, text: str) -> float:
    out.write(f"\n==> {text}\n")
    out.flush()
    return time.monotonic()


def _done(out: TextIO, started: float) -> None:
    out.write(f"    ({time.monotonic() - started:.1f} s)\n")
    out.flush()


def _bootstrapped(aws: LocalAws) -> bool:
    cfn = aws.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except cfn.exceptions.ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] in DONE_STATUSES


def _script_env(aws: LocalAws) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws.client_env())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _run_script(aws: LocalAws, script: Path, args: list[str], out: TextIO) -> None:
    completed = subprocess.run(  # noqa: S603  # a script of this repository, fixed argv
        [sys.executable, str(script), *args],
        cwd=settings.REPO_ROOT,
        env=_script_env(aws),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    out.write(completed.stdout.decode("utf-8", errors="replace"))
    if completed.returncode != 0:
        name = script.relative_to(settings.REPO_ROOT)
        raise DeployError(f"{name} {' '.join(args)} exited with status {completed.returncode}")


def publish_config(aws: LocalAws, env: str, out: TextIO) -> None:
    """``clients/`` and ``canonical/`` to the config bucket, through the project's publish script
    (which validates first) when it exists, else as plain files under the same keys."""
    if PUBLISH_SCRIPT.exists():
        _run_script(aws, PUBLISH_SCRIPT, ["--env", env], out)
        return
    bucket = resource_name(Bucket.CONFIG, env)
    s3 = aws.client("s3")
    count = 0
    for folder in ("clients", "canonical"):
        root = settings.REPO_ROOT / folder
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = path.relative_to(settings.REPO_ROOT).as_posix()
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
            count += 1
    out.write(f"    uploaded {count} files of clients/ and canonical/ to s3://{bucket}/\n")


def _first_client_id() -> str | None:
    clients = sorted((settings.REPO_ROOT / "clients").glob("*.yaml"))
    return clients[0].stem if clients else None


def invoke_functions(aws: LocalAws, env: str, out: TextIO) -> list[str]:
    """Invoke each pipeline function once; returns the names of those that failed."""
    # A synchronous Invoke lasts as long as the function (up to its timeout): no read timeout
    # below that, and no retry (botocore would invoke again after a read timeout).
    lambda_ = aws.client(
        "lambda", config=Config(read_timeout=INVOKE_READ_TIMEOUT_S, retries={"max_attempts": 1})
    )
    client_id = _first_client_id()
    event: dict[str, Any] = {"client_id": client_id} if client_id else {}
    failed = []
    for function in Function:
        name = resource_name(function, env)
        response = lambda_.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = response["Payload"].read().decode("utf-8", errors="replace")
        status = "ERROR" if response.get("FunctionError") else "ok"
        if status == "ERROR":
            failed.append(name)
        shown = payload if len(payload) <= 600 else payload[:600] + " ..."
        out.write(f"    {name} [{status}]: {shown}\n")
    return failed


def _table(out: TextIO, title: str, header: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]
    out.write(f"\n{title}\n")
    for row in (header, *rows):
        cells = "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        out.write(f"  {cells.rstrip()}\n")


def summary(aws: LocalAws, env: str, out: TextIO) -> None:
    """What is deployed for ``env`` and where results land."""
    cfn, s3, lambda_ = aws.client("cloudformation"), aws.client("s3"), aws.client("lambda")
    stack_rows = []
    for component in StackComponent:
        name = resource_name(component, env)
        try:
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except cfn.exceptions.ClientError:
            status = "(missing)"
        stack_rows.append((name, status))
    _table(out, "Stacks", ("stack", "status"), stack_rows)

    bucket_rows = []
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket in Bucket:
        name = resource_name(bucket, env)
        if name not in existing:
            bucket_rows.append((name, "(missing)"))
            continue
        objects = s3.list_objects_v2(Bucket=name).get("KeyCount", 0)
        bucket_rows.append((name, f"{objects} objects"))
    _table(out, "Buckets", ("bucket", "content"), bucket_rows)

    layer_rows = []
    for layer_component in Layer:
        name = resource_name(layer_component, env)
        versions = lambda_.list_layer_versions(LayerName=name).get("LayerVersions", [])
        latest = max((v["Version"] for v in versions), default=None)
        layer_rows.append((name, f"version {latest}" if latest else "(missing)"))
    _table(out, "Layers", ("layer", "latest"), layer_rows)

    function_rows = []
    for function in Function:
        name = resource_name(function, env)
        try:
            config = lambda_.get_function_configuration(FunctionName=name)
        except lambda_.exceptions.ResourceNotFoundException:
            function_rows.append((name, "(missing)", ""))
            continue
        layers = ", ".join(
            layer["Arn"].split(":")[-2] + ":" + layer["Arn"].split(":")[-1]
            for layer in config.get("Layers", [])
        )
        function_rows.append((name, config.get("Runtime", ""), layers))
    _table(out, "Functions", ("function", "runtime", "layers"), function_rows)

    out.write(
        "\nWhere the results are\n"
        f"  newsletters      s3://{resource_name(Bucket.NEWSLETTERS, env)}/\n"
        f"  pipeline data    s3://{resource_name(Bucket.DATA, env)}/\n"
        f"  client configs   s3://{resource_name(Bucket.CONFIG, env)}/clients/\n"
        f"  snapshots        s3://{resource_name(Bucket.BACKUPS, env)}/snapshots/\n"
        f"  function logs    CloudWatch log groups /aws/lambda/{PROJECT_NAME}-<function>-{env}\n"
        f"  local AWS log    {aws.log_path}  (python -m local_aws logs)\n"
        "  e.g. AWS_ENDPOINT_URL=... aws s3 ls s3://"
        + resource_name(Bucket.NEWSLETTERS, env)
        + "/ --recursive\n"
        "  stop it with `make local-down` (python -m local_aws down)\n"
    )


def deploy_environment(aws: LocalAws, env: str, out: TextIO = sys.stdout) -> int:
    """The whole ``make local`` sequence; returns the process exit status."""
    try:
        env = check_env(env)
    except UnknownEnvironmentError as err:
        print(f"local_aws deploy: {err}", file=sys.stderr)
        return 2
    timings: dict[str, float] = {}
    reused = aws.running() is not None
    started = _step(out, "local AWS")
    aws.start()
    out.write(f"    {'re-using the running' if reused else 'started a'} local AWS at {aws.endpoint_url}\n")
    timings["start"] = time.monotonic() - started
    output_dir = aws.state_dir / "cdk.out"  # not ./cdk.out: a developer's own synth may hold its lock
    try:
        started = _step(out, f"cdk bootstrap aws://{settings.ACCOUNT_ID}/{settings.DEFAULT_REGION}")
        if _bootstrapped(aws):
            out.write(f"    already bootstrapped ({BOOTSTRAP_STACK} exists)\n")
        else:
            cdk.bootstrap(aws, output_dir=output_dir, context=app_context(env), echo=out)
        timings["bootstrap"] = time.monotonic() - started

        args = deploy_args(env)
        started = _step(out, "cdk " + " ".join(args))
        cdk.run_cdk(aws, args, output_dir=output_dir, echo=out)
        timings["deploy"] = time.monotonic() - started
        _done(out, started)

        failed: list[str] = []
        config = get_env_config(env)
        if config.direct_changes_allowed:
            if config.change_needs_recent_snapshot:  # stage: publish refuses without a newer snapshot
                started = _step(out, f"snapshot before publishing: {PRE_PUBLISH_SNAPSHOT_NAME}_<timestamp>")
                _run_script(aws, SNAPSHOT_SCRIPT, ["--env", env, "--name", PRE_PUBLISH_SNAPSHOT_NAME], out)
                timings["pre-publish snapshot"] = time.monotonic() - started
            started = _step(out, f"publish clients/ and canonical/ to {resource_name(Bucket.CONFIG, env)}")
            publish_config(aws, env, out)
            timings["publish"] = time.monotonic() - started
        else:  # prod: configs only by promotion (publish_config.py refuses it)
            out.write(
                f"\n==> not published: {env} receives configs by promotion from {config.promoted_from}\n"
            )

        ran = True
        if DEMO_SCRIPT.exists() and env == DEMO_ENV:
            # The demo runs the real lai_weekly on its own sources, which the local AWS's local
            # internet answers from local_aws/recordings/: no internet access needed, no fixture client.
            started = _step(out, f"pipeline demo: {DEMO_SCRIPT.relative_to(settings.REPO_ROOT)} --env {env}")
            _run_script(aws, DEMO_SCRIPT, ["--env", env], out)
            timings["demo"] = time.monotonic() - started
        elif not DEMO_SCRIPT.exists() and config.direct_changes_allowed:
            started = _step(out, "invoke each function once")
            failed = invoke_functions(aws, env, out)
            timings["invoke"] = time.monotonic() - started
        else:  # stage and prod: the demo runs dev only
            ran = False
            out.write(f"\n==> pipeline not run: its demo runs in {DEMO_ENV} only\n")
        if ran and not failed:
            started = _step(out, f"snapshot of the validated state: {VALIDATED_SNAPSHOT_NAME}_<timestamp>")
            _run_script(aws, SNAPSHOT_SCRIPT, ["--env", env, "--name", VALIDATED_SNAPSHOT_NAME], out)
            timings["snapshot"] = time.monotonic() - started
    except (cdk.CdkCommandError, DeployError, subprocess.TimeoutExpired) as err:
        out.write(f"\nlocal_aws deploy failed: {err}\n")
        out.write(f"(the local AWS is still running: AWS_ENDPOINT_URL={aws.endpoint_url})\n")
        return 1

    summary(aws, env, out)
    out.write("\nTimings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + "\n")
    if failed:
        out.write(f"\nfunctions that answered with an error: {', '.join(failed)}\n")
    out.write(f"AWS_ENDPOINT_URL={aws.endpoint_url}\n")
    out.flush()
    return 1 if failed else 0
