"""The one door to the client-config code: promotion validates configs through this module only.

Validation is the team's (``vectora_ops.config.publish.validate_files``: the schema of every client
config and canonical file and the references between them, all at once), with its runtime-version
rule: a config whose ``metadata.min_runtime_version`` is newer than the runtime it will run on is
refused, naming both versions.

Which runtime: the one the source's artifact carries, read from the source's functions
(``vectora_ops.config.runtime.deployed_runtime_version``), not the one the target runs now. The
artifact moves with the configs in one promotion (code first, then configs, both undone together
on failure), so once the configs reach the target it runs the source's runtime; the target's
current runtime would refuse a config that needs the very runtime being promoted with it. The
promotion checks that assumption after its deploy (``check_runtime``).
"""

from __future__ import annotations

from typing import Any

from vectora_ops.config.publish import Checked, ConfigFile, validate_files
from vectora_ops.config.runtime import deployed_runtime_version
from vectora_ops.errors import OperationError

__all__ = ["Checked", "ConfigFile", "artifact_runtime", "check_runtime", "validate"]


def artifact_runtime(source_lambda: Any, source_env: str) -> str:
    """The runtime version the source runs, hence the one its artifact carries (OperationError if unknown)."""
    return deployed_runtime_version(source_lambda, source_env)


def validate(files: list[ConfigFile], *, runtime: str | None, target_env: str, source_env: str) -> Checked:
    """Every problem and warning of ``files`` validated together, against ``runtime`` when known."""
    where = f"{target_env} once promoted ({source_env}'s artifact)"
    return validate_files(files, runtime=(runtime, where) if runtime else None)


def check_runtime(target_lambda: Any, target_env: str, expected: str) -> str:
    """After the deploy: the target runs ``expected`` (the version the configs were checked against)."""
    found = deployed_runtime_version(target_lambda, target_env)
    if found != expected:
        raise OperationError(
            f"{target_env} runs runtime {found} after the deploy, not {expected} (the version its configs "
            "were validated against)"
        )
    return found
