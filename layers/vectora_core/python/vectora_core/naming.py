"""The ``{resource-base-name}-{env}`` naming convention and every shared name, defined once.

Constructs, handlers and scripts import these; nothing else spells a physical name or an
environment-variable name.
"""

from __future__ import annotations

import re
from enum import StrEnum
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
    return env  # narrowed to EnvName by the membership test above


def resource_name(component: str, env: str) -> str:
    """``vectora-inbox-{component}-{env}``: the physical name of any resource of the project."""
    return f"{PROJECT_NAME}-{component}-{check_env(env)}"


# A client id names clients/<client_id>.yaml and becomes S3 key segments and file names: one rule,
# bounded, wherever one is accepted (a config, a command line, a snapshot).
CLIENT_ID_PATTERN: Final = r"^[a-z][a-z0-9_]*[a-z0-9]$"
MAX_CLIENT_ID: Final = 64
CLIENT_ID_RULE: Final = (
    f"up to {MAX_CLIENT_ID} lowercase letters, digits and underscores, starting with a letter, "
    f"and not an environment's name ({', '.join(ENV_NAMES)})"
)


def is_client_id(value: str) -> bool:
    """The one rule for a client id (see ``CLIENT_ID_RULE``). An environment's name is refused: in
    a key or a command line (``newsletters/dev/``, ``--client prod``) it would read as one."""
    return (
        len(value) <= MAX_CLIENT_ID
        and re.fullmatch(CLIENT_ID_PATTERN, value) is not None
        and value not in ENV_NAMES
    )


# Components, i.e. the "{resource-base-name}" without the project prefix. StrEnums: a member is
# its string value wherever a name is built, and iterating the class lists every component.
class Bucket(StrEnum):
    CONFIG = "config"
    DATA = "data"
    NEWSLETTERS = "newsletters"
    LAMBDA_CODE = "lambda-code"
    BACKUPS = "backups"
    ACCESS_LOGS = "access-logs"


# Key prefixes of the config bucket: client configs (``clients/<id>.yaml``) and canonical files.
CLIENTS_PREFIX: Final = "clients/"
CANONICAL_PREFIX: Final = "canonical/"


def client_of(key: str) -> str | None:
    """The client id a ``clients/<id>.yaml`` key names, else None."""
    rest = key.removeprefix(CLIENTS_PREFIX) if key.startswith(CLIENTS_PREFIX) else ""
    return rest.removesuffix(".yaml") if rest.endswith(".yaml") and "/" not in rest else None


class Function(StrEnum):
    """The pipeline functions, in pipeline order (their specs: ``vectora_core.functions``)."""

    INGEST = "ingest-v2"
    NORMALIZE_SCORE = "normalize-score-v2"
    NEWSLETTER = "newsletter-v2"


class Layer(StrEnum):
    VECTORA_CORE = "vectora-core"
    COMMON_DEPS = "common-deps"


class StackComponent(StrEnum):
    """The stacks of an environment, in deployment order (not ``Stack``: that is aws_cdk's)."""

    CORE = "s0-core"
    IAM = "s0-iam"
    RUNTIME = "s1-runtime"


# The pre-update snapshot function: one per environment, in S0-core (deployed first); every stack's
# snapshot resource calls it. A component like a pipeline function's, so ``resource_name``,
# ``role_name`` and ``log_group_name`` apply as for any function.
SNAPSHOT_FUNCTION: Final = "pre-update-snapshot"
# S1-runtime's CloudFormation parameter (epoch seconds; 0: never) that a promotion into an environment
# with post_promotion_watch_hours sets to the end of its watch window: the reinforced alarms
# (vectora_constructs.reinforced_alarms) breach only until then.
REINFORCED_PARAMETER: Final = "ReinforcedMonitoringUntil"
# The environment's alarm topic (S1-runtime, stage and prod): ``vectora-inbox-alarms-{env}``.
ALARM_TOPIC: Final = "alarms"


class Pipeline(StrEnum):
    """The scheduled pipeline's resources (components, like the functions'): the Step Functions state
    machine ``vectora-inbox-pipeline-{env}`` and the EventBridge Scheduler schedule that starts it.
    Their roles are ``role_name(component, env)``."""

    STATE_MACHINE = "pipeline"
    SCHEDULER = "pipeline-scheduler"


def role_name(function: str, env: str) -> str:
    """Execution role of a pipeline function: ``vectora-inbox-{function}-role-{env}``."""
    return resource_name(f"{function}-role", env)


def log_group_name(function: str, env: str) -> str:
    return f"/aws/lambda/{resource_name(function, env)}"


def state_machine_log_group_name(env: str) -> str:
    """The state machine's log group; ``/aws/vendedlogs/`` is where AWS wants the log groups of
    services that deliver logs themselves (it keeps their resource policy short)."""
    return f"/aws/vendedlogs/states/{resource_name(Pipeline.STATE_MACHINE, env)}"


def pubmed_api_key_param(env: str) -> str:
    """SSM parameter holding the PubMed API key ``/rag-lai/{env}/pubmed/api-key``."""
    return f"/rag-lai/{check_env(env)}/pubmed/api-key"


class EnvVar(StrEnum):
    """Lambda environment-variable names, shared by the constructs and the handlers."""

    ENV = "ENV"
    PROJECT_NAME = "PROJECT_NAME"
    CONFIG_BUCKET = "CONFIG_BUCKET"
    DATA_BUCKET = "DATA_BUCKET"
    LOG_LEVEL = "LOG_LEVEL"
    NEWSLETTERS_BUCKET = "NEWSLETTERS_BUCKET"
    BEDROCK_MODEL_ID = "BEDROCK_MODEL_ID"
    BEDROCK_REGION = "BEDROCK_REGION"
    PUBMED_API_KEY_PARAM = "PUBMED_API_KEY_PARAM"
    DEBUG = "DEBUG"
    RUNTIME_VERSION = "RUNTIME_VERSION"
