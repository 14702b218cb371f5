"""What an environment runs now, read from AWS: the facts a plan, a verification and a drift
report compare.

Names are environment-free components (``ingest-v2``, ``vectora-core``, ``s1-runtime``) so that two
environments line up; config objects are keyed by their bucket key (``clients/lai_weekly.yaml``).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from vectora_core.naming import CANONICAL_PREFIX, CLIENTS_PREFIX, client_of
from vectora_ops.cloudformation import deployed_template
from vectora_ops.environment import (
    FUNCTION_COMPONENTS,
    LAYER_COMPONENTS,
    STACK_COMPONENTS,
    Environment,
    get_layer_version,
    if_found,
)

MIXED: Final = "mixed"


@dataclass(frozen=True)
class ConfigObject:
    """One client config or canonical file as it is now: exact version, content digest, semver."""

    key: str
    version_id: str | None
    sha256: str
    size: int
    content_type: str | None = None
    semver: str | None = None  # client_profile.version of a client config

    def brief(self) -> dict[str, Any]:
        return {"version_id": self.version_id, "sha256": self.sha256, "semver": self.semver}


@dataclass(frozen=True)
class StackState:
    status: str
    template: dict[str, Any]
    parameters: dict[str, str]


@dataclass
class EnvState:
    env: str
    # component -> CodeSha256 (None: the function does not exist)
    functions: dict[str, str | None] = field(default_factory=dict)
    # component -> {"arn", "code_sha256"} of the version the functions use
    layers: dict[str, dict[str, str | None]] = field(default_factory=dict)
    configs: dict[str, ConfigObject] = field(default_factory=dict)
    stacks: dict[str, StackState | None] = field(default_factory=dict)

    def code(self) -> dict[str, Any]:
        """Function and layer shas: what "the same artifact" compares."""
        return {
            "functions": dict(sorted(self.functions.items())),
            "layers": {k: v.get("code_sha256") for k, v in sorted(self.layers.items())},
        }

    def config_digests(self) -> dict[str, str]:
        return {k: v.sha256 for k, v in sorted(self.configs.items())}

    def templates(self) -> dict[str, Any]:
        return {k: (v.template if v else None) for k, v in sorted(self.stacks.items())}


def config_keys(clients: Environment, client: str | None = None) -> list[str]:
    """Client configs (all, or ``client``'s) and every canonical YAML file of the config bucket."""
    wanted = [
        k
        for k in clients.keys(clients.config_bucket, CLIENTS_PREFIX)
        if client_of(k) is not None and client in (None, client_of(k))
    ]
    canonical = [k for k in clients.keys(clients.config_bucket, CANONICAL_PREFIX) if k.endswith(".yaml")]
    return wanted + canonical


def semver_of(data: bytes) -> str | None:
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError:
        return None
    profile = document.get("client_profile") if isinstance(document, dict) else None
    version = profile.get("version") if isinstance(profile, dict) else None
    return str(version) if version is not None else None


def read_object(
    clients: Environment, key: str, version_id: str | None = None
) -> tuple[bytes, dict[str, Any]]:
    """The bytes of ``key`` (that version, or the current one) and the GetObject answer."""
    extra = {"VersionId": version_id} if version_id else {}
    response = clients.s3.get_object(Bucket=clients.config_bucket, Key=key, **extra)
    return bytes(response["Body"].read()), response


def config_object(clients: Environment, key: str) -> ConfigObject:
    data, response = read_object(clients, key)
    version = response.get("VersionId")
    return ConfigObject(
        key=key,
        version_id=None if version in (None, "null") else str(version),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content_type=response.get("ContentType"),
        semver=semver_of(data) if client_of(key) else None,
    )


def read_configs(clients: Environment, client: str | None = None) -> dict[str, ConfigObject]:
    keys = config_keys(clients, client) if clients.bucket_exists(clients.config_bucket) else []
    with ThreadPoolExecutor(max_workers=8) as pool:
        return {o.key: o for o in pool.map(lambda k: config_object(clients, k), keys)}


def _layer_sha(clients: Environment, arn: str) -> str | None:
    info = if_found(get_layer_version, clients, arn)
    return None if info is None else info.get("Content", {}).get("CodeSha256")


def read_functions(clients: Environment) -> tuple[dict[str, str | None], dict[str, dict[str, str | None]]]:
    """Each function's CodeSha256, and the layer versions (ARN, content sha) the functions use."""
    functions: dict[str, str | None] = {}
    used: dict[str, set[str]] = {}
    layer_names = {clients.name(component): component for component in LAYER_COMPONENTS}
    for component in FUNCTION_COMPONENTS:
        name = clients.name(component)
        config = if_found(clients.lambda_.get_function_configuration, FunctionName=name) or {}
        functions[component] = config.get("CodeSha256")
        for layer in config.get("Layers", []):
            if (wanted := layer_names.get(layer["Arn"].split(":")[-2])) is not None:
                used.setdefault(wanted, set()).add(layer["Arn"])
    layers: dict[str, dict[str, str | None]] = {}
    for component in LAYER_COMPONENTS:
        arns = sorted(used.get(component, set()))
        if not arns:
            layers[component] = {"arn": None, "code_sha256": None}
            continue
        shas = sorted({_layer_sha(clients, arn) or "?" for arn in arns})
        # Functions on different versions of one layer (a deployment half done) never match a source.
        sha = shas[0] if len(shas) == 1 else f"{MIXED}:{','.join(shas)}"
        layers[component] = {"arn": arns[-1] if len(arns) == 1 else ",".join(arns), "code_sha256": sha}
    return functions, layers


def read_stack(clients: Environment, component: str) -> StackState | None:
    name = clients.name(component)
    found = if_found(clients.cloudformation.describe_stacks, StackName=name)
    stack = found["Stacks"][0] if found else None
    if stack is None or stack.get("StackStatus") == "DELETE_COMPLETE":
        return None
    template = deployed_template(clients.cloudformation, name) or {}
    parameters = {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in stack.get("Parameters", [])}
    return StackState(status=str(stack.get("StackStatus")), template=template, parameters=parameters)


def read_state(clients: Environment, client: str | None = None, *, stacks: bool = True) -> EnvState:
    """The environment's functions, layers, configs (all clients, or one) and stack templates."""
    functions, layers = read_functions(clients)
    state = EnvState(
        env=clients.env, functions=functions, layers=layers, configs=read_configs(clients, client)
    )
    if stacks:
        state.stacks = {c: read_stack(clients, c) for c in STACK_COMPONENTS}
    return state
