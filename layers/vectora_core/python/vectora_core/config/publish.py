"""Collecting, validating and uploading the repository's configs to ``vectora-inbox-config-{env}``.

All or nothing: every file is validated first, and a single invalid file means nothing is uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectora_core.config.loading import CANONICAL_FOLDERS, CANONICAL_PREFIX, CLIENTS_PREFIX
from vectora_core.config.validation import (
    CanonicalIndex,
    add_to_index,
    validate_canonical_text,
    validate_client_text,
)

YAML_CONTENT_TYPE = "application/yaml"


@dataclass(frozen=True)
class ConfigFile:
    key: str  # bucket key, e.g. clients/lai_weekly.yaml
    text: str
    origin: str  # where it came from, for messages (a path, or "generated: ...")


def repo_files(root: Path, clients: list[str] | None = None) -> list[ConfigFile]:
    """``clients/*.yaml`` (or only ``clients``) and every ``canonical/{scopes,prompts,sources}/*.yaml``."""
    files: list[ConfigFile] = []
    client_dir = root / "clients"
    if clients is None:
        client_paths = sorted(client_dir.glob("*.yaml"))
    else:
        client_paths = [client_dir / f"{client_id}.yaml" for client_id in clients]
    for path in client_paths:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        files.append(ConfigFile(f"{CLIENTS_PREFIX}{path.name}", text, str(path)))
    for folder in CANONICAL_FOLDERS:
        for path in sorted((root / "canonical" / folder).glob("*.yaml")):
            files.append(
                ConfigFile(
                    f"{CANONICAL_PREFIX}{folder}/{path.name}", path.read_text(encoding="utf-8"), str(path)
                )
            )
    return files


def validate_files(files: list[ConfigFile]) -> list[str]:
    """Every problem of every file, one line each, prefixed by the file's origin."""
    problems: list[str] = []
    index = CanonicalIndex()
    for file in files:
        if not file.key.startswith(CANONICAL_PREFIX):
            continue
        folder, _, name = file.key.removeprefix(CANONICAL_PREFIX).partition("/")
        parsed, found = validate_canonical_text(folder, name.removesuffix(".yaml"), file.text)
        problems += [f"{file.origin}: {p}" for p in found]
        if parsed is not None:
            add_to_index(index, parsed)
    for file in files:
        if not file.key.startswith(CLIENTS_PREFIX):
            continue
        if not file.text:
            problems.append(f"{file.origin}: file not found or empty")
            continue
        client_id = file.key.removeprefix(CLIENTS_PREFIX).removesuffix(".yaml")
        _, found = validate_client_text(file.text, index, expected_id=client_id)
        problems += [f"{file.origin}: {p}" for p in found]
    return problems


def upload(s3: Any, bucket: str, files: list[ConfigFile]) -> list[str]:
    """Put every file (call only after ``validate_files`` returned nothing); returns the s3:// URIs."""
    uris = []
    for file in files:
        s3.put_object(
            Bucket=bucket, Key=file.key, Body=file.text.encode("utf-8"), ContentType=YAML_CONTENT_TYPE
        )
        uris.append(f"s3://{bucket}/{file.key}")
    return uris
