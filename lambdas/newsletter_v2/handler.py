"""newsletter-v2: select curated items into the layout's sections, editorial text (Bedrock), render.

Thin adapter: settings and clients at cold start, the work in ``vectora_core.pipeline.newsletter``.
Event: ``{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}``; without run_date the latest
curated items are used and the newsletter is dated today (UTC).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from vectora_core.config.loading import S3Store, load_client_bundle
from vectora_core.naming import Function
from vectora_core.pipeline.bedrock import make_client
from vectora_core.pipeline.newsletter import BedrockEditor, run_newsletter
from vectora_core.pipeline.runtime import PipelineEvent, bedrock_json, debug_info
from vectora_core.pipeline.settings import load_settings

SETTINGS = load_settings(
    os.environ, required=("config_bucket", "data_bucket", "newsletters_bucket"), uses_bedrock=True
)
logger = Logger(service=Function.NEWSLETTER, level=SETTINGS.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"vectora_core"})
S3 = boto3.client("s3")
BEDROCK = make_client(SETTINGS.bedrock_region, max_connections=2)


@logger.inject_lambda_context(log_event=SETTINGS.debug)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = PipelineEvent.parse(event)
    bundle = load_client_bundle(S3Store(S3, SETTINGS.config_bucket), request.client_id)
    editor = BedrockEditor(bedrock_json(SETTINGS, BEDROCK))
    assert SETTINGS.newsletters_bucket  # noqa: S101  # required at cold start above
    result = run_newsletter(
        bundle,
        s3=S3,
        data_bucket=SETTINGS.data_bucket,
        newsletters_bucket=SETTINGS.newsletters_bucket,
        editor=editor,
        run_date=request.run_date,
    )
    logger.info("newsletter done", extra=result)
    return {**result, "debug": debug_info(SETTINGS)} if SETTINGS.debug else result
