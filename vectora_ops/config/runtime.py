"""Which runtime an environment runs, and whether a client config may go there.

Every pipeline function carries ``RUNTIME_VERSION`` (``vectora_core.RUNTIME_VERSION`` when it was
deployed), so the Lambda API tells which runtime an environment runs. A config whose
``metadata.min_runtime_version`` is newer must not reach it: ``publish_config.py`` and the
promotion refuse it naming both versions (``runtime_gate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vectora_core.config.schema import SEMVER, ClientConfig, semver_key
from vectora_core.config.validation import runtime_problems
from vectora_core.naming import EnvVar, Function, resource_name
from vectora_ops.errors import OperationError


def deployed_runtime_version(lambda_client: Any, env: str) -> str:
    """The runtime version ``env`` runs (the oldest of its functions'); OperationError if unknown."""
    versions: dict[str, str] = {}
    missing: list[str] = []
    for function in Function:
        name = resource_name(function, env)
        try:
            configuration = lambda_client.get_function_configuration(FunctionName=name)
        except lambda_client.exceptions.ResourceNotFoundException:
            missing.append(name)
            continue
        value = configuration.get("Environment", {}).get("Variables", {}).get(EnvVar.RUNTIME_VERSION, "")
        if not SEMVER.match(value):
            raise OperationError(
                f"{name} has no {EnvVar.RUNTIME_VERSION} variable (got {value!r}): it was deployed "
                "before runtime versions existed; redeploy S1-runtime first"
            )
        versions[name] = value
    if missing:
        state = "has no pipeline function deployed" if not versions else "is partly deployed"
        raise OperationError(
            f"{env} {state} (missing: {', '.join(missing)}), so its runtime version is unknown: "
            "deploy S1-runtime first (--dry-run validates without it)"
        )
    return min(versions.values(), key=semver_key)


def check_runtime(lambda_client: Any, env: str, expected: str) -> str:
    """After a promotion's deploy: ``env`` runs ``expected`` (the version its configs were validated
    against, the one the promoted artifact carries); OperationError otherwise."""
    found = deployed_runtime_version(lambda_client, env)
    if found != expected:
        raise OperationError(
            f"{env} runs runtime {found} after the deploy, not {expected} (the version its configs "
            "were validated against)"
        )
    return found


def runtime_gate(lambda_client: Any, env: str, configs: Iterable[tuple[str, ClientConfig]]) -> list[str]:
    """One line per config (``(origin, config)``) that needs a newer runtime than ``env`` runs.

    OperationError when the deployed runtime cannot be read (nothing deployed, a function
    predating runtime versions).
    """
    deployed = deployed_runtime_version(lambda_client, env)
    return [
        f"{origin}: {problem}"
        for origin, config in configs
        for problem in runtime_problems(config.metadata.min_runtime_version, deployed, f"{env} (deployed)")
    ]
