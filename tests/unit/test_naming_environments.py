"""The naming convention and the per-environment config, defined once in vectora_core."""

from __future__ import annotations

import dataclasses

import pytest

from vectora_core.environments import ENVIRONMENTS, get_env_config
from vectora_core.naming import (
    ENV_NAMES,
    Bucket,
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
