"""Loading client configs and canonical files from a folder (the repo) or the config bucket.

Both go through the same validation: the pipeline functions refuse exactly what
``validate_config.py`` reports, so publishing a valid config is what makes a run possible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from vectora_core import RUNTIME_VERSION
from vectora_core.config.catalog import CanonicalText, build_index
from vectora_core.config.schema import (
    ClientConfig,
    Prompt,
    Scope,
    ScoringRules,
    Source,
    SourceCatalog,
)
from vectora_core.config.validation import (
    CanonicalIndex,
    ConfigError,
    parse_yaml,
    validate_client_text,
)
from vectora_core.naming import CANONICAL_PREFIX, CLIENTS_PREFIX, is_client_id

LOGGER = logging.getLogger(__name__)
CONFIG_SUFFIX: Final = ".yaml"
# A client config is a few kB, a canonical catalog a few tens: 1 MiB leaves room and stops a
# runaway file (or a binary uploaded by mistake) from being parsed at all.
MAX_CONFIG_BYTES: Final = 1024 * 1024


def client_key(client_id: str) -> str:
    return f"{CLIENTS_PREFIX}{client_id}{CONFIG_SUFFIX}"


def canonical_key(folder: str, name: str) -> str:
    return f"{CANONICAL_PREFIX}{folder}/{name}{CONFIG_SUFFIX}"


class ConfigFileError(ValueError):
    """A config file that is not readable YAML text at all (one line saying why)."""


def decode_config(data: bytes, where: str) -> str:
    """The text of a config file; ConfigFileError if it is empty, huge, binary or not UTF-8."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigFileError(
            f"{where}: {len(data)} bytes, larger than the {MAX_CONFIG_BYTES} bytes a config file may have"
        )
    if not data.strip():
        raise ConfigFileError(f"{where}: empty file; a config file is a YAML mapping of keys")
    if b"\x00" in data:
        raise ConfigFileError(f"{where}: a binary file (it contains NUL bytes), not YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigFileError(
            f"{where}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save the file as UTF-8"
        ) from None


class TextStore(Protocol):
    """Where config files are read from: ``key`` is the bucket key (``clients/x.yaml``)."""

    def read_text(self, key: str) -> str: ...

    def keys(self, prefix: str) -> list[str]: ...


class NotFoundError(KeyError):
    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(where)

    def __str__(self) -> str:
        return f"{self.where} does not exist"


