"""ingest-v2: fetch a client's sources for the period and write raw/<client_id>/<run_date>/items.json.

Thin adapter: settings and clients at cold start, the work in ``vectora_core.pipeline.ingest``.
Event: ``{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}`` (run_date optional: today, UTC).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from vectora_core.config.loading import S3Store, load_client_bundle
from vectora_core.naming import Function
from vectora_core.pipeline.ingest import read_pubmed_api_key, run_ingest
from vectora_core.pipeline.runtime import PipelineEvent, debug_info
from vectora_core.pipeline.settings import load_settings
from vectora_core.pipeline.sources import HttpFetcher

SETTINGS = load_settings(os.environ, required=("config_bucket", "data_bucket"))
logger = Logger(service=Function.INGEST, level=SETTINGS.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"vectora_core"})
S3 = boto3.client("s3")
SSM = boto3.client("ssm")


@logger.inject_lambda_context(log_event=SETTINGS.debug)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = PipelineEvent.parse(event)
    bundle = load_client_bundle(S3Store(S3, SETTINGS.config_bucket), request.client_id)
    has_pubmed = any(source.type == "pubmed" for source in bundle.sources)
    api_key = read_pubmed_api_key(SSM, SETTINGS.pubmed_api_key_param) if has_pubmed else None
    result = run_ingest(
        bundle,
        s3=S3,
        data_bucket=SETTINGS.data_bucket,
        fetcher=HttpFetcher(),
        run_date=request.date_or_today(),
        pubmed_api_key=api_key,
    )
    logger.info("ingest done", extra=result)
    return {**result, "debug": debug_info(SETTINGS)} if SETTINGS.debug else result
