"""Template assertions: names, dependencies, env variables, per-env differences, security."""

from __future__ import annotations

import json
import re

import pytest

from stacks.core_stack import LOGICAL_IDS, NONCURRENT_VERSIONS_KEPT
from tests.infra.conftest import CloudAssembly, pipeline_functions, resources_of
from tests.support.cdk_cli import TEST_ALARM_EMAIL
from vectora_constructs.arns import NO_RESOURCE_LEVEL_ACTIONS
from vectora_constructs.pipeline_alarms import RULES as PIPELINE_RULES
from vectora_core.environments import get_env_config
from vectora_core.metrics import NAMESPACE as METRICS_NAMESPACE
from vectora_core.metrics import dimensions as metric_dimensions
from vectora_core.naming import (
    ENV_NAMES,
    PROJECT_NAME,
    SNAPSHOT_FUNCTION,
    Bucket,
    EnvVar,
    Function,
    Layer,
    StackComponent,
    pubmed_api_key_param,
    resource_name,
    state_machine_log_group_name,
)

NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


# --- stacks and dependencies -----------------------------------------------------------------


def test_env_all_synthesizes_exactly_the_nine_stacks(assembly: CloudAssembly) -> None:
    expected = {resource_name(c, e) for e in ENV_NAMES for c in StackComponent}
    assert set(assembly.templates) == expected


def test_stacks_depend_on_each_other_in_the_spec_order(assembly: CloudAssembly, env: str) -> None:
    def deps(component: str) -> set[str]:
        declared = assembly.artifact(resource_name(component, env)).get("dependencies", [])
        return {d for d in declared if not d.endswith(".assets")}

    assert deps(StackComponent.CORE) == set()
    assert deps(StackComponent.IAM) == {resource_name(StackComponent.CORE, env)}
    assert deps(StackComponent.RUNTIME) == {
        resource_name(StackComponent.CORE, env),
        resource_name(StackComponent.IAM, env),
    }


def test_stacks_share_nothing_through_exports(assembly: CloudAssembly) -> None:
    # Exports lock the producing stack against updates; stacks refer to each other by name.
    for name, template in assembly.templates.items():
        text = json.dumps(template)
        assert "Fn::ImportValue" not in text, name
        assert all("Export" not in o for o in template.get("Outputs", {}).values()), name


def test_termination_protection_follows_the_environment(assembly: CloudAssembly, env: str) -> None:
    expected = get_env_config(env).termination_protection
    for component in StackComponent:
        artifact = assembly.artifact(resource_name(component, env))
        assert artifact["properties"].get("terminationProtection", False) is expected
    assert expected is (env != "dev")


def test_stacks_target_the_main_region_without_pinning_an_account(assembly: CloudAssembly) -> None:
    for name in assembly.templates:
        assert assembly.artifact(name)["environment"] == "aws://unknown-account/eu-west-3"


# --- naming ------------------------------------------------------------------------------------


def test_every_physical_name_follows_base_dash_env(assembly: CloudAssembly, env: str) -> None:
    log_prefix = "(/aws/lambda/|/aws/vendedlogs/states/)?"  # functions' and the state machine's
    pattern = re.compile(rf"^{log_prefix}{PROJECT_NAME}-[a-z0-9-]+-{env}$")
    seen = 0
    for component in StackComponent:
        template = assembly.templates[resource_name(component, env)]
        for logical_id, resource in template["Resources"].items():
            prop = NAME_PROPERTIES.get(resource["Type"])
            if prop is None:
                continue
            name = resource["Properties"][prop]
            seen += 1
            # Alarms included: vectora-inbox-ingest-v2-errors-{env}, never ...-{env}-errors.
            assert isinstance(name, str) and pattern.match(name), f"{logical_id}: {name}"
    assert seen >= 6 + 3 + 3 + 2 + 3  # buckets, roles, functions, layers, log groups


