"""Where a read-only report (the checklist, the preflight) points its session: ``AWS_ENDPOINT_URL``
when set, else the project's local AWS when it answers on its port (``LOCAL_AWS_PORT``, 4566),
else boto3's default chain (an AWS account).

Not in ``sessions.py``: that module is bundled into the pre-update snapshot's Lambda, which never
looks for a local AWS.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import boto3

from vectora_core.environments import get_env_config
from vectora_ops.sessions import new_session


def local_aws_endpoint() -> tuple[str, dict[str, str]] | None:
    """The project's local AWS endpoint and its credentials when something listens on its port;
    None when nothing does, or outside a checkout (``local_aws`` is its package, not installed)."""
    try:
        from local_aws import settings
    except ImportError:
        return None
    try:
        port = settings.port_from_env()
        with socket.create_connection((settings.BIND_HOST, port), timeout=0.5):
            endpoint = settings.endpoint_url(port)
    except (OSError, ValueError):
        return None
    return endpoint, settings.client_env(port)


class EndpointSession(boto3.session.Session):
    """A session whose clients all talk to one endpoint (what ``AWS_ENDPOINT_URL`` does for a
    process, for this session only)."""

    def __init__(self, endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().client(*args, **kwargs)


def session_for(env: str) -> tuple[Any, str]:
    """A boto3 session and a description of where it points (see the module docstring)."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return new_session(), f"AWS_ENDPOINT_URL={os.environ['AWS_ENDPOINT_URL']}"
    local = local_aws_endpoint()
    if local is None:
        return new_session(), "AWS (boto3's default credentials)"
    endpoint, creds = local
    session = new_session(
        EndpointSession,
        endpoint_url=endpoint,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        region_name=get_env_config(env).region,
    )
    return session, f"the local AWS at {endpoint}"
