"""What the three handlers share: the events they accept, their observability (Powertools Logger,
Metrics and Tracer), the Bedrock client wrapper and its call statistics."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, Self

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vectora_core.environments import MAX_PIPELINE_BATCH_SIZE, MAX_PIPELINE_CONCURRENCY
from vectora_core.metrics import ENV_DIMENSION, NAMESPACE, UNITS, Metric
from vectora_core.naming import CLIENT_ID_PATTERN, MAX_CLIENT_ID, Function
from vectora_core.pipeline.bedrock import BedrockJson
from vectora_core.pipeline.settings import BedrockSettings, FunctionSettings


def today() -> date:
    """A run's date when the event gives none: today, in UTC."""
    return datetime.now(UTC).date()


class EventError(ValueError):
    """The invocation event is not what the function accepts (one line saying what is expected)."""


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    EXPECTED: ClassVar[str] = '{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"} (run_date optional)'

    @classmethod
    def parse(cls, event: Any) -> Self:
        try:
            return cls.model_validate(event if isinstance(event, dict) else {})
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "event"
            message = "is required" if first["type"] == "missing" else str(first["msg"])
            raise EventError(
                f"event {where}: {message.removeprefix('Value error, ')}; expected {cls.EXPECTED}"
            ) from None


class PipelineEvent(_Event):
    """One client's run: ``{"client_id": ..., "run_date"?: "YYYY-MM-DD"}``."""

    client_id: str = Field(pattern=CLIENT_ID_PATTERN, max_length=MAX_CLIENT_ID)
    run_date: date | None = None

    def date_or_today(self) -> date:
        return self.run_date or today()


class IngestEvent(PipelineEvent):
    """ingest-v2: a run, with the largest batch size the answer may split it in (the environment's if
    absent) and how many batches run at once (the state machine's Map; 1 if absent)."""

    EXPECTED: ClassVar[str] = (
        '{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD", "batch_size": 100, "batches_in_flight": 4} '
        '(run_date, batch_size and batches_in_flight optional), or {"list_clients": true}'
    )

    batch_size: int | None = Field(default=None, ge=1, le=MAX_PIPELINE_BATCH_SIZE)
    batches_in_flight: int = Field(default=1, ge=1, le=MAX_PIPELINE_CONCURRENCY)


class RunRequest(_Event):
    """A state machine execution's input: ``{}`` (every active client), ``{"client_id": ...}`` (that
    client only; its config must exist) or ``{"frequency": "weekly"}`` (a schedule's: the active
    clients of that frequency); ``run_date``: the one every step of the run uses (today, UTC, if
    absent)."""

    EXPECTED: ClassVar[str] = (
        '{} or {"client_id": "lai_weekly"} or {"frequency": "weekly"}, with "run_date": "YYYY-MM-DD" optional'
    )

    client_id: str | None = Field(default=None, pattern=CLIENT_ID_PATTERN, max_length=MAX_CLIENT_ID)
    run_date: date | None = None
    frequency: str | None = Field(default=None, pattern=r"^[a-z]+$")

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if self.client_id is not None and self.frequency is not None:
            raise ValueError("client_id or frequency, not both")
        return self

    def date_or_today(self) -> date:
        return self.run_date or today()


class ListClientsEvent(_Event):
    """ingest-v2's other question, asked by the state machine first: which clients and which run
    date the execution whose input is ``request`` covers."""

    EXPECTED: ClassVar[str] = '{"list_clients": true, "request": ' + RunRequest.EXPECTED + "}"

    list_clients: Literal[True]
    request: RunRequest = RunRequest()


