"""A failed run never replaces a good one: every source failing, or nothing where the previous run
found items, raises before anything is written; normalize never puts empty items over stored ones.

On the local AWS (S3 of the session's emulator, buckets of each test's own) with the fixture feeds.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from scripts.invoke.fixture_feeds import FixtureFeedServer, fixture_catalog
from tests.pipeline.conftest import REPO_ROOT, RUN_DATE, config_root
from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, normalization_answer
from vectora_core.config.loading import DirStore, load_client_bundle
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.ingest import run_ingest
from vectora_core.pipeline.normalize import BedrockNormalizer, run_normalize_score
from vectora_core.pipeline.sources import HttpFetcher
from vectora_core.pipeline.storage import FailedRunError

CLIENT = "failed_runs"


def client_root(tmp_path: Path, catalog: dict) -> Path:
    """lai_weekly reading ``catalog`` as its one bouquet, under the client id of these tests."""
    root = config_root(tmp_path)
    (root / "canonical" / "sources" / f"{catalog['catalog_id']}.yaml").write_text(yaml.safe_dump(catalog))
    config = yaml.safe_load((REPO_ROOT / "clients" / "lai_weekly.yaml").read_text("utf-8"))
    config["client_profile"]["client_id"] = CLIENT
    config["source_config"] = {"source_bouquets_enabled": [catalog["catalog_id"]]}
    (root / "clients" / f"{CLIENT}.yaml").write_text(yaml.safe_dump(config))
    return root


def broken_catalog(base_url: str) -> dict:
    catalog = fixture_catalog(base_url)
    for source in catalog["sources"]:
        source["url" if source["type"] == "rss" else "eutils_base_url"] = f"{base_url}moved/{source['id']}/"
    catalog["catalog_id"] = "moved_sources"
    return catalog


@pytest.fixture
def data(aws_backend):
    s3 = aws_backend.client("s3")
    bucket = f"failed-runs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})

    def read(key: str) -> bytes | None:
        try:
            return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    return s3, bucket, read


def ingest(bundle, s3, bucket, run_date: date) -> dict:
    fetcher = HttpFetcher(attempts=1, timeout=(2.0, 5.0))
    return run_ingest(
        bundle, s3=s3, data_bucket=bucket, fetcher=fetcher, run_date=run_date, pubmed_api_key=None
    )


def raw_key(day: date) -> str:
    return f"raw/{CLIENT}/{day.isoformat()}/items.json"


def test_a_run_where_every_source_failed_raises_and_keeps_the_good_raw_items(
    tmp_path, feed_server, data
) -> None:
    s3, bucket, read = data
    good = load_client_bundle(
        DirStore(client_root(tmp_path / "good", fixture_catalog(feed_server.base_url))), CLIENT
    )
    assert ingest(good, s3, bucket, RUN_DATE)["items"] == 8
    before = read(raw_key(RUN_DATE))
    # when every feed has moved (404) and PubMed answers nothing usable
    moved = load_client_bundle(
        DirStore(client_root(tmp_path / "moved", broken_catalog(feed_server.base_url))), CLIENT
    )
    with pytest.raises(FailedRunError) as raised:
        ingest(moved, s3, bucket, RUN_DATE)
    # then one line says why, and the good run's items are still there, byte for byte
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"ingest of {CLIENT} for {RUN_DATE}: every source failed (4 of 4: fiercepharma, medincell, camurus, "
        "pubmed_lai; first error: fiercepharma: GET "
    )
    assert message.endswith("HTTP 404); nothing written")
    assert read(raw_key(RUN_DATE)) == before


def test_nothing_ingested_after_a_run_that_found_items_is_a_failed_run(tmp_path, feed_server, data) -> None:
    s3, bucket, read = data
    bundle = load_client_bundle(
        DirStore(client_root(tmp_path, fixture_catalog(feed_server.base_url))), CLIENT
    )
    assert ingest(bundle, s3, bucket, RUN_DATE)["items"] == 8
    # when a week later the feeds answer, but with nothing new (every item is older than the period)
    later = RUN_DATE + timedelta(days=30)
    with pytest.raises(FailedRunError) as raised:
        ingest(bundle, s3, bucket, later)
    assert str(raised.value) == (
        f"ingest of {CLIENT} for {later}: no item from any source, while the previous run ({RUN_DATE}) "
        "had 8; "
        "nothing written (check the sources: a quiet week is rarely this quiet)"
    )
    assert read(raw_key(later)) is None


def test_a_rerun_of_a_day_that_finds_nothing_keeps_that_days_items(tmp_path, feed_server, data) -> None:
    s3, bucket, read = data
    bundle = load_client_bundle(
        DirStore(client_root(tmp_path / "now", fixture_catalog(feed_server.base_url))), CLIENT
    )
    ingest(bundle, s3, bucket, RUN_DATE)
    before = read(raw_key(RUN_DATE))
    stale = FixtureFeedServer(today=date(2020, 1, 1)).start()  # feeds whose every item is years old
    try:
        old = load_client_bundle(
            DirStore(client_root(tmp_path / "old", fixture_catalog(stale.base_url))), CLIENT
        )
        with pytest.raises(FailedRunError, match=rf"while the run of {RUN_DATE} already stored had 8;"):
            ingest(old, s3, bucket, RUN_DATE)
    finally:
        stale.stop()
    assert read(raw_key(RUN_DATE)) == before


def test_a_first_quiet_run_is_not_a_failure(tmp_path, data) -> None:
    s3, bucket, read = data
    stale = FixtureFeedServer(today=date(2020, 1, 1)).start()
    try:
        bundle = load_client_bundle(DirStore(client_root(tmp_path, fixture_catalog(stale.base_url))), CLIENT)
        assert ingest(bundle, s3, bucket, RUN_DATE)["items"] == 0
    finally:
        stale.stop()
    assert json.loads(read(raw_key(RUN_DATE)) or b"{}")["items"] == []


def test_normalize_never_puts_empty_items_over_stored_ones(tmp_path, feed_server, data) -> None:
    s3, bucket, read = data
    bundle = load_client_bundle(
        DirStore(client_root(tmp_path, fixture_catalog(feed_server.base_url))), CLIENT
    )
    ingest(bundle, s3, bucket, RUN_DATE)
    normalizer = BedrockNormalizer(bundle, BedrockJson(FakeBedrock(normalization_answer).client, MODEL_ID))
    run = {"s3": s3, "data_bucket": bucket, "normalizer": normalizer, "run_date": RUN_DATE}
    assert run_normalize_score(bundle, **run)["items"] == 8
    dated, latest = f"curated/{CLIENT}/{RUN_DATE}/items.json", f"curated/{CLIENT}/curated_items.json"
    before = (read(dated), read(latest))
    # given an empty raw file for that day (written by hand: ingest itself would refuse it)
    s3.put_object(Bucket=bucket, Key=raw_key(RUN_DATE), Body=json.dumps({"items": []}).encode())
    with pytest.raises(FailedRunError) as raised:
        run_normalize_score(bundle, **run)
    assert str(raised.value) == (
        f"curated items of {RUN_DATE} is empty and s3://{bucket}/{dated} holds 8 item(s): not replaced "
        "(a failed run never replaces a good one)"
    )
    assert (read(dated), read(latest)) == before
