"""The naming convention and the per-environment config, defined once in vectora_core."""

from __future__ import annotations

import dataclasses

import pytest

from vectora_constructs.paths import LAMBDAS_DIR
from vectora_core.environments import ENVIRONMENTS, EnvConfigError, get_env_config
from vectora_core.functions import FUNCTIONS
from vectora_core.naming import (
    ENV_NAMES,
    Bucket,
    EnvVar,
    Function,
    UnknownEnvironmentError,
    check_env,
    log_group_name,
    pubmed_api_key_param,
    resource_name,
    role_name,
)


def test_resource_names_follow_base_dash_env() -> None:
    assert resource_name(Function.INGEST, "dev") == "vectora-inbox-ingest-v2-dev"
    assert resource_name(Bucket.CONFIG, "prod") == "vectora-inbox-config-prod"
    assert role_name(Function.NEWSLETTER, "stage") == "vectora-inbox-newsletter-v2-role-stage"
    assert (
        log_group_name(Function.NORMALIZE_SCORE, "dev") == "/aws/lambda/vectora-inbox-normalize-score-v2-dev"
    )
    assert pubmed_api_key_param("prod") == "/rag-lai/prod/pubmed/api-key"


@pytest.mark.parametrize("bad", ["qa", "", "Dev", "prod "])
def test_unknown_environment_is_one_line_listing_the_allowed_values(bad: str) -> None:
    with pytest.raises(UnknownEnvironmentError) as error:
        check_env(bad)
    assert str(error.value) == f"unknown environment {bad!r}: allowed values are dev, stage, prod"
    with pytest.raises(UnknownEnvironmentError):
        resource_name("config", bad)
    with pytest.raises(UnknownEnvironmentError):
        get_env_config(bad)


def test_one_config_per_environment_and_they_are_frozen() -> None:
    assert tuple(ENVIRONMENTS) == ENV_NAMES
    assert all(name == config.name for name, config in ENVIRONMENTS.items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENVIRONMENTS["prod"].debug = True  # type: ignore[misc]  # the point: it must refuse


def test_environment_table_of_the_architecture() -> None:
    dev, stage, prod = (ENVIRONMENTS[e] for e in ENV_NAMES)
    assert (dev.log_level, dev.debug, stage.log_level, stage.debug, prod.log_level, prod.debug) == (
        "DEBUG", True, "INFO", True, "INFO", False,
    )  # fmt: skip
    assert [c.snapshot_keep_newest for c in (dev, stage, prod)] == [7, 30, None]
    assert [c.snapshot_glacier_after_days for c in (dev, stage, prod)] == [None, None, 90]
    assert [c.snapshot_failure_fails_update for c in (dev, stage, prod)] == [False, True, True]
    assert [c.retain_stateful for c in (dev, stage, prod)] == [False, True, True]
    assert [c.alarms_enabled for c in (dev, stage, prod)] == [False, True, True]


def test_inference_profile_maps_to_its_foundation_model() -> None:
    prod = ENVIRONMENTS["prod"]
    assert prod.is_inference_profile
    assert prod.bedrock_foundation_model_id == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    direct = dataclasses.replace(prod, bedrock_model_id="anthropic.claude-3-sonnet-20240229-v1:0")
    assert not direct.is_inference_profile
    assert direct.bedrock_foundation_model_id == "anthropic.claude-3-sonnet-20240229-v1:0"


def test_who_may_change_each_environment_is_config() -> None:
    dev, stage, prod = (ENVIRONMENTS[e] for e in ENV_NAMES)
    # promotion goes dev -> stage -> prod, and only prod refuses direct changes and needs approval
    assert [c.promoted_from for c in (dev, stage, prod)] == [None, "dev", "stage"]
    assert [c.direct_changes_allowed for c in (dev, stage, prod)] == [True, True, False]
    assert [c.approval_required for c in (dev, stage, prod)] == [False, False, True]
    assert [c.source_stability_days for c in (dev, stage, prod)] == [None, None, 14]
    assert [c.post_promotion_watch_hours for c in (dev, stage, prod)] == [None, None, 48]
    assert [c.extra_env_allowed for c in (dev, stage, prod)] == [True, False, False]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"log_level": "LOUD"}, "prod: log_level 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
        ({"snapshot_glacier_after_days": 0}, "prod: snapshot_glacier_after_days must be a whole number >= 1"),
        ({"log_retention_days": -3}, "prod: log_retention_days must be a whole number >= 1"),
        ({"source_stability_days": True}, "prod: source_stability_days must be a whole number >= 1"),
        ({"lambda_memory_mb": 64}, "prod: lambda_memory_mb must be 128-10240, got 64"),
        ({"lambda_timeout_seconds": 901}, "prod: lambda_timeout_seconds must be 1-900, got 901"),
        ({"promoted_from": "prod"}, "prod: promoted_from must name another environment, got 'prod'"),
    ],
)
def test_a_config_that_breaks_its_rules_is_refused_in_one_line(change: dict, message: str) -> None:
    with pytest.raises(EnvConfigError) as error:
        dataclasses.replace(ENVIRONMENTS["prod"], **change)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


# --- the function specs -------------------------------------------------------------------------


def test_every_pipeline_function_has_one_spec_and_its_code() -> None:
    assert list(FUNCTIONS) == list(Function)
    for name, spec in FUNCTIONS.items():
        assert spec.name == name
        assert (LAMBDAS_DIR / spec.code_dir / "handler.py").is_file()


def test_variables_follow_from_what_a_function_may_touch() -> None:
    common = {"ENV", "PROJECT_NAME", "CONFIG_BUCKET", "DATA_BUCKET", "LOG_LEVEL", "DEBUG", "RUNTIME_VERSION"}
    variables = {name: set(spec.variables) for name, spec in FUNCTIONS.items()}
    assert variables[Function.INGEST] == common | {"PUBMED_API_KEY_PARAM"}
    assert variables[Function.NORMALIZE_SCORE] == common | {"BEDROCK_MODEL_ID", "BEDROCK_REGION"}
    assert variables[Function.NEWSLETTER] == common | {
        "BEDROCK_MODEL_ID",
        "BEDROCK_REGION",
        "NEWSLETTERS_BUCKET",
    }
    # a function given another bucket gets the variable naming it
    spec = dataclasses.replace(
        FUNCTIONS[Function.INGEST],
        access=dataclasses.replace(FUNCTIONS[Function.INGEST].access, writes=((Bucket.NEWSLETTERS, "x/"),)),
    )
    assert EnvVar.NEWSLETTERS_BUCKET in spec.variables
    assert spec.environment(ENVIRONMENTS["stage"])["NEWSLETTERS_BUCKET"] == "vectora-inbox-newsletters-stage"


def test_the_snapshot_layout_is_read_without_the_engine_or_boto3() -> None:
    # stacks/core_stack.py reads the layout's sleep tag at every synth; the engine and boto3 behind
    # vectora_ops.snapshots cost 0.1 s of it, so the package resolves them on first use.
    import subprocess
    import sys

    probe = (
        "import sys, vectora_ops.snapshots.layout as layout; "
        "print(layout.SLEEP_TAG_KEY and sorted({'boto3', 'vectora_ops.snapshots.engine'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    from vectora_ops.snapshots import SnapshotEngine  # and on first use, the name is there

    assert SnapshotEngine.__module__ == "vectora_ops.snapshots.engine"