class NormalizeEvent(PipelineEvent):
    """normalize-score-v2: the whole run; one batch of it (``batch``, ``batch_size``: the items
    ``[batch * batch_size, (batch + 1) * batch_size)`` of the raw file); or the merge of ``batches``
    batch files into the run's curated files (``merge: true``)."""

    EXPECTED: ClassVar[str] = (
        '{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}, with "batch": 0 and "batch_size": 100 for '
        'one batch, or "merge": true and "batches": 3 to merge them'
    )

    batch: int | None = Field(default=None, ge=0)
    batch_size: int | None = Field(default=None, ge=1, le=MAX_PIPELINE_BATCH_SIZE)
    merge: bool = False
    batches: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if (self.batch is None) != (self.batch_size is None):
            raise ValueError("batch and batch_size go together")
        if self.merge != (self.batches is not None):
            raise ValueError("merge and batches go together")
        if self.merge and self.batch is not None:
            raise ValueError("a batch or a merge, not both")
        if (self.merge or self.batch is not None) and self.run_date is None:
            raise ValueError("a batch or a merge needs the run's run_date")
        return self


def observability(function: Function, settings: FunctionSettings) -> tuple[Logger, Metrics, Tracer]:
    """The function's Powertools Logger (vectora_core's loggers too), Metrics and Tracer.

    Metrics go to the function's log in the embedded metric format, in ``vectora_core.metrics``'s
    namespace, with the dimensions its alarms watch: ``service`` (Powertools adds it) and
    ``environment``. The Tracer is active wherever ``AWS_LAMBDA_FUNCTION_NAME`` is set (Lambda, the
    local AWS's runner), off in a plain Python process (unit tests).
    """
    logger = Logger(service=function, level=settings.log_level)
    copy_config_to_registered_loggers(source_logger=logger, include={"vectora_core"})
    metrics = Metrics(namespace=NAMESPACE, service=function)
    metrics.set_default_dimensions(**{ENV_DIMENSION: settings.env})
    return logger, metrics, Tracer(service=function)


def emit(metrics: Metrics, values: Mapping[Metric, float | Iterable[float]]) -> None:
    """Add each metric (a number, or several values of one metric) in its unit."""
    for metric, value in values.items():
        for one in value if isinstance(value, Iterable) else (value,):
            metrics.add_metric(name=metric, unit=UNITS[metric], value=one)


class BedrockCalls:
    """The Converse requests a client sends while watched: count, latency, throttled answers.

    Read from botocore's own events, so every request is counted (retries included) whatever code
    sends it; thread-safe (the normalizer's pool sends them concurrently).
    """

    EVENT: ClassVar[str] = "bedrock-runtime.Converse"
    _START_KEY: ClassVar[str] = "vectora_call_started"

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.throttles = 0
        self._lock = threading.Lock()

    @classmethod
    @contextlib.contextmanager
    def watching(cls, client: Any) -> Iterator[BedrockCalls]:
        calls = cls()
        events, unique = client.meta.events, f"vectora-bedrock-calls-{id(calls)}"
        events.register(f"before-call.{cls.EVENT}", calls._before, unique_id=f"{unique}-before")
        events.register(f"after-call.{cls.EVENT}", calls._after, unique_id=f"{unique}-after")
        try:
            yield calls
        finally:
            events.unregister(f"before-call.{cls.EVENT}", unique_id=f"{unique}-before")
            events.unregister(f"after-call.{cls.EVENT}", unique_id=f"{unique}-after")

    def _before(self, context: dict[str, Any], **_: Any) -> None:
        context[self._START_KEY] = time.perf_counter()

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.pop(self._START_KEY, None)
        with self._lock:
            if started is not None:
                self.latencies_ms.append(round((time.perf_counter() - started) * 1000, 1))
            if getattr(http_response, "status_code", 200) == 429:
                self.throttles += 1

    def metrics(self) -> dict[Metric, float | list[float]]:
        return {
            Metric.BEDROCK_CALLS: len(self.latencies_ms),
            Metric.BEDROCK_LATENCY: list(self.latencies_ms),
            Metric.BEDROCK_THROTTLES: self.throttles,
        }


def bedrock_json(settings: BedrockSettings, client: Any) -> BedrockJson:
    """The Bedrock Converse wrapper for this function's model."""
    return BedrockJson(client, settings.bedrock_model_id)


def debug_info(settings: FunctionSettings) -> dict[str, Any]:
    """Added to a handler's answer when DEBUG is on (dev, stage): what this function ran with."""
    return {"function": str(settings.function), **settings.model_dump(mode="json")}
