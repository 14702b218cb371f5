"""Fixtures of the pipeline tests: the repository's config, fixture feeds, items."""

from __future__ import annotations

import shutil
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


CONFIGS = Path(__file__).parent / "configs"


def config_root(tmp: Path, *configs: Path) -> Path:
    """A repository-shaped folder: the repository's canonical/ and the given client configs."""
    (tmp / "clients").mkdir(parents=True, exist_ok=True)
    if not (tmp / "canonical").exists():
        shutil.copytree(REPO_ROOT / "canonical", tmp / "canonical")
    for config in configs:
        (tmp / "clients" / config.name).write_bytes(config.read_bytes())
    return tmp


@pytest.fixture(scope="session")
def team_bundle(tmp_path_factory: pytest.TempPathFactory) -> ClientBundle:
    """The team-format test config (four sections, the last a "*" catch-all), loaded as a function does."""
    root = config_root(tmp_path_factory.mktemp("team"), CONFIGS / "lai_weekly.yaml")
    return load_client_bundle(DirStore(root), "lai_weekly")


def in_order(text: str, parts: list[str]) -> bool:
    """Each of ``parts`` appears in ``text``, each after the previous one (a newsletter's section
    titles and item titles, whatever the markup around them)."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True
