"""Every boto3 session of the operations tooling comes from here: the service models parsed once.

boto3 gives each new session a data loader of its own, which parses a service's model, its endpoint
rules and the partitions again (megabytes of JSON: about 100 ms for a session with an S3 and an STS
client). One operation opens several sessions (one per environment, the snapshot engine's, the
preflight's, the checklist's), so they share one loader per data path (``AWS_DATA_PATH``), whose
caches hand each session the same parsed models, as they already do to the clients of one session.
Credentials, region, profile and event handlers stay each session's own.

``session_for`` is where the read-only reports (the checklist, the preflight) point their session:
``AWS_ENDPOINT_URL`` when set, else the project's local AWS when it answers on its port
(``LOCAL_AWS_PORT``, 4566), else boto3's default chain (an AWS account).
"""

from __future__ import annotations

import functools
import os
import socket
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from vectora_core.environments import get_env_config


class _SearchPaths(list):  # type: ignore[type-arg]
    """boto3 appends its data folder to the loader of each session it makes: once is enough (a
    shared loader would otherwise search a longer list for every model it has not loaded yet)."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """The loader of every session whose data path is ``search_path_string`` (botocore's
    ``create_loader``, made once per path)."""
    loader = botocore.loaders.create_loader(search_path_string)
    loader._search_paths = _SearchPaths(loader.search_paths)  # type: ignore[attr-defined]  # noqa: SLF001
    return loader


def new_session(session_class: type[boto3.session.Session] = boto3.session.Session, **kwargs: Any) -> Any:
    """``boto3.session.Session(**kwargs)`` (or of a subclass) on the shared loader."""
    core = botocore.session.Session()
    core.register_component("data_loader", shared_loader(core.get_config_variable("data_path")))
    return session_class(botocore_session=core, **kwargs)


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
