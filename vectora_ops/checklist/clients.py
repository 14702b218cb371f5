"""Configuration client: every client config of the checkout and of the environment's config bucket.

One validation per source (the team's schema and references: ``vectora_ops.config.publish``),
shared by the four items; each item reports the problems of its own fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Final

from vectora_core.functions import CONFIG_PREFIXES
from vectora_core.naming import CLIENTS_PREFIX, ENV_NAMES, PROJECT_NAME
from vectora_ops.checklist.context import Context
from vectora_ops.checklist.model import Result, failed, first_problems, passed
from vectora_ops.config.publish import ConfigFile, repo_files, validate_files
from vectora_ops.operation.state import read_object

# A name of one environment inside a config: that config could not be promoted as it is.
ENV_SPECIFIC: Final = re.compile(
    rf"{PROJECT_NAME}-[a-z0-9-]+-(?:{'|'.join(ENV_NAMES)})\b|/rag-lai/(?:{'|'.join(ENV_NAMES)})/"
)


@dataclass(frozen=True)
class ConfigSet:
    """The client configs and canonical files of one place (the checkout, or the deployed config
    bucket), validated together."""

    where: str
    files: list[ConfigFile]
    problems: list[str]

    @property
    def clients(self) -> list[ConfigFile]:
        return [f for f in self.files if f.key.startswith(CLIENTS_PREFIX)]


def _source(where: str, files: list[ConfigFile]) -> ConfigSet:
    return ConfigSet(where, files, validate_files(files).problems)


def sources(ctx: Context) -> list[ConfigSet]:
    """The checkout's configs and, when reachable, the deployed ones (validated once per run)."""
    if "client_sources" not in ctx.cache:
        found = [_source("checkout", repo_files(ctx.root))]
        if ctx.deployed is not None:
            aws, bucket = ctx.deployed.aws, ctx.deployed.aws.config_bucket
            files = [
                ConfigFile(key, read_object(aws, key)[0], f"s3://{bucket}/{key}")
                for prefix in CONFIG_PREFIXES
                for key in aws.keys(bucket, prefix)
                if key.endswith(".yaml")
            ]
            found.append(_source(f"s3://{bucket}", files))
        ctx.cache["client_sources"] = found
    result: list[ConfigSet] = ctx.cache["client_sources"]
    return result


def _field_check(ctx: Context, fields: tuple[str, ...], what: str) -> Result:
    counted = []
    for source in sources(ctx):
        # A problem reads "<file>: <field path>: <what is wrong>".
        if mine := [p for p in source.problems if any(f": {field}" in p for field in fields)]:
            return failed(f"{source.where}: {first_problems(mine)}")
        counted.append(f"{len(source.clients)} in {source.where}")
    return passed(f"{what}: {', '.join(counted)}")


check_client_id: Final = partial(
    _field_check, fields=("client_profile.client_id",), what="client_id stable and version-free"
)
check_version: Final = partial(
    _field_check,
    fields=("client_profile.version", "metadata.config_version"),
    what="semantic version, = metadata.config_version",
)
check_changelog: Final = partial(
    _field_check, fields=("metadata.changelog",), what="newest changelog entry names the version"
)


def check_promotable(ctx: Context) -> Result:
    counted = []
    for source in sources(ctx):
        if source.problems:
            return failed(f"{source.where}: {first_problems(source.problems)}")
        for file in source.files:
            if match := ENV_SPECIFIC.search(file.body.decode("utf-8", "replace")):
                return failed(f"{file.origin} names {match.group(0)!r}: it could not be promoted as it is")
        counted.append(f"{len(source.files)} files in {source.where}")
    return passed(f"valid and naming no environment: {', '.join(counted)}")
