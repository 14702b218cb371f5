"""The suite's sessions share botocore's loaded service models (tests/support/models.py)."""

from __future__ import annotations

from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest

from tests.support.models import share_service_models


def test_new_sessions_share_one_loader_whose_search_paths_do_not_grow() -> None:
    share_service_models()  # as tests/conftest.py does: calling it again changes nothing
    first = boto3.session.Session(region_name="eu-west-3")
    paths = list(first._loader.search_paths)  # boto3 has added its data folder once
    for _ in range(5):
        later = boto3.session.Session(region_name="eu-west-3")
    assert later._loader is first._loader
    assert list(later._loader.search_paths) == paths and len(set(paths)) == len(paths)


def test_a_session_of_another_data_path_gets_a_loader_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    other = boto3.session.Session(region_name="eu-west-3")
    monkeypatch.delenv("AWS_DATA_PATH")
    assert other._loader is not boto3.session.Session(region_name="eu-west-3")._loader
    assert str(tmp_path) in other._loader.search_paths
    # and the clients still work from the shared models
    assert other.client("s3").meta.service_model.service_name == "s3"


def test_the_tooling_sessions_share_the_loader_and_keep_their_own_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vectora_ops.reach import EndpointSession
    from vectora_ops.sessions import new_session

    # botocore as the operator's process has it (the suite shares the loader for every session)
    monkeypatch.setattr(botocore.session, "create_loader", botocore.loaders.create_loader)
    plain = new_session(region_name="eu-west-1")
    endpoint = new_session(EndpointSession, endpoint_url="http://localhost:1", region_name="eu-west-3")
    assert plain._loader is endpoint._loader
    assert boto3.session.Session()._loader is not plain._loader
    assert (plain.region_name, endpoint.region_name) == ("eu-west-1", "eu-west-3")
    assert endpoint.client("s3").meta.endpoint_url == "http://localhost:1"
