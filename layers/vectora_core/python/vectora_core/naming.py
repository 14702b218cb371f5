"""The ``{resource-base-name}-{env}`` naming convention and every shared name, defined once.

Constructs, handlers and scripts import these; nothing else spells a physical name or an
environment-variable name.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

PROJECT_NAME: Final = "vectora-inbox"

EnvName = Literal["dev", "stage", "prod"]
ENV_NAMES: Final[tuple[EnvName, ...]] = get_args(EnvName)


class UnknownEnvironmentError(ValueError):
    """An environment name outside ``dev, stage, prod``."""


def check_env(env: str) -> EnvName:
    """Return ``env`` if it names an environment, else raise a one-line error listing the allowed ones."""
    if env not in ENV_NAMES:
        raise UnknownEnvironmentError(
            f"unknown environment {env!r}: allowed values are {', '.join(ENV_NAMES)}"
        )
    return env  # type: ignore[return-value]  # narrowed by the membership test above


def resource_name(component: str, env: str) -> str:
    """``vectora-inbox-{component}-{env}``: the physical name of any resource of the project."""
    return f"{PROJECT_NAME}-{component}-{check_env(env)}"


# Components, i.e. the "{resource-base-name}" without the project prefix.
class Bucket:
    CONFIG: Final = "config"
    DATA: Final = "data"
    NEWSLETTERS: Final = "newsletters"
    LAMBDA_CODE: Final = "lambda-code"
    BACKUPS: Final = "backups"
    ACCESS_LOGS: Final = "access-logs"
    ALL: Final = (CONFIG, DATA, NEWSLETTERS, LAMBDA_CODE, BACKUPS, ACCESS_LOGS)


class Function:
    INGEST: Final = "ingest-v2"
    NORMALIZE_SCORE: Final = "normalize-score-v2"
    NEWSLETTER: Final = "newsletter-v2"
    ALL: Final = (INGEST, NORMALIZE_SCORE, NEWSLETTER)


class Layer:
    VECTORA_CORE: Final = "vectora-core"
    COMMON_DEPS: Final = "common-deps"
    ALL: Final = (VECTORA_CORE, COMMON_DEPS)


class Stack:
    CORE: Final = "s0-core"
    IAM: Final = "s0-iam"
    RUNTIME: Final = "s1-runtime"
    ALL: Final = (CORE, IAM, RUNTIME)  # deployment order


# The pre-update snapshot function: one per environment, in S0-core (deployed first); every stack's
# snapshot resource calls it. A component like a pipeline function's, so ``resource_name``,
# ``role_name`` and ``log_group_name`` apply as for any function.
SNAPSHOT_FUNCTION: Final = "pre-update-snapshot"


def role_name(function: str, env: str) -> str:
    """Execution role of a pipeline function: ``vectora-inbox-{function}-role-{env}``."""
    return resource_name(f"{function}-role", env)


def log_group_name(function: str, env: str) -> str:
    return f"/aws/lambda/{resource_name(function, env)}"


def pubmed_api_key_param(env: str) -> str:
    """SSM parameter holding the PubMed API key (spec: ``/rag-lai/{env}/pubmed/api-key``)."""
    return f"/rag-lai/{check_env(env)}/pubmed/api-key"


class EnvVar:
    """Lambda environment-variable names (spec), shared by the constructs and the handlers."""

    ENV: Final = "ENV"
    PROJECT_NAME: Final = "PROJECT_NAME"
    CONFIG_BUCKET: Final = "CONFIG_BUCKET"
    DATA_BUCKET: Final = "DATA_BUCKET"
    LOG_LEVEL: Final = "LOG_LEVEL"
    NEWSLETTERS_BUCKET: Final = "NEWSLETTERS_BUCKET"
    BEDROCK_MODEL_ID: Final = "BEDROCK_MODEL_ID"
    BEDROCK_REGION: Final = "BEDROCK_REGION"
    PUBMED_API_KEY_PARAM: Final = "PUBMED_API_KEY_PARAM"
    DEBUG: Final = "DEBUG"
    BEDROCK_MODE: Final = "BEDROCK_MODE"
