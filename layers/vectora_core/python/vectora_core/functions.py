"""The pipeline functions, one spec each: the single table S0-iam, S1-runtime and the handlers read.

A spec says what a function is called, where its code lives, what it may touch and, derived from
that, which environment variables it gets. Adding a function is one entry here (plus its handler).
Plain Python (no pydantic, no aws_cdk): the CDK app imports it on every synth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from vectora_core import RUNTIME_VERSION
from vectora_core.environments import EnvConfig
from vectora_core.naming import (
    CANONICAL_PREFIX,
    CLIENTS_PREFIX,
    PROJECT_NAME,
    Bucket,
    EnvVar,
    Function,
    pubmed_api_key_param,
    resource_name,
)

# Key prefixes of the config bucket that every function reads (the client config and its canonical files).
CONFIG_PREFIXES: Final = (CLIENTS_PREFIX, CANONICAL_PREFIX)
# Every function gets these (the common set), whatever else it uses.
COMMON_VARIABLES: Final = (
    EnvVar.ENV,
    EnvVar.PROJECT_NAME,
    EnvVar.CONFIG_BUCKET,
    EnvVar.DATA_BUCKET,
    EnvVar.LOG_LEVEL,
    EnvVar.DEBUG,
    EnvVar.RUNTIME_VERSION,
)
# The variable naming each bucket a function may touch.
BUCKET_VARIABLES: Final[Mapping[Bucket, EnvVar]] = {
    Bucket.CONFIG: EnvVar.CONFIG_BUCKET,
    Bucket.DATA: EnvVar.DATA_BUCKET,
    Bucket.NEWSLETTERS: EnvVar.NEWSLETTERS_BUCKET,
}
BEDROCK_VARIABLES: Final = (EnvVar.BEDROCK_MODEL_ID, EnvVar.BEDROCK_REGION)
PUBMED_VARIABLES: Final = (EnvVar.PUBMED_API_KEY_PARAM,)

# How each variable's value follows from the environment's config: written once.
VARIABLE_VALUES: Final[Mapping[EnvVar, Callable[[EnvConfig], str]]] = {
    EnvVar.ENV: lambda c: c.name,
    EnvVar.PROJECT_NAME: lambda c: PROJECT_NAME,
    EnvVar.CONFIG_BUCKET: lambda c: resource_name(Bucket.CONFIG, c.name),
    EnvVar.DATA_BUCKET: lambda c: resource_name(Bucket.DATA, c.name),
    EnvVar.NEWSLETTERS_BUCKET: lambda c: resource_name(Bucket.NEWSLETTERS, c.name),
    EnvVar.LOG_LEVEL: lambda c: c.log_level,
    EnvVar.DEBUG: lambda c: "true" if c.debug else "false",
    EnvVar.BEDROCK_MODEL_ID: lambda c: c.bedrock_model_id,
    EnvVar.BEDROCK_REGION: lambda c: c.bedrock_region,
    EnvVar.PUBMED_API_KEY_PARAM: lambda c: pubmed_api_key_param(c.name),
    EnvVar.RUNTIME_VERSION: lambda c: RUNTIME_VERSION,
}


@dataclass(frozen=True, kw_only=True)
class Access:
    """What one function may touch: (bucket, key prefix) pairs, and the services it calls."""

    reads: tuple[tuple[Bucket, str], ...]
    writes: tuple[tuple[Bucket, str], ...]
    bedrock: bool = False
    pubmed_key: bool = False

    @property
    def buckets(self) -> tuple[Bucket, ...]:
        """Every bucket read or written, in the enum's order."""
        used = {bucket for bucket, _ in (*self.reads, *self.writes)}
        return tuple(b for b in Bucket if b in used)


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    name: Function
    code_dir: str  # the folder under lambdas/
    description: str
    access: Access

    @property
    def variables(self) -> tuple[EnvVar, ...]:
        """The common set, then one per service it calls and per other bucket it touches: derived
        from ``access``, so a permission and the variable naming its target never disagree."""
        wanted = list(COMMON_VARIABLES)
        if self.access.pubmed_key:
            wanted += PUBMED_VARIABLES
        if self.access.bedrock:
            wanted += BEDROCK_VARIABLES
        wanted += [BUCKET_VARIABLES[b] for b in self.access.buckets if b in BUCKET_VARIABLES]
        return tuple(dict.fromkeys(wanted))

    def environment(self, config: EnvConfig) -> dict[str, str]:
        """The function's Lambda environment in ``config``'s environment."""
        return {str(v): VARIABLE_VALUES[v](config) for v in self.variables}


_READS_CONFIG: Final = tuple((Bucket.CONFIG, prefix) for prefix in CONFIG_PREFIXES)
# Each function also reads what it writes: a failed run must never replace a good one, so it
# looks at the existing output (and ingest at the client's previous run) before writing.

FUNCTIONS: Final[Mapping[Function, FunctionSpec]] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            name=Function.INGEST,
            code_dir="ingest_v2",
            description="fetch the client's sources for the period into raw/",
            access=Access(
                reads=(*_READS_CONFIG, (Bucket.DATA, "raw/")),
                writes=((Bucket.DATA, "raw/"),),
                pubmed_key=True,
            ),
        ),
        FunctionSpec(
            name=Function.NORMALIZE_SCORE,
            code_dir="normalize_score_v2",
            description="normalize raw items with Bedrock and score them into curated/",
            access=Access(
                reads=(*_READS_CONFIG, (Bucket.DATA, "raw/"), (Bucket.DATA, "curated/")),
                writes=((Bucket.DATA, "curated/"),),
                bedrock=True,
            ),
        ),
        FunctionSpec(
            name=Function.NEWSLETTER,
            code_dir="newsletter_v2",
            description="select curated items, write the editorial with Bedrock, render the newsletter",
            access=Access(
                reads=(*_READS_CONFIG, (Bucket.DATA, "curated/"), (Bucket.NEWSLETTERS, "")),
                writes=((Bucket.NEWSLETTERS, ""),),
                bedrock=True,
            ),
        ),
    )
}
