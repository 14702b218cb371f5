"""The team's existing dev account (issue 27's facts), built on a local AWS the team's way, and
an inventory of a whole account to prove an operation changed nothing.

The team deploys plain templates (``legacy/*.yaml``) with ``aws cloudformation deploy``: a change
set (CREATE, or UPDATE when the stack exists) created, waited for and executed; what is outside
any stack was made through the Lambda, S3, Logs and SSM APIs. Nothing here uses this project's
code: the fixture stands for an account the project has never touched.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from local_aws import settings
from local_aws.server import LocalAws

LEGACY_DIR: Final = Path(__file__).resolve().parent / "legacy"
ENV: Final = "dev"
PROJECT: Final = "vectora-inbox"
CODE_BUCKET: Final = f"{PROJECT}-lambda-code-{ENV}"
PUBMED_PARAMETER: Final = f"/rag-lai/{ENV}/pubmed/api-key"
# The team's layer families: the current ones, and an older one left behind.
CORE_LAYER: Final = f"{PROJECT}-vectora-core-{ENV}"
DEPS_LAYER: Final = f"{PROJECT}-common-deps-{ENV}"
OLD_LAYER: Final = f"{PROJECT}-core-{ENV}"
CORE_LAYER_VERSIONS: Final = 52  # "around version 52" in the account
OLD_FUNCTIONS: Final = ("ingest-normalize", "engine")  # s1-runtime's
V2_IN_STACK: Final = "ingest-v2"  # s1-ingest-v2's
V2_OUTSIDE: Final = ("normalize-score-v2", "newsletter-v2")  # Lambda API, no stack
CLIENT: Final = "lai_weekly_v7"
RUN_DAYS: Final = ("2026/11/23", "2026/11/30")
STACK_WAIT_S: Final = 90.0


def name(component: str) -> str:
    return f"{PROJECT}-{component}-{ENV}"


def stack_name(component: str) -> str:
    return name(component)


@dataclass
class LegacyAccount:
    """What the fixture built: stack ids, role ARNs, function names (for the tests' assertions)."""

    stacks: dict[str, str] = field(default_factory=dict)  # name -> stack id
    roles: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    functions: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)


# --- the team's way of deploying -----------------------------------------------------------------


def _wait_stack(cfn: Any, stack: str) -> dict[str, Any]:
    deadline = time.monotonic() + STACK_WAIT_S
    while True:
        described: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS"):
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{stack} still {described['StackStatus']}")
        time.sleep(0.2)


