"""Reads and validates the app's ``-c`` context. Every failure is one line naming the flag."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vectora_core.environments import ENVIRONMENTS, EnvConfig
from vectora_core.naming import ENV_NAMES, Bucket, EnvVar

ALL_ENVS = "all"
_ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Deliberately simple: one "@", no spaces, a dot in the domain. SNS confirms the address itself.
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# The function specs' variables are derived from the environment config; an override could only make them lie.
_PROTECTED = frozenset(EnvVar)
ALARM_EMAILS_FLAG = "alarm_emails"
# Buckets an environment took over from the team's own stacks (scripts/deploy/takeover.py): they
# held data before this project, so they are retained on stack delete in every environment
# (dev's "destroyed once empty" is for the buckets the project created). cdk.json's context holds
# the mapping, e.g. {"dev": ["config", "data", "newsletters", "lambda-code", "backups"]}.
ADOPTED_BUCKETS_FLAG = "adopted_buckets"


class ContextError(ValueError):
    """A bad ``-c`` value; the message is the one line shown to the user."""


@dataclass(frozen=True)
class AppContext:
    """What the app builds: the environments' configs (subscribers filled in) and extra variables."""

    configs: list[EnvConfig]
    extra_environment: dict[str, str]
    # environment -> bucket components adopted there (retained whatever retain_stateful says)
    adopted_buckets: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)


def read_context(get: Callable[[str], object]) -> AppContext:
    """The whole ``-c`` context of one synth (``get`` is ``app.node.try_get_context``)."""
    configs = resolve_environments(get("env"))
    configs = with_alarm_emails(configs, get(ALARM_EMAILS_FLAG))
    extra = parse_extra_env(get("extra_env"), configs)
    return AppContext(configs, extra, parse_adopted_buckets(get(ADOPTED_BUCKETS_FLAG)))


def parse_adopted_buckets(value: object) -> dict[str, frozenset[str]]:
    """``-c adopted_buckets='{"dev": ["config", "data"]}'`` (or the same mapping in cdk.json)."""
    flag = f"-c {ADOPTED_BUCKETS_FLAG}"
    example = '{"dev": ["config", "data"]}'
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ContextError(f"{flag} must be a JSON object such as {example}: {error.msg}") from None
    if not isinstance(value, Mapping):
        raise ContextError(f"{flag} must map environments to bucket components, such as {example}")
    components = ", ".join(Bucket)
    result = {}
    for env, buckets in value.items():
        if env not in ENV_NAMES:
            raise ContextError(f"{flag}: unknown environment {env!r} (allowed: {', '.join(ENV_NAMES)})")
        if not isinstance(buckets, list) or not all(isinstance(b, str) and b in set(Bucket) for b in buckets):
            raise ContextError(f"{flag}: {env} must list bucket components among {components}")
        result[env] = frozenset(buckets)
    return result


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


def _emails(value: object, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ContextError(
            f"{where} must be comma-separated addresses such as ops@example.com,oncall@example.com"
        )
    emails = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad:
        raise ContextError(f"{where}: {bad[0]!r} is not an email address (e.g. ops@example.com)")
    return emails


def with_alarm_emails(configs: list[EnvConfig], value: object) -> list[EnvConfig]:
    """Fill each alarmed environment's subscribers from ``-c alarm_emails``.

    The value is ``a@x,b@y`` (every environment synthesized) or, in cdk.json's context, a mapping
    ``{"stage": "a@x", "prod": ["b@y"]}``. An environment with alarms and nobody to tell is refused:
    an alarm that reaches no one is not monitoring.
    """
    flag = f"-c {ALARM_EMAILS_FLAG}"
    per_env: Mapping[str, object]
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(ENV_NAMES))
        if unknown:
            raise ContextError(
                f"{flag}: unknown environment {unknown[0]!r} (allowed: {', '.join(ENV_NAMES)})"
            )
        per_env = value
    else:
        per_env = {c.name: value for c in configs} if value not in (None, "") else {}
    result = []
    for config in configs:
        raw = per_env.get(config.name)
        emails = _emails(raw, flag) if raw not in (None, "") else ()
        if config.alarms_enabled and not emails:
            raise ContextError(
                f"{config.name} has alarms and nobody to notify: "
                f"pass {flag}=ops@example.com[,other@example.com]"
            )
        result.append(dataclasses.replace(config, alarm_emails=emails) if emails else config)
    return result


def parse_extra_env(value: object, configs: list[EnvConfig]) -> dict[str, str]:
    """``-c extra_env='{"NAME": "value"}'``: extra Lambda variables where the config allows them."""
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
    refused = [c.name for c in configs if not c.extra_env_allowed]
    if parsed and refused:
        allowed = ", ".join(c.name for c in ENVIRONMENTS.values() if c.extra_env_allowed)
        raise ContextError(f"-c extra_env is only allowed for {allowed}, not {', '.join(refused)}")
    return dict(parsed)
