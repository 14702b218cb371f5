"""The three steps in-process on the local AWS's S3, Bedrock stubbed at the client (fake_bedrock): the
newsletter follows a team-format layout of four sections, the last a "*" catch-all."""

from __future__ import annotations

import logging
import uuid

import pytest
import yaml

from scripts.invoke.fixture_feeds import FIXTURE_CATALOG_ID, fixture_catalog
from tests.pipeline.conftest import CONFIGS, RUN_DATE, config_root, in_order
from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, editorial_answer, normalization_answer
from vectora_core.config.loading import DirStore, load_client_bundle
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.ingest import run_ingest
from vectora_core.pipeline.newsletter import BedrockEditor, run_newsletter
from vectora_core.pipeline.normalize import BedrockNormalizer, run_normalize_score
from vectora_core.pipeline.sources import HttpFetcher

CLIENT = "team_layout"


def team_layout_files(base_url: str) -> dict[str, str]:
    """The team-format test config (client id CLIENT) reading the fixture feeds, and their catalog."""
    text = (CONFIGS / "lai_weekly.yaml").read_text("utf-8")
    text = text.replace('client_id: "lai_weekly"', f'client_id: "{CLIENT}"')
    text = text.replace('    - "lai_sources"                   #', f'    - "{FIXTURE_CATALOG_ID}"          #')
    # the fixture feeds date their items within a week: a 7-day period, a threshold they can reach
    text = text.replace("default_period_days: 30", "default_period_days: 7").replace(
        "min_score: 12", "min_score: 8"
    )
    return {
        f"clients/{CLIENT}.yaml": text,
        f"canonical/sources/{FIXTURE_CATALOG_ID}.yaml": yaml.safe_dump(fixture_catalog(base_url)),
    }


@pytest.fixture
def run(tmp_path, aws_backend, feed_server):
    root = config_root(tmp_path)
    for key, text in team_layout_files(feed_server.base_url).items():
        (root / key).write_text(text, encoding="utf-8")
    bundle = load_client_bundle(DirStore(root), CLIENT)
    s3 = aws_backend.client("s3")
    buckets = {n: f"layout-{n}-{uuid.uuid4().hex[:8]}" for n in ("data", "newsletters")}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return bundle, s3, buckets


def test_the_newsletter_follows_the_layout_with_its_catch_all(run, caplog) -> None:
    bundle, s3, buckets = run
    caplog.set_level(logging.INFO, logger="vectora_core")
    # when the three steps run in turn
    ingested = run_ingest(
        bundle, s3=s3, data_bucket=buckets["data"], fetcher=HttpFetcher(attempts=1), run_date=RUN_DATE,
        pubmed_api_key=None,
    )  # fmt: skip
    normalizer = BedrockNormalizer(bundle, BedrockJson(FakeBedrock(normalization_answer).client, MODEL_ID))
    run_normalize_score(bundle, s3=s3, data_bucket=buckets["data"], normalizer=normalizer, run_date=RUN_DATE)
    editor = BedrockEditor(BedrockJson(FakeBedrock(editorial_answer).client, MODEL_ID))
    letter = run_newsletter(
        bundle, s3=s3, data_bucket=buckets["data"], newsletters_bucket=buckets["newsletters"], editor=editor,
        run_date=RUN_DATE,
    )  # fmt: skip
    # then: every section in priority order, with its items in its own order; the catch-all takes
    # the items no specialised section accepts (publications here), none is left out
    assert ingested["items"] == 8
    assert letter["sections"] == {
        "regulatory_updates": 1,
        "partnerships_deals": 2,
        "clinical_updates": 1,
        "others": 3,
    }
    assert letter["left_out"] == 0
    body = s3.get_object(Bucket=buckets["newsletters"], Key=f"{CLIENT}/2026-11-24/newsletter.md")["Body"]
    markdown = body.read().decode()
    assert in_order(
        markdown,
        [
            "Regulatory Updates",
            "FDA approves Teva and MedinCell's olanzapine long-acting injectable for schizophrenia",
            "Partnerships & Deals",  # sort_by date_desc: the 22nd, then the 19th
            "Camurus enters license agreement with Lilly for FluidCrystal long-acting incretins",
            "Camurus launches Oczyesa octreotide subcutaneous depot in Germany",
            "Clinical Updates",
            "MedinCell announces first patient dosed in Phase 3 trial of mdc-CWM for post-operative pain",
            "Other Signals",  # sort_by score_desc
            "MedinCell raises EUR 30 million in a private placement",
            "Real-world persistence with paliperidone palmitate long-acting injectables",
            "Pharmacokinetics of twice-yearly subcutaneous lenacapavir in adolescents",
        ],
    )
    assert "Pfizer" not in markdown  # off-topic: below the threshold
    # and once per run, one line each: the keys the pipeline reads past, the keys the schema does not know
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"config {CLIENT} 7.0.0: ")]
    assert lines == [
        f"config {CLIENT} 7.0.0: 6 key(s) unknown to the schema, kept as they are: "
        "matching_config.enable_diagnostic_mode, matching_config.trademark_privileges.ingestion_priority, "
        "newsletter_selection.deduplication.prefer_higher_score, newsletter_layout.sections[3].notes, "
        "metadata.created_by, metadata.creation_notes",
        f"config {CLIENT} 7.0.0: not used by this pipeline (kept as they are): client_profile.frequency, "
        "bedrock_config.enable_domain_scoring, watch_domains[].type, watch_domains[].priority, "
        "watch_domains[].technology_profile, watch_domains[].matching_profile, "
        "source_config.bouquet_ingestion_overrides, source_config.content_filters, matching_config, "
        "scoring_config.selection_overrides.min_items_per_section, "
        "newsletter_selection.critical_event_types, "
        "newsletter_selection.trimming_policy, newsletter_selection.deduplication, "
        "newsletter_layout.distribution_strategy, newsletter_delivery.format, "
        "newsletter_delivery.delivery_method, "
        "newsletter_delivery.notification_email, newsletter_delivery.metrics_config.include_trend_analysis",
    ]


def test_ingest_sizes_the_batches_for_the_map(run) -> None:
    bundle, s3, buckets = run
    ingested = run_ingest(
        bundle, s3=s3, data_bucket=buckets["data"], fetcher=HttpFetcher(attempts=1), run_date=RUN_DATE,
        pubmed_api_key=None, batch_size=5, batches_in_flight=1,
    )  # fmt: skip
    # 8 items, at most 5 a batch: two batches of 4 rather than 5 and 3 (the run is as long as its
    # longest batch)
    assert (ingested["batch_size"], ingested["batches"], ingested["batch_indexes"]) == (4, 2, [0, 1])
