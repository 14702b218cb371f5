"""normalize-score-v2: normalize raw items (Bedrock Converse), match them to watch domains and score them.

Thin adapter: settings, clients and observability at cold start, the work in
``vectora_core.pipeline.normalize``. Events: ``{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}``
(the whole run; run_date optional: today, UTC), ``{..., "batch": 0, "batch_size": 100}`` (one batch,
as the state machine's Map sends) or ``{..., "merge": true, "batches": 3}`` (the run's curated files
from its batches).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from vectora_core.bucket_owner import expect_own_buckets
from vectora_core.config.loading import S3Store, load_client_bundle
from vectora_core.metrics import Metric
from vectora_core.naming import Function
from vectora_core.pipeline.bedrock import make_client
from vectora_core.pipeline.normalize import BedrockNormalizer, merge_batches, run_batch, run_normalize_score
from vectora_core.pipeline.runtime import (
    BedrockCalls,
    NormalizeEvent,
    bedrock_json,
    debug_info,
    emit,
    observability,
)
from vectora_core.pipeline.settings import NormalizeScoreSettings

SETTINGS = NormalizeScoreSettings.from_environ(os.environ)
logger, metrics, tracer = observability(Function.NORMALIZE_SCORE, SETTINGS)
S3 = expect_own_buckets(boto3.client("s3"), boto3.session.Session())  # never another account's bucket
BEDROCK = make_client(SETTINGS.bedrock_region)


@logger.inject_lambda_context(log_event=SETTINGS.debug)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = NormalizeEvent.parse(event)
    bundle = load_client_bundle(S3Store(S3, SETTINGS.config_bucket), request.client_id)
    normalizer = BedrockNormalizer(bundle, bedrock_json(SETTINGS, BEDROCK))
    run: dict[str, Any] = {"s3": S3, "data_bucket": SETTINGS.data_bucket, "run_date": request.date_or_today()}
    with BedrockCalls.watching(BEDROCK) as calls:
        try:
            if request.merge:
                assert request.batches is not None  # noqa: S101  # the event model pairs them
                result = merge_batches(bundle, label=normalizer.label, batches=request.batches, **run)
            elif request.batch is not None and request.batch_size is not None:
                result = run_batch(
                    bundle, normalizer=normalizer, batch=request.batch, batch_size=request.batch_size, **run
                )
            else:
                result = run_normalize_score(bundle, normalizer=normalizer, **run)
        finally:
            emit(metrics, calls.metrics())
    if "above_threshold" in result:  # the run's curated files were written
        emit(metrics, {Metric.ITEMS_KEPT: result["above_threshold"]})
    logger.info("normalize-score done", extra=result)
    return {**result, "debug": debug_info(SETTINGS)} if SETTINGS.debug else result
