"""The project's fixes to moto 5.2.5, one module per patch.

Every module has a docstring with the symptom, the cause and the fix, and an ``apply()`` that
installs it. ``apply_all()`` is called once by the server process before it serves requests;
the order matters only where a later patch builds on an earlier one (noted in its docstring).
"""

from __future__ import annotations

import importlib
from typing import Final

import moto

EXPECTED_MOTO_VERSION: Final = "5.2.5"

# (module, one-line summary) - also the list printed by `python -m local_aws patches`.
PATCHES: Final[tuple[tuple[str, str], ...]] = (
    ("lambda_runner", "Lambda Invoke runs the handler in a local pythonX.Y subprocess instead of Docker"),
    ("lambda_layers", "function Layers from templates; LayerVersion name, Ref, update and delete"),
    ("lambda_code_location", "Code.Location / Content.Location are downloadable URLs on the emulator"),
    (
        "cfn_change_set_api",
        "change sets looked up per stack; unknown: Delete succeeds, Describe says ChangeSetNotFound",
    ),
    ("cfn_get_stack_output", "Fn::GetStackOutput (aws-cdk-lib's cross-stack references) resolves"),
    ("cloudtrail_lookup_events", "CloudTrail LookupEvents answers [] (the CLI queries it after a failure)"),
    ("cfn_termination_protection", "UpdateTerminationProtection works; a protected stack cannot be deleted"),
    ("cfn_s3_bucket_delete", "deleting a stack's non-empty bucket fails (DELETE_FAILED), as on AWS"),
    ("cfn_parameters", "UsePreviousValue for defaulted parameters and SSM-typed parameters"),
    (
        "cfn_custom_resources",
        "custom resources get Create/Update/Delete, a reachable ResponseURL, FAILED honoured",
    ),
    (
        "cfn_engine",
        "dependency-ordered create/update/delete, async execution, failure status, outputs and exports",
    ),
    ("bedrock_converse", "bedrock-runtime Converse answered by a local, deterministic, labelled model"),
    ("bedrock_latency", "Converse answers held LOCAL_AWS_BEDROCK_LATENCY_MS (a model's time; unset: none)"),
    (
        "bedrock_catalog",
        "GetInferenceProfile, GetFoundationModel, GetFoundationModelAvailability answer (model access)",
    ),
    ("lambda_account_settings", "GetAccountSettings: concurrency (1,000 less reserved) and code-size limits"),
    ("s3_expected_bucket_owner", "HeadBucket honours ExpectedBucketOwner: another account's bucket is 403"),
    ("cloudwatch_alarms", "AWS::CloudWatch::Alarm from templates; DescribeAlarmHistory of state changes"),
    ("cfn_s3_versioning", "buckets created by templates honour VersioningConfiguration"),
    ("cfn_kms_key_tags", "KMS keys from templates keep their Tags (CloudFormation's Key/Value shape)"),
    (
        "stepfunctions_execution",
        "state machines run (moto's execute_state_machine on), those of stacks included",
    ),
    (
        "iam_role_templates",
        "template roles get their managed policies, boundary; updates apply policies and trust",
    ),
    (
        "cfn_name_conflicts",
        "creating a named function/bucket/role/log group that exists fails; change sets refused early",
    ),
    ("cfn_import", "IMPORT change sets adopt existing buckets, log groups, functions and roles"),
)


# Comma-separated patch names the server leaves out. For the tests only: each patch's test proves
# it fails without that patch (a server started with it disabled).
DISABLE_ENV: Final = "LOCAL_AWS_DISABLE_PATCHES"


class MotoVersionError(RuntimeError):
    """The installed moto is not the version these patches were written and tested against."""


def disabled_from_env(raw: str | None) -> frozenset[str]:
    names = frozenset(n.strip() for n in (raw or "").split(",") if n.strip())
    unknown = names - {name for name, _ in PATCHES}
    if unknown:
        raise ValueError(
            f"{DISABLE_ENV}: unknown patch(es) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(name for name, _ in PATCHES)}"
        )
    return names


def apply_all(disabled: frozenset[str] = frozenset()) -> list[str]:
    """Install every patch but ``disabled`` (once per process); returns the names applied."""
    if moto.__version__ != EXPECTED_MOTO_VERSION:
        raise MotoVersionError(
            f"local_aws patches target moto=={EXPECTED_MOTO_VERSION}, found {moto.__version__}: "
            "re-check each patch against the new version before changing the pin"
        )
    applied = [name for name, _ in PATCHES if name not in disabled]
    for name in applied:
        importlib.import_module(f"local_aws.patches.{name}").apply()
    return applied