def test_core_stack_has_the_spec_buckets_with_stable_logical_ids(assembly: CloudAssembly, env: str) -> None:
    buckets = resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket")
    assert {lid: b["Properties"]["BucketName"] for lid, b in buckets.items()} == {
        LOGICAL_IDS[c]: resource_name(c, env) for c in Bucket
    }
    for spec_bucket in ("config", "data", "newsletters", "lambda-code", "backups"):
        assert f"vectora-inbox-{spec_bucket}-{env}" in {
            b["Properties"]["BucketName"] for b in buckets.values()
        }


def test_runtime_stack_has_the_layers_and_functions(assembly: CloudAssembly, env: str) -> None:
    template = assembly.template(StackComponent.RUNTIME, env)
    for layer in Layer:
        template.has_resource_properties(
            "AWS::Lambda::LayerVersion",
            {"LayerName": resource_name(layer, env), "CompatibleRuntimes": ["python3.13"]},
        )
    functions = pipeline_functions(assembly, env)
    assert sorted(f["Properties"]["FunctionName"] for f in functions.values()) == sorted(
        resource_name(f, env) for f in Function
    )
    for function in functions.values():
        props = function["Properties"]
        assert props["Handler"] == "handler.handler"
        assert props["Runtime"] == "python3.13"
        assert len(props["Layers"]) == 2
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["LoggingConfig"]["ApplicationLogLevel"] == get_env_config(env).log_level
        # The role is S0-iam's, found by its conventional name.
        assert (
            f":role/vectora-inbox-{props['FunctionName'].removeprefix('vectora-inbox-').removesuffix(f'-{env}')}-role-{env}"
            in json.dumps(props["Role"])
        )


# --- Lambda environment variables ----------------------------------------------------------------


@pytest.mark.parametrize("function", Function)
def test_function_environment_variables(assembly: CloudAssembly, env: str, function: str) -> None:
    config = get_env_config(env)
    expected = {
        EnvVar.ENV: env,
        EnvVar.PROJECT_NAME: "vectora-inbox",
        EnvVar.CONFIG_BUCKET: f"vectora-inbox-config-{env}",
        EnvVar.DATA_BUCKET: f"vectora-inbox-data-{env}",
        EnvVar.LOG_LEVEL: {"dev": "DEBUG", "stage": "INFO", "prod": "INFO"}[env],
        EnvVar.DEBUG: {"dev": "true", "stage": "true", "prod": "false"}[env],
    }
    if function == Function.INGEST:
        expected[EnvVar.PUBMED_API_KEY_PARAM] = f"/rag-lai/{env}/pubmed/api-key"
    if function in (Function.NORMALIZE_SCORE, Function.NEWSLETTER):
        expected[EnvVar.BEDROCK_MODEL_ID] = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
        expected[EnvVar.BEDROCK_REGION] = config.bedrock_region
    if function == Function.NEWSLETTER:
        expected[EnvVar.NEWSLETTERS_BUCKET] = f"vectora-inbox-newsletters-{env}"
    assembly.template(StackComponent.RUNTIME, env).has_resource_properties(
        "AWS::Lambda::Function",
        {"FunctionName": resource_name(function, env), "Environment": {"Variables": expected}},
    )


# --- per-environment differences (the README's environments table) --------------------------------


def test_stateful_resources_are_destroyed_in_dev_and_retained_elsewhere(
    assembly: CloudAssembly, env: str
) -> None:
    expected = "Delete" if env == "dev" else "RetainExceptOnCreate"  # no orphan after a failed create
    stateful = [
        *resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket").values(),
        *(g for c in StackComponent for g in resources_of(assembly, c, env, "AWS::Logs::LogGroup").values()),
    ]
    # six buckets, a log group per pipeline function, the pre-update snapshot function's log group,
    # the state machine's log group
    assert len(stateful) == 6 + 3 + 1 + 1
    assert {r["DeletionPolicy"] for r in stateful} == {expected}
    # a replaced resource is always kept (its data), dev's deleted
    assert {r["UpdateReplacePolicy"] for r in stateful} == {"Delete" if env == "dev" else "Retain"}


