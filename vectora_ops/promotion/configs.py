"""The one door to the client-config code: promotion validates configs through this module only.

Today validation is ``vectora_core.config.publish.validate_files`` (the schema of every client
config and canonical file, and the cross-references between them, all at once). The config rework
moves it to ``vectora_ops.config`` and adds a gate on the runtime version a config needs
(``metadata.min_runtime_version``); both land here when it does.
"""

from __future__ import annotations

from vectora_core.config.publish import ConfigFile, validate_files

__all__ = ["ConfigFile", "problems"]


def problems(files: list[ConfigFile]) -> list[str]:
    """Every problem of ``files`` validated together (one line each, prefixed by its origin)."""
    return validate_files(files)
