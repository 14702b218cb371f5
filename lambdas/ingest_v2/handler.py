"""ingest-v2: fetch a client's sources for the period and write raw/<client_id>/<run_date>/items.json.

Thin adapter: settings, clients and observability at cold start, the work in
``vectora_core.pipeline.ingest``. Events: ``{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD",
"batch_size": 100}`` (run_date: today, UTC; batch_size: the environment's), or the state machine's
first question ``{"list_clients": true, "request": <the execution's input>}`` (which clients and
which run date the execution covers).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from vectora_core.bucket_owner import expect_own_buckets
from vectora_core.config.loading import S3Store, load_client_bundle
from vectora_core.environments import get_env_config
from vectora_core.naming import Function
from vectora_core.pipeline import ingest as core
from vectora_core.pipeline.runtime import IngestEvent, ListClientsEvent, debug_info, emit, observability
from vectora_core.pipeline.settings import IngestSettings
from vectora_core.pipeline.sources import HttpFetcher
from vectora_core.pipeline.storage import FailedRunError

SETTINGS = IngestSettings.from_environ(os.environ)
logger, metrics, tracer = observability(Function.INGEST, SETTINGS)
S3 = expect_own_buckets(boto3.client("s3"), boto3.session.Session())  # never another account's bucket
SSM = boto3.client("ssm")


def ingest(request: IngestEvent) -> dict[str, Any]:
    bundle = load_client_bundle(S3Store(S3, SETTINGS.config_bucket), request.client_id)
    has_pubmed = any(source.type == "pubmed" for source in bundle.sources)
    api_key = core.read_pubmed_api_key(SSM, SETTINGS.pubmed_api_key_param) if has_pubmed else None
    batch_size = request.batch_size or get_env_config(SETTINGS.env).pipeline_batch_size
    try:
        result = core.run_ingest(
            bundle,
            s3=S3,
            data_bucket=SETTINGS.data_bucket,
            fetcher=HttpFetcher(),
            run_date=request.date_or_today(),
            pubmed_api_key=api_key,
            batch_size=batch_size,
            batches_in_flight=request.batches_in_flight,
        )
    except FailedRunError as err:
        emit(metrics, core.failure_metrics(err))
        raise
    emit(metrics, core.result_metrics(result))
    logger.info("ingest done", extra=result)
    return result


@logger.inject_lambda_context(log_event=SETTINGS.debug)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and "list_clients" in event:
        run = ListClientsEvent.parse(event).request
        store = S3Store(S3, SETTINGS.config_bucket)
        result = core.list_clients(
            store, client_id=run.client_id, frequency=run.frequency, run_date=run.date_or_today()
        )
    else:
        result = ingest(IngestEvent.parse(event))
    return {**result, "debug": debug_info(SETTINGS)} if SETTINGS.debug else result
