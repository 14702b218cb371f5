"""The functions' environment variables, parsed once at cold start into one typed, frozen model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from vectora_core.naming import PROJECT_NAME, EnvName, EnvVar, check_env

BedrockMode = Literal["bedrock", "offline"]
OFFLINE_LABEL = (
    "OFFLINE MODE (BEDROCK_MODE=offline): rule-based text built from the canonical scopes, not Bedrock"
)


class SettingsError(ValueError):
    """An environment variable is missing or invalid (one line naming it and what is allowed)."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env: EnvName
    project_name: str = PROJECT_NAME
    config_bucket: str
    data_bucket: str
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    debug: bool = False
    newsletters_bucket: str | None = None
    bedrock_model_id: str | None = None
    bedrock_region: str | None = None
    pubmed_api_key_param: str | None = None
    # "offline" must be asked for explicitly; a missing variable means Bedrock.
    bedrock_mode: BedrockMode = "bedrock"

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: object) -> str:
        return check_env(str(value))

    @model_validator(mode="after")
    def _offline_never_in_prod(self) -> Settings:
        # Offline text in a client's real newsletter would be a silent quality drop.
        if self.bedrock_mode == "offline" and self.env == "prod":
            raise ValueError("BEDROCK_MODE=offline is refused in prod (allowed in dev and stage)")
        return self

    @property
    def offline(self) -> bool:
        return self.bedrock_mode == "offline"

    def require(self, *fields: str) -> None:
        """Fail at cold start if a variable this function needs is absent."""
        missing = [name for name in fields if not getattr(self, name)]
        if missing:
            names = ", ".join(getattr(EnvVar, name.upper()) for name in missing)
            raise SettingsError(f"missing environment variable(s) {names} (required by this function)")


_FIELDS = {
    EnvVar.ENV: "env",
    EnvVar.PROJECT_NAME: "project_name",
    EnvVar.CONFIG_BUCKET: "config_bucket",
    EnvVar.DATA_BUCKET: "data_bucket",
    EnvVar.LOG_LEVEL: "log_level",
    EnvVar.DEBUG: "debug",
    EnvVar.NEWSLETTERS_BUCKET: "newsletters_bucket",
    EnvVar.BEDROCK_MODEL_ID: "bedrock_model_id",
    EnvVar.BEDROCK_REGION: "bedrock_region",
    EnvVar.PUBMED_API_KEY_PARAM: "pubmed_api_key_param",
    EnvVar.BEDROCK_MODE: "bedrock_mode",
}


def load_settings(
    environ: Mapping[str, str], *, required: tuple[str, ...] = (), uses_bedrock: bool = False
) -> Settings:
    """Settings from ``environ``; SettingsError names the first bad variable and what it allows.

    ``uses_bedrock``: the function calls Bedrock unless BEDROCK_MODE=offline, so it then needs
    BEDROCK_MODEL_ID (a missing model id never means "offline").
    """
    values = {field: environ[name] for name, field in _FIELDS.items() if environ.get(name, "") != ""}
    if "bedrock_mode" in values:
        values["bedrock_mode"] = values["bedrock_mode"].lower()
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
    try:
        settings = Settings.model_validate(values)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else "bedrock_mode"  # the only model-level rule
        name = next((n for n, f in _FIELDS.items() if f == field), field)
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        raise SettingsError(f"environment variable {name}: {message}") from None
    settings.require(*required)
    if uses_bedrock and not settings.offline:
        settings.require("bedrock_model_id")
    return settings
