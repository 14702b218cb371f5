"""Fixtures of the pipeline tests: the repository's config, fixture feeds, items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from scripts.invoke.fixture_feeds import FixtureFeedServer
from vectora_core.config.loading import ClientBundle, DirStore, load_client_bundle

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_DATE = date(2026, 11, 24)


@pytest.fixture(scope="session")
def bundle() -> ClientBundle:
    return load_client_bundle(DirStore(REPO_ROOT), "lai_weekly")


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FixtureFeedServer]:
    server = FixtureFeedServer(today=RUN_DATE).start()
    yield server
    server.stop()
