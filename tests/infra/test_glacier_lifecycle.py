"""The backups bucket's Glacier transition takes only the snapshot files tagged as sleepable.

A Glacier object answers GetObject with ``InvalidObjectState`` until restored: a transition of all of
``snapshots/`` made the metadata, READMEs and stack templates (read by list, verify and a rollback,
the templates as a ``TemplateURL``) unreadable after 90 days in prod (issue 23, item 3). The rule
filters on the tag the writers set on the bulk copies only (``vectora_ops/snapshots/layout.py``).
"""

from __future__ import annotations

from tests.infra.conftest import resources_of
from tests.support.assembly import CloudAssembly
from vectora_core.environments import get_env_config
from vectora_core.naming import ENV_NAMES, Bucket, StackComponent, resource_name
from vectora_ops.snapshots.layout import SLEEP_TAG_KEY, SLEEP_TAG_VALUE

ARCHIVE_CLASSES = {"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"}


def transitions(assembly: CloudAssembly, env: str) -> dict[str, list[dict]]:
    """{bucket name: its lifecycle rules that move objects to an archive class}."""
    found: dict[str, list[dict]] = {}
    for bucket in resources_of(assembly, StackComponent.CORE, env, "AWS::S3::Bucket").values():
        props = bucket["Properties"]
        for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
            moves = [t for t in rule.get("Transitions", []) if t["StorageClass"] in ARCHIVE_CLASSES]
            if moves or rule.get("Transition"):
                found.setdefault(props["BucketName"], []).append(rule)
    return found


def test_only_tagged_snapshot_files_go_to_glacier(assembly: CloudAssembly) -> None:
    for env in ENV_NAMES:
        days = get_env_config(env).snapshot_glacier_after_days
        found = transitions(assembly, env)
        if days is None:
            assert found == {}, env
            continue
        (rule,) = found.pop(resource_name(Bucket.BACKUPS, env))
        assert found == {}, f"{env}: no other bucket archives: {found}"
        assert rule["Status"] == "Enabled" and rule["Prefix"] == "snapshots/"
        assert rule["TagFilters"] == [{"Key": SLEEP_TAG_KEY, "Value": SLEEP_TAG_VALUE}], rule
        assert rule["Transitions"] == [{"StorageClass": "GLACIER", "TransitionInDays": days}]


def test_prod_archives_old_snapshots() -> None:
    # the test above must not pass on an app that archives nothing
    assert get_env_config("prod").snapshot_glacier_after_days is not None