def cloudformation_deploy(aws: LocalAws, stack: str, template_file: Path, parameters: dict[str, str]) -> str:
    """``aws cloudformation deploy --stack-name S --template-file F --parameter-overrides K=V ...
    --capabilities CAPABILITY_IAM``: what the CLI command does, through the same API calls."""
    cfn = aws.client("cloudformation")
    try:
        exists = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] != "REVIEW_IN_PROGRESS"
    except cfn.exceptions.ClientError:
        exists = False
    change_set = f"awscli-cloudformation-package-deploy-{int(time.time() * 1000)}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=change_set,
        ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateBody=template_file.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + STACK_WAIT_S
    while (described := cfn.describe_change_set(StackName=stack, ChangeSetName=change_set))["Status"] in (
        "CREATE_PENDING",
        "CREATE_IN_PROGRESS",
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"change set {change_set} of {stack}")
        time.sleep(0.2)
    if described["Status"] != "CREATE_COMPLETE":
        raise RuntimeError(f"{stack}: change set {described['Status']}: {described.get('StatusReason')}")
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    final = _wait_stack(cfn, stack)
    if final["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise RuntimeError(f"{stack}: {final['StackStatus']}: {final.get('StackStatusReason')}")
    return str(final["StackId"])


def _outputs(aws: LocalAws, stack: str) -> dict[str, str]:
    described = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2025, 6, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def _handler(function: str) -> bytes:
    return _zip(
        {
            "handler.py": (
                f"# the team's {function} (previous generation's code, as deployed)\n"
                "def lambda_handler(event, context):\n"
                f"    return {{'function': {function!r}, 'status': 'ok'}}\n"
            )
        }
    )


# --- the account --------------------------------------------------------------------------------


def _code_bucket(aws: LocalAws) -> None:
    """Made by hand, outside any stack: the layers' zips and every function's latest.zip."""
    s3 = aws.client("s3")
    s3.create_bucket(
        Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": settings.DEFAULT_REGION}
    )
    for function in (*OLD_FUNCTIONS, V2_IN_STACK, *V2_OUTSIDE):
        s3.put_object(Bucket=CODE_BUCKET, Key=f"lambda/{function}/latest.zip", Body=_handler(function))
    for layer in ("vectora-core", "common-deps"):
        body = _zip({f"python/{layer.replace('-', '_')}/__init__.py": f"VERSION = '{layer}'\n"})
        s3.put_object(Bucket=CODE_BUCKET, Key=f"layers/{layer}.zip", Body=body)


def _layers(aws: LocalAws) -> dict[str, str]:
    """Layer versions published over time: vectora-core up to version 52, common-deps, an old family."""
    lam = aws.client("lambda")
    latest: dict[str, str] = {}
    for layer, versions in ((CORE_LAYER, CORE_LAYER_VERSIONS), (DEPS_LAYER, 3), (OLD_LAYER, 2)):
        source = "vectora-core" if layer != DEPS_LAYER else "common-deps"
        for _ in range(versions):
            published = lam.publish_layer_version(
                LayerName=layer,
                Content={"S3Bucket": CODE_BUCKET, "S3Key": f"layers/{source}.zip"},
                CompatibleRuntimes=["python3.12"],
            )
            latest[layer] = published["LayerVersionArn"]
    return latest


def _old_layout_data(aws: LocalAws) -> None:
    """Configs, canonical files, ingested/curated items and newsletters in the team's layout; some
    keys written twice (versions)."""
    s3 = aws.client("s3")
    config, data, newsletters = name("config"), name("data"), name("newsletters")
    client_v1 = f"client_id: {CLIENT}\nversion: 7.0\nscopes: [lai_companies]\n"
    client_v2 = f"client_id: {CLIENT}\nversion: 7.1\nscopes: [lai_companies, lai_molecules]\n"
    for body in (client_v1, client_v2):
        s3.put_object(Bucket=config, Key=f"clients/{CLIENT}.yaml", Body=body.encode())
    canonical = {
        "canonical/scopes/company_scopes.yaml": "lai_companies: [Camurus, Indivior]\nlai_partners: [Teva]\n",
        "canonical/scopes/molecule_scopes.yaml": "lai_molecules: [buprenorphine]\nlai_other: [risperidone]\n",
        "canonical/sources/source_catalog.yaml": "sources:\n  - id: press_camurus\n    url: https://www.camurus.com/feed/\n",
        "canonical/prompts/normalization/lai_prompt.yaml": "system: normalize\n",
        "canonical/prompts/editorial/weekly/intro.yaml": "system: write the intro\n",
    }
    for key, body in canonical.items():
        s3.put_object(Bucket=config, Key=key, Body=body.encode())
    for day in RUN_DAYS:
        items = json.dumps([{"id": f"{day}-1", "title": "Camurus news"}]).encode()
        s3.put_object(Bucket=data, Key=f"ingested/{CLIENT}/{day}/items.json", Body=items)
        s3.put_object(Bucket=data, Key=f"curated/{CLIENT}/{day}/items.json", Body=items)
        s3.put_object(Bucket=newsletters, Key=f"{CLIENT}/{day}/newsletter.md", Body=b"# LAI weekly\n")
        s3.put_object(Bucket=newsletters, Key=f"{CLIENT}/{day}/newsletter.json", Body=b'{"sections": []}')
    # a run done twice on the last day: a second version of its items
    s3.put_object(Bucket=data, Key=f"curated/{CLIENT}/{RUN_DAYS[-1]}/items.json", Body=b"[]")


def build_legacy_dev(aws: LocalAws) -> LegacyAccount:
    """The team's dev account, in the order the team built it."""
    account = LegacyAccount()
    _code_bucket(aws)
    core = stack_name("s0-core")
    account.stacks[core] = cloudformation_deploy(
        aws, core, LEGACY_DIR / "s0-core.yaml", {"ProjectName": PROJECT, "Env": ENV}
    )
    buckets = _outputs(aws, core)
    account.buckets = [CODE_BUCKET, name("config"), name("data"), name("newsletters")]
    iam = stack_name("s0-iam")
    account.stacks[iam] = cloudformation_deploy(
        aws,
        iam,
        LEGACY_DIR / "s0-iam.yaml",
        {
            "Env": ENV,
            "ConfigBucketName": buckets["ConfigBucketName"],
            "DataBucketName": buckets["DataBucketName"],
            "NewslettersBucketName": buckets["NewslettersBucketName"],
            "PubmedApiKeyParameter": PUBMED_PARAMETER,
        },
    )
    roles = _outputs(aws, iam)
    account.roles = {
        "IngestNormalizeRole": roles["IngestNormalizeRoleArn"],
        "EngineRole": roles["EngineRoleArn"],
    }
    runtime = stack_name("s1-runtime")
    account.stacks[runtime] = cloudformation_deploy(
        aws,
        runtime,
        LEGACY_DIR / "s1-runtime.yaml",
        {
            "Env": ENV,
            "IngestNormalizeRoleArn": account.roles["IngestNormalizeRole"],
            "EngineRoleArn": account.roles["EngineRole"],
            "LambdaCodeBucket": CODE_BUCKET,
        },
    )
    ingest = stack_name("s1-ingest-v2")
    account.stacks[ingest] = cloudformation_deploy(
        aws,
        ingest,
        LEGACY_DIR / "s1-ingest-v2.yaml",
        {
            "Env": ENV,
            "IngestNormalizeRoleArn": account.roles["IngestNormalizeRole"],
            "LambdaCodeBucket": CODE_BUCKET,
        },
    )
    layers = _layers(aws)
    lam, logs = aws.client("lambda"), aws.client("logs")
    # layers attached to ingest-v2 outside CloudFormation (the stack's template has none: drift)
    lam.update_function_configuration(
        FunctionName=name(V2_IN_STACK), Layers=[layers[CORE_LAYER], layers[DEPS_LAYER]]
    )
    for function in V2_OUTSIDE:  # through the Lambda API, no tags, log groups without retention
        role = account.roles["EngineRole" if function == "newsletter-v2" else "IngestNormalizeRole"]
        lam.create_function(
            FunctionName=name(function),
            Runtime="python3.12",
            Handler="handler.lambda_handler",
            Role=role,
            Code={"S3Bucket": CODE_BUCKET, "S3Key": f"lambda/{function}/latest.zip"},
            Timeout=900,
            MemorySize=1024,
            Layers=[layers[CORE_LAYER], layers[DEPS_LAYER]],
            Environment={"Variables": {"ENV": ENV}},
        )
        logs.create_log_group(logGroupName=f"/aws/lambda/{name(function)}")
    account.functions = [name(f) for f in (*OLD_FUNCTIONS, V2_IN_STACK, *V2_OUTSIDE)]
    aws.client("ssm").put_parameter(
        Name=PUBMED_PARAMETER,
        Type="SecureString",
        Value="team-pubmed-key",  # noqa: S106  # a rehearsal value
    )
    _old_layout_data(aws)
    return account


# --- the whole account, to compare before and after ------------------------------------------------


def _pages(paginator: Any, key: str, **kwargs: Any) -> list[Any]:
    return [item for page in paginator.paginate(**kwargs) for item in page.get(key, [])]


def account_state(aws: LocalAws, *, ignore_buckets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Everything an operation could change in the account, comparable with ``==``: buckets
    (versioning, tags, every object version and delete marker), functions (configuration and
    code), layers, roles (policies), log groups, stacks (status, template, parameters, resources),
    SSM parameters."""
    s3, lam, iam = aws.client("s3"), aws.client("lambda"), aws.client("iam")
    logs, cfn, ssm = aws.client("logs"), aws.client("cloudformation"), aws.client("ssm")
    state: dict[str, Any] = {"buckets": {}, "functions": {}, "layers": {}, "roles": {}, "stacks": {}}
    for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
        if bucket in ignore_buckets:
            continue
        versions = s3.list_object_versions(Bucket=bucket)
        try:
            tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        except s3.exceptions.ClientError:
            tags = []
        state["buckets"][bucket] = {
            "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
            "tags": sorted((t["Key"], t["Value"]) for t in tags),
            "versions": sorted(
                (v["Key"], v["VersionId"], v["ETag"], v["IsLatest"]) for v in versions.get("Versions", [])
            ),
            "delete_markers": sorted((m["Key"], m["VersionId"]) for m in versions.get("DeleteMarkers", [])),
        }
    for function in _pages(lam.get_paginator("list_functions"), "Functions"):
        config = lam.get_function(FunctionName=function["FunctionName"])["Configuration"]
        keep = (
            "Role",
            "Runtime",
            "Handler",
            "CodeSha256",
            "LastModified",
            "Timeout",
            "MemorySize",
            "Environment",
        )
        state["functions"][function["FunctionName"]] = {
            **{k: config.get(k) for k in keep},
            "Layers": [layer["Arn"] for layer in config.get("Layers", [])],
        }
    for layer in _pages(lam.get_paginator("list_layers"), "Layers"):
        versions = _pages(
            lam.get_paginator("list_layer_versions"), "LayerVersions", LayerName=layer["LayerName"]
        )
        state["layers"][layer["LayerName"]] = [
            v["LayerVersionArn"] for v in sorted(versions, key=lambda v: v["Version"])
        ]
    for role in _pages(iam.get_paginator("list_roles"), "Roles"):
        role_name = role["RoleName"]
        inline = {
            policy: iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        }
        attached = sorted(
            p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        )
        state["roles"][role_name] = {"RoleId": role["RoleId"], "inline": inline, "attached": attached}
    state["log_groups"] = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in _pages(logs.get_paginator("describe_log_groups"), "logGroups")
    }
    for summary in _pages(cfn.get_paginator("list_stacks"), "StackSummaries"):
        if summary["StackStatus"] == "DELETE_COMPLETE":
            continue
        stack = summary["StackName"]
        described = cfn.describe_stacks(StackName=summary["StackId"])["Stacks"][0]
        resources = cfn.describe_stack_resources(StackName=summary["StackId"])["StackResources"]
        state["stacks"][stack] = {
            "StackId": described["StackId"],
            "StackStatus": described["StackStatus"],
            "LastUpdatedTime": str(described.get("LastUpdatedTime")),
            "Parameters": sorted(
                (p["ParameterKey"], p["ParameterValue"]) for p in described.get("Parameters", [])
            ),
            "Outputs": sorted((o["OutputKey"], o["OutputValue"]) for o in described.get("Outputs", [])),
            "template": cfn.get_template(StackName=summary["StackId"])["TemplateBody"],
            "resources": sorted((r["LogicalResourceId"], r.get("PhysicalResourceId", "")) for r in resources),
        }
    state["parameters"] = {
        p["Name"]: p["Version"] for p in _pages(ssm.get_paginator("describe_parameters"), "Parameters")
    }
    return state
