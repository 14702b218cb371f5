"""Reads and validates the app's ``-c`` context. Every failure is one line naming the flag."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from vectora_core.environments import ENVIRONMENTS, EnvConfig
from vectora_core.naming import ENV_NAMES, EnvVar

ALL_ENVS = "all"
_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Spec variables are derived from the environment config; an override could only make them lie.
_PROTECTED = frozenset(
    v for k, v in vars(EnvVar).items() if not k.startswith("_") and v != EnvVar.BEDROCK_MODE
)
# Extra variables serve local experiments (e.g. BEDROCK_MODE=offline on the local AWS); stage and
# prod get exactly what the config says, so a promotion deploys the same template.
EXTRA_ENV_ALLOWED_IN = ("dev",)


class ContextError(ValueError):
    """A bad ``-c`` value; the message is the one line shown to the user."""


def resolve_environments(value: object) -> list[EnvConfig]:
    allowed = ", ".join(ENV_NAMES)
    if value is None or value == "":
        raise ContextError(
            f"missing -c env=<name>: pass -c env=dev, stage or prod (allowed: {allowed}, or {ALL_ENVS})"
        )
    if value == ALL_ENVS:
        return list(ENVIRONMENTS.values())
    if not isinstance(value, str) or value not in ENVIRONMENTS:
        raise ContextError(f"unknown -c env={value}: allowed values are {allowed} (or {ALL_ENVS})")
    return [ENVIRONMENTS[value]]  # type: ignore[index]  # membership checked above


def parse_extra_env(value: object, configs: list[EnvConfig]) -> dict[str, str]:
    """``-c extra_env='{"NAME": "value"}'``: extra Lambda variables, dev only, spec names refused."""
    if value is None or value == "":
        return {}
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as error:
        raise ContextError(
            f'-c extra_env must be a JSON object such as {{"NAME": "value"}}: {error.msg}'
        ) from None
    if not isinstance(parsed, Mapping) or not all(isinstance(v, str) for v in parsed.values()):
        raise ContextError('-c extra_env must be a JSON object of strings such as {"NAME": "value"}')
    for name in parsed:
        if not _ENV_VAR_NAME.match(name):
            raise ContextError(f"-c extra_env: {name!r} is not a valid environment variable name")
        if name in _PROTECTED:
            raise ContextError(
                f"-c extra_env: {name} is set from the environment config and cannot be overridden"
            )
    refused = [c.name for c in configs if c.name not in EXTRA_ENV_ALLOWED_IN]
    if parsed and refused:
        raise ContextError(
            f"-c extra_env is only allowed for {', '.join(EXTRA_ENV_ALLOWED_IN)}, not {', '.join(refused)}"
        )
    return dict(parsed)
