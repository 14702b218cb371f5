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
from vectora_core.config.loading import CONFIG_SUFFIX, ConfigFileError, decode_config
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


def repo_files(root: Path, clients: list[str] | None = None) -> list[ConfigFile]:
    """``clients/*.yaml`` (or only ``clients``, already validated ids) and every canonical file,
    nested folders too (the team's ``prompts/normalization/...``, ``ingestion/``...)."""
    client_dir = root / "clients"
    if clients is None:
        client_paths = sorted(client_dir.glob(f"*{CONFIG_SUFFIX}"))
    else:
        # --client is repeatable: a client named twice is published once
        client_paths = [client_dir / f"{client_id}{CONFIG_SUFFIX}" for client_id in dict.fromkeys(clients)]
    files = [ConfigFile.of_path(f"{CLIENTS_PREFIX}{path.name}", path) for path in client_paths]
    canonical = root / "canonical"
    for path in sorted(canonical.rglob(f"*{CONFIG_SUFFIX}")):
        files.append(ConfigFile.of_path(f"{CANONICAL_PREFIX}{path.relative_to(canonical).as_posix()}", path))
    return files


def _text(file: ConfigFile) -> tuple[str | None, str | None]:
    if file.unreadable is not None:
        return None, f"{file.origin}: {file.unreadable}"
    try:
        return decode_config(file.body, file.origin), None
    except ConfigFileError as err:
        return None, str(err)


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
        text, problem = _text(file)
        if problem:
            problems.append(problem)
            continue
        texts.append(CanonicalText(file.key.removeprefix(CANONICAL_PREFIX), file.origin, text or ""))
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
        text, problem = _text(file)
        if problem:
            problems.append(problem)
            continue
        client_id = file.key.removeprefix(CLIENTS_PREFIX).removesuffix(CONFIG_SUFFIX)
        result = validate_client_text(text or "", index, expected_id=client_id, runtime=runtime)
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
