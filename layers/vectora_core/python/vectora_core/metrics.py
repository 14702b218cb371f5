"""The pipeline's own CloudWatch metrics: names and dimensions, defined once.

The handlers emit them (Powertools Metrics, embedded metric format in the function's log) and
S1-runtime's alarms watch them, so a renamed metric cannot leave an alarm watching nothing.
Plain Python: the CDK app imports it on every synth.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from vectora_core.naming import Function

NAMESPACE: Final = "VectoraInbox"
# Powertools adds the service dimension itself; every metric also carries the environment.
SERVICE_DIMENSION: Final = "service"
ENV_DIMENSION: Final = "environment"


class Metric(StrEnum):
    ITEMS_INGESTED = "ItemsIngested"
    SOURCES_OK = "SourcesOk"
    SOURCES_FAILED = "SourcesFailed"
    # 1 for a run in which every source failed, else 0: what the "every source failing" alarm reads.
    ALL_SOURCES_FAILED = "AllSourcesFailed"
    BEDROCK_CALLS = "BedrockCalls"
    BEDROCK_LATENCY = "BedrockLatency"
    BEDROCK_THROTTLES = "BedrockThrottles"
    ITEMS_KEPT = "ItemsKept"
    NEWSLETTER_ITEMS = "NewsletterItems"
    NEWSLETTERS_WRITTEN = "NewslettersWritten"


# Which function emits which metric (the alarm needs the service dimension of the emitter).
EMITTED_BY: Final[dict[Metric, Function]] = {
    Metric.ITEMS_INGESTED: Function.INGEST,
    Metric.SOURCES_OK: Function.INGEST,
    Metric.SOURCES_FAILED: Function.INGEST,
    Metric.ALL_SOURCES_FAILED: Function.INGEST,
    Metric.BEDROCK_CALLS: Function.NORMALIZE_SCORE,
    Metric.BEDROCK_LATENCY: Function.NORMALIZE_SCORE,
    Metric.BEDROCK_THROTTLES: Function.NORMALIZE_SCORE,
    Metric.ITEMS_KEPT: Function.NORMALIZE_SCORE,
    Metric.NEWSLETTER_ITEMS: Function.NEWSLETTER,
    Metric.NEWSLETTERS_WRITTEN: Function.NEWSLETTER,
}


# The CloudWatch unit of each metric (Powertools' MetricUnit values).
COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"
UNITS: Final[dict[Metric, str]] = {
    **{metric: COUNT for metric in Metric},
    Metric.BEDROCK_LATENCY: MILLISECONDS,
}


def dimensions(metric: Metric, env: str) -> dict[str, str]:
    """The dimensions the handler's Powertools Metrics put on ``metric`` in ``env``."""
    return {SERVICE_DIMENSION: str(EMITTED_BY[metric]), ENV_DIMENSION: env}
