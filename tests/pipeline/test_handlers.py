"""The three handlers against S3 and SSM (moto in this process, then the local AWS), Bedrock stubbed at
its client.

Each test gets its own buckets (never the ``vectora-inbox-*-dev`` ones that ``deployed_dev``
creates), the repository's config plus a fixture client published into them, and fresh handler
modules imported with the test's environment, as a cold start would.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from scripts.invoke.fixture_feeds import BROKEN_SOURCE_ID, fixture_config_files
from tests.pipeline.conftest import REPO_ROOT, RUN_DATE
from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, editorial_answer, normalization_answer
from vectora_core.pipeline.runtime import EventError
from vectora_core.pipeline.settings import SettingsError
from vectora_ops.config.publish import repo_files, upload

CLIENT = "lai_weekly_handlers"
EVENT = {"client_id": CLIENT, "run_date": RUN_DATE.isoformat()}


@dataclass
class Context:
    function_name: str = "vectora-inbox-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-3:123456789012:function:vectora-inbox-test"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def aws(aws_backend, feed_server, monkeypatch):
    """Own buckets (in this process, then on the emulator) with the config published, and the
    functions' environment set."""
    suffix = uuid.uuid4().hex[:8]
    buckets = {name: f"pipeline-test-{name}-{suffix}" for name in ("config", "data", "newsletters")}
    s3 = aws_backend.client("s3")
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    files = repo_files(REPO_ROOT) + fixture_config_files(
        feed_server.base_url, client_id=CLIENT, with_broken_source=True
    )
    upload(s3, buckets["config"], files)
    env = {
        "ENV": "dev",
        "PROJECT_NAME": "vectora-inbox",
        "CONFIG_BUCKET": buckets["config"],
        "DATA_BUCKET": buckets["data"],
        "NEWSLETTERS_BUCKET": buckets["newsletters"],
        "LOG_LEVEL": "DEBUG",
        "DEBUG": "true",
        "BEDROCK_MODEL_ID": MODEL_ID,
        "BEDROCK_REGION": "eu-west-3",
        "PUBMED_API_KEY_PARAM": f"/rag-lai/dev/pubmed/api-key-{suffix}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    feed_server.requests.clear()

    class Aws:
        pass

    result = Aws()
    result.s3, result.ssm, result.buckets, result.env = s3, aws_backend.client("ssm"), buckets, env
    result.read = lambda bucket, key: s3.get_object(Bucket=buckets[bucket], Key=key)["Body"].read().decode()
    return result


def cold_start(function: str) -> Any:
    """Import ``lambdas/<function>/handler.py`` afresh, as Lambda does on a cold start."""
    path = REPO_ROOT / "lambdas" / function / "handler.py"
    # A fresh process has no logger yet: Powertools configures a service's logger only once.
    logging.root.manager.loggerDict.pop(function.replace("_", "-"), None)
    spec = importlib.util.spec_from_file_location(f"handler_{function}_{uuid.uuid4().hex}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ingest_fetches_filters_dedups_reports_the_failing_source_and_goes_on_without_an_api_key(
    aws, feed_server
) -> None:
    result = cold_start("ingest_v2").handler(EVENT, Context())
    assert result["sources_failed"] == [BROKEN_SOURCE_ID] and result["sources_ok"] == 4
    assert result["raw_items"] == f"s3://{aws.buckets['data']}/raw/{CLIENT}/2026-11-24/items.json"
    # DEBUG=true adds what the function ran with: its settings, by the variables' names.
    assert result["debug"]["function"] == "ingest-v2"
    assert result["debug"]["pubmed_api_key_param"] == aws.env["PUBMED_API_KEY_PARAM"]
    raw = json.loads(aws.read("data", f"raw/{CLIENT}/2026-11-24/items.json"))
    titles = [i["title"] for i in raw["items"]]
    assert len(titles) == 8 and result["items"] == 8
    assert not any(t.startswith("Alkermes") for t in titles)  # 40 days old: outside the period
    assert raw["duplicates_removed"] == 1
    assert next(i for i in raw["items"] if i["title"].startswith("Camurus enters"))["also_in"] == ["camurus"]
    broken = next(s for s in raw["sources"] if s["source_id"] == BROKEN_SOURCE_ID)
    assert broken["status"] == "failed" and "HTTP 404" in broken["error"]
    assert raw["catalogs"] == [{"catalog_id": "demo_fixture_sources", "fixture": True}]
    esearch = [q for path, q in feed_server.requests if path.endswith("esearch.fcgi")]
    assert esearch and "api_key" not in esearch[0]  # the SSM parameter does not exist here


def test_a_pubmed_answer_that_is_not_json_fails_that_source_only(aws, feed_server, monkeypatch) -> None:
    # given NCBI answering esearch with an HTML maintenance page (HTTP 200)
    real_answer = feed_server._answer

    def maintenance(path: str, query: dict) -> tuple[int, str, bytes]:
        if path.endswith("esearch.fcgi"):
            return 200, "text/html", b"<html><body>NCBI is down for maintenance</body></html>"
        return real_answer(path, query)

    monkeypatch.setattr(feed_server, "_answer", maintenance)
    # when ingest runs, then PubMed is reported failed and the feeds are still written
    result = cold_start("ingest_v2").handler(EVENT, Context())
    assert sorted(result["sources_failed"]) == sorted([BROKEN_SOURCE_ID, "pubmed_lai"])
    assert result["sources_ok"] == 3 and result["items"] > 0
    raw = json.loads(aws.read("data", f"raw/{CLIENT}/2026-11-24/items.json"))
    pubmed = next(s for s in raw["sources"] if s["source_id"] == "pubmed_lai")
    assert pubmed["status"] == "failed" and "not the expected JSON" in pubmed["error"]


def test_log_level_and_debug_follow_the_environment(aws, feed_server, monkeypatch) -> None:
    # given the settings of prod: WARNING and no debug output
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DEBUG", "false")
    module = cold_start("ingest_v2")
    assert module.logger.log_level == logging.WARNING
    assert "debug" not in module.handler(EVENT, Context())
    # and with dev's, DEBUG and the debug block
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DEBUG", "true")
    module = cold_start("ingest_v2")
    assert module.logger.log_level == logging.DEBUG
    assert "debug" in module.handler(EVENT, Context())


def test_ingest_reads_the_pubmed_api_key_from_ssm(aws, feed_server) -> None:
    aws.ssm.put_parameter(Name=aws.env["PUBMED_API_KEY_PARAM"], Value="k-123", Type="SecureString")
    cold_start("ingest_v2").handler(EVENT, Context())
    esearch = [q for path, q in feed_server.requests if path.endswith("esearch.fcgi")]
    assert esearch[0]["api_key"] == ["k-123"]


def test_pipeline_with_bedrock_stubbed_at_the_client(aws) -> None:
    # given: raw items for the run date
    cold_start("ingest_v2").handler(EVENT, Context())
    # when: normalize-score with the Bedrock client answering real Converse documents
    normalize = cold_start("normalize_score_v2")
    fake = FakeBedrock(normalization_answer)
    normalize.BEDROCK = fake.client
    result = normalize.handler(EVENT, Context())
    # then
    assert (result["normalizer"], result["items"], result["failed"]) == ("bedrock", 8, 0)
    assert len(fake.requests) == 8 and {r["modelId"] for r in fake.requests} == {MODEL_ID}
    # Converse, with the inference profile's id quoted in the path (the host is the stub's own)
    assert {urlsplit(r["url"]).path for r in fake.requests} == {
        "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    }
    dated = json.loads(aws.read("data", f"curated/{CLIENT}/2026-11-24/items.json"))
    latest = json.loads(aws.read("data", f"curated/{CLIENT}/curated_items.json"))
    assert dated == latest and dated["normalizer"]["mode"] == "bedrock"
    assert [i["score"] for i in dated["items"]] == sorted((i["score"] for i in dated["items"]), reverse=True)
    # when: the newsletter, editorial by the stubbed model
    newsletter = cold_start("newsletter_v2")
    editor = FakeBedrock(editorial_answer)
    newsletter.BEDROCK = editor.client
    letter = newsletter.handler(EVENT, Context())
    # then
    assert letter["markdown"] == f"s3://{aws.buckets['newsletters']}/{CLIENT}/2026-11-24/newsletter.md"
    markdown = aws.read("newsletters", f"{CLIENT}/2026-11-24/newsletter.md")
    assert "BEDROCK-EDITORIAL intro." in markdown
    assert "FIXTURE SOURCES" in markdown
    assert f"editorial: Bedrock {MODEL_ID}" in markdown
    # the section's title, then the model's introduction of that section (markup: the renderer's)
    assert markdown.index("Regulatory & approvals") < markdown.index("BEDROCK-EDITORIAL regulatory")
    assert "Pfizer" not in markdown
    html = aws.read("newsletters", f"{CLIENT}/2026-11-24/newsletter.html")
    assert "MedinCell&#x27;s olanzapine" in html  # escaped


def test_settings_errors_fail_the_cold_start_naming_the_variable(aws, monkeypatch) -> None:
    monkeypatch.delenv("CONFIG_BUCKET")
    with pytest.raises(SettingsError, match=r"^environment variable CONFIG_BUCKET: is required$"):
        cold_start("ingest_v2")
    monkeypatch.setenv("CONFIG_BUCKET", "x")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match=r"^environment variable LOG_LEVEL: Input should be 'DEBUG',"):
        cold_start("normalize_score_v2")
    monkeypatch.setenv("LOG_LEVEL", "info")  # any case
    monkeypatch.delenv("BEDROCK_MODEL_ID")
    # A function calling Bedrock has no mode without a model: it does not start.
    with pytest.raises(SettingsError, match=r"^environment variable BEDROCK_MODEL_ID: is required$"):
        cold_start("newsletter_v2")
    monkeypatch.setenv("ENV", "qa")
    with pytest.raises(SettingsError, match=r"^environment variable ENV: unknown environment 'qa'"):
        cold_start("ingest_v2")


def test_bad_events_and_unknown_clients_are_one_line_errors(aws) -> None:
    ingest = cold_start("ingest_v2")
    with pytest.raises(EventError, match=r"^event client_id: is required; expected"):
        ingest.handler({}, Context())
    with pytest.raises(EventError, match=r"^event run_date: "):
        ingest.handler({"client_id": CLIENT, "run_date": "24/11/2026"}, Context())
    with pytest.raises(
        KeyError, match=r"clients/nobody\.yaml \(publish it with scripts/config/publish_config\.py\)"
    ):
        ingest.handler({"client_id": "nobody"}, Context())
    normalize = cold_start("normalize_score_v2")
    with pytest.raises(
        LookupError, match=r"raw/lai_weekly_handlers/2020-01-01/items\.json does not exist: run ingest-v2"
    ):
        normalize.handler({"client_id": CLIENT, "run_date": "2020-01-01"}, Context())


def test_handlers_stay_thin() -> None:
    for function in ("ingest_v2", "normalize_score_v2", "newsletter_v2"):
        source = Path(REPO_ROOT / "lambdas" / function / "handler.py").read_text()
        assert "aws_cdk" not in source and len(source.splitlines()) < 72
