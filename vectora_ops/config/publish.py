"""Collecting, validating and uploading the repository's configs to ``vectora-inbox-config-{env}``.

All or nothing: every file is validated first, and a single invalid file means nothing is uploaded.
What is uploaded is each file's exact bytes (comments, quoting, line endings), so the object in
the bucket, its snapshot and its rollback are byte for byte the file that was validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from vectora_core.config.catalog import CanonicalText, build_index
from vectora_core.config.loading import CONFIG_SUFFIX, ConfigFileError, client_key, decode_config
from vectora_core.config.schema import ClientConfig
from vectora_core.config.validation import CanonicalIndex, validate_client_text
from vectora_core.naming import CANONICAL_PREFIX, CLIENTS_PREFIX
from vectora_ops.config.files import read_config_bytes

YAML_CONTENT_TYPE: Final = "application/yaml"


@dataclass(frozen=True)
class ConfigFile:
    key: str  # bucket key, e.g. clients/lai_weekly.yaml
    body: bytes  # exactly what is uploaded
    origin: str  # where it came from, for messages (a path, or "generated: ...")
    unreadable: str | None = None  # why the file could not be read (then body is empty)

    @classmethod
    def of_text(cls, key: str, text: str, origin: str) -> ConfigFile:
        return cls(key, text.encode("utf-8"), origin)

    @classmethod
    def of_path(cls, key: str, path: Path) -> ConfigFile:
        try:
            return cls(key, read_config_bytes(path), str(path))
        except ConfigFileError as err:
            return cls(key, b"", str(path), unreadable=str(err).removeprefix(f"{path}: "))

    def text(self) -> str:
        """The decoded body; ConfigFileError (one line naming the origin) if it is not config text."""
        if self.unreadable is not None:
            raise ConfigFileError(f"{self.origin}: {self.unreadable}")
        return decode_config(self.body, self.origin)


def repo_files(root: Path, clients: list[str] | None = None) -> list[ConfigFile]:
    """``clients/*.yaml`` (or only ``clients``, already validated ids) and every canonical file,
    nested folders too (the team's ``prompts/normalization/...``, ``ingestion/``...)."""
    if clients is None:
        paths = sorted(root.glob(client_key("*")))
    else:  # --client is repeatable: a client named twice is published once
        paths = [root / client_key(client_id) for client_id in dict.fromkeys(clients)]
    paths += sorted((root / "canonical").rglob(f"*{CONFIG_SUFFIX}"))
    # The bucket key is the path in the repository: clients/<name>, canonical/<folders>/<name>
    return [ConfigFile.of_path(path.relative_to(root).as_posix(), path) for path in paths]


@dataclass(frozen=True)
class Checked:
    """``validate_files``' verdict: one line per problem and per warning, each naming its file,
    and the valid client configs (with their origin)."""

    problems: list[str]
    warnings: list[str]
    configs: list[tuple[str, ClientConfig]]


def canonical_files_index(files: list[ConfigFile]) -> tuple[CanonicalIndex, list[str]]:
    """The canonical files among ``files``, validated and indexed; problems name the file."""
    problems: list[str] = []
    texts = []
    for file in files:
        if not file.key.startswith(CANONICAL_PREFIX):
            continue
        try:
            texts.append(CanonicalText(file.key.removeprefix(CANONICAL_PREFIX), file.origin, file.text()))
        except ConfigFileError as err:
            problems.append(str(err))
    index, found = build_index(texts)
    return index, problems + found


def validate_files(files: list[ConfigFile], *, runtime: tuple[str, str] | None = None) -> Checked:
    """Every problem of every file, the clients checked against the canonical files among them
    and, with ``runtime`` (version, where), against the runtime that will run them."""
    index, problems = canonical_files_index(files)
    warnings: list[str] = []
    configs: list[tuple[str, ClientConfig]] = []
    for file in files:
        if not file.key.startswith(CLIENTS_PREFIX):
            continue
        try:
            text = file.text()
        except ConfigFileError as err:
            problems.append(str(err))
            continue
        client_id = file.key.removeprefix(CLIENTS_PREFIX).removesuffix(CONFIG_SUFFIX)
        result = validate_client_text(text, index, expected_id=client_id, runtime=runtime)
        problems += [f"{file.origin}: {p}" for p in result.problems]
        warnings += [f"{file.origin}: warning: {w}" for w in result.warnings]
        if result.config is not None:
            configs.append((file.origin, result.config))
    return Checked(problems, warnings, configs)


def upload(s3: Any, bucket: str, files: list[ConfigFile]) -> list[str]:
    """Put every file's bytes (call only after ``validate_files`` found nothing); the s3:// URIs."""
    uris = []
    for file in files:
        s3.put_object(Bucket=bucket, Key=file.key, Body=file.body, ContentType=YAML_CONTENT_TYPE)
        uris.append(f"s3://{bucket}/{file.key}")
    return uris
