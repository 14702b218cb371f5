"""normalize-score in batches (what the state machine's Map runs) and the run's settings and events.

Batches and merge on the session's local AWS (S3, a bucket of each test's own), Bedrock stubbed at
its client; the settings and event models on their own.
"""

from __future__ import annotations

import math
import uuid
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.pipeline.fake_bedrock import MODEL_ID, FakeBedrock, normalization_answer
from vectora_core.config.schema import PipelineSettings
from vectora_core.environments import (
    ENVIRONMENTS,
    MAX_PIPELINE_BATCH_SIZE,
    MAX_PIPELINE_CONCURRENCY,
    EnvConfigError,
    get_env_config,
)
from vectora_core.functions import FUNCTIONS
from vectora_core.metrics import UNITS, Metric
from vectora_core.naming import EnvVar, Function
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.ingest import AllSourcesFailedError, NothingIngestedError, failure_metrics
from vectora_core.pipeline.normalize import BedrockNormalizer, merge_batches, run_batch, run_normalize_score
from vectora_core.pipeline.runtime import EventError, ListClientsEvent, NormalizeEvent
from vectora_core.pipeline.settings import SETTINGS_OF, FunctionSettings, SettingsError
from vectora_core.pipeline.storage import (
    MissingInputError,
    batch_count,
    batch_key,
    even_batch_size,
    put_json,
    raw_key,
)

RUN = date(2026, 11, 24)


@pytest.fixture
def data(aws_backend):
    s3 = aws_backend.client("s3")
    bucket = f"batches-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return s3, bucket


def _raw(bundle, s3, bucket: str, count: int) -> list[dict]:
    items = [
        {
            "item_id": f"i{n:04d}",
            "title": f"Camurus extends its long-acting depot study {n}",
            "text": "Camurus reported results of its long-acting injectable.",
            "url": f"https://example.test/{n}",
            "published_at": "2026-11-20T08:00:00+00:00",
            "source_id": "fixture",
            "source_name": "Fixture news",
            "source_type": "rss",
            "also_in": [],
        }
        for n in range(count)
    ]
    document = {"client_id": bundle.config.client_id, "run_date": RUN.isoformat(), "items": items}
    put_json(s3, bucket, raw_key(bundle.config.client_id, RUN.isoformat()), document)
    return items


def _normalizer(bundle) -> BedrockNormalizer:
    return BedrockNormalizer(bundle, BedrockJson(FakeBedrock(normalization_answer).client, MODEL_ID))


def test_batches_then_merge_give_the_same_curated_items_as_one_whole_run(bundle, data) -> None:
    s3, bucket = data
    items = _raw(bundle, s3, bucket, 7)
    run = {"s3": s3, "data_bucket": bucket, "run_date": RUN}
    answers = [
        run_batch(bundle, normalizer=_normalizer(bundle), batch=b, batch_size=3, **run) for b in range(3)
    ]
    assert [a["items"] for a in answers] == [3, 3, 1]
    merged = merge_batches(bundle, label=_normalizer(bundle).label, batches=3, **run)
    merged_doc = s3.get_object(Bucket=bucket, Key=f"curated/{bundle.config.client_id}/{RUN}/items.json")
    whole = run_normalize_score(bundle, normalizer=_normalizer(bundle), **run)
    assert merged["items"] == whole["items"] == len(items)
    assert merged["above_threshold"] == whole["above_threshold"]
    assert merged_doc["ContentLength"] > 0


def test_a_merge_missing_a_batch_or_items_refuses_and_writes_nothing(bundle, data) -> None:
    s3, bucket = data
    _raw(bundle, s3, bucket, 5)
    run = {"s3": s3, "data_bucket": bucket, "run_date": RUN}
    run_batch(bundle, normalizer=_normalizer(bundle), batch=0, batch_size=3, **run)
    with pytest.raises(MissingInputError, match="batch 1 of 2 was not normalized"):
        merge_batches(bundle, label={"mode": "bedrock"}, batches=2, **run)
    # batch 1 written with another batch size: the counts disagree, the merge says so
    run_batch(bundle, normalizer=_normalizer(bundle), batch=1, batch_size=1, **run)
    with pytest.raises(MissingInputError, match=r"hold 4 item\(s\), the raw file 5"):
        merge_batches(bundle, label={"mode": "bedrock"}, batches=2, **run)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"curated/{bundle.config.client_id}/{RUN}/items")
    assert listed.get("KeyCount", 0) == 0
    assert batch_key("c", "2026-11-24", 1) == "curated/c/2026-11-24/batches/0001.json"


@pytest.mark.parametrize(
    ("items", "in_flight", "calls", "size", "batches"),
    [
        (1000, 4, 8, 84, 12),  # 3 rounds of 4 batches, where 10 of 100 leave half the last idle
        (2000, 4, 8, 100, 20),  # already even
        (8, 4, 8, 8, 1),  # one batch's calls cover it: more invocations would not be shorter
        (20, 4, 8, 7, 3),
        (1, 4, 8, 1, 1),
        (0, 4, 8, 100, 0),
    ],
)
def test_batches_are_evened_out_for_the_map(
    items: int, in_flight: int, calls: int, size: int, batches: int
) -> None:
    assert even_batch_size(items, 100, in_flight, calls) == size
    assert batch_count(items, size) == batches


