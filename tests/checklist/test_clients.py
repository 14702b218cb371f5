"""The client-config items: ✓ on the checkout's configs, ✗ on a copy broken for each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checklist.conftest import copy_checkout_configs, no_templates
from vectora_ops.checklist import ITEMS, Status

CLIENT_ITEMS = [item for item in ITEMS if item.id.startswith("client-")]


def run(item_id: str, root: Path) -> tuple[Status, str]:
    item = next(i for i in ITEMS if i.id == item_id)
    result = item.check(no_templates("dev", root))
    return result.status, result.evidence


@pytest.mark.parametrize("item", CLIENT_ITEMS, ids=lambda i: i.id)
def test_every_client_item_passes_on_the_checkout(item: object, tmp_path: Path) -> None:
    status, evidence = run(item.id, copy_checkout_configs(tmp_path))  # type: ignore[attr-defined]
    assert status is Status.PASSED, evidence


def broken(tmp_path: Path, old: str, new: str) -> Path:
    root = copy_checkout_configs(tmp_path)
    config = root / "clients" / "lai_weekly.yaml"
    text = config.read_text("utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), "utf-8")
    return root


def test_a_versioned_client_id_fails(tmp_path: Path) -> None:
    status, evidence = run(
        "client-id", broken(tmp_path, "client_id: lai_weekly ", "client_id: lai_weekly_v7 ")
    )
    assert status is Status.FAILED and "client_profile.client_id" in evidence


def test_a_version_that_is_not_semantic_fails(tmp_path: Path) -> None:
    status, evidence = run("client-version", broken(tmp_path, 'version: "7.1.0"', 'version: "7.1"'))
    assert status is Status.FAILED and "client_profile.version" in evidence


def test_a_changelog_without_the_version_fails(tmp_path: Path) -> None:
    status, evidence = run("client-changelog", broken(tmp_path, '- version: "7.1.0"', '- version: "7.0.9"'))
    assert status is Status.FAILED and "metadata.changelog" in evidence


def test_a_config_naming_an_environment_fails(tmp_path: Path) -> None:
    root = broken(
        tmp_path, "client_id: lai_weekly ", "client_id: lai_weekly  # see vectora-inbox-data-prod\n "
    )
    status, evidence = run("client-promotable", root)
    assert status is Status.FAILED and "'vectora-inbox-data-prod'" in evidence
