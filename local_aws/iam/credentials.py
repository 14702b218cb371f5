"""Temporary credentials of a role, issued by the emulator's STS to a service that assumes it.

What Lambda does for a function's execution role, Step Functions for a state machine's role and
EventBridge Scheduler for a schedule's role: ``sts:AssumeRole`` as the service principal
(``lambda.amazonaws.com``, ``states.amazonaws.com``, ``scheduler.amazonaws.com``), with
``aws:SourceAccount``/``aws:SourceArn`` in the context, evaluated against the role's trust policy;
the session moto's STS records is the one the gate then recognises by its access key. Credentials
are cached per (role, service) until 10 minutes before they expire: a warm Lambda environment,
whose key includes its variables, is reused as long as its credentials stay the same.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from local_aws import settings
from local_aws.iam import evaluator, principals

DURATION_S: Final = 3600
REFRESH_BEFORE_S: Final = 600
LOGGER = logging.getLogger("local_aws.iam")
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, RoleCredentials]] = {}


class RoleCredentialsError(RuntimeError):
    """The service may not assume the role (its trust policy does not allow it, or no such role)."""


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def as_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


def assume_role(
    role_arn: str, service: str, *, source_arn: str | None, session_name: str, region: str
) -> RoleCredentials:
    """Credentials of ``role_arn`` for ``service``, its trust policy checked (unless LOCAL_AWS_IAM=off)."""
    key = (role_arn, service)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] - REFRESH_BEFORE_S > now:
            return cached[1]
    mode = settings.iam_mode()
    if mode != "off":
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else settings.ACCOUNT_ID
        context = {"aws:SourceAccount": account, "sts:RoleSessionName": session_name}
        if source_arn:
            context["aws:SourceArn"] = source_arn
        request = evaluator.IamRequest(service, "sts:AssumeRole", role_arn, context)
        trust = principals.trust_policy(role_arn)
        decision = (
            evaluator.evaluate(request, identity_policies=[], resource_policy=trust, region=region)
            if trust is not None
            else evaluator.Decision(False, "no such role", "resource")
        )
        if not decision.allowed:
            message = (
                f"{service} cannot assume {role_arn} (for {source_arn or session_name}): {decision.reason}"
            )
            verb = "DENY" if mode == "enforce" else "AUDIT (would deny)"
            LOGGER.warning(
                "IAM %s: principal=%s action=sts:AssumeRole resource=%s step=%s: %s",
                verb,
                service,
                role_arn,
                decision.step,
                message,
            )
            if mode == "enforce":
                raise RoleCredentialsError(message)
    session = _issue(role_arn, session_name, region)
    with _lock:
        _cache[key] = (now + DURATION_S, session)
    return session


def _issue(role_arn: str, session_name: str, region: str) -> RoleCredentials:
    from moto.sts.models import sts_backends

    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else settings.ACCOUNT_ID
    assumed: Any = sts_backends[account][principals.PARTITION].assume_role(
        region_name=region,
        role_session_name=session_name[:64],
        role_arn=role_arn,
        policy="",
        duration=DURATION_S,
        external_id="",
    )
    return RoleCredentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


def for_function(fn: Any) -> dict[str, str]:
    """The ``AWS_*`` credential variables of a moto ``LambdaFunction``'s execution role."""
    credentials = assume_role(
        str(fn.role),
        "lambda.amazonaws.com",
        source_arn=str(fn.function_arn),
        session_name=str(fn.function_name),
        region=str(fn.region),
    )
    return credentials.as_env()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def client_for_role(
    role_arn: str, service_principal: str, service: str, region: str, **client_kwargs: Any
) -> Any:
    """A boto3 client of the emulator acting as ``role_arn`` (assumed by ``service_principal``)."""
    import boto3

    credentials = assume_role(
        role_arn,
        service_principal,
        source_arn=None,
        session_name=service_principal.split(".")[0],
        region=region,
    )
    return boto3.client(
        service,  # type: ignore[call-overload]  # any service name
        region_name=region,
        endpoint_url=settings.current().endpoint_url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        **client_kwargs,
    )