class DirStore:
    """The repository layout on disk: ``<root>/clients/``, ``<root>/canonical/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read_text(self, key: str) -> str:
        path = self.root / key
        if not path.is_file():
            raise NotFoundError(str(path))
        return decode_config(path.read_bytes(), str(path))

    def keys(self, prefix: str) -> list[str]:
        """Every file below ``prefix``, nested folders too (as a bucket listing is)."""
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(f"{prefix}{p.relative_to(folder).as_posix()}" for p in folder.rglob("*") if p.is_file())


class S3Store:
    """The config bucket (``s3://vectora-inbox-config-{env}/``)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def read_text(self, key: str) -> str:
        where = f"s3://{self.bucket}/{key}"
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except self.s3.exceptions.NoSuchKey as err:
            raise NotFoundError(f"{where} (publish it with scripts/config/publish_config.py)") from err
        return decode_config(body.read(MAX_CONFIG_BYTES + 1), where)

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@dataclass(frozen=True)
class ClientBundle:
    """A client config and every canonical file it refers to, all validated."""

    config: ClientConfig
    catalogs: tuple[SourceCatalog, ...]  # the bouquets, then the catalogs of extra sources
    sources: tuple[Source, ...]  # what ingest fetches, in this order, each once
    scopes: Mapping[str, Scope]  # every scope the config names
    scoring_rules: ScoringRules
    normalization_prompt: Prompt
    editorial_prompt: Prompt
    warnings: tuple[str, ...] = ()

    @property
    def fixture_catalogs(self) -> list[str]:
        return [c.catalog_id for c in self.catalogs if c.fixture]


def resolve_sources(config: ClientConfig, index: CanonicalIndex) -> list[tuple[SourceCatalog, Source]]:
    """Every enabled source of the enabled bouquets in order, then the extra sources; each id once.

    A source the catalog marks ``enabled: false`` is skipped (logged), wherever it is named.
    """
    chosen: dict[str, tuple[SourceCatalog, Source]] = {}
    for bouquet in config.source_config.source_bouquets_enabled:
        catalog = index.catalogs[bouquet]
        for source in catalog.sources:
            chosen.setdefault(source.id, (catalog, source))
    for source_id in config.source_config.sources_extra_enabled:
        catalog = next(c for c in index.catalogs.values() if source_id in c.by_id())
        chosen.setdefault(source_id, (catalog, catalog.by_id()[source_id]))
    disabled = [source.id for _, source in chosen.values() if not source.enabled]
    if disabled:
        LOGGER.info("sources skipped (enabled: false in their catalog): %s", ", ".join(disabled))
    return [(catalog, source) for catalog, source in chosen.values() if source.enabled]


def load_canonical_index(store: TextStore) -> tuple[CanonicalIndex, list[str]]:
    """Every ``canonical/**.yaml`` of ``store`` indexed by name, and the problems of those files.

    All of them, not only those a config names: a name is resolved wherever it is defined (one
    file per definition, or a team file of several), and a name defined twice must be seen.
    """
    files = []
    problems = []
    for key in store.keys(CANONICAL_PREFIX):
        if not key.endswith(CONFIG_SUFFIX):
            continue
        try:
            text = store.read_text(key)
        except ConfigFileError as err:
            problems.append(str(err))
            continue
        files.append(CanonicalText(key.removeprefix(CANONICAL_PREFIX), key, text))
    index, found = build_index(files)
    return index, problems + found


def _references(config: ClientConfig) -> set[tuple[str, str]]:
    """The (kind, name) of every definition the config names."""
    return (
        {("scope", name) for name in config.scope_names()}
        | {("bouquet", name) for name in config.source_config.source_bouquets_enabled}
        | {("prompt", name) for name in config.prompt_names()}
    )


def load_client_bundle(
    store: TextStore, client_id: str, *, runtime_version: str = RUNTIME_VERSION
) -> ClientBundle:
    """Read and validate ``clients/<client_id>.yaml`` and the canonical files; ConfigError if invalid.

    A problem of a canonical file fails the run when the config needs what that file defines
    (then its reference fails, and the problems say why) or names a definition given twice; else
    it is logged: publishing refuses every such file, so one put there by hand must not stop
    every client's newsletter (as when only the named files were read).
    """
    key = client_key(client_id)
    try:
        text = store.read_text(key)
    except ConfigFileError as err:
        raise ConfigError(key, [str(err)]) from None
    # First pass without canonical files: the config's own problems, before its references.
    first = validate_client_text(text, None, expected_id=client_id)
    if first.config is None:
        raise ConfigError(key, first.problems)
    config = first.config
    index, canonical_problems = load_canonical_index(store)
    checked = validate_client_text(
        text, index, expected_id=client_id, runtime=(runtime_version, "this runtime (the deployed layer)")
    )
    references = _references(config)
    clashes = [line for name, line in index.duplicates.items() if name in references]
    if checked.config is None or index.scoring_rules is None or clashes:
        others = [p for p in canonical_problems if p not in clashes]
        raise ConfigError(key, checked.problems + clashes + others)
    if canonical_problems:
        LOGGER.warning(
            "canonical files with problems, none of them needed by %s (publishing would refuse them): %s",
            client_id,
            "; ".join(canonical_problems),
        )
    resolved = resolve_sources(checked.config, index)
    return ClientBundle(
        config=checked.config,
        catalogs=tuple({catalog.catalog_id: catalog for catalog, _ in resolved}.values()),
        sources=tuple(source for _, source in resolved),
        scopes={name: index.scopes[name] for name in config.scope_names()},
        scoring_rules=index.scoring_rules,
        normalization_prompt=index.prompts[config.bedrock_config.normalization_prompt],
        editorial_prompt=index.prompts[config.bedrock_config.editorial_prompt],
        warnings=tuple(checked.warnings),
    )


def active_client_ids(store: TextStore) -> list[str]:
    """The clients a run for all clients covers: every ``clients/<id>.yaml`` not ``active: false``.

    Only ``client_profile.active`` is read here. A config that cannot be read that far is kept in
    the list, so that its own run fails and says why, instead of the client silently getting no
    newsletter.
    """
    ids = []
    for key in store.keys(CLIENTS_PREFIX):
        client_id = key.removeprefix(CLIENTS_PREFIX).removesuffix(CONFIG_SUFFIX)
        if not key.endswith(CONFIG_SUFFIX) or not is_client_id(client_id):
            continue
        if _active(store, key) is False:
            LOGGER.info("client %s skipped: client_profile.active is false", client_id)
            continue
        ids.append(client_id)
    return ids


def _active(store: TextStore, key: str) -> object:
    try:
        document, _ = parse_yaml(store.read_text(key))
    except (ConfigFileError, NotFoundError):
        return None
    profile = document.get("client_profile") if isinstance(document, dict) else None
    return profile.get("active", True) if isinstance(profile, dict) else None
