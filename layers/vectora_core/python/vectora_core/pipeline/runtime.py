"""What the three handlers share: the event model, AWS clients, and the Bedrock/offline choice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vectora_core.config.schema import CLIENT_ID_PATTERN
from vectora_core.pipeline.bedrock import BedrockJson, make_client
from vectora_core.pipeline.settings import Settings, SettingsError


class EventError(ValueError):
    """The invocation event is not ``{"client_id": ..., "run_date"?: "YYYY-MM-DD"}``."""


class PipelineEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(pattern=CLIENT_ID_PATTERN)
    run_date: date | None = None

    @classmethod
    def parse(cls, event: Any) -> PipelineEvent:
        try:
            return cls.model_validate(event if isinstance(event, dict) else {})
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "event"
            message = "is required" if first["type"] == "missing" else str(first["msg"])
            raise EventError(
                f'event {where}: {message}; expected {{"client_id": "lai_weekly", "run_date": "YYYY-MM-DD"}}'
                " (run_date optional)"
            ) from None

    def date_or_today(self) -> date:
        return self.run_date or datetime.now(UTC).date()


def bedrock_json(settings: Settings, client: Any | None = None) -> BedrockJson:
    """The Bedrock path; refuses to run without a model id instead of silently going offline."""
    if settings.offline:
        raise SettingsError("BEDROCK_MODE=offline: the Bedrock client must not be used")
    if not settings.bedrock_model_id:
        raise SettingsError("missing environment variable BEDROCK_MODEL_ID (or set BEDROCK_MODE=offline)")
    return BedrockJson(client or make_client(settings.bedrock_region), settings.bedrock_model_id)


def debug_info(settings: Settings) -> dict[str, Any]:
    """Added to a handler's answer when DEBUG is on (dev, stage): what this function ran with."""
    return {
        "env": settings.env,
        "config_bucket": settings.config_bucket,
        "data_bucket": settings.data_bucket,
        "newsletters_bucket": settings.newsletters_bucket,
        "bedrock_mode": settings.bedrock_mode,
        "bedrock_model_id": settings.bedrock_model_id,
    }
