"""syrupy snapshots of all nine templates: any change shows as a reviewable diff.

Asset hashes are normalized (they change with every handler edit); everything else, logical IDs of
stateful resources included, is compared as is. Update with ``make snapshot-update`` after review.
"""

from __future__ import annotations

import json
import re

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infra.conftest import ALL_STACKS, CloudAssembly
from vectora_core.naming import resource_name

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalized(template: dict) -> dict:
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(("component", "env"), ALL_STACKS, ids=[resource_name(c, e) for c, e in ALL_STACKS])
def test_template_matches_snapshot(
    assembly: CloudAssembly, snapshot_json: SnapshotAssertion, component: str, env: str
) -> None:
    assert normalized(assembly.templates[resource_name(component, env)]) == snapshot_json


def test_normalization_only_touches_asset_hashes() -> None:
    template = {"S3Key": "a" * 64 + ".zip", "Name": "vectora-inbox-config-dev", "Short": "abc123"}
    assert normalized(template) == {
        "S3Key": "<asset-hash>.zip",
        "Name": "vectora-inbox-config-dev",
        "Short": "abc123",
    }