def test_alarms_and_topic_only_in_stage_and_prod(assembly: CloudAssembly, env: str) -> None:
    alarms = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::CloudWatch::Alarm")
    # prod's post-promotion (reinforced) alarms are tested in tests/promotion/test_reinforced_alarms.py
    alarms = {k: a for k, a in alarms.items() if "-reinforced-" not in a["Properties"]["AlarmName"]}
    topics = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::SNS::Topic")
    if env == "dev":
        assert alarms == {} and topics == {}
        return
    assert [t["Properties"]["TopicName"] for t in topics.values()] == [f"vectora-inbox-alarms-{env}"]
    (topic_id,) = topics
    # the alarms reach someone: the subscribers given with -c alarm_emails
    subscriptions = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::SNS::Subscription")
    assert [(s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions.values()] == [
        ("email", TEST_ALARM_EMAIL)
    ]
    assert {json.dumps(s["Properties"]["TopicArn"]) for s in subscriptions.values()} == {
        json.dumps({"Ref": topic_id})
    }
    # errors and throttles per function, the pipeline's own rules, failed and timed-out executions
    assert len(alarms) == 2 * len(Function) + len(PIPELINE_RULES) + 2
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["Threshold"] == 1


def test_the_alarm_topic_is_under_a_rotated_key_of_its_own(assembly: CloudAssembly) -> None:
    """Not AWS's aws/sns: CloudWatch may publish to an encrypted topic only when the key policy lets
    it use the key, and an AWS-managed key's policy cannot say so (tests/iam has the decisions)."""
    for env in ("stage", "prod"):
        (topic,) = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::SNS::Topic").values()
        keys = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::KMS::Key")
        (key_id,) = keys
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert keys[key_id]["Properties"]["EnableKeyRotation"] is True
        # tagged like every resource of the environment (the local AWS creates a tagged key too)
        assert {t["Key"]: t["Value"] for t in keys[key_id]["Properties"]["Tags"]} == {
            "Project": "vectora-inbox",
            "Environment": env,
        }
        (alias,) = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::KMS::Alias").values()
        assert alias["Properties"]["AliasName"] == f"alias/vectora-inbox-alarms-{env}"
    assert not resources_of(assembly, StackComponent.RUNTIME, "dev", "AWS::KMS::Key")


def test_pipeline_alarms_watch_the_metrics_the_handlers_emit(assembly: CloudAssembly) -> None:
    for env in ("stage", "prod"):
        alarms = resources_of(assembly, StackComponent.RUNTIME, env, "AWS::CloudWatch::Alarm")
        by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
        for rule in PIPELINE_RULES:
            props = by_name[f"vectora-inbox-pipeline-{rule.label}-{env}"]
            assert (props["Namespace"], props["MetricName"]) == (METRICS_NAMESPACE, rule.metric)
            assert {d["Name"]: d["Value"] for d in props["Dimensions"]} == metric_dimensions(rule.metric, env)
            # a period without any run is not a failure
            assert props["TreatMissingData"] == "notBreaching"
    names = {
        a["Properties"]["MetricName"]
        for a in resources_of(assembly, StackComponent.RUNTIME, "stage", "AWS::CloudWatch::Alarm").values()
    }
    assert {"ItemsIngested", "AllSourcesFailed", "NewsletterItems"} <= names


def test_log_retention_follows_the_environment(assembly: CloudAssembly, env: str) -> None:
    groups = [
        g for s in StackComponent for g in resources_of(assembly, s, env, "AWS::Logs::LogGroup").values()
    ]
    config = get_env_config(env)
    assert {g["Properties"]["RetentionInDays"] for g in groups} == {config.log_retention_days}
    # every group outlives its stack where the environment keeps its stateful resources
    assert {g["DeletionPolicy"] for g in groups} == {
        "RetainExceptOnCreate" if config.retain_stateful else "Delete"
    }
    # one per function: the pipeline functions' in S1-runtime, the snapshot function's in S0-core;
    # and the state machine's
    assert sorted(g["Properties"]["LogGroupName"] for g in groups) == sorted(
        [
            *(f"/aws/lambda/{resource_name(f, env)}" for f in (*Function, SNAPSHOT_FUNCTION)),
            state_machine_log_group_name(env),
        ]
    )


def test_backups_lifecycle_glacier_only_in_prod_and_prod_never_expires(
    assembly: CloudAssembly, env: str
) -> None:
    buckets = resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket")
    rules = buckets["BackupsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    transitions = [t for r in rules for t in r.get("Transitions", [])]
    expirations = [r for r in rules if "ExpirationInDays" in r or "NoncurrentVersionExpiration" in r]
    if env == "prod":
        assert transitions == [{"StorageClass": "GLACIER", "TransitionInDays": 90}]
        assert expirations == []
    else:
        assert transitions == []
        # Snapshots deleted by retention stay recoverable for a grace period, then go.
        assert [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in expirations] == [
            get_env_config(env).backups_noncurrent_days
        ]


# --- security ------------------------------------------------------------------------------------


def test_every_bucket_is_encrypted_private_and_versioned_where_needed(
    assembly: CloudAssembly, env: str
) -> None:
    for logical_id, bucket in resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"] in {"AES256", "aws:kms"}, logical_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        versioned = props.get("VersioningConfiguration", {}).get("Status") == "Enabled"
        # every bucket but the access logs keeps what a run or a deploy overwrites
        assert versioned is (logical_id != "AccessLogsBucket"), logical_id
        if logical_id != "AccessLogsBucket":
            assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def test_noncurrent_versions_of_the_working_buckets_expire(assembly: CloudAssembly, env: str) -> None:
    buckets = resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket")
    for logical_id in ("ConfigBucket", "DataBucket", "NewslettersBucket", "LambdaCodeBucket"):
        rules = buckets[logical_id]["Properties"]["LifecycleConfiguration"]["Rules"]
        (rule,) = [r for r in rules if "NoncurrentVersionExpiration" in r]
        assert rule["Status"] == "Enabled" and "Prefix" not in rule  # the whole bucket
        assert rule["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": get_env_config(env).noncurrent_version_days,
            "NewerNoncurrentVersions": NONCURRENT_VERSIONS_KEPT,
        }


def test_every_bucket_denies_requests_without_tls(assembly: CloudAssembly, env: str) -> None:
    template = assembly.templates[resource_name(StackComponent.CORE, env)]
    policies = resources_of(assembly, StackComponent.CORE, env, "AWS::S3::BucketPolicy")
    protected = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
                protected.add(policy["Properties"]["Bucket"]["Ref"])
    buckets = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::S3::Bucket"}
    assert protected == buckets


def _statements(assembly: CloudAssembly, env: str) -> dict[str, list[dict]]:
    """Policy statements of the pipeline roles, by role name (the snapshot role is tested apart)."""
    # every permission is inline: a separate AWS::IAM::Policy would escape these checks
    assert not resources_of(assembly, StackComponent.IAM, env, "AWS::IAM::Policy")
    return {
        role["Properties"]["RoleName"]: [
            statement
            for policy in role["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        for role in pipeline_roles(assembly, env).values()
    }


def pipeline_roles(assembly: CloudAssembly, env: str) -> dict[str, dict]:
    names = {f"vectora-inbox-{f}-role-{env}" for f in Function}
    roles = resources_of(assembly, StackComponent.IAM, env, "AWS::IAM::Role")
    return {k: v for k, v in roles.items() if v["Properties"]["RoleName"] in names}


def _listify(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_iam_has_one_role_per_function_and_no_wildcard_action_or_bare_star(
    assembly: CloudAssembly, env: str
) -> None:
    statements = _statements(assembly, env)
    assert sorted(statements) == sorted(f"vectora-inbox-{f}-role-{env}" for f in Function)
    for role, role_statements in statements.items():
        for statement in role_statements:
            assert statement["Effect"] == "Allow"
            for action in _listify(statement["Action"]):
                assert "*" not in action, f"{role}: {action}"
            # "*" only for actions that take no other resource (X-Ray's), alone in their statement
            if "*" in _listify(statement["Resource"]):
                assert _listify(statement["Resource"]) == ["*"], role
                assert set(_listify(statement["Action"])) <= set(NO_RESOURCE_LEVEL_ACTIONS), role
    roles = pipeline_roles(assembly, env)
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]  # no broad AWS managed policies
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }


def _resolved_resources(statement: dict) -> list[str]:
    """Render Fn::Join ARNs as text (pseudo parameters shown as ${Name}) for comparison."""
    out = []
    for resource in _listify(statement["Resource"]):
        if isinstance(resource, dict) and "Fn::Join" in resource:
            sep, parts = resource["Fn::Join"]
            out.append(sep.join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts))
        else:
            out.append(resource)
    return out


def test_bedrock_access_is_the_configured_profile_and_its_model_only_through_it(
    assembly: CloudAssembly, env: str
) -> None:
    """The profile routes a call to a region AWS chooses: the foundation model is allowed in any
    region (no hand-kept list to fall behind AWS's), but only with the profile as
    bedrock:InferenceProfileArn, so the model itself can never be called directly."""
    statements = _statements(assembly, env)
    profile = (
        "arn:${AWS::Partition}:bedrock:eu-west-3:${AWS::AccountId}:inference-profile/"
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    for function in Function:
        bedrock = [
            s
            for s in statements[f"vectora-inbox-{function}-role-{env}"]
            if "bedrock" in json.dumps(s["Action"])
        ]
        if function == Function.INGEST:
            assert bedrock == []
            continue
        on_profile, on_model = bedrock
        assert on_profile["Action"] == on_model["Action"] == "bedrock:InvokeModel"
        assert _resolved_resources(on_profile) == [profile]
        assert "Condition" not in on_profile
        assert _resolved_resources(on_model) == [
            "arn:${AWS::Partition}:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
        ]
        (condition,) = on_model["Condition"]["StringEquals"].values()
        assert list(on_model["Condition"]) == ["StringEquals"]
        assert list(on_model["Condition"]["StringEquals"]) == ["bedrock:InferenceProfileArn"]
        assert _resolved_resources({"Resource": condition}) == [profile]


def test_ssm_read_is_limited_to_the_pubmed_key_of_the_environment(assembly: CloudAssembly, env: str) -> None:
    statements = _statements(assembly, env)
    ssm = [
        (role, s)
        for role, role_statements in statements.items()
        for s in role_statements
        if any(a.startswith("ssm:") for a in _listify(s["Action"]))
    ]
    assert [role for role, _ in ssm] == [f"vectora-inbox-ingest-v2-role-{env}"]
    (_, statement) = ssm[0]
    assert statement["Action"] == "ssm:GetParameter"
    assert _resolved_resources(statement) == [
        f"arn:${{AWS::Partition}}:ssm:eu-west-3:${{AWS::AccountId}}:parameter{pubmed_api_key_param(env)}"
    ]


def test_s3_access_is_scoped_to_each_functions_prefixes(assembly: CloudAssembly, env: str) -> None:
    statements = _statements(assembly, env)

    def s3_resources(function: str, action: str) -> set[str]:
        return {
            r
            for s in statements[f"vectora-inbox-{function}-role-{env}"]
            if action in _listify(s["Action"])
            for r in _resolved_resources(s)
        }

    config = f"arn:${{AWS::Partition}}:s3:::vectora-inbox-config-{env}"
    data = f"arn:${{AWS::Partition}}:s3:::vectora-inbox-data-{env}"
    assert s3_resources(Function.INGEST, "s3:PutObject") == {f"{data}/raw/*"}
    assert s3_resources(Function.NORMALIZE_SCORE, "s3:PutObject") == {f"{data}/curated/*"}
    assert s3_resources(Function.NEWSLETTER, "s3:PutObject") == {
        f"arn:${{AWS::Partition}}:s3:::vectora-inbox-newsletters-{env}/*"
    }
    assert s3_resources(Function.NEWSLETTER, "s3:GetObject") == {
        f"{config}/clients/*",
        f"{config}/canonical/*",
        f"{data}/curated/*",
        # its own output: an empty newsletter must not replace a stored one with items
        f"arn:${{AWS::Partition}}:s3:::vectora-inbox-newsletters-{env}/*",
    }
    assert f"{data}/raw/*" in s3_resources(Function.INGEST, "s3:GetObject")  # the previous run
    # Nobody may touch the backups bucket or delete anything.
    everything = json.dumps(statements)
    assert "backups" not in everything and "s3:DeleteObject" not in everything


def test_every_s3_permission_of_every_role_is_on_this_accounts_buckets_only(
    assembly: CloudAssembly, env: str
) -> None:
    """Bucket names are global: a conventional name held by another account must never receive
    our data. Every S3 statement of every role of the environment (any stack) requires
    s3:ResourceAccount to be the deploying account."""
    s3_statements = [
        statement
        for component in StackComponent
        for role in resources_of(assembly, component, env, "AWS::IAM::Role").values()
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if any(a.startswith("s3:") for a in _listify(statement["Action"]))
    ]
    assert len(s3_statements) >= 8  # the three functions' and the pre-update snapshot's
    for statement in s3_statements:
        assert statement["Condition"]["StringEquals"]["s3:ResourceAccount"] == {"Ref": "AWS::AccountId"}, (
            statement["Sid"]
        )


def test_a_missing_key_reads_as_404_in_every_bucket_a_function_reads(
    assembly: CloudAssembly, env: str
) -> None:
    """S3 answers a GetObject/HeadObject of a missing key with 404 only to a caller that may
    s3:ListBucket the bucket with no s3:prefix in the request (else 403 AccessDenied, which the code
    does not take for "not there yet"): each bucket a role reads a key of is listable unconditioned."""
    for role, role_statements in _statements(assembly, env).items():
        read_buckets = {
            r.split("/", 1)[0]
            for s in role_statements
            if "s3:GetObject" in _listify(s["Action"])
            for r in _resolved_resources(s)
        }
        listable = {
            r
            for s in role_statements
            if "s3:ListBucket" in _listify(s["Action"]) and "s3:prefix" not in json.dumps(s.get("Condition"))
            for r in _resolved_resources(s)
        }
        assert read_buckets and read_buckets <= listable, f"{role}: {sorted(read_buckets - listable)}"
        # and nothing else: the buckets it reads, not the backups or another environment's
        assert listable == read_buckets, role


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "type_"),
    [
        (StackComponent.CORE, "AWS::S3::Bucket"),
        (StackComponent.IAM, "AWS::IAM::Role"),
        (StackComponent.RUNTIME, "AWS::Lambda::Function"),
        (StackComponent.RUNTIME, "AWS::Logs::LogGroup"),
    ],
)
def test_resources_are_tagged_with_project_and_environment(
    assembly: CloudAssembly, env: str, component: str, type_: str
) -> None:
    resources = resources_of(assembly, component, env, type_)
    assert resources
    for logical_id, resource in resources.items():
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert tags.get("Project") == "vectora-inbox", logical_id
        assert tags.get("Environment") == env, logical_id


def test_validation_report_has_no_finding(assembly: CloudAssembly) -> None:
    report = json.loads((assembly.directory / "validation-report.json").read_text())
    assert report.get("pluginReports") == [] or all(
        r.get("summary", {}).get("status") == "success" for r in report["pluginReports"]
    )
