"""Every boto3 session of the operations tooling comes from here: the service models parsed once.

boto3 gives each new session a data loader of its own, which parses a service's model, its endpoint
rules and the partitions again (megabytes of JSON: about 100 ms for a session with an S3 and an STS
client). One operation opens several sessions (one per environment, the snapshot engine's, the
preflight's, the checklist's), so they share one loader per data path (``AWS_DATA_PATH``), whose
caches hand each session the same parsed models, as they already do to the clients of one session.
Credentials, region, profile and event handlers stay each session's own.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import botocore.loaders
import botocore.session


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
