"""Each function's environment variables, parsed once at cold start into one typed, frozen model.

One model per function. Each field is named after its ``EnvVar`` member (``config_bucket`` reads
``CONFIG_BUCKET``; a field no ``EnvVar`` names fails at import), and the set of variables read must
be exactly those the function's spec gives it (``vectora_core.functions.FUNCTIONS``): a model
reading a variable the function is not given, or ignoring one it is, fails at import time.
A missing or invalid variable is one line: ``SettingsError: environment variable X: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from vectora_core import RUNTIME_VERSION
from vectora_core.environments import LogLevel
from vectora_core.functions import FUNCTIONS
from vectora_core.naming import PROJECT_NAME, EnvName, EnvVar, Function, check_env


class SettingsError(ValueError):
    """An environment variable is missing or invalid (one line naming it and what is allowed)."""


class FunctionSettings(BaseModel):
    """The variables every function gets. Subclasses name their function: ``class X(FunctionSettings,
    function=Function.INGEST)``, and declare the variables it gets on top of these."""

    # Aliases come from EnvVar, never written here: a field named like no EnvVar member fails at import.
    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        populate_by_name=False,
        alias_generator=lambda name: str(EnvVar[name.upper()]),
    )

    function: ClassVar[Function]

    env: EnvName
    project_name: str = PROJECT_NAME
    config_bucket: str
    data_bucket: str
    log_level: LogLevel = "INFO"
    debug: bool = False
    # The runtime the function was deployed with (shown by list and snapshot tools); this layer's own
    # version when absent.
    runtime_version: str = RUNTIME_VERSION

    def __init_subclass__(cls, *, function: Function | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if function is not None:
            cls.function = function

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "function" not in cls.__dict__:
            return
        read = {str(field.alias) for field in cls.model_fields.values()}
        given = {str(variable) for variable in FUNCTIONS[cls.function].variables}
        if read != given:
            raise TypeError(
                f"{cls.__name__} reads {sorted(read)} but {cls.function} is given {sorted(given)} "
                "(vectora_core.functions): the model and the spec must name the same variables"
            )

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: object) -> str:
        return check_env(str(value))

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """The settings from ``environ`` (an empty variable counts as absent); SettingsError names the
        first bad variable and what it allows."""
        aliases = [str(field.alias) for field in cls.model_fields.values()]
        values = {name: environ[name] for name in aliases if environ.get(name, "") != ""}
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            name = str(first["loc"][0]) if first["loc"] else "?"
            message = "is required" if first["type"] == "missing" else str(first["msg"])
            message = message.removeprefix("Value error, ")
            raise SettingsError(f"environment variable {name}: {message}") from None


class IngestSettings(FunctionSettings, function=Function.INGEST):
    # None: PubMed is queried without a key (3 requests/s instead of 10), with a warning.
    pubmed_api_key_param: str | None = None


class BedrockSettings(FunctionSettings):
    """What a function calling Bedrock gets on top of the common variables."""

    bedrock_model_id: str
    # None: the Lambda's own region.
    bedrock_region: str | None = None


class NormalizeScoreSettings(BedrockSettings, function=Function.NORMALIZE_SCORE):
    pass


class NewsletterSettings(BedrockSettings, function=Function.NEWSLETTER):
    newsletters_bucket: str


SETTINGS_OF: dict[Function, type[FunctionSettings]] = {
    model.function: model for model in (IngestSettings, NormalizeScoreSettings, NewsletterSettings)
}
