"""newsletter-v2: select curated items into the layout's sections, editorial text (Bedrock), render.

Thin adapter: settings, clients and observability at cold start, the work in
``vectora_core.pipeline.newsletter``. Event: ``{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}``;
without run_date the latest curated items are used and the newsletter is dated today (UTC).
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
from vectora_core.pipeline.newsletter import BedrockEditor, run_newsletter
from vectora_core.pipeline.runtime import PipelineEvent, bedrock_json, debug_info, emit, observability
from vectora_core.pipeline.settings import NewsletterSettings

SETTINGS = NewsletterSettings.from_environ(os.environ)
logger, metrics, tracer = observability(Function.NEWSLETTER, SETTINGS)
S3 = expect_own_buckets(boto3.client("s3"), boto3.session.Session())  # never another account's bucket
BEDROCK = make_client(SETTINGS.bedrock_region, max_connections=2)


@logger.inject_lambda_context(log_event=SETTINGS.debug)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PipelineEvent.parse(event)
    bundle = load_client_bundle(S3Store(S3, SETTINGS.config_bucket), request.client_id)
    result = run_newsletter(
        bundle,
        s3=S3,
        data_bucket=SETTINGS.data_bucket,
        newsletters_bucket=SETTINGS.newsletters_bucket,
        editor=BedrockEditor(bedrock_json(SETTINGS, BEDROCK)),
        run_date=request.run_date,
    )
    emit(metrics, {Metric.NEWSLETTER_ITEMS: result["items"], Metric.NEWSLETTERS_WRITTEN: 1})
    logger.info("newsletter done", extra=result)
    return {**result, "debug": debug_info(SETTINGS)} if SETTINGS.debug else result