@settings(max_examples=300, deadline=None)
@given(
    items=st.integers(0, 5000),
    max_size=st.integers(1, MAX_PIPELINE_BATCH_SIZE),
    in_flight=st.integers(1, MAX_PIPELINE_CONCURRENCY),
    calls=st.integers(1, 32),
)
def test_even_batches_are_never_larger_nor_slower_than_full_ones(
    items: int, max_size: int, in_flight: int, calls: int
) -> None:
    size = even_batch_size(items, max_size, in_flight, calls)
    assert 1 <= size <= max_size

    def model_rounds(batch_size: int) -> int:  # rounds of the Map x rounds of calls in a batch
        return batch_count(batch_count(items, batch_size), in_flight) * batch_count(batch_size, calls)

    assert model_rounds(size) <= model_rounds(max_size)
    # and no more invocations than it takes to give every item a call in flight (or to stay <= max)
    assert batch_count(items, size) <= max(batch_count(items, calls), batch_count(items, max_size))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_2000_item_week_keeps_every_batch_well_inside_the_function_timeout(env: str) -> None:
    config = get_env_config(env)
    concurrency = PipelineSettings().bedrock_concurrency  # the schema's default
    slow_model_call_s = 5.0  # a slow Converse answer, retries aside
    batches = math.ceil(2000 / config.pipeline_batch_size)
    batch_s = math.ceil(config.pipeline_batch_size / concurrency) * slow_model_call_s
    assert batches >= config.pipeline_max_concurrency  # the Map has work for every slot
    assert batch_s <= config.lambda_timeout_seconds / 2, (env, batch_s)


def test_env_config_refuses_bad_pipeline_settings() -> None:
    from dataclasses import replace

    dev = get_env_config("dev")
    for change, message in (
        ({"pipeline_batch_size": 0}, "pipeline_batch_size"),
        ({"pipeline_batch_size": 501}, "pipeline_batch_size must be 1-500"),
        ({"pipeline_max_concurrency": 41}, "pipeline_max_concurrency must be 1-40"),
        ({"pipeline_schedules": (("weekly", "0 6 * * 1"),)}, "six-field cron"),
        ({"pipeline_schedules": (("weekly", "cron(0 6 ? * MON *)"),) * 2}, "names a frequency twice"),
    ):
        with pytest.raises(EnvConfigError, match=message):
            replace(dev, **change)
    assert not dev.pipeline_schedule_enabled
    assert (
        get_env_config("stage").pipeline_schedule_enabled and get_env_config("prod").pipeline_schedule_enabled
    )


def test_each_settings_model_reads_exactly_its_functions_variables() -> None:
    for function, model in SETTINGS_OF.items():
        read = {str(field.alias) for field in model.model_fields.values()}
        assert read == {str(v) for v in FUNCTIONS[function].variables}
    with pytest.raises(TypeError, match="the model and the spec must name the same variables"):

        class _Wrong(FunctionSettings, function=Function.INGEST):  # no PUBMED_API_KEY_PARAM
            pass

    with pytest.raises(KeyError):  # a field no EnvVar names

        class _Unknown(FunctionSettings):
            bedrock_mode: str = "offline"

    environ = {
        EnvVar.ENV: "dev",
        EnvVar.CONFIG_BUCKET: "c",
        EnvVar.DATA_BUCKET: "d",
        EnvVar.BEDROCK_MODEL_ID: "",
    }
    with pytest.raises(SettingsError, match=r"^environment variable BEDROCK_MODEL_ID: is required$"):
        SETTINGS_OF[Function.NORMALIZE_SCORE].from_environ(environ)


def test_events_of_the_state_machine_are_checked_with_one_line_errors() -> None:
    assert ListClientsEvent.parse({"list_clients": True, "request": {}}).request.client_id is None
    with pytest.raises(
        EventError, match=r"^event request: Value error|^event request: client_id or frequency"
    ):
        ListClientsEvent.parse(
            {"list_clients": True, "request": {"client_id": "lai_weekly", "frequency": "weekly"}}
        )
    with pytest.raises(EventError, match=r"^event request.client_id: "):
        ListClientsEvent.parse({"list_clients": True, "request": {"client_id": "../etc"}})
    with pytest.raises(EventError, match="batch and batch_size go together"):
        NormalizeEvent.parse({"client_id": "lai_weekly", "run_date": "2026-11-24", "batch": 0})
    with pytest.raises(EventError, match="needs the run's run_date"):
        NormalizeEvent.parse({"client_id": "lai_weekly", "merge": True, "batches": 2})
    with pytest.raises(EventError, match="event batch_size: "):
        NormalizeEvent.parse(
            {"client_id": "lai_weekly", "run_date": "2026-11-24", "batch": 0, "batch_size": 501}
        )


def test_refused_ingest_runs_still_report_the_alarm_metrics() -> None:
    assert failure_metrics(AllSourcesFailedError("x", failed=4)) == {
        Metric.ITEMS_INGESTED: 0,
        Metric.SOURCES_OK: 0,
        Metric.SOURCES_FAILED: 4,
        Metric.ALL_SOURCES_FAILED: 1,
    }
    assert failure_metrics(NothingIngestedError("x")) == {
        Metric.ITEMS_INGESTED: 0,
        Metric.ALL_SOURCES_FAILED: 0,
    }
    assert UNITS[Metric.BEDROCK_LATENCY] == "Milliseconds" and set(UNITS) == set(Metric)
