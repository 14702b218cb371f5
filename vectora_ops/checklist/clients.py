"""Configuration client: every client config of the checkout and of the environment's config bucket.

One validation per source (the team's schema and references: ``vectora_ops.config.publish``),
shared by the four items; each item reports the problems of its own fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from vectora_core.functions import CONFIG_PREFIXES
from vectora_core.naming import CLIENTS_PREFIX, ENV_NAMES, PROJECT_NAME, Bucket, resource_name
from vectora_ops.checklist.context import Context
from vectora_ops.checklist.model import Result, failed, passed
from vectora_ops.config.publish import ConfigFile, repo_files, validate_files

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
            bucket = resource_name(Bucket.CONFIG, ctx.env)
            s3 = ctx.deployed.aws.s3
            files = [
                ConfigFile(
                    o["Key"],
                    s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read(),
                    f"s3://{bucket}/{o['Key']}",
                )
                for prefix in CONFIG_PREFIXES
                for o in ctx.deployed.objects(bucket, prefix)
                if o["Key"].endswith(".yaml")
            ]
            found.append(_source(f"s3://{bucket}", files))
        ctx.cache["client_sources"] = found
    result: list[ConfigSet] = ctx.cache["client_sources"]
    return result


def _field_check(ctx: Context, fields: tuple[str, ...], what: str) -> Result:
    counted = []
    for source in sources(ctx):
        # A problem reads "<file>: <field path>: <what is wrong>".
        mine = [p for p in source.problems if any(f": {field}" in p for field in fields)]
        if mine:
            return failed(f"{source.where}: {mine[0]}" + (f" (+{len(mine) - 1})" if len(mine) > 1 else ""))
        counted.append(f"{len(source.clients)} in {source.where}")
    return passed(f"{what}: {', '.join(counted)}")


def check_client_id(ctx: Context) -> Result:
    return _field_check(ctx, ("client_profile.client_id",), "client_id stable and version-free")


def check_version(ctx: Context) -> Result:
    return _field_check(
        ctx,
        ("client_profile.version", "metadata.config_version"),
        "semantic version, = metadata.config_version",
    )


def check_changelog(ctx: Context) -> Result:
    return _field_check(ctx, ("metadata.changelog",), "newest changelog entry names the version")


def check_promotable(ctx: Context) -> Result:
    counted = []
    for source in sources(ctx):
        if source.problems:
            return failed(
                f"{source.where}: {source.problems[0]}"
                + (f" (+{len(source.problems) - 1})" if len(source.problems) > 1 else "")
            )
        for file in source.files:
            match = ENV_SPECIFIC.search(file.body.decode("utf-8", "replace"))
            if match:
                return failed(f"{file.origin} names {match.group(0)!r}: it could not be promoted as it is")
        counted.append(f"{len(source.files)} files in {source.where}")
    return passed(f"valid and naming no environment: {', '.join(counted)}")
