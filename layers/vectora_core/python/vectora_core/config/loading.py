"""Loading client configs and canonical files from a folder (the repo) or the config bucket.

Both go through the same validation: the pipeline functions refuse exactly what
``validate_config.py`` reports, so publishing a valid config is what makes a run possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vectora_core.config.schema import ClientConfig, EventRules, Prompt, Scope, SourceCatalog
from vectora_core.config.validation import (
    CanonicalIndex,
    ConfigError,
    add_to_index,
    validate_canonical_text,
    validate_client_text,
)

CLIENTS_PREFIX = "clients/"
CANONICAL_PREFIX = "canonical/"
CANONICAL_FOLDERS = ("scopes", "prompts", "sources")


def client_key(client_id: str) -> str:
    return f"{CLIENTS_PREFIX}{client_id}.yaml"


def canonical_key(folder: str, name: str) -> str:
    return f"{CANONICAL_PREFIX}{folder}/{name}.yaml"


class TextStore(Protocol):
    """Where config files are read from: ``key`` is the bucket key (``clients/x.yaml``)."""

    def read_text(self, key: str) -> str: ...


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
        return path.read_text(encoding="utf-8")


class S3Store:
    """The config bucket (``s3://vectora-inbox-config-{env}/``)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def read_text(self, key: str) -> str:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey as err:
            raise NotFoundError(
                f"s3://{self.bucket}/{key} (publish it with scripts/config/publish_config.py)"
            ) from err
        return body.decode("utf-8")


@dataclass(frozen=True)
class ClientBundle:
    """A client config and every canonical file it refers to, all validated."""

    config: ClientConfig
    catalog: SourceCatalog
    scopes: tuple[tuple[Scope, float], ...]  # (scope, the client's weight for it)
    event_rules: EventRules
    normalization_prompt: Prompt
    editorial_prompt: Prompt


def _canonical(store: TextStore, folder: str, name: str, index: CanonicalIndex) -> None:
    key = canonical_key(folder, name)
    try:
        text = store.read_text(key)
    except NotFoundError:
        return  # reported by the reference check, with the list of what exists
    parsed, problems = validate_canonical_text(folder, name, text)
    if problems:
        raise ConfigError(key, problems)
    assert parsed is not None  # noqa: S101  # no problems means a parsed model
    add_to_index(index, parsed)


def load_client_bundle(store: TextStore, client_id: str) -> ClientBundle:
    """Read and validate ``clients/<client_id>.yaml`` and its canonical files; ConfigError if invalid."""
    key = client_key(client_id)
    text = store.read_text(key)
    # First pass without canonical files, to learn which ones to read.
    config, problems = validate_client_text(text, None, expected_id=client_id)
    if config is None:
        raise ConfigError(key, problems)
    index = CanonicalIndex()
    _canonical(store, "sources", config.sources.catalog, index)
    for weight in config.scoring.scopes:
        _canonical(store, "scopes", weight.scope, index)
    _canonical(store, "scopes", config.scoring.event_rules, index)
    _canonical(store, "prompts", config.prompts.normalization, index)
    _canonical(store, "prompts", config.prompts.editorial, index)
    config, problems = validate_client_text(text, index, expected_id=client_id)
    if config is None:
        raise ConfigError(key, problems)
    return ClientBundle(
        config=config,
        catalog=index.catalogs[config.sources.catalog],
        scopes=tuple((index.scopes[w.scope], w.weight) for w in config.scoring.scopes),
        event_rules=index.event_rules[config.scoring.event_rules],
        normalization_prompt=index.prompts[config.prompts.normalization],
        editorial_prompt=index.prompts[config.prompts.editorial],
    )
