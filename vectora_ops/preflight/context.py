"""What the preflight reads: the account behind the credentials, through boto3, read-only.

The session is the checklist's (``AWS_ENDPOINT_URL``, else the local AWS when it answers, else
boto3's default credentials). Every client is made in the environment's region (``eu-west-3``;
Bedrock in ``bedrock_region``), whatever the profile's default region says: that is where the
stacks go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from vectora_core.environments import EnvConfig, get_env_config
from vectora_ops.reach import session_for

# A read that fails fails once: the preflight reports it, it does not wait on retries.
READ_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2})


@dataclass
class Context:
    env: str
    session: Any
    where: str  # where the session points, for the report's title
    # The cloud assembly the next deploy would use (its bootstrap requirement); None: not given.
    assembly: Path | None = None
    # Why there is no assembly, when one was wanted (a synth that failed): the bootstrap row says it.
    assembly_error: str | None = None
    # --invoke: one tiny Converse call (the only request that is not a read).
    invoke: bool = False
    config: EnvConfig = field(init=False)
    # Filled by the identity check; None when no credentials answer (the other checks then show –).
    account: str | None = None
    caller: str | None = None

    def __post_init__(self) -> None:
        self.config = get_env_config(self.env)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.config.region, config=READ_CONFIG)


def open_context(env: str, assembly: Path | None = None, *, invoke: bool = False) -> Context:
    session, where = session_for(env)
    return Context(env, session, where, assembly, invoke=invoke)
