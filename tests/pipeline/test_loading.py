"""What the functions load: the bundle (sources from bouquets and extra sources, the scopes, the
runtime check), hostile objects in the bucket, and which clients a run for all clients covers."""

from __future__ import annotations

import uuid

import pytest
import yaml

from tests.pipeline.conftest import REPO_ROOT, config_root
from vectora_core import RUNTIME_VERSION
from vectora_core.config.loading import (
    MAX_CONFIG_BYTES,
    DirStore,
    S3Store,
    active_client_ids,
    load_client_bundle,
)
from vectora_core.config.validation import ConfigError

TEMPLATE = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text("utf-8"))


def client(client_id: str, **changes: object) -> str:
    document = yaml.safe_load(yaml.safe_dump(TEMPLATE))
    document["client_profile"]["client_id"] = client_id
    for section, values in changes.items():
        document[section] = {**document.get(section, {}), **values}  # type: ignore[dict-item]
    return yaml.safe_dump(document, allow_unicode=True)


def test_sources_come_from_the_bouquets_then_the_extra_sources_each_once(tmp_path) -> None:
    root = config_root(tmp_path)
    extra = {
        "catalog_id": "hiv_press",
        "description": "HIV trade press",
        "sources": [
            {"id": "aidsmap", "name": "aidsmap", "type": "rss", "url": "https://www.aidsmap.com/rss.xml"},
            {"id": "poz", "name": "POZ", "type": "rss", "url": "https://www.poz.com/rss"},
        ],
    }
    (root / "canonical" / "sources" / "hiv_press.yaml").write_text(yaml.safe_dump(extra))
    source_config = {"source_bouquets_enabled": ["lai_sources"], "sources_extra_enabled": ["poz", "camurus"]}
    (root / "clients" / "x_client.yaml").write_text(client("x_client", source_config=source_config))
    bundle = load_client_bundle(DirStore(root), "x_client")
    lai = [
        s["id"] for s in yaml.safe_load((root / "canonical/sources/lai_sources.yaml").read_text())["sources"]
    ]
    assert [s.id for s in bundle.sources] == [*lai, "poz"]  # camurus is in the bouquet already
    assert [c.catalog_id for c in bundle.catalogs] == ["lai_sources", "hiv_press"]
    assert sorted(bundle.scopes) == ["lai_companies", "lai_keywords", "lai_molecules", "lai_technologies"]


def test_a_config_needing_a_newer_runtime_is_refused_by_the_function(tmp_path) -> None:
    root = config_root(tmp_path)
    (root / "clients" / "x_client.yaml").write_text(
        client("x_client", metadata={"min_runtime_version": "99.0.0"})
    )
    with pytest.raises(ConfigError) as raised:
        load_client_bundle(DirStore(root), "x_client")
    assert raised.value.problems == [
        f"metadata.min_runtime_version: 99.0.0 is newer than the runtime {RUNTIME_VERSION} of this runtime "
        "(the deployed layer); deploy a runtime >= 99.0.0 first"
    ]


@pytest.fixture
def bucket(aws_backend):
    s3 = aws_backend.client("s3")
    name = f"loading-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return s3, name


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00", "a binary file (it contains NUL bytes), not YAML text"),
        (
            b"# " + b"x" * MAX_CONFIG_BYTES,
            f"{MAX_CONFIG_BYTES + 1} bytes, larger than the {MAX_CONFIG_BYTES} bytes",
        ),
        ("name: réglementaire\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 7)"),
        (b"  \n", "empty file"),
    ],
)
def test_a_hostile_object_in_the_bucket_is_one_problem_for_the_function(
    bucket, body: bytes, expected: str
) -> None:
    s3, name = bucket
    s3.put_object(Bucket=name, Key="clients/x_client.yaml", Body=body)
    with pytest.raises(ConfigError) as raised:
        load_client_bundle(S3Store(s3, name), "x_client")
    assert raised.value.subject == "clients/x_client.yaml"
    assert raised.value.problems[0].startswith(f"s3://{name}/clients/x_client.yaml: {expected}")


def test_active_clients_are_those_not_marked_inactive(bucket, tmp_path) -> None:
    s3, name = bucket
    files = {
        "clients/weekly_a.yaml": client("weekly_a"),
        "clients/weekly_b.yaml": client(
            "weekly_b", client_profile={**TEMPLATE["client_profile"], "active": False}
        ),
        "clients/weekly_c.yaml": "client_profile: {client_id: weekly_c}\n",  # no "active": active
        "clients/weekly_d.yaml": "client_profile: [\n",  # unreadable: kept, so its own run says why
        "clients/notes.txt": "not a config\n",
        "clients/Weekly-E.yaml": client("weekly_e"),  # not a client id: never a run
    }
    root = config_root(tmp_path)
    for key, text in files.items():
        s3.put_object(Bucket=name, Key=key, Body=text.encode())
        (root / key).write_text(text)
    expected = ["weekly_a", "weekly_c", "weekly_d"]
    assert active_client_ids(S3Store(s3, name)) == expected
    assert active_client_ids(DirStore(root)) == expected
